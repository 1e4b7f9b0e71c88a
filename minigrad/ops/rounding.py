"""Rounding and modular arithmetic: ``floor ceil trunc rint``, ``floor_divide``,
``remainder`` (Python's ``%``) and ``fmod`` (C's), elementwise, with their partials.

Rounding is piecewise constant, so its derivative is zero wherever it exists, and zero is
what these rules give everywhere, as JAX does. A remainder ``x - q * y`` has the integer
quotient ``q`` constant between its jumps: its partials are 1 for ``x`` and ``-q`` for
``y``. Integers take the same primitives, and have no derivative.

Example:
    >>> import numpy as np
    >>> remainder(np.array([-7.0, 7.0]), 3.0)
    array([2., 1.])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.trace import bind
from minigrad.ops.elementwise import declare_elementwise, div, mul, neg, sub, zero_linear
from minigrad.ops.operands import binary_operation

__all__ = ["floor", "ceil", "trunc", "rint", "floor_divide", "remainder", "fmod"]


floor_p = declare_elementwise("floor", np.floor, zero_linear)
ceil_p = declare_elementwise("ceil", np.ceil, zero_linear)
trunc_p = declare_elementwise("trunc", np.trunc, zero_linear)
rint_p = declare_elementwise("rint", np.rint, zero_linear)  # halves to even, as NumPy rounds


def floor(x):
    return bind(floor_p, x)


def ceil(x):
    return bind(ceil_p, x)


def trunc(x):
    return bind(trunc_p, x)


def rint(x):
    """Round to the nearest integer, halves to even; floats only (integers are already)."""
    return bind(rint_p, x)


floor_divide_p = declare_elementwise(
    "floor_divide", np.floor_divide, zero_linear, zero_linear, operator="{0} // {1}"
)


floor_divide = binary_operation(floor_divide_p, "floor_divide")


def remainder_lhs_linear(g, ans, x, y):
    return g


def _quotient(ans, x, y):
    """The integer ``q`` with ``x = q * y + ans``: recovered from the remainder itself, so it
    agrees with the function even where ``x / y`` rounds across an integer."""
    return rint(div(sub(x, ans), y))


def remainder_rhs_linear(g, ans, x, y):
    return neg(mul(g, _quotient(ans, x, y)))


remainder_p = declare_elementwise(
    "rem", np.remainder, remainder_lhs_linear, remainder_rhs_linear, operator="{0} % {1}"
)


remainder = binary_operation(
    remainder_p, "remainder", "``x - floor(x / y) * y``: the sign of ``y``, as Python's ``%``."
)


fmod_p = declare_elementwise("fmod", np.fmod, remainder_lhs_linear, remainder_rhs_linear)


fmod = binary_operation(fmod_p, "fmod", "``x - trunc(x / y) * y``: the sign of ``x``, as C's ``fmod``.")
