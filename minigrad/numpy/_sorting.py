"""Sorting and searching: ``sort`` (differentiable), ``argsort``, ``partition``,
``argpartition``, ``lexsort``, ``searchsorted``, ``digitize`` and ``take_along_axis``.

Sorts follow JAX's ``sort`` (NaNs last, as in NumPy): the values are those of a stable
sort, and the gradient flows back to where each element came from, tied elements
taking their derivatives in their original order. ``descending=True`` reverses the
ascending sort, as JAX's does (so ties come out in reverse order there).

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> mg.grad(lambda x: sort(x)[0])(np.array([3.0, 1.0, 2.0]))
    array([0., 1., 0.])
    >>> mg.grad(lambda x: sort(x)[0])(np.array([1.0, 1.0]))  # ties: the first goes first
    array([1., 0.])
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._creation import astype
from minigrad.numpy._indexing import getitem
from minigrad.numpy._promotion import dtype_of, normalize_axis, promote, to_array
from minigrad.numpy._shape import flip, ravel, take
from minigrad.ops import sorting as so

__all__ = [
    "sort", "argsort", "partition", "argpartition", "lexsort", "searchsorted", "digitize",
    "take_along_axis", "sort_complex",
]  # fmt: skip


def take_along_axis(arr, indices, axis=-1, mode=None, fill_value=None):
    """Elements of ``arr`` at ``indices`` along ``axis``, matched with the positions of the
    other axes (broadcast against each other), as ``argsort``'s result indexes.

    Example:
      >>> a = np.array([[3.0, 1.0], [0.0, 2.0]])
      >>> take_along_axis(a, np.array([[1], [0]]), axis=1)
      array([[1.],
             [0.]])
    """
    arr, indices = to_array(arr), to_array(indices)
    if dtype_of(indices).kind not in "iu":
        raise TypeError(f"take_along_axis: indices must be integers, got {dtype_of(indices)}.")
    if axis is None:
        arr, axis = ravel(arr), 0
        if indices.ndim != 1:
            raise ValueError(
                f"take_along_axis: with axis=None the indices must be 1-D, got shape {indices.shape}."
            )
    if arr.ndim != indices.ndim:
        raise ValueError(
            f"take_along_axis: indices of shape {indices.shape} need as many dimensions as the "
            f"array of shape {arr.shape}."
        )
    axis = normalize_axis("take_along_axis", axis, arr.ndim)
    index = []
    for i, size in enumerate(arr.shape):
        if i == axis:
            index.append(indices)
        else:
            grid_shape = [1] * arr.ndim
            grid_shape[i] = size
            index.append(np.arange(size).reshape(grid_shape))
    return getitem(arr, tuple(index))


def _sort_axis(name, a, axis):
    a = to_array(a)
    if axis is None:
        return ravel(a), 0
    if a.ndim == 0:
        raise ValueError(f"{name}: a 0-d array has no axis to sort; use axis=None.")
    return a, normalize_axis(name, axis, a.ndim)


def _no_order(name, order):
    if order is not None:
        raise TypeError(f"{name}: order= sorts structured arrays, which minigrad does not have.")


def argsort(a, axis=-1, kind=None, order=None, *, stable=True, descending=False):
    """Positions that sort ``a`` along ``axis`` (``None``: flattened). Always stable
    (``kind`` and ``stable`` are accepted for NumPy's and JAX's signatures);
    ``descending`` as in JAX (equal elements keep their order). No gradient.

    Example:
      >>> argsort(np.array([2.0, 1.0, 2.0]), descending=True)
      array([0, 2, 1])
    """
    _no_order("argsort", order)
    a, axis = _sort_axis("argsort", a, axis)
    return so.argsort(a, axis, descending)


def sort(a, axis=-1, kind=None, order=None, *, stable=True, descending=False):
    """``a`` sorted along ``axis`` (``None``: flattened); the gradient flows to the
    positions each element came from (tied elements in their original order).

    Example:
      >>> sort(np.array([[3, 1], [0, 2]]), axis=0)
      array([[0, 1],
             [3, 2]])
      >>> sort(np.array([1.0, np.nan, -2.0]), descending=True)
      array([nan,  1., -2.])
    """
    _no_order("sort", order)
    a, axis = _sort_axis("sort", a, axis)
    ascending = so.sort(a, axis)
    return flip(ascending, axis) if descending else ascending


def sort_complex(a):
    """``a`` sorted along its last axis, by real part and then imaginary part, as a
    complex array (NumPy's dtype: ``complex64`` for 8- and 16-bit integers, else
    ``complex128``, complex arrays as they are). Differentiable as ``sort``.

    Example:
      >>> sort_complex(np.array([1 + 2j, 1 - 1j, -3 + 0j]))
      array([-3.+0.j,  1.-1.j,  1.+2.j])
    """
    a = to_array(a)
    ordered = sort(a, axis=-1) if a.ndim else a
    dtype = dtype_of(a)
    if dtype.kind == "c":
        return ordered
    target = np.complex64 if dtype.char in "bhBH" else np.complex128
    return astype(ordered, target)


def _checked_kth(name, a, kth, axis):
    """``kth`` as a tuple of non-negative positions along ``axis``, checked as NumPy does."""
    n = np.shape(a)[axis]
    positions = []
    for k in np.atleast_1d(kth):
        k = operator.index(k)
        if not -n <= k < n:
            raise ValueError(f"{name}: kth={k} is out of bounds for an axis of length {n}.")
        positions.append(k % n)
    return tuple(positions)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """``a`` rearranged so the ``kth`` element is where a sort puts it, smaller ones before
    and larger after (in no particular order, as in NumPy). The gradient flows to where
    each element came from.

    Example:
      >>> partition(np.array([3.0, 1.0, 2.0]), 1)[1]
      np.float64(2.0)
    """
    _no_order("partition", order)
    a, axis = _sort_axis("partition", a, axis)
    return so.partition(a, _checked_kth("partition", a, kth, axis), axis)


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """Positions that partition ``a`` around its ``kth`` element, as NumPy's. No gradient.

    Example:
      >>> argpartition(np.array([3.0, 1.0, 2.0]), 0)[0]
      np.int64(1)
    """
    _no_order("argpartition", order)
    a, axis = _sort_axis("argpartition", a, axis)
    return so.argpartition(a, _checked_kth("argpartition", a, kth, axis), axis)


def lexsort(keys, axis=-1):
    """Positions that sort by several keys, the last key first (stable sorts, one per key).

    Example:
      >>> lexsort((np.array([1, 0, 1]), np.array([0, 0, 1])))
      array([1, 0, 2])
    """
    keys = list(keys) if not isinstance(keys, (np.ndarray, Tracer)) else [keys[i] for i in range(len(keys))]
    if not keys:
        raise TypeError("lexsort: need at least one key.")
    keys = [to_array(k) for k in keys]
    if len({k.shape for k in keys}) > 1:
        raise ValueError(f"lexsort: all keys need one shape, got {[k.shape for k in keys]}.")
    axis = normalize_axis("lexsort", axis, keys[0].ndim)
    order = so.argsort(keys[0], axis)
    for key in keys[1:]:
        # Sort by the next key, stably, keeping the order the earlier keys gave to ties.
        within = so.argsort(take_along_axis(key, order, axis), axis)
        order = take_along_axis(order, within, axis)
    return order


def searchsorted(a, v, side="left", sorter=None, *, method=None):
    """Where each ``v`` would go in the sorted 1-D ``a`` (``side``: before or after equal
    elements; ``sorter``: the positions that sort ``a``). No gradient.

    Example:
      >>> searchsorted(np.array([1.0, 2.0, 3.0]), [2.0, 2.5], side="right")
      array([2, 2])
    """
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}.")
    a, v = to_array(a), to_array(v)
    if a.ndim != 1:
        raise ValueError(f"searchsorted: the sorted array must be 1-D, got shape {a.shape}.")
    if sorter is not None:
        a = take(a, sorter)
    a, v = promote("searchsorted", a, v)
    return so.searchsorted(a, v, side)


def _increasing(bins):
    """Whether concrete ``bins`` increase (NumPy's check); traced bins are taken to."""
    if isinstance(bins, Tracer):
        return True
    steps = np.diff(bins)
    if np.all(steps >= 0):
        return True
    if np.all(steps <= 0):
        return False
    raise ValueError("digitize: bins must be monotonically increasing or decreasing.")


def digitize(x, bins, right=False):
    """The index of the bin each ``x`` falls in (NumPy's conventions for ``right`` and for
    decreasing bins). No gradient.

    Example:
      >>> digitize(np.array([0.5, 1.0, 2.5]), np.array([1.0, 2.0]))
      array([0, 1, 2])
    """
    bins = to_array(bins)
    if bins.ndim != 1:
        raise ValueError(f"digitize: bins must be 1-D, got shape {bins.shape}.")
    side = "left" if right else "right"
    if _increasing(bins):
        return searchsorted(bins, x, side)
    found = searchsorted(getitem(bins, slice(None, None, -1)), x, side)
    return bins.shape[0] - found
