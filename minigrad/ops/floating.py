"""The binary representation of floating-point numbers: ``ldexp`` (``x * 2**n``, exact),
the exponent of ``frexp``, and the neighbours ``nextafter`` and ``spacing``.

``ldexp`` is linear in its floating operand, whose partial is ``ldexp(g, n)``; its
integer exponent has none. The others are piecewise constant or step to the next
representable number, and have no derivative.

Example:
    >>> import numpy as np
    >>> ldexp(np.array([1.5, 3.0]), np.array([2, -1]))
    array([6. , 1.5])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.trace import bind
from minigrad.ops.elementwise import declare_elementwise
from minigrad.ops.logic import declare_no_derivative
from minigrad.ops.operands import binary_operation, broadcast_shapes

__all__ = ["ldexp", "frexp_exponent", "nextafter", "spacing"]


def ldexp_shape_rule(x, exponent):
    if x.dtype.kind != "f" or exponent.dtype.kind not in "iu":
        raise TypeError(f"ldexp: needs a float and an integer exponent, got {x.dtype} and {exponent.dtype}.")
    return ShapedArray(broadcast_shapes("ldexp", x.shape, exponent.shape), x.dtype)


def ldexp_lhs_linear(g, ans, x, exponent):
    return ldexp(g, exponent)


ldexp_p = declare_elementwise("ldexp", np.ldexp, ldexp_lhs_linear, None, shape_rule=ldexp_shape_rule)


def ldexp(x, exponent):
    """``x * 2**exponent``, exactly (no rounding unless the result under- or overflows)."""
    return bind(ldexp_p, x, exponent)


def _int32_result(name, aval):
    return ShapedArray(aval.shape, np.int32)


def frexp_exponent_impl(x):
    return np.frexp(x)[1]


frexp_exponent_p = declare_no_derivative("frexp_exponent", frexp_exponent_impl, _int32_result)


def frexp_exponent(x):
    """The ``e`` of ``x = m * 2**e`` with ``0.5 <= |m| < 1`` (0 for 0, inf and NaN)."""
    return bind(frexp_exponent_p, x)


def _same_type(name, aval):
    return aval


nextafter_p = declare_no_derivative("nextafter", np.nextafter, _same_type)
spacing_p = declare_no_derivative("spacing", np.spacing, _same_type)


nextafter = binary_operation(nextafter_p, "nextafter")


def spacing(x):
    return bind(spacing_p, x)
