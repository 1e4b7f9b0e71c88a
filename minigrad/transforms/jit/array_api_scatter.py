"""Scatter-add with repeated indices in Array API calls (the gradient of a gather).

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
    one-hot matrix would not fit.

Example:
    >>> import numpy as np
    >>> segment_sum(np, "cpu", 4, np.array([2, 0, 2, 2]), np.array([1.0, 10.0, 2.0, 3.0]))
    array([10.,  0.,  6.,  0.])
"""

from __future__ import annotations

import functools
import math

from minigrad.core.lowering import safe_identifier
from minigrad.ops.index import scatter_add_p
from minigrad.transforms.jit.array_api_rules import (
    array_api_rule,
    index_parts,
    index_source,
    is_index_array,
    linear_index_source,
    positive_steps,
    set_items,
    unsupported,
)

__all__ = ["segment_sum", "ONE_HOT_LIMIT"]

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
    n, rest = index.shape[0], tuple(updates.shape[1:])
    if n == 0:
        return xp.zeros((size, *rest), dtype=updates.dtype, device=device)
    order = xp.argsort(index, stable=True)
    index = xp.take(index, order)
    sums = xp.take(updates, order, axis=0)
    trailing = (1,) * len(rest)
    # A segmented inclusive running sum: after the step of `distance`, each row holds the
    # sum of the rows of its index among the 2 * distance rows ending at it.
    distance = 1
    while distance < n:
        same = xp.reshape(index[distance:] == index[:-distance], (n - distance, *trailing))
        earlier = sums[:-distance, ...]
        added = sums[distance:, ...] + xp.where(same, earlier, xp.zeros_like(earlier))
        sums = xp.concat([sums[:distance, ...], added], axis=0)
        distance *= 2
    positions = xp.arange(size, dtype=index.dtype, device=device)
    last = xp.searchsorted(index, positions, side="right") - 1  # each position's last row
    safe = xp.where(last >= 0, last, xp.zeros_like(last))
    present = (last >= 0) & (xp.take(index, safe) == positions)
    rows = xp.take(sums, safe, axis=0)
    return xp.where(xp.reshape(present, (size, *trailing)), rows, xp.zeros_like(rows))


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
        parts, flipped, _ = positive_steps(parts, shape)
        assigned = f"{ctx.constant(set_items, 'set_items')}({zeros}, {index_source(ctx, parts, len(shape))}, {updates})"
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
    raise unsupported(ctx, "with index arrays mixed with slices")


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
