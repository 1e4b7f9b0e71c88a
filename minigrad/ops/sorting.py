"""Orderings: ``argsort`` and ``searchsorted``, integer results without derivatives.

Sorting values is not a primitive of its own: ``minigrad.numpy`` gathers the elements at
the positions ``argsort`` gives, so the gradient of a sort flows back to the permuted
positions through ``gather``'s rules, to every order.

Example:
    >>> import numpy as np
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
from minigrad.ops.shape import _check_axes, batch_to_front, expand_dims, reduce_sum, reshape

__all__ = ["argsort", "searchsorted", "argsort_p", "searchsorted_p"]

_INDEX = np.dtype(np.int64)

argsort_p = Primitive("argsort")


@argsort_p.def_impl
def argsort_impl(x, *, axis, descending):
    if not descending:
        return np.argsort(x, axis=axis, kind="stable").astype(_INDEX, copy=False)
    # Stable and descending: sort the reversed array, then undo the reversal, so that
    # equal elements keep their original order (as JAX's descending sort does).
    size = x.shape[axis]
    reversed_order = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
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
