"""Polynomials as coefficient arrays, highest power first (NumPy's ``poly*`` functions):
evaluation, arithmetic, derivatives and integrals, division and least-squares fits.

The lengths of the results follow the lengths of the inputs, never their values, so
every function traces (``polydiv`` keeps leading zeros of the remainder unless asked,
as JAX's does); each is a composition of differentiable operations, except ``roots``
(the eigenvalues of the companion matrix), a primitive with the derivative of simple
roots.

Example:
    >>> import numpy as np
    >>> polyval(np.array([1.0, 0.0, -2.0]), np.array([0.0, 2.0]))
    array([-2.,  2.])
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._building import roll
from minigrad.numpy._data_dependent import _concrete
from minigrad.numpy._math import where
from minigrad.numpy._matrices import vander
from minigrad.numpy._predicates import all as all_of
from minigrad.numpy._promotion import dtype_of, promote, promote_to_inexact, to_array
from minigrad.numpy._reductions import argmin
from minigrad.numpy._shape import concatenate, pad, reshape
from minigrad.numpy._signal import convolve
from minigrad.numpy._sorting import argsort
from minigrad.numpy.linalg._solvers import lstsq
from minigrad.ops import shape as sh
from minigrad.ops import spectral

__all__ = [
    "polyval", "polyadd", "polysub", "polymul", "polyder", "polyint", "polydiv", "polyfit", "poly", "roots",
]  # fmt: skip


def _coefficients(name, p):
    p = to_array(p)
    if p.ndim != 1:
        raise ValueError(
            f"{name}: coefficients must be a 1-D array (highest power first), got shape {p.shape}."
        )
    return p


def polyval(p, x, *, unroll=16):
    """The polynomial with coefficients ``p`` (highest power first) at ``x``, by Horner's
    rule. (``unroll`` is JAX's keyword, accepted and ignored: the loop is unrolled.)

    Example:
      >>> polyval([3.0, 0.0, 1.0], 2.0)
      array(13.)
    """
    p = _coefficients("polyval", p)
    p, x = promote("polyval", p, x)
    if p.shape[0] == 0:
        return sh.broadcast_to(to_array(0, dtype_of(p)), np.shape(x))
    total = sh.broadcast_to(reshape(sh.slice_axis(p, 0, 0, 1), ()), np.shape(x))
    for i in range(1, p.shape[0]):
        total = total * x + reshape(sh.slice_axis(p, 0, i, i + 1), ())
    return to_array(total)


def _aligned(name, a1, a2):
    a1, a2 = promote(name, _coefficients(name, a1), _coefficients(name, a2))
    n = max(a1.shape[0], a2.shape[0])
    # Coefficients are aligned at the constant term: the shorter one gains leading zeros.
    return pad(a1, (n - a1.shape[0], 0)), pad(a2, (n - a2.shape[0], 0))


def polyadd(a1, a2):
    """The sum of two polynomials.

    Example:
      >>> polyadd([1.0, 2.0], [1.0, 0.0, 0.0])
      array([1., 1., 2.])
    """
    a1, a2 = _aligned("polyadd", a1, a2)
    return a1 + a2


def polysub(a1, a2):
    """The difference of two polynomials.

    Example:
      >>> polysub([1.0, 2.0], [1.0, 0.0, 0.0])
      array([-1.,  1.,  2.])
    """
    a1, a2 = _aligned("polysub", a1, a2)
    return a1 - a2


def polymul(a1, a2, *, trim_leading_zeros=False):
    """The product of two polynomials (the convolution of their coefficients).

    Example:
      >>> polymul([1.0, 1.0], [1.0, -1.0])
      array([ 1.,  0., -1.])
    """
    out = convolve(_coefficients("polymul", a1), _coefficients("polymul", a2))
    return _trimmed("polymul", out) if trim_leading_zeros else out


def _trimmed(name, p):
    value = _concrete(p, name, "Pass trim_leading_zeros=False to keep the length fixed.")
    nonzero = np.flatnonzero(value)
    start = int(nonzero[0]) if nonzero.size else value.size - 1
    return sh.slice_axis(p, 0, start, value.size)


def polyder(p, m=1):
    """The ``m``-th derivative of a polynomial.

    Example:
      >>> polyder([1.0, 1.0, 1.0])
      array([2., 1.])
    """
    p = _coefficients("polyder", p)
    m = operator.index(m)
    if m < 0:
        raise ValueError(f"polyder: the order of the derivative must be non-negative, got {m}.")
    for _ in range(m):
        n = p.shape[0]
        if n == 0:
            return p
        p = sh.slice_axis(p, 0, 0, n - 1) * np.arange(n - 1, 0, -1)
    return p


def polyint(p, m=1, k=None):
    """The ``m``-th antiderivative of a polynomial; ``k`` gives the integration constants
    (one number, or one per integration, the first integration's first).

    Example:
      >>> polyint([3.0, 2.0], k=5.0)
      array([1.5, 2. , 5. ])
    """
    p = _coefficients("polyint", p)
    m = operator.index(m)
    if m < 0:
        raise ValueError(f"polyint: the order of the antiderivative must be non-negative, got {m}.")
    if k is None:
        constants = [0.0] * m
    elif isinstance(k, (list, tuple)):
        constants = list(k)
    else:
        k = to_array(k)
        constants = [k] * m if k.ndim == 0 else [k[i] for i in range(k.shape[0])]
    if len(constants) != m:
        raise ValueError(f"polyint: k must give {m} constants, got {len(constants)}.")
    (p,) = promote_to_inexact("polyint", p)
    for constant in constants:
        n = p.shape[0]
        p = concatenate([p / np.arange(n, 0, -1), reshape(to_array(constant, dtype_of(p)), (1,))], axis=0)
    return p


def polydiv(u, v, *, trim_leading_zeros=False):
    """The quotient and remainder of ``u / v``. The remainder keeps ``len(u)`` coefficients
    (leading zeros included) unless ``trim_leading_zeros``, which needs known values.

    Example:
      >>> q, r = polydiv([1.0, 0.0, -1.0], [1.0, 1.0])
      >>> q, r
      (array([ 1., -1.]), array([0., 0., 0.]))
    """
    u, v = promote_to_inexact("polydiv", _coefficients("polydiv", u), _coefficients("polydiv", v))
    n, m = u.shape[0], v.shape[0]
    if m == 0:
        raise ValueError("polydiv: the divisor has no coefficients.")
    lead = reshape(sh.slice_axis(v, 0, 0, 1), ())
    quotient = []
    remainder = u
    for i in range(max(n - m + 1, 0)):
        q = reshape(sh.slice_axis(remainder, 0, i, i + 1), ()) / lead
        quotient.append(reshape(q, (1,)))
        remainder = remainder - pad(q * v, (i, n - m - i))
    q = concatenate(quotient, axis=0) if quotient else to_array(np.zeros(1, dtype_of(u)))
    if n >= m:
        # The leading n - m + 1 coefficients are zero by construction; set them exactly.
        remainder = pad(sh.slice_axis(remainder, 0, n - m + 1, n), (n - m + 1, 0))
    return q, _trimmed("polydiv", remainder) if trim_leading_zeros else remainder


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """The least-squares polynomial of degree ``deg`` through the points ``(x, y)`` (one
    fit per column of a 2-D ``y``), by ``linalg.lstsq`` on the Vandermonde matrix with
    scaled columns; ``w`` weights the residuals. Differentiable in ``x``, ``y`` and ``w``.

    Example:
      >>> np.round(polyfit(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0]), 1), 8)
      array([2., 1.])
    """
    if full or cov:
        raise NotImplementedError(
            "polyfit: full=True and cov=True are not supported; fit with lstsq for those."
        )
    deg = operator.index(deg)
    x, y = promote_to_inexact("polyfit", x, y)
    if x.ndim != 1 or y.ndim not in (1, 2) or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"polyfit: x must be 1-D and y 1-D or 2-D of the same length, got {x.shape} and {y.shape}."
        )
    if deg < 0:
        raise ValueError(f"polyfit: the degree must be non-negative, got {deg}.")
    lhs = vander(x, deg + 1)
    rhs = y
    if w is not None:
        (w,) = promote("polyfit", to_array(w, dtype_of(x)))
        lhs = lhs * reshape(w, (-1, 1))
        rhs = rhs * (reshape(w, (-1, 1)) if y.ndim == 2 else w)
    # Scaled columns keep the normal equations well conditioned, as NumPy's fit does.
    scale = sh.reshape(((lhs * lhs).sum(axis=0)) ** 0.5, (1, deg + 1))
    scale = scale + (scale == 0)
    if rcond is None:
        rcond = x.shape[0] * np.finfo(dtype_of(x)).eps
    solution = lstsq(lhs / scale, rhs, rcond=rcond)[0]
    return solution / (reshape(scale, (-1, 1)) if y.ndim == 2 else reshape(scale, (-1,)))


def poly(seq_of_zeros):
    """The coefficients of the monic polynomial with the given (real) roots. A square
    matrix's characteristic polynomial needs its eigenvalues: plain arrays only.

    Example:
      >>> poly(np.array([1.0, 2.0]))
      array([ 1., -3.,  2.])
    """
    roots = to_array(seq_of_zeros)
    if roots.ndim == 2 and roots.shape[0] == roots.shape[1] and roots.shape[0] > 0:
        if isinstance(roots, Tracer):
            raise TypeError(
                "poly: the characteristic polynomial of a traced matrix needs complex eigenvalues, "
                "which are not supported yet; pass its (real) eigenvalues instead."
            )
        return np.poly(roots)
    if roots.ndim > 1:
        raise ValueError(f"poly: needs a 1-D array of roots or a square matrix, got shape {roots.shape}.")
    (roots,) = promote_to_inexact("poly", roots) if dtype_of(roots).kind in "biu" else (roots,)
    coefficients = to_array(np.ones(1, dtype_of(roots)))
    for i in range(roots.shape[0]):
        root = sh.slice_axis(roots, 0, i, i + 1)
        coefficients = convolve(coefficients, concatenate([np.ones(1, dtype_of(roots)), -root], axis=0))
    return coefficients


def roots(p, *, strip_zeros=True):
    """The roots of the polynomial with coefficients ``p`` (highest power first): the
    eigenvalues of its companion matrix, complex, as in NumPy and JAX. Differentiable in
    ``p`` wherever the roots are simple (``dr = -dp(r) / p'(r)``).

    Leading zeros lower the degree. With ``strip_zeros=True`` (NumPy's behaviour) they are
    dropped, which needs ``p``'s values (not under ``jit``/``vmap``); with
    ``strip_zeros=False`` (JAX's option) the result keeps ``len(p) - 1`` entries and the
    missing roots are NaN. Trailing zeros give roots at zero, found as eigenvalues, as JAX.

    Example:
      >>> roots(np.array([1.0, -3.0, 2.0]))
      array([2.+0.j, 1.+0.j])
      >>> roots(np.array([0.0, 1.0, 2.0]), strip_zeros=False)
      array([-2. +0.j, nan+nanj])
    """
    p = to_array(p)
    if dtype_of(p).kind in "biu":
        (p,) = promote_to_inexact("roots", p)
    if p.ndim == 0:
        p = sh.reshape(p, (1,))
    if p.ndim != 1:
        raise ValueError(f"roots: the coefficients must be a 1-D array, got shape {p.shape}.")
    complex_dtype = np.result_type(dtype_of(p), np.complex64)
    if p.shape[0] < 2:
        return np.zeros(0, complex_dtype)
    if strip_zeros:
        values = _concrete(
            p,
            "roots",
            "Pass strip_zeros=False to keep len(p) - 1 roots (NaN for those leading zeros remove), as JAX does.",
        )
        nonzero = np.flatnonzero(values != 0)
        if nonzero.size == 0:
            return np.zeros(0, complex_dtype)
        return spectral.roots(sh.slice_axis(p, 0, int(nonzero[0]), p.shape[0]))
    return _roots_keeping_length(p, complex_dtype)


def _roots_keeping_length(p, complex_dtype):
    """JAX's ``strip_zeros=False``: leading zeros rolled to the end (roots at zero), those
    roots moved last and replaced by NaN."""
    n = p.shape[0]
    is_zero = p == 0
    leading = where(all_of(is_zero), n, argmin(is_zero))
    p = where(leading == n, 1.0, p)  # no roots to find, and no division by zero
    found = spectral.roots(roll(p, -leading))
    found = found[argsort(found == 0)]  # the rolled-in zero roots go last
    missing = np.arange(n - 1) >= n - 1 - leading
    return where(missing, np.asarray(complex(np.nan, np.nan), complex_dtype), found)
