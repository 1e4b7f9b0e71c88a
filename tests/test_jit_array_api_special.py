"""SciPy's special functions under jit on torch (torch.special), Dask (SciPy per block) and
array-api-strict (compositions of standard calls).

On Dask every value is SciPy's own; on torch and array-api-strict within a few roundings
of SciPy's (1e-11 relative in the far tails of erfc, and subnormal results where SciPy's
are 0), ndtr included in its lower tail.
"""

import functools
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.scipy.special as msp
import minigrad.scipy.stats as mstats
from tests.test_jit_array_api import LIBRARIES, _put

pytest.importorskip("array_api_compat")
special = pytest.importorskip("scipy.special")
stats = pytest.importorskip("scipy.stats")

_X = np.concatenate([np.linspace(-40.0, 40.0, 161), [0.0, -0.0, 1e-300, np.inf, -np.inf, np.nan]])
_P = np.concatenate([np.linspace(0.0, 1.0, 101), [1e-300, 1 - 1e-16, -0.5, 1.5, np.nan]])

# name -> (minigrad function, SciPy's, arguments)
_CASES = {
    "erf": (msp.erf, special.erf, (_X,)),
    "erfc": (msp.erfc, special.erfc, (_X,)),
    "erfcx": (msp.erfcx, special.erfcx, (_X,)),
    "erfinv": (msp.erfinv, special.erfinv, (2 * _P - 1,)),
    "ndtr": (msp.ndtr, special.ndtr, (_X,)),
    "ndtri": (msp.ndtri, special.ndtri, (_P,)),
    "log_ndtr": (msp.log_ndtr, special.log_ndtr, (_X,)),
    "i0e": (msp.i0e, special.i0e, (_X,)),
    "i1e": (msp.i1e, special.i1e, (_X,)),
    "expit": (msp.expit, special.expit, (_X,)),
    "logit": (msp.logit, special.logit, (_P,)),
    "xlogy": (msp.xlogy, special.xlogy, (_X[:, None], np.abs(_X[::7]))),
    "xlog1py": (msp.xlog1py, special.xlog1py, (_X[:, None], _P[::7])),
    "entr": (msp.entr, special.entr, (_X,)),
    "gammaln": (msp.gammaln, special.gammaln, (np.abs(_X[:-6]) + 0.1,)),
    "gamma": (msp.gamma, special.gamma, (_X[80:-6] / 4,)),
    "digamma": (msp.digamma, special.digamma, (_X[:-6] + 0.5,)),
    "betaln": (msp.betaln, special.betaln, (np.abs(_X[:-6, None]) + 0.1, np.abs(_X[::9]) + 0.5)),
    "t.cdf": (mstats.t.cdf, stats.t.cdf, (_X[:-6, None] / 2, np.array([0.3, 1.0, 3.5, 10.0, 60.0]))),
    "polygamma": (
        functools.partial(msp.polygamma, 1),
        functools.partial(special.polygamma, 1),
        (_X[80:-6] + 0.5,),
    ),
}


@pytest.mark.parametrize("name", sorted(_CASES))
@pytest.mark.parametrize("lib", LIBRARIES)
def test_special_functions_give_scipys_values(lib, name):
    function, scipy_function, args = _CASES[name]
    jitted = mg.jit(function)
    library = lib.__name__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = scipy_function(*args)
        got = mg.device_get(jitted(*_put(lib, args)))
    assert got.dtype == want.dtype
    if library == "dask.array":
        np.testing.assert_array_equal(got, want)  # SciPy itself, on each block
    else:
        # torch keeps some subnormal results that SciPy rounds to 0 (erfc(27)).
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=np.finfo(np.float64).tiny)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_ndtr_keeps_its_lower_tail(lib):
    # torch's own ndtr is 0 below about -8; SciPy's formula on torch's erfc is not.
    x = np.array([-8.5, -30.0, -37.0])
    got = mg.device_get(mg.jit(msp.ndtr)(*_put(lib, (x,))))
    np.testing.assert_allclose(got, special.ndtr(x), rtol=1e-13)
    assert got[1] > 0.0


@pytest.mark.parametrize("lib", LIBRARIES)
def test_gamma_from_lgamma_keeps_scipys_poles_and_signs(lib):
    # exp(lgamma) with the sign of Γ, and SciPy's values where lgamma says only "inf".
    if lib.__name__ == "dask.array":
        pytest.skip("Dask runs SciPy's gamma on each block")
    x = np.concatenate(
        [[0.0, -0.0, -1.0, -2.0, np.inf, -np.inf, np.nan, 172.0, -200.5], np.linspace(-30.9, 171.5, 2001)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = special.gamma(x)
    got = mg.device_get(mg.jit(msp.gamma)(*_put(lib, (x,))))
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("n", [0, 1, 2, 4])
def test_polygamma_and_its_gradient(lib, n):
    # On torch, SciPy's formula on torch's zeta: torch's own polygamma(1, x) is 5e-10 off.
    x = np.linspace(0.3, 12.0, 40)
    jitted = mg.jit(mg.vmap(mg.value_and_grad(lambda x: msp.polygamma(n, x))))
    got = mg.device_get(jitted(*_put(lib, (x,))))
    np.testing.assert_allclose(got[0], special.polygamma(n, x), rtol=1e-12)
    np.testing.assert_allclose(got[1], special.polygamma(n + 1, x), rtol=1e-12)
