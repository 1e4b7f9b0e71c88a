"""Factorizations of complex matrices: ``cholesky qr eigh eigvalsh svd svdvals pinv
lstsq`` and the singular-value norms.

Values against NumPy; derivatives of real functions that do not depend on the phases of
eigenvectors and singular vectors by ``check_grads`` (finite differences in complex
directions) and against closed forms worked out by hand; the same gradients against
JAX's where it is installed; ``jit`` against eager and ``vmap`` against a loop. The
operation table (``op_specs_complex_linalg``) checks the same rules on drawn shapes.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.testing import check_grads
from tests.op_specs_complex_linalg import (
    complex_singular_spread,
    hermitian_positive_definite,
    hermitian_spread,
)

la = mnp.linalg
RNG = np.random.default_rng(11)
HPD = hermitian_positive_definite(RNG, (2,), 3)
HERMITIAN = hermitian_spread(RNG, (2,), 3)
TALL = complex_singular_spread(RNG, (), 4, 3)
WIDE = complex_singular_spread(RNG, (2,), 2, 3)
SQUARE = complex_singular_spread(RNG, (), 3, 3)
RHS = RNG.standard_normal((4, 2)) + 1j * RNG.standard_normal((4, 2))
WEIGHTS = np.array([[0.3, 1.1, -0.7], [0.5, -0.2, 0.9], [1.3, 0.1, -0.4], [0.2, 0.6, 0.8]])


def _h(x):
    return np.conj(np.swapaxes(x, -1, -2))


# (name, minigrad function, NumPy function, argument)
VALUES = [
    ("cholesky", la.cholesky, np.linalg.cholesky, HPD),
    ("cholesky_upper", lambda a: la.cholesky(a, upper=True), lambda a: np.linalg.cholesky(a, upper=True), HPD),
    ("qr_q", lambda a: la.qr(a).Q, lambda a: np.linalg.qr(a).Q, TALL),
    ("qr_r", lambda a: la.qr(a, mode="r"), lambda a: np.linalg.qr(a, mode="r"), TALL),
    ("eigh_w", lambda a: la.eigh(a).eigenvalues, lambda a: np.linalg.eigh(a).eigenvalues, HERMITIAN),
    ("eigvalsh", la.eigvalsh, np.linalg.eigvalsh, HERMITIAN),
    ("svd_s", lambda a: la.svd(a).S, lambda a: np.linalg.svd(a).S, WIDE),
    ("svdvals", la.svdvals, np.linalg.svdvals, TALL),
    ("pinv", la.pinv, np.linalg.pinv, WIDE),
    ("norm_2", lambda a: la.norm(a, 2), lambda a: np.linalg.norm(a, 2), TALL),
    ("norm_nuc", lambda a: la.norm(a, "nuc"), lambda a: np.linalg.norm(a, "nuc"), TALL),
    ("matrix_norm_-2", lambda a: la.matrix_norm(a, ord=-2), lambda a: np.linalg.matrix_norm(a, ord=-2), WIDE),
    ("cond", la.cond, np.linalg.cond, SQUARE),
    ("matrix_rank", la.matrix_rank, np.linalg.matrix_rank, WIDE),
]  # fmt: skip


@pytest.mark.parametrize("name,ours,numpys,a", VALUES, ids=[v[0] for v in VALUES])
def test_values_and_dtypes_match_numpy(name, ours, numpys, a):
    got, want = ours(a), numpys(a)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    small = a.astype(np.complex64)
    assert np.asarray(ours(small)).dtype == np.asarray(numpys(small)).dtype


def test_factors_reconstruct_their_matrices():
    w, v = la.eigh(HERMITIAN)
    np.testing.assert_allclose((v * w[..., None, :]) @ _h(v), HERMITIAN, atol=1e-12)
    u, s, vh = la.svd(WIDE, full_matrices=False)
    np.testing.assert_allclose((u * s[..., None, :]) @ vh, WIDE, atol=1e-12)
    q, r = la.qr(TALL)
    np.testing.assert_allclose(q @ r, TALL, atol=1e-12)
    np.testing.assert_allclose(np.imag(np.diagonal(r)), 0.0, atol=1e-14)  # the gauge the derivative keeps
    x, residuals, rank, s = la.lstsq(TALL, RHS)
    want = np.linalg.lstsq(TALL, RHS)
    for got, expected in zip((x, residuals, s), (want[0], want[1], want[3]), strict=True):
        assert np.asarray(got).dtype == np.asarray(expected).dtype
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert rank == want[2]


def _svd_weighted(a):
    u, s, vh = la.svd(a, full_matrices=False)
    return mnp.sum(mnp.abs(u) ** 2 * WEIGHTS[: u.shape[-2], : u.shape[-1]]) + mnp.sum(
        mnp.abs(vh) ** 2 * WEIGHTS[: vh.shape[-2], : vh.shape[-1]] * s[..., :, None]
    )


# Real functions (or complex ones) that do not depend on the phases of the vectors.
GAUGE_FREE = [
    ("cholesky", lambda a: la.cholesky(a), HPD),
    ("qr_tall", lambda a: la.qr(a), TALL),
    ("qr_square", lambda a: la.qr(a), SQUARE),
    ("eigh_weighted", lambda a: mnp.sum(mnp.abs(la.eigh(a)[1]) ** 2 * WEIGHTS[:3]) + mnp.sum(la.eigh(a)[0] ** 3), HERMITIAN),
    ("eigh_reconstruction", lambda a: (lambda w, v: (v * w[..., None, :] ** 2) @ mnp.conj(mnp.swapaxes(v, -1, -2)))(*la.eigh(a)), HERMITIAN),
    ("eigvalsh", la.eigvalsh, HERMITIAN),
    ("svd_weighted_tall", _svd_weighted, TALL),
    ("svd_weighted_wide", _svd_weighted, WIDE),
    ("svd_reconstruction", lambda a: (lambda u, s, vh: (u * s[..., None, :] ** 2) @ vh)(*la.svd(a, full_matrices=False)), WIDE),
    ("svd_abs_det", lambda a: mnp.prod(la.svd(a)[1], axis=-1), SQUARE),
    ("svdvals", la.svdvals, TALL),
    ("pinv", la.pinv, TALL),
    ("lstsq", lambda a: la.lstsq(a, RHS)[:2], TALL),
    ("norms", lambda a: la.norm(a, 2) + la.norm(a, "nuc") + la.norm(a, -2) + la.cond(a), SQUARE),
]  # fmt: skip


@pytest.mark.parametrize("name,f,a", GAUGE_FREE, ids=[g[0] for g in GAUGE_FREE])
def test_derivatives_agree_with_finite_differences(name, f, a):
    check_grads(f, (a,), order=1)


def test_gradients_match_hand_derived_closed_forms():
    # For a real f of z = x + 1j y, grad is df/dx - 1j df/dy (docs/complex.md).
    # log det A = 2 Σ log L_ii: d = Re tr(A⁻¹ dA), so grad = A⁻ᵀ = conj(A⁻¹) for Hermitian A.
    a = HPD[0]
    log_det = mg.grad(lambda a: 2.0 * mnp.sum(mnp.log(mnp.real(la.diagonal(la.cholesky(a))))))(a)
    np.testing.assert_allclose(log_det, np.conj(np.linalg.inv(a)), rtol=1e-10)
    # Σ w² = ‖A‖²: d = 2 Re tr(A dA), grad = 2 Aᵀ; and Σ s² = Σ |a|², grad = 2 conj(A).
    np.testing.assert_allclose(mg.grad(lambda a: mnp.sum(la.eigvalsh(a) ** 2))(a), 2.0 * a.T, rtol=1e-10)
    np.testing.assert_allclose(
        mg.grad(lambda a: mnp.sum(la.svdvals(a) ** 2))(TALL), 2.0 * np.conj(TALL), rtol=1e-10
    )
    # |det A| = Π s moves by |det A| Re tr(A⁻¹ dA) (Jacobi's formula): grad = |det A| A⁻ᵀ.
    abs_det = mg.grad(lambda a: mnp.prod(la.svdvals(a)))(SQUARE)
    expected = np.abs(np.linalg.det(SQUARE)) * np.linalg.inv(SQUARE).T
    np.testing.assert_allclose(abs_det, expected, rtol=1e-9)


def test_gradients_match_jax():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    weights = WEIGHTS[:3]
    pairs = [
        (lambda a: mnp.sum(mnp.abs(la.cholesky(a)) ** 2 * weights) + mnp.sum(mnp.imag(la.cholesky(a))),
         lambda a: jnp.sum(jnp.abs(jnp.linalg.cholesky(a)) ** 2 * weights) + jnp.sum(jnp.imag(jnp.linalg.cholesky(a))),
         HPD[0]),
        (lambda a: mnp.sum(mnp.real(la.qr(a)[0]) * WEIGHTS[:, :3]) + mnp.sum(mnp.imag(la.qr(a)[1]) * weights),
         lambda a: jnp.sum(jnp.real(jnp.linalg.qr(a)[0]) * WEIGHTS[:, :3]) + jnp.sum(jnp.imag(jnp.linalg.qr(a)[1]) * weights),
         TALL),
        (lambda a: mnp.sum(mnp.abs(la.eigh(a)[1]) ** 2 * weights) + mnp.sum(la.eigh(a)[0] ** 3),
         lambda a: jnp.sum(jnp.abs(jnp.linalg.eigh(a)[1]) ** 2 * weights) + jnp.sum(jnp.linalg.eigh(a)[0] ** 3),
         HERMITIAN[1]),
        (_svd_weighted,
         lambda a: (lambda u, s, vh: jnp.sum(jnp.abs(u) ** 2 * WEIGHTS[:4, :3]) + jnp.sum(jnp.abs(vh) ** 2 * weights * s[:, None]))(
             *jnp.linalg.svd(a, full_matrices=False)),
         TALL),
        (lambda a: mnp.sum(mnp.real(la.pinv(a)) * WEIGHTS.T) + la.norm(a, "nuc"),
         lambda a: jnp.sum(jnp.real(jnp.linalg.pinv(a)) * WEIGHTS.T) + jnp.linalg.norm(a, "nuc"),
         TALL),
    ]  # fmt: skip
    with jax.enable_x64(True):
        for ours, theirs, a in pairs:
            np.testing.assert_allclose(ours(a), np.asarray(theirs(a)), rtol=1e-10)
            np.testing.assert_allclose(
                mg.grad(ours)(a), np.asarray(jax.grad(theirs)(a)), rtol=1e-8, atol=1e-10
            )


def test_jit_agrees_with_eager_on_values_and_gradients():
    for name, f, a in GAUGE_FREE:

        def scalar(a, f=f):
            out = f(a)
            parts = out if isinstance(out, tuple) else (out,)
            return sum(mnp.sum(mnp.abs(x) ** 2) for x in parts)

        np.testing.assert_allclose(mg.jit(scalar)(a), scalar(a), rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(mg.jit(mg.grad(scalar))(a), mg.grad(scalar)(a), rtol=1e-10, err_msg=name)


def test_vmap_agrees_with_a_loop():
    def per_matrix(a):
        u, s, vh = la.svd(a, full_matrices=False)
        return mg.grad(lambda a: mnp.sum(la.svdvals(a) ** 3) + mnp.sum(mnp.abs(la.pinv(a))))(a) + u @ vh

    batched = mg.vmap(per_matrix)(WIDE)
    np.testing.assert_allclose(batched, np.stack([per_matrix(a) for a in WIDE]), rtol=1e-10)
    w_batched = mg.vmap(lambda a: la.eigh(a)[0], in_axes=1)(np.moveaxis(HERMITIAN, 0, 1))
    np.testing.assert_allclose(w_batched, np.linalg.eigvalsh(HERMITIAN), rtol=1e-12)
