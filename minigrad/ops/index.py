"""Indexing: ``gather`` reads ``x[index]``; ``scatter_add`` is its transpose.

An index is normalised (by ``minigrad.numpy``) into a hashable tuple of entries:

- ``("slice", start, stop, step)`` for a slice,
- ``("int", i)`` for a fixed integer,
- ``("newaxis",)`` for ``None``,
- ``("array", k)`` for the k-th integer-array operand, which is passed to the primitive
  as an input so it may itself be traced (under ``jit`` or ``vmap``).

The VJP of ``gather`` adds the cotangent into zeros at the indexed places (``np.add.at``,
so repeated indices accumulate); the VJP of ``scatter_add`` gathers.

Example:
    >>> import numpy as np
    >>> gather(np.arange(5.0), [np.array([0, 0, 3])], (("array", 0),))
    array([0., 0., 3.])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, get_aval

__all__ = ["gather", "scatter_add", "gather_p", "scatter_add_p", "numpy_index"]


def numpy_index(indexer, arrays) -> tuple:
    """The NumPy index tuple that an indexer and its array operands describe."""
    index = []
    for entry in indexer:
        kind = entry[0]
        if kind == "slice":
            index.append(slice(entry[1], entry[2], entry[3]))
        elif kind == "int":
            index.append(entry[1])
        elif kind == "newaxis":
            index.append(None)
        else:
            index.append(arrays[entry[1]])
    return tuple(index)


def _indexed_shape(x: ShapedArray, arrays, indexer):
    """The shape of ``x[index]``, found by indexing a zero-strided stand-in for ``x``."""
    for array in arrays:
        if array.dtype.kind not in "iu":
            raise TypeError(f"index: index arrays must be integers, got {array.dtype}.")
    stand_in = np.broadcast_to(np.zeros((), np.int8), x.shape)
    index_stand_ins = [np.zeros(a.shape, np.intp) for a in arrays]
    try:
        return stand_in[numpy_index(indexer, index_stand_ins)].shape
    except IndexError as error:
        raise IndexError(f"index: {error} (indexing an array of shape {x.shape}).") from None


gather_p = Primitive("gather")


@gather_p.def_impl
def gather_impl(x, *arrays, indexer):
    return x[numpy_index(indexer, arrays)]


@gather_p.def_shape_rule
def gather_shape_rule(x, *arrays, indexer):
    return ShapedArray(_indexed_shape(x, arrays, indexer), x.dtype)


@gather_p.def_vjp_argnum
def gather_vjp(argnum, ct, ans, x, *arrays, indexer):
    if argnum != 0:
        return None  # index arrays have no gradient
    return scatter_add(ct, arrays, indexer, get_aval(x).shape)


@gather_p.def_jvp
def gather_jvp(primals, tangents, ans, *, indexer):
    return gather(tangents[0], primals[1:], indexer)


def gather(x, arrays, indexer):
    """``x[index]`` for a normalised ``indexer`` and its integer-array operands."""
    return bind(gather_p, x, *arrays, indexer=tuple(indexer))


scatter_add_p = Primitive("scatter_add")


@scatter_add_p.def_impl
def scatter_add_impl(updates, *arrays, indexer, shape):
    out = np.zeros(shape, updates.dtype)
    index = numpy_index(indexer, arrays)
    if arrays:
        np.add.at(out, index, updates)  # repeated indices must accumulate
    else:
        out[index] = updates  # basic indexing never repeats an element
    return out


@scatter_add_p.def_shape_rule
def scatter_add_shape_rule(updates, *arrays, indexer, shape):
    expected = _indexed_shape(ShapedArray(shape, updates.dtype), arrays, indexer)
    if tuple(updates.shape) != tuple(expected):
        raise ValueError(
            f"scatter_add: updates of shape {updates.shape} do not fit the indexed shape "
            f"{expected} of an array of shape {shape}."
        )
    return ShapedArray(shape, updates.dtype)


@scatter_add_p.def_vjp_argnum
def scatter_add_vjp(argnum, ct, ans, updates, *arrays, indexer, shape):
    if argnum != 0:
        return None
    return gather(ct, arrays, indexer)


@scatter_add_p.def_jvp
def scatter_add_jvp(primals, tangents, ans, *, indexer, shape):
    return scatter_add(tangents[0], primals[1:], indexer, shape)


def scatter_add(updates, arrays, indexer, shape):
    """Zeros of ``shape`` with ``updates`` added at ``index`` (the transpose of gather)."""
    return bind(scatter_add_p, updates, *arrays, indexer=tuple(indexer), shape=tuple(shape))
