"""Reductions over axes: max, min, prod, the 2-norm and the index-valued argmax/argmin.

(``reduce_sum`` lives in ``shape.py`` as the transpose of broadcasting.) Axes are a
sorted tuple of non-negative ints and are dropped from the result; ``keepdims`` is a
reshape that ``minigrad.numpy`` adds.

Ties in ``max``/``min`` share the gradient equally among the tied elements. The 2-norm
``sqrt(Σ x²)`` is one primitive (NumPy computes it in one pass, where a composition pays
for five arrays); its gradient ``x / ‖x‖`` is taken as 0 where the norm is 0, the
convention of ``abs'(0) = 0``.

Example:
    >>> import numpy as np
    >>> reduce_max(np.array([[1.0, 5.0], [7.0, 2.0]]), (1,))
    array([5., 7.])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.ir import Eqn, ShapedArray, Var
from minigrad.core.lowering import FRESH, Code, lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.rewrite import literal, operand_producer
from minigrad.core.trace import bind, get_aval
from minigrad.ops.elementwise import add, convert_element_type, div, mul, mul_p, sub
from minigrad.ops.logic import equal
from minigrad.ops.reduce_kernels import lower_by_rows
from minigrad.ops.shape import (
    _check_axes,
    broadcast_to,
    broadcast_to_p,
    concatenate,
    expand_dims,
    reduce_sum,
    reduce_sum_p,
    reduction_batch_rule,
    reshape,
    reshape_p,
    slice_axis,
    transpose,
)

__all__ = ["reduce_max", "reduce_min", "reduce_prod", "root_sum_squares", "argmax", "argmin"]


def _reduced_shape_rule(opname):
    def reduction_shape_rule(x, *, axes):
        _check_axes(opname, x, axes)
        for axis in axes:
            if x.shape[axis] == 0 and opname in ("max", "min"):
                raise ValueError(
                    f"{opname}: cannot reduce over axis {axis} of size 0 (shape {x.shape}); it has no identity."
                )
        return ShapedArray(tuple(d for i, d in enumerate(x.shape) if i not in axes), x.dtype)

    reduction_shape_rule.__name__ = f"reduce_{opname}_shape_rule"
    return reduction_shape_rule


def _restore(reduced, axes, shape):
    """Broadcast a reduced array back over the reduced axes."""
    return broadcast_to(expand_dims(reduced, axes), shape)


def _extremum_vjp(ct, ans, x, *, axes):
    # Every element equal to the extremum gets an equal share of the cotangent.
    shape = get_aval(x).shape
    dtype = get_aval(x).dtype
    is_extremum = convert_element_type(equal(x, _restore(ans, axes, shape)), dtype)
    count = reduce_sum(is_extremum, axes)
    return mul(is_extremum, _restore(div(ct, count), axes, shape))


def _extremum_jvp(primals, tangents, ans, *, axes):
    (x,), (t,) = primals, tangents
    shape = get_aval(x).shape
    is_extremum = convert_element_type(equal(x, _restore(ans, axes, shape)), get_aval(x).dtype)
    return div(reduce_sum(mul(t, is_extremum), axes), reduce_sum(is_extremum, axes))


def reduce_max_impl(x, *, axes):
    return np.max(x, axis=axes)


def reduce_min_impl(x, *, axes):
    return np.min(x, axis=axes)


reduce_max_p = Primitive("reduce_max")
reduce_max_p.def_impl(reduce_max_impl)
reduce_max_p.def_shape_rule(_reduced_shape_rule("max"))
reduce_max_p.def_vjp(_extremum_vjp)
reduce_max_p.def_jvp(_extremum_jvp)

reduce_min_p = Primitive("reduce_min")
reduce_min_p.def_impl(reduce_min_impl)
reduce_min_p.def_shape_rule(_reduced_shape_rule("min"))
reduce_min_p.def_vjp(_extremum_vjp)
reduce_min_p.def_jvp(_extremum_jvp)


def reduce_max(x, axes):
    axes = tuple(sorted(axes))
    return bind(reduce_max_p, x, axes=axes) if axes else x


def reduce_min(x, axes):
    axes = tuple(sorted(axes))
    return bind(reduce_min_p, x, axes=axes) if axes else x


reduce_max_p.def_batch(reduction_batch_rule(reduce_max))
reduce_min_p.def_batch(reduction_batch_rule(reduce_min))


def _ufunc_reduce_lowering(ufunc):
    reduce = ufunc.reduce  # one object for every equation (each access makes a new one)
    hint = f"{ufunc.__name__}_reduce"

    def ufunc_reduce_lowering(ctx, x, *, axes):
        by_rows = lower_by_rows(ctx, x, axes, ufunc)
        if by_rows is not None:
            return by_rows
        return Code(f"{ctx.constant(reduce, hint)}({x}, {tuple(axes)!r})", FRESH)

    ufunc_reduce_lowering.__name__ = f"{ufunc.__name__}_reduce_lowering"
    return ufunc_reduce_lowering


reduce_max_p.def_lowering(_ufunc_reduce_lowering(np.maximum))
reduce_min_p.def_lowering(_ufunc_reduce_lowering(np.minimum))


# reduce_sum is declared in ``shape`` (broadcast_to's transpose needs it); its rewrite of
# a summed broadcast scalar multiplies, so it is declared here, above the arithmetic.
@reduce_sum_p.def_simplification
def sum_of_broadcast_scalar(eqn, producers):
    """``sum(broadcast_to(s, shape), axes)`` is ``s * n`` broadcast to the kept axes."""
    inner = operand_producer(eqn, producers)
    if inner is None or inner.primitive is not broadcast_to_p or inner.invars[0].aval.size != 1:
        return None
    scalar = inner.invars[0]
    full_shape = inner.params["shape"]
    count = int(np.prod([full_shape[axis] for axis in eqn.params["axes"]], dtype=np.int64))
    out_var = eqn.outvars[0]
    aval = ShapedArray(scalar.aval.shape, scalar.aval.dtype)
    product = Var(aval)
    eqns = [Eqn(mul_p, [scalar, literal(np.full(aval.shape, count), aval)], [product])]
    if aval.shape == out_var.aval.shape:
        return eqns, product
    if aval.ndim > out_var.aval.ndim:
        squeezed = Var(
            ShapedArray(aval.shape[aval.ndim - out_var.aval.ndim :] if out_var.aval.ndim else (), aval.dtype)
        )
        eqns.append(Eqn(reshape_p, [product], [squeezed], {"new_sizes": squeezed.aval.shape}))
        product = squeezed
        if product.aval.shape == out_var.aval.shape:
            return eqns, product
    eqns.append(Eqn(broadcast_to_p, [product], [out_var], {"shape": out_var.aval.shape}))
    return eqns, out_var


@reduce_sum_p.def_simplification
def sum_of_sum(eqn, producers):
    """``sum(sum(x, inner), outer)`` is one sum of ``x`` over both sets of axes.

    A gradient hoisted out of a loop makes these: a bias's gradient summed over the batch
    at each step, then over the steps, is (steps, batch, features) summed over axis 1
    and then axis 0; one sum over (0, 1) is one matrix-vector product
    (``reduce_kernels``). Floating-point sums in another order round differently, within
    the usual error of a sum. An inner sum that something else reads is still computed
    for it.
    """
    inner = operand_producer(eqn, producers)
    if inner is None or inner.primitive is not reduce_sum_p or type(inner.invars[0]) is not Var:
        return None
    kept = [axis for axis in range(inner.invars[0].aval.ndim) if axis not in inner.params["axes"]]
    axes = tuple(sorted((*inner.params["axes"], *(kept[axis] for axis in eqn.params["axes"]))))
    return Eqn(reduce_sum_p, [inner.invars[0]], eqn.outvars, {"axes": axes}, eqn.source)


# ---------------------------------------------------------------------------------------
# prod: the gradient is the product of the *other* elements. It must stay right where
# elements are zero, so it is not prod / x; and its own derivatives must stay right
# there too (a Hessian), so it is built from multiplications only: the product of the
# elements before each one times the product of those after it, each an exclusive scan.


reduce_prod_p = Primitive("reduce_prod")


def reduce_prod_impl(x, *, axes):
    return np.prod(x, axis=axes, dtype=x.dtype)  # the operand's dtype, as the shape rule says


reduce_prod_p.def_impl(reduce_prod_impl)
reduce_prod_p.def_shape_rule(_reduced_shape_rule("prod"))


def _shift_in_ones(x, distance, forward):
    """``x`` moved ``distance`` places along its last axis (towards the end if
    ``forward``), the places left empty filled with ones."""
    aval = get_aval(x)
    size = aval.shape[-1]
    ones = np.ones((*aval.shape[:-1], min(distance, size)), aval.dtype)
    last = aval.ndim - 1
    if forward:
        return concatenate([ones, slice_axis(x, last, 0, size - distance)], last)
    return concatenate([slice_axis(x, last, distance, size), ones], last)


def _cumulative_product(x, reverse):
    """Products of each element with all those before it (after it if ``reverse``)
    along the last axis, by log2(n) steps of Hillis and Steele's scan."""
    distance = 1
    while distance < get_aval(x).shape[-1]:
        x = mul(x, _shift_in_ones(x, distance, forward=not reverse))
        distance *= 2
    return x


def _product_of_others(x, axes):
    """For each element, the product of the other elements of its slice over ``axes``."""
    shape = get_aval(x).shape
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    permutation = (*kept, *axes)
    moved_shape = tuple(shape[i] for i in permutation)
    count = int(np.prod([shape[i] for i in axes], dtype=np.int64))
    rows = reshape(transpose(x, permutation), (*moved_shape[: len(kept)], count))
    if count == 0:
        return x
    before = _shift_in_ones(_cumulative_product(rows, reverse=False), 1, forward=True)
    after = _shift_in_ones(_cumulative_product(rows, reverse=True), 1, forward=False)
    others = reshape(mul(before, after), moved_shape)
    return transpose(others, tuple(np.argsort(permutation)))


def reduce_prod_vjp(ct, ans, x, *, axes):
    return mul(_restore(ct, axes, get_aval(x).shape), _product_of_others(x, axes))


def reduce_prod_jvp(primals, tangents, ans, *, axes):
    (x,), (t,) = primals, tangents
    return reduce_sum(mul(t, _product_of_others(x, axes)), axes)


reduce_prod_p.def_vjp(reduce_prod_vjp)
reduce_prod_p.def_jvp(reduce_prod_jvp)


def reduce_prod(x, axes):
    axes = tuple(sorted(axes))
    return bind(reduce_prod_p, x, axes=axes) if axes else x


reduce_prod_p.def_batch(reduction_batch_rule(reduce_prod))
reduce_prod_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# root_sum_squares: the 2-norm over axes


root_sum_squares_p = Primitive("root_sum_squares")


@root_sum_squares_p.def_impl
def root_sum_squares_impl(x, *, axes):
    if len(axes) == x.ndim and x.flags.c_contiguous:
        flat = x.reshape(-1)
        return np.asarray(np.sqrt(np.dot(flat, flat)))  # one BLAS pass, no temporary, as NumPy's norm
    return np.sqrt(np.add.reduce(x * x, axis=axes))


@root_sum_squares_p.def_shape_rule
def root_sum_squares_shape_rule(x, *, axes):
    if x.dtype.kind != "f":
        raise TypeError(f"root_sum_squares: expected a real floating-point array, got {x.dtype}.")
    _check_axes("root_sum_squares", x, axes)
    return ShapedArray(tuple(d for i, d in enumerate(x.shape) if i not in axes), x.dtype)


def _inverse_norm(norm):
    """``1 / norm``, and 0 where the norm is 0: the gradient there is 0, and so is its
    derivative (a Hessian at the origin), since both are multiplied by this mask."""
    is_zero = convert_element_type(equal(norm, 0.0), get_aval(norm).dtype)
    return div(sub(1.0, is_zero), add(norm, is_zero))


def root_sum_squares_vjp(ct, ans, x, *, axes):
    return mul(x, _restore(mul(ct, _inverse_norm(ans)), axes, get_aval(x).shape))


root_sum_squares_p.def_vjp(root_sum_squares_vjp)


@root_sum_squares_p.def_jvp
def root_sum_squares_jvp(primals, tangents, ans, *, axes):
    (x,), (t,) = primals, tangents
    return mul(reduce_sum(mul(x, t), axes), _inverse_norm(ans))


def root_sum_squares(x, axes):
    """``sqrt(Σ x²)`` over ``axes`` (a tuple of non-negative ints), the axes dropped."""
    return bind(root_sum_squares_p, x, axes=tuple(sorted(axes)))


root_sum_squares_p.def_batch(reduction_batch_rule(root_sum_squares))
root_sum_squares_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# argmax / argmin: integer results, no derivative.


def _arg_shape_rule(opname):
    def arg_shape_rule(x, *, axis):
        _check_axes(opname, x, (axis,))
        if x.shape[axis] == 0:
            raise ValueError(f"{opname}: axis {axis} of shape {x.shape} is empty.")
        return ShapedArray(tuple(d for i, d in enumerate(x.shape) if i != axis), np.dtype(np.int64))

    arg_shape_rule.__name__ = f"{opname}_shape_rule"
    return arg_shape_rule


def argmax_impl(x, *, axis):
    return np.argmax(x, axis=axis).astype(np.int64, copy=False)


def argmin_impl(x, *, axis):
    return np.argmin(x, axis=axis).astype(np.int64, copy=False)


argmax_p = Primitive("argmax")
argmax_p.def_impl(argmax_impl)
argmax_p.def_shape_rule(_arg_shape_rule("argmax"))
argmax_p.def_nondifferentiable()

argmin_p = Primitive("argmin")
argmin_p.def_impl(argmin_impl)
argmin_p.def_shape_rule(_arg_shape_rule("argmin"))
argmin_p.def_nondifferentiable()


def argmax(x, axis: int):
    return bind(argmax_p, x, axis=int(axis))


def argmin(x, axis: int):
    return bind(argmin_p, x, axis=int(axis))


def _arg_batch_rule(function):
    def arg_batch(args, dims, *, axis):
        (x,), (dim,) = args, dims
        full_axis = axis if axis < dim else axis + 1
        return function(x, full_axis), dim if dim < full_axis else dim - 1

    arg_batch.__name__ = f"{function.__name__}_batch"
    return arg_batch


argmax_p.def_batch(_arg_batch_rule(argmax))
argmin_p.def_batch(_arg_batch_rule(argmin))
argmax_p.def_lowering(lower_by_impl)
argmin_p.def_lowering(lower_by_impl)
