"""Reductions with NumPy's ``axis`` (int, tuple or None) and ``keepdims``.

Example:
    >>> import numpy as np
    >>> sum(np.ones((2, 3)), axis=1, keepdims=True).shape
    (2, 1)
"""

from __future__ import annotations

import numpy as np

from minigrad.numpy._promotion import dtype_of, normalize_axes, normalize_axis, promote_to_inexact, to_array
from minigrad.ops import elementwise as ew
from minigrad.ops import logic as lg
from minigrad.ops import reduce as red
from minigrad.ops.shape import expand_dims, reduce_sum, reshape

__all__ = ["sum", "mean", "max", "min", "amax", "amin", "prod", "var", "std", "logsumexp", "argmax", "argmin"]


def _keep(result, axes, keepdims):
    return expand_dims(result, axes) if keepdims else result


def _no_out(opname, out):
    # NumPy passes out=None when np.sum(tracer) defers to the tracer's method.
    if out is not None:
        raise TypeError(
            f"{opname}: out= is not supported, since minigrad's arrays are immutable; use the "
            f"returned array instead (y = mnp.{opname}(x, ...))."
        )


def _summed_operand(a, dtype):
    """``a`` in the dtype of its sum or product: NumPy sums booleans and small integers
    as the platform's int64 (uint64 for unsigned)."""
    a = to_array(a)
    if dtype is None and dtype_of(a).kind in "biu" and dtype_of(a).itemsize < 8:
        dtype = np.int64 if dtype_of(a).kind != "u" else np.uint64
    return a if dtype is None else to_array(a, np.dtype(dtype))


def sum(a, axis=None, dtype=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Sum over ``axis``. Booleans and small integers sum as NumPy does (to int64).

    Args:
      a: the array.
      axis: an int, a tuple of ints, or None for every axis.
      dtype: the dtype to sum in (and of the result).
      out: must be None (arrays are immutable); here so NumPy's signature fits.
      keepdims: keep the reduced axes with size 1.

    Example:
      >>> sum(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=0)
      array([4., 6.])
    """
    _no_out("sum", out)
    a = _summed_operand(a, dtype)
    axes = normalize_axes("sum", axis, a.ndim)
    return _keep(reduce_sum(a, axes), axes, keepdims)


def _averaged_operand(a, dtype=None):
    """``a`` in the dtype to accumulate in, and the dtype the average has (as NumPy):
    ``dtype`` if given.

    Integers and booleans average to float64 (unlike ``np.sin``, which picks the smallest
    float that holds them). float16 sums overflow at 65504 and stop growing at 2048 ones,
    so float16 is accumulated and divided in float32 and only the result is cast back.
    """
    a = to_array(a)
    if dtype is not None:
        dtype = np.dtype(dtype)
    elif dtype_of(a).kind in "fc":
        dtype = dtype_of(a)
    else:
        dtype = np.dtype(np.float64)
    accumulate = np.dtype(np.float32) if dtype == np.float16 else dtype
    return to_array(a, accumulate), dtype


def _mean(a, axes):
    count = int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
    total = reduce_sum(a, axes)
    return ew.div(total, float(count)) if count else ew.mul(total, np.nan)


def mean(a, axis=None, dtype=None, out=None, keepdims=False):
    """Arithmetic mean over ``axis``; integers and booleans average to float64.

    Example:
      >>> mean(np.array([1.0, 2.0, 6.0]))
      array(3.)
      >>> mean(np.array([True, False, True, True]))
      array(0.75)
      >>> mean(np.ones((2, 3)), 0, np.float32)
      array([1., 1., 1.], dtype=float32)
    """
    _no_out("mean", out)
    a, dtype = _averaged_operand(a, dtype)
    axes = normalize_axes("mean", axis, a.ndim)
    return _keep(ew.convert_element_type(_mean(a, axes), dtype), axes, keepdims)


def max(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Largest element over ``axis``; tied maxima share the gradient equally.

    Example:
      >>> max(np.array([[1.0, 5.0], [7.0, 2.0]]), axis=1)
      array([5., 7.])
    """
    _no_out("max", out)
    a = to_array(a)
    axes = normalize_axes("max", axis, a.ndim)
    return _keep(red.reduce_max(a, axes), axes, keepdims)


def min(a, axis=None, out=None, keepdims=False):  # noqa: A001 - NumPy's name
    """Smallest element over ``axis``; tied minima share the gradient equally.

    Example:
      >>> min(np.array([[1.0, 5.0], [7.0, 2.0]]), axis=0)
      array([1., 2.])
    """
    _no_out("min", out)
    a = to_array(a)
    axes = normalize_axes("min", axis, a.ndim)
    return _keep(red.reduce_min(a, axes), axes, keepdims)


amax = max
amin = min


def prod(a, axis=None, dtype=None, out=None, keepdims=False):
    """Product over ``axis``; its gradient is right even where elements are zero.

    Example:
      >>> prod(np.array([2.0, 3.0, 4.0]))
      array(24.)
    """
    _no_out("prod", out)
    a = _summed_operand(a, dtype)
    axes = normalize_axes("prod", axis, a.ndim)
    return _keep(red.reduce_prod(a, axes), axes, keepdims)


def _variance(a, axes, ddof):
    count = int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
    centred = ew.sub(a, expand_dims(_mean(a, axes), axes))
    squares = reduce_sum(ew.square(centred), axes)
    return ew.div(squares, float(count - ddof))


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Variance over ``axis`` with ``ddof`` delta degrees of freedom.

    Example:
      >>> var(np.array([1.0, 3.0]))
      array(1.)
    """
    _no_out("var", out)
    a, dtype = _averaged_operand(a, dtype)
    axes = normalize_axes("var", axis, a.ndim)
    return _keep(ew.convert_element_type(_variance(a, axes, ddof), dtype), axes, keepdims)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Standard deviation over ``axis``.

    Example:
      >>> std(np.array([1.0, 3.0]))
      array(1.)
    """
    _no_out("std", out)
    a, dtype = _averaged_operand(a, dtype)
    axes = normalize_axes("std", axis, a.ndim)
    return _keep(ew.convert_element_type(ew.sqrt(_variance(a, axes, ddof)), dtype), axes, keepdims)


def logsumexp(a, axis=None, keepdims=False):
    """``log(sum(exp(a)))`` over ``axis``, computed without overflow.

    The largest element is subtracted before exponentiating; its gradient (a softmax)
    is exact and finite for any finite input.

    Example:
      >>> logsumexp(np.array([1000.0, 1000.0]))
      array(1000.69314718)
    """
    (a,) = promote_to_inexact("logsumexp", a)
    axes = normalize_axes("logsumexp", axis, a.ndim)
    if not axes:
        return a
    shift = ew.stop_gradient(red.reduce_max(a, axes))
    # An all -inf slice has max -inf; shifting by it would give NaN.
    shift = ew.select(lg.isfinite(shift), shift, 0.0)
    kept_shift = expand_dims(shift, axes)
    total = reduce_sum(ew.exp(ew.sub(a, kept_shift)), axes)
    return _keep(ew.add(ew.log(total), shift), axes, keepdims)


def argmax(a, axis=None, keepdims=False):
    """Index of the largest element (of the flattened array when ``axis`` is None).

    Example:
      >>> argmax(np.array([[1.0, 5.0], [7.0, 2.0]]), axis=1)
      array([1, 0])
    """
    return _arg(red.argmax, "argmax", a, axis, keepdims)


def argmin(a, axis=None, keepdims=False):
    """Index of the smallest element (of the flattened array when ``axis`` is None).

    Example:
      >>> argmin(np.array([3.0, 1.0, 2.0]))
      array(1)
    """
    return _arg(red.argmin, "argmin", a, axis, keepdims)


def _arg(op, name, a, axis, keepdims):
    a = to_array(a)
    if axis is None:
        out = op(reshape(a, (a.size,)), 0)
        return reshape(out, (1,) * a.ndim) if keepdims else out
    axis = normalize_axis(name, axis, a.ndim)
    return _keep(op(a, axis), (axis,), keepdims)
