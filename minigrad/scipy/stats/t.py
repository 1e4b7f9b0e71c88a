"""Student's t distribution with ``df`` degrees of freedom, shifted and scaled:
``logpdf pdf cdf logcdf``.

The density is written with ``gammaln`` and ``log1p`` (differentiable in ``x``, ``df``,
``loc`` and ``scale``). The distribution function is SciPy's ``stdtr`` with minigrad's
derivative in ``x`` (the density); its derivative in ``df`` (an integral over the
incomplete beta function's parameter) is not implemented and says so when asked for.

Example:
    >>> float(cdf(0.0, df=3.0))
    0.5
"""

from __future__ import annotations

import math

import minigrad.numpy as mnp
from minigrad.core.trace import bind
from minigrad.ops.elementwise import declare_elementwise, mul
from minigrad.scipy._requirement import require_scipy
from minigrad.scipy.special import gammaln
from minigrad.scipy.special._operands import real_float_operands

_special = require_scipy("special")

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "stdtr_p"]

_LOG_PI = math.log(math.pi)


def _standard_logpdf(z, df):
    half = 0.5 * (df + 1.0)
    return gammaln(half) - gammaln(0.5 * df) - 0.5 * (mnp.log(df) + _LOG_PI) - half * mnp.log1p(z * z / df)


def stdtr_df_linear(g, ans, df, t):
    raise NotImplementedError(
        "stats.t.cdf: the derivative with respect to the degrees of freedom df is not implemented. "
        "Differentiate with respect to x, loc or scale, or wrap df in minigrad.stop_gradient."
    )


def stdtr_t_linear(g, ans, df, t):
    return mul(g, mnp.exp(_standard_logpdf(t, df)))


stdtr_p = declare_elementwise("stdtr", _special.stdtr, stdtr_df_linear, stdtr_t_linear)


def _standardized(opname, x, df, loc, scale):
    x, df, loc, scale = real_float_operands(f"stats.t.{opname}", x, df, loc, scale)
    return (x - loc) / scale, df, scale


def logpdf(x, df, loc=0.0, scale=1.0):
    """``log`` of the density of Student's t at ``x``.

    Example:
      >>> round(float(logpdf(0.0, df=1.0)), 12)  # Cauchy: -log(π)
      -1.144729885849
    """
    z, df, scale = _standardized("logpdf", x, df, loc, scale)
    return _standard_logpdf(z, df) - mnp.log(scale)


def pdf(x, df, loc=0.0, scale=1.0):
    """The density of Student's t at ``x``.

    Example:
      >>> round(float(pdf(0.0, df=1.0)), 12)  # 1/π
      0.318309886184
    """
    return mnp.exp(logpdf(x, df, loc, scale))


def cdf(x, df, loc=0.0, scale=1.0):
    """``P(X <= x)``, differentiable in ``x``, ``loc`` and ``scale`` (not in ``df``).

    Example:
      >>> round(float(cdf(1.0, df=1.0)), 12)  # Cauchy: 3/4
      0.75
    """
    z, df, _ = _standardized("cdf", x, df, loc, scale)
    return bind(stdtr_p, df, z)


def logcdf(x, df, loc=0.0, scale=1.0):
    """``log P(X <= x)`` (the t tails are polynomial, so ``cdf`` itself stays representable).

    Example:
      >>> round(float(logcdf(1.0, df=1.0)), 12)
      -0.287682072452
    """
    return mnp.log(cdf(x, df, loc, scale))
