"""The error function family composed of Array API standard calls, to SciPy's accuracy.

For a library without special functions (array-api-strict): ``erf``, ``erfc``,
``erfcx``, ``ndtr``, ``log_ndtr``, ``erfinv`` and ``ndtri`` from ``exp``, ``log`` and
arithmetic. No rational approximation is used (the short ones are good to 1e-7, not to
1e-15); instead, two expansions that each converge to the last bit where they are used:

- below ``|x| = 2``, ``erf(x) = 2/√π e^(-x²) Σ 2ⁿ x²ⁿ⁺¹ / (1·3···(2n + 1))``, a series of
  positive terms (no cancellation), ``TERMS`` of them;
- from 2 on, ``erfc(x) = e^(-x²)/√π · x / (x² + ½ - 1·2/4 / (x² + 5/2 - 3·4/4 / ...))``,
  Laplace's continued fraction in its even form, evaluated backwards from a fixed depth
  (converged to 2e-16 at 2, faster beyond).

``e^(-x²)`` is taken as ``e^(-h²) e^(-(x² - h²))`` with ``h`` ``x`` rounded to 12 bits,
so ``h²`` is exact and the rounding of ``x²`` (which ``exp`` would magnify by ``x²``) is
avoided. The inverses take three Halley steps (cubic convergence) on ``erf`` or, in the
tails, on ``erfc``, from a starting point within 5e-4.

Example:
    >>> import numpy as np
    >>> erf_standard(np, np.array([0.5, 3.0]))
    array([0.52049988, 0.99997791])
"""

from __future__ import annotations

import math

__all__ = [
    "TERMS",
    "erf_standard",
    "erfc_standard",
    "erfcx_standard",
    "ndtr_standard",
    "log_ndtr_standard",
    "erfinv_standard",
    "ndtri_standard",
]

TERMS = 36  # of the series below 2: the last is under 1e-17 of the sum there
_FRACTION_DEPTH = 50  # of the continued fraction from 1.5 on
_SERIES_LIMIT = 1.5
_TWO_OVER_ROOT_PI = 2.0 / math.sqrt(math.pi)
_ROOT_HALF = math.sqrt(0.5)


def _exp_minus_square(xp, x):
    """``exp(-x²)`` without the rounding error of ``x²`` (``x`` below 2**14)."""
    is_infinite = xp.isinf(x)
    finite = xp.where(is_infinite, 0.0, x)
    head = xp.floor(finite * 4096.0) / 4096.0  # 12 fraction bits: head² is exact
    tail = finite - head
    value = xp.exp(-(head * head)) * xp.exp(-(tail * (finite + head)))
    return xp.where(is_infinite, 0.0, value)


def _erf_series(xp, x):
    """``erf(x)`` for ``|x| < 2`` (any ``x``: the caller selects)."""
    squared_twice = 2.0 * x * x
    term = x
    total = x
    for n in range(1, TERMS):
        term = term * squared_twice / (2 * n + 1)
        total = total + term
    return _TWO_OVER_ROOT_PI * _exp_minus_square(xp, x) * total


def _erfcx_fraction(xp, x):
    """``exp(x²) erfc(x)`` for ``x >= 2`` by the continued fraction."""
    squared = x * x
    fraction = 0.0
    for k in range(_FRACTION_DEPTH, 0, -1):
        fraction = ((2 * k - 1) * (2 * k) / 4.0) / (squared + (2 * k + 0.5) - fraction)
    return 1.0 / (x + (0.5 - fraction) / x) / math.sqrt(math.pi)  # 0 at inf


def _split(xp, x):
    """``(near, far)``: ``x`` where ``|x| < 2`` and ``|x|`` where not, each a harmless 2
    (or 1) elsewhere, so neither branch meets an argument it is not meant for."""
    is_near = xp.abs(x) < _SERIES_LIMIT
    return is_near, xp.where(is_near, x, 1.0), xp.where(is_near, _SERIES_LIMIT, xp.abs(x))


def erfc_standard(xp, x):
    """The complementary error function ``1 - erf(x)``, with its tiny upper tail.

    Example:
      >>> import numpy as np
      >>> erfc_standard(np, np.array([-1.0, 10.0]))
      array([1.84270079e+00, 2.08848758e-45])
    """
    is_near, near, far = _split(xp, x)
    tail = _erfcx_fraction(xp, far) * _exp_minus_square(xp, far)
    far_value = xp.where(x < 0, 2.0 - tail, tail)
    return xp.where(is_near, 1.0 - _erf_series(xp, near), far_value)


def erf_standard(xp, x):
    """The error function ``2/√π ∫₀ˣ e^(-t²) dt``.

    Example:
      >>> import numpy as np
      >>> erf_standard(np, np.array([-0.0, 1.0]))
      array([-0.        ,  0.84270079])
    """
    is_near, near, far = _split(xp, x)
    tail = _erfcx_fraction(xp, far) * _exp_minus_square(xp, far)
    far_value = xp.where(x < 0, tail - 1.0, 1.0 - tail)
    return xp.where(is_near, _erf_series(xp, near), far_value)


def erfcx_standard(xp, x):
    """The scaled complementary error function ``exp(x²) erfc(x)`` (no underflow for
    large ``x``; ``inf`` where ``exp(x²)`` overflows for negative ``x``).

    Example:
      >>> import numpy as np
      >>> erfcx_standard(np, np.array([0.0, 100.0]))
      array([1.        , 0.00564161])
    """
    is_far = x >= _SERIES_LIMIT
    far = _erfcx_fraction(xp, xp.where(is_far, x, _SERIES_LIMIT))
    near = xp.where(is_far, 0.0, x)
    # erfc(x) exp(x²) below 2: exp(x²) as 1 / exp(-x²), both without x²'s rounding.
    return xp.where(is_far, far, erfc_standard(xp, near) / _exp_minus_square(xp, near))


def ndtr_standard(xp, x):
    """The standard normal distribution function, ``erfc(-x/√2)/2``.

    Example:
      >>> import numpy as np
      >>> ndtr_standard(np, np.array([0.0, -10.0]))
      array([5.00000000e-01, 7.61985302e-24])
    """
    return 0.5 * erfc_standard(xp, -x * _ROOT_HALF)


def log_ndtr_standard(xp, x):
    """``log`` of the standard normal distribution function, accurate in both tails:
    ``log1p(-ndtr(-x))`` above -1, ``log(erfcx(-x/√2)/2) - x²/2`` below.

    Example:
      >>> import numpy as np
      >>> log_ndtr_standard(np, np.array([0.0, -40.0]))
      array([-6.93147181e-01, -8.04608442e+02])
    """
    is_upper = x > -1.0
    upper = xp.where(is_upper, x, 0.0)
    lower = xp.where(is_upper, -1.0, x)
    lower_value = xp.log(0.5 * erfcx_standard(xp, -lower * _ROOT_HALF)) - 0.5 * lower * lower
    return xp.where(is_upper, xp.log1p(-ndtr_standard(xp, -upper)), lower_value)


def _tail_start(xp, p):
    """``-t + (c₀ + c₁t + c₂t²)/(1 + d₁t + d₂t² + d₃t³)`` with ``t = √(-2 log p)``: the
    lower-tail normal quantile of ``p <= 1/2`` within 4.5e-4 (Abramowitz and Stegun
    26.2.23), where Halley's steps start."""
    t = xp.sqrt(-2.0 * xp.log(p))
    numerator = 2.515517 + t * (0.802853 + t * 0.010328)
    denominator = 1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))
    return numerator / denominator - t


def _halley_on_lower_tail(xp, x, p):
    """Three Halley steps towards ``ndtr(x) = p`` for ``x <= 0`` (the lower tail, whose
    relative accuracy ``erfc`` keeps)."""
    for _ in range(3):
        density = math.sqrt(0.5 / math.pi) * _exp_minus_square(xp, x * _ROOT_HALF)
        step = (ndtr_standard(xp, x) - p) / density
        x = x - step / (1.0 + 0.5 * x * step)  # Halley: f''/f' = -x for the normal density
    return x


def _erfinv_central(xp, y):
    """``erfinv(y)`` for ``|y| < 1/2`` (other ``y`` give harmless garbage): Halley's steps on
    ``erf`` from the linear start ``√π/2 · y`` (within 10% there)."""
    x = 0.5 * math.sqrt(math.pi) * y
    for _ in range(4):
        derivative = _TWO_OVER_ROOT_PI * _exp_minus_square(xp, x)
        step = (_erf_series(xp, x) - y) / derivative
        x = x - step / (1.0 + x * step)  # Halley: f''/f' = -2x
    return x


def _lower_quantile(xp, tail):
    """``ndtri(tail)`` for ``0 < tail <= 1/2`` (other values give harmless garbage)."""
    safe = xp.where((tail > 0.0) & (tail <= 0.5), tail, 0.25)
    return _halley_on_lower_tail(xp, _tail_start(xp, safe), safe)


def ndtri_standard(xp, p):
    """The standard normal quantile, the inverse of ``ndtr`` (``-inf`` at 0, ``inf`` at 1,
    NaN outside [0, 1]): ``√2 erfinv(2p - 1)`` for ``p`` within 1/4 of 1/2 (``2p - 1`` is
    exact there), else from the tail, ``1 - p`` being exact above 1/2.

    Example:
      >>> import numpy as np
      >>> ndtri_standard(np, np.array([0.5, 0.975, 1e-300]))
      array([  0.        ,   1.95996398, -37.0470963 ])
    """
    is_central = xp.abs(p - 0.5) < 0.25
    central = math.sqrt(2.0) * _erfinv_central(xp, xp.where(is_central, 2.0 * p - 1.0, 0.0))
    is_upper = p > 0.5
    magnitude = _lower_quantile(xp, xp.where(is_upper, 1.0 - p, p))
    value = xp.where(is_central, central, xp.where(is_upper, -magnitude, magnitude))
    value = xp.where(p == 0.0, -math.inf, xp.where(p == 1.0, math.inf, value))
    return xp.where((p >= 0.0) & (p <= 1.0), value, math.nan)


def erfinv_standard(xp, y):
    """The inverse error function (``±inf`` at ±1, NaN outside [-1, 1]): Halley's steps on
    ``erf`` where ``|y| < 1/2``, on ``erfc`` (through the normal quantile of
    ``(1 - |y|)/2``, exact) nearer to ±1.

    Example:
      >>> import numpy as np
      >>> erfinv_standard(np, np.array([0.0, 0.5, -0.999]))
      array([ 0.        ,  0.47693628, -2.32675376])
    """
    magnitude = xp.abs(y)
    is_central = magnitude < 0.5
    # erf(x) = y  <=>  ndtr(-x√2) = (1 - |y|)/2 for x >= 0.
    far = -_lower_quantile(xp, 0.5 * (1.0 - magnitude)) * _ROOT_HALF
    far = xp.where(y < 0, -far, far)
    far = xp.where(magnitude == 1.0, xp.where(y < 0, -math.inf, xp.full_like(y, math.inf)), far)
    far = xp.where(magnitude <= 1.0, far, math.nan)  # and NaN stays NaN
    return xp.where(is_central, _erfinv_central(xp, xp.where(is_central, y, 0.0)), far)
