"""Random bits from a key: the counter-based Threefry-2x32 hash as primitives.

A key is a ``uint32`` array whose last axis has length 2 (a Threefry key). The bits for
a request of ``n`` numbers are the hash of the counters ``(0, 0), (0, 1), ...`` under
that key, two 32-bit words per counter, so they depend only on the key and the shape:
the same on every machine and NumPy version. The hash is written with NumPy ``uint32``
arithmetic, which wraps around modulo 2**32 exactly as Threefry specifies.

The operations are primitives so that a key may be a traced value (under ``jit`` or
``vmap``). They have no derivative. Each accepts a batch of keys (leading axes before
the final 2), which makes their batching rules a matter of moving the batch axis first.

- ``random_bits_p(key, shape)``: ``uint32`` bits of shape ``key.shape[:-1] + shape``;
- ``random_fold_in_p(key, data)``: a new key per ``uint32`` datum, hashed from the
  counter ``(1, data)`` (a counter that ``random_bits`` never uses);
- ``random_permutation_p(key, n)``: ``int32`` indices ``0..n-1`` in an order given by
  sorting 64-bit random words.

Example:
    >>> import numpy as np
    >>> [hex(int(w)) for w in threefry2x32(np.uint32([0, 0]), np.uint32(0), np.uint32(0))]
    ['0x6b200159', '0x99ba4efe']
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, get_aval
from minigrad.ops.elementwise import broadcast_shapes
from minigrad.ops.shape import batch_to_front, pad_batched_rank

__all__ = [
    "threefry2x32",
    "random_bits",
    "random_fold_in",
    "random_permutation",
    "random_bits_p",
    "random_fold_in_p",
    "random_permutation_p",
]

# Rotation constants and key-schedule parity of Threefry-2x32 (Salmon et al., SC'11).
_ROTATIONS = (13, 15, 26, 6, 17, 29, 16, 24)
_PARITY = 0x1BD11BDA


def _rotate_left(x, r: int):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def threefry2x32(key, counter_hi, counter_lo):
    """The 20-round Threefry-2x32 hash of counters under ``key`` (NumPy, not traced).

    Args:
      key: ``uint32`` array of shape ``(..., 2)``.
      counter_hi, counter_lo: ``uint32`` arrays broadcastable with ``key.shape[:-1]``.

    Returns:
      The two ``uint32`` output words, each of the broadcast shape.

    Example:
      >>> import numpy as np
      >>> threefry2x32(np.uint32([1, 2]), np.uint32([3]), np.uint32([4]))[0].dtype
      dtype('uint32')
    """
    key = np.asarray(key, np.uint32)
    k0 = np.asarray(key[..., 0], np.uint32)
    k1 = np.asarray(key[..., 1], np.uint32)
    with np.errstate(over="ignore"):
        # Arrays of at least one dimension wrap silently; NumPy scalars would warn.
        k0, k1 = np.atleast_1d(k0), np.atleast_1d(k1)
        schedule = (k0, k1, k0 ^ k1 ^ np.uint32(_PARITY))
        x0 = np.asarray(counter_hi, np.uint32) + schedule[0]
        x1 = np.asarray(counter_lo, np.uint32) + schedule[1]
        for injection in range(1, 6):
            for r in _ROTATIONS[4 * ((injection - 1) % 2) : 4 * ((injection - 1) % 2) + 4]:
                x0 = x0 + x1
                x1 = _rotate_left(x1, r) ^ x0
            x0 = x0 + schedule[injection % 3]
            x1 = x1 + schedule[(injection + 1) % 3] + np.uint32(injection)
    shape = broadcast_shapes("threefry2x32", key.shape[:-1], np.shape(counter_hi), np.shape(counter_lo))
    return x0.reshape(shape), x1.reshape(shape)


def _check_key(opname: str, key: ShapedArray) -> None:
    if key.dtype != np.uint32 or key.ndim < 1 or key.shape[-1] != 2:
        raise TypeError(
            f"{opname}: a key is a uint32 array of shape (2,) (or a batch of them, shape "
            f"(..., 2)), got {key.dtype} of shape {key.shape}. Make one with "
            "minigrad.random.key(seed)."
        )


# ---------------------------------------------------------------------------------------
# random_bits

random_bits_p = Primitive("random_bits")
random_bits_p.def_nondifferentiable()
random_bits_p.def_lowering(lower_by_impl)


@random_bits_p.def_impl
def random_bits_impl(key, *, shape):
    count = math.prod(shape)
    blocks = (count + 1) // 2
    batch = key.shape[:-1]
    counters = np.arange(blocks, dtype=np.uint32)
    keys = key.reshape((*batch, 1, 2))
    hi, lo = threefry2x32(keys, np.zeros_like(counters), counters)
    words = np.stack([hi, lo], axis=-1).reshape((*batch, 2 * blocks))
    return words[..., :count].reshape((*batch, *shape))


@random_bits_p.def_shape_rule
def random_bits_shape_rule(key, *, shape):
    _check_key("random_bits", key)
    return ShapedArray((*key.shape[:-1], *shape), np.dtype(np.uint32))


@random_bits_p.def_batch
def random_bits_batch(args, dims, *, shape):
    (key,), (dim,) = args, dims
    return random_bits(batch_to_front(key, dim), shape), 0


def random_bits(key, shape):
    """``uint32`` random bits of ``shape`` for each key in ``key`` (shape ``(..., 2)``).

    Example:
      >>> random_bits(np.uint32([0, 0]), (2,))
      array([1797259609, 2579123966], dtype=uint32)
    """
    return bind(random_bits_p, key, shape=tuple(int(d) for d in shape))


# ---------------------------------------------------------------------------------------
# random_fold_in

random_fold_in_p = Primitive("random_fold_in")
random_fold_in_p.def_nondifferentiable()
random_fold_in_p.def_lowering(lower_by_impl)


@random_fold_in_p.def_impl
def random_fold_in_impl(key, data):
    hi, lo = threefry2x32(key, np.ones_like(data), data)
    return np.stack([hi, lo], axis=-1)


@random_fold_in_p.def_shape_rule
def random_fold_in_shape_rule(key, data):
    _check_key("random_fold_in", key)
    if data.dtype != np.uint32:
        raise TypeError(f"random_fold_in: data must be uint32, got {data.dtype}.")
    batch = broadcast_shapes("random_fold_in", key.shape[:-1], data.shape)
    return ShapedArray((*batch, 2), np.dtype(np.uint32))


@random_fold_in_p.def_batch
def random_fold_in_batch(args, dims):
    (key, data), (key_dim, data_dim) = args, dims
    size = get_aval(key).shape[key_dim] if key_dim is not None else get_aval(data).shape[data_dim]
    key_rank = get_aval(key).ndim - 1 - (key_dim is not None)
    data_rank = get_aval(data).ndim - (data_dim is not None)
    rank = max(key_rank, data_rank)
    # Batch axes first, padded so the keys' batch axes line up with the data's.
    key = pad_batched_rank(batch_to_front(key, key_dim, size), rank + 1)
    data = pad_batched_rank(batch_to_front(data, data_dim, size), rank)
    return random_fold_in(key, data), 0


def random_fold_in(key, data):
    """New keys from ``key`` and ``uint32`` ``data`` (broadcast against the key batch).

    Example:
      >>> random_fold_in(np.uint32([0, 0]), np.uint32(7)).shape
      (2,)
    """
    return bind(random_fold_in_p, key, data)


# ---------------------------------------------------------------------------------------
# random_permutation

random_permutation_p = Primitive("random_permutation")
random_permutation_p.def_nondifferentiable()
random_permutation_p.def_lowering(lower_by_impl)


@random_permutation_p.def_impl
def random_permutation_impl(key, *, n):
    words = random_bits_impl(key, shape=(n, 2)).astype(np.uint64)
    sort_keys = (words[..., 0] << np.uint64(32)) | words[..., 1]
    return np.argsort(sort_keys, axis=-1, kind="stable").astype(np.int32)


@random_permutation_p.def_shape_rule
def random_permutation_shape_rule(key, *, n):
    _check_key("random_permutation", key)
    return ShapedArray((*key.shape[:-1], n), np.dtype(np.int32))


@random_permutation_p.def_batch
def random_permutation_batch(args, dims, *, n):
    (key,), (dim,) = args, dims
    return random_permutation(batch_to_front(key, dim), n), 0


def random_permutation(key, n: int):
    """The indices ``0..n-1`` shuffled, as ``int32``, for each key in ``key``.

    Example:
      >>> sorted(random_permutation(np.uint32([0, 0]), 4).tolist())
      [0, 1, 2, 3]
    """
    return bind(random_permutation_p, key, n=int(n))
