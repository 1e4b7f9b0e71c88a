"""The error function family and the normal distribution's ``ndtr``, ``ndtri`` and
``log_ndtr``, as elementwise primitives whose values come from SciPy's ufuncs.

Every derivative here is a Gaussian ``exp(-x²)`` divided or multiplied by something;
where a ratio of two tiny numbers appears (``log_ndtr``'s ``pdf / cdf`` for very
negative ``x``) it is rewritten with the scaled complementary error function
``erfcx(x) = exp(x²) erfc(x)``, which neither underflows nor overflows there.

Example:
    >>> import minigrad as mg
    >>> round(float(mg.grad(log_ndtr)(-40.0)), 6)  # about -x for very negative x, never nan or 0
    40.024969
"""

from __future__ import annotations

import math

from minigrad.core.trace import bind
from minigrad.ops.elementwise import declare_elementwise, div, exp, mul, neg, square, sub
from minigrad.scipy._requirement import require_scipy
from minigrad.scipy.special._operands import real_float_operands

_special = require_scipy("special")

__all__ = ["erf", "erfc", "erfcx", "erfinv", "ndtr", "ndtri", "log_ndtr"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_HALF = math.sqrt(0.5)


def _gaussian(x):
    """``exp(-x²)``."""
    return exp(neg(square(x)))


def erf_linear(g, ans, x):
    return mul(g, mul(_gaussian(x), _TWO_OVER_SQRT_PI))


erf_p = declare_elementwise("erf", _special.erf, erf_linear)


def erf(x):
    """The error function ``2/√π ∫₀ˣ exp(-t²) dt``.

    Args:
      x: real array-like.

    Returns:
      ``erf(x)``, with the dtype of ``x`` (float64 for integers).

    Example:
      >>> round(float(erf(0.5)), 12)
      0.520499877813
    """
    (x,) = real_float_operands("erf", x)
    return bind(erf_p, x)


def erfc_linear(g, ans, x):
    return mul(g, mul(_gaussian(x), -_TWO_OVER_SQRT_PI))


erfc_p = declare_elementwise("erfc", _special.erfc, erfc_linear)


def erfc(x):
    """The complementary error function ``1 - erf(x)``, accurate where it is tiny (large ``x``).

    Example:
      >>> float(erfc(10.0))
      2.088487583762545e-45
    """
    (x,) = real_float_operands("erfc", x)
    return bind(erfc_p, x)


def erfcx_linear(g, ans, x):
    # d/dx exp(x²) erfc(x) = 2x erfcx(x) - 2/√π
    return mul(g, sub(mul(mul(x, ans), 2.0), _TWO_OVER_SQRT_PI))


erfcx_p = declare_elementwise("erfcx", _special.erfcx, erfcx_linear)


def erfcx(x):
    """The scaled complementary error function ``exp(x²) erfc(x)`` (no overflow for large ``x``).

    Example:
      >>> round(float(erfcx(30.0)), 15)
      0.018795888861416
    """
    (x,) = real_float_operands("erfcx", x)
    return bind(erfcx_p, x)


def erfinv_linear(g, ans, x):
    # The inverse function's derivative: 1 / erf'(y) at y = erfinv(x).
    return mul(g, mul(exp(square(ans)), _SQRT_PI_OVER_TWO))


erfinv_p = declare_elementwise("erfinv", _special.erfinv, erfinv_linear)


def erfinv(x):
    """The inverse of ``erf`` on ``(-1, 1)`` (``±inf`` at ``±1``, nan outside).

    Example:
      >>> round(float(erfinv(erf(0.3))), 15)
      0.3
    """
    (x,) = real_float_operands("erfinv", x)
    return bind(erfinv_p, x)


def ndtr_linear(g, ans, x):
    return mul(g, div(exp(mul(square(x), -0.5)), _SQRT_2PI))


ndtr_p = declare_elementwise("ndtr", _special.ndtr, ndtr_linear)


def ndtr(x):
    """The standard normal distribution function ``Φ(x)``.

    Example:
      >>> float(ndtr(0.0))
      0.5
    """
    (x,) = real_float_operands("ndtr", x)
    return bind(ndtr_p, x)


def ndtri_linear(g, ans, x):
    # 1 / φ(Φ⁻¹(x)) = √(2π) exp(y²/2) at y = ndtri(x).
    return mul(g, mul(exp(mul(square(ans), 0.5)), _SQRT_2PI))


ndtri_p = declare_elementwise("ndtri", _special.ndtri, ndtri_linear)


def ndtri(p):
    """The inverse of ``ndtr``: the standard normal quantile of ``p`` in ``(0, 1)``.

    Example:
      >>> round(float(ndtri(0.975)), 12)
      1.959963984540
    """
    (p,) = real_float_operands("ndtri", p)
    return bind(ndtri_p, p)


def log_ndtr_linear(g, ans, x):
    # φ(x) / Φ(x): both underflow for very negative x, yet their ratio is about -x. With
    # Φ(x) = ½ exp(-x²/2) erfcx(-x/√2) the Gaussians cancel exactly, leaving
    # √(2/π) / erfcx(-x/√2), finite and accurate for every x (and 0 where φ underflows).
    return div(mul(g, _SQRT_2_OVER_PI), erfcx(mul(x, -_SQRT_HALF)))


log_ndtr_p = declare_elementwise("log_ndtr", _special.log_ndtr, log_ndtr_linear)


def log_ndtr(x):
    """``log(ndtr(x))``, accurate in both tails (about ``-x²/2`` for very negative ``x``).

    Its derivative ``φ(x)/Φ(x)`` is computed without underflow, so it is finite and
    nonzero far into the left tail.

    Example:
      >>> round(float(log_ndtr(-40.0)), 9)
      -804.608442014
    """
    (x,) = real_float_operands("log_ndtr", x)
    return bind(log_ndtr_p, x)
