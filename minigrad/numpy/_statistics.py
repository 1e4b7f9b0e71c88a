"""Statistics: order statistics (``median``, ``percentile``, ``quantile``), the NaN-ignoring
reductions, ``average``, ``cov``, ``corrcoef``, ``ptp`` and ``histogram``.

Order statistics sort and then interpolate between the two nearest ranks, so the
gradient flows to the elements at those ranks. NaN-ignoring reductions replace NaNs by
the reduction's identity (and count only the others), so no NaN reaches a gradient.

Example:
    >>> import numpy as np
    >>> median(np.array([3.0, 1.0, 2.0]))
    array(2.)
"""

from __future__ import annotations

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._promotion import dtype_of, normalize_axes, promote_to_inexact, to_array
from minigrad.numpy._reductions import _NO_VALUE, _no_out
from minigrad.numpy._reductions import argmax as _argmax
from minigrad.numpy._reductions import argmin as _argmin
from minigrad.numpy._reductions import max as _max
from minigrad.numpy._reductions import mean as _mean
from minigrad.numpy._reductions import min as _min
from minigrad.numpy._reductions import prod as _prod
from minigrad.numpy._reductions import sum as _sum
from minigrad.numpy._reductions import var as _var
from minigrad.numpy._sorting import sort, take_along_axis
from minigrad.ops import elementwise as ew
from minigrad.ops import logic as lg
from minigrad.ops import shape as sh

__all__ = [
    "ptp", "quantile", "percentile", "median", "nanquantile", "nanpercentile", "nanmedian",
    "nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "nanargmax", "nanargmin",
]  # fmt: skip

_INDEX = np.dtype(np.int64)


def ptp(a, axis=None, out=None, keepdims=False):
    """The range, maximum minus minimum, over ``axis``.

    Example:
      >>> ptp(np.array([[1.0, 5.0], [2.0, 3.0]]), axis=1)
      array([4., 1.])
    """
    return ew.sub(_max(a, axis, out, keepdims), _min(a, axis, out, keepdims))


# ---------------------------------------------------------------------------------------
# Order statistics: sort along one (merged) axis, then interpolate between two ranks.

_METHODS = ("linear", "lower", "higher", "nearest", "midpoint")


def _along_last(name, a, axis):
    """``(a with the reduced axes merged last, reduced axes, kept shape)``."""
    axes = normalize_axes(name, axis, a.ndim)
    kept = [i for i in range(a.ndim) if i not in axes]
    moved = sh.transpose(a, (*kept, *axes))
    kept_shape = tuple(a.shape[i] for i in kept)
    length = int(np.prod([a.shape[i] for i in axes], dtype=np.int64))
    return sh.reshape(moved, (*kept_shape, length)), axes, kept_shape


def _truncated(x):
    """``x`` (non-negative) rounded down, as int64 indices."""
    return ew.convert_element_type(x, _INDEX) if isinstance(x, Tracer) else np.asarray(x).astype(_INDEX)


def _ranks(position, count, method):
    """``(lower rank, upper rank, weight of the upper one)`` for fractional ``position``."""
    lower = _truncated(ew.maximum(position, np.zeros((), dtype_of(position))))
    upper = ew.minimum(ew.add(lower, np.ones((), _INDEX)), ew.maximum(ew.sub(count, 1), np.zeros((), _INDEX)))
    fraction = ew.sub(position, ew.convert_element_type(lower, dtype_of(position)))
    zeros, ones = np.zeros((), dtype_of(position)), np.ones((), dtype_of(position))
    if method == "linear":
        return lower, upper, fraction
    if method == "lower":
        return lower, upper, zeros
    if method == "higher":
        return lower, upper, ew.select(lg.greater(fraction, zeros), ones, zeros)
    if method == "midpoint":
        half = np.full((), 0.5, dtype_of(position))
        return lower, upper, ew.select(lg.greater(fraction, zeros), half, zeros)
    # nearest: round half to even, as NumPy's around.
    half = np.full((), 0.5, dtype_of(position))
    half_lower = _truncated(ew.mul(ew.convert_element_type(lower, dtype_of(position)), half))
    odd = lg.not_equal(lower, ew.add(half_lower, half_lower))
    up = lg.logical_or(lg.greater(fraction, half), lg.logical_and(lg.equal(fraction, half), odd))
    return lower, upper, ew.select(up, ones, zeros)


def _quantile(name, a, q, axis, method, keepdims, ignore_nan):
    if method not in _METHODS:
        raise ValueError(f"{name}: method must be one of {_METHODS}, got {method!r}.")
    a, q = promote_to_inexact(name, a, q)
    if not isinstance(q, Tracer) and (np.any(q < 0) or np.any(q > 1)):
        raise ValueError(f"{name}: quantiles must lie in [0, 1] (percentiles in [0, 100]), got {q}.")
    rows, axes, kept_shape = _along_last(name, a, axis)
    ordered = sort(rows, axis=-1)  # NaNs go last
    length = rows.shape[-1]
    if ignore_nan:
        is_nan = lg.not_equal(rows, rows)
        count = sh.reduce_sum(ew.convert_element_type(lg.logical_not(is_nan), _INDEX), (rows.ndim - 1,))
    else:
        count = np.full(kept_shape, length, _INDEX)
    flat_q = sh.reshape(q, (int(np.prod(np.shape(q), dtype=np.int64)),))
    count_column = sh.expand_dims(count, (len(kept_shape),))
    position = ew.mul(flat_q, ew.convert_element_type(ew.sub(count_column, np.ones((), _INDEX)), dtype_of(a)))
    lower, upper, weight = _ranks(position, count_column, method)
    index_shape = (*kept_shape, np.shape(flat_q)[0])
    if length == 0:
        # Nothing to rank: the statistic of an empty slice is NaN (NumPy's median of one).
        low = high = np.full(index_shape, np.nan, dtype_of(a))
    else:
        low = take_along_axis(ordered, sh.broadcast_to(lower, index_shape), -1)
        high = take_along_axis(ordered, sh.broadcast_to(upper, index_shape), -1)
    result = ew.add(low, ew.mul(ew.sub(high, low), weight))
    # A NaN anywhere (or, ignoring NaNs, nothing left) makes the statistic NaN, as in NumPy.
    undefined = lg.equal(count_column, np.zeros((), _INDEX))
    if not ignore_nan and length:
        # NaNs sort last: a slice holds one exactly when its last element is NaN.
        last = sh.slice_axis(ordered, rows.ndim - 1, length - 1, length)
        undefined = lg.logical_or(undefined, lg.not_equal(last, last))
    result = ew.select(sh.broadcast_to(undefined, index_shape), np.full((), np.nan, dtype_of(a)), result)
    result = sh.moveaxis(result, len(kept_shape), 0)
    if keepdims:
        kept_shape = tuple(1 if i in axes else d for i, d in enumerate(a.shape))
    return sh.reshape(result, (*np.shape(q), *kept_shape))


def _check_method(name, method, interpolation, out):
    _no_out(name, out)
    return method if interpolation is None else interpolation


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None, interpolation=None):  # fmt: skip
    """The ``q``-th quantiles (``q`` in [0, 1], may be an array, comes first in the result)
    over ``axis``, interpolated by ``method``: "linear", "lower", "higher", "nearest" or
    "midpoint". Differentiable in ``a`` and, for "linear", in ``q``.

    Example:
      >>> quantile(np.array([1.0, 2.0, 3.0, 4.0]), [0.25, 0.5])
      array([1.75, 2.5 ])
    """
    _no_weights("quantile", weights)
    method = _check_method("quantile", method, interpolation, out)
    return _quantile("quantile", a, q, axis, method, keepdims, ignore_nan=False)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None, interpolation=None):  # fmt: skip
    """The ``q``-th percentiles (``q`` in [0, 100]); see ``quantile``.

    Example:
      >>> percentile(np.array([1.0, 2.0, 3.0]), 50)
      array(2.)
    """
    _no_weights("percentile", weights)
    method = _check_method("percentile", method, interpolation, out)
    return _quantile("percentile", a, _hundredths(q), axis, method, keepdims, ignore_nan=False)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median over ``axis`` (the mean of the two middle elements for even counts).

    Example:
      >>> median(np.array([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]]), axis=1)
      array([2., 4.])
    """
    _no_out("median", out)
    return _quantile("median", a, 0.5, axis, "linear", keepdims, ignore_nan=False)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None, interpolation=None):  # fmt: skip
    """``quantile`` ignoring NaNs (NaN where a slice has nothing else).

    Example:
      >>> nanquantile(np.array([1.0, np.nan, 3.0]), 0.5)
      array(2.)
    """
    _no_weights("nanquantile", weights)
    method = _check_method("nanquantile", method, interpolation, out)
    return _quantile("nanquantile", a, q, axis, method, keepdims, ignore_nan=True)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None, interpolation=None):  # fmt: skip
    """``percentile`` ignoring NaNs.

    Example:
      >>> nanpercentile(np.array([1.0, np.nan, 3.0]), 100)
      array(3.)
    """
    _no_weights("nanpercentile", weights)
    method = _check_method("nanpercentile", method, interpolation, out)
    return _quantile("nanpercentile", a, _hundredths(q), axis, method, keepdims, ignore_nan=True)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """``median`` ignoring NaNs.

    Example:
      >>> nanmedian(np.array([1.0, np.nan, 4.0]))
      array(2.5)
    """
    _no_out("nanmedian", out)
    return _quantile("nanmedian", a, 0.5, axis, "linear", keepdims, ignore_nan=True)


def _hundredths(q):
    return (
        ew.div(q, 100.0)
        if isinstance(q, Tracer)
        else np.asarray(q) / 100
        if not isinstance(q, (int, float))
        else q / 100
    )


def _no_weights(name, weights):
    if weights is not None:
        raise TypeError(f"{name}: weights= is not supported; use mnp.average for weighted means.")


# ---------------------------------------------------------------------------------------
# NaN-ignoring reductions: NaNs become the reduction's identity before reducing.


def _without_nan(a, fill):
    a = to_array(a)
    if dtype_of(a).kind not in "fc":
        return a, None
    is_nan = lg.not_equal(a, a)
    return ew.select(is_nan, np.full((), fill, dtype_of(a)), a), is_nan


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NO_VALUE, where=True):
    """``sum`` with NaNs counted as zero.

    Example:
      >>> nansum(np.array([1.0, np.nan, 2.0]))
      array(3.)
    """
    return _sum(_without_nan(a, 0)[0], axis, dtype, out, keepdims, initial, where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=_NO_VALUE, where=True):
    """``prod`` with NaNs counted as one.

    Example:
      >>> nanprod(np.array([2.0, np.nan, 3.0]))
      array(6.)
    """
    return _prod(_without_nan(a, 1)[0], axis, dtype, out, keepdims, initial, where)


def _valid_count(is_nan, axis, keepdims, dtype):
    valid = ew.convert_element_type(lg.logical_not(is_nan), dtype)
    return _sum(valid, axis, keepdims=keepdims)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    """The mean of the elements that are not NaN (NaN where there are none).

    Example:
      >>> nanmean(np.array([1.0, np.nan, 2.0]))
      array(1.5)
    """
    _no_out("nanmean", out)
    filled, is_nan = _without_nan(a, 0)
    if is_nan is None:
        return _mean(filled, axis, dtype, keepdims=keepdims, where=where)
    filled = ew.select(_where_mask(where, filled), filled, np.zeros((), dtype_of(filled)))
    is_nan = lg.logical_or(is_nan, lg.logical_not(_where_mask(where, filled)))
    total = _sum(filled, axis, dtype, keepdims=keepdims)
    return ew.div(total, _valid_count(is_nan, axis, keepdims, dtype_of(total)))


def _where_mask(where, a):
    return sh.broadcast_to(to_array(where), np.shape(a))


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None, correction=None):  # fmt: skip
    """The variance of the elements that are not NaN (``ddof``: the divisor is N - ddof).

    Example:
      >>> nanvar(np.array([1.0, np.nan, 3.0]))
      array(1.)
    """
    _no_out("nanvar", out)
    if correction is not None:
        ddof = correction
    filled, is_nan = _without_nan(a, 0)
    if is_nan is None:
        return _var(filled, axis, dtype, ddof=ddof, keepdims=keepdims, where=where)
    center = nanmean(a, axis, dtype, keepdims=True, where=where) if mean is None else mean
    deviations = ew.select(is_nan, np.zeros((), dtype_of(filled)), ew.sub(filled, center))
    valid = lg.logical_and(lg.logical_not(is_nan), _where_mask(where, filled))
    squares = ew.select(valid, ew.mul(deviations, deviations), np.zeros((), dtype_of(filled)))
    total = _sum(squares, axis, dtype, keepdims=keepdims)
    count = _valid_count(lg.logical_not(valid), axis, keepdims, dtype_of(total))
    degrees = ew.sub(count, np.asarray(ddof, dtype_of(total)))
    # No degrees of freedom left: NaN, as NumPy gives (with a warning).
    no_freedom = lg.less_equal(degrees, np.zeros((), dtype_of(total)))
    return ew.select(no_freedom, np.full((), np.nan, dtype_of(total)), ew.div(total, degrees))


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None, correction=None):  # fmt: skip
    """The standard deviation of the elements that are not NaN.

    Example:
      >>> nanstd(np.array([1.0, np.nan, 3.0]))
      array(1.)
    """
    return ew.sqrt(nanvar(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction))


def _nan_extremum(name, reduce, fill, a, axis, out, keepdims, initial, where):
    filled, is_nan = _without_nan(a, fill)
    result = reduce(filled, axis, out, keepdims, initial, where)
    if is_nan is None:
        return result
    # A slice of NaNs only is NaN, as in NumPy.
    all_nan = lg.equal(_valid_count(is_nan, axis, keepdims, _INDEX), np.zeros((), _INDEX))
    return ew.select(all_nan, np.full((), np.nan, dtype_of(result)), result)


def nanmax(a, axis=None, out=None, keepdims=False, initial=_NO_VALUE, where=True):
    """``max`` ignoring NaNs (NaN for a slice of NaNs only).

    Example:
      >>> nanmax(np.array([1.0, np.nan, 2.0]))
      array(2.)
    """
    return _nan_extremum("nanmax", _max, -np.inf, a, axis, out, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=_NO_VALUE, where=True):
    """``min`` ignoring NaNs (NaN for a slice of NaNs only).

    Example:
      >>> nanmin(np.array([1.0, np.nan, 2.0]))
      array(1.)
    """
    return _nan_extremum("nanmin", _min, np.inf, a, axis, out, keepdims, initial, where)


def nanargmax(a, axis=None, out=None, *, keepdims=False):
    """``argmax`` ignoring NaNs. No gradient.

    Example:
      >>> nanargmax(np.array([1.0, np.nan, 2.0]))
      array(2)
    """
    return _argmax(_without_nan(a, -np.inf)[0], axis, out, keepdims=keepdims)


def nanargmin(a, axis=None, out=None, *, keepdims=False):
    """``argmin`` ignoring NaNs. No gradient.

    Example:
      >>> nanargmin(np.array([1.0, np.nan, 0.5]))
      array(2)
    """
    return _argmin(_without_nan(a, np.inf)[0], axis, out, keepdims=keepdims)
