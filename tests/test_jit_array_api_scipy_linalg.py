"""SciPy's Cholesky, LU and matrix exponential under jit on other libraries' arrays.

``cho_factor`` (either triangle), ``expm``, ``lu_factor`` and ``lu_solve`` run on every
library (LU by torch's LAPACK calls on torch, elsewhere in standard calls). Values are
SciPy's within 1e-12 of the largest entry; LU pivots are SciPy's exactly. The op table
(``test_jit_array_api_op_table``) covers one drawn example per row; these cover the
edges: the triangle read, transposed solves, vector right-hand sides, stacks, and
matrices of a stack whose exponentials need different numbers of squarings.
"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from tests.test_jit_array_api import LIBRARIES, _put

pytest.importorskip("array_api_compat")
scipy_linalg = pytest.importorskip("scipy.linalg")
linalg = pytest.importorskip("minigrad.scipy.linalg")
lu_pivots_to_permutation = pytest.importorskip("minigrad.scipy.linalg._lu").lu_pivots_to_permutation
expm_pade = pytest.importorskip("minigrad.scipy.linalg._expm").expm_pade

RTOL = 1e-12


def _library(lib) -> str:
    return lib.__name__.removeprefix("array_api_compat.")


def _batches(lib):
    # Dask's linalg takes single matrices: a stack is computed matrix by matrix.
    return [(), (3,)]


def _close(got, want):
    for g, w in zip(mg.tree.tree_leaves(mg.device_get(got)), mg.tree.tree_leaves(want), strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=RTOL * float(np.max(np.abs(w), initial=0.0)))


def _spd_with_junk(rng, batch, n=3):
    """Symmetric positive definite in the lower triangle and in the upper one, but not
    symmetric: each triangle of the result is that of a different matrix, so reading
    the wrong one shows."""
    x, y = rng.standard_normal((2, *batch, n, n))
    lower = x @ np.swapaxes(x, -1, -2) + n * np.eye(n)
    upper = y @ np.swapaxes(y, -1, -2) + n * np.eye(n)
    return np.tril(lower) + np.triu(upper, 1)


def _general(rng, batch, n=4):
    return rng.standard_normal((*batch, n, n)) + 2 * np.eye(n)


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("lower", [True, False])
def test_cho_factor_and_solve_read_one_triangle(lib, lower):
    rng = np.random.default_rng(0)
    for batch in _batches(lib):
        a = _spd_with_junk(rng, batch)
        b, vector = rng.standard_normal((*batch, 3, 2)), rng.standard_normal((*batch, 3))

        def f(a, b, vector, lower=lower):
            factor = linalg.cho_factor(a, lower=lower)
            return factor[0], linalg.cho_solve(factor, b), linalg.cho_solve(factor, vector)

        def loss(a, b):
            return mnp.sum(linalg.cho_solve(linalg.cho_factor(a, lower=lower), b) ** 2)

        _close(mg.jit(f)(*_put(lib, (a, b, vector))), f(a, b, vector))
        gradient = mg.jit(mg.grad(loss, argnums=(0, 1)))
        _close(gradient(*_put(lib, (a, b))), gradient(a, b))


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("trans", [0, 1])
def test_lu_factor_and_solve_give_scipys_pivots_and_values(lib, trans):
    # torch: its LAPACK calls; elsewhere LAPACK's unblocked algorithms in standard calls.
    rng = np.random.default_rng(1)

    def f(a, b, vector):
        factors = linalg.lu_factor(a)
        return (
            factors,
            linalg.lu_solve(factors, b, trans=trans),
            linalg.lu_solve(factors, vector, trans=trans),
        )

    def loss(a, b):
        return mnp.sum(linalg.lu_solve(linalg.lu_factor(a), b, trans=trans) ** 2)

    for batch in _batches(lib):
        a = _general(rng, batch)
        b, vector = rng.standard_normal((*batch, 4, 2)), rng.standard_normal((*batch, 4))
        (lu, piv), x, x_vector = mg.jit(f)(*_put(lib, (a, b, vector)))
        (want_lu, want_piv), want_x, want_vector = f(a, b, vector)
        np.testing.assert_array_equal(mg.device_get(piv), want_piv)  # SciPy's 0-based pivots
        assert mg.device_get(piv).dtype == want_piv.dtype
        _close((lu, x, x_vector), (want_lu, want_x, want_vector))
        gradient = mg.jit(mg.grad(loss, argnums=(0, 1)))
        _close(gradient(*_put(lib, (a, b))), gradient(a, b))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_lu_factor_of_singular_and_tied_matrices_is_scipys(lib):
    # A zero column is left as LAPACK leaves it; of equal magnitudes the first is the pivot.
    singular = np.array([[0.0, 1.0, 2.0], [0.0, 3.0, 4.0], [0.0, 5.0, 7.0]])
    tied = np.array([[1.0, 2.0, 0.0], [-1.0, 1.0, 3.0], [1.0, 0.0, 1.0]])
    for a in (singular, tied):
        lu, piv = mg.jit(linalg.lu_factor)(*_put(lib, (a,)))
        want_lu, want_piv = scipy_linalg.lu_factor(a)
        np.testing.assert_array_equal(mg.device_get(piv), want_piv)
        _close(lu, want_lu)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_lu_solve_with_scipys_factors(lib):
    # Factors made by SciPy and moved over: the pivots' convention is SciPy's.
    rng = np.random.default_rng(2)
    a, b = _general(rng, ()), rng.standard_normal(4)
    lu, piv = scipy_linalg.lu_factor(a)
    got = mg.jit(lambda lu, piv, b: linalg.lu_solve((lu, piv), b))(*_put(lib, (lu, piv, b)))
    _close(got, scipy_linalg.lu_solve((lu, piv), b))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_pivots_to_permutation_in_standard_calls(lib):
    rng = np.random.default_rng(3)
    a = _general(rng, (2,))
    piv = np.stack([scipy_linalg.lu_factor(m)[1] for m in a.reshape(-1, 4, 4)]).reshape(a.shape[:-1])
    got = mg.device_get(mg.jit(lu_pivots_to_permutation)(*_put(lib, (piv,))))
    np.testing.assert_array_equal(got, lu_pivots_to_permutation(piv))
    for matrix, perm in zip(a.reshape(-1, 4, 4), got.reshape(-1, 4), strict=True):
        p, _, _ = scipy_linalg.lu(matrix)
        np.testing.assert_array_equal(matrix[perm], (p.T @ matrix))  # (Pᵀ A)[i] = A[perm[i]]


@pytest.mark.parametrize("lib", LIBRARIES)
def test_expm_matches_scipy(lib):
    rng = np.random.default_rng(4)
    # 1-norms from 0 to about 5: one matrix needs no halving, another a few squarings.
    stack = rng.standard_normal((4, 3, 3)) * np.array([0.0, 0.05, 0.5, 1.8])[:, None, None]
    diagonal = np.diag([0.3, -2.0, 1.0])
    for a in [stack, diagonal, np.array([[4.0]])]:
        _close(mg.jit(linalg.expm)(*_put(lib, (a,))), scipy_linalg.expm(a))
        gradient = mg.jit(mg.grad(lambda a: mnp.sum(mnp.sin(linalg.expm(a)))))
        _close(gradient(*_put(lib, (a,))), gradient(a))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_expm_of_no_matrices(lib):
    for shape in [(0, 2, 2), (0, 0)]:
        got = mg.device_get(mg.jit(linalg.expm)(*_put(lib, (np.zeros(shape),))))
        assert got.shape == shape


def test_expm_squares_each_matrix_its_own_number_of_times():
    # In a stack, a small matrix is not halved because a large one is: its value is that
    # of the matrix alone, bit for bit.
    rng = np.random.default_rng(5)
    small, large = rng.standard_normal((2, 3, 3)) * np.array([0.1, 20.0])[:, None, None]
    alone = expm_pade(np, np.eye(3), small)
    together = expm_pade(np, np.eye(3), np.stack([small, large]))
    np.testing.assert_array_equal(together[0], alone)
