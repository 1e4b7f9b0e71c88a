"""Running totals and differences: ``cumsum``, ``cumprod`` (and their NaN-ignoring and
Array API forms), ``diff``, ``ediff1d`` and ``gradient``.

Running totals take NumPy's dtypes: booleans and small integers accumulate as int64.
Differences are slices subtracted, so their derivatives come from ``slice``'s rules.

Example:
    >>> import numpy as np
    >>> cumsum(np.array([[1, 2], [3, 4]]), axis=1)
    array([[1, 3],
           [3, 7]])
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.numpy._promotion import dtype_of, normalize_axis, promote_to_inexact, to_array
from minigrad.numpy._reductions import _no_out, _summed_operand
from minigrad.numpy._shape import concatenate, ravel
from minigrad.ops import cumulative as cu
from minigrad.ops import elementwise as ew
from minigrad.ops import logic as lg
from minigrad.ops import shape as sh

__all__ = [
    "cumsum", "cumprod", "cumulative_sum", "cumulative_prod", "nancumsum", "nancumprod",
    "diff", "ediff1d", "gradient",
]  # fmt: skip


def _accumulated(name, a, axis, dtype):
    """``(operand in its accumulation dtype, axis)``; ``axis=None`` flattens first."""
    a = _summed_operand(a, dtype)
    if axis is None:
        return ravel(a), 0
    return a, normalize_axis(name, axis, a.ndim)


def cumsum(a, axis=None, dtype=None, out=None):
    """Running sums along ``axis`` (of the flattened array when None).

    Example:
      >>> cumsum(np.array([1.0, 2.0, 3.0]))
      array([1., 3., 6.])
    """
    _no_out("cumsum", out)
    a, axis = _accumulated("cumsum", a, axis, dtype)
    return cu.cumsum(a, axis)


def cumprod(a, axis=None, dtype=None, out=None):
    """Running products along ``axis``; the gradient is right where elements are zero.

    Example:
      >>> cumprod(np.array([2.0, 0.0, 3.0]))
      array([2., 0., 0.])
    """
    _no_out("cumprod", out)
    a, axis = _accumulated("cumprod", a, axis, dtype)
    return cu.cumprod(a, axis)


def _with_initial(running, axis, include_initial, identity):
    if not include_initial:
        return running
    shape = list(np.shape(running))
    shape[axis] = 1
    return sh.concatenate([np.full(shape, identity, dtype_of(running)), running], axis)


def _array_api_axis(name, a, axis):
    a = to_array(a)
    if axis is None:
        if a.ndim > 1:
            raise ValueError(f"{name}: give axis= for an array of shape {a.shape} (more than one dimension).")
        return a, 0 if a.ndim else None
    return a, axis


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """The Array API's running sum: ``axis`` is needed beyond 1-D, and
    ``include_initial`` puts a leading zero in.

    Example:
      >>> cumulative_sum(np.array([1, 2, 3]), include_initial=True)
      array([0, 1, 3, 6])
    """
    x, axis = _array_api_axis("cumulative_sum", x, axis)
    running = cumsum(x, axis, dtype)
    return _with_initial(running, axis if axis is not None else 0, include_initial, 0)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """The Array API's running product (``include_initial`` puts a leading one in).

    Example:
      >>> cumulative_prod(np.array([1.0, 2.0, 3.0]))
      array([1., 2., 6.])
    """
    x, axis = _array_api_axis("cumulative_prod", x, axis)
    running = cumprod(x, axis, dtype)
    return _with_initial(running, axis if axis is not None else 0, include_initial, 1)


def _nan_replaced(a, fill):
    a = to_array(a)
    if dtype_of(a).kind not in "fc":
        return a
    return ew.select(lg.not_equal(a, a), np.asarray(fill, dtype_of(a)), a)


def nancumsum(a, axis=None, dtype=None, out=None):
    """``cumsum`` with NaNs counted as zero.

    Example:
      >>> nancumsum(np.array([1.0, np.nan, 2.0]))
      array([1., 1., 3.])
    """
    return cumsum(_nan_replaced(a, 0), axis, dtype, out)


def nancumprod(a, axis=None, dtype=None, out=None):
    """``cumprod`` with NaNs counted as one.

    Example:
      >>> nancumprod(np.array([2.0, np.nan, 3.0]))
      array([2., 2., 6.])
    """
    return cumprod(_nan_replaced(a, 1), axis, dtype, out)


def _difference(a):
    """``a[1:] - a[:-1]`` along the last axis; booleans differ by "not equal", as NumPy."""
    last = a.ndim - 1
    n = a.shape[last]
    upper, lower = sh.slice_axis(a, last, 1, n), sh.slice_axis(a, last, 0, max(n - 1, 0))
    if dtype_of(a) == np.bool_:
        return lg.not_equal(upper, lower)
    return ew.sub(upper, lower)


def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    """The ``n``-th discrete difference along ``axis`` (``prepend``/``append`` join first).

    Example:
      >>> diff(np.array([1.0, 4.0, 9.0, 16.0]), n=2)
      array([2., 2.])
    """
    a = to_array(a)
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}.")
    if a.ndim == 0:
        raise ValueError("diff: needs an array of at least one dimension, got a 0-d array.")
    axis = normalize_axis("diff", axis, a.ndim)
    pieces = [a]
    for value, at_end in ((prepend, False), (append, True)):
        if value is not np._NoValue:
            value = to_array(value)
            if value.ndim == 0:
                shape = list(a.shape)
                shape[axis] = 1
                value = sh.broadcast_to(value, shape)
            pieces = [*pieces, value] if at_end else [value, *pieces]
    if len(pieces) > 1:
        a = concatenate(pieces, axis=axis)
    if n == 0:
        return a
    moved = sh.moveaxis(a, axis, a.ndim - 1)
    for _ in range(n):
        moved = _difference(moved)
    return sh.moveaxis(moved, a.ndim - 1, axis)


def ediff1d(ary, to_end=None, to_begin=None):
    """Differences of the flattened array, with ``to_begin``/``to_end`` put around them.

    Example:
      >>> ediff1d(np.array([1.0, 2.0, 4.0]), to_begin=0.0)
      array([0., 1., 2.])
    """
    differences = diff(ravel(ary))
    pieces = [differences]
    if to_begin is not None:
        pieces.insert(0, ravel(to_array(to_begin, dtype_of(differences))))
    if to_end is not None:
        pieces.append(ravel(to_array(to_end, dtype_of(differences))))
    return sh.concatenate(pieces, 0) if len(pieces) > 1 else differences


def _gradient_along(f, axis, spacing, edge_order):
    """Second-order central differences inside, one-sided ones at the two ends."""
    n = f.shape[axis]
    if n < edge_order + 1:
        raise ValueError(
            f"gradient: an axis of length {n} (shape {f.shape}) needs at least {edge_order + 1} "
            f"points for edge_order={edge_order}."
        )

    def part(start, stop):
        return sh.slice_axis(f, axis, start, stop)

    def at(i):
        return part(i % n, i % n + 1)

    def scaled(x, factor):
        return ew.mul(x, np.asarray(factor, dtype_of(f)))

    interior = scaled(ew.sub(part(2, n), part(0, n - 2)), 1 / (2 * spacing))
    if edge_order == 1:
        first = scaled(ew.sub(at(1), at(0)), 1 / spacing)
        last = scaled(ew.sub(at(-1), at(-2)), 1 / spacing)
    else:
        first = scaled(
            ew.add(ew.add(scaled(at(0), -1.5), scaled(at(1), 2.0)), scaled(at(2), -0.5)), 1 / spacing
        )
        last = scaled(
            ew.add(ew.add(scaled(at(-3), 0.5), scaled(at(-2), -2.0)), scaled(at(-1), 1.5)), 1 / spacing
        )
    return sh.concatenate([first, interior, last], axis)


def gradient(f, *varargs, axis=None, edge_order=1):
    """The gradient of values sampled on an evenly spaced grid (scalar spacings), by
    central differences inside and one-sided ones at the ends; one array per axis
    (a single array for one axis).

    Example:
      >>> gradient(np.array([1.0, 4.0, 9.0, 16.0]))
      array([3., 4., 6., 7.])
    """
    (f,) = promote_to_inexact("gradient", f)
    axes = list(range(f.ndim)) if axis is None else [axis] if np.ndim(axis) == 0 else list(axis)
    axes = [normalize_axis("gradient", a, f.ndim) for a in axes]
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order}.")
    spacings = list(varargs) if len(varargs) != 1 else list(varargs) * len(axes)
    if not spacings:
        spacings = [1.0] * len(axes)
    if len(spacings) != len(axes) or any(np.ndim(s) != 0 for s in spacings):
        raise TypeError(
            f"gradient: give one scalar spacing, or one per axis ({len(axes)}); got {varargs!r}. "
            "Coordinate arrays are not supported: divide by the grid's spacing instead."
        )
    results = [_gradient_along(f, a, float(s), edge_order) for a, s in zip(axes, spacings, strict=True)]
    return results[0] if len(results) == 1 else tuple(results)
