"""Packing booleans into the bits of bytes and back: ``packbits`` and ``unpackbits``.

Both are shifts, masks and sums of integers (no gradient), written with traceable
operations, so they work under ``jit`` and ``vmap``.

Example:
    >>> import numpy as np
    >>> packbits(np.array([1, 0, 1]))
    array([160], dtype=uint8)
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.numpy._math import bitwise_and, not_equal
from minigrad.numpy._modular import right_shift
from minigrad.numpy._promotion import dtype_of, normalize_axis, to_array
from minigrad.numpy._shape import moveaxis, pad, ravel, reshape
from minigrad.ops import shape as sh

__all__ = ["packbits", "unpackbits"]


def _bit_weights(bitorder, name):
    if bitorder not in ("big", "little"):
        raise ValueError(f"{name}: bitorder must be 'big' or 'little', got {bitorder!r}.")
    shifts = np.arange(8)
    return shifts[::-1] if bitorder == "big" else shifts


def packbits(a, axis=None, bitorder="big"):
    """The non-zero elements of ``a`` as set bits, eight to a ``uint8`` along ``axis``
    (the flattened array when None), the last byte padded with zero bits.

    Example:
      >>> packbits(np.array([[1, 1], [0, 1]]), axis=0, bitorder="little")
      array([[1, 3]], dtype=uint8)
    """
    a = to_array(a)
    if dtype_of(a).kind not in "biu":
        raise TypeError(f"packbits: needs an integer or boolean array, got {dtype_of(a)}.")
    shifts = _bit_weights(bitorder, "packbits")
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis("packbits", axis, a.ndim)
    bits = to_array(not_equal(moveaxis(a, axis, -1), 0), np.dtype(np.int64))
    n = bits.shape[-1]
    widths = [(0, 0)] * (bits.ndim - 1) + [(0, -n % 8)]
    groups = reshape(pad(bits, widths), tuple(bits.shape[:-1]) + (-(-n // 8), 8))
    packed = sh.reduce_sum(groups * (2**shifts), (groups.ndim - 1,))
    return moveaxis(to_array(packed, np.dtype(np.uint8)), -1, axis)


def unpackbits(a, axis=None, count=None, bitorder="big"):
    """The bits of the ``uint8`` array ``a`` as elements 0 and 1, eight per byte along
    ``axis`` (flattened when None); ``count`` keeps that many (or drops ``-count``).

    Example:
      >>> unpackbits(np.array([5], dtype=np.uint8), count=4, bitorder="little")
      array([1, 0, 1, 0], dtype=uint8)
    """
    a = to_array(a)
    if dtype_of(a) != np.uint8:
        raise TypeError(f"unpackbits: needs a uint8 array, got {dtype_of(a)}.")
    shifts = _bit_weights(bitorder, "unpackbits").astype(np.uint8)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis("unpackbits", axis, a.ndim)
    moved = moveaxis(a, axis, -1)
    bits = bitwise_and(right_shift(reshape(moved, tuple(moved.shape) + (1,)), shifts), np.uint8(1))
    bits = reshape(bits, tuple(moved.shape[:-1]) + (-1,))
    n = bits.shape[-1]
    if count is not None:
        count = operator.index(count)
        keep = count if count >= 0 else max(n + count, 0)
        if keep <= n:
            bits = sh.slice_axis(bits, bits.ndim - 1, 0, keep)
        else:
            bits = pad(bits, [(0, 0)] * (bits.ndim - 1) + [(0, keep - n)])
    return moveaxis(bits, -1, axis)
