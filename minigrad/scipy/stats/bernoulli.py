"""The Bernoulli distribution on ``{loc, loc + 1}`` with success probability ``p``:
``logpmf pmf cdf logcdf``, differentiable in ``p``.

``logpmf`` is ``log p`` at 1 and ``log(1 - p)`` at 0 (``-inf`` elsewhere). Each branch
sees a harmless ``p`` where the other is chosen, so the gradient at ``p = 1`` (or 0)
is the finite one of the outcome that happened, not the ``0 · inf = nan`` of the other.

Example:
    >>> import numpy as np
    >>> pmf(np.array([0, 1, 2]), 0.25)
    array([0.75, 0.25, 0.  ])
"""

from __future__ import annotations

import minigrad.numpy as mnp
from minigrad.scipy.special import xlog1py, xlogy
from minigrad.scipy.special._operands import real_float_operands

__all__ = ["logpmf", "pmf", "cdf", "logcdf"]


def logpmf(k, p, loc=0):
    """``log P(X = k)``.

    Example:
      >>> round(float(logpmf(1, 0.25)), 12)
      -1.386294361120
    """
    k, p, loc = real_float_operands("stats.bernoulli.logpmf", k, p, loc)
    k = k - loc
    success, failure = k == 1.0, k == 0.0
    # xlogy(1, ·) is log without a division-by-zero warning at 0 (it is -inf there).
    log_success = xlogy(1.0, mnp.where(success, p, 1.0))
    log_failure = xlog1py(1.0, -mnp.where(failure, p, 0.0))
    return mnp.where(success, log_success, mnp.where(failure, log_failure, -mnp.inf))


def pmf(k, p, loc=0):
    """``P(X = k)``.

    Example:
      >>> float(pmf(0, 0.25))
      0.75
    """
    return mnp.exp(logpmf(k, p, loc))


def cdf(k, p, loc=0):
    """``P(X <= k)``: 0 below ``loc``, ``1 - p`` up to ``loc + 1``, then 1.

    Example:
      >>> float(cdf(0.5, 0.25))
      0.75
    """
    k, p, loc = real_float_operands("stats.bernoulli.cdf", k, p, loc)
    k = k - loc
    return mnp.where(k < 0.0, 0.0, mnp.where(k < 1.0, 1.0 - p, 1.0))


def logcdf(k, p, loc=0):
    """``log P(X <= k)``.

    Example:
      >>> round(float(logcdf(0, 0.25)), 12)
      -0.287682072452
    """
    k, p, loc = real_float_operands("stats.bernoulli.logcdf", k, p, loc)
    k = k - loc
    return mnp.where(k < 0.0, -mnp.inf, mnp.where(k < 1.0, xlog1py(1.0, -p), 0.0))
