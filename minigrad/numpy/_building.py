"""Rearranging arrays: ``repeat``, ``roll``, ``tile``, ``rot90``, ``insert``, ``delete``, ...

Each is a gather of positions that NumPy itself computes on integer ranges (for
example ``np.delete(np.arange(n), obj)``), or slices, flips and broadcasts, so
gradients come from the rules of ``gather``, ``slice`` and ``broadcast_to``.

Example:
    >>> import numpy as np
    >>> roll(np.array([1.0, 2.0, 3.0]), 1)
    array([3., 1., 2.])
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._data_dependent import _concrete
from minigrad.numpy._promotion import dtype_of, normalize_axis, to_array
from minigrad.numpy._shape import concatenate, flip, ravel, swapaxes, take
from minigrad.ops import rolling
from minigrad.ops import shape as sh

__all__ = [
    "repeat", "roll", "append", "tile", "rot90", "flipud", "fliplr", "atleast_3d", "resize",
    "copy", "insert", "delete",
]  # fmt: skip


def _axis_or_flat(name, a, axis):
    """``(array, axis)``; ``axis=None`` means the flattened array's only axis."""
    a = to_array(a)
    if axis is None:
        return ravel(a), 0
    return a, normalize_axis(name, axis, a.ndim)


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    """Repeat each element ``repeats`` times (an int, or one count per element) along
    ``axis`` (of the flattened array when None). The counts must be known.

    Example:
      >>> repeat(np.array([1.0, 2.0]), [2, 1])
      array([1., 1., 2.])
    """
    a, axis = _axis_or_flat("repeat", a, axis)
    counts = _concrete(repeats, "repeat", "Pass the counts as a NumPy array or list (they fix the shape).")
    positions = np.repeat(np.arange(a.shape[axis]), counts)
    if total_repeat_length is not None and positions.size != total_repeat_length:
        raise ValueError(
            f"repeat: the counts give {positions.size} elements, not total_repeat_length={total_repeat_length}."
        )
    return take(a, positions, axis=axis)


def _rolled_by_traced_shift(a, shift, axis):
    """``a`` rolled by a traced ``shift``: position i reads i - shift, wrapped around."""
    n = a.shape[axis]
    return a if n == 0 else take(a, np.arange(n) - shift, axis=axis, mode="wrap")


def roll(a, shift, axis=None):
    """Shift elements along ``axis`` (or the flattened array), wrapping around; ``shift``
    and ``axis`` may be tuples, and ``shift`` may be traced.

    Example:
      >>> roll(np.arange(6.0).reshape(2, 3), -1, axis=1)
      array([[1., 2., 0.],
             [4., 5., 3.]])
    """
    a = to_array(a)
    if axis is None:
        return roll(a, shift, 0) if a.ndim == 1 else sh.reshape(roll(ravel(a), shift, 0), a.shape)
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    shifts = (shift,) * len(axes) if np.ndim(shift) == 0 else tuple(shift)
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: {len(shifts)} shifts do not match {len(axes)} axes.")
    axes = tuple(normalize_axis("roll", ax, a.ndim) for ax in axes)
    if any(isinstance(s, Tracer) for s in shifts):
        for s, ax in zip(shifts, axes, strict=True):
            a = _rolled_by_traced_shift(a, s, ax)
        return a
    return rolling.roll(a, tuple(operator.index(s) for s in shifts), axes)


def append(arr, values, axis=None):
    """``values`` joined after ``arr`` (both flattened when ``axis`` is None).

    Example:
      >>> append(np.array([1, 2]), [[3, 4]])
      array([1, 2, 3, 4])
    """
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def tile(A, reps):  # noqa: N803 - NumPy's name
    """``A`` repeated ``reps`` times along each axis (a broadcast then a reshape).

    Example:
      >>> tile(np.array([1.0, 2.0]), (2, 2))
      array([[1., 2., 1., 2.],
             [1., 2., 1., 2.]])
    """
    a = to_array(A)
    reps = (operator.index(reps),) if np.ndim(reps) == 0 else tuple(operator.index(r) for r in reps)
    ndim = max(a.ndim, len(reps))
    shape = (1,) * (ndim - a.ndim) + a.shape
    reps = (1,) * (ndim - len(reps)) + reps
    interleaved = sh.reshape(a, [d for size in shape for d in (1, size)])
    copies = sh.broadcast_to(interleaved, [d for pair in zip(reps, shape, strict=True) for d in pair])
    return sh.reshape(copies, [r * size for r, size in zip(reps, shape, strict=True)])


def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times, from the first of ``axes`` towards the second.

    Example:
      >>> rot90(np.array([[1, 2], [3, 4]]))
      array([[2, 4],
             [1, 3]])
    """
    m = to_array(m)
    if len(axes) != 2:
        raise ValueError(f"rot90: axes must name two axes, got {axes!r}.")
    first, second = (normalize_axis("rot90", a, m.ndim) for a in axes)
    if first == second:
        raise ValueError(f"rot90: the two axes must differ, got {axes!r}.")
    k = operator.index(k) % 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, first), second)
    if k == 1:
        return swapaxes(flip(m, second), first, second)
    return flip(swapaxes(m, first, second), second)


def flipud(m):
    """Reverse the rows (axis 0).

    Example:
      >>> flipud(np.array([1.0, 2.0]))
      array([2., 1.])
    """
    m = to_array(m)
    if m.ndim < 1:
        raise ValueError("flipud: needs an array of at least one dimension.")
    return flip(m, 0)


def fliplr(m):
    """Reverse the columns (axis 1).

    Example:
      >>> fliplr(np.array([[1.0, 2.0]]))
      array([[2., 1.]])
    """
    m = to_array(m)
    if m.ndim < 2:
        raise ValueError(f"fliplr: needs an array of at least two dimensions, got shape {m.shape}.")
    return flip(m, 1)


def atleast_3d(*arys):
    """Each argument with at least three dimensions: (N,) becomes (1, N, 1) and (M, N)
    becomes (M, N, 1), as in NumPy.

    Example:
      >>> atleast_3d(np.zeros(3)).shape
      (1, 3, 1)
    """
    results = []
    for a in arys:
        a = to_array(a)
        shape = {0: (1, 1, 1), 1: (1, *a.shape, 1), 2: (*a.shape, 1)}.get(a.ndim, a.shape)
        results.append(sh.reshape(a, shape))
    return results[0] if len(results) == 1 else tuple(results)


def resize(a, new_shape):
    """An array of ``new_shape`` filled with ``a``'s elements, repeated as needed.

    Example:
      >>> resize(np.array([1, 2, 3]), (2, 2))
      array([[1, 2],
             [3, 1]])
    """
    flat = ravel(a)
    new_shape = (operator.index(new_shape),) if np.ndim(new_shape) == 0 else tuple(new_shape)
    total = int(np.prod(new_shape, dtype=np.int64))
    if flat.shape[0] == 0 or total == 0:
        return np.zeros(new_shape, dtype_of(flat))
    return sh.reshape(take(flat, np.arange(total) % flat.shape[0]), new_shape)


def copy(a, order="K", subok=False):
    """A copy of ``a`` (arrays are immutable under transforms, so a tracer is itself).

    Example:
      >>> copy([1.0, 2.0])
      array([1., 2.])
    """
    a = to_array(a)
    return a.copy() if isinstance(a, np.ndarray) else a


def insert(arr, obj, values, axis=None):
    """``values`` inserted before the positions ``obj`` (an int, a slice or ints) along
    ``axis`` (the flattened array when None), cast to ``arr``'s dtype as NumPy does.

    Example:
      >>> insert(np.array([1.0, 2.0, 3.0]), 1, [7.0, 8.0])
      array([1., 7., 8., 2., 3.])
    """
    arr, axis = _axis_or_flat("insert", arr, axis)
    n = arr.shape[axis]
    if isinstance(obj, slice):
        obj = np.arange(*obj.indices(n))
    values = to_array(values, dtype_of(arr))
    values = (
        sh.reshape(values, (1,) * (arr.ndim - values.ndim) + values.shape)
        if values.ndim < arr.ndim
        else values
    )
    if np.ndim(obj) == 0:
        values = sh.moveaxis(values, 0, axis)  # NumPy inserts a block whose first axis is along axis
        count = values.shape[axis]
    else:
        count = len(obj)
    shape = list(arr.shape)
    shape[axis] = count
    values = sh.broadcast_to(values, shape)
    positions = np.insert(np.arange(n), obj, n + np.arange(count))
    return take(sh.concatenate([arr, values], axis), positions, axis=axis)


def delete(arr, obj, axis=None):
    """``arr`` without the entries ``obj`` (an int, a slice, ints or a boolean mask) along
    ``axis`` (the flattened array when None).

    Example:
      >>> delete(np.array([1.0, 2.0, 3.0]), [0, 2])
      array([2.])
    """
    arr, axis = _axis_or_flat("delete", arr, axis)
    keep = np.delete(np.arange(arr.shape[axis]), obj)
    return take(arr, keep, axis=axis)
