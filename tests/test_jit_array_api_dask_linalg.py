"""det, slogdet, eigh, eigvalsh, pinv and lstsq under jit on Dask arrays, which Dask's linalg
lacks: NumPy's own function runs on each block of whole matrices.

The arrays are chunked across their matrices (a block holds parts of several), so the
rechunking is exercised; values are compared with NumPy's to 1e-12 of each array's
largest entry, real and complex, single matrices and stacks, and gradients under jit
with eager NumPy's.
"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp

dask_array = pytest.importorskip("dask.array")
pytest.importorskip("array_api_compat")

RTOL = 1e-12


def _close(got, want):
    got_leaves, got_tree = mg.tree.tree_flatten(got)
    want_leaves, want_tree = mg.tree.tree_flatten(want)
    assert got_tree == want_tree
    for g, w in zip(got_leaves, want_leaves, strict=True):
        assert isinstance(g, dask_array.Array)  # lazy: nothing was computed behind Dask's back
        g, w = mg.device_get(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        scale = float(np.max(np.abs(w), initial=0.0))
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=RTOL * scale)


def _chunked(a):
    """``a`` as a Dask array whose blocks cut through its matrices."""
    return dask_array.from_array(a, chunks=tuple(max(1, n // 2) for n in a.shape))


def _matrices(rng, shape, complex_entries):
    a = rng.standard_normal(shape)
    return a + 1j * rng.standard_normal(shape) if complex_entries else a


def _hermitian(a):
    return a + mnp.conj(mnp.swapaxes(a, -1, -2))


def _eigh_phase_free(a):
    """Eigenvalues, and eigenvectors with each column's phase (a sign, if real) fixed by its
    first entry: LAPACK promises no phase."""
    w, v = mnp.linalg.eigh(a)
    first = v[..., :1, :]
    return w, v * (mnp.conj(first) / mnp.abs(first))


SQUARE = {
    "det": mnp.linalg.det,
    "slogdet": mnp.linalg.slogdet,
    "eigvalsh": lambda a: mnp.linalg.eigvalsh(_hermitian(a)),
    "eigh": lambda a: _eigh_phase_free(_hermitian(a)),
    "pinv": mnp.linalg.pinv,
}


@pytest.mark.parametrize("complex_entries", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("batch", [(), (2, 3)], ids=["matrix", "stack"])
@pytest.mark.parametrize("name", sorted(SQUARE))
def test_square_matrix_functions_are_numpys_on_dask(name, batch, complex_entries):
    a = _matrices(np.random.default_rng(5), (*batch, 4, 4), complex_entries)
    fun = SQUARE[name]
    _close(mg.jit(fun)(_chunked(a)), fun(a))


@pytest.mark.parametrize("complex_entries", [False, True], ids=["real", "complex"])
def test_pinv_of_a_stack_of_wide_and_rank_deficient_matrices(complex_entries):
    rng = np.random.default_rng(6)
    a = _matrices(rng, (3, 3, 5), complex_entries)
    a[1] = a[1, :1] * np.arange(1.0, 4.0)[:, None]  # rank 1: the cutoff matters
    fun = lambda a: mnp.linalg.pinv(a, rtol=1e-10)  # noqa: E731
    _close(mg.jit(fun)(_chunked(a)), fun(a))


@pytest.mark.parametrize("complex_entries", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("shape", [(6, 3), (3, 6)], ids=["tall", "wide"])
def test_lstsq_on_dask_is_numpys(shape, complex_entries):
    rng = np.random.default_rng(7)
    a = _matrices(rng, shape, complex_entries)
    b = _matrices(rng, (shape[0], 2), complex_entries)
    # Chunked both ways: Dask's own SVD (of the singular values) gets them chunked one way.
    got = mg.jit(mnp.linalg.lstsq)(_chunked(a), _chunked(b))
    _close(got, mnp.linalg.lstsq(a, b))
    want_x, want_residuals, want_rank, want_s = np.linalg.lstsq(a, b)  # NumPy itself
    np.testing.assert_allclose(mg.device_get(got[0]), want_x, rtol=1e-10, atol=1e-12)
    assert int(mg.device_get(got[2])) == want_rank


def test_float32_stays_float32():
    a = _hermitian(np.random.default_rng(8).standard_normal((2, 3, 3))).astype(np.float32)
    w, v = mg.jit(mnp.linalg.eigh)(_chunked(a))
    assert w.dtype == np.float32 and v.dtype == np.float32
    np.testing.assert_allclose(mg.device_get(w), np.linalg.eigvalsh(a), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(0, 3, 3), (2, 0, 0)], ids=["no_matrix", "empty_matrices"])
def test_empty_stacks(shape):
    a = np.zeros(shape)
    fun = lambda a: (mnp.linalg.det(a), mnp.linalg.slogdet(a), mnp.linalg.eigh(a), mnp.linalg.pinv(a))  # noqa: E731
    _close(mg.jit(fun)(dask_array.from_array(a)), fun(a))


def _loss(a):
    sign, logabsdet = mnp.linalg.slogdet(a)
    w, v = mnp.linalg.eigh(a + mnp.swapaxes(a, -1, -2))
    weights = np.arange(1.0, 17.0).reshape(4, 4)  # v ** 2 does not depend on the signs
    return (
        mnp.sum(mnp.linalg.det(a) ** 2)
        + mnp.sum(sign * logabsdet)
        + mnp.sum(w**3)
        + mnp.sum(v**2 * weights)
        + mnp.sum(mnp.linalg.pinv(a) ** 2)
    )


def test_gradient_under_jit_on_dask_is_eager_numpys():
    a = np.random.default_rng(9).standard_normal((2, 3, 4, 4))
    got = mg.jit(mg.grad(_loss))(_chunked(a))
    _close(got, mg.grad(_loss)(a))


def test_gradient_of_a_complex_function_under_jit_on_dask_is_eager_numpys():
    def loss(x, y):
        a = x + 1j * y
        sign, logabsdet = mnp.linalg.slogdet(a)
        w, v = mnp.linalg.eigh(a + mnp.conj(mnp.swapaxes(a, -1, -2)))
        return mnp.sum(mnp.abs(mnp.linalg.det(a)) ** 2) + mnp.sum(mnp.real(sign) * logabsdet) + mnp.sum(w**3)

    rng = np.random.default_rng(10)
    x, y = rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 3, 3))
    gradient = mg.grad(loss, argnums=(0, 1))
    _close(mg.jit(gradient)(_chunked(x), _chunked(y)), gradient(x, y))


@pytest.mark.parametrize("shape", [(8, 5), (5, 8), (6, 6), (3, 8, 5), (3, 5, 8)])
def test_qr_and_svd_of_matrices_chunked_both_ways(shape):
    # Dask's QR and SVD take a matrix chunked along its long side only (and a wide one's
    # first block at least square); the lowering rechunks, so any chunking works.
    a = np.random.default_rng(8).standard_normal(shape)
    q, r = mg.jit(mnp.linalg.qr)(_chunked(a))
    q, r = mg.device_get(q), mg.device_get(r)
    np.testing.assert_allclose(q @ r, a, rtol=RTOL, atol=RTOL * np.max(np.abs(a)))
    np.testing.assert_allclose(np.abs(r), np.abs(np.linalg.qr(a)[1]), rtol=1e-10, atol=1e-12)
    u, s, vh = mg.jit(lambda x: mnp.linalg.svd(x, full_matrices=False))(_chunked(a))
    u, s, vh = mg.device_get(u), mg.device_get(s), mg.device_get(vh)
    np.testing.assert_allclose(s, np.linalg.svd(a, compute_uv=False), rtol=1e-10)
    np.testing.assert_allclose((u * s[..., None, :]) @ vh, a, rtol=RTOL, atol=1e-12 * np.max(np.abs(a)))
    values = mg.jit(lambda x: mnp.linalg.svd(x, compute_uv=False))(_chunked(a))
    np.testing.assert_allclose(mg.device_get(values), np.linalg.svd(a, compute_uv=False), rtol=1e-10)
