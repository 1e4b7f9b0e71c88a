"""The mathematical functions of minigrad.numpy against NumPy: values, dtypes (NumPy 2
promotion, weak Python scalars), keywords, gradients at the special points the
finite-difference table cannot reach, tracer operators and methods, and jit against
eager for every row of ``op_specs_math``."""

import math

import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
import minigrad.numpy as mnp
from tests import op_specs_math
from tests.op_specs import op_args
from tests.transform_specs import split_arrays

RNG = np.random.default_rng(0)
REALS = RNG.standard_normal(7) * 3.0
UNIT = RNG.uniform(-0.99, 0.99, 7)
ABOVE_ONE = RNG.uniform(1.01, 5.0, 7)
INTS = np.array([-7, -3, 0, 2, 5, 9, 12])

UNARY = {
    "sinh": REALS, "cosh": REALS, "arcsin": UNIT, "arccos": UNIT, "arcsinh": REALS * 100,
    "arccosh": ABOVE_ONE, "arctanh": UNIT, "deg2rad": REALS, "rad2deg": REALS, "degrees": REALS,
    "radians": REALS, "sinc": np.append(REALS, 0.0), "floor": REALS, "ceil": REALS, "trunc": REALS,
    "fix": REALS, "rint": REALS, "round": REALS, "around": REALS, "fabs": REALS, "signbit": REALS,
    "isnan": REALS, "isinf": REALS, "isposinf": REALS, "isneginf": REALS, "nan_to_num": REALS,
    "spacing": REALS, "real": REALS, "imag": REALS, "conj": REALS, "conjugate": REALS, "angle": REALS,
    "isreal": REALS, "iscomplex": REALS,
}  # fmt: skip

BINARY = {
    "arctan2": (REALS, REALS[::-1]), "hypot": (REALS, REALS[::-1]), "copysign": (REALS, -REALS[::-1]),
    "heaviside": (np.array([-1.0, 0.0, 2.0, 0.0]), np.array([0.5, 0.25, 3.0, 1.0])),
    "fmax": (REALS, REALS[::-1]), "fmin": (REALS, REALS[::-1]), "logaddexp": (REALS, REALS[::-1]),
    "logaddexp2": (REALS, REALS[::-1]), "float_power": (np.abs(REALS), REALS[::-1]),
    "mod": (REALS, REALS[::-1]), "remainder": (REALS, REALS[::-1]), "fmod": (REALS, REALS[::-1]),
    "floor_divide": (REALS, REALS[::-1]), "isclose": (REALS, REALS + 1e-9),
    "nextafter": (REALS, REALS[::-1]), "ldexp": (REALS, INTS), "pow": (np.abs(REALS), REALS),
    "gcd": (INTS, INTS[::-1]), "lcm": (INTS, INTS[::-1]),
    "left_shift": (INTS, np.abs(INTS[::-1]) % 8), "right_shift": (INTS, np.abs(INTS[::-1]) % 8),
}  # fmt: skip

ALIASES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "asinh": "arcsinh", "acosh": "arccosh",
           "atanh": "arctanh", "atan2": "arctan2", "bitwise_left_shift": "left_shift",
           "bitwise_right_shift": "right_shift"}  # fmt: skip


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_match_numpy(name):
    x = UNARY[name]
    got, want = getattr(mnp, name)(x), getattr(np, name)(x)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values_match_numpy(name):
    x1, x2 = BINARY[name]
    got, want = getattr(mnp, name)(x1, x2), getattr(np, name)(x1, x2)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_numpy_2_aliases_are_the_same_functions(alias):
    assert getattr(mnp, alias) is getattr(mnp, ALIASES[alias])


DTYPE_CASES = [np.array([1, -2, 3]), np.array([1, 2], np.int8), np.array([True, False]), np.array([0.5, -1.5], np.float32),
               np.array([0.5, 2.0], np.float16)]  # fmt: skip
UNARY_DTYPE_NAMES = ["sinh", "cosh", "arcsinh", "deg2rad", "rad2deg", "sinc", "floor", "ceil", "trunc", "fix",
                     "rint", "fabs", "signbit", "spacing", "isnan", "isinf", "isposinf", "isneginf", "nan_to_num",
                     "real", "imag", "conj", "angle", "isreal", "iscomplex"]  # fmt: skip


@pytest.mark.parametrize("name", UNARY_DTYPE_NAMES)
def test_unary_dtypes_follow_numpy(name):
    for x in DTYPE_CASES:
        want = getattr(np, name)(x)
        got = getattr(mnp, name)(x)
        assert got.dtype == np.asarray(want).dtype, (name, x.dtype)
        np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=2e-3)


BINARY_DTYPE_NAMES = ["arctan2", "hypot", "copysign", "heaviside", "fmax", "fmin", "logaddexp", "logaddexp2",
                      "float_power", "mod", "fmod", "floor_divide", "isclose", "nextafter"]  # fmt: skip
OPERAND_PAIRS = [
    (np.array([1.5, -2.0], np.float32), 2.0),  # a Python float is weak: float32 stays float32
    (np.array([1.5, -2.0], np.float32), np.float64(2.0)),  # a NumPy scalar is strong
    (np.array([3, -4], np.int8), 2),
    (np.array([3, -4], np.int8), np.array([2, 3], np.int16)),
    (np.array([3, -4]), 2.5),
    (np.array([3.0, 4.0], np.float16), np.array([2], np.uint8)),
    (3.0, np.array([1.0, 2.0])),
]


@pytest.mark.parametrize("name", BINARY_DTYPE_NAMES)
def test_binary_promotion_follows_numpy_2(name):
    for x1, x2 in OPERAND_PAIRS:
        with np.errstate(invalid="ignore"):  # float_power of negative numbers: NaN
            want = getattr(np, name)(x1, x2)
            got = getattr(mnp, name)(x1, x2)
        assert got.dtype == np.asarray(want).dtype, (name, x1, x2)
        np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=2e-3)


def test_integer_functions_follow_numpy_dtypes():
    for x1, x2 in [(np.array([12, -18], np.int8), 8), (np.array([4, 6], np.uint16), np.array([6], np.uint8))]:
        for name in ["gcd", "lcm", "left_shift", "right_shift", "floor_divide", "mod", "fmod"]:
            want, got = getattr(np, name)(x1, x2), getattr(mnp, name)(x1, x2)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    booleans = np.array([True, False])
    for name in ["left_shift", "floor_divide", "mod", "fmod"]:
        assert getattr(mnp, name)(booleans, True).dtype == getattr(np, name)(booleans, True).dtype


def test_functions_without_integer_meaning_name_the_problem():
    with pytest.raises(TypeError, match=r"gcd: operands must be integers, got float64"):
        mnp.gcd(np.array([1.5]), 2)
    with pytest.raises(TypeError, match="left_shift"):
        mnp.left_shift(np.array([1.0]), 2)
    with pytest.raises(ValueError, match=r"hypot.*\(2,\).*\(3,\)"):
        mnp.hypot(np.ones(2), np.ones(3))
    with pytest.raises(TypeError, match="decimals must be an integer"):
        mnp.round(np.ones(2), 1.5)


@pytest.mark.parametrize("decimals", [-3, -2, -1, 0, 1, 2, 3])
def test_round_matches_numpy_for_every_dtype(decimals):
    floats = RNG.standard_normal(50) * 10.0 ** RNG.integers(-2, 4, 50)
    for x in [floats, floats.astype(np.float32), np.arange(-300, 300, 7), np.arange(-128, 127, 5, dtype=np.int8),
              np.arange(0, 255, 5, dtype=np.uint8)] + [np.array([True, False])] * (decimals == 0):  # fmt: skip
        want, got = np.round(x, decimals), mnp.round(x, decimals)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_round_halves_go_to_even():
    np.testing.assert_array_equal(
        mnp.round(np.array([0.5, 1.5, 2.5, -0.5, -1.5])), [0.0, 2.0, 2.0, -0.0, -2.0]
    )
    np.testing.assert_array_equal(mnp.round(np.array([15, 25, 35, -25]), -1), [20, 20, 40, -20])


def test_special_values_follow_numpy():
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e308, -1e-310])
    for name in [
        "isnan",
        "isinf",
        "isposinf",
        "isneginf",
        "signbit",
        "floor",
        "rint",
        "sinh",
        "arcsinh",
        "sinc",
    ]:
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(
                getattr(mnp, name)(special), getattr(np, name)(special), err_msg=name
            )
    for name in ["fmax", "fmin", "copysign", "logaddexp", "logaddexp2", "hypot", "arctan2", "heaviside"]:
        x1, x2 = np.meshgrid(special, special)
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(getattr(mnp, name)(x1, x2), getattr(np, name)(x1, x2), err_msg=name)


def test_representation_of_floats_follows_numpy():
    special = np.array([3.0, -0.25, 0.0, -0.0, -2.0, 1e-310, np.inf, -np.inf, np.nan])
    for dtype in [np.float64, np.float32, np.float16]:
        x = special.astype(dtype)
        for got, want in zip(mnp.frexp(x) + mnp.modf(x), np.frexp(x) + np.modf(x), strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
        exponents = np.arange(len(x)) - 4
        np.testing.assert_array_equal(mnp.ldexp(x, exponents), np.ldexp(x, exponents))
    assert mnp.frexp(np.array([4, 1]))[0].dtype == np.float64
    np.testing.assert_array_equal(
        mnp.bitwise_count(np.array([7, -1, 255], np.int16)),
        np.bitwise_count(np.array([7, -1, 255], np.int16)),
    )
    assert mnp.bitwise_count(np.array([True])).dtype == np.uint8
    with pytest.raises(TypeError, match="ldexp: the exponent must be an integer"):
        mnp.ldexp(1.0, 2.0)


def test_gradients_through_the_representation_of_floats():
    x = np.array([3.0, -0.3, 40.0])
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.frexp(x)[0].sum())(x), 2.0 ** -np.frexp(x)[1])
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.ldexp(x, 3).sum())(x), np.full(3, 8.0))
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.modf(x)[0].sum())(x), np.ones(3))
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.modf(x)[1].sum())(x), np.zeros(3))


def test_nan_to_num_keywords():
    x = np.array([np.nan, np.inf, -np.inf, 1.5], np.float32)
    for kwargs in [{}, {"nan": -1.0}, {"posinf": 9.0, "neginf": -9.0}, {"nan": 2.0, "posinf": 1e3}]:
        want, got = np.nan_to_num(x, **kwargs), mnp.nan_to_num(x, **kwargs)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(mnp.nan_to_num(np.array([1, 2])), [1, 2])


def test_isclose_and_the_whole_array_tests():
    a = np.array([1.0, np.nan, np.inf, -np.inf, 1e-9, 100.0])
    b = np.array([1.0 + 1e-6, np.nan, np.inf, np.inf, 0.0, 100.001])
    for kwargs in [{}, {"equal_nan": True}, {"rtol": 0.0}, {"atol": 0.0}, {"rtol": 1e-3, "atol": 1e-12}]:
        np.testing.assert_array_equal(mnp.isclose(a, b, **kwargs), np.isclose(a, b, **kwargs))
        assert bool(mnp.allclose(a, b, **kwargs)) == np.allclose(a, b, **kwargs)
    assert bool(mnp.allclose(np.ones(3), np.ones(3) + 1e-10))
    assert bool(mnp.array_equal(a, a, equal_nan=True)) and not bool(mnp.array_equal(a, a))
    assert not bool(mnp.array_equal(np.ones(2), np.ones(3)))
    assert bool(mnp.array_equiv(np.ones(2), np.ones((3, 2)))) and not bool(
        mnp.array_equiv(np.ones(2), np.ones(3))
    )
    assert not bool(mnp.array_equiv(np.array([1.0, 2.0]), np.array([[1.0, 2.0], [1.0, 3.0]])))


@pytest.mark.parametrize("name", ["all", "any"])
def test_all_and_any_follow_numpy(name):
    x = RNG.standard_normal((2, 3, 4)) > 0.3
    for axis in [None, 0, -1, (0, 2)]:
        for keepdims in [False, True]:
            want = getattr(np, name)(x, axis=axis, keepdims=keepdims)
            got = getattr(mnp, name)(x, axis=axis, keepdims=keepdims)
            assert np.shape(got) == np.shape(want)
            np.testing.assert_array_equal(got, want)
    where = RNG.standard_normal(4) > 0
    np.testing.assert_array_equal(
        getattr(mnp, name)(x, axis=-1, where=where), getattr(np, name)(x, axis=-1, where=where)
    )
    np.testing.assert_array_equal(
        getattr(mnp, name)(np.zeros((0, 3)), axis=0), getattr(np, name)(np.zeros((0, 3)), axis=0)
    )
    np.testing.assert_array_equal(
        getattr(mnp, name)(np.array([0.0, 2.0])), getattr(np, name)(np.array([0.0, 2.0]))
    )


def test_scalar_and_complex_object_tests():
    for value in [3.0, 3, np.float32(3), "s", np.array(3.0), np.ones(2), [1.0]]:
        assert mnp.isscalar(value) == np.isscalar(value)
    assert mg.jit(lambda x: np.asarray(mnp.isscalar(x)))(np.array(1.0)) == np.False_
    assert mnp.isrealobj(np.ones(2)) and not mnp.iscomplexobj(np.ones(2)) and mnp.iscomplexobj(np.array([1j]))
    z = np.array([1 + 2j, -3.0 + 0j])
    np.testing.assert_array_equal(mnp.real(z), np.real(z))
    np.testing.assert_array_equal(mnp.imag(z), np.imag(z))
    np.testing.assert_array_equal(mnp.isreal(z), np.isreal(z))


def _summed(name, *rest):
    """``x -> mnp.<name>(x, *rest).sum()``."""
    function = getattr(mnp, name)

    def summed(x):
        return function(x, *rest).sum()

    return summed


# ---------------------------------------------------------------------------------------
# Gradients where finite differences cannot look: special points and extreme values.


def test_sinc_derivatives_at_and_near_zero():
    first = mg.grad(mnp.sinc)
    second = mg.grad(mg.grad(mnp.sinc))
    assert first(0.0) == 0.0
    np.testing.assert_allclose(second(0.0), -(math.pi**2) / 3, rtol=1e-14)
    np.testing.assert_allclose(mg.grad(mg.grad(mg.grad(mg.grad(mnp.sinc))))(0.0), math.pi**4 / 5, rtol=1e-12)
    for x in [1e-9, 1e-5, 0.01, 0.3, 0.32, 2.5]:
        u = math.pi * x  # the closed form cancels below 0.1; there, its series' first terms
        want = (u * math.cos(u) - math.sin(u)) / u**2 if u > 0.1 else -u / 3 + u**3 / 30 - u**5 / 840
        np.testing.assert_allclose(first(x), math.pi * want, rtol=1e-11)
    # Continuous across the switch from the series to the closed form (|pi x| = 1).
    edge = 1.0 / math.pi
    np.testing.assert_allclose(first(edge - 1e-12), first(edge + 1e-12), rtol=1e-10)
    np.testing.assert_allclose(second(edge - 1e-12), second(edge + 1e-12), rtol=1e-10)


def test_sinc_keeps_float32():
    x = np.array([0.0, 0.25, 1.0], np.float32)
    assert mnp.sinc(x).dtype == np.float32
    assert mg.grad(lambda x: mnp.sinc(x).sum())(x).dtype == np.float32


def test_functions_of_the_plane_have_zero_gradient_at_the_origin():
    for fun in [mnp.hypot, mnp.arctan2]:
        grads = mg.grad(fun, argnums=(0, 1))(0.0, 0.0)
        assert [float(g) for g in grads] == [0.0, 0.0]
    big = 1e300
    np.testing.assert_allclose(mg.grad(mnp.hypot, argnums=(0, 1))(big, big), [2**-0.5, 2**-0.5], rtol=1e-14)
    np.testing.assert_allclose(
        mg.grad(mnp.arctan2, argnums=(0, 1))(big, big), [0.5 / big, -0.5 / big], rtol=1e-14
    )


def test_inverse_functions_are_accurate_near_the_ends_of_their_domains():
    near_one = 1.0 - 1e-12
    np.testing.assert_allclose(
        mg.grad(mnp.arcsin)(near_one), 1 / math.sqrt((1 - near_one) * (1 + near_one)), rtol=1e-9
    )
    np.testing.assert_allclose(
        mg.grad(mnp.arctanh)(near_one), 1 / ((1 - near_one) * (1 + near_one)), rtol=1e-9
    )
    np.testing.assert_allclose(
        mg.grad(mnp.arccosh)(1.0 + 1e-12), 1 / math.sqrt(1e-12 * (2 + 1e-12)), rtol=1e-3
    )
    np.testing.assert_allclose(mg.grad(mnp.arccosh)(1e200), 1e-200, rtol=1e-14)
    np.testing.assert_allclose(mg.grad(mnp.arcsinh)(1e200), 1e-200, rtol=1e-14)


def test_logaddexp_gradients_are_stable():
    grads = mg.grad(mnp.logaddexp, argnums=(0, 1))
    np.testing.assert_allclose(grads(1000.0, 0.0), [1.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(grads(-1000.0, -1000.0), [0.5, 0.5])
    np.testing.assert_allclose(grads(-np.inf, -np.inf), [0.5, 0.5])
    np.testing.assert_allclose(grads(np.inf, 1.0), [1.0, 0.0])
    np.testing.assert_allclose(mg.grad(mnp.logaddexp2, argnums=(0, 1))(1.0, 3.0), [0.2, 0.8], rtol=1e-14)
    # On the diagonal the second derivative is that of log(2 exp(x)) split in two: 1/4 each.
    np.testing.assert_allclose(mg.hessian(lambda x: mnp.logaddexp(x, 2.0))(2.0), 0.25, rtol=1e-14)


def test_remainder_gradients_are_jaxs():
    x, y = np.array([7.5, -7.5, 7.5]), np.array([2.0, 2.0, -2.0])
    for fun, quotient in [(mnp.mod, np.floor(x / y)), (mnp.fmod, np.trunc(x / y))]:
        gx, gy = mg.grad(lambda x, y, fun=fun: fun(x, y).sum(), argnums=(0, 1))(x, y)
        np.testing.assert_array_equal(gx, np.ones(3))
        np.testing.assert_array_equal(gy, -quotient)
    assert mg.grad(lambda x: mnp.floor_divide(x, 2.0) * 1.0)(3.0) == 0.0


def test_piecewise_functions_have_zero_gradient():
    x = np.array([-1.5, -0.5, 0.5, 2.0])
    for name in ["floor", "ceil", "trunc", "fix", "rint", "round", "around"]:
        np.testing.assert_array_equal(mg.grad(_summed(name))(x), np.zeros(4))
    np.testing.assert_array_equal(mg.jvp(mnp.floor, (x,), (np.ones(4),))[1], np.zeros(4))


def test_nan_ignoring_extrema_send_the_gradient_to_the_number():
    x, y = np.array([1.0, np.nan, 3.0, 2.0]), np.array([np.nan, 2.0, 1.0, 2.0])
    gx, gy = mg.grad(lambda x, y: mnp.fmax(x, y).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [1.0, 0.0, 1.0, 0.5])
    np.testing.assert_array_equal(gy, [0.0, 1.0, 0.0, 0.5])
    gx, _ = mg.grad(lambda x, y: mnp.fmin(x, y).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [1.0, 0.0, 0.0, 0.5])


def test_nan_to_num_gradient_passes_where_finite_only():
    x = np.array([np.nan, np.inf, -np.inf, 1.5])
    np.testing.assert_array_equal(mg.grad(lambda x: (mnp.nan_to_num(x) * 0.5).sum())(x), [0.0, 0.0, 0.0, 0.5])


def test_copysign_and_heaviside_gradients():
    gx, gy = mg.grad(lambda x, y: mnp.copysign(x, y).sum(), argnums=(0, 1))(
        np.array([2.0, -2.0, 0.0]), np.array([-1.0, -1.0, 1.0])
    )
    np.testing.assert_array_equal(gx, [-1.0, 1.0, 0.0])
    np.testing.assert_array_equal(gy, [0.0, 0.0, 0.0])
    gx, gy = mg.grad(lambda x, y: mnp.heaviside(x, y).sum(), argnums=(0, 1))(
        np.array([-1.0, 0.0, 1.0]), np.array([0.5, 0.5, 0.5])
    )
    np.testing.assert_array_equal(gx, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gy, [0.0, 1.0, 0.0])


def test_float32_gradients_stay_float32():
    x = np.array([0.5, -0.25], np.float32)
    for name in [
        "sinh",
        "cosh",
        "arcsin",
        "arcsinh",
        "arctanh",
        "sinc",
        "floor",
        "fabs",
        "deg2rad",
        "nan_to_num",
    ]:
        assert mg.grad(_summed(name))(x).dtype == np.float32, name
    for name in ["arctan2", "hypot", "logaddexp", "logaddexp2", "mod", "fmod", "copysign", "fmax"]:
        g = mg.grad(_summed(name, 0.75))(x)
        assert g.dtype == np.float32, name


# ---------------------------------------------------------------------------------------
# Operators and methods of traced arrays.


def test_tracer_operators_and_methods_match_numpy_arrays():
    x = np.array([[1.5, -2.25, 3.0], [0.5, 4.0, -1.0]])

    def every_method(x):
        quotient, rest = divmod(x, 2.0)
        return [x % 1.5, 7.0 % x, x // 0.5, 3.0 // x, quotient, rest, divmod(5.0, x)[1], abs(x), x.round(1),
                x.clip(-1.0, 1.0), x.conj(), x.conjugate(), x.real, x.imag, x.any(axis=0), x.all(), (x > 0).any(),
                x.prod(axis=1), x.var(), x.std(axis=0), x.argmax(), x.argmin(axis=1), x.dot(x.T)]  # fmt: skip

    want = every_method(x)
    for transform in [
        mg.jit,
        lambda f: lambda x: mg.vmap(f)(x[None]),
        lambda f: lambda x: mg.jvp(f, (x,), (x,))[0],
    ]:
        got = transform(every_method)(x)
        for g, w in zip(got, want, strict=True):
            g = np.asarray(g)[0] if g.shape != np.shape(w) else g
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_allclose(g, w, rtol=1e-14)


def test_integer_operators_on_tracers():
    k = np.array([5, -6, 7])
    got = mg.jit(lambda k: [k << 2, 1 << k % 4, k >> 1, 64 >> (k % 3), k % 4, k // 4, divmod(k, 3)[0]])(k)
    want = [k << 2, 1 << k % 4, k >> 1, 64 >> (k % 3), k % 4, k // 4, divmod(k, 3)[0]]
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_python_round_of_a_tracer_is_an_array():
    assert mg.grad(lambda x: round(x) * x)(2.4) == 2.0
    np.testing.assert_allclose(mg.jit(lambda x: round(x, 1))(np.array([1.25, 2.75])), [1.2, 2.8])


def test_traced_complex_arrays_are_refused_with_advice():
    for name in ["real", "imag", "conj", "angle"]:
        with pytest.raises(
            TypeError, match=rf"{name}: traced complex arrays \(here complex128\) are not supported yet"
        ):
            mg.make_jaxpr(_summed(name))(np.ones(2).astype(np.complex128))


# ---------------------------------------------------------------------------------------
# jit against eager, for every row of the table.


@pytest.mark.parametrize("spec", op_specs_math.SPECS, ids=lambda s: s.name)
def test_jit_equals_eager(spec):
    @settings(max_examples=4)
    @given(op_args(spec))
    def check(args):
        fun, arrays = split_arrays(spec, args)
        want = fun(*arrays)
        got = mg.jit(fun)(*arrays)
        assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == np.asarray(want).dtype
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)

    check()
