"""Signals and samples: ``convolve``, ``correlate``, ``interp``, ``trapezoid``,
``unwrap``, the Bessel function ``i0`` and the tapering windows.

A convolution gathers the sliding windows of one operand into a matrix and multiplies
it by the other, so both operands get exact gradients from ``gather`` and ``matmul``;
``interp`` finds each point's interval with ``searchsorted`` (no gradient) and is
linear inside it, differentiable in the points and in both tables.

Example:
    >>> import numpy as np
    >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]))
    array([0. , 1. , 2.5, 4. , 1.5])
"""

from __future__ import annotations

import math
import operator

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._cumulative import cumsum, diff
from minigrad.numpy._linalg import matmul
from minigrad.numpy._math import abs as _abs
from minigrad.numpy._math import clip, exp, greater, less, logical_and, sqrt, where
from minigrad.numpy._modular import mod
from minigrad.numpy._promotion import dtype_of, normalize_axis, promote_to_inexact, to_array
from minigrad.numpy._reductions import sum as _sum
from minigrad.numpy._shape import concatenate, flip, pad, reshape, take
from minigrad.numpy._sorting import argsort, searchsorted
from minigrad.ops import shape as sh

__all__ = [
    "convolve", "correlate", "interp", "trapezoid", "unwrap", "i0", "bartlett", "blackman",
    "hamming", "hanning", "kaiser",
]  # fmt: skip


def _vectors(name, a, v):
    a, v = to_array(a), to_array(v)
    if a.ndim != 1 or v.ndim != 1 or a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError(f"{name}: needs two non-empty 1-D arrays, got shapes {a.shape} and {v.shape}.")
    a, v = promote_to_inexact(name, a, v) if dtype_of(a) == np.bool_ or dtype_of(v) == np.bool_ else (a, v)
    return a, v


def _full_convolution(a, v):
    """All ``n + m - 1`` sums ``out[k] = sum_j a[k - j] v[j]``: the windows of the padded
    ``a`` (reversed against ``v``), gathered into a matrix, times ``v``."""
    n, m = a.shape[0], v.shape[0]
    padded = pad(a, (m - 1, m - 1))
    windows = np.arange(n + m - 1)[:, None] + (m - 1) - np.arange(m)[None, :]
    return matmul(take(padded, windows), v)


def _mode_slice(name, full, n, m, mode):
    long, short = max(n, m), min(n, m)
    if mode == "full":
        return full
    if mode == "same":
        start = (short - 1) // 2
        return sh.slice_axis(full, 0, start, start + long)
    if mode == "valid":
        return sh.slice_axis(full, 0, short - 1, long)
    raise ValueError(f"{name}: mode must be 'full', 'same' or 'valid', got {mode!r}.")


def convolve(a, v, mode="full"):
    """The discrete linear convolution of two 1-D arrays; ``mode`` "full" (every
    overlap), "same" (the longer input's length, centred) or "valid" (full overlaps).

    Example:
      >>> convolve(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0]), mode="valid")
      array([3., 5.])
    """
    a, v = _vectors("convolve", a, v)
    n, m = a.shape[0], v.shape[0]
    full = _full_convolution(a, v) if n >= m else _full_convolution(v, a)
    return _mode_slice("convolve", full, n, m, mode)


def correlate(a, v, mode="valid"):
    """The cross-correlation ``c[k] = sum_n a[n + k] * v[n]`` of two real 1-D arrays, as
    ``np.correlate`` (default mode "valid").

    Example:
      >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5]), mode="full")
      array([0.5, 2. , 3.5, 3. , 0. ])
    """
    a, v = _vectors("correlate", a, v)
    if dtype_of(a).kind == "c" or dtype_of(v).kind == "c":
        raise TypeError("correlate: complex arrays are not supported yet (the conjugate of v is needed).")
    n, m = a.shape[0], v.shape[0]
    reversed_v = flip(v)
    full = _full_convolution(a, reversed_v) if n >= m else _full_convolution(reversed_v, a)
    if n < m and mode == "same":
        # NumPy correlates the other way round and reverses, which centres "same" on the other side.
        start = n - 1 - (n - 1) // 2
        return sh.slice_axis(full, 0, start, start + m)
    return _mode_slice("correlate", full, n, m, mode)


def _periodic_tables(xp, fp, period):
    """``xp`` wrapped into one period and sorted, extended by one point at each end."""
    xp = mod(xp, period)
    order = argsort(xp)
    xp, fp = take(xp, order), take(fp, order)
    xp = concatenate(
        [sh.slice_axis(xp, 0, xp.shape[0] - 1, xp.shape[0]) - period, xp, sh.slice_axis(xp, 0, 0, 1) + period]
    )
    fp = concatenate([sh.slice_axis(fp, 0, fp.shape[0] - 1, fp.shape[0]), fp, sh.slice_axis(fp, 0, 0, 1)])
    return xp, fp


def interp(x, xp, fp, left=None, right=None, period=None):
    """The piecewise-linear interpolant of the points ``(xp, fp)`` (``xp`` increasing) at
    ``x``; ``left``/``right`` outside (default: the end values), or periodic with
    ``period``. Differentiable in ``x``, ``xp`` and ``fp``.

    Example:
      >>> interp(np.array([0.5, 2.0, 9.0]), np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 3.0]))
      array([1. , 2.5, 3. ])
    """
    x, xp, fp = promote_to_inexact("interp", x, xp, fp)
    if xp.ndim != 1 or fp.shape != xp.shape or xp.shape[0] == 0:
        raise ValueError(
            f"interp: xp and fp must be 1-D of one non-zero length, got shapes {xp.shape} and {fp.shape}."
        )
    if period is not None:
        if np.ndim(period) or not period:
            raise ValueError(f"interp: period must be a non-zero number, got {period!r}.")
        period = abs(period)
        xp, fp = _periodic_tables(xp, fp, period)
        x = mod(x, period)
        left = right = None
    n = xp.shape[0]
    if n == 1:
        inside = sh.broadcast_to(fp, np.shape(x)) if np.ndim(x) else reshape(fp, ())
    else:
        upper = clip(searchsorted(xp, x, side="right"), 1, n - 1)
        x0, x1, f0, f1 = take(xp, upper - 1), take(xp, upper), take(fp, upper - 1), take(fp, upper)
        width = x1 - x0
        # A zero-width interval (repeated xp) takes its right value; no 0/0 reaches the gradient.
        flat = width == 0
        t = (x - x0) / where(flat, 1.0, width)
        inside = where(flat, f1, f0 + t * (f1 - f0))
    first, last = sh.slice_axis(fp, 0, 0, 1), sh.slice_axis(fp, 0, n - 1, n)
    below = reshape(first, ()) if left is None else left
    above = reshape(last, ()) if right is None else right
    out = where(less(x, reshape(sh.slice_axis(xp, 0, 0, 1), ())), below, inside)
    return where(greater(x, reshape(sh.slice_axis(xp, 0, n - 1, n), ())), above, out)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of ``y`` along ``axis`` by the trapezoidal rule, at sample points
    ``x`` (or spacing ``dx``).

    Example:
      >>> trapezoid(np.array([1.0, 2.0, 3.0]), dx=0.5)
      array(2.)
    """
    y = to_array(y)
    if y.ndim == 0:
        raise ValueError("trapezoid: y must have at least one dimension.")
    axis = normalize_axis("trapezoid", axis, y.ndim)
    n = y.shape[axis]
    if x is None:
        spacing = dx
    else:
        x = to_array(x)
        spacing = diff(x, axis=axis if x.ndim > 1 else -1)
        if x.ndim == 1:
            spacing = reshape(spacing, (-1,) + (1,) * (y.ndim - 1 - axis))
    heights = sh.slice_axis(y, axis, 1, n) + sh.slice_axis(y, axis, 0, max(n - 1, 0))
    return to_array(_sum(heights * spacing, axis=axis) / 2.0)


def unwrap(p, discont=None, axis=-1, *, period=2 * math.pi):
    """``p`` with jumps larger than ``discont`` (default ``period / 2``) between
    neighbours along ``axis`` replaced by their remainder modulo ``period``.

    Example:
      >>> unwrap(np.array([0.0, 1.5, 3.5, 0.5]), period=4.0)
      array([0. , 1.5, 3.5, 4.5])
    """
    p = to_array(p)
    (p,) = promote_to_inexact("unwrap", p) if dtype_of(p).kind not in "fc" else (p,)
    axis = normalize_axis("unwrap", axis, p.ndim)
    discont = period / 2 if discont is None else discont
    half = period / 2
    jumps = diff(p, axis=axis)
    wrapped = mod(jumps + half, period) - half
    # A jump of exactly half a period upwards stays positive, as in NumPy.
    wrapped = where(logical_and(wrapped == -half, greater(jumps, 0)), half, wrapped)
    correction = where(less(_abs(jumps), discont), 0.0, wrapped - jumps)
    widths = [(0, 0)] * p.ndim
    widths[axis] = (1, 0)
    return p + pad(cumsum(correction, axis=axis), widths)


# The series of I0 converges everywhere but needs ~2|x| terms; beyond this the
# asymptotic expansion is accurate to rounding, and both are cheap.
_I0_SWITCH = 20.0
_I0_SERIES = [1.0 / math.factorial(k) ** 2 for k in range(60)]
_I0_ASYMPTOTIC = [
    math.prod((2 * j - 1) ** 2 for j in range(1, k + 1)) / (math.factorial(k) * 8**k) for k in range(20)
]


def _horner(coefficients, y):
    total = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        total = total * y + c
    return total


def i0(x):
    """The modified Bessel function of the first kind of order 0, differentiable (its
    derivative is ``i1``): a power series for ``|x| < 20``, the asymptotic expansion beyond.

    Example:
      >>> np.round(i0(np.array([0.0, 1.0])), 6)
      array([1.      , 1.266066])
    """
    (x,) = promote_to_inexact("i0", x)
    magnitude = _abs(x)
    small = less(magnitude, _I0_SWITCH)
    # Each branch sees only arguments where it is valid, so neither makes inf or NaN gradients.
    x_small = where(small, magnitude, 0.0)
    x_large = where(small, _I0_SWITCH, magnitude)
    series = _horner(_I0_SERIES, (x_small / 2.0) ** 2)
    asymptotic = exp(x_large) / sqrt(2 * math.pi * x_large) * _horner(_I0_ASYMPTOTIC, 1.0 / x_large)
    return where(small, series, asymptotic)


def _window(M, shape_of_n):  # noqa: N803 - NumPy's name
    M = operator.index(M)  # noqa: N806
    if M < 1:
        return np.zeros(0)
    if M == 1:
        return np.ones(1)
    return shape_of_n(np.arange(M), M)


def bartlett(M):  # noqa: N803 - NumPy's name
    """The triangular window of ``M`` points.

    Example:
      >>> bartlett(5)
      array([0. , 0.5, 1. , 0.5, 0. ])
    """
    return _window(M, lambda n, m: 1.0 - np.abs(2.0 * n / (m - 1) - 1.0))


def hanning(M):  # noqa: N803 - NumPy's name
    """The Hann window (a raised cosine) of ``M`` points.

    Example:
      >>> hanning(3)
      array([0., 1., 0.])
    """
    return _window(M, lambda n, m: 0.5 - 0.5 * np.cos(2.0 * np.pi * n / (m - 1)))


def hamming(M):  # noqa: N803 - NumPy's name
    """The Hamming window of ``M`` points.

    Example:
      >>> hamming(3)
      array([0.08, 1.  , 0.08])
    """
    return _window(M, lambda n, m: 0.54 - 0.46 * np.cos(2.0 * np.pi * n / (m - 1)))


def blackman(M):  # noqa: N803 - NumPy's name
    """The Blackman window of ``M`` points.

    Example:
      >>> np.round(blackman(3), 6)
      array([-0.,  1., -0.])
    """
    return _window(
        M,
        lambda n, m: (
            0.42 - 0.5 * np.cos(2.0 * np.pi * n / (m - 1)) + 0.08 * np.cos(4.0 * np.pi * n / (m - 1))
        ),
    )


def kaiser(M, beta):  # noqa: N803 - NumPy's name
    """The Kaiser window of ``M`` points with shape ``beta`` (which may be traced).

    Example:
      >>> np.round(kaiser(3, 0.0), 6)
      array([1., 1., 1.])
    """
    M = operator.index(M)  # noqa: N806
    if M < 1:
        return np.zeros(0)
    if M == 1:
        return (
            np.ones(1) if not isinstance(beta, Tracer) else sh.broadcast_to(to_array(beta) * 0.0 + 1.0, (1,))
        )
    (beta,) = promote_to_inexact("kaiser", beta)
    ratio = 2.0 * np.arange(M) / (M - 1) - 1.0
    return i0(beta * sqrt(np.clip(1.0 - ratio**2, 0.0, None))) / i0(beta)
