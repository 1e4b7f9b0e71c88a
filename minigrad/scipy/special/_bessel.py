"""Exponentially scaled modified Bessel functions ``i0e(x) = exp(-|x|) I₀(x)`` and
``i1e(x) = exp(-|x|) I₁(x)``, with SciPy's ufuncs for values.

Scaling keeps them finite for large ``|x|`` (``I₀`` overflows near 710). Their
derivatives follow from ``I₀' = I₁`` and ``I₁' = I₀ - I₁/x``, minus the scale's
``sign(x)`` term; ``I₁(x)/x`` tends to ½ at 0, which the rule uses there.

Example:
    >>> import minigrad as mg
    >>> float(mg.grad(i1e)(0.0))
    0.5
"""

from __future__ import annotations

from minigrad.core.trace import bind
from minigrad.ops.elementwise import add, declare_elementwise, div, mul, select, sign, sub
from minigrad.ops.logic import equal
from minigrad.scipy._requirement import require_scipy
from minigrad.scipy.special._operands import real_float_operands

_special = require_scipy("special")

__all__ = ["i0e", "i1e"]


def i0e_linear(g, ans, x):
    return mul(g, sub(_i1e(x), mul(sign(x), ans)))


i0e_p = declare_elementwise("i0e", _special.i0e, i0e_linear)


def i0e(x):
    """``exp(-|x|) I₀(x)``, the scaled modified Bessel function of order 0.

    Example:
      >>> float(i0e(0.0))
      1.0
    """
    (x,) = real_float_operands("i0e", x)
    return bind(i0e_p, x)


def i1e_linear(g, ans, x):
    at_zero = equal(x, 0.0)
    over_x = select(at_zero, 0.5, div(ans, select(at_zero, 1.0, x)))  # i1e(x)/x → ½ at 0
    return mul(g, sub(_i0e(x), add(over_x, mul(sign(x), ans))))


i1e_p = declare_elementwise("i1e", _special.i1e, i1e_linear)


def _i0e(x):
    return bind(i0e_p, x)


def _i1e(x):
    return bind(i1e_p, x)


def i1e(x):
    """``exp(-|x|) I₁(x)``, the scaled modified Bessel function of order 1.

    Example:
      >>> round(float(i1e(1.0)), 12)
      0.20791041535
    """
    (x,) = real_float_operands("i1e", x)
    return _i1e(x)
