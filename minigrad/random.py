"""Random numbers from explicit keys, the same on every machine.

A key is a ``uint32`` array of shape ``(2,)``; it is an ordinary array, so it passes
through pytrees and transforms like any other. Nothing here keeps hidden state: the same
key always gives the same numbers, and ``split`` or ``fold_in`` derive fresh keys. The
numbers come from the counter-based Threefry-2x32 hash (``minigrad.ops.random``),
computed with exact ``uint32`` arithmetic, so the bits are identical on every machine
and NumPy version. Floats are made from those bits by exact scaling in float64 and a
single rounding to the requested dtype; ``normal`` then applies the Box-Muller transform.

Never reuse a key for two different purposes: split it.

Example:
    >>> import minigrad.random as mr
    >>> k = mr.key(0)
    >>> k_init, k_data = mr.split(k)
    >>> mr.uniform(k_data, (3,)).shape
    (3,)
"""

from __future__ import annotations

import numpy as np

import minigrad.numpy as mnp
from minigrad.core.trace import is_tracer
from minigrad.ops.random import random_bits, random_fold_in, random_permutation

__all__ = ["key", "split", "fold_in", "uniform", "normal", "bernoulli", "permutation", "randint"]

_TWO_TO_MINUS_32 = 2.0**-32


def _normalize_shape(opname: str, shape) -> tuple[int, ...]:
    dims = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
    if any(d < 0 for d in dims):
        raise ValueError(f"random.{opname}: shape {dims} has a negative size; sizes must be >= 0.")
    return dims


def _check_key(opname: str, key) -> None:
    dtype = key.dtype if is_tracer(key) else np.asarray(key).dtype
    shape = mnp.shape(key)
    if dtype != np.uint32 or tuple(shape) != (2,):
        raise TypeError(
            f"random.{opname}: expected a key (a uint32 array of shape (2,)), got an array "
            f"of dtype {dtype} and shape {tuple(shape)}. Make keys with minigrad.random.key(seed) "
            "and split them with minigrad.random.split(key)."
        )


def _check_float_dtype(opname: str, dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"random.{opname}: dtype must be a floating-point type, got {dtype}.")
    return dtype


def key(seed: int):
    """A key made from an integer seed (its 64 bits, as two ``uint32`` words).

    Args:
      seed: a Python or NumPy integer in ``[-2**63, 2**64)``; negative seeds are taken
        modulo 2**64 (two's complement), larger ones raise, as in JAX.

    Returns:
      A ``uint32`` array of shape ``(2,)``.

    Example:
      >>> key(7)
      array([0, 7], dtype=uint32)
    """
    if is_tracer(seed) or not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(
            f"random.key: the seed must be a concrete Python integer, got {type(seed).__name__}. "
            "Under a transform, make the key outside and pass it in as an argument."
        )
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        # Taking it modulo 2**64 would make key(2**64 + 1) equal key(1) without a word.
        raise ValueError(f"random.key: seed {seed} does not fit in 64 bits; pass a seed in [-2**63, 2**64).")
    seed %= 2**64
    return np.array([seed >> 32, seed & 0xFFFFFFFF], dtype=np.uint32)


def split(key, num: int = 2):
    """``num`` new, independent keys from ``key``, as an array of shape ``(num, 2)``.

    Example:
      >>> import minigrad.random as mr
      >>> a, b = mr.split(mr.key(0))
      >>> bool((a != b).any())
      True
    """
    _check_key("split", key)
    if int(num) < 0:
        raise ValueError(f"random.split: num must be >= 0, got {int(num)}.")
    return random_bits(key, (int(num), 2))


def fold_in(key, data):
    """A new key that mixes the integer ``data`` into ``key``.

    Useful for one key per step: ``fold_in(key, step)``. A concrete ``data`` may be any
    integer in ``[-2**63, 2**64)``: values in ``[0, 2**32)`` are folded in as one 32-bit
    word, others as their low then their high 32-bit word (two's complement), so
    ``fold_in(k, 2**32)`` differs from ``fold_in(k, 0)``. Traced ``data`` (under ``jit``)
    must be of an integer dtype and is taken modulo 2**32.

    Example:
      >>> import minigrad.random as mr
      >>> bool((mr.fold_in(mr.key(0), 1) != mr.fold_in(mr.key(0), 2)).any())
      True
    """
    _check_key("fold_in", key)
    if is_tracer(data):
        if data.dtype.kind not in "iub":
            raise TypeError(f"random.fold_in: data must be an integer, got a traced {data.dtype} value.")
        return random_fold_in(key, data.astype(np.uint32))
    if not isinstance(data, (int, np.integer)) and not (
        isinstance(data, np.ndarray) and data.ndim == 0 and data.dtype.kind in "iub"
    ):
        raise TypeError(
            f"random.fold_in: data must be an integer, got {data!r} of type {type(data).__name__}; "
            "convert it explicitly (e.g. int(step))."
        )
    value = int(data)
    if 0 <= value < 2**32:
        return random_fold_in(key, np.asarray(value, dtype=np.uint32))
    if not -(2**63) <= value < 2**64:
        raise ValueError(f"random.fold_in: data={value} does not fit in 64 bits; reduce it first.")
    value %= 2**64
    low = random_fold_in(key, np.asarray(value & 0xFFFFFFFF, dtype=np.uint32))
    return random_fold_in(low, np.asarray(value >> 32, dtype=np.uint32))


def _unit_interval(key, shape, dtype):
    """Floats in [0, 1) of ``dtype``: 32 random bits (64 for float64), scaled exactly."""
    if dtype == np.float64:
        words = random_bits(key, (*shape, 2)).astype(np.float64)
        high, low = words[..., 0], words[..., 1]
        unit = (high + low * _TWO_TO_MINUS_32) * _TWO_TO_MINUS_32
    else:
        unit = random_bits(key, shape).astype(np.float64) * _TWO_TO_MINUS_32
    # Rounding to the target dtype can reach 1.0; keep the interval half-open.
    below_one = np.nextafter(dtype.type(1), dtype.type(0))
    return mnp.minimum(unit.astype(dtype), below_one)


def uniform(key, shape=(), dtype=np.float32, minval=0.0, maxval=1.0):
    """Uniform samples in ``[minval, maxval)``.

    Args:
      key: a key from ``key`` or ``split``.
      shape: the shape of the result.
      dtype: a floating-point dtype (float32 by default).
      minval, maxval: the interval's bounds (scalars or broadcastable arrays).

    Example:
      >>> import minigrad.random as mr
      >>> x = mr.uniform(mr.key(0), (1000,), minval=-1.0, maxval=1.0)
      >>> bool((x >= -1).all() and (x < 1).all())
      True
    """
    _check_key("uniform", key)
    dtype = _check_float_dtype("uniform", dtype)
    unit = _unit_interval(key, _normalize_shape("uniform", shape), dtype)
    minval, maxval = mnp.asarray(minval, dtype), mnp.asarray(maxval, dtype)
    if not is_tracer(minval) and not is_tracer(maxval) and np.any(minval > maxval):
        raise ValueError(f"random.uniform: minval ({minval}) must not exceed maxval ({maxval}); swap them.")
    sample = mnp.maximum(minval, minval + (maxval - minval) * unit)
    # Rounding minval + width * unit can reach maxval (wide bounds, few mantissa bits):
    # clamp to the largest value below it, as the interval is half-open.
    below_max = mnp.asarray(np.nextafter(maxval, -np.inf)) if not is_tracer(maxval) else maxval
    return mnp.where(sample < maxval, sample, mnp.maximum(minval, below_max))


def normal(key, shape=(), dtype=np.float32):
    """Standard normal samples (Box-Muller transform of two uniforms, in float64).

    Example:
      >>> import minigrad.random as mr
      >>> x = mr.normal(mr.key(0), (20000,))
      >>> bool(abs(x.mean()) < 0.05 and abs(x.std() - 1) < 0.05)
      True
    """
    _check_key("normal", key)
    dtype = _check_float_dtype("normal", dtype)
    shape = _normalize_shape("normal", shape)
    unit = _unit_interval(key, (2, *shape), np.dtype(np.float64))
    radius = mnp.sqrt(-2.0 * mnp.log1p(-unit[0]))
    return mnp.astype(mnp.multiply(radius, mnp.cos(2.0 * np.pi * unit[1])), dtype)


def bernoulli(key, p=0.5, shape=None):
    """Booleans that are True with probability ``p``.

    Args:
      key: a key.
      p: the probability (a scalar or an array broadcastable to ``shape``).
      shape: the result's shape; by default the shape of ``p``.

    Example:
      >>> import minigrad.random as mr
      >>> mr.bernoulli(mr.key(0), 0.5, (4,)).dtype
      dtype('bool')
    """
    _check_key("bernoulli", key)
    shape = mnp.shape(p) if shape is None else _normalize_shape("bernoulli", shape)
    return mnp.less(uniform(key, shape), p)


def randint(key, shape, minval, maxval):
    """Integers drawn uniformly from ``[minval, maxval)`` (Python ints), as int32.

    Example:
      >>> import minigrad.random as mr
      >>> x = mr.randint(mr.key(0), (1000,), 0, 10)
      >>> sorted(set(x.tolist())) == list(range(10))
      True
    """
    _check_key("randint", key)
    minval, maxval = int(minval), int(maxval)
    if not -(2**31) <= minval < maxval <= 2**31:
        raise ValueError(f"random.randint: need minval < maxval within int32, got [{minval}, {maxval}).")
    span = float(maxval - minval)
    unit = _unit_interval(key, _normalize_shape("randint", shape), np.dtype(np.float64))
    # floor(unit * span) without a floor primitive: astype truncates, and unit * span >= 0.
    return mnp.add((unit * span).astype(np.int64).astype(np.int32), np.int32(minval))


def permutation(key, n_or_array):
    """A random permutation of ``range(n)``, or of an array's rows (its first axis).

    Example:
      >>> import minigrad.random as mr
      >>> sorted(mr.permutation(mr.key(0), 5).tolist())
      [0, 1, 2, 3, 4]
      >>> mr.permutation(mr.key(0), np.eye(3)).sum(axis=0)
      array([1., 1., 1.])
    """
    _check_key("permutation", key)
    if isinstance(n_or_array, (int, np.integer)) and not isinstance(n_or_array, bool):
        if n_or_array < 0:
            raise ValueError(f"random.permutation: n must be non-negative, got {int(n_or_array)}.")
        return random_permutation(key, int(n_or_array))
    array = n_or_array if is_tracer(n_or_array) else np.asarray(n_or_array)
    if array.ndim == 0:
        raise ValueError(
            "random.permutation: expected an int or an array with at least one axis, got a 0-d array."
        )
    return array[random_permutation(key, array.shape[0])]
