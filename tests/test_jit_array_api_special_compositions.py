"""The special functions composed of standard calls, on array-api-strict, against SciPy.

``array_api_gamma``, ``array_api_error_functions``, ``array_api_bessel`` and
``array_api_incomplete_beta`` write SciPy's special functions with the standard's calls
only; here each runs on array-api-strict arrays (which have nothing else) over wide
random arguments, tails and special values, and must agree with SciPy to 1e-13 relative
(near a root, where a relative error means nothing, to 1e-15 absolute), with SciPy's
infinities, NaNs and signs.
"""

import warnings

import numpy as np
import pytest

from minigrad.transforms.jit import array_api_bessel as bessel
from minigrad.transforms.jit import array_api_error_functions as error_functions
from minigrad.transforms.jit import array_api_gamma as gamma_family
from minigrad.transforms.jit.array_api_incomplete_beta import stdtr_standard

xs = pytest.importorskip("array_api_strict")
special = pytest.importorskip("scipy.special")

_RNG = np.random.default_rng(0)
_REAL = np.concatenate([_RNG.uniform(-6.0, 6.0, 2000), _RNG.uniform(-40.0, 40.0, 2000)])
_EDGES = np.array([0.0, -0.0, 1.5, -1.5, 20.0, np.inf, -np.inf, np.nan])
_POSITIVE = np.concatenate([_RNG.uniform(1e-6, 40.0, 2000), np.exp(_RNG.uniform(-30.0, 60.0, 1000))])
_NEGATIVE = np.concatenate([_RNG.uniform(-30.0, 0.5, 2000), [0.0, -0.0, -1.0, -7.0, -0.5]])
_PROBABILITY = np.concatenate(
    [_RNG.uniform(0.0, 1.0, 2000), np.exp(_RNG.uniform(-700.0, 0.0, 500)), [0.0, 1.0, 0.5, -0.1, 1.1, np.nan]]
)


def _on_strict(function, *args, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(function(xs, *(xs.asarray(a) for a in args), **params))


def _agree(got, want, atol=1e-15):
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    finite = np.isfinite(want) & (np.abs(want) > 1e-300)  # SciPy rounds some subnormals to 0
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-13, atol=atol)


# Between the poles on the negative axis gammaln is log(π/|sin πx|) - log Γ(1 - x), two
# terms of about 2 that cancel at its roots (SciPy computes it so too).
_ATOL = {"gammaln": 5e-14}


_ELEMENTWISE = {
    "erf": (error_functions.erf_standard, special.erf, _REAL),
    "erfc": (error_functions.erfc_standard, special.erfc, _REAL),
    "erfcx": (error_functions.erfcx_standard, special.erfcx, _REAL),
    "ndtr": (error_functions.ndtr_standard, special.ndtr, _REAL),
    "log_ndtr": (error_functions.log_ndtr_standard, special.log_ndtr, _REAL),
    "ndtri": (error_functions.ndtri_standard, special.ndtri, _PROBABILITY),
    "erfinv": (error_functions.erfinv_standard, special.erfinv, 2.0 * _PROBABILITY - 1.0),
    "i0e": (bessel.i0e_standard, special.i0e, _REAL),
    "i1e": (bessel.i1e_standard, special.i1e, _REAL),
    "gammaln": (gamma_family.gammaln_standard, special.gammaln, np.concatenate([_POSITIVE, _NEGATIVE])),
    "digamma": (gamma_family.digamma_standard, special.digamma, np.concatenate([_POSITIVE, _NEGATIVE])),
}


@pytest.mark.parametrize("name", sorted(_ELEMENTWISE))
def test_composition_gives_scipys_values(name):
    function, scipy_function, x = _ELEMENTWISE[name]
    x = np.concatenate([x, _EDGES])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = scipy_function(x)
    _agree(_on_strict(function, x), want, _ATOL.get(name, 1e-15))


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_polygamma_gives_scipys_values_on_both_sides_of_the_poles(n):
    x = np.concatenate([_POSITIVE[_POSITIVE < 1e5], _NEGATIVE])
    want = special.polygamma(n, x)
    got = _on_strict(gamma_family.polygamma_standard, x, n=n)
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite], want[~finite])
    # Beside the poles ψ⁽ⁿ⁾ is a difference of large terms: relative to the largest.
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-13, atol=1e-15 * np.abs(want[finite]).max())


# betaln below SHIFT is a sum of three gammaln of arguments moved up by SHIFT: each is
# within a few ulps of log Γ(x + SHIFT) (about 30), so the sum within 5e-14 absolute.
_BETALN_ATOL = 5e-14


def test_betaln_has_no_cancellation_for_large_arguments():
    # B(1, b) = 1/b and B(2, b) = 1/(b (b + 1)): exact references; above SHIFT the
    # Stirling branch, where three gammaln would lose every digit for b = 1e17.
    b = np.exp(_RNG.uniform(-3.0, 40.0, 1000))
    got = _on_strict(gamma_family.betaln_standard, np.ones_like(b), b)
    np.testing.assert_allclose(got, -np.log(b), rtol=1e-14, atol=_BETALN_ATOL)
    got = _on_strict(gamma_family.betaln_standard, b, np.full_like(b, 2.0))
    np.testing.assert_allclose(got, -np.log(b) - np.log1p(b), rtol=1e-14, atol=_BETALN_ATOL)


def test_gammaln_keeps_its_relative_accuracy_at_the_roots_1_and_2():
    # log Γ(1 + ε) = -γε + ζ(2)ε²/2 + O(ε³), log Γ(2 + ε) = (1 - γ)ε + (ζ(2) - 1)ε²/2 + O(ε³);
    # the ε the arguments hold is (1 + ε) - 1, exactly.
    euler, zeta2 = 0.5772156649015329, np.pi**2 / 6
    epsilon = np.array([1e-9, -1e-9, 3e-12, -2e-14])
    at_one, at_two = (1.0 + epsilon) - 1.0, (2.0 + epsilon) - 2.0
    got = _on_strict(gamma_family.gammaln_standard, np.concatenate([1.0 + at_one, 2.0 + at_two]))
    np.testing.assert_allclose(got[:4], -euler * at_one + zeta2 * at_one**2 / 2, rtol=1e-13)
    np.testing.assert_allclose(got[4:], (1.0 - euler) * at_two + (zeta2 - 1.0) * at_two**2 / 2, rtol=1e-13)


def test_betaln_gives_scipys_values():
    a, b = _RNG.uniform(0.5, 30.0, (2, 2000))
    want = special.betaln(a, b)
    np.testing.assert_allclose(
        _on_strict(gamma_family.betaln_standard, a, b), want, rtol=1e-13, atol=_BETALN_ATOL
    )


@pytest.mark.parametrize("degrees", [(0.1, 1.0), (1.0, 6.0), (6.0, 100.0)])
def test_stdtr_gives_scipys_values(degrees):
    df = _RNG.uniform(*degrees, 3000)
    t = np.concatenate(
        [_RNG.uniform(-12.0, 12.0, 1500), 50.0 * _RNG.standard_normal(1000), 0.01 * _RNG.standard_normal(500)]
    )
    np.testing.assert_allclose(
        _on_strict(stdtr_standard, df, t), special.stdtr(df, t), rtol=1e-12, atol=1e-300
    )
    edges = np.array([0.0, -0.0, np.inf, -np.inf, np.nan])
    got = _on_strict(stdtr_standard, np.full(5, 3.5), edges)
    np.testing.assert_array_equal(got, special.stdtr(3.5, edges))


def test_compositions_keep_float32():
    x = np.linspace(-3.0, 3.0, 101, dtype=np.float32)
    got = _on_strict(error_functions.erf_standard, x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, special.erf(x.astype(np.float64)), rtol=1e-6, atol=1e-7)
