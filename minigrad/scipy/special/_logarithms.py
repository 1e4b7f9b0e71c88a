"""Logarithms and logistic functions that are careful at 0 and in the tails:
``expit``, ``logit``, ``xlogy``, ``xlog1py`` and ``entr``, with SciPy's ufuncs for values.

``xlogy(0, y)`` is 0 for every ``y`` (the convention ``0 · log 0 = 0`` of entropies and
cross-entropies); its derivatives are JAX's: ``∂/∂x = log(y)`` and ``∂/∂y = x / y``.

Example:
    >>> import numpy as np
    >>> xlogy(np.array([0.0, 2.0]), np.array([0.0, np.e]))
    array([0., 2.])
"""

from __future__ import annotations

from minigrad.core.trace import bind
from minigrad.ops.elementwise import add, declare_elementwise, div, log, log1p, mul, neg, select, sub
from minigrad.ops.logic import greater, less
from minigrad.scipy._requirement import require_scipy
from minigrad.scipy.special._operands import real_float_operands

_special = require_scipy("special")

__all__ = ["expit", "logit", "xlogy", "xlog1py", "entr"]


def expit_linear(g, ans, x):
    # σ(x) σ(-x) rather than σ(1 - σ): for large x, 1 - σ(x) rounds to 0 while σ(-x)
    # keeps its exponentially small value.
    return mul(g, mul(ans, _expit(neg(x))))


expit_p = declare_elementwise("expit", _special.expit, expit_linear)


def _expit(x):
    return bind(expit_p, x)


def expit(x):
    """The logistic sigmoid ``1 / (1 + exp(-x))``, without overflow for any ``x``.

    Example:
      >>> import numpy as np
      >>> expit(np.array([-1000.0, 0.0, 1000.0]))
      array([0. , 0.5, 1. ])
    """
    (x,) = real_float_operands("expit", x)
    return _expit(x)


def logit_linear(g, ans, x):
    return div(g, mul(x, sub(1.0, x)))


logit_p = declare_elementwise("logit", _special.logit, logit_linear)


def logit(p):
    """The inverse of ``expit``: ``log(p / (1 - p))`` for ``p`` in ``[0, 1]``.

    Example:
      >>> float(logit(0.5))
      0.0
    """
    (p,) = real_float_operands("logit", p)
    return bind(logit_p, p)


def xlogy_x_linear(g, ans, x, y):
    return mul(g, log(y))


def xlogy_y_linear(g, ans, x, y):
    return mul(g, div(x, y))


xlogy_p = declare_elementwise("xlogy", _special.xlogy, xlogy_x_linear, xlogy_y_linear)


def xlogy(x, y):
    """``x · log(y)``, and 0 where ``x`` is 0 (even if ``y`` is 0).

    Derivatives as JAX's: ``log(y)`` with respect to ``x``, ``x / y`` with respect to ``y``.

    Example:
      >>> float(xlogy(0.0, 0.0))
      0.0
    """
    x, y = real_float_operands("xlogy", x, y)
    return bind(xlogy_p, x, y)


def xlog1py_x_linear(g, ans, x, y):
    return mul(g, log1p(y))


def xlog1py_y_linear(g, ans, x, y):
    return mul(g, div(x, add(y, 1.0)))


xlog1py_p = declare_elementwise("xlog1py", _special.xlog1py, xlog1py_x_linear, xlog1py_y_linear)


def xlog1py(x, y):
    """``x · log1p(y)``, and 0 where ``x`` is 0 (even if ``y`` is -1).

    Example:
      >>> float(xlog1py(0.0, -1.0))
      0.0
    """
    x, y = real_float_operands("xlog1py", x, y)
    return bind(xlog1py_p, x, y)


def entr_linear(g, ans, x):
    # d/dx (-x log x) = -(1 + log x): +inf at 0 (as JAX gives), 0 where x < 0 and
    # entr is the constant -inf. log only ever sees positive numbers, so no warning.
    positive = greater(x, 0.0)
    slope = neg(add(log(select(positive, x, 1.0)), 1.0))
    slope = select(less(x, 0.0), 0.0, select(positive, slope, float("inf")))
    return mul(g, slope)


entr_p = declare_elementwise("entr", _special.entr, entr_linear)


def entr(x):
    """The elementwise entropy ``-x log x`` (0 at 0, ``-inf`` for negative ``x``).

    Example:
      >>> import numpy as np
      >>> entr(np.array([0.0, 0.5, -1.0]))
      array([0.        , 0.34657359,       -inf])
    """
    (x,) = real_float_operands("entr", x)
    return bind(entr_p, x)
