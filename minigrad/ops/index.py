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

import math

import numpy as np

from minigrad.core.ir import Eqn, ShapedArray, Var
from minigrad.core.lowering import FRESH, VIEW, Code, lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, get_aval
from minigrad.ops.elementwise import add_p
from minigrad.ops.shape import (
    batch_size,
    batch_to_front,
    concatenate_p,
    moveaxis,
    pad_batched_rank,
    transpose,
)

__all__ = ["gather", "scatter_add", "gather_p", "scatter_add_p", "numpy_index", "accumulate_at"]


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


def _single_axis_take(indexer):
    """The axis of ``x[:, ..., :, indices]`` (one index array, full slices elsewhere),
    which ``np.take`` reads faster than indexing does; otherwise ``None``."""
    axis = None
    for position, entry in enumerate(indexer):
        if entry[0] == "array" and axis is None:
            axis = position
        elif entry != _FULL_SLICE:
            return None
    return axis


@gather_p.def_impl
def gather_impl(x, *arrays, indexer):
    axis = _single_axis_take(indexer)
    if axis is not None:
        return np.take(x, arrays[0], axis=axis)
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


def accumulate_at(ufunc, out, index, updates) -> None:
    """``ufunc.at(out, index, updates)``: ``out`` combined in place with ``updates`` at
    ``index``, every update counting where indices repeat.

    NumPy's ``ufunc.at`` has a fast loop for one flat index into a flat array; index
    arrays that pick whole rows of a table (an embedding's gradient: ids into rows of
    32) take its general path, which dispatches per row: 265 us against 50 us for 1,024
    rows of 32 float32 measured. So when the index is integer arrays on the leading
    axes that pick rows, the rest whole, and ``out`` is contiguous, each updated
    element's flat position is computed and the flat call made instead. It combines the
    same values in the same order, so the result has the same bits. (Arrays indexing
    every axis pick single elements, which ``ufunc.at`` already handles well: computing
    positions cost more than it saved on 1,024 of them.)

    Example:
      >>> out = np.zeros((3, 2))
      >>> accumulate_at(np.add, out, (np.array([2, 0, 2]),), np.ones((3, 2)))
      >>> out
      array([[1., 1.],
             [0., 0.],
             [2., 2.]])
    """
    positions = _flat_positions(out, index, updates)
    if positions is None:
        ufunc.at(out, index, updates)
    else:
        ufunc.at(out.reshape(-1), positions, updates.reshape(-1))


def _flat_positions(out, index, updates):
    """The flat positions in ``out`` of the elements ``updates`` lands on, or None
    where the index is not integer arrays on leading axes (or the layouts do not fit)."""
    leading = 0
    while leading < len(index) and isinstance(index[leading], np.ndarray):
        leading += 1
    rest = index[leading:]
    whole = [isinstance(part, slice) and part == slice(None) for part in rest]
    if not leading or not out.flags.c_contiguous or not all(whole):
        return None
    arrays = index[:leading]
    rows = np.broadcast_shapes(*(a.shape for a in arrays))
    row_size = math.prod(out.shape[leading:])
    if (
        leading == out.ndim
        or updates.shape != (*rows, *out.shape[leading:])
        or not all(a.dtype.kind in "iu" for a in arrays)
    ):
        return None
    for axis, (array, size) in enumerate(zip(arrays, out.shape, strict=False)):
        # As NumPy indexing checks; "wrap" below then only turns negative indices around.
        if array.size and (array.min() < -size or array.max() >= size):
            bad = array.max() if array.max() >= size else array.min()
            raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {size}")
    row_positions = np.ravel_multi_index(arrays, out.shape[:leading], mode="wrap")
    return (row_positions.reshape(-1, 1) * row_size + np.arange(row_size)).reshape(-1)


@scatter_add_p.def_impl
def scatter_add_impl(updates, *arrays, indexer, shape):
    out = np.zeros(shape, updates.dtype)
    index = numpy_index(indexer, arrays)
    if arrays:
        accumulate_at(np.add, out, index, updates)  # repeated indices must accumulate
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


# ---------------------------------------------------------------------------------------
# Batching. NumPy's rules for integer-array ("advanced") indices decide where the batch
# axis can go: integers count as advanced once an array is present, and the advanced
# axes replace the indexed ones in place if the advanced entries are adjacent, or come
# first otherwise (a slice or newaxis between them breaks adjacency).

_FULL_SLICE = ("slice", None, None, None)


def _advanced_layout(indexer):
    """``(positions of advanced entries, adjacent?)``; no positions without arrays."""
    if not any(entry[0] == "array" for entry in indexer):
        return [], True
    positions = [i for i, entry in enumerate(indexer) if entry[0] in ("array", "int")]
    return positions, positions == list(range(positions[0], positions[-1] + 1))


def _leading_axis_position(indexer, arrays) -> int:
    """Where the axis of a leading full slice lands in ``x[:, *index]``: first, or just
    after the advanced axes when those move to the front."""
    _, adjacent = _advanced_layout(indexer)
    return 0 if adjacent else len(np.broadcast_shapes(*(get_aval(a).shape for a in arrays)))


def _batched_indices(arrays, array_dims):
    """Index arrays with their batch axis first, padded to one example rank."""
    rank = max((get_aval(a).ndim - (d is not None) for a, d in zip(arrays, array_dims)), default=0)
    moved = [
        a if d is None else pad_batched_rank(batch_to_front(a, d), rank) for a, d in zip(arrays, array_dims)
    ]
    return moved, rank


def _gather_with_batched_indices(x_batched_in_front, arrays, array_dims, indexer, size):
    """``(indexer, arrays, permutation)`` reading example b of ``x`` with index arrays b.

    A leading ``arange(size)`` index picks the example, so the advanced axes, now led by
    the batch axis, come first; ``permutation`` (or None) restores the example layout.
    """
    moved, rank = _batched_indices(arrays, array_dims)
    examples = np.arange(size).reshape((size,) + (1,) * rank)
    new_indexer = (("array", len(moved)), *indexer)
    positions, adjacent = _advanced_layout(indexer)
    # Output axes the example layout puts before its advanced axes.
    before = positions[0] if adjacent else 0
    permutation = None
    if before:
        out_rank = len(_indexed_shape_of(x_batched_in_front, [*moved, examples], new_indexer))
        advanced = range(1, rank + 1)
        leading = range(rank + 1, rank + 1 + before)
        permutation = (0, *leading, *advanced, *range(rank + 1 + before, out_rank))
    return new_indexer, [*moved, examples], permutation


def _indexed_shape_of(x, arrays, indexer):
    return _indexed_shape(get_aval(x), [get_aval(a) for a in arrays], indexer)


@gather_p.def_batch
def gather_batch(args, dims, *, indexer):
    x, arrays = args[0], list(args[1:])
    x_dim, array_dims = dims[0], list(dims[1:])
    size = batch_size(args, dims)
    positions, adjacent = _advanced_layout(indexer)
    if all(d is None for d in array_dims):
        # Only x is batched: a leading full slice keeps its batch axis, which lands in
        # front, or just after the advanced axes when those move first.
        out = gather(batch_to_front(x, x_dim), arrays, (_FULL_SLICE, *indexer))
        return out, _leading_axis_position(indexer, arrays)
    if x_dim is None:
        # Only index arrays are batched: their batch axis leads the advanced axes.
        moved, _ = _batched_indices(arrays, array_dims)
        return gather(x, moved, indexer), positions[0] if adjacent else 0
    new_indexer, new_arrays, permutation = _gather_with_batched_indices(
        batch_to_front(x, x_dim), arrays, array_dims, indexer, size
    )
    out = gather(batch_to_front(x, x_dim), new_arrays, new_indexer)
    return (out if permutation is None else transpose(out, permutation)), 0


@gather_p.def_lowering
def gather_lowering(ctx, x, *arrays, indexer):
    # NumPy indexing itself; basic indexing (slices, ints, new axes) returns a view.
    parts = []
    basic = True
    for entry in indexer:
        kind = entry[0]
        if kind == "slice":
            parts.append(ctx.constant(slice(entry[1], entry[2], entry[3]), "s"))
        elif kind == "int":
            parts.append(repr(int(entry[1])))
        elif kind == "newaxis":
            parts.append("None")
        else:
            parts.append(arrays[entry[1]])
            basic = False
    index = "(" + "".join(part + ", " for part in parts) + ")"
    return Code(f"{x}[{index}]", VIEW if basic else FRESH)


scatter_add_p.def_lowering(lower_by_impl)


@scatter_add_p.def_batch
def scatter_add_batch(args, dims, *, indexer, shape):
    updates, arrays = args[0], list(args[1:])
    updates_dim, array_dims = dims[0], list(dims[1:])
    size = batch_size(args, dims)
    full_shape = (size, *shape)
    if all(d is None for d in array_dims):
        # The transpose of gather's first case: updates carry the batch axis where that
        # gather would have put it.
        target = _leading_axis_position(indexer, arrays)
        updates = moveaxis(updates, updates_dim, target) if updates_dim != target else updates
        return scatter_add(updates, arrays, (_FULL_SLICE, *indexer), full_shape), 0
    # Batched indices scatter each example to its own place: the output is batched, and
    # so must the updates be.
    stand_in = np.broadcast_to(np.zeros((), get_aval(updates).dtype), full_shape)
    new_indexer, new_arrays, permutation = _gather_with_batched_indices(
        stand_in, arrays, array_dims, indexer, size
    )
    updates = batch_to_front(updates, updates_dim, size)
    if permutation is not None:
        updates = transpose(updates, tuple(np.argsort(permutation)))
    return scatter_add(updates, new_arrays, new_indexer, full_shape), 0


# ---------------------------------------------------------------------------------------
# A rewrite of add, declared here beside the scatter it removes: reverse mode of
# `x[..., :n]`, `x[..., n:2n]`, ... (a gated recurrent cell's gates, `split`) sums one
# zero-filled scatter per slice; when the slices tile an axis, the sum is the slices'
# cotangents side by side, one concatenate.


def _slice_placement(eqn, aval):
    """``(axis, start, stop, updates)`` if ``eqn`` scatters into one slice of one axis of
    zeros of type ``aval`` (full slices on every other axis), else None."""
    if eqn.primitive is not scatter_add_p or len(eqn.invars) != 1 or eqn.outvars[0].aval != aval:
        return None
    found = None
    for axis, entry in enumerate(eqn.params["indexer"]):
        if entry == _FULL_SLICE:
            continue
        if entry[0] != "slice" or entry[3] not in (None, 1) or found is not None:
            return None
        start, stop, _ = slice(entry[1], entry[2]).indices(aval.shape[axis])
        found = (axis, start, stop)
    return None if found is None else (*found, eqn.invars[0])


def _placed_pieces(atom, aval, producers, depth=0):
    """The slice placements whose sum ``atom`` is (through additions of its type), or None."""
    eqn = producers.get(atom) if type(atom) is Var else None
    if eqn is None or depth > 64:
        return None
    placement = _slice_placement(eqn, aval)
    if placement is not None:
        return [placement]
    if eqn.primitive is not add_p or eqn.outvars[0].aval != aval:
        return None
    pieces = []
    for operand in eqn.invars:
        more = _placed_pieces(operand, aval, producers, depth + 1)
        if more is None:
            return None
        pieces += more
    return pieces


@add_p.def_simplification
def sum_of_tiling_slices(eqn, producers):
    """``scatter(a, [:, 0:n]) + scatter(b, [:, n:m]) + ...`` tiling the axis is
    ``concatenate([a, b, ...])``: no zero-filled arrays, no additions."""
    aval = eqn.outvars[0].aval
    pieces = []
    for operand in eqn.invars:
        more = _placed_pieces(operand, aval, producers)
        if more is None:
            return None
        pieces += more
    axes = {axis for axis, *_ in pieces}
    if len(axes) != 1:
        return None
    (axis,) = axes
    pieces.sort(key=lambda piece: piece[1])
    edges = [0, *(edge for _, start, stop, _ in pieces for edge in (start, stop)), aval.shape[axis]]
    if any(a != b for a, b in zip(edges[::2], edges[1::2], strict=True)):  # gaps or overlaps
        return None
    out = eqn.outvars[0]
    return [Eqn(concatenate_p, [piece[3] for piece in pieces], [out], {"axis": axis}, eqn.source)], out
