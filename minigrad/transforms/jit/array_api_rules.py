"""The Array API lowerings of the primitives, keyed by primitive object.

Each rule is ``rule(ctx, *args, **params) -> str``: the right-hand side of the statement
computing the equation, in Array API standard calls on ``ctx.xp`` (see
``array_api_writer.py``). Elementwise primitives whose implementation is a NumPy ufunc
with a standard counterpart are lowered to it (``np.arctan`` -> ``atan``); the others
are listed one by one. ``VIEWS`` holds the primitives whose result may share its
operand's memory (the writer copies such a result before returning it if the operand
is an input or a constant).

Where the standard has a gap, a rule asks ``ctx.library`` for a library's own function
(einsum, else ``array_api_einsum``'s matmul contractions); elsewhere it raises ``NoArrayApiLowering`` through ``unsupported``. The
lowerings of scatter-add, linear algebra, FFTs and random bits have modules of their
own (``array_api_scatter``, ``array_api_linalg``, ``array_api_random``).

Example:
    >>> from minigrad.ops.elementwise import add_p
    >>> array_api_lowering(add_p).__name__
    'add_array_api'
"""

from __future__ import annotations

import functools
import importlib
import math

import numpy as np

from minigrad.ops.clipping import clip_p
from minigrad.ops.complex_parts import complex_p, imag_p, real_p
from minigrad.ops.cumulative import cumsum_p
from minigrad.ops.elementwise import cbrt_p, integer_pow_p, logistic_p
from minigrad.ops.index import gather_p, numpy_index
from minigrad.ops.linalg import einsum_p, matmul_p
from minigrad.ops.operands import ELEMENTWISE_PRIMITIVES
from minigrad.ops.reduce import argmax_p, argmin_p, reduce_max_p, reduce_min_p, reduce_prod_p
from minigrad.ops.rolling import roll_p
from minigrad.ops.selection import convert_element_type_p, select_p, stop_gradient_p
from minigrad.ops.shape import (
    broadcast_to_p,
    concatenate_p,
    pad_p,
    reduce_sum_p,
    reshape_p,
    slice_p,
    transpose_p,
)
from minigrad.ops.sorting import argsort_p, sort_p
from minigrad.transforms.jit.array_api import library_dtype
from minigrad.transforms.jit.array_api_einsum import einsum_standard

__all__ = [
    "ARRAY_API_LOWERINGS",
    "NoArrayApiLoweringError",
    "VIEWS",
    "array_api_lowering",
    "array_api_rule",
    "unsupported",
    "index_parts",
    "index_source",
    "is_index_array",
    "linear_index_source",
    "element_positions",
    "complex_from_parts",
    "UFUNC_LOWERINGS",
    "UFUNC_LOWERING_LOADERS",
    "elementwise_by_blocks_array_api",
    "apply_by_blocks",
    "positive_steps",
    "set_items",
]


# NumPy ufuncs and the Array API standard function of the same meaning.
_STANDARD_NAMES = {
    np.add: "add", np.subtract: "subtract", np.multiply: "multiply", np.divide: "divide",
    np.negative: "negative", np.power: "pow", np.maximum: "maximum", np.minimum: "minimum",
    np.exp: "exp", np.log: "log", np.log1p: "log1p", np.expm1: "expm1", np.log2: "log2",
    np.log10: "log10", np.sqrt: "sqrt", np.sin: "sin", np.cos: "cos", np.tan: "tan",
    np.tanh: "tanh", np.arctan: "atan", np.absolute: "abs", np.sign: "sign", np.sinh: "sinh",
    np.cosh: "cosh", np.arcsin: "asin", np.arccos: "acos", np.arcsinh: "asinh",
    np.arccosh: "acosh", np.arctanh: "atanh", np.arctan2: "atan2", np.hypot: "hypot",
    np.conjugate: "conj", np.square: "square", np.equal: "equal", np.not_equal: "not_equal",
    np.less: "less", np.less_equal: "less_equal", np.greater: "greater",
    np.greater_equal: "greater_equal", np.isfinite: "isfinite", np.isnan: "isnan",
    np.isinf: "isinf", np.signbit: "signbit", np.bitwise_and: "bitwise_and",
    np.bitwise_or: "bitwise_or", np.bitwise_xor: "bitwise_xor", np.invert: "bitwise_invert",
    np.floor: "floor", np.ceil: "ceil", np.trunc: "trunc", np.rint: "round",
    np.floor_divide: "floor_divide", np.remainder: "remainder", np.logaddexp: "logaddexp",
    np.left_shift: "bitwise_left_shift", np.right_shift: "bitwise_right_shift",
    np.nextafter: "nextafter",
}  # fmt: skip


class NoArrayApiLoweringError(NotImplementedError):
    """A program holds a primitive that has no Array API lowering (on its library)."""


def unsupported(ctx, what: str):
    """The error for an equation this library cannot compute with the standard calls."""
    return NoArrayApiLoweringError(
        f"jit: {ctx.primitive.name} {what} has no Array API lowering for {ctx.library} arrays; "
        "compute this part on NumPy arrays (mg.device_get)."
    )


def _standard_call(function: str):
    def standard_call(ctx, *args, **params):
        return f"{ctx.xp}.{function}({', '.join(args)})"

    standard_call.__name__ = f"{function}_array_api"
    return standard_call


ARRAY_API_LOWERINGS: dict = {}


# Lowerings of ufuncs outside the standard (SciPy's special functions: array_api_special),
# keyed by the ufunc, for the elementwise primitives whose implementation it is; the
# loaders fill the table once the ufuncs' library is imported (SciPy is loaded only when
# a program uses it, never by minigrad itself).
UFUNC_LOWERINGS: dict = {}
UFUNC_LOWERING_LOADERS: list = []


def _ufunc_lowering(ufunc):
    rule = UFUNC_LOWERINGS.get(ufunc)
    if rule is None:
        for load in UFUNC_LOWERING_LOADERS:
            load()
        rule = UFUNC_LOWERINGS.get(ufunc)
    return rule


def array_api_lowering(primitive):
    """The Array API lowering of ``primitive``, or None.

    An elementwise primitive whose implementation is a NumPy ufunc with a standard
    counterpart gets the standard call (found when first asked: primitives are declared
    in many modules); one whose ufunc has a lowering of its own gets that; any other
    elementwise primitive gets ``elementwise_by_blocks_array_api``.
    """
    rule = ARRAY_API_LOWERINGS.get(primitive)
    if rule is None and primitive in ELEMENTWISE_PRIMITIVES:
        if isinstance(primitive.impl, np.ufunc):
            function = _STANDARD_NAMES.get(primitive.impl)
            if function is not None:
                rule = ARRAY_API_LOWERINGS[primitive] = _standard_call(function)
            else:
                rule = _ufunc_lowering(primitive.impl)
        if rule is None:
            rule = elementwise_by_blocks_array_api
    return rule


def elementwise_by_blocks_array_api(ctx, *args, **params):
    """An elementwise primitive outside the standard: on Dask arrays, whose blocks are
    NumPy arrays, its own NumPy implementation on each block (NumPy's and SciPy's values
    exactly); refused on other libraries."""
    if ctx.library != "dask.array":
        raise NoArrayApiLoweringError(
            f"jit: {ctx.primitive.name} has no Array API lowering for {ctx.library} arrays: the "
            "standard has no such function. It runs on Dask arrays (its NumPy implementation on "
            "each block); otherwise compute this part on NumPy arrays (mg.device_get)."
        )
    blocks = functools.partial(
        apply_by_blocks, functools.partial(ctx.primitive.impl, **params), ctx.out_avals[0].dtype
    )
    return f"{ctx.constant(blocks, f'{ctx.primitive.name}_by_blocks')}({', '.join(args)})"


def apply_by_blocks(function, dtype, *arrays):
    """``function`` (elementwise, of NumPy arrays) on each block of the Dask ``arrays``,
    broadcast together as NumPy would."""
    dask_array = importlib.import_module("dask.array")
    arrays = dask_array.broadcast_arrays(*arrays)
    meta = np.empty((0,) * len(arrays[0].shape), dtype)  # the kind of block: none is computed to learn it
    return dask_array.map_blocks(function, *arrays, dtype=dtype, meta=meta)


def array_api_rule(primitive):
    """Register the decorated function as ``primitive``'s Array API lowering."""

    def register(rule):
        ARRAY_API_LOWERINGS[primitive] = rule
        return rule

    return register


VIEWS = frozenset(
    {reshape_p, transpose_p, broadcast_to_p, slice_p, stop_gradient_p, gather_p, reduce_max_p, reduce_min_p}
)


@array_api_rule(integer_pow_p)
def integer_pow_array_api(ctx, x, *, y):
    if y == 2:
        return f"{x} * {x}"
    if y < 0:
        if ctx.out_avals[0].dtype.kind not in "fc":
            raise unsupported(ctx, "with a negative exponent on integers")
        return f"1 / ({x} ** {-int(y)})"
    return f"{x} ** {int(y)}"


@array_api_rule(logistic_p)
def logistic_array_api(ctx, x):
    # As the NumPy implementation: exp of a non-positive number only, so it never overflows.
    xp = ctx.xp
    return f"(lambda e: {xp}.where({x} >= 0, 1 / (1 + e), e / (1 + e)))({xp}.exp(-{xp}.abs({x})))"


@array_api_rule(cbrt_p)
def cbrt_array_api(ctx, x):
    # Not in the standard: the real cube root from the sign and |x| ** (1/3).
    return f"{ctx.xp}.sign({x}) * {ctx.xp}.abs({x}) ** (1 / 3)"


@array_api_rule(select_p)
def select_array_api(ctx, cond, x, y):
    return f"{ctx.xp}.where({cond}, {x}, {y})"


@array_api_rule(convert_element_type_p)
def convert_array_api(ctx, x, *, new_dtype):
    if ctx.in_avals[0].dtype.kind == "c" and np.dtype(new_dtype).kind != "c":
        x = f"{ctx.xp}.real({x})"  # the real part, as the NumPy implementation
    return f"{ctx.xp}.astype({x}, {ctx.dtype(new_dtype)})"


@array_api_rule(stop_gradient_p)
def stop_gradient_array_api(ctx, x):
    return x


@array_api_rule(reshape_p)
def reshape_array_api(ctx, x, *, new_sizes):
    return f"{ctx.xp}.reshape({x}, {tuple(new_sizes)!r})"


@array_api_rule(transpose_p)
def transpose_array_api(ctx, x, *, permutation):
    return f"{ctx.xp}.permute_dims({x}, {tuple(permutation)!r})"


@array_api_rule(broadcast_to_p)
def broadcast_to_array_api(ctx, x, *, shape):
    return f"{ctx.xp}.broadcast_to({x}, {tuple(shape)!r})"


def _reduction(function: str, keeps_dtype: bool, of_booleans: str | None = None):
    """The standard's reduction ``function``; ``of_booleans`` the one for booleans where
    ``function`` takes numbers only (the minimum of booleans is ``all``, the maximum ``any``)."""

    def reduction(ctx, x, *, axes):
        if not axes:
            return x if not keeps_dtype else f"{ctx.xp}.astype({x}, {ctx.dtype(ctx.out_avals[0].dtype)})"
        dtype = f", dtype={ctx.dtype(ctx.out_avals[0].dtype)}" if keeps_dtype else ""
        name = of_booleans if of_booleans and ctx.in_avals[0].dtype == np.bool_ else function
        return f"{ctx.xp}.{name}({x}, axis={tuple(axes)!r}{dtype})"

    reduction.__name__ = f"{function}_array_api"
    return reduction


ARRAY_API_LOWERINGS[reduce_sum_p] = _reduction("sum", True)
ARRAY_API_LOWERINGS[reduce_prod_p] = _reduction("prod", True)
ARRAY_API_LOWERINGS[reduce_max_p] = _reduction("max", False, of_booleans="any")
ARRAY_API_LOWERINGS[reduce_min_p] = _reduction("min", False, of_booleans="all")


def _as_numbers(ctx, x) -> str:
    """``x``, booleans as int8 (False < True, as NumPy orders them): the standard's
    orderings (argmin, argmax, argsort) take numbers only."""
    if ctx.in_avals[0].dtype == np.bool_:
        return f"{ctx.xp}.astype({x}, {ctx.dtype(np.int8)})"
    return x


def _arg_reduction(function: str):
    def arg_reduction(ctx, x, *, axis):
        x = _as_numbers(ctx, x)
        return f"{ctx.xp}.astype({ctx.xp}.{function}({x}, axis={axis!r}), {ctx.dtype(np.int64)})"

    arg_reduction.__name__ = f"{function}_array_api"
    return arg_reduction


ARRAY_API_LOWERINGS[argmax_p] = _arg_reduction("argmax")
ARRAY_API_LOWERINGS[argmin_p] = _arg_reduction("argmin")


@array_api_rule(concatenate_p)
def concatenate_array_api(ctx, *xs, axis):
    return f"{ctx.xp}.concat([{', '.join(xs)}], axis={int(axis)})"


@array_api_rule(slice_p)
def slice_array_api(ctx, x, *, starts, stops):
    index = tuple(slice(a, b) for a, b in zip(starts, stops, strict=True))
    return f"{x}[{ctx.constant(index, 'ix')}]"


@array_api_rule(cumsum_p)
def cumsum_array_api(ctx, x, *, axis, reverse):
    xp, dtype = ctx.xp, ctx.dtype(ctx.out_avals[0].dtype)
    if not reverse:
        return f"{xp}.cumulative_sum({x}, axis={int(axis)}, dtype={dtype})"
    flipped = f"{xp}.flip({x}, axis={int(axis)})"
    return f"{xp}.flip({xp}.cumulative_sum({flipped}, axis={int(axis)}, dtype={dtype}), axis={int(axis)})"


@array_api_rule(argsort_p)
def argsort_array_api(ctx, x, *, axis, descending):
    xp, index = ctx.xp, ctx.dtype(np.int64)
    x = _as_numbers(ctx, x)
    if not descending:
        return f"{xp}.astype({xp}.argsort({x}, axis={int(axis)}, stable=True), {index})"
    # As the NumPy implementation: ties keep their order (a stable sort of the reversed array).
    size = ctx.in_avals[0].shape[axis]
    order = f"{xp}.argsort({xp}.flip({x}, axis={int(axis)}), axis={int(axis)}, stable=True)"
    return f"{xp}.astype({size - 1} - {xp}.flip({order}, axis={int(axis)}), {index})"


@array_api_rule(sort_p)
def sort_array_api(ctx, x, *, axis):
    # Stable, so -0.0 and 0.0 (and NaNs of different bits) keep their order, as on NumPy.
    return f"{ctx.xp}.sort({x}, axis={int(axis)}, stable=True)"


@array_api_rule(roll_p)
def roll_array_api(ctx, x, *, shifts, axes):
    return f"{ctx.xp}.roll({x}, shift={tuple(int(s) for s in shifts)}, axis={tuple(int(a) for a in axes)})"


@array_api_rule(clip_p)
def clip_array_api(ctx, x, lo, hi):
    # np.clip(x, lo, hi) is minimum(maximum(x, lo), hi); the standard's clip takes array
    # bounds only from its 2024.12 revision on, so the two calls are written out.
    return f"{ctx.xp}.minimum({ctx.xp}.maximum({x}, {lo}), {hi})"


ARRAY_API_LOWERINGS[real_p] = _standard_call("real")
ARRAY_API_LOWERINGS[imag_p] = _standard_call("imag")


def complex_from_parts(xp, device, dtype, x, y):
    """The complex array ``x + 1j * y``, each part exactly ``x`` and ``y`` (infinities,
    NaNs and the sign of zero included), in standard calls.

    The standard has no function that builds a complex number from its parts, and
    ``x + 1j * y`` is not one: ``1j * inf`` is ``nan + inf*j``, and ``+0.0`` added to
    ``-0.0`` loses the sign. So the sum is arranged with exact steps only:
    ``conj(x + 0j)`` is ``(x, -0)`` and ``-0`` is the identity of addition; the other
    addend, ``(-0, y)``, is ``y * 1j`` (``(0*y - 0, y + 0)``: its imaginary part is ``y``
    unless ``y`` is ``-0``, its real part a zero with the sign of ``y``), negated and
    conjugated where that zero is ``+0``; ``-0``, infinities and NaNs come from constants.

    Example:
      >>> import numpy as np
      >>> z = complex_from_parts(np, "cpu", np.complex128, np.array([-0.0, 1.0]), np.array([np.inf, -0.0]))
      >>> z.real, z.imag
      (array([-0.,  1.]), array([inf, -0.]))
    """

    def imaginary(value):
        return xp.asarray(complex(-0.0, value), dtype=dtype, device=device)

    finite = xp.isfinite(y)
    unit = xp.asarray(1j, dtype=dtype, device=device)  # (+0, 1): the signs above rely on it
    rotated = xp.astype(xp.where(finite, y, xp.zeros_like(y)), dtype) * unit
    addend = xp.where(xp.signbit(y), rotated, -xp.conj(rotated))
    special = xp.where(
        xp.isnan(y), imaginary(math.nan), xp.where(y > 0, imaginary(math.inf), imaginary(-math.inf))
    )
    addend = xp.where(finite, addend, special)
    addend = xp.where((y == 0) & xp.signbit(y), imaginary(-0.0), addend)
    return xp.conj(xp.astype(x, dtype)) + addend


@array_api_rule(complex_p)
def complex_array_api(ctx, x, y):
    if ctx.library == "torch":
        return f"{ctx.xp}.complex({x}, {y})"  # torch's own, exact
    build = functools.partial(
        complex_from_parts, ctx.xp_module, ctx.device, library_dtype(ctx.xp_module, ctx.out_avals[0].dtype)
    )
    return f"{ctx.constant(build, 'complex_from_parts')}({x}, {y})"


@array_api_rule(pad_p)
def pad_array_api(ctx, x, *, widths):
    # Not in the standard: zeros of the padded shape, with `x` assigned inside.
    out = ctx.out_avals[0]
    inside = tuple(slice(lo, size - hi) for (lo, hi), size in zip(widths, out.shape, strict=True))
    zeros = f"{ctx.xp}.zeros({tuple(out.shape)!r}, dtype={ctx.dtype(out.dtype)}, device={ctx.constant(ctx.device, 'device')})"
    return f"{ctx.constant(set_items, 'set_items')}({zeros}, {ctx.constant(inside, 'ix')}, {x})"


@array_api_rule(einsum_p)
def einsum_array_api(ctx, *operands, subscripts):
    # Not in the standard: the library's own einsum where it has one (torch, CuPy, Dask),
    # else pairwise matmul contractions in standard calls (array_api_einsum).
    if getattr(ctx.xp_module, "einsum", None) is None:
        contract = ctx.constant(functools.partial(einsum_standard, ctx.xp_module), "einsum_standard")
        return f"{contract}({subscripts!r}, {', '.join(operands)})"
    return f"{ctx.xp}.einsum({subscripts!r}, {', '.join(operands)})"


@array_api_rule(matmul_p)
def matmul_array_api(ctx, a, b):
    return f"{ctx.xp}.matmul({a}, {b})"


class IndexArray(str):
    """An index array's name in the generated code (told apart from other entries)."""


def is_index_array(part) -> bool:
    return isinstance(part, IndexArray)


def index_parts(indexer, arrays) -> tuple:
    """The index tuple with each index array as its ``IndexArray`` name."""
    return numpy_index(indexer, [IndexArray(a) for a in arrays])


def index_source(ctx, parts, ndim: int) -> str:
    # The standard wants every axis indexed: a trailing `...` stands for the rest.
    written = []
    for part in parts:
        if isinstance(part, IndexArray):
            written.append(part)
        elif isinstance(part, slice):
            written.append(ctx.constant(part, "s"))
        else:
            written.append(repr(part))  # an int, or None for a new axis
    if sum(part is not None for part in parts) < ndim:
        written.append("...")
    return "(" + "".join(part + ", " for part in written) + ")"


_FULL = slice(None)


@array_api_rule(gather_p)
def gather_array_api(ctx, x, *arrays, indexer):
    parts = index_parts(indexer, arrays)
    sources = [i for i, part in enumerate(parts) if isinstance(part, IndexArray)]
    if len(sources) == 1 and all(part == _FULL for part in parts if not isinstance(part, IndexArray)):
        # One index array along one axis: the standard's `take` (libraries such as
        # array-api-strict allow index arrays only next to integers).
        axis = sources[0]
        index = f"({parts[axis]} % {ctx.in_avals[0].shape[axis]})"  # negative indices count from the end
        if ctx.in_avals[1].ndim != 1:
            index = f"{ctx.xp}.reshape({index}, (-1,))"
        taken = f"{ctx.xp}.take({x}, {index}, axis={axis})"
        if ctx.in_avals[1].ndim == 1:
            return taken
        return f"{ctx.xp}.reshape({taken}, {tuple(ctx.out_avals[0].shape)!r})"
    if all(isinstance(part, IndexArray) for part in parts):
        # Index arrays on the leading axes: one `take` of the flat index into those axes
        # (Dask has no multi-dimensional fancy indexing).
        shape = ctx.in_avals[0].shape
        leading, rest = shape[: len(parts)], tuple(shape[len(parts) :])
        flat = f"{ctx.xp}.reshape({x}, {(math.prod(leading), *rest)!r})"
        taken = f"{ctx.xp}.take({flat}, {linear_index_source(ctx, parts, leading)}, axis=0)"
        return f"{ctx.xp}.reshape({taken}, {tuple(ctx.out_avals[0].shape)!r})"
    if sources and ctx.library != "torch":
        # Index arrays mixed with slices, integers or new axes: array-api-strict allows
        # index arrays only next to integers, Dask one index array. One `take` of each
        # selected element's flat position works everywhere (torch indexes as NumPy).
        shape = tuple(ctx.in_avals[0].shape)
        positions = functools.partial(element_positions, ctx.xp_module, ctx.device, shape, indexer)
        flat_index = (
            f"{ctx.xp}.reshape({ctx.constant(positions, 'element_positions')}([{', '.join(arrays)}]), (-1,))"
        )
        taken = f"{ctx.xp}.take({ctx.xp}.reshape({x}, (-1,)), {flat_index})"
        return f"{ctx.xp}.reshape({taken}, {tuple(ctx.out_avals[0].shape)!r})"
    parts, flipped, _ = positive_steps(parts, ctx.in_avals[0].shape)
    if flipped:
        x = f"{ctx.xp}.flip({x}, axis={flipped!r})"
    return f"{x}[{index_source(ctx, parts, ctx.in_avals[0].ndim)}]"


def positive_steps(parts, shape) -> tuple[list, tuple, tuple]:
    """The index with each negative-step slice made a positive-step slice of the flipped
    axis (torch takes no negative steps): ``(parts, operand_axes, result_axes)``, the
    axes to flip in the indexed array and in the selection.

    Example:
      >>> positive_steps([slice(None, None, -1), slice(2, 0, -1)], (4, 3))
      ([slice(0, 4, 1), slice(0, 2, 1)], (0, 1), (0, 1))
    """
    parts, flipped, flipped_results, axis, result_axis = list(parts), [], [], 0, 0
    if any(part is Ellipsis for part in parts):  # the axes it stands for, as full slices
        at = parts.index(Ellipsis)
        consumed = sum(part is not None for part in parts) - 1
        parts[at : at + 1] = [slice(None)] * (len(shape) - consumed)
    for position, part in enumerate(parts):
        if part is None:  # a new axis: one of the selection's, none of the operand's
            result_axis += 1
            continue
        if isinstance(part, slice):
            if part.step is not None and part.step < 0:
                size = shape[axis]
                start, stop, step = part.indices(size)
                # Element i of the axis is element size - 1 - i of the flipped axis.
                parts[position] = slice(size - 1 - start, size - 1 - stop, -step)
                flipped.append(axis)
                flipped_results.append(result_axis)
            result_axis += 1
        axis += 1
    return parts, tuple(flipped), tuple(flipped_results)


def linear_index_source(ctx, parts, leading) -> str:
    """The flat index (a 1-d array) into the leading axes ``leading`` that the index
    arrays ``parts`` (one per axis, broadcasting together) pick."""
    strides = [math.prod(leading[k + 1 :]) for k in range(len(leading))]
    terms = [
        f"({part} % {size}) * {stride}" for part, size, stride in zip(parts, leading, strides, strict=True)
    ]
    return f"{ctx.xp}.reshape({' + '.join(terms)}, (-1,))"


def element_positions(xp, device, shape, indexer, arrays):
    """The flat position, in a C-ordered array of ``shape``, of each element of ``x[index]``.

    Args:
      xp: the array namespace; device: where the result lives.
      shape: the indexed array's shape; indexer, arrays: the index, as ``gather`` takes it.

    Returns:
      An ``int64`` array of the indexed shape (negative indices count from the end).

    Example:
      >>> import numpy as np
      >>> element_positions(np, "cpu", (3, 4), (("array", 0), ("slice", None, None, 2)), [np.array([2, 0])])
      array([[ 8, 10],
             [ 0,  2]])
    """
    parts = list(numpy_index(indexer, arrays))
    parts += [_FULL] * (len(shape) - sum(part is not None for part in parts))
    basic = [isinstance(part, slice) or part is None for part in parts]
    batch = tuple(np.broadcast_shapes(*(tuple(a.shape) for a in arrays)))
    # NumPy's layout: the index arrays (and the integers among them) broadcast to one
    # block of axes, standing where the first of them does if they are adjacent, else in
    # front; each slice and new axis has an axis of its own, in order.
    advanced = [i for i, is_basic in enumerate(basic) if not is_basic] if arrays else []
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1)) if advanced else True
    batch_at = sum(basic[: advanced[0]]) if advanced and adjacent else 0
    result_shape, axis_of = [1] * (sum(basic) + len(batch)), {}
    for position in [i for i, is_basic in enumerate(basic) if is_basic]:
        before = len(axis_of)
        axis_of[position] = before if before < batch_at else before + len(batch)
    result_shape[batch_at : batch_at + len(batch)] = batch
    terms, offset, axis = [], 0, 0
    for position, part in enumerate(parts):
        if part is None:
            continue  # an axis of length 1 in the selection, none in the array
        size, stride = shape[axis], math.prod(shape[axis + 1 :])
        axis += 1
        placed = [1] * len(result_shape)
        if isinstance(part, slice):
            coordinates = xp.arange(*part.indices(size), dtype=xp.int64, device=device) * stride
            placed[axis_of[position]] = result_shape[axis_of[position]] = coordinates.shape[0]
            terms.append(xp.reshape(coordinates, tuple(placed)))
        elif isinstance(part, (int, np.integer)):
            offset += (int(part) % size) * stride
        else:
            index = (xp.astype(part, xp.int64) % size) * stride
            placed[batch_at + len(batch) - len(index.shape) : batch_at + len(batch)] = index.shape
            terms.append(xp.reshape(index, tuple(placed)))
    positions = xp.zeros(tuple(result_shape), dtype=xp.int64, device=device) + offset
    for term in terms:
        positions = positions + term
    return positions


def set_items(zeros, index, updates):
    """Scatter-add without array indices (no element is repeated): an assignment."""
    zeros[index] = updates
    return zeros
