"""minigrad.scipy.special: values and derivatives against mpmath, transforms, edge cases.

Values come from SciPy, derivatives from minigrad's rules; both are compared with
mpmath at 300 bits on deterministic grids that reach far into the tails (as long as
the result is a normal float64 number). The tolerance is stated in ulp in the one
sense that stays meaningful where a function is ill-conditioned (``erfc(26)`` changes
by 1350 ulp when its argument moves by one): the result must be within ``k`` ulp of the
exact value at some argument within one ulp of ``x``, that is
``|got - f(x)| <= k·ε·(|f(x)| + max |f(x(1 ± ε)) - f(x)| / ε)``. Values get a few ulp
(k = 4); gradients, which are short compositions of such values, k = 40.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

mp = pytest.importorskip("mpmath")
special = pytest.importorskip("minigrad.scipy.special", exc_type=ImportError)
scipy_special = pytest.importorskip("scipy.special")

EPS = np.finfo(np.float64).eps
mp.mp.prec = 300


def _log_ndtr(x):
    return mp.log(mp.ncdf(x)) if x < 0 else mp.log1p(-mp.ncdf(-x))


def _log_ndtr_prime(x):
    with mp.workprec(1200):  # x² of x = -1e150 needs 1000 bits before exp(-x²/2) cancels
        return mp.npdf(x) / mp.ncdf(x)


def _loggamma(x):
    return mp.log(abs(mp.gamma(x)))  # log|Γ(x)|, real for negative x too


def _ndtri(p):
    # Newton's method on ncdf(y) = p from SciPy's answer: converges to 300 bits in a few steps.
    y = mp.mpf(float(scipy_special.ndtri(float(p))))
    for _ in range(4):
        y -= (mp.ncdf(y) - p) / mp.npdf(y)
    return y


def _i1e_prime(x):
    if x == 0:
        return mp.mpf(0.5)
    return mp.exp(-abs(x)) * (mp.besseli(0, x) - mp.besseli(1, x) / x - mp.sign(x) * mp.besseli(1, x))


def _grid(*parts):
    return np.unique(np.concatenate(parts))


_LIN = np.linspace
_PROBABILITIES = _grid(np.logspace(-300, -1, 60), _LIN(0.01, 0.99, 99), 1 - np.logspace(-15, -2, 14))

# name: (mpmath value, mpmath derivative, grid[, slack]). Grids end where the result leaves the
# normal float64 range (erfc(26.5) is subnormal). ``slack(x)``: extra ulp a gradient may
# be off where its formula amplifies the few-ulp error of a value: i0e' = i1e - i0e
# cancels to a relative 1/(2|x|) (2|x| ulp), and ndtri' = √(2π) exp(y²/2) multiplies the error of
# y = ndtri(p) by y².
REFERENCES = {
    "erf": (mp.erf, lambda x: 2 / mp.sqrt(mp.pi) * mp.exp(-x * x), _LIN(-6, 6, 241)),
    "erfc": (mp.erfc, lambda x: -2 / mp.sqrt(mp.pi) * mp.exp(-x * x), _LIN(-6, 26, 321)),
    "erfinv": (
        mp.erfinv,
        lambda x: mp.sqrt(mp.pi) / 2 * mp.exp(mp.erfinv(x) ** 2),
        _grid(_LIN(-0.999, 0.999, 201), 1 - np.logspace(-15, -1, 15), -1 + np.logspace(-15, -1, 15)),
    ),
    "ndtr": (mp.ncdf, mp.npdf, _LIN(-37, 8, 301)),
    "ndtri": (
        _ndtri,
        lambda p: 1 / mp.npdf(_ndtri(p)),
        _PROBABILITIES,
        lambda p: scipy_special.ndtri(p) ** 2,
    ),
    "log_ndtr": (
        _log_ndtr,
        _log_ndtr_prime,
        _grid(_LIN(-50, 37, 88), -np.logspace(2, 150, 38)),
    ),
    "gammaln": (
        _loggamma,
        mp.digamma,
        _grid(np.logspace(-300, 300, 121), _LIN(0.5, 3, 101), -_LIN(0.1, 9.9, 50)),
    ),
    "gamma": (
        mp.gamma,
        lambda x: mp.gamma(x) * mp.digamma(x),
        _grid(_LIN(0.01, 171, 171), -_LIN(0.05, 20.95, 70)),
    ),
    "digamma": (
        mp.digamma,
        lambda x: mp.polygamma(1, x),
        _grid(np.logspace(-10, 15, 126), _LIN(0.5, 3, 101), -_LIN(0.05, 9.95, 50)),
    ),
    "expit": (
        lambda x: 1 / (1 + mp.exp(-x)),
        lambda x: mp.exp(-x) / (1 + mp.exp(-x)) ** 2,
        _LIN(-700, 40, 297),
    ),
    "logit": (lambda p: mp.log(p / (1 - p)), lambda p: 1 / (p * (1 - p)), _PROBABILITIES),
    "entr": (lambda x: -x * mp.log(x), lambda x: -(1 + mp.log(x)), np.logspace(-300, 300, 121)),
    "i0e": (
        lambda x: mp.exp(-abs(x)) * mp.besseli(0, x),
        lambda x: mp.exp(-abs(x)) * (mp.besseli(1, x) - mp.sign(x) * mp.besseli(0, x)),
        _grid(_LIN(-700, 700, 141), _LIN(-5, 5, 101)),
        lambda x: 2 * abs(x),
    ),
    "i1e": (
        lambda x: mp.exp(-abs(x)) * mp.besseli(1, x),
        _i1e_prime,
        _grid(_LIN(-700, 700, 141), _LIN(-5, 5, 101)),
        lambda x: 2 * abs(x),
    ),
}


def ulps_off(reference, xs, got):
    """Per point: ``|got - f(x)|`` in ulp of ``|f(x)|`` plus f's change over one ulp of x."""
    out = []
    for x, value in zip(xs, got, strict=True):
        exact = reference(mp.mpf(float(x)))
        spread = max(abs(reference(mp.mpf(float(x)) * (1 + k * mp.mpf(EPS))) - exact) for k in (-1, 1))
        scale = (abs(exact) + spread / EPS) * EPS
        out.append(float(abs(mp.mpf(float(value)) - exact) / scale) if scale else float(value != exact))
    return np.array(out)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_values_are_within_a_few_ulp_of_mpmath(name):
    reference, _, xs, *_ = REFERENCES[name]
    errors = ulps_off(reference, xs, getattr(special, name)(xs))
    worst = int(np.argmax(errors))
    assert errors[worst] <= 4, f"{name}({xs[worst]!r}) is {errors[worst]:.1f} ulp off"


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_gradients_match_mpmath_derivatives(name):
    _, derivative, xs, *slack = REFERENCES[name]
    grads = mg.vmap(mg.grad(getattr(special, name)))(xs)
    allowed = 40 + (slack[0](xs) if slack else np.zeros_like(xs))
    errors = ulps_off(derivative, xs, grads)
    worst = int(np.argmax(errors / allowed))
    assert errors[worst] <= allowed[worst], (
        f"grad {name}({xs[worst]!r}) is {errors[worst]:.1f} ulp off; {allowed[worst]:.0f} allowed"
    )


def test_log_ndtr_gradient_is_finite_and_nonzero_deep_in_the_left_tail():
    xs = np.array([-1e300, -1e10, -1000.0, -40.0, 0.0, 5.0])
    grads = mg.vmap(mg.grad(special.log_ndtr))(xs)
    assert np.all(np.isfinite(grads)) and np.all(grads[:-1] > 0)
    np.testing.assert_allclose(grads[:3], -xs[:3], rtol=1e-6)  # φ/Φ ≈ -x there
    # (φ/Φ)' = -r (x + r) with r = φ/Φ ≈ -x: a cancellation that costs about x² ulp.
    second = mg.vmap(mg.grad(mg.grad(special.log_ndtr)))(np.array([-40.0, -8.0]))
    exact = [float(-r * (x + r)) for x in (mp.mpf(-40), mp.mpf(-8)) for r in [mp.npdf(x) / mp.ncdf(x)]]
    np.testing.assert_allclose(second, exact, rtol=1e-12)


def test_xlogy_conventions_match_jax():
    # 0 · log 0 = 0; ∂/∂x = log(y) and ∂/∂y = x / y, as jax.scipy.special.xlogy has them.
    assert float(special.xlogy(0.0, 0.0)) == 0.0
    dx, dy = mg.grad(special.xlogy, argnums=(0, 1))(0.0, 2.0)
    assert float(dx) == math.log(2.0) and float(dy) == 0.0
    dx, dy = mg.grad(special.xlogy, argnums=(0, 1))(3.0, 2.0)
    assert float(dx) == math.log(2.0) and float(dy) == 1.5
    assert float(mg.grad(special.entr)(1.0)) == -1.0


def test_expit_and_logit_are_stable_in_the_tails():
    x = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    np.testing.assert_array_equal(special.expit(x), scipy_special.expit(x))
    grads = mg.vmap(mg.grad(special.expit))(x)
    np.testing.assert_allclose(grads[1:4], [math.exp(-40.0), 0.25, math.exp(-40.0)], rtol=1e-14)
    assert np.all(np.isfinite(grads))
    p = np.array([1e-300, 0.5, 1 - 1e-16])
    assert np.all(np.isfinite(special.logit(p)))


def test_derivatives_chain_through_the_gamma_family():
    # gammaln'' = digamma' = polygamma(1, ·), and so on: exact rules to any order.
    x = 2.5
    third = mg.grad(mg.grad(mg.grad(special.gammaln)))(x)
    np.testing.assert_allclose(third, float(mp.polygamma(2, x)), rtol=1e-14)
    np.testing.assert_allclose(mg.grad(special.gamma)(x), float(mp.gamma(x) * mp.digamma(x)), rtol=1e-14)
    a, b = 2.0, 3.5
    da, db = mg.grad(special.betaln, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(
        [da, db],
        [float(mp.digamma(a) - mp.digamma(a + b)), float(mp.digamma(b) - mp.digamma(a + b))],
        rtol=1e-14,
    )


def test_logsumexp_keeps_precision_near_zero_and_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 5)) * 10, rng.uniform(0.1, 2.0, (4, 5))
    for axis in (None, 0, 1, (0, 1)):
        np.testing.assert_allclose(
            special.logsumexp(a, axis=axis), scipy_special.logsumexp(a, axis=axis), rtol=1e-14
        )
        np.testing.assert_allclose(
            special.logsumexp(a, axis=axis, b=b), scipy_special.logsumexp(a, axis=axis, b=b), rtol=1e-14
        )
    tiny = special.logsumexp(np.array([0.0, -40.0]))
    np.testing.assert_allclose(tiny, float(mp.log(1 + mp.exp(-40))), rtol=1e-15)
    out, sign = special.logsumexp(np.array([0.0, 0.0]), b=np.array([1.0, -3.0]), return_sign=True)
    np.testing.assert_allclose([out, sign], [math.log(2.0), -1.0], rtol=1e-15)
    grads = mg.grad(lambda a: special.logsumexp(a, axis=1).sum())(a)
    np.testing.assert_allclose(grads, scipy_special.softmax(a, axis=1), rtol=1e-13)
    np.testing.assert_allclose(special.softmax(a, axis=0), scipy_special.softmax(a, axis=0), rtol=1e-14)
    np.testing.assert_allclose(special.log_softmax(a), scipy_special.log_softmax(a), rtol=1e-13, atol=1e-13)


ELEMENTWISE = ["erf", "erfc", "erfcx", "erfinv", "ndtr", "ndtri", "log_ndtr", "gammaln", "gamma", "digamma",
               "expit", "logit", "entr", "i0e", "i1e"]  # fmt: skip


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_jit_agrees_with_eager_for_values_and_gradients(name):
    fun = getattr(special, name)
    x = np.linspace(0.05, 0.95, 7)
    np.testing.assert_array_equal(mg.jit(fun)(x), fun(x))
    np.testing.assert_array_equal(mg.jit(mg.vmap(mg.grad(fun)))(x), mg.vmap(mg.grad(fun))(x))
    assert fun(x.astype(np.float32)).dtype == np.float32
    assert mg.jit(fun)(x.astype(np.float32)).dtype == np.float32


def test_values_agree_with_scipy_exactly_outside_and_inside_jit():
    x = np.linspace(-3.0, 3.0, 11)
    for name in ("erf", "erfc", "ndtr", "log_ndtr", "expit", "i0e", "i1e"):
        np.testing.assert_array_equal(getattr(special, name)(x), getattr(scipy_special, name)(x))
    np.testing.assert_array_equal(special.polygamma(3, x + 4.0), scipy_special.polygamma(3, x + 4.0))
    np.testing.assert_array_equal(special.xlog1py(x, x + 3.5), scipy_special.xlog1py(x, x + 3.5))


def test_errors_name_the_function_and_say_what_to_do():
    with pytest.raises(TypeError, match=r"special\.erf: operands of dtype complex128; only real"):
        special.erf(np.array([1j]))
    with pytest.raises(TypeError, match="polygamma: the order n must be a non-negative Python int"):
        special.polygamma(-1, 1.0)


def test_exact_gelu_goes_through_the_error_function():
    x = np.array([-40.0, -10.0, -1.0, 0.0, 0.5, 3.0])
    exact = [float(mp.mpf(v) * mp.ncdf(mp.mpf(v))) for v in x]
    np.testing.assert_allclose(nn.gelu(x, approximate=False), exact, rtol=1e-14)
    slope = [float(mp.ncdf(v) + v * mp.npdf(v)) for v in x]
    np.testing.assert_allclose(
        mg.vmap(mg.grad(lambda v: nn.gelu(v, approximate=False)))(x), slope, rtol=1e-13, atol=1e-300
    )
    assert nn.gelu(x.astype(np.float32), approximate=False).dtype == np.float32
