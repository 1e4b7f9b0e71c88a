"""einsum under jit on every library: the library's own (torch, Dask), else pairwise matmul
contractions in standard calls (array-api-strict), against NumPy's einsum."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.transforms.jit.array_api_einsum import einsum_standard
from tests.test_jit_array_api import LIBRARIES, _put

pytest.importorskip("array_api_compat")

_RNG = np.random.default_rng(8)
# subscripts -> operand shapes: contractions, batches, diagonals, traces, outer
# products, sums over an index of one operand, three operands, permuted outputs.
_CASES = {
    "ij,jk->ik": [(2, 3), (3, 4)],
    "bij,bjk->bki": [(2, 3, 4), (2, 4, 3)],
    "ii->i": [(3, 3)],
    "iji->j": [(3, 2, 3)],
    "ii->": [(4, 4)],
    "i,j,k->kji": [(2,), (3,), (2,)],
    "ijk->j": [(2, 3, 4)],
    "ij,ij->": [(3, 2), (3, 2)],
    "ij,jk,kl->li": [(2, 3), (3, 4), (4, 2)],
    "ab,cd->": [(2, 3), (2, 2)],
    "aab,bc->ca": [(3, 3, 2), (2, 4)],
}


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("subscripts", sorted(_CASES))
def test_einsum_is_numpys(lib, subscripts):
    operands = [_RNG.standard_normal(shape) for shape in _CASES[subscripts]]
    got = mg.jit(lambda *xs: mnp.einsum(subscripts, *xs))(*_put(lib, operands))
    np.testing.assert_allclose(mg.device_get(got), np.einsum(subscripts, *operands), rtol=1e-12, atol=1e-14)


def test_einsum_standard_of_integers_is_exact():
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(einsum_standard(np, "ij,jk->ki", a, b), np.einsum("ij,jk->ki", a, b))
