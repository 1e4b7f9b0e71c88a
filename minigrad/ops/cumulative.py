"""Running totals along one axis: ``cumsum`` is a primitive, ``cumprod`` a scan of products.

A cumulative sum is linear: its VJP is the cumulative sum taken from the other end,
its JVP the cumulative sum of the tangent. ``cumprod`` is built from multiplications
only (Hillis and Steele's scan, log2(n) steps), so its derivatives, of every order, stay
right where elements are zero, which ``cumprod / x`` would not.

Example:
    >>> import numpy as np
    >>> cumsum(np.array([1.0, 2.0, 3.0]), axis=0)
    array([1., 3., 6.])
    >>> cumprod(np.array([[1.0, 2.0, 3.0]]), axis=1)
    array([[1., 2., 6.]])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, get_aval
from minigrad.ops.elementwise import mul
from minigrad.ops.shape import _check_axes, concatenate, slice_axis

__all__ = ["cumsum", "cumprod", "cumsum_p"]


cumsum_p = Primitive("cumsum")


@cumsum_p.def_impl
def cumsum_impl(x, *, axis, reverse):
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
    # dtype= keeps the operand's dtype, as the shape rule says (NumPy widens small ints).
    return np.cumsum(x, axis=axis, dtype=x.dtype)


@cumsum_p.def_shape_rule
def cumsum_shape_rule(x, *, axis, reverse):
    _check_axes("cumsum", x, (axis,))
    return ShapedArray(x.shape, x.dtype)


def cumsum(x, axis: int, reverse: bool = False):
    """Running sums along ``axis`` (a non-negative int); from the end if ``reverse``."""
    return bind(cumsum_p, x, axis=int(axis), reverse=bool(reverse))


def cumsum_vjp(ct, ans, x, *, axis, reverse):
    # Each input adds into every later (earlier, if reverse) output.
    return cumsum(ct, axis, not reverse)


cumsum_p.def_vjp(cumsum_vjp)


@cumsum_p.def_jvp
def cumsum_jvp(primals, tangents, ans, *, axis, reverse):
    return cumsum(tangents[0], axis, reverse)


@cumsum_p.def_batch
def cumsum_batch(args, dims, *, axis, reverse):
    (x,), (dim,) = args, dims
    return cumsum(x, axis if axis < dim else axis + 1, reverse), dim


cumsum_p.def_lowering(lower_by_impl)


def _shifted_in_ones(x, axis, distance):
    """``x`` moved ``distance`` places towards the end of ``axis``, ones coming in."""
    aval = get_aval(x)
    size = aval.shape[axis]
    ones_shape = aval.shape[:axis] + (min(distance, size),) + aval.shape[axis + 1 :]
    return concatenate([np.ones(ones_shape, aval.dtype), slice_axis(x, axis, 0, size - distance)], axis)


def cumprod(x, axis: int):
    """Running products along ``axis`` (a non-negative int), from multiplications only."""
    distance = 1
    while distance < get_aval(x).shape[axis]:
        x = mul(x, _shifted_in_ones(x, axis, distance))
        distance *= 2
    return x
