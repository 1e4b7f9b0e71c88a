"""Hyperbolic and inverse trigonometric functions, the two-argument ``arctan2`` and
``hypot``, and the normalised ``sinc``: elementwise primitives with their partials.

The partials are written to stay finite and accurate where the naive formula is not:
``1 - x*x`` loses every digit near ``|x| = 1`` where ``(1 - x) * (1 + x)`` keeps them;
``x*x + y*y`` overflows long before ``hypot(x, y)`` does; and the derivative of
``sin(u) / u`` cancels catastrophically near 0, where a Taylor polynomial takes over.

Example:
    >>> import numpy as np
    >>> hypot(np.array([3.0]), 4.0)
    array([5.])
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.core.lowering import lower_by_impl
from minigrad.core.trace import bind, get_aval
from minigrad.ops.elementwise import abs as absolute
from minigrad.ops.elementwise import (
    add,
    cos,
    declare_elementwise,
    div,
    mul,
    neg,
    select,
    sin,
    sqrt,
    square,
    sub,
)
from minigrad.ops.logic import equal, less
from minigrad.ops.operands import binary_operation

__all__ = [
    "sinh", "cosh", "arcsin", "arccos", "arcsinh", "arccosh", "arctanh", "arctan2", "hypot", "sinc",
]  # fmt: skip


# ---------------------------------------------------------------------------------------
# Hyperbolic functions


def sinh_linear(g, ans, x):
    return mul(g, cosh(x))


sinh_p = declare_elementwise("sinh", np.sinh, sinh_linear)


def sinh(x):
    return bind(sinh_p, x)


def cosh_linear(g, ans, x):
    return mul(g, sinh(x))


cosh_p = declare_elementwise("cosh", np.cosh, cosh_linear)


def cosh(x):
    return bind(cosh_p, x)


# ---------------------------------------------------------------------------------------
# Inverse trigonometric and hyperbolic functions


def _one_minus_square_root(x):
    """``sqrt(1 - x*x)``, accurate near ``|x| = 1``."""
    return sqrt(mul(sub(1.0, x), add(1.0, x)))


def arcsin_linear(g, ans, x):
    return div(g, _one_minus_square_root(x))


arcsin_p = declare_elementwise("asin", np.arcsin, arcsin_linear)


def arcsin(x):
    return bind(arcsin_p, x)


def arccos_linear(g, ans, x):
    return neg(div(g, _one_minus_square_root(x)))


arccos_p = declare_elementwise("acos", np.arccos, arccos_linear)


def arccos(x):
    return bind(arccos_p, x)


def arcsinh_linear(g, ans, x):
    if get_aval(x).dtype.kind == "c":
        return div(g, sqrt(add(square(x), 1.0)))  # hypot has no complex loop
    return div(g, hypot(x, 1.0))  # 1 / sqrt(x*x + 1) without overflow for large x


arcsinh_p = declare_elementwise("asinh", np.arcsinh, arcsinh_linear)


def arcsinh(x):
    return bind(arcsinh_p, x)


def arccosh_linear(g, ans, x):
    # Two square roots, not sqrt(x*x - 1): accurate near 1 and no overflow for large x.
    return div(g, mul(sqrt(sub(x, 1.0)), sqrt(add(x, 1.0))))


arccosh_p = declare_elementwise("acosh", np.arccosh, arccosh_linear)


def arccosh(x):
    return bind(arccosh_p, x)


def arctanh_linear(g, ans, x):
    return div(g, mul(sub(1.0, x), add(1.0, x)))


arctanh_p = declare_elementwise("atanh", np.arctanh, arctanh_linear)


def arctanh(x):
    return bind(arctanh_p, x)


# ---------------------------------------------------------------------------------------
# Functions of a point (x1, x2) of the plane: its angle and its distance from the origin.
# Both have no derivative at the origin; there their rules give 0 rather than NaN, as
# abs'(0) = 0 does, so that one point at the origin does not poison a whole gradient.


def _safe_radius(x1, x2):
    radius = hypot(x1, x2)
    return select(equal(radius, 0.0), 1.0, radius)


def arctan2_lhs_linear(g, ans, x1, x2):
    radius = _safe_radius(x1, x2)
    return mul(g, div(div(x2, radius), radius))  # x2 / (x1**2 + x2**2) without overflow


def arctan2_rhs_linear(g, ans, x1, x2):
    radius = _safe_radius(x1, x2)
    return neg(mul(g, div(div(x1, radius), radius)))


arctan2_p = declare_elementwise("atan2", np.arctan2, arctan2_lhs_linear, arctan2_rhs_linear)


arctan2 = binary_operation(arctan2_p, "arctan2")


def _safe_answer(ans):
    return select(equal(ans, 0.0), 1.0, ans)


def hypot_lhs_linear(g, ans, x1, x2):
    return mul(g, div(x1, _safe_answer(ans)))


def hypot_rhs_linear(g, ans, x1, x2):
    return mul(g, div(x2, _safe_answer(ans)))


hypot_p = declare_elementwise("hypot", np.hypot, hypot_lhs_linear, hypot_rhs_linear)


hypot = binary_operation(
    hypot_p, "hypot", "``sqrt(x1**2 + x2**2)`` without overflow or underflow (NumPy's ``hypot``)."
)


# ---------------------------------------------------------------------------------------
# sinc(x) = sin(pi x) / (pi x), and 1 at 0. Its values are NumPy's; its derivative is
# written with traceable operations, so that every order can be taken.


def sinc_impl(x):
    return np.asarray(np.sinc(x), x.dtype)


# d/du (sin(u) / u) = (u cos u - sin u) / u**2 = sum over k >= 1 of
# (-1)**k 2k u**(2k - 1) / (2k + 1)!. For |u| < 1 nine terms leave an error below 1e-18,
# where the closed form would cancel (both of its terms are near 1/u).
_SERIES_BOUND = 1.0
_SERIES = tuple((-1) ** k * 2 * k / math.factorial(2 * k + 1) for k in range(1, 10))


def _sin_ratio_derivative_series(u):
    u2 = square(u)
    total = _SERIES[-1]
    for coefficient in reversed(_SERIES[:-1]):
        total = add(mul(total, u2), coefficient)
    return mul(total, u)


def _sin_ratio_derivative(u):
    """d/du (sin(u) / u), accurate for every u and differentiable again (0 at u = 0)."""
    near_zero = less(absolute(u), _SERIES_BOUND)
    far = select(near_zero, 1.0, u)  # the closed form never sees a small u, even unselected
    closed_form = div(sub(mul(far, cos(far)), sin(far)), square(far))
    return select(near_zero, _sin_ratio_derivative_series(u), closed_form)


def sinc_linear(g, ans, x):
    return mul(g, mul(_sin_ratio_derivative(mul(x, math.pi)), math.pi))


sinc_p = declare_elementwise("sinc", sinc_impl, sinc_linear)
sinc_p.def_lowering(lower_by_impl)


def sinc(x):
    """``sin(pi x) / (pi x)``, 1 at 0; its derivative at 0 is 0 and every higher one finite."""
    return bind(sinc_p, x)
