"""Threefry random bits in Array API calls, bit for bit the NumPy implementation's.

``ops/random.py`` hashes counters with NumPy ``uint32`` arithmetic, which wraps modulo
2**32. Not every library can: torch has a ``uint32`` dtype but no arithmetic on it. So
here every word is held in ``int64`` (its value always in ``[0, 2**32)``) and every sum
and left shift is masked back to 32 bits; xor, or and right shifts of such values need
no mask. ``int64`` arithmetic is exact on every library, so the words, and everything
drawn from them, equal NumPy's exactly. The results are cast to ``uint32`` (keys,
bits) or ``int32`` (a permutation) at the end, as the primitives' types say.

Example:
    >>> import numpy as np
    >>> from minigrad.ops.random import random_bits_impl
    >>> key = np.uint32([0, 42])
    >>> bool(np.array_equal(random_bits_words(np, "cpu", key, (3,)), random_bits_impl(key, shape=(3,))))
    True
"""

from __future__ import annotations

import functools
import math

from minigrad.ops.random import random_bits_p, random_fold_in_p, random_permutation_p
from minigrad.transforms.jit.array_api_rules import array_api_rule

__all__ = ["threefry2x32_int64", "random_bits_words", "fold_in_words", "permutation_order"]

# As in ops/random.py (Salmon et al., SC'11).
_ROTATIONS = (13, 15, 26, 6, 17, 29, 16, 24)
_PARITY = 0x1BD11BDA
_MASK = 0xFFFFFFFF


def threefry2x32_int64(k0, k1, hi, lo):
    """20-round Threefry-2x32 of the counters ``(hi, lo)`` under the key ``(k0, k1)``.

    All four are ``int64`` arrays (broadcasting together) holding 32-bit words; so are
    the two results.
    """
    schedule = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0 = (hi + k0) & _MASK
    x1 = (lo + k1) & _MASK
    for injection in range(1, 6):
        first = 4 * ((injection - 1) % 2)
        for r in _ROTATIONS[first : first + 4]:
            x0 = (x0 + x1) & _MASK
            x1 = (((x1 << r) & _MASK) | (x1 >> (32 - r))) ^ x0
        x0 = (x0 + schedule[injection % 3]) & _MASK
        x1 = (x1 + schedule[(injection + 1) % 3] + injection) & _MASK
    return x0, x1


def _key_words(xp, key):
    """The key's two words as ``int64``, each with a trailing axis of 1 for the counters."""
    key = xp.astype(key, xp.int64)
    batch = tuple(key.shape[:-1])
    return xp.reshape(key[..., 0], (*batch, 1)), xp.reshape(key[..., 1], (*batch, 1)), batch


def _bits_int64(xp, device, key, shape: tuple):
    count = math.prod(shape)
    blocks = (count + 1) // 2
    k0, k1, batch = _key_words(xp, key)
    counters = xp.arange(blocks, dtype=xp.int64, device=device)
    hi, lo = threefry2x32_int64(k0, k1, xp.zeros_like(counters), counters)
    words = xp.reshape(xp.stack([hi, lo], axis=-1), (*batch, 2 * blocks))
    return xp.reshape(words[..., :count], (*batch, *shape))


def random_bits_words(xp, device, key, shape: tuple):
    """``random_bits(key, shape)`` on the library of ``key``: ``uint32`` of shape
    ``key.shape[:-1] + shape``."""
    return xp.astype(_bits_int64(xp, device, key, shape), xp.uint32)


def fold_in_words(xp, key, data):
    """``random_fold_in(key, data)``: the hash of the counter ``(1, data)``, as a key."""
    key = xp.astype(key, xp.int64)
    data = xp.astype(data, xp.int64)
    hi, lo = threefry2x32_int64(key[..., 0], key[..., 1], xp.ones_like(data), data)
    return xp.astype(xp.stack([hi, lo], axis=-1), xp.uint32)


def permutation_order(xp, device, key, n: int):
    """``random_permutation(key, n)``: indices sorted by 64-bit random words.

    NumPy sorts the ``uint64`` words ``w0 * 2**32 + w1``; here ``(w0 - 2**31) * 2**32 + w1``,
    the same order shifted into ``int64``'s range (no library needs ``uint64``).
    """
    words = _bits_int64(xp, device, key, (n, 2))
    sort_keys = (words[..., 0] - 2**31) * 2**32 + words[..., 1]
    return xp.astype(xp.argsort(sort_keys, axis=-1, stable=True), xp.int32)


@array_api_rule(random_bits_p)
def random_bits_array_api(ctx, key, *, shape):
    bits = functools.partial(random_bits_words, ctx.xp_module, ctx.device, shape=tuple(shape))
    return f"{ctx.constant(bits, 'random_bits')}({key})"


@array_api_rule(random_fold_in_p)
def random_fold_in_array_api(ctx, key, data):
    return f"{ctx.constant(functools.partial(fold_in_words, ctx.xp_module), 'fold_in')}({key}, {data})"


@array_api_rule(random_permutation_p)
def random_permutation_array_api(ctx, key, *, n):
    order = functools.partial(permutation_order, ctx.xp_module, ctx.device, n=int(n))
    return f"{ctx.constant(order, 'permutation')}({key})"
