"""Polynomial roots under jit on other libraries: torch's eigenvalues, NumPy's on Dask's
blocks, Aberth's iteration in standard calls on array-api-strict.

The order of the roots is not promised (NumPy's is LAPACK's), so each found root is
matched with NumPy's nearest one: every root within 1e-12 of the largest root's size.
"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from tests.test_jit_array_api import LIBRARIES, _put

pytest.importorskip("array_api_compat")


def _same_roots(got, want, rtol):
    assert got.shape == want.shape and got.dtype == want.dtype
    scale = np.abs(want).max(axis=-1, keepdims=True)
    distances = np.abs(got[..., :, None] - want[..., None, :])
    assert (distances.min(axis=-1) <= rtol * scale).all()  # every found root is one of NumPy's
    assert (distances.min(axis=-2) <= rtol * scale).all()  # and every one of NumPy's is found


def _polynomials(rng, degree, complex_coefficients):
    p = rng.standard_normal((3, degree + 1)) * 10.0 ** rng.uniform(-2, 2, (3, degree + 1))
    if complex_coefficients:
        p = p + 1j * rng.standard_normal(p.shape)
    return p


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("complex_coefficients", [False, True])
def test_roots_of_random_polynomials_are_numpys(lib, complex_coefficients):
    rng = np.random.default_rng(11)
    find = mg.jit(mg.vmap(lambda p: mnp.roots(p, strip_zeros=False)))
    for degree in range(1, 11):
        p = _polynomials(rng, degree, complex_coefficients)
        want = np.stack([np.roots(row) for row in p]).astype(np.complex128)  # real for degree 1
        _same_roots(mg.device_get(find(*_put(lib, (p,)))), want, 1e-12)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_roots_keep_float32_and_nan_for_leading_zeros(lib):
    p = np.array([0.0, 1.0, -3.0, 2.0], dtype=np.float32)  # a leading zero: one root missing
    got = mg.device_get(mg.jit(lambda p: mnp.roots(p, strip_zeros=False))(*_put(lib, (p,))))
    assert got.dtype == np.complex64
    assert np.isnan(got[-1])
    _same_roots(got[:2], np.roots(p[1:]).astype(np.complex64), 1e-5)
