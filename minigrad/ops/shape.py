"""Primitives that move data without arithmetic: reshape, transpose, broadcast,
concatenate, pad. All are linear, so each one's VJP is another movement (the
transpose of the linear map) and its JVP applies the same movement to the tangent.

The batching helpers at the bottom (moving a batch axis to the front, padding ranks)
are written with these primitives; every other family's batching rules use them, so
this module sits right above ``operands`` and below the arithmetic.

Example:
    >>> import numpy as np
    >>> reshape(np.arange(6.0), (2, 3)).shape
    (2, 3)
"""

from __future__ import annotations

import numpy as np

from minigrad.core.ir import Eqn, ShapedArray
from minigrad.core.lowering import FRESH, READ_ONLY_VIEW, VIEW, Code, lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.rewrite import operand_producer, passes_through, same_aval_operand
from minigrad.core.trace import bind, get_aval
from minigrad.ops.operands import broadcast_shapes
from minigrad.ops.reduce_kernels import lower_by_rows

__all__ = [
    "reshape", "transpose", "broadcast_to", "concatenate", "pad", "reduce_sum",
    "unbroadcast", "expand_dims", "squeeze", "moveaxis",
    "batch_size", "batch_to_front", "pad_batched_rank", "reduction_batch_rule",
    "elementwise_batch_rule",
    "reshape_p", "transpose_p", "broadcast_to_p", "concatenate_p", "pad_p", "reduce_sum_p",
]  # fmt: skip


def _linear_jvp(function):
    """The JVP of a linear primitive: apply the primitive itself to the tangent."""

    def linear_jvp(primals, tangents, ans, **params):
        return function(tangents[0], **params)

    return linear_jvp


# ---------------------------------------------------------------------------------------
# reshape


reshape_p = Primitive("reshape")


@reshape_p.def_impl
def reshape_impl(x, *, new_sizes):
    return np.reshape(x, new_sizes)


@reshape_p.def_shape_rule
def reshape_shape_rule(x, *, new_sizes):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise ValueError(
            f"reshape: cannot reshape an array of shape {x.shape} (size {x.size}) into "
            f"shape {tuple(new_sizes)} (size {int(np.prod(new_sizes, dtype=np.int64))}); "
            "the sizes must match."
        )
    return ShapedArray(new_sizes, x.dtype)


def reshape_vjp(ct, ans, x, *, new_sizes):
    return reshape(ct, get_aval(x).shape)


reshape_p.def_vjp(reshape_vjp)


def reshape(x, new_sizes):
    """Reshape to ``new_sizes`` (a tuple of ints, no -1; ``minigrad.numpy`` resolves it)."""
    new_sizes = tuple(int(d) for d in new_sizes)
    if get_aval(x).shape == new_sizes:
        return x
    return bind(reshape_p, x, new_sizes=new_sizes)


reshape_p.def_jvp(_linear_jvp(reshape))


@reshape_p.def_batch
def reshape_batch(args, dims, *, new_sizes):
    (x,), (dim,) = args, dims
    x = batch_to_front(x, dim)
    return reshape(x, (get_aval(x).shape[0], *new_sizes)), 0


@reshape_p.def_lowering
def reshape_lowering(ctx, x, *, new_sizes):
    return Code(f"{x}.reshape({tuple(new_sizes)!r})", VIEW)


reshape_p.def_simplification(same_aval_operand)


@reshape_p.def_simplification
def reshape_of_reshape(eqn, producers):
    inner = operand_producer(eqn, producers)
    if inner is None or inner.primitive is not reshape_p:
        return None
    x = inner.invars[0]
    if passes_through(eqn, x):
        return x
    return Eqn(reshape_p, [x], eqn.outvars, eqn.params, eqn.source)


def expand_dims(x, axes):
    """Insert size-1 axes at the (normalised, sorted) positions ``axes`` of the result."""
    shape = list(get_aval(x).shape)
    for axis in sorted(axes):
        shape.insert(axis, 1)
    return reshape(x, shape)


def squeeze(x, axes):
    shape = get_aval(x).shape
    return reshape(x, [d for i, d in enumerate(shape) if i not in axes])


# ---------------------------------------------------------------------------------------
# transpose


transpose_p = Primitive("transpose")


@transpose_p.def_impl
def transpose_impl(x, *, permutation):
    return np.transpose(x, permutation)


@transpose_p.def_shape_rule
def transpose_shape_rule(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise ValueError(
            f"transpose: axes {permutation} are not a permutation of the {x.ndim} axes of "
            f"an array of shape {x.shape}."
        )
    return ShapedArray(tuple(x.shape[i] for i in permutation), x.dtype)


def transpose_vjp(ct, ans, x, *, permutation):
    return transpose(ct, tuple(np.argsort(permutation)))


transpose_p.def_vjp(transpose_vjp)


def transpose(x, permutation):
    permutation = tuple(int(i) for i in permutation)
    if permutation == tuple(range(len(permutation))):
        return x
    return bind(transpose_p, x, permutation=permutation)


transpose_p.def_jvp(_linear_jvp(transpose))


@transpose_p.def_batch
def transpose_batch(args, dims, *, permutation):
    (x,), (dim,) = args, dims
    # Per-example axis p sits at p (before the batch axis) or p + 1 (after it).
    full = (dim, *(p if p < dim else p + 1 for p in permutation))
    return transpose(x, full), 0


@transpose_p.def_lowering
def transpose_lowering(ctx, x, *, permutation):
    return Code(f"{x}.transpose({tuple(permutation)!r})", VIEW)


@transpose_p.def_simplification
def identity_transpose(eqn, producers):
    (x,) = eqn.invars
    if eqn.params["permutation"] == tuple(range(x.aval.ndim)) and passes_through(eqn, x):
        return x
    return None


@transpose_p.def_simplification
def transpose_of_transpose(eqn, producers):
    inner = operand_producer(eqn, producers)
    if inner is None or inner.primitive is not transpose_p:
        return None
    outer_perm, inner_perm = eqn.params["permutation"], inner.params["permutation"]
    composed = tuple(inner_perm[i] for i in outer_perm)
    x = inner.invars[0]
    if composed == tuple(range(len(composed))):
        return x
    return Eqn(transpose_p, [x], eqn.outvars, {"permutation": composed}, eqn.source)


@transpose_p.def_simplification
def transpose_of_unit_axes(eqn, producers):
    """A transpose that moves only size-1 axes keeps the elements' order: it is a reshape,
    which then folds into the reshapes around it (batching rules leave such chains)."""
    (x,) = eqn.invars
    shape = x.aval.shape
    kept = [axis for axis in eqn.params["permutation"] if shape[axis] != 1]
    if kept != sorted(kept):
        return None
    return Eqn(reshape_p, [x], eqn.outvars, {"new_sizes": eqn.outvars[0].aval.shape}, eqn.source)


def moveaxis(x, source: int, destination: int):
    ndim = get_aval(x).ndim
    order = [i for i in range(ndim) if i != source]
    order.insert(destination, source)
    return transpose(x, order)


# ---------------------------------------------------------------------------------------
# broadcast_to and its transpose, reduce_sum


broadcast_to_p = Primitive("broadcast_to")


@broadcast_to_p.def_impl
def broadcast_to_impl(x, *, shape):
    return np.broadcast_to(x, shape)


@broadcast_to_p.def_shape_rule
def broadcast_to_shape_rule(x, *, shape):
    if len(shape) < x.ndim or broadcast_shapes("broadcast_to", x.shape, shape) != tuple(shape):
        raise ValueError(
            f"broadcast_to: cannot broadcast an array of shape {x.shape} to shape {tuple(shape)}."
        )
    return ShapedArray(shape, x.dtype)


def broadcast_to_vjp(ct, ans, x, *, shape):
    return unbroadcast(ct, get_aval(x).shape)


broadcast_to_p.def_vjp(broadcast_to_vjp)


def broadcast_to(x, shape):
    shape = tuple(int(d) for d in shape)
    if get_aval(x).shape == shape:
        return x
    return bind(broadcast_to_p, x, shape=shape)


broadcast_to_p.def_jvp(_linear_jvp(broadcast_to))


@broadcast_to_p.def_batch
def broadcast_to_batch(args, dims, *, shape):
    (x,), (dim,) = args, dims
    x = pad_batched_rank(batch_to_front(x, dim), len(shape))
    return broadcast_to(x, (get_aval(x).shape[0], *shape)), 0


@broadcast_to_p.def_lowering
def broadcast_to_lowering(ctx, x, *, shape):
    name = ctx.constant(np.broadcast_to, "broadcast_to")
    return Code(f"{name}({x}, {tuple(shape)!r})", READ_ONLY_VIEW)


broadcast_to_p.def_simplification(same_aval_operand)


reduce_sum_p = Primitive("reduce_sum")


@reduce_sum_p.def_impl
def reduce_sum_impl(x, *, axes):
    # dtype= keeps the operand's dtype: NumPy would sum int8 to int64 on its own, and the
    # shape rule (like every other interpreter) says the sum has the operand's dtype.
    return np.sum(x, axis=axes, dtype=x.dtype)


def _check_axes(opname, aval, axes):
    for axis in axes:
        if not 0 <= axis < aval.ndim:
            raise ValueError(f"{opname}: axis {axis} is out of bounds for an array of shape {aval.shape}.")


@reduce_sum_p.def_shape_rule
def reduce_sum_shape_rule(x, *, axes):
    _check_axes("sum", x, axes)
    return ShapedArray(tuple(d for i, d in enumerate(x.shape) if i not in axes), x.dtype)


def reduce_sum_vjp(ct, ans, x, *, axes):
    shape = get_aval(x).shape
    return broadcast_to(expand_dims(ct, axes), shape)


reduce_sum_p.def_vjp(reduce_sum_vjp)


def reduce_sum(x, axes):
    """Sum over ``axes`` (a tuple of non-negative ints), dropping them."""
    axes = tuple(sorted(int(a) for a in axes))
    if not axes:
        return x
    return bind(reduce_sum_p, x, axes=axes)


reduce_sum_p.def_jvp(_linear_jvp(reduce_sum))


def reduction_batch_rule(reduce):
    """The batching rule of a reduction ``reduce(x, axes)`` over per-example axes."""

    def reduction_batch(args, dims, *, axes):
        (x,), (dim,) = args, dims
        full_axes = tuple(a if a < dim else a + 1 for a in axes)
        return reduce(x, full_axes), dim - sum(a < dim for a in axes)

    reduction_batch.__name__ = f"{reduce.__name__}_batch"
    return reduction_batch


reduce_sum_p.def_batch(reduction_batch_rule(reduce_sum))


# One object, so every equation names the same constant (``np.add.reduce`` is a new
# bound method at each access).
_add_reduce = np.add.reduce


@reduce_sum_p.def_lowering
def reduce_sum_lowering(ctx, x, *, axes):
    if ctx.out_avals[0].dtype.kind not in "fc":
        return lower_by_impl(ctx, x, axes=axes)  # the impl keeps small integer dtypes
    by_rows = lower_by_rows(ctx, x, axes, np.add)
    if by_rows is not None:
        return by_rows
    return Code(f"{ctx.constant(_add_reduce, 'add_reduce')}({x}, {tuple(axes)!r})", FRESH)


def unbroadcast(x, shape):
    """Sum ``x`` down to ``shape``: the transpose of NumPy broadcasting.

    This is the one place where broadcasting is undone; the backward pass calls it when a
    cotangent's shape differs from its primal's.
    """
    x_shape = get_aval(x).shape
    shape = tuple(shape)
    if x_shape == shape:
        return x
    lead = len(x_shape) - len(shape)
    axes = list(range(lead))
    axes += [lead + i for i, d in enumerate(shape) if d == 1 and x_shape[lead + i] != 1]
    return reshape(reduce_sum(x, axes), shape)


# ---------------------------------------------------------------------------------------
# concatenate


concatenate_p = Primitive("concatenate")


@concatenate_p.def_impl
def concatenate_impl(*xs, axis):
    return np.concatenate(xs, axis=axis)


@concatenate_p.def_shape_rule
def concatenate_shape_rule(*xs, axis):
    first = xs[0]
    for x in xs:
        if x.dtype != first.dtype:
            raise TypeError(f"concatenate: operands have different dtypes {[str(x.dtype) for x in xs]}")
        if x.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(x.shape, first.shape)) if i != axis
        ):
            raise ValueError(
                f"concatenate: shapes {[x.shape for x in xs]} must agree on every axis but axis {axis}."
            )
    size = sum(x.shape[axis] for x in xs)
    return ShapedArray(first.shape[:axis] + (size,) + first.shape[axis + 1 :], first.dtype)


@concatenate_p.def_vjp_all
def concatenate_vjp(wanted, ct, ans, *xs, axis):
    # One rule for all inputs: each input's offset is found once, in one pass, so the
    # backward pass of n operands is linear in n (a rule per input summed the sizes of
    # the operands before it, and received all n operands, at each of n calls).
    cts = []
    start = 0
    for want, x in zip(wanted, xs, strict=True):
        stop = start + get_aval(x).shape[axis]
        cts.append(slice_axis(ct, axis, start, stop) if want else None)
        start = stop
    return cts


def concatenate(xs, axis: int):
    if len(xs) == 1:
        return xs[0]
    return bind(concatenate_p, *xs, axis=int(axis))


@concatenate_p.def_jvp
def concatenate_jvp(primals, tangents, ans, *, axis):
    filled = [
        t if t is not None else np.zeros(get_aval(p).shape, get_aval(p).dtype)
        for p, t in zip(primals, tangents)
    ]
    return concatenate(filled, axis)


@concatenate_p.def_batch
def concatenate_batch(args, dims, *, axis):
    size = batch_size(args, dims)
    # Every operand needs the batch axis here: unbatched ones are broadcast.
    moved = [batch_to_front(x, d, size) for x, d in zip(args, dims)]
    return concatenate(moved, axis + 1), 0


@concatenate_p.def_lowering
def concatenate_lowering(ctx, *xs, axis):
    operands = "".join(x + ", " for x in xs)
    return Code(f"{ctx.constant(np.concatenate, 'concatenate')}(({operands}), {int(axis)})", FRESH)


# ---------------------------------------------------------------------------------------
# pad (constant zeros) and its transpose, a slice


pad_p = Primitive("pad")


@pad_p.def_impl
def pad_impl(x, *, widths):
    return np.pad(x, widths)


@pad_p.def_shape_rule
def pad_shape_rule(x, *, widths):
    if len(widths) != x.ndim or any(lo < 0 or hi < 0 for lo, hi in widths):
        raise ValueError(
            f"pad: widths {widths} do not fit an array of shape {x.shape} (one non-negative pair per axis)."
        )
    return ShapedArray(tuple(d + lo + hi for d, (lo, hi) in zip(x.shape, widths)), x.dtype)


def pad_vjp(ct, ans, x, *, widths):
    shape = get_aval(ct).shape
    index = tuple(slice(lo, size - hi) for (lo, hi), size in zip(widths, shape))
    return static_slice(ct, index)


pad_p.def_vjp(pad_vjp)


def pad(x, widths):
    """Zero-pad: ``widths`` is one ``(before, after)`` pair per axis."""
    widths = tuple((int(lo), int(hi)) for lo, hi in widths)
    if all(lo == 0 and hi == 0 for lo, hi in widths):
        return x
    return bind(pad_p, x, widths=widths)


pad_p.def_jvp(_linear_jvp(pad))
pad_p.def_lowering(lower_by_impl)


@pad_p.def_batch
def pad_batch(args, dims, *, widths):
    (x,), (dim,) = args, dims
    full = list(widths)
    full.insert(dim, (0, 0))
    return pad(x, full), dim


# ---------------------------------------------------------------------------------------
# static slicing with unit steps (the VJP of pad and concatenate)


slice_p = Primitive("slice")


@slice_p.def_impl
def slice_impl(x, *, starts, stops):
    return x[tuple(slice(a, b) for a, b in zip(starts, stops))]


@slice_p.def_shape_rule
def slice_shape_rule(x, *, starts, stops):
    if len(starts) != x.ndim or any(not 0 <= a <= b <= d for a, b, d in zip(starts, stops, x.shape)):
        raise ValueError(f"slice: bounds {starts}..{stops} do not fit an array of shape {x.shape}.")
    return ShapedArray(tuple(b - a for a, b in zip(starts, stops)), x.dtype)


def slice_vjp(ct, ans, x, *, starts, stops):
    shape = get_aval(x).shape
    return pad(ct, [(a, d - b) for a, b, d in zip(starts, stops, shape)])


slice_p.def_vjp(slice_vjp)


def static_slice(x, index):
    """``x[index]`` for a tuple of unit-step slices, one per axis."""
    shape = get_aval(x).shape
    bounds = [s.indices(d)[:2] for s, d in zip(index, shape)]
    starts = tuple(a for a, _ in bounds)
    stops = tuple(max(a, b) for a, b in bounds)
    if starts == (0,) * len(shape) and stops == tuple(shape):
        return x
    return bind(slice_p, x, starts=starts, stops=stops)


def slice_axis(x, axis, start, stop):
    index = [slice(None)] * get_aval(x).ndim
    index[axis] = slice(start, stop)
    return static_slice(x, tuple(index))


@slice_p.def_jvp
def slice_jvp(primals, tangents, ans, *, starts, stops):
    return bind(slice_p, tangents[0], starts=starts, stops=stops)


@slice_p.def_batch
def slice_batch(args, dims, *, starts, stops):
    (x,), (dim,) = args, dims
    full_starts, full_stops = list(starts), list(stops)
    full_starts.insert(dim, 0)
    full_stops.insert(dim, get_aval(x).shape[dim])
    return bind(slice_p, x, starts=tuple(full_starts), stops=tuple(full_stops)), dim


@slice_p.def_lowering
def slice_lowering(ctx, x, *, starts, stops):
    index = tuple(slice(a, b) for a, b in zip(starts, stops, strict=True))
    return Code(f"{x}[{ctx.constant(index, 'ix')}]", VIEW)


# ---------------------------------------------------------------------------------------
# Batching helpers, and the one batching rule every elementwise primitive declares.
#
# A batching rule gets each operand with its batch axis (``None``: not batched) and
# returns the result with its own. Unbatched operands stay unbatched wherever the
# primitive allows it, so a weight shared by every example is never copied per example.


def batch_size(args, dims) -> int:
    """The size of the batch axis (every batched operand has the same one)."""
    for x, dim in zip(args, dims):
        if dim is not None:
            return get_aval(x).shape[dim]
    raise AssertionError("a batching rule was called without a batched operand")


def batch_to_front(x, dim, size=None):
    """``x`` with its batch axis first; an unbatched ``x`` is broadcast to ``size``."""
    if dim is None:
        return broadcast_to(x, (size, *get_aval(x).shape))
    return moveaxis(x, dim, 0) if dim != 0 else x


def pad_batched_rank(x, rank: int):
    """Insert size-1 axes after the leading batch axis so the example rank is ``rank``.

    NumPy broadcasting aligns shapes from the right; padding keeps the batch axis in
    front of every axis of the other, unbatched, operands.
    """
    shape = get_aval(x).shape
    missing = rank - (len(shape) - 1)
    return reshape(x, (shape[0], *(1,) * missing, *shape[1:])) if missing > 0 else x


def elementwise_batch_rule(primitive):
    """The batching rule of an elementwise ``primitive``: batch axes to the front.

    Batched operands get their batch axis first and size-1 axes up to the widest
    example rank, so NumPy broadcasting lines up; unbatched operands are left alone.
    """

    def elementwise_batch(args, dims, **params):
        rank = max(get_aval(x).ndim - (d is not None) for x, d in zip(args, dims))
        moved = [x if d is None else pad_batched_rank(batch_to_front(x, d), rank) for x, d in zip(args, dims)]
        return bind(primitive, *moved, **params), 0

    elementwise_batch.__name__ = f"{primitive.name}_batch"
    return elementwise_batch
