"""minigrad.scipy.linalg against scipy.linalg; derivatives are checked by the op table
(``op_specs_scipy.py``) and here at a few hand-picked points."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.testing import check_grads

linalg = pytest.importorskip("minigrad.scipy.linalg", exc_type=ImportError)
scipy_linalg = pytest.importorskip("scipy.linalg")

RNG = np.random.default_rng(1)
A = RNG.standard_normal((4, 4)) + 3 * np.eye(4)
SPD = A @ A.T
B = RNG.standard_normal((4, 3))


@pytest.mark.parametrize("trans", [0, 1, "T"])
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("unit_diagonal", [False, True])
def test_solve_triangular_matches_scipy(trans, lower, unit_diagonal):
    options = dict(trans=trans, lower=lower, unit_diagonal=unit_diagonal)
    for b in (B, B[:, 0]):
        want = scipy_linalg.solve_triangular(A, b, **options)
        np.testing.assert_allclose(linalg.solve_triangular(A, b, **options), want, rtol=1e-12)
        np.testing.assert_allclose(
            mg.jit(lambda a, b: linalg.solve_triangular(a, b, **options))(A, b), want, rtol=1e-12
        )


def test_cholesky_helpers_match_scipy():
    for lower in (False, True):
        c, flag = linalg.cho_factor(SPD, lower=lower)
        theirs, _ = scipy_linalg.cho_factor(SPD, lower=lower)
        triangle = np.tril if lower else np.triu
        np.testing.assert_allclose(c, triangle(theirs), rtol=1e-13)
        assert flag is lower
        np.testing.assert_allclose(
            linalg.cho_solve((c, flag), B), scipy_linalg.cho_solve((theirs, lower), B), rtol=1e-12
        )
        # SciPy's factor, leftovers in the other triangle and all, works as well.
        np.testing.assert_allclose(
            linalg.cho_solve((theirs, lower), B[:, 0]), np.linalg.solve(SPD, B[:, 0]), rtol=1e-12
        )


def test_lu_matches_scipy_and_solves():
    lu, piv = linalg.lu_factor(A)
    theirs, their_piv = scipy_linalg.lu_factor(A)
    np.testing.assert_allclose(lu, theirs, rtol=1e-14)
    np.testing.assert_array_equal(piv, their_piv)
    for trans in (0, 1):
        np.testing.assert_allclose(
            linalg.lu_solve((lu, piv), B, trans=trans),
            scipy_linalg.lu_solve((theirs, their_piv), B, trans=trans),
            rtol=1e-12,
        )
    stack = np.stack([A, A.T, A[::-1]])
    lus, pivs = mg.vmap(linalg.lu_factor)(stack)
    for i in range(3):
        np.testing.assert_allclose(lus[i], scipy_linalg.lu_factor(stack[i])[0], rtol=1e-14)
        np.testing.assert_array_equal(pivs[i], scipy_linalg.lu_factor(stack[i])[1])


def test_lu_derivative_with_row_swaps():
    # The rows are out of order, so the pivots are not the identity.
    a = A[[2, 0, 3, 1]]
    assert not np.array_equal(linalg.lu_factor(a)[1], np.arange(4))
    check_grads(lambda a: linalg.lu_factor(a)[0], (a,), order=2)
    for trans in (0, 1):
        for b in (B, B[:, 0]):
            check_grads(
                lambda a, b, t=trans: linalg.lu_solve(linalg.lu_factor(a), b, trans=t), (a, b), order=2
            )


def test_expm_matches_scipy_and_its_frechet_derivative():
    a = RNG.standard_normal((3, 3)) * 0.5
    np.testing.assert_allclose(linalg.expm(a), scipy_linalg.expm(a), rtol=1e-14)
    e = RNG.standard_normal((3, 3))
    _, tangent = mg.jvp(linalg.expm, (a,), (e,))
    np.testing.assert_allclose(tangent, scipy_linalg.expm_frechet(a, e, compute_expm=False), rtol=1e-12)
    np.testing.assert_allclose(mg.jit(linalg.expm)(a), scipy_linalg.expm(a), rtol=1e-14)
    # Exact on a rotation generator: expm(tJ) = [[cos t, sin t], [-sin t, cos t]].
    generator = np.array([[0.0, 1.0], [-1.0, 0.0]])
    second = mg.grad(mg.grad(lambda t: linalg.expm(t * generator)[0, 0]))(0.3)
    np.testing.assert_allclose(second, -np.cos(0.3), rtol=1e-13)


def test_errors_name_the_function_and_the_shapes():
    with pytest.raises(ValueError, match=r"solve_triangular: the right-hand side of shape \(3,\)"):
        linalg.solve_triangular(A, np.ones(3))
    with pytest.raises(ValueError, match=r"expm: expected a square matrix"):
        linalg.expm(np.ones((2, 3)))
    with pytest.raises(ValueError, match="trans must be"):
        linalg.solve_triangular(A, B, trans=5)


@pytest.mark.parametrize("lower", [False, True])
def test_cho_factor_reads_one_triangle_as_scipy(lower):
    # Garbage in the triangle that is not read changes neither the factor nor, through
    # the derivative, anything: it gets zero gradient.
    rng = np.random.default_rng(3)
    unread = (
        np.triu(rng.standard_normal(SPD.shape), 1) if lower else np.tril(rng.standard_normal(SPD.shape), -1)
    )
    a = (np.tril(SPD) if lower else np.triu(SPD)) + 10 * unread
    c, _ = linalg.cho_factor(a, lower=lower)
    theirs, _ = scipy_linalg.cho_factor(a, lower=lower)
    np.testing.assert_allclose(c, (np.tril if lower else np.triu)(theirs), rtol=1e-13)
    grad = mg.grad(lambda a: mnp.sum(mnp.sin(linalg.cho_factor(a, lower=lower)[0])))(a)
    np.testing.assert_array_equal(grad[unread != 0], 0.0)
    check_grads(lambda a: linalg.cho_factor(a, lower=lower)[0], (a,), order=2)
