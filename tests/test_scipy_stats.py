"""minigrad.scipy.stats against scipy.stats, and gradients in every parameter.

The distributions are compositions of minigrad functions, so their derivatives are
checked against finite differences (``check_grads``, to second order) on top of the
values, which must agree with SciPy's to a relative 1e-13.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.testing import check_grads

stats = pytest.importorskip("minigrad.scipy.stats", exc_type=ImportError)
scipy_stats = pytest.importorskip("scipy.stats")

RNG = np.random.default_rng(0)
X = np.linspace(-30.0, 8.0, 39)


@pytest.mark.parametrize("name", ["logpdf", "pdf", "cdf", "logcdf"])
def test_norm_matches_scipy(name):
    ours = getattr(stats.norm, name)(X, 0.5, 1.5)
    np.testing.assert_allclose(ours, getattr(scipy_stats.norm, name)(X, 0.5, 1.5), rtol=1e-13, atol=1e-300)
    check_grads(lambda x, loc, scale: getattr(stats.norm, name)(x, loc, scale), (X[-12:], 0.5, 1.5), order=2)


@pytest.mark.parametrize("name", ["logpdf", "pdf", "cdf", "logcdf"])
def test_t_matches_scipy(name):
    x = np.linspace(-50.0, 20.0, 36)
    ours = getattr(stats.t, name)(x, 3.5, 0.5, 2.0)
    np.testing.assert_allclose(ours, getattr(scipy_stats.t, name)(x, 3.5, 0.5, 2.0), rtol=1e-13)
    if name in ("logpdf", "pdf"):  # differentiable in df too
        check_grads(
            lambda x, df, loc, scale: getattr(stats.t, name)(x, df, loc, scale),
            (x[::6], 3.5, 0.5, 2.0),
            order=2,
        )
    else:
        check_grads(
            lambda x, loc, scale: getattr(stats.t, name)(x, 3.5, loc, scale), (x[::6], 0.5, 2.0), order=2
        )


def test_t_cdf_refuses_a_derivative_in_df_with_a_message():
    with pytest.raises(NotImplementedError, match="with respect to the degrees of freedom"):
        mg.grad(lambda df: stats.t.cdf(1.0, df))(3.0)


@pytest.mark.parametrize("name", ["logpmf", "pmf", "cdf", "logcdf"])
def test_bernoulli_matches_scipy(name):
    k = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    for p in (0.0, 0.3, 1.0):
        with np.errstate(divide="ignore"):
            want = getattr(scipy_stats.bernoulli, name)(k, p)
        np.testing.assert_allclose(getattr(stats.bernoulli, name)(k, p), want, rtol=1e-15)
    check_grads(lambda p: getattr(stats.bernoulli, name)(np.array([0.0, 1.0]), p), (0.3,), order=2)


def test_bernoulli_gradient_at_certain_outcomes_is_finite():
    assert np.isfinite(mg.grad(lambda p: stats.bernoulli.logpmf(1.0, p))(1.0))


def test_multivariate_normal_matches_scipy_and_differentiates_in_every_argument():
    d = 3
    a = RNG.standard_normal((d, d))
    cov = a @ a.T + d * np.eye(d)
    mean = RNG.standard_normal(d)
    x = RNG.standard_normal((4, 2, d))
    want = scipy_stats.multivariate_normal.logpdf(x, mean, cov)
    np.testing.assert_allclose(stats.multivariate_normal.logpdf(x, mean, cov), want, rtol=1e-13)
    np.testing.assert_allclose(
        stats.multivariate_normal.pdf(x[0, 0], mean, cov), np.exp(want[0, 0]), rtol=1e-13
    )
    np.testing.assert_allclose(
        stats.multivariate_normal.logpdf(x[0], cov=2.0),
        scipy_stats.multivariate_normal.logpdf(x[0], cov=2.0 * np.eye(d)),
        rtol=1e-13,
    )

    def total(x, mean, cov):
        return stats.multivariate_normal.logpdf(x, mean, (cov + cov.T) / 2).sum()

    check_grads(total, (x[0], mean, cov), order=2)
    batched = mg.vmap(lambda m: stats.multivariate_normal.logpdf(x[0, 0], m, cov))(np.stack([mean, mean + 1]))
    np.testing.assert_allclose(batched[0], want[0, 0], rtol=1e-13)


def test_distributions_under_jit_agree_with_eager():
    for fun in (
        stats.norm.logcdf,
        stats.norm.pdf,
        lambda x: stats.t.cdf(x, 4.0),
        lambda x: stats.t.logpdf(x, 4.0),
    ):
        np.testing.assert_allclose(mg.jit(fun)(X), fun(X), rtol=1e-15)
        np.testing.assert_allclose(mg.jit(mg.vmap(mg.grad(fun)))(X), mg.vmap(mg.grad(fun))(X), rtol=1e-15)


def test_shapes_that_do_not_fit_name_the_function():
    with pytest.raises(ValueError, match="multivariate_normal.logpdf: points of shape"):
        stats.multivariate_normal.logpdf(np.zeros(2), cov=np.eye(3))
