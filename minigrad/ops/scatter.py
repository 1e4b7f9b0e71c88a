"""Indexed updates: ``scatter`` writes values into a copy of an array at an index.

``scatter(x, updates, arrays, indexer, mode)`` is ``x`` with ``x[index]`` combined with
``updates`` by ``mode``: ``"set"`` (the last write wins where indices repeat, as NumPy
assigns), ``"add"``, ``"mul"``, ``"min"`` or ``"max"`` (repeated indices accumulate, as
``np.add.at`` and friends). The index is a normalised ``indexer`` with integer-array
operands, exactly as ``gather`` takes it (``ops/index.py``), and ``updates`` already
has the indexed shape and ``x``'s dtype. ``minigrad.numpy`` builds ``x.at[...]`` on it.

The array itself is never modified: eagerly the result is a copy; compiled by ``jit``,
the update is written into ``x``'s own buffer when nothing reads ``x`` afterwards.

Example:
    >>> import numpy as np
    >>> x = np.zeros(4)
    >>> scatter(x, np.array([1.0, 2.0]), [np.array([1, 1])], (("array", 0),), "add")
    array([0., 3., 0., 0.])
    >>> x
    array([0., 0., 0., 0.])
"""

from __future__ import annotations

import functools

import numpy as np

from minigrad.core.ir import Eqn, Literal, ShapedArray, Var
from minigrad.core.lowering import FRESH, Code
from minigrad.core.primitive import Primitive
from minigrad.core.rewrite import literal
from minigrad.core.trace import Tracer, bind, get_aval
from minigrad.ops.elementwise import add, div, mul
from minigrad.ops.index import (
    _FULL_SLICE,
    _gather_with_batched_indices,
    _indexed_shape,
    _leading_axis_position,
    accumulate_at,
    gather,
    numpy_index,
    scatter_add_p,
)
from minigrad.ops.logic import equal
from minigrad.ops.selection import convert_element_type, select
from minigrad.ops.shape import batch_size, batch_to_front, broadcast_to_p, moveaxis, transpose

__all__ = ["scatter", "scatter_p", "scatter_in_place", "SCATTER_MODES"]

SCATTER_MODES = ("set", "add", "mul", "min", "max")
_UFUNCS = {"add": np.add, "mul": np.multiply, "min": np.minimum, "max": np.maximum}

MUL_REPEATED_INDICES_MESSAGE = (
    "scatter mul: the derivative with respect to the values of x.at[index].multiply(v) "
    "(also .divide and .power) needs each element to be indexed at most once, and this "
    "index {reason}. Multiply the repeated values together first, or use mnp.where."
)


def scatter_in_place(out, updates, *arrays, indexer, mode):
    """Write ``updates`` into ``out`` (modified and returned) at the index, by ``mode``."""
    # The compiled program may hand in a dead buffer that an operand still views.
    if np.may_share_memory(out, updates):
        updates = updates.copy()
    index = numpy_index(indexer, arrays)
    if mode == "set":
        out[index] = updates
    elif arrays:
        accumulate_at(_UFUNCS[mode], out, index, updates)  # repeated indices accumulate
    else:
        out[index] = _UFUNCS[mode](out[index], updates)  # basic indexing never repeats
    return out


scatter_p = Primitive("scatter")


@scatter_p.def_impl
def scatter_impl(x, updates, *arrays, indexer, mode):
    return scatter_in_place(np.array(x, copy=True), updates, *arrays, indexer=indexer, mode=mode)


@scatter_p.def_shape_rule
def scatter_shape_rule(x, updates, *arrays, indexer, mode):
    if mode not in SCATTER_MODES:
        raise ValueError(f"scatter: mode must be one of {SCATTER_MODES}, got {mode!r}.")
    expected = _indexed_shape(x, arrays, indexer)
    if tuple(updates.shape) != tuple(expected) or updates.dtype != x.dtype:
        raise ValueError(
            f"scatter: updates {updates} do not fit the indexed part, of shape {expected} and "
            f"dtype {x.dtype}, of an array {x}."
        )
    return ShapedArray(x.shape, x.dtype)


def scatter(x, updates, arrays, indexer, mode):
    """``x`` with ``updates`` combined into ``x[index]`` by ``mode`` (see the module)."""
    return bind(scatter_p, x, updates, *arrays, indexer=tuple(indexer), mode=mode)


def _zeros(x):
    aval = get_aval(x)
    return np.zeros(aval.shape, aval.dtype)


def _ones(x):
    aval = get_aval(x)
    return np.ones(aval.shape, aval.dtype)


def _indicator(condition, like):
    """1.0 where ``condition`` holds, else 0.0, in ``like``'s dtype."""
    return convert_element_type(condition, get_aval(like).dtype)


def _set_winners(updates, arrays, indexer, shape):
    """Which updates land where indices repeat (the last write), as a boolean array.

    Each update's position is scattered as an id; reading the ids back says whose write
    survived. Without index arrays no element is written twice.
    """
    size = get_aval(updates).size
    ids = np.arange(size).reshape(get_aval(updates).shape)
    board = scatter(np.full(shape, -1), ids, arrays, indexer, "set")
    return equal(gather(board, arrays, indexer), ids)


def _check_unique(x, arrays, indexer) -> None:
    """Raise unless no element of ``x`` is indexed twice (known for concrete indices)."""
    if not arrays:
        return
    if any(isinstance(a, Tracer) for a in arrays):
        raise NotImplementedError(MUL_REPEATED_INDICES_MESSAGE.format(reason="is traced, so it may repeat"))
    shape = get_aval(x).shape
    positions = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)[numpy_index(indexer, arrays)]
    if np.unique(positions).size != positions.size:
        raise NotImplementedError(MUL_REPEATED_INDICES_MESSAGE.format(reason="repeats an element"))


def _extremum_shares(ans, x, updates, arrays, indexer):
    """Min/max: the share of the derivative each candidate gets (ties split it equally)."""
    from_x = _indicator(equal(x, ans), x)
    from_updates = _indicator(equal(updates, gather(ans, arrays, indexer)), updates)
    count = add(from_x, scatter(_zeros(x), from_updates, arrays, indexer, "add"))
    return from_x, from_updates, count


@scatter_p.def_vjp_argnum
def scatter_vjp(argnum, ct, ans, x, updates, *arrays, indexer, mode):
    if argnum > 1:
        return None  # index arrays have no gradient
    if mode == "add":
        return ct if argnum == 0 else gather(ct, arrays, indexer)
    if mode == "set":
        if argnum == 0:
            return scatter(ct, _zeros(updates), arrays, indexer, "set")
        read = gather(ct, arrays, indexer)
        if not arrays:
            return read
        return select(_set_winners(updates, arrays, indexer, get_aval(x).shape), read, _zeros(updates))
    if mode == "mul":
        if argnum == 0:
            return mul(ct, scatter(_ones(x), updates, arrays, indexer, "mul"))
        _check_unique(x, arrays, indexer)
        return gather(mul(ct, x), arrays, indexer)
    from_x, from_updates, count = _extremum_shares(ans, x, updates, arrays, indexer)
    share = div(ct, count)
    if argnum == 0:
        return mul(share, from_x)
    return mul(gather(share, arrays, indexer), from_updates)


@scatter_p.def_jvp
def scatter_jvp(primals, tangents, ans, *, indexer, mode):
    x, updates, arrays = primals[0], primals[1], primals[2:]
    t_x = _zeros(x) if tangents[0] is None else tangents[0]
    t_updates = _zeros(updates) if tangents[1] is None else tangents[1]
    if mode in ("set", "add"):
        return scatter(t_x, t_updates, arrays, indexer, mode)  # linear in both
    if mode == "mul":
        out = mul(t_x, scatter(_ones(x), updates, arrays, indexer, "mul"))
        if tangents[1] is None:
            return out
        _check_unique(x, arrays, indexer)
        through_updates = mul(gather(x, arrays, indexer), t_updates)
        return add(out, scatter(_zeros(x), through_updates, arrays, indexer, "add"))
    from_x, from_updates, count = _extremum_shares(ans, x, updates, arrays, indexer)
    combined = add(mul(t_x, from_x), scatter(_zeros(x), mul(t_updates, from_updates), arrays, indexer, "add"))
    return div(combined, count)


@scatter_p.def_batch
def scatter_batch(args, dims, *, indexer, mode):
    x, updates, arrays = args[0], args[1], list(args[2:])
    x_dim, updates_dim, array_dims = dims[0], dims[1], list(dims[2:])
    size = batch_size(args, dims)
    # Every example writes into its own copy, so x is batched even if it was shared.
    x = batch_to_front(x, x_dim, size)
    updates = batch_to_front(updates, updates_dim, size)
    if all(d is None for d in array_dims):
        # A leading full slice keeps the batch axis; the updates carry it where gather
        # would put it for this index.
        target = _leading_axis_position(indexer, arrays)
        updates = moveaxis(updates, 0, target) if target else updates
        return scatter(x, updates, arrays, (_FULL_SLICE, *indexer), mode), 0
    new_indexer, new_arrays, permutation = _gather_with_batched_indices(x, arrays, array_dims, indexer, size)
    if permutation is not None:
        updates = transpose(updates, tuple(np.argsort(permutation)))
    return scatter(x, updates, new_arrays, new_indexer, mode), 0


@scatter_p.def_lowering
def scatter_lowering(ctx, x, updates, *arrays, indexer, mode):
    operands = ", ".join([x, updates, *arrays])
    if ctx.reusable_operand(1) == 0:
        # x dies here and its buffer is the program's own: write into it, no copy.
        write = ctx.constant(functools.partial(scatter_in_place, indexer=indexer, mode=mode), "scatter_into")
        return Code(f"{write}({operands})", FRESH, written_operand=0)
    copy_and_write = ctx.constant(functools.partial(scatter_impl, indexer=indexer, mode=mode), "scatter")
    return Code(f"{copy_and_write}({operands})", FRESH)


# scatter_add is declared in ``index`` (gather's transpose); its rewrite into an assignment
# is declared here, beside the scatter it becomes.
@scatter_add_p.def_simplification
def scatter_add_to_distinct_positions(eqn, producers):
    """A ``scatter_add`` whose constant index arrays alone tell every update's position
    apart is ``scatter`` of ``"set"`` into zeros.

    The gradient of ``take_along_axis`` (a cross-entropy's picked log-probabilities)
    scatters into one position per row: its index is a grid of ``arange``s, constants of
    the program, beside the targets. Adding into zeros where no position repeats is
    assigning (but that ``0 + -0.0`` is ``0.0``, and an assignment keeps ``-0.0``), and
    NumPy assigns through an index without ``np.add.at``'s bookkeeping: 37 us against
    about 10 for a (32, 32, 27) float32 gradient.
    """
    updates, *arrays = eqn.invars
    indexer, shape = eqn.params["indexer"], eqn.params["shape"]
    known = [(k, atom) for k, atom in enumerate(arrays) if type(atom) is Literal]
    if not known or not _distinct(known, [atom.aval.shape for atom in arrays], indexer, shape):
        return None
    dtype = eqn.outvars[0].aval.dtype
    zeros = Var(ShapedArray(tuple(shape), dtype))
    fill = Eqn(
        broadcast_to_p, [literal(0, ShapedArray((), dtype))], [zeros], {"shape": tuple(shape)}, eqn.source
    )
    assign = Eqn(
        scatter_p, [zeros, updates, *arrays], eqn.outvars, {"indexer": indexer, "mode": "set"}, eqn.source
    )
    return [fill, assign], eqn.outvars[0]


# Index grids larger than this are not checked (the check is at compile time).
_MAX_CHECKED_POSITIONS = 2**20


def _distinct(known, shapes, indexer, shape) -> bool:
    """Whether the constant index arrays ``known`` ((position, literal) pairs), broadcast
    with the others, name a different tuple of positions at every element."""
    try:
        grid = np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    count = int(np.prod(grid, dtype=np.int64))
    if count == 0 or count > _MAX_CHECKED_POSITIONS:
        return False
    axes, axis = {}, 0  # which axis of the result each index array picks along
    for entry in indexer:
        if entry[0] == "array":
            axes[entry[1]] = axis
        if entry[0] != "newaxis":
            axis += 1
    columns = [
        np.broadcast_to(np.mod(np.asarray(atom.val), shape[axes[k]]), grid).reshape(-1) for k, atom in known
    ]
    return np.unique(np.stack(columns, axis=1), axis=0).shape[0] == count
