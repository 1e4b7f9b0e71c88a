"""Scatters with repeated indices in Array API calls: the gradient of a gather, and ``x.at[...]``.

The standard has no scatter: ``x[i] += u`` with a repeated ``i`` adds once. So the
lowering of ``scatter_add`` picks, by library and by size:

- no index arrays: nothing repeats; zeros with the updates assigned in;
- torch: its own ``index_put_(..., accumulate=True)``;
- elsewhere, one index array along one axis (or index arrays on the leading axes,
  made one flat index first), the rows of the updates summed per index, either
  (Dask: always the first)
  - by a one-hot matrix (which index hits which position) contracted with the
    updates: one ``tensordot``, the fastest while ``positions x indices`` is small, or
  - by sorting (``segment_sum``): the indices sorted, a segmented running sum over
    equal indices (log2(n) shifted additions), and each position's total read back
    with ``searchsorted``: memory linear in the sizes, for the large cases where the
    one-hot matrix would not fit;
- index arrays mixed with slices or integers: as ``scatter``'s ``"add"`` below.

``scatter`` (``x.at[index].set/add/multiply/min/max``) has NumPy's meaning where indices
repeat: the last write wins for ``"set"``, every update counts for the others. Without
index arrays nothing repeats, and the update is an assignment into a copy of ``x``.
With them, ``x`` is a table of rows: its indexed leading axes flattened (all its axes,
unless index arrays and integers are followed only by whole axes), each update's row
its flat position there (``element_positions``). The rows of the updates are combined
in on torch by ``scatter_reduce`` (for ``"set"``, its ``amax`` of the updates' numbers
says which write is last); elsewhere as for ``scatter_add``, by a one-hot comparison
of every row with every update (a masked ``max``/``sum``/``prod``/``min``) or by
sorting and a segmented running reduction (``scatter_rows``).

Example:
    >>> import numpy as np
    >>> segment_sum(np, "cpu", 4, np.array([2, 0, 2, 2]), np.array([1.0, 10.0, 2.0, 3.0]))
    array([10.,  0.,  6.,  0.])
"""

from __future__ import annotations

import functools
import math

import attrs
import numpy as np

from minigrad.core.lowering import safe_identifier
from minigrad.ops.index import numpy_index, scatter_add_p
from minigrad.ops.scatter import SCATTER_MODES, scatter_p
from minigrad.transforms.jit.array_api_rules import (
    array_api_rule,
    element_positions,
    index_parts,
    index_source,
    is_index_array,
    linear_index_source,
    positive_steps,
    set_items,
    unsupported,
)

__all__ = [
    "segment_sum",
    "scatter_rows",
    "indexed_leading_axes",
    "scatter_with_arrays",
    "scatter_basic",
    "Combination",
    "ONE_HOT_LIMIT",
]

# Above this many elements of the one-hot matrix (positions x indices) the sort-based
# segment sum is used. benchmarks/scatter_add.py measured the crossing on array-api-strict
# (2 loaded cores, float64, rows of 16): the two methods were within 10% of each other at
# 512 x 1024 and 1024 x 1024 (one run; another had one-hot 8x slower at 1024 x 1024),
# sorting 1.8x faster at 1024 x 4096 and 13x at 4096 x 16384. On Dask the one-hot
# contraction is always used: Dask computes it blockwise, while its argsort and the
# log2(n) shifted additions cost seconds even for 256 indices (50-200x slower).
ONE_HOT_LIMIT = 1 << 19

_FULL = slice(None)


def segment_sum(xp, device, size: int, index, updates):
    """The rows of ``updates`` (shape ``(n, ...)``) summed per ``index`` value in ``0..size-1``.

    Args:
      xp: the array namespace; device: where the result lives.
      size: the number of positions; index: integer array of shape ``(n,)``, values in
        ``[0, size)``; updates: array of shape ``(n, *rest)``.

    Returns:
      An array of shape ``(size, *rest)``.

    Example:
      >>> import numpy as np
      >>> segment_sum(np, "cpu", 2, np.array([1, 1]), np.ones((2, 3)))
      array([[0., 0., 0.],
             [2., 2., 2.]])
    """
    rest = tuple(updates.shape[1:])
    if index.shape[0] == 0:
        return xp.zeros((size, *rest), dtype=updates.dtype, device=device)
    order = xp.argsort(index, stable=True)
    index = xp.take(index, order)
    sums = _segmented_scan(xp, index, xp.take(updates, order, axis=0), xp.add)
    rows, present = _segment_last(xp, device, size, index, sums)
    return xp.where(present, rows, xp.zeros_like(rows))


def _segmented_scan(xp, index, values, combine):
    """The inclusive running ``combine`` of the rows of ``values`` within each run of
    equal (sorted) ``index``: log2(n) shifted combinations."""
    n = index.shape[0]
    trailing = (1,) * (len(values.shape) - 1)
    # After the step of `distance`, each row holds the combination of the rows of its
    # index among the 2 * distance rows ending at it.
    distance = 1
    while distance < n:
        same = xp.reshape(index[distance:] == index[:-distance], (n - distance, *trailing))
        later = values[distance:, ...]
        combined = xp.where(same, combine(values[:-distance, ...], later), later)
        values = xp.concat([values[:distance, ...], combined], axis=0)
        distance *= 2
    return values


def _segment_last(xp, device, size: int, index, values):
    """``(rows, present)``: the row of ``values`` last in each position's run of the sorted
    ``index`` (any row where the position is absent), and whether it is present, shaped
    to broadcast against ``rows``."""
    positions = xp.arange(size, dtype=index.dtype, device=device)
    last = xp.searchsorted(index, positions, side="right") - 1
    safe = xp.where(last >= 0, last, xp.zeros_like(last))
    present = (last >= 0) & (xp.take(index, safe) == positions)
    rows = xp.take(values, safe, axis=0)
    return rows, xp.reshape(present, (size, *(1,) * (len(values.shape) - 1)))


def _torch_scatter_add(zeros, index, updates):
    """Scatter-add with repeated indices on torch: ``index_put_`` accumulates."""
    return zeros.index_put_(index, updates, accumulate=True)


@array_api_rule(scatter_add_p)
def scatter_add_array_api(ctx, updates, *arrays, indexer, shape):
    out_dtype = ctx.dtype(ctx.out_avals[0].dtype)
    device = ctx.constant(ctx.device, "device")
    zeros = f"{ctx.xp}.zeros({tuple(shape)!r}, dtype={out_dtype}, device={device})"
    parts = index_parts(indexer, arrays)
    if not arrays:
        # Negative steps: assigned into the flipped zeros with positive ones, flipped back.
        parts, flipped, selected = _basic_index(indexer, shape)
        fitted = f"{ctx.xp}.reshape({updates}, {selected!r})"
        assigned = f"{ctx.constant(set_items, 'set_items')}({zeros}, {index_source(ctx, parts, len(shape))}, {fitted})"
        return f"{ctx.xp}.flip({assigned}, axis={flipped!r})" if flipped else assigned
    if ctx.library == "torch" and all(is_index_array(part) for part in parts):
        index = index_source(ctx, parts, 0)  # index_put_ takes tensors only: no trailing `...`
        return f"{ctx.constant(_torch_scatter_add, safe_identifier('torch_scatter_add'))}({zeros}, {index}, {updates})"
    sources = [i for i, part in enumerate(parts) if is_index_array(part)]
    if len(sources) == 1 and all(part == _FULL for part in parts if not is_index_array(part)):
        axis = sources[0]
        flat_index = _flat_source(ctx, parts[axis], shape[axis], ctx.in_avals[1].ndim)
        index_ndim = ctx.in_avals[1].ndim
        updates_shape = ctx.in_avals[0].shape
        flat = (*updates_shape[:axis], -1, *updates_shape[axis + index_ndim :])
        return _sum_along(ctx, f"{ctx.xp}.reshape({updates}, {flat!r})", flat_index, axis, shape)
    if all(is_index_array(part) for part in parts):
        # Index arrays on the leading axes: one flat index into those axes, then as above.
        leading = shape[: len(parts)]
        flat_index = linear_index_source(ctx, parts, leading)
        count = math.prod(_broadcast_shape([aval.shape for aval in ctx.in_avals[1:]]))
        rest = tuple(shape[len(parts) :])
        moved = f"{ctx.xp}.reshape({updates}, {(count, *rest)!r})"
        summed = _sum_along(ctx, moved, flat_index, 0, (math.prod(leading), *rest))
        return f"{ctx.xp}.reshape({summed}, {tuple(shape)!r})"
    # Index arrays mixed with slices, integers or new axes: each update added at its
    # element's flat position.
    count = math.prod(ctx.in_avals[0].shape)
    add = functools.partial(
        scatter_with_arrays,
        ctx.xp_module,
        ctx.device,
        ctx.library,
        ctx.library == "dask.array" or math.prod(shape) * count <= ONE_HOT_LIMIT,
        indexer=indexer,
        mode=SCATTER_MODES[1],
        leading=len(shape),
    )
    return f"{ctx.constant(add, 'scatter_add')}({', '.join([zeros, updates, *arrays])})"


def _basic_index(indexer, shape) -> tuple[list, tuple, tuple]:
    """``(parts, flipped, selected)`` for assigning through an index of slices and integers:
    new axes dropped (array-api-strict and Dask do not assign through them; the updates
    are reshaped to ``selected``, the shape without them) and negative steps made
    positive on the axes ``flipped``."""
    kept = tuple(entry for entry in indexer if entry[0] != "newaxis")
    parts, flipped, _ = positive_steps(numpy_index(kept, []), shape)
    selected = np.broadcast_to(np.zeros((), np.int8), shape)[tuple(parts)].shape
    return parts, flipped, selected


def _broadcast_shape(shapes) -> tuple:
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    return tuple(max(sizes) for sizes in zip(*padded, strict=True))


def _flat_source(ctx, index: str, size: int, index_ndim: int) -> str:
    """The index array flattened, negative indices counted from the end."""
    flat = index if index_ndim == 1 else f"{ctx.xp}.reshape({index}, (-1,))"
    return f"({flat} % {size})"


def _sum_along(ctx, updates: str, flat_index: str, axis: int, shape) -> str:
    """``updates`` (its index axes flattened to one at ``axis``) summed per flat index."""
    size, xp = shape[axis], ctx.xp
    count = math.prod(_broadcast_shape([aval.shape for aval in ctx.in_avals[1:]]))
    if size * count <= ONE_HOT_LIMIT or ctx.library == "dask.array":
        positions = f"{xp}.arange({size}, dtype={ctx.dtype(ctx.in_avals[1].dtype)}, device={ctx.constant(ctx.device, 'device')})"
        hits = f"{xp}.reshape({positions}, ({size}, 1)) == {xp}.reshape({flat_index}, (1, -1))"
        one_hot = f"{xp}.astype({hits}, {ctx.dtype(ctx.out_avals[0].dtype)})"
        summed = f"{xp}.tensordot({one_hot}, {updates}, axes=([1], [{axis}]))"
    else:
        moved = updates
        if axis:
            order = (axis, *range(axis), *range(axis + 1, len(shape)))
            moved = f"{xp}.permute_dims({updates}, {order!r})"
        function = functools.partial(segment_sum, ctx.xp_module, ctx.device, size)
        summed = f"{ctx.constant(function, 'segment_sum')}({flat_index}, {moved})"
    if not axis:
        return summed
    permutation = (*range(1, axis + 1), 0, *range(axis + 1, len(shape)))
    return f"{xp}.permute_dims({summed}, {permutation!r})"


# -- x.at[index].set/add/multiply/min/max: the scatter primitive ----------------------------


@attrs.frozen
class Combination:
    """How one scatter mode combines an element with the updates written to it.

    ``combine`` is the standard's elementwise function (None for ``"set"``: the last
    write replaces), ``reduce`` its reduction over many updates, ``identity`` the value
    that leaves an element as it is (None for min and max, which have none for every
    dtype), ``torch`` the reduction's name for ``scatter_reduce``, and ``logical`` the
    function on booleans (NumPy's add and max of booleans are ``or``, multiply and min
    ``and``).
    """

    combine: str | None
    reduce: str | None = None
    identity: int | None = None
    torch: str | None = None
    logical: str | None = None


# In the order of SCATTER_MODES: set, add, mul, min, max.
_COMBINATIONS = dict(
    zip(
        SCATTER_MODES,
        (
            Combination(None),
            Combination("add", "sum", 0, "sum", "logical_or"),
            Combination("multiply", "prod", 1, "prod", "logical_and"),
            Combination("minimum", "min", None, "amin", "logical_and"),
            Combination("maximum", "max", None, "amax", "logical_or"),
        ),
        strict=True,
    )
)


def scatter_rows(xp, device, mode: str, one_hot: bool, table, positions, updates):
    """``table`` (shape ``(size, *rest)``) with the rows of ``updates`` (``(n, *rest)``)
    combined into its rows ``positions`` (``(n,)``, may repeat) by ``mode``.

    As NumPy: ``"set"`` keeps the last write to a row, the other modes combine every
    update (``np.add.at`` and friends). ``one_hot`` compares every row with every update
    (memory ``size x n``, times ``rest`` but for ``"set"``); otherwise the updates are
    sorted by row and combined by a segmented running reduction.

    Example:
      >>> import numpy as np
      >>> scatter_rows(np, "cpu", "set", True, np.zeros(3), np.array([2, 0, 2]), np.array([1.0, 2.0, 3.0]))
      array([2., 0., 3.])
    """
    rule = _COMBINATIONS[mode]
    n, size = positions.shape[0], table.shape[0]
    trailing = (1,) * (len(table.shape) - 1)
    if n == 0:
        return xp.asarray(table, copy=True)
    if xp.isdtype(table.dtype, "bool") and rule.combine is not None:
        # The mode on 0 and 1 gives the logical function (the standard has no bool sums).
        as_counts = xp.astype(table, xp.int64), xp.astype(updates, xp.int64)
        return xp.astype(
            scatter_rows(xp, device, mode, one_hot, as_counts[0], positions, as_counts[1]), xp.bool
        )
    if one_hot:
        every = xp.arange(size, dtype=xp.int64, device=device)
        hits = xp.reshape(every, (size, 1)) == xp.reshape(positions, (1, n))
        if rule.combine is None:
            ids = xp.reshape(xp.arange(n, dtype=xp.int64, device=device), (1, n))
            last = xp.max(xp.where(hits, ids, xp.asarray(-1, dtype=xp.int64, device=device)), axis=1)
            return _place(xp, table, updates, last)
        if rule.identity is not None:
            missed = xp.asarray(rule.identity, dtype=table.dtype, device=device)
            kept = {"dtype": table.dtype}  # sums and products of small integers stay small
        else:  # min and max: the row itself stands in for the updates that miss it
            missed, kept = xp.reshape(table, (size, 1, *table.shape[1:])), {}
        hits = xp.reshape(hits, (size, n, *trailing))
        candidates = xp.where(hits, xp.reshape(updates, (1, *updates.shape)), missed)
        # The row is combined in again: every update may hit it.
        return getattr(xp, rule.combine)(table, getattr(xp, rule.reduce)(candidates, axis=1, **kept))
    order = xp.argsort(positions, stable=True)  # stable: the last write stays last
    positions, updates = xp.take(positions, order), xp.take(updates, order, axis=0)
    combine = None if rule.combine is None else getattr(xp, rule.combine)
    if combine is not None:
        updates = _segmented_scan(xp, positions, updates, combine)
    found, present = _segment_last(xp, device, size, positions, updates)
    if combine is not None:
        found = combine(table, found)
    return xp.where(present, found, table)


def _place(xp, table, updates, last):
    """``table`` with row ``updates[last[p]]`` at each row ``p`` where ``last[p] >= 0``."""
    safe = xp.where(last >= 0, last, xp.zeros_like(last))
    written = xp.reshape(last >= 0, (table.shape[0], *(1,) * (len(table.shape) - 1)))
    return xp.where(written, xp.take(updates, safe, axis=0), table)


def _torch_scatter_rows(xp, device, mode: str, table, positions, updates):
    """``scatter_rows`` on torch: ``scatter_reduce`` (a new tensor; NaNs propagate as
    NumPy's); for ``"set"`` the last write's number per row by its ``amax``."""
    rule = _COMBINATIONS[mode]
    if rule.combine is not None:
        index = positions.reshape((-1, *(1,) * (updates.ndim - 1))).expand(updates.shape)
        return table.scatter_reduce(0, index, updates, reduce=rule.torch)
    ids = xp.arange(positions.shape[0], dtype=xp.int64, device=device)
    none = xp.full((table.shape[0],), -1, dtype=xp.int64, device=device)
    return _place(xp, table, updates, none.scatter_reduce(0, positions, ids, reduce="amax"))


def scatter_with_arrays(xp, device, library: str, one_hot: bool, x, updates, *arrays, indexer, mode, leading):
    """``x.at[index]`` updated by ``mode``, the index holding index arrays (which may repeat).

    The ``leading`` axes of ``x`` are the indexed ones (the rest are whole): ``x`` is a
    table of rows, and each update's row is its flat position among the leading axes.

    Example:
      >>> import numpy as np
      >>> scatter_with_arrays(np, "cpu", "numpy", True, np.zeros((3, 2)), np.ones((2, 2)), np.array([1, 1]),
      ...                     indexer=(("array", 0),), mode="add", leading=1)
      array([[0., 0.],
             [2., 2.],
             [0., 0.]])
    """
    shape = tuple(x.shape)
    rest = shape[leading:]
    positions = element_positions(xp, device, shape[:leading], indexer[:leading], arrays)
    positions = xp.reshape(positions, (-1,))
    table = xp.reshape(x, (math.prod(shape[:leading]), *rest))
    rows = xp.reshape(updates, (positions.shape[0], *rest))
    if library == "torch":
        result = _torch_scatter_rows(xp, device, mode, table, positions, rows)
    else:
        result = scatter_rows(xp, device, mode, one_hot, table, positions, rows)
    return xp.reshape(result, shape)


def indexed_leading_axes(indexer, ndim: int) -> int:
    """How many leading axes of an array of rank ``ndim`` the index touches: all of them,
    unless it is index arrays and integers followed only by whole axes (then the rows
    of the trailing axes are scattered whole).

    Example:
      >>> indexed_leading_axes((("array", 0), ("int", 1), ("slice", None, None, None)), 4)
      2
    """
    entries = list(indexer)
    while entries and entries[-1] == _FULL_ENTRY:
        entries.pop()
    if any(entry[0] not in _ADVANCED for entry in entries):
        return ndim
    return len(entries)


_FULL_ENTRY = ("slice", None, None, None)
_ADVANCED = ("array", "int")


def scatter_basic(xp, x, updates, *, index, flipped, mode):
    """``x.at[index]`` updated by ``mode``, for an index of slices and integers (nothing
    repeats): an assignment into a copy, its negative-step axes ``flipped`` meanwhile.

    Example:
      >>> import numpy as np
      >>> scatter_basic(np, np.zeros(4), np.ones(2), index=(slice(0, 3, 2),), flipped=(), mode="max")
      array([1., 0., 1., 0.])
    """
    rule = _COMBINATIONS[mode]
    out = xp.asarray(x, copy=True)  # a flip may be a view of `x` (array-api-strict)
    if flipped:
        out = xp.asarray(xp.flip(out, axis=flipped), copy=True)
    if rule.combine is not None:
        combine = rule.logical if xp.isdtype(out.dtype, "bool") else rule.combine
        updates = getattr(xp, combine)(out[index], updates)
    out[index] = updates
    return xp.flip(out, axis=flipped) if flipped else out


@array_api_rule(scatter_p)
def scatter_array_api(ctx, x, updates, *arrays, indexer, mode):
    shape = tuple(ctx.in_avals[0].shape)
    rule = _COMBINATIONS[mode]
    if rule.combine is not None and rule.identity is None and ctx.out_avals[0].dtype.kind == "c":
        raise unsupported(ctx, f"({mode}) of complex numbers (the standard orders real numbers only)")
    if not arrays:
        parts, flipped, selected = _basic_index(indexer, shape)
        write = functools.partial(
            scatter_basic, ctx.xp_module, index=(*parts, ...), flipped=flipped, mode=mode
        )
        return f"{ctx.constant(write, 'scatter_basic')}({x}, {ctx.xp}.reshape({updates}, {selected!r}))"
    leading = indexed_leading_axes(indexer, len(shape))
    count = math.prod(ctx.in_avals[1].shape) // max(math.prod(shape[leading:]), 1)  # updates' rows
    one_hot = ctx.library == "dask.array" or math.prod(shape) * count <= ONE_HOT_LIMIT
    write = functools.partial(
        scatter_with_arrays,
        ctx.xp_module,
        ctx.device,
        ctx.library,
        one_hot,
        indexer=indexer,
        mode=mode,
        leading=leading,
    )
    return f"{ctx.constant(write, 'scatter')}({', '.join([x, updates, *arrays])})"
