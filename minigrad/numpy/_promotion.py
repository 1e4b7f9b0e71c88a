"""Argument normalisation shared by the NumPy-like API: dtypes and axes.

Dtype promotion follows NumPy 2: Python scalars are "weak" and take the dtype of the
arrays they meet (``float32_array * 2.0`` stays float32), arrays promote by
``np.result_type``. Operands are converted *before* a primitive is bound, so primitives
always see one dtype.

Example:
    >>> import numpy as np
    >>> [a.dtype for a in promote("add", np.ones(2, np.float32), 2.0)]
    [dtype('float32'), dtype('float32')]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from minigrad.core.dtypes import is_python_scalar, plain_array, refuse_foreign_array
from minigrad.core.trace import Tracer
from minigrad.ops import shape as sh
from minigrad.ops.elementwise import convert_element_type
from minigrad.tree import tree_leaves

__all__ = ["promote", "promote_to_inexact", "to_array", "dtype_of", "normalize_axes", "normalize_axis"]


def dtype_of(x) -> np.dtype:
    if isinstance(x, (np.ndarray, Tracer, np.generic)):
        return x.dtype
    if holds_tracers(x):
        return to_array(x).dtype
    return np.asarray(x).dtype


def holds_tracers(x) -> bool:
    """Whether ``x`` is a list or tuple with a traced value somewhere inside."""
    return isinstance(x, (list, tuple)) and any(isinstance(leaf, Tracer) for leaf in tree_leaves(x))


def to_array(x, dtype=None):
    """A tracer (cast if needed) or a NumPy array; lists of numbers become arrays, and
    lists holding tracers are stacked into one traced array (as NumPy stacks a list)."""
    if isinstance(x, Tracer):
        return x if dtype is None or x.dtype == dtype else convert_element_type(x, dtype)
    if type(x) is not np.ndarray and isinstance(x, np.ndarray):
        x = plain_array(x, "minigrad.numpy")  # np.matrix as a plain array; masked arrays refused
    if isinstance(x, np.ndarray) and (dtype is None or x.dtype == dtype):
        return x
    if holds_tracers(x):
        return _stacked(x, dtype)
    refuse_foreign_array(x, "minigrad.numpy")
    return np.asarray(x, dtype=dtype)


def _stacked(items, dtype):
    """A traced array from a sequence whose items (arrays, numbers, sequences) may be traced."""
    # Python numbers stay as they are, so that they promote weakly.
    parts = [item if is_python_scalar(item) else to_array(item) for item in items]
    shapes = {np.shape(p) for p in parts}
    if len(shapes) > 1:
        raise ValueError(
            f"array: the items of a sequence must have one shape to form an array, got shapes "
            f"{[np.shape(p) for p in parts]}."
        )
    parts = promote("array", *parts) if dtype is None else [to_array(p, dtype) for p in parts]
    return sh.concatenate([sh.expand_dims(to_array(p), (0,)) for p in parts], 0)


# A Python number of each kind, standing in for a weakly typed tracer (a Python number
# passed to a jitted function) so that it promotes as the number itself would.
_WEAK_STAND_INS = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}


def _promotion_key(x):
    # Python scalars go to np.result_type as values, so NumPy 2 treats them as weak.
    if is_python_scalar(x):
        return x
    if isinstance(x, Tracer) and getattr(x, "weak_type", False):
        return _WEAK_STAND_INS[x.dtype.kind]
    return dtype_of(x)


def result_dtype(*args) -> np.dtype:
    return np.result_type(*(_promotion_key(x) for x in args))


def _common_dtype_fast(args):
    """The common dtype when it is plainly the arrays' shared dtype, else None.

    Covers the frequent cases (arrays of one dtype, and a float array meeting Python
    numbers) without asking ``np.result_type``; everything else takes the full path.
    """
    dtype = None
    for x in args:
        if type(x) is np.ndarray or isinstance(x, Tracer):
            if dtype is None:
                dtype = x.dtype
            elif x.dtype != dtype:
                return None
    if dtype is None:
        return None
    for x in args:
        kind = type(x)
        if kind is float or kind is int:
            if dtype.kind not in "fc":
                return None
        elif kind is complex:
            if dtype.kind != "c":
                return None
        elif kind is not bool and kind is not np.ndarray and not isinstance(x, Tracer):
            return None
    return dtype


def promote(opname: str, *args) -> list:
    """Convert operands to their common dtype under NumPy 2's promotion rules."""
    dtype = _common_dtype_fast(args)
    if dtype is not None:
        # Every array operand has `dtype` already; only the Python numbers need converting.
        return [x if type(x) is np.ndarray or isinstance(x, Tracer) else np.asarray(x, dtype) for x in args]
    try:
        dtype = result_dtype(*args)
    except TypeError as error:
        raise TypeError(
            f"{opname}: no common dtype for operands of types {[type(a).__name__ for a in args]}: {error}"
        ) from None
    return [to_array(x, dtype) for x in args]


def promote_to_inexact(opname: str, *args) -> list:
    """Like ``promote`` but integers and booleans become floating point (as ``np.sin`` does)."""
    dtype = _common_dtype_fast(args) or result_dtype(*args)
    if dtype.kind not in "fc":
        dtype = np.result_type(dtype, np.float16)  # int8 -> float16, int32 -> float64
    return [to_array(x, dtype) for x in args]


def normalize_axis(opname: str, axis: int, ndim: int) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{opname}: axis must be an int, got {axis!r}.")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{opname}: axis {axis} is out of bounds for an array with {ndim} dimensions.")
    return int(axis) % ndim


def normalize_axes(opname: str, axis, ndim: int) -> tuple[int, ...]:
    """``None`` means every axis; an int or a sequence of ints, negatives counted from the end."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if not isinstance(axis, Sequence) else tuple(axis)
    normalized = tuple(normalize_axis(opname, a, ndim) for a in axes)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{opname}: repeated axis in {axis!r}.")
    return tuple(sorted(normalized))
