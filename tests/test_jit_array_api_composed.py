"""NumPy functions composed of Array API standard calls give NumPy's results, on the edge values.

Each function runs jitted on torch, array-api-strict and Dask arrays over a grid of
edge values (zeros of both signs, infinities, NaN, the largest and smallest floats,
subnormals, values next to powers of two) and must equal NumPy bit for bit where the
composition is exact, within a few roundings where it follows NumPy's formula.
"""

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from tests.test_jit_array_api import LIBRARIES, _put

pytest.importorskip("array_api_compat")


def _edge_floats(dtype):
    info = np.finfo(dtype)
    edges = [
        0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 7.5, -7.5, np.inf, -np.inf, np.nan, info.max, -info.max,
        info.tiny, 0.75 * info.tiny, info.smallest_subnormal, -3 * info.smallest_subnormal,
        1 - info.eps / 2, 1 + info.eps, np.nextafter(dtype(0.5), dtype(0)), 1e-30, 1e30,
    ]  # fmt: skip
    random = np.random.default_rng(3).normal(size=12) * 10.0 ** np.arange(-18, 18, 3)
    return np.array(edges + list(random), dtype=dtype)


_EXPONENTS = np.array([0, 1, -1, 2, 100, -1100, 1074, -1074, -1075, 1023, 1024, -1022, -1023, 5000, -5000,
                       127, 128, -126, -149, -150], dtype=np.int32)  # fmt: skip


def _grid(x, y):
    a, b = np.meshgrid(x, y)
    return a.ravel(), b.ravel()


# name -> (function, arguments of a float dtype, exact?)
def _float_cases(dtype):
    v = _edge_floats(dtype)
    return {
        "ldexp": (mnp.ldexp, _grid(v, _EXPONENTS), True),
        "frexp": (mnp.frexp, (v,), True),
        "modf": (mnp.modf, (v,), True),
        "spacing": (mnp.spacing, (v,), True),
        "fmod": (mnp.fmod, _grid(v, v), True),
        "exp2": (mnp.exp2, (v,), False),
        "logaddexp2": (mnp.logaddexp2, _grid(v, v), False),
        "sinc": (mnp.sinc, (v,), False),
    }


def _assert_same(got, want, exact: bool, where: str):
    assert got.dtype == want.dtype and got.shape == want.shape, where
    if not exact:
        np.testing.assert_allclose(got, want, rtol=4 * np.finfo(want.dtype).eps, atol=0, err_msg=where)
        return
    np.testing.assert_array_equal(got, want, err_msg=where)
    if want.dtype.kind == "f":
        numbers = ~np.isnan(want)
        np.testing.assert_array_equal(np.signbit(got[numbers]), np.signbit(want[numbers]), err_msg=where)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(_float_cases(np.float64)))
@pytest.mark.parametrize("lib", LIBRARIES)
def test_float_functions_match_numpy_on_edge_values(lib, name, dtype):
    function, args, exact = _float_cases(dtype)[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's own overflow and invalid warnings
        want = mg.tree.tree_leaves(function(*args))
        jitted = mg.jit(function)
        got = mg.tree.tree_leaves(mg.device_get(jitted(*_put(lib, args))))
    for g, w in zip(got, want, strict=True):
        _assert_same(g, w, exact, f"{name} {np.dtype(dtype)}")


_INTEGERS = np.array(
    [0, 1, -1, 6, -4, 12, 18, 2**62, -(2**63), 2**63 - 1, 7, -9, 1071, 462, 10**18, -(10**17)]
)

_INTEGER_CASES = {
    "gcd": mnp.gcd,
    "lcm": mnp.lcm,  # wraps around past int64 as NumPy's
    "bitwise_count": lambda a, b: mnp.bitwise_count(a),
    "fmod": lambda a, b: mnp.fmod(a, mnp.where(b == 0, 3, b)),  # not by 0: torch raises
}


@pytest.mark.parametrize("name", sorted(_INTEGER_CASES))
@pytest.mark.parametrize("lib", LIBRARIES)
def test_integer_functions_match_numpy_bit_for_bit(lib, name):
    function, args = _INTEGER_CASES[name], _grid(_INTEGERS, _INTEGERS)
    got = mg.device_get(mg.jit(function)(*_put(lib, args)))
    _assert_same(got, function(*args), True, name)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("lib", LIBRARIES)
def test_searchsorted_puts_nans_last_as_numpy(lib, side):
    rng = np.random.default_rng(4)
    search = mg.jit(lambda a, v: mnp.searchsorted(a, v, side=side))
    for _ in range(10):
        specials = rng.choice([-np.inf, -1.0, 0.0, -0.0, 2.0, np.inf, np.nan], size=rng.integers(0, 7))
        a = np.sort(np.concatenate([specials, rng.normal(size=3)]))
        v = np.concatenate(
            [rng.choice([np.nan, -np.inf, np.inf, 0.0, -0.0, 1.0, -1.0, 2.0], size=8), rng.normal(size=3)]
        )
        got = mg.device_get(search(*_put(lib, (a, v))))
        _assert_same(got, np.searchsorted(a, v, side=side), True, f"{a} {v}")


@pytest.mark.parametrize("lib", LIBRARIES)
def test_norms_overflow_where_numpy_does(lib):
    # The root of the sum of squares, unscaled, as the NumPy implementation.
    x = np.array([[3.0, 4.0], [1e200, 1e200], [0.0, -0.0]])
    norms = mg.jit(lambda x: (mnp.linalg.norm(x, axis=1), mnp.linalg.norm(x)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = (mnp.linalg.norm(x, axis=1), mnp.linalg.norm(x))
        got = mg.device_get(norms(*_put(lib, (x,))))
    for g, w in zip(got, want, strict=True):
        _assert_same(g, w, False, "norm")


@pytest.mark.parametrize("lib", LIBRARIES)
def test_partition_is_a_valid_partition_and_argpartition_its_positions(lib):
    # NumPy promises where the kth elements go and which lie between them; a library's
    # partition (a sort) must keep those promises, and match NumPy's up to the order
    # between the kth positions.
    x = np.random.default_rng(5).normal(size=(3, 9))
    kth = (1, 4, 6)

    def both(x):
        return mnp.partition(x, kth, axis=-1), mnp.argpartition(x, kth, axis=-1)

    got, positions = mg.device_get(mg.jit(both)(*_put(lib, (x,))))
    want = np.partition(x, kth, axis=-1)
    np.testing.assert_array_equal(got[:, list(kth)], want[:, list(kth)])
    for start, stop in [(0, 1), (2, 4), (5, 6), (7, 9)]:
        np.testing.assert_array_equal(np.sort(got[:, start:stop]), np.sort(want[:, start:stop]))
    np.testing.assert_array_equal(np.take_along_axis(x, positions, axis=-1), got)
    assert positions.dtype == np.int64
