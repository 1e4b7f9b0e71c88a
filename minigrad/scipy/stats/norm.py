"""The normal distribution ``N(loc, scale²)``: ``logpdf pdf cdf logcdf``, written with
minigrad functions, so they are differentiable in ``x``, ``loc`` and ``scale``.

Example:
    >>> round(float(logpdf(0.0)), 12)  # -log(2π)/2
    -0.918938533205
"""

from __future__ import annotations

import math

import minigrad.numpy as mnp
from minigrad.scipy.special import log_ndtr, ndtr
from minigrad.scipy.special._operands import real_float_operands

__all__ = ["logpdf", "pdf", "cdf", "logcdf"]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _standardized(opname, x, loc, scale):
    x, loc, scale = real_float_operands(f"stats.norm.{opname}", x, loc, scale)
    return (x - loc) / scale, scale


def logpdf(x, loc=0.0, scale=1.0):
    """``log`` of the normal density at ``x``.

    Example:
      >>> round(float(logpdf(1.0, loc=1.0, scale=2.0)), 12)
      -1.612085713765
    """
    z, scale = _standardized("logpdf", x, loc, scale)
    return -0.5 * z * z - mnp.log(scale) - _HALF_LOG_2PI


def pdf(x, loc=0.0, scale=1.0):
    """The normal density at ``x``.

    Example:
      >>> round(float(pdf(0.0)), 12)
      0.398942280401
    """
    return mnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0.0, scale=1.0):
    """``P(X <= x)``.

    Example:
      >>> float(cdf(3.0, loc=3.0))
      0.5
    """
    z, _ = _standardized("cdf", x, loc, scale)
    return ndtr(z)


def logcdf(x, loc=0.0, scale=1.0):
    """``log P(X <= x)``, accurate and with a finite gradient far into the left tail.

    Example:
      >>> round(float(logcdf(-40.0)), 6)
      -804.608442
    """
    z, _ = _standardized("logcdf", x, loc, scale)
    return log_ndtr(z)
