"""Reductions with NumPy's ``axis`` (int, tuple or None) and ``keepdims``.

Example:
    >>> import numpy as np
    >>> sum(np.ones((2, 3)), axis=1, keepdims=True).shape
    (2, 1)
"""

from __future__ import annotations

import numpy as np

from minigrad.numpy._promotion import dtype_of, normalize_axes, normalize_axis, promote_to_inexact, to_array
from minigrad.ops import complex_parts as cp
from minigrad.ops import elementwise as ew
from minigrad.ops import logic as lg
from minigrad.ops import reduce as red
from minigrad.ops.shape import broadcast_to, expand_dims, reduce_sum, reshape

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


_NO_VALUE = object()  # NumPy's "no initial value given"


def _masked(a, where, fill):
    """``a`` with ``fill`` wherever ``where`` (broadcast against ``a``) is False."""
    if where is True:
        return a
    return ew.select(_mask(where, a.shape), a, np.asarray(fill, dtype_of(a)))


def _mask(where, shape):
    where = to_array(where)
    if dtype_of(where) != np.bool_:
        raise TypeError(f"where= must be an array of booleans, got {dtype_of(where)}.")
    return broadcast_to(where, shape)


def _count(a, axes, where):
    """How many elements each reduced slice averages: a number, or an array under ``where``."""
    if where is True:
        return float(np.prod([a.shape[i] for i in axes], dtype=np.int64))
    return reduce_sum(ew.convert_element_type(_mask(where, a.shape), dtype_of(a)), axes)


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NO_VALUE, where=True):  # noqa: A001
    """Sum over ``axis``. Booleans and small integers sum as NumPy does (to int64).

    Args:
      a: the array.
      axis: an int, a tuple of ints, or None for every axis.
      dtype: the dtype to sum in (and of the result).
      out: must be None (arrays are immutable); here so NumPy's signature fits.
      keepdims: keep the reduced axes with size 1.
      initial: a number added to each sum.
      where: booleans (broadcast against ``a``): only those elements are summed.

    Example:
      >>> sum(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=0)
      array([4., 6.])
      >>> sum(np.array([1.0, 2.0, 3.0]), where=np.array([True, False, True]), initial=10)
      array(14.)
    """
    _no_out("sum", out)
    a = _masked(_summed_operand(a, dtype), where, 0)
    axes = normalize_axes("sum", axis, a.ndim)
    total = reduce_sum(a, axes)
    if initial is not _NO_VALUE:
        total = ew.add(total, np.asarray(initial, dtype_of(total)))
    return _keep(total, axes, keepdims)


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


def _divide(total, count, mean_of_nothing=False):
    """``total / count`` in ``total``'s dtype. An integer total (from an integer ``dtype=``)
    is divided as float64 and truncated back, as NumPy's unsafe cast does; dividing the
    integers themselves would give a float64 that the program's types do not say."""
    dtype = dtype_of(total)
    if dtype.kind not in "fc":
        total = ew.convert_element_type(total, np.dtype(np.float64))
        if not isinstance(count, float):
            count = ew.convert_element_type(count, np.dtype(np.float64))
    if isinstance(count, float) and count == 0 and mean_of_nothing:
        quotient = ew.mul(total, np.nan)  # NumPy's mean of nothing, without 0 / 0's warning
    else:
        quotient = ew.div(total, count)
    return quotient if dtype.kind in "fc" else ew.convert_element_type(quotient, dtype)


def _mean(a, axes, where=True):
    return _divide(reduce_sum(_masked(a, where, 0), axes), _count(a, axes, where), mean_of_nothing=True)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    """Arithmetic mean over ``axis`` (of the elements ``where`` selects, if given);
    integers and booleans average to float64.

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
    return _keep(ew.convert_element_type(_mean(a, axes, where), dtype), axes, keepdims)


def _extremum(name, reduce, combine, a, axis, out, keepdims, initial, where):
    _no_out(name, out)
    a = to_array(a)
    axes = normalize_axes(name, axis, a.ndim)
    if initial is _NO_VALUE:
        if where is not True:
            raise ValueError(f"{name}: where= needs initial= (a value for slices with nothing selected).")
        return _keep(reduce(a, axes), axes, keepdims)
    initial = np.asarray(initial, dtype_of(a))
    if any(a.shape[i] == 0 for i in axes):
        kept = tuple(d for i, d in enumerate(a.shape) if i not in axes)
        return _keep(np.full(kept, initial), axes, keepdims)
    return _keep(combine(reduce(_masked(a, where, initial), axes), initial), axes, keepdims)


def max(a, axis=None, out=None, keepdims=False, initial=_NO_VALUE, where=True):  # noqa: A001
    """Largest element over ``axis``; tied maxima share the gradient equally.

    ``initial`` takes part in every slice (so empty slices are allowed), and ``where``
    (which needs ``initial``) selects the elements that do.

    Example:
      >>> max(np.array([[1.0, 5.0], [7.0, 2.0]]), axis=1)
      array([5., 7.])
    """
    return _extremum("max", red.reduce_max, ew.maximum, a, axis, out, keepdims, initial, where)


def min(a, axis=None, out=None, keepdims=False, initial=_NO_VALUE, where=True):  # noqa: A001
    """Smallest element over ``axis``; tied minima share the gradient equally.

    Example:
      >>> min(np.array([[1.0, 5.0], [7.0, 2.0]]), axis=0)
      array([1., 2.])
    """
    return _extremum("min", red.reduce_min, ew.minimum, a, axis, out, keepdims, initial, where)


amax = max
amin = min


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NO_VALUE, where=True):
    """Product over ``axis``; its gradient is right even where elements are zero.

    Example:
      >>> prod(np.array([2.0, 3.0, 4.0]))
      array(24.)
    """
    _no_out("prod", out)
    a = _masked(_summed_operand(a, dtype), where, 1)
    axes = normalize_axes("prod", axis, a.ndim)
    product = red.reduce_prod(a, axes)
    if initial is not _NO_VALUE:
        product = ew.mul(product, np.asarray(initial, dtype_of(product)))
    return _keep(product, axes, keepdims)


def _variance(a, axes, ddof, where=True, mean=None):
    if mean is None:
        mean = expand_dims(_mean(a, axes, where), axes)
    else:
        mean = to_array(mean, dtype_of(a))
    deviation = ew.sub(a, mean)
    if dtype_of(a).kind == "c":  # |d|^2, real, as NumPy's variance of complex numbers
        squares = reduce_sum(_masked(cp.real(ew.mul(deviation, cp.conj(deviation))), where, 0), axes)
    else:
        squares = reduce_sum(_masked(ew.square(deviation), where, 0), axes)
    count = _count(a, axes, where)
    if isinstance(count, float):
        return _divide(squares, float(np.maximum(count - ddof, 0)))
    zero = np.zeros((), dtype_of(count))
    return _divide(squares, ew.maximum(ew.sub(count, np.asarray(ddof, dtype_of(count))), zero))


def _degrees(name, ddof, correction):
    if correction is _NO_VALUE:
        return ddof
    if ddof != 0:
        raise ValueError(f"{name}: give ddof or correction (the same thing, NumPy's two names), not both.")
    return correction


def var(
    a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None, correction=_NO_VALUE
):
    """Variance over ``axis`` with ``ddof`` (or ``correction``) delta degrees of freedom.

    ``where`` selects the elements; ``mean``, if given, is used instead of computing it
    (it must have the shape ``keepdims=True`` gives).

    Example:
      >>> var(np.array([1.0, 3.0]))
      array(1.)
    """
    _no_out("var", out)
    ddof = _degrees("var", ddof, correction)
    a, dtype = _averaged_operand(a, dtype)
    axes = normalize_axes("var", axis, a.ndim)
    variance = _variance(a, axes, ddof, where, mean)
    return _keep(ew.convert_element_type(variance, cp.real_dtype(dtype)), axes, keepdims)


def std(
    a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None, correction=_NO_VALUE
):
    """Standard deviation over ``axis`` (arguments as ``var``).

    Example:
      >>> std(np.array([1.0, 3.0]))
      array(1.)
    """
    _no_out("std", out)
    ddof = _degrees("std", ddof, correction)
    a, dtype = _averaged_operand(a, dtype)
    axes = normalize_axes("std", axis, a.ndim)
    deviation = ew.sqrt(_variance(a, axes, ddof, where, mean))
    return _keep(ew.convert_element_type(deviation, cp.real_dtype(dtype)), axes, keepdims)


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
    if any(a.shape[axis] == 0 for axis in axes):
        # An empty sum is 0, whose log is -inf (as in SciPy and JAX); there is no
        # largest element to shift by.
        reduced = tuple(size for axis, size in enumerate(a.shape) if axis not in axes)
        return _keep(np.full(reduced, -np.inf, a.dtype), axes, keepdims)
    shift = ew.stop_gradient(red.reduce_max(a, axes))
    # An all -inf slice has max -inf; shifting by it would give NaN.
    shift = ew.select(lg.isfinite(shift), shift, 0.0)
    kept_shift = expand_dims(shift, axes)
    total = reduce_sum(ew.exp(ew.sub(a, kept_shift)), axes)
    return _keep(ew.add(ew.log(total), shift), axes, keepdims)


def argmax(a, axis=None, out=None, *, keepdims=False):
    """Index of the largest element (of the flattened array when ``axis`` is None).

    Example:
      >>> argmax(np.array([[1.0, 5.0], [7.0, 2.0]]), axis=1)
      array([1, 0])
    """
    _no_out("argmax", out)
    return _arg(red.argmax, "argmax", a, axis, keepdims)


def argmin(a, axis=None, out=None, *, keepdims=False):
    """Index of the smallest element (of the flattened array when ``axis`` is None).

    Example:
      >>> argmin(np.array([3.0, 1.0, 2.0]))
      array(1)
    """
    _no_out("argmin", out)
    return _arg(red.argmin, "argmin", a, axis, keepdims)


def _arg(op, name, a, axis, keepdims):
    a = to_array(a)
    if axis is None:
        out = op(reshape(a, (a.size,)), 0)
        return reshape(out, (1,) * a.ndim) if keepdims else out
    axis = normalize_axis(name, axis, a.ndim)
    return _keep(op(a, axis), (axis,), keepdims)
