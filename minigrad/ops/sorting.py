"""Orderings: ``sort`` (differentiable), ``argsort`` and ``searchsorted`` (integer results
without derivatives).

Sorting values is a primitive of its own so that its value costs what NumPy's default
sort costs: a stable sort of floats is several times slower in NumPy, and the order a
stable sort gives to equal elements shows in the values only for signed zeros and NaNs
(``sort_impl`` checks for those). The permutation is computed only when a derivative
needs it: the tangent of a sort is the tangent gathered by the stable ``argsort``, so
tied elements pass derivatives on in their original order, as JAX's ``sort`` does.

Example:
    >>> import numpy as np
    >>> sort(np.array([3.0, 1.0, 2.0]), axis=0)
    array([1., 2., 3.])
    >>> argsort(np.array([3.0, 1.0, 2.0]), axis=0)
    array([1, 2, 0])
    >>> searchsorted(np.array([1.0, 2.0, 3.0]), np.array([2.0, 0.5]), side="left")
    array([1, 0])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, get_aval
from minigrad.ops import logic as lg
from minigrad.ops.elementwise import convert_element_type
from minigrad.ops.index import gather, scatter_add
from minigrad.ops.shape import _check_axes, batch_to_front, expand_dims, reduce_sum, reshape

__all__ = [
    "sort", "argsort", "partition", "argpartition", "searchsorted",
    "sort_p", "argsort_p", "partition_p", "argpartition_p", "searchsorted_p",
]  # fmt: skip

_INDEX = np.dtype(np.int64)


# ---------------------------------------------------------------------------------------
# When the order of equal elements matters. NumPy's default sorts (introsort, or SIMD
# sorts) are unstable and several times faster than its stable ones; they give a stable
# sort's result whenever no two elements compare equal yet differ.


def _ties_differ_in_bits(x) -> bool:
    """Whether some equal elements of ``x`` can be told apart: zeros of both signs, or
    NaNs (which sort last together) of different bit patterns."""
    if x.dtype.kind == "c":
        return _ties_differ_in_bits(x.real) or _ties_differ_in_bits(x.imag)
    if x.dtype.kind != "f" or x.size < 2:
        return False  # integers and booleans: equal means identical
    zeros = x == 0
    if zeros.any():
        signs = np.signbit(x[zeros])
        if signs.any() and not signs.all():
            return True
    nans = np.isnan(x)
    return bool(nans.any()) and np.unique(x[nans].view(np.dtype(f"u{x.dtype.itemsize}"))).size > 1


def _along_last_axis(x, order):
    """``take_along_axis(x, order, -1)`` by flat indexing (NumPy's is slow for n-D)."""
    if x.ndim == 1:
        return x[order]
    rows = np.arange(0, x.size, max(x.shape[-1], 1)).reshape((*x.shape[:-1], 1))
    return np.ascontiguousarray(x).reshape(-1)[order + rows]


def stable_argsort(x, axis):
    """NumPy's stable ``argsort``, found by the faster unstable one when nothing ties."""
    if x.dtype.kind in "fiu" and x.ndim and x.shape[axis] > 1:
        order = np.argsort(x, axis=axis)
        moved = np.moveaxis(x, axis, -1)
        ordered = _along_last_axis(moved, np.moveaxis(order, axis, -1))
        ties = (ordered[..., 1:] == ordered[..., :-1]).any()
        if x.dtype.kind == "f":
            ties = ties or np.isnan(ordered[..., -2]).any()  # NaNs sort last, equal to each other
        if not ties:
            return order
    return np.argsort(x, axis=axis, kind="stable")


# ---------------------------------------------------------------------------------------
# sort: values only; derivatives through the stable permutation.

sort_p = Primitive("sort")


@sort_p.def_impl
def sort_impl(x, *, axis):
    if _ties_differ_in_bits(x):
        return np.sort(x, axis=axis, kind="stable")  # -0.0 and 0.0 keep their order, as in JAX
    return np.sort(x, axis=axis)


@sort_p.def_shape_rule
def sort_shape_rule(x, *, axis):
    _check_axes("sort", x, (axis,))
    return x


def _index_along(order, axis):
    """The gather index ``(arrays, indexer)`` that reads positions ``order`` along ``axis``
    (NumPy's ``take_along_axis``)."""
    shape = get_aval(order).shape
    arrays = [
        order if i == axis else np.arange(size).reshape([size if j == i else 1 for j in range(len(shape))])
        for i, size in enumerate(shape)
    ]
    return arrays, tuple(("array", i) for i in range(len(shape)))


def sort_vjp(ct, ans, x, *, axis):
    # Each output position's cotangent goes back to where its element came from.
    arrays, indexer = _index_along(argsort(x, axis), axis)
    return scatter_add(ct, arrays, indexer, get_aval(x).shape)


sort_p.def_vjp(sort_vjp)


@sort_p.def_jvp
def sort_jvp(primals, tangents, ans, *, axis):
    return gather(tangents[0], *_index_along(argsort(primals[0], axis), axis))


def sort(x, axis: int):
    """``x`` sorted along ``axis`` (a non-negative int), NaNs last, as NumPy sorts."""
    return bind(sort_p, x, axis=int(axis))


@sort_p.def_batch
def sort_batch(args, dims, *, axis):
    (x,), (dim,) = args, dims
    return sort(x, axis if axis < dim else axis + 1), dim


sort_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# argsort

argsort_p = Primitive("argsort")


@argsort_p.def_impl
def argsort_impl(x, *, axis, descending):
    if not descending:
        return stable_argsort(x, axis).astype(_INDEX, copy=False)
    # Stable and descending: sort the reversed array, then undo the reversal, so that
    # equal elements keep their original order (as JAX's descending argsort does).
    size = x.shape[axis]
    reversed_order = stable_argsort(np.flip(x, axis), axis)
    return (size - 1 - np.flip(reversed_order, axis)).astype(_INDEX, copy=False)


@argsort_p.def_shape_rule
def argsort_shape_rule(x, *, axis, descending):
    _check_axes("argsort", x, (axis,))
    return ShapedArray(x.shape, _INDEX)


argsort_p.def_nondifferentiable()


def argsort(x, axis: int, descending: bool = False):
    """Positions that sort ``x`` along ``axis`` (a non-negative int); ties keep their order."""
    return bind(argsort_p, x, axis=int(axis), descending=bool(descending))


@argsort_p.def_batch
def argsort_batch(args, dims, *, axis, descending):
    (x,), (dim,) = args, dims
    return argsort(x, axis if axis < dim else axis + 1, descending), dim


argsort_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# partition: NumPy's introselect for the values; derivatives through a matching permutation.

partition_p = Primitive("partition")


@partition_p.def_impl
def partition_impl(x, *, kth, axis):
    return np.partition(x, kth, axis=axis)


@partition_p.def_shape_rule
def partition_shape_rule(x, *, kth, axis):
    _check_axes("partition", x, (axis,))
    return x


def _matching_order(x, ans, axis):
    """Where in ``x`` each element of ``ans`` (a rearrangement of ``x`` along ``axis``)
    came from: the k-th of equal elements of ``ans`` is matched with the k-th of ``x``."""
    smallest_first_in_x = argsort(x, axis)
    rank_in_ans = argsort(argsort(ans, axis), axis)  # the inverse permutation
    return gather(smallest_first_in_x, *_index_along(rank_in_ans, axis))


def partition_vjp(ct, ans, x, *, kth, axis):
    arrays, indexer = _index_along(_matching_order(x, ans, axis), axis)
    return scatter_add(ct, arrays, indexer, get_aval(x).shape)


partition_p.def_vjp(partition_vjp)


@partition_p.def_jvp
def partition_jvp(primals, tangents, ans, *, kth, axis):
    return gather(tangents[0], *_index_along(_matching_order(primals[0], ans, axis), axis))


def partition(x, kth: tuple, axis: int):
    """``x`` with the elements at positions ``kth`` (non-negative ints) along ``axis``
    where a sort would put them, smaller ones before and larger ones after."""
    return bind(partition_p, x, kth=tuple(int(k) for k in kth), axis=int(axis))


@partition_p.def_batch
def partition_batch(args, dims, *, kth, axis):
    (x,), (dim,) = args, dims
    return partition(x, kth, axis if axis < dim else axis + 1), dim


partition_p.def_lowering(lower_by_impl)


argpartition_p = Primitive("argpartition")


@argpartition_p.def_impl
def argpartition_impl(x, *, kth, axis):
    return np.argpartition(x, kth, axis=axis).astype(_INDEX, copy=False)


@argpartition_p.def_shape_rule
def argpartition_shape_rule(x, *, kth, axis):
    _check_axes("argpartition", x, (axis,))
    return ShapedArray(x.shape, _INDEX)


argpartition_p.def_nondifferentiable()


def argpartition(x, kth: tuple, axis: int):
    """Positions that partition ``x`` around the positions ``kth`` along ``axis``."""
    return bind(argpartition_p, x, kth=tuple(int(k) for k in kth), axis=int(axis))


@argpartition_p.def_batch
def argpartition_batch(args, dims, *, kth, axis):
    (x,), (dim,) = args, dims
    return argpartition(x, kth, axis if axis < dim else axis + 1), dim


argpartition_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# searchsorted

searchsorted_p = Primitive("searchsorted")


@searchsorted_p.def_impl
def searchsorted_impl(a, v, *, side):
    return np.asarray(np.searchsorted(a, v, side=side), _INDEX)


@searchsorted_p.def_shape_rule
def searchsorted_shape_rule(a, v, *, side):
    if a.ndim != 1:
        raise ValueError(f"searchsorted: the sorted array must be 1-D, got shape {a.shape}.")
    if a.dtype != v.dtype:
        raise TypeError(f"searchsorted: operands have different dtypes {a.dtype} and {v.dtype}.")
    return ShapedArray(v.shape, _INDEX)


searchsorted_p.def_nondifferentiable()


def searchsorted(a, v, side: str = "left"):
    """Where each element of ``v`` would go in the sorted 1-D ``a`` to keep it sorted."""
    return bind(searchsorted_p, a, v, side=side)


@searchsorted_p.def_batch
def searchsorted_batch(args, dims, *, side):
    (a, v), (a_dim, v_dim) = args, dims
    if a_dim is None:
        return searchsorted(a, v, side), v_dim  # one sorted array: a search per element
    # One sorted array per example: count the elements before each value instead.
    size = get_aval(a).shape[a_dim]
    a = batch_to_front(a, a_dim)
    v = batch_to_front(v, v_dim, size)
    v_rank = get_aval(v).ndim - 1
    rows = reshape(a, (size, *(1,) * v_rank, get_aval(a).shape[1]))
    values = expand_dims(v, (v_rank + 1,))
    before = lg.less(rows, values) if side == "left" else lg.less_equal(rows, values)
    return reduce_sum(convert_element_type(before, _INDEX), (v_rank + 1,)), 0


searchsorted_p.def_lowering(lower_by_impl)
