"""Histograms: ``histogram``, ``histogram2d``, ``histogramdd`` and ``histogram_bin_edges``.

The number of bins is known (an int, or the edges themselves), so every shape is fixed
and the functions trace. Each sample's bin comes from ``searchsorted`` (no gradient);
the counts are a ``scatter_add`` of the weights, so they are differentiable in the
weights, and, with ``density``, in the edges (which follow a traced ``range`` or, for an
int ``bins`` without one, the samples' minimum and maximum, as in JAX).

Example:
    >>> import numpy as np
    >>> histogram(np.array([0.1, 0.4, 0.5, 0.9]), bins=2, range=(0.0, 1.0))
    (array([2, 2]), array([0. , 0.5, 1. ]))
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._creation import linspace
from minigrad.numpy._cumulative import diff
from minigrad.numpy._data_dependent import _concrete
from minigrad.numpy._math import equal, greater, less, logical_or, where
from minigrad.numpy._promotion import dtype_of, promote_to_inexact, to_array
from minigrad.numpy._reductions import max as _max
from minigrad.numpy._reductions import min as _min
from minigrad.numpy._reductions import sum as _sum
from minigrad.numpy._shape import ravel, reshape
from minigrad.numpy._sorting import searchsorted
from minigrad.ops import index as ix
from minigrad.ops import shape as sh

__all__ = ["histogram", "histogram_bin_edges", "histogram2d", "histogramdd"]


def _edges(name, samples, bins, value_range):
    """The bin edges along one dimension: given, or ``bins`` equal bins over the range."""
    if isinstance(bins, str):
        values = _concrete(samples, name, f"Pass the number of bins or their edges instead of bins={bins!r}.")
        rng = None if value_range is None else tuple(np.asarray(r, float) for r in value_range)
        return np.histogram_bin_edges(values, bins, rng)
    if np.ndim(bins) == 1:
        edges = to_array(bins)
        if not isinstance(edges, Tracer) and np.any(np.diff(edges) < 0):
            raise ValueError(f"{name}: the bin edges must increase, got {edges}.")
        return edges
    bins = operator.index(bins)
    if bins < 1:
        raise ValueError(f"{name}: the number of bins must be positive, got {bins}.")
    if value_range is None:
        if samples.shape[0] == 0:
            low, high = 0.0, 1.0
        else:
            low, high = _min(samples), _max(samples)
    else:
        low, high = value_range
        if not isinstance(low, Tracer) and not isinstance(high, Tracer) and low > high:
            raise ValueError(f"{name}: the range's low end must not exceed its high end, got {value_range}.")
    (low, high) = promote_to_inexact(name, low, high)
    # An empty range is widened by one half on each side, as NumPy does.
    same = equal(low, high)
    low, high = where(same, low - 0.5, low), where(same, high + 0.5, high)
    return linspace(low, high, bins + 1)


def _bin_of(samples, edges):
    """Each sample's bin, the last bin closed on the right; -1 outside the edges."""
    count = edges.shape[0] - 1
    index = searchsorted(edges, samples, side="right") - 1
    last = reshape(sh.slice_axis(edges, 0, count, count + 1), ())
    first = reshape(sh.slice_axis(edges, 0, 0, 1), ())
    index = where(equal(samples, last), count - 1, index)
    outside = logical_or(less(samples, first), greater(samples, last))
    return where(outside, -1, index), outside


def _counted(name, columns, bins, value_range, weights, density):
    """The histogram of the samples whose coordinates are ``columns``, and its edges."""
    n_dims = len(columns)
    bins_each = list(bins) if isinstance(bins, (list, tuple)) and len(bins) == n_dims else [bins] * n_dims
    ranges = [None] * n_dims if value_range is None else list(value_range)
    if len(ranges) != n_dims:
        raise ValueError(f"{name}: give one range per dimension ({n_dims}), got {len(ranges)}.")
    edges = [_edges(name, c, b, r) for c, b, r in zip(columns, bins_each, ranges, strict=True)]
    sizes = [e.shape[0] - 1 for e in edges]
    flat_bin = 0
    dropped = False
    for column, edge, size in zip(columns, edges, sizes, strict=True):
        index, outside = _bin_of(column, edge)
        flat_bin = flat_bin * size + where(outside, 0, index)
        dropped = logical_or(dropped, outside)
    n = columns[0].shape[0]
    if weights is None:
        updates = where(dropped, 0, np.ones(n, np.int64))
    else:
        weights = ravel(to_array(weights))
        if weights.shape[0] != n:
            raise ValueError(f"{name}: {weights.shape[0]} weights for {n} samples.")
        updates = where(dropped, 0, weights)
    total = int(np.prod(sizes))
    counts = ix.scatter_add(updates, [to_array(flat_bin, np.dtype(np.int64))], (("array", 0),), (total,))
    counts = reshape(counts, tuple(sizes))
    if density:
        (counts,) = promote_to_inexact(name, counts)
        volume = 1.0
        for axis, edge in enumerate(edges):
            shape = [1] * n_dims
            shape[axis] = sizes[axis]
            volume = volume * reshape(diff(edge), shape)
        counts = counts / _sum(counts) / volume
    return counts, edges


def _columns(sample):
    return [sh.squeeze(sh.slice_axis(sample, 1, d, d + 1), (1,)) for d in range(sample.shape[1])]


def histogram(a, bins=10, range=None, weights=None, density=None):  # noqa: A002 - NumPy's name
    """The counts (or summed ``weights``) of the flattened ``a`` in ``bins`` (a number of
    equal bins over ``range``, or the edges), and the edges; the last bin includes its
    right edge. ``density`` divides by the total and the bin widths.

    Example:
      >>> histogram(np.array([1.0, 2.0, 2.0, 4.0]), bins=[0.0, 2.0, 4.0])
      (array([1, 3]), array([0., 2., 4.]))
    """
    (a,) = promote_to_inexact("histogram", ravel(a))
    counts, (edges,) = _counted("histogram", [a], bins, None if range is None else [range], weights, density)
    return counts, edges


def histogram_bin_edges(a, bins=10, range=None, weights=None):  # noqa: A002 - NumPy's name
    """The edges ``histogram`` would use (NumPy's named rules such as ``"auto"`` need
    known values).

    Example:
      >>> histogram_bin_edges(np.array([0.0, 1.0]), bins=2)
      array([0. , 0.5, 1. ])
    """
    (a,) = promote_to_inexact("histogram_bin_edges", ravel(a))
    return _edges("histogram_bin_edges", a, bins, range)


def histogramdd(sample, bins=10, range=None, weights=None, density=None):  # noqa: A002 - NumPy's name
    """The multidimensional histogram of ``sample`` (``N`` points of ``D`` coordinates):
    the counts, of shape one length per dimension, and a list of the edges.

    Example:
      >>> counts, edges = histogramdd(np.array([[0.0, 0.0], [1.0, 1.0]]), bins=2)
      >>> counts
      array([[1., 0.],
             [0., 1.]])
    """
    sample = to_array(sample)
    if sample.ndim == 1:
        sample = reshape(sample, (-1, 1))
    if sample.ndim != 2:
        raise ValueError(f"histogramdd: sample must be N points of D coordinates, got shape {sample.shape}.")
    (sample,) = promote_to_inexact("histogramdd", sample)
    counts, edges = _counted("histogramdd", _columns(sample), bins, range, weights, density)
    # NumPy's histogramdd counts in floating point.
    return (to_array(counts, np.dtype(np.float64)) if dtype_of(counts).kind in "iu" else counts), edges


def histogram2d(x, y, bins=10, range=None, weights=None, density=None):  # noqa: A002 - NumPy's name
    """The two-dimensional histogram of the points ``(x, y)``: counts, x edges, y edges.

    Example:
      >>> counts, xedges, yedges = histogram2d(np.array([0.0, 1.0]), np.array([1.0, 1.0]), bins=2)
      >>> counts
      array([[0., 1.],
             [0., 1.]])
    """
    x, y = promote_to_inexact("histogram2d", ravel(x), ravel(y))
    if x.shape != y.shape:
        raise ValueError(f"histogram2d: x and y must have one length, got {x.shape[0]} and {y.shape[0]}.")
    if np.ndim(bins) == 1 and len(bins) != 2:
        bins = [bins, bins]  # one array of edges for both dimensions
    sample = sh.concatenate([reshape(x, (-1, 1)), reshape(y, (-1, 1))], 1)
    counts, (x_edges, y_edges) = histogramdd(sample, bins, range, weights, density)
    return counts, x_edges, y_edges
