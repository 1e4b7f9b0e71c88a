"""The gamma function family composed of Array API standard calls, to SciPy's accuracy.

The standard has no special functions, so on a library without its own (array-api-strict;
torch for ``betaln`` and ``stdtr``) they are written here with ``log``, ``exp``,
``where`` and arithmetic, each by a formulation that keeps float64 within about 1e-15
of SciPy's absolute error and 1e-14 relative away from the roots:

- ``gammaln`` between 1/2 and 7/2 is the Taylor series of ``log Γ`` about 2 (with one
  step of the recurrence to reach it), which keeps its relative accuracy at the roots
  1 and 2;
- elsewhere ``gammaln``, and ``digamma`` and ``polygamma``, move their argument up to at least
  ``SHIFT`` by the recurrences (``Γ(x + 1) = x Γ(x)``, ``ψ(x + 1) = ψ(x) + 1/x``, the
  Hurwitz sum for ψ⁽ⁿ⁾), where the asymptotic (Stirling and Euler-Maclaurin) series
  with ten Bernoulli terms is exact to the last bit; below 1/2 the reflection formulas
  (through ``sin``, ``tan`` of ``π`` times the distance to the nearest integer) take
  over, with SciPy's values at the poles.
- ``betaln`` for a large argument subtracts the Stirling series of the two large gamma
  functions term by term (``log1p`` for the leading logarithms), so nothing cancels.

Every function takes the namespace ``xp`` first; the generated code calls them with its
library's (``_gammaln0(x)``), and they run on NumPy too:

Example:
    >>> import numpy as np
    >>> round(float(gammaln_standard(np, np.array(5.0))), 12)  # log(24)
    3.178053830348
"""

from __future__ import annotations

import math
from fractions import Fraction

__all__ = [
    "SHIFT",
    "gammaln_standard",
    "digamma_standard",
    "polygamma_standard",
    "betaln_standard",
    "sin_pi_of_distance",
]

# Arguments below SHIFT are moved up to [SHIFT, 2 SHIFT) by the recurrences; above it the
# first omitted term of every series below is under 1e-17 relative.
SHIFT = 16
_HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)

# B₂, B₄, ..., B₂₀: the Bernoulli numbers of the asymptotic series.
_BERNOULLI = tuple(
    Fraction(n, d)
    for n, d in [(1, 6), (-1, 30), (1, 42), (-1, 30), (5, 66), (-691, 2730), (7, 6), (-3617, 510),
                 (43867, 798), (-174611, 330)]
)  # fmt: skip
# Stirling: log Γ(z) = (z - ½) log z - z + ½ log 2π + Σ B₂ₖ / (2k (2k - 1) z²ᵏ⁻¹).
_STIRLING = tuple(float(b / (2 * k * (2 * k - 1))) for k, b in enumerate(_BERNOULLI, start=1))
# ψ(z) = log z - 1/(2z) - Σ B₂ₖ / (2k z²ᵏ).
_DIGAMMA = tuple(float(b / (2 * k)) for k, b in enumerate(_BERNOULLI, start=1))


def _odd_series(coefficients, inverse, start):
    """``Σ cₖ · inverse^(start + 2k)`` by Horner's rule in ``inverse²``."""
    squared = inverse * inverse
    total = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        total = total * squared + c
    return total * inverse**start


def stirling_correction(z):
    """``log Γ(z) - ((z - ½) log z - z + ½ log 2π)``, for ``z >= SHIFT``."""
    return _odd_series(_STIRLING, 1.0 / z, 1)


def sin_pi_of_distance(xp, x):
    """``(sin(π r), r)`` with ``r = x - round(x)`` exact, so ``|sin(πx)| = |sin(πr)|``
    without the rounding of ``π x`` for large ``x``."""
    finite = xp.where(xp.isinf(x), 0.0, x)  # (±inf is a case of its own for the callers)
    distance = finite - xp.round(finite)
    return xp.sin(math.pi * distance), distance


def _shifted(xp, x):
    """``(z, below)``: ``x`` moved up by ``SHIFT`` where it is below it (``below``)."""
    below = x < SHIFT
    return xp.where(below, x + SHIFT, x), below


def _zeta_minus_one(s: int) -> float:
    """``ζ(s) - 1 = Σ_{m>=2} m⁻ˢ`` for an integer ``s >= 2``: the first terms, then
    Euler-Maclaurin's tail from 20 (exact to the last bit)."""
    start = 20
    terms = [float(m) ** -s for m in range(2, start)]
    terms += [start ** (1.0 - s) / (s - 1), 0.5 * start**-s]
    rising = Fraction(s)
    for j, b in enumerate(_BERNOULLI, start=1):
        terms.append(float(b / math.factorial(2 * j) * rising) * start ** (1.0 - s - 2 * j))
        rising *= (s + 2 * j - 1) * (s + 2 * j)
    return math.fsum(terms)


_EULER_GAMMA = 0.5772156649015329
# log Γ(2 + ε) = (1 - γ) ε + Σₖ (-1)ᵏ (ζ(k) - 1)/k εᵏ; for |ε| <= 1/2 a term is below 4⁻ᵏ/k.
_LOG_GAMMA_ABOUT_TWO = (0.0, 1.0 - _EULER_GAMMA) + tuple(
    (-1.0) ** k * _zeta_minus_one(k) / k for k in range(2, 30)
)


def _log_gamma_near_two(epsilon):
    total = _LOG_GAMMA_ABOUT_TWO[-1]
    for c in reversed(_LOG_GAMMA_ABOUT_TWO[:-1]):
        total = total * epsilon + c
    return total


def _log_gamma_central(xp, x):
    """``log Γ(x)`` for ``1/2 <= x < 7/2`` (harmless garbage elsewhere): the series about 2
    on [3/2, 5/2), one step of ``Γ(x + 1) = x Γ(x)`` either side of it."""
    step = xp.floor(x - 1.5)  # -1, 0 or 1
    series = _log_gamma_near_two(x - (2.0 + step))  # exact (Sterbenz), as is x - 1 below
    return series + xp.where(
        step < 0, -xp.log(x), xp.where(step > 0, xp.log(xp.where(step > 0, x - 1.0, 1.0)), 0.0)
    )


def _log_gamma_positive(xp, x):
    is_central = x < 3.5
    central = _log_gamma_central(xp, xp.where(is_central, x, 2.0))
    x = xp.where(is_central, float(SHIFT), x)
    z, below = _shifted(xp, x)
    # log of x (x + 1) ... (x + SHIFT - 1), the recurrence's factor, where it applies;
    # a sum of logarithms of the factors (their product can overflow, or lose a tiny x).
    small = xp.where(below, x, 1.0)
    factors = sum(xp.log(small + k) for k in range(SHIFT))
    stirling = (z - 0.5) * (xp.log(z) - 1.0) - 0.5 + _HALF_LOG_TWO_PI + stirling_correction(z)
    return xp.where(is_central, central, stirling - xp.where(below, factors, 0.0))


def gammaln_standard(xp, x):
    """``log|Γ(x)|`` as SciPy's ``gammaln``: ``inf`` at the poles (0, -1, -2, ...).

    Example:
      >>> import numpy as np
      >>> gammaln_standard(np, np.array([0.5, -0.5, 0.0]))  # log √π, log 2√π
      array([0.57236494, 1.26551212,        inf])
    """
    positive = x >= 0.5
    mirrored = xp.where(positive, 0.5, x)  # reflection: log Γ(x) = log(π/|sin πx|) - log Γ(1 - x)
    sin_pi, _ = sin_pi_of_distance(xp, mirrored)
    magnitude = xp.where(sin_pi == 0.0, 1.0, xp.abs(sin_pi))  # the poles: set below
    reflected = math.log(math.pi) - xp.log(magnitude) - _log_gamma_positive(xp, 1.0 - mirrored)
    reflected = xp.where(sin_pi == 0.0, math.inf, reflected)
    reflected = xp.where(x == -math.inf, -math.inf, reflected)  # SciPy's value there
    return xp.where(positive, _log_gamma_positive(xp, xp.where(positive, x, 1.0)), reflected)


def _digamma_positive(xp, x):
    z, below = _shifted(xp, x)
    small = xp.where(below, x, 1.0)
    steps = sum(1.0 / (small + k) for k in range(SHIFT))  # ψ(x) = ψ(x + SHIFT) - Σ 1/(x + k)
    inverse = 1.0 / z
    asymptotic = xp.log(z) - 0.5 * inverse - _odd_series(_DIGAMMA, inverse, 2)
    return asymptotic - xp.where(below, steps, 0.0)


def digamma_standard(xp, x):
    """``ψ(x) = Γ'(x)/Γ(x)`` as SciPy's ``digamma``: ``∓inf`` at ``±0``, NaN at the
    negative integers.

    Example:
      >>> import numpy as np
      >>> digamma_standard(np, np.array([1.0, -0.5]))  # -γ, 2 - γ - 2 log 2
      array([-0.57721566,  0.03648997])
    """
    positive = x >= 0.5
    mirrored = xp.where(positive, 0.5, x)  # reflection: ψ(x) = ψ(1 - x) - π / tan(πx)
    sin_pi, distance = sin_pi_of_distance(xp, mirrored)
    reflected = _digamma_positive(xp, 1.0 - mirrored) - math.pi / xp.tan(math.pi * distance)
    at_zero = xp.where(xp.signbit(x), math.inf, xp.full_like(x, -math.inf))
    reflected = xp.where(sin_pi == 0.0, xp.where(x == 0.0, at_zero, math.nan), reflected)
    return xp.where(positive, _digamma_positive(xp, xp.where(positive, x, 1.0)), reflected)


def _hurwitz_zeta_positive(xp, s: int, x):
    """``ζ(s, x) = Σₖ (x + k)⁻ˢ`` for an integer ``s >= 2`` and ``x > 0``: the first terms
    up to ``SHIFT``, then Euler-Maclaurin's tail."""
    z, below = _shifted(xp, x)
    small = xp.where(below, x, 1.0)
    head = sum((small + k) ** -s for k in range(SHIFT))
    # Tail: z¹⁻ˢ/(s - 1) + z⁻ˢ/2 + Σ B₂ⱼ/(2j)! s(s + 1)...(s + 2j - 2) z^(1 - s - 2j).
    coefficients = []
    rising = Fraction(s)
    for j, b in enumerate(_BERNOULLI, start=1):
        coefficients.append(float(b / math.factorial(2 * j) * rising))
        rising *= (s + 2 * j - 1) * (s + 2 * j)
    inverse = 1.0 / z
    tail = inverse ** (s - 1) / (s - 1) + 0.5 * inverse**s + _odd_series(coefficients, inverse, s + 1)
    return tail + xp.where(below, head, 0.0)


def _cot_derivative_polynomial(n: int) -> list:
    """Coefficients (by power of c) of P with dⁿ/dxⁿ cot(πx) = πⁿ P(cot πx)."""
    poly = [0, 1]  # cot itself
    for _ in range(n):  # d/dx c = -π (1 + c²)
        derivative = [k * a for k, a in enumerate(poly)][1:]
        grown = [0] * (len(derivative) + 2)
        for k, a in enumerate(derivative):
            grown[k] -= a
            grown[k + 2] -= a
        poly = grown
    return poly


def polygamma_standard(xp, x, *, n: int):
    """``ψ⁽ⁿ⁾(x) = (-1)ⁿ⁺¹ n! ζ(n + 1, x)`` as SciPy's ``polygamma``, for ``n >= 1``; below 1/2
    by the reflection ``ψ⁽ⁿ⁾(1 - x) + (-1)ⁿ⁺¹ ψ⁽ⁿ⁾(x) = (-1)ⁿ π dⁿ/dxⁿ cot(πx)``.

    Example:
      >>> import numpy as np
      >>> round(float(polygamma_standard(np, np.array(1.0), n=1)), 12)  # π²/6
      1.644934066848
    """
    if n == 0:
        return digamma_standard(xp, x)
    sign = (-1.0) ** (n + 1) * math.factorial(n)
    positive = x >= 0.5
    mirrored = xp.where(positive, 0.5, x)
    sin_pi, distance = sin_pi_of_distance(xp, mirrored)
    cot = 1.0 / xp.tan(math.pi * distance)
    cot_derivative = 0.0
    for coefficient in reversed(_cot_derivative_polynomial(n)):
        cot_derivative = cot_derivative * cot + coefficient
    cot_derivative = math.pi ** (n + 1) * cot_derivative
    mirror = sign * _hurwitz_zeta_positive(xp, n + 1, 1.0 - mirrored)
    reflected = (-1.0) ** (n + 1) * ((-1.0) ** n * cot_derivative - mirror)
    pole = sign * math.inf  # SciPy's (-1)ⁿ⁺¹ n! ζ(n + 1, 0) at every pole
    reflected = xp.where(sin_pi == 0.0, pole, reflected)
    return xp.where(positive, sign * _hurwitz_zeta_positive(xp, n + 1, xp.where(positive, x, 1.0)), reflected)


def betaln_standard(xp, a, b):
    """``log|B(a, b)|`` as SciPy's ``betaln``, for positive ``a`` and ``b``.

    Where the larger argument ``b`` is at least ``SHIFT``, ``log Γ(b) - log Γ(a + b)`` is
    Stirling's series of each, subtracted term by term: ``-(b - ½) log1p(a/b) - a log(a +
    b) + a`` and the difference of the corrections, none of which cancels.

    Example:
      >>> import numpy as np
      >>> betaln_standard(np, np.array([2.0, 1.0]), np.array([3.0, 1e8]))  # log 1/12, log 1e-8
      array([ -2.48490665, -18.42068074])
    """
    small = xp.minimum(a, b)
    large = xp.maximum(a, b)
    total = small + large
    direct = gammaln_standard(xp, small) + gammaln_standard(xp, large) - gammaln_standard(xp, total)
    is_large = large >= SHIFT
    large_ = xp.where(is_large, large, float(SHIFT))
    total_ = xp.where(is_large, total, float(SHIFT) + small)
    stirling = (
        -(large_ - 0.5) * xp.log1p(small / large_)
        - small * xp.log(total_)
        + small
        + (stirling_correction(large_) - stirling_correction(total_))
    )
    return xp.where(is_large, gammaln_standard(xp, small) + stirling, direct)
