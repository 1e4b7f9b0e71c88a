"""The multivariate normal distribution ``N(mean, cov)``: ``logpdf`` and ``pdf``,
through the Cholesky factor ``cov = L Lᵀ`` and one triangular solve, so they are
differentiable in ``x``, ``mean`` and ``cov``.

``log N(x) = -½ (d log 2π + log det cov + |L⁻¹ (x - mean)|²)`` with
``log det cov = 2 Σ log diag(L)``. (Like JAX's, there is no ``cdf``: a box probability
in ``d`` dimensions has no closed form.)

Example:
    >>> import numpy as np
    >>> round(float(logpdf(np.zeros(2), np.zeros(2), np.eye(2))), 12)  # -log(2π)
    -1.837877066409
"""

from __future__ import annotations

import math

import numpy as np

import minigrad.numpy as mnp
from minigrad.ops.solvers import triangular_solve
from minigrad.scipy.special._operands import real_float_operands

__all__ = ["logpdf", "pdf"]

_LOG_2PI = math.log(2.0 * math.pi)


def logpdf(x, mean=None, cov=1, allow_singular=False):
    """``log`` of the density at ``x`` (shape ``(..., d)``; ``mean`` broadcasts against it).

    Args:
      x: points, the last axis of length ``d``.
      mean: the mean (default zeros).
      cov: the ``(d, d)`` symmetric positive-definite covariance; a number means that
        times the identity and a vector a diagonal, as in SciPy.
      allow_singular: must be False; a singular covariance has no density here.

    Example:
      >>> import numpy as np
      >>> round(float(logpdf(np.array([1.0, 0.0]), cov=np.eye(2))), 12)
      -2.337877066409
    """
    if allow_singular:
        raise NotImplementedError(
            "stats.multivariate_normal.logpdf: allow_singular=True is not supported; "
            "pass a positive-definite covariance (add a small multiple of the identity)."
        )
    x, cov = real_float_operands("stats.multivariate_normal.logpdf", x, cov)
    if mean is not None:
        (mean,) = real_float_operands("stats.multivariate_normal.logpdf", mean)
        x = x - mean.astype(x.dtype)
    if x.ndim == 0:
        x = x[None]
    if cov.ndim < 2:  # a number scales the identity; a vector is the diagonal (as SciPy)
        cov = cov[..., None] * np.eye(x.shape[-1], dtype=cov.dtype)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or x.shape[-1] != cov.shape[0]:
        raise ValueError(
            f"stats.multivariate_normal.logpdf: points of shape {x.shape} and a covariance of shape "
            f"{cov.shape} do not fit; expected x of shape (..., d) and cov of shape (d, d)."
        )
    d = cov.shape[0]
    factor = mnp.linalg.cholesky(cov)
    batch = x.shape[:-1]
    columns = mnp.reshape(x, (-1, d)).T  # every point a column: one solve for all
    whitened = triangular_solve(factor, columns, lower=True)
    mahalanobis = mnp.reshape(mnp.sum(whitened * whitened, axis=0), batch)
    log_det = 2.0 * mnp.sum(mnp.log(mnp.diagonal(factor)))
    return -0.5 * (d * _LOG_2PI + log_det + mahalanobis)


def pdf(x, mean=None, cov=1, allow_singular=False):
    """The density at ``x``.

    Example:
      >>> import numpy as np
      >>> round(float(pdf(np.zeros(2), cov=np.eye(2))), 12)  # 1/(2π)
      0.159154943092
    """
    return mnp.exp(logpdf(x, mean, cov, allow_singular))
