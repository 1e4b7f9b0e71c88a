"""Reductions in log space: ``logsumexp``, ``softmax`` and ``log_softmax``, written with
``minigrad.numpy`` (so their derivatives come from the operations they are made of).

``logsumexp`` keeps the precision SciPy's has where the result is near 0: with the
largest term ``m`` factored out, ``log Σ exp(aᵢ) = m + log1p(Σ_{i≠max} exp(aᵢ - m))``,
the sum taken without the 1 of the largest term, so ``logsumexp([0, -40])`` is
``4.2e-18`` and not 0. The shift ``m`` is not a constant here: its derivative is what
gives the largest terms their share of the softmax.

Example:
    >>> import numpy as np
    >>> float(logsumexp(np.array([0.0, -40.0])))
    4.248354255291589e-18
"""

from __future__ import annotations

import numpy as np

import minigrad.numpy as mnp
from minigrad.numpy._promotion import normalize_axes
from minigrad.scipy.special._operands import real_float_operands

__all__ = ["logsumexp", "softmax", "log_softmax"]


def _finite_or_zero(shift):
    # An all -inf (or inf, or nan) slice has a non-finite peak; shifting by it gives nan.
    return mnp.where(mnp.isfinite(shift), shift, 0.0)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``log(sum(b * exp(a)))`` over ``axis`` (all axes by default, as SciPy's), without overflow.

    Args:
      a: real array-like.
      axis: an int, a tuple of ints, or None for every axis.
      b: optional weights, broadcast against ``a`` (negative ones need ``return_sign``).
      keepdims: keep the reduced axes with size 1.
      return_sign: return ``(log|sum|, sign(sum))`` so that negative sums are representable.

    Returns:
      The reduced array, or a pair with ``return_sign``.

    Example:
      >>> import numpy as np
      >>> float(logsumexp(np.array([1000.0, 1000.0])))
      1000.6931471805599
      >>> logsumexp(np.array([0.0, 0.0]), b=np.array([1.0, -2.0]), return_sign=True)
      (array(0.), array(-1.))
    """
    if b is None:
        (a,) = real_float_operands("logsumexp", a)
    else:
        a, b = real_float_operands("logsumexp", a, b)
        shape = np.broadcast_shapes(a.shape, b.shape)
        a, b = mnp.broadcast_to(a, shape), mnp.broadcast_to(b, shape)
    axes = normalize_axes("logsumexp", axis, a.ndim)
    peak = _finite_or_zero(mnp.max(a, axis=axes, keepdims=True))
    at_peak = a == peak
    terms = mnp.exp(a - peak)
    weight_at_peak = at_peak.astype(a.dtype) if b is None else mnp.where(at_peak, b, 0.0)
    if b is not None:
        terms = b * terms
    # total = 1 + rest, with the largest term's 1 never added to the small ones.
    rest = mnp.sum(mnp.where(at_peak, 0.0, terms), axis=axes, keepdims=True)
    rest = rest + (mnp.sum(weight_at_peak, axis=axes, keepdims=True) - 1.0)
    if return_sign:
        total = rest + 1.0
        out, sign = peak + mnp.log(mnp.abs(total)), mnp.sign(total)
        if not keepdims:
            out, sign = mnp.squeeze(out, axis=axes), mnp.squeeze(sign, axis=axes)
        return out, sign
    out = peak + mnp.log1p(rest)
    return out if keepdims else mnp.squeeze(out, axis=axes)


def softmax(x, axis=None):
    """``exp(x) / sum(exp(x))`` over ``axis`` (all axes by default, as SciPy's).

    Example:
      >>> import numpy as np
      >>> softmax(np.array([0.0, np.log(3.0)]))
      array([0.25, 0.75])
    """
    (x,) = real_float_operands("softmax", x)
    axes = normalize_axes("softmax", axis, x.ndim)
    # The shift cancels in the ratio, so it needs no derivative.
    shift = mnp.stop_gradient(_finite_or_zero(mnp.max(x, axis=axes, keepdims=True)))
    unnormalized = mnp.exp(x - shift)
    return unnormalized / mnp.sum(unnormalized, axis=axes, keepdims=True)


def log_softmax(x, axis=None):
    """``x - logsumexp(x)`` over ``axis`` (all axes by default, as SciPy's).

    Example:
      >>> import numpy as np
      >>> log_softmax(np.array([0.0, 0.0]))
      array([-0.69314718, -0.69314718])
    """
    (x,) = real_float_operands("log_softmax", x)
    return x - logsumexp(x, axis=axis, keepdims=True)
