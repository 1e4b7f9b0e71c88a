"""Differential tests: every ``minigrad.numpy`` function against NumPy 2 itself.

For each function, hypothesis draws dtypes (float16/32/64, int8/32/64, uint8, bool),
shapes (0-d, size-1, empty, small), Python scalars (weak under NumPy 2's rules), axes
(negative, tuples, None) and keepdims; the result must have NumPy's value, shape and
dtype, or the call must raise an exception of NumPy's class. The same calls run under
``mg.jit`` and ``mg.vmap`` too. NumPy is the oracle: no expected value is written here.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.numpy as mnp

DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.bool_]
SHAPES = [(), (1,), (0,), (3,), (2, 3), (1, 3), (2, 0)]
PY_SCALARS = [0, 1, 2, -1, 300, 2.5, -0.5, True, False]

dtypes = st.sampled_from(DTYPES)
shapes = st.sampled_from(SHAPES)
few = settings(max_examples=15, deadline=None)


def make(dtype, shape, seed=0):
    """Small values of ``dtype``: 1..3 for unsigned and booleans, -2..3 otherwise."""
    rng = np.random.default_rng(seed)
    low = 0 if np.dtype(dtype).kind in "ub" else -2
    return rng.integers(low, 4, size=shape).astype(dtype)


def outcome(function, *args, **kwargs):
    """``("ok", result)`` or ``("error", exception)``, NumPy's warnings silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return "ok", function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - the class is what is compared
            return "error", error


def assert_same(expected, result, context=""):
    """Same kind of answer: equal values, shapes and dtypes, or related exception classes."""
    (kind, want), (got_kind, got) = expected, result
    if kind == "error" or got_kind == "error":
        assert kind == got_kind, f"{context}: NumPy gave {want!r}, minigrad {got!r}"
        # NumPy's own exception classes (AxisError, UFuncTypeError) subclass the builtin ones.
        assert isinstance(got, type(want)) or isinstance(want, type(got)), f"{context}: {want!r} vs {got!r}"
        return
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), f"{context}: {want!r} vs {got!r}"
        for w, g in zip(want, got):
            assert_same(("ok", w), ("ok", g), context)
        return
    want, got = np.asarray(want), np.asarray(got)
    assert (got.shape, got.dtype) == (want.shape, want.dtype), (
        f"{context}: NumPy gives {want.shape} {want.dtype}, minigrad {got.shape} {got.dtype}"
    )
    tolerance = {"e": 2e-3, "f": 1e-5, "d": 1e-12}.get(want.dtype.char, 0)
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance, equal_nan=True, err_msg=context)
    else:
        np.testing.assert_array_equal(got, want, err_msg=context)


def check(np_function, mnp_function, *args, **kwargs):
    expected = outcome(np_function, *args, **kwargs)
    assert_same(expected, outcome(mnp_function, *args, **kwargs), f"{mnp_function.__name__}{args!r} {kwargs}")
    return expected


def check_transformed(np_function, mnp_function, x, *rest, **kwargs):
    """``mnp_function(x, *rest)`` under ``jit``, and under ``vmap`` over a stack of two
    copies of ``x`` (against NumPy applied to each), when NumPy accepts the call."""
    kind, want = outcome(np_function, x, *rest, **kwargs)
    if kind == "error":
        return
    context = f"{mnp_function.__name__}({x!r}, {rest!r}) {kwargs}"
    assert_same(
        ("ok", want), outcome(mg.jit(lambda x: mnp_function(x, *rest, **kwargs)), x), "jit " + context
    )
    xs = np.stack([x, x[::-1] if x.ndim else x])
    stacked = outcome(lambda: np.stack([np.asarray(np_function(e, *rest, **kwargs)) for e in xs]))
    assert_same(stacked, outcome(mg.vmap(lambda x: mnp_function(x, *rest, **kwargs)), xs), "vmap " + context)


# ---------------------------------------------------------------------------------------
# Elementwise functions

UNARY = [
    "negative", "positive", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt",
    "cbrt", "sin", "cos", "tan", "tanh", "arctan", "abs", "absolute", "sign", "square",
    "reciprocal", "isfinite", "logical_not", "invert", "bitwise_not", "bitwise_invert",
]  # fmt: skip
BINARY = [
    "add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
    "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
]  # fmt: skip


def nonzero_integers(x):
    # NumPy leaves integer 1/0 (and 0 ** -1) undefined: keep those out of the comparison.
    return np.where(x == 0, 1, x).astype(x.dtype) if x.dtype.kind in "iu" else x


@pytest.mark.parametrize("name", UNARY)
@given(dtype=dtypes, shape=shapes, seed=st.integers(0, 99))
@few
def test_unary(name, dtype, shape, seed):
    x = make(dtype, shape, seed)
    if name == "reciprocal":
        x = nonzero_integers(x)
    check(getattr(np, name), getattr(mnp, name), x)
    check_transformed(getattr(np, name), getattr(mnp, name), x)


@pytest.mark.parametrize("name", BINARY)
@given(
    dtype1=dtypes,
    other=st.one_of(dtypes, st.sampled_from(PY_SCALARS)),
    shapes=st.sampled_from([((2, 3), (3,)), ((), (2,)), ((0,), (1,)), ((1, 3), (2, 1)), ((2,), (3,))]),
    swap=st.booleans(),
    seed=st.integers(0, 99),
)
@few
def test_binary(name, dtype1, other, shapes, swap, seed):
    x = make(dtype1, shapes[0], seed)
    y = make(other, shapes[1], seed + 1) if isinstance(other, type) else other
    if name == "power":
        x, y = np.abs(x) if x.dtype.kind == "i" else x, abs(y) if not isinstance(y, np.ndarray) else np.abs(y)
    args = (y, x) if swap else (x, y)
    check(getattr(np, name), getattr(mnp, name), *args)
    if isinstance(args[0], np.ndarray) and not isinstance(args[1], np.ndarray):
        check_transformed(getattr(np, name), getattr(mnp, name), *args)


def test_positive_of_booleans_is_a_type_error_as_in_numpy():
    with pytest.raises(TypeError, match="positive"):
        mnp.positive(np.array([True]))


def test_integer_reciprocal_stays_integer():
    x = np.array([1, -1, 2, -3], np.int32)
    check(np.reciprocal, mnp.reciprocal, x)
    check(np.reciprocal, mnp.reciprocal, np.array([True, False]))


@pytest.mark.parametrize("name", ["divide", "equal", "less", "greater_equal", "not_equal"])
@pytest.mark.parametrize("scalar", [-1, 256, -(2**40), 2**70])
def test_out_of_range_python_integers(name, scalar):
    # NumPy 2 compares (and true-divides) integer arrays with Python integers they cannot hold.
    for dtype in (np.uint8, np.int8, np.int64):
        x = make(dtype, (3,))
        check(getattr(np, name), getattr(mnp, name), x, scalar)
        check(getattr(np, name), getattr(mnp, name), scalar, x)


# ---------------------------------------------------------------------------------------
# Reductions

REDUCTIONS = ["sum", "mean", "max", "min", "amax", "amin", "prod", "var", "std", "argmax", "argmin"]
axes_for = st.sampled_from([None, 0, -1, 1, (0,), (-1, 0), (), (0, 1), 2, (0, 0)])


@pytest.mark.parametrize("name", REDUCTIONS)
@given(
    dtype=dtypes,
    shape=st.sampled_from([(1,), (0,), (3,), (2, 3), (2, 0), (1, 1)]),
    axis=axes_for,
    keepdims=st.booleans(),
)
@few
def test_reductions(name, dtype, shape, axis, keepdims):
    x = make(dtype, shape)
    kwargs = {"axis": axis, "keepdims": keepdims}
    check(getattr(np, name), getattr(mnp, name), x, **kwargs)
    check_transformed(getattr(np, name), getattr(mnp, name), x, **kwargs)


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std"])
@given(dtype=dtypes, out_dtype=st.sampled_from([None, np.int8, np.int64, np.uint8, np.float32, np.float64]))
@few
def test_reductions_with_dtype(name, dtype, out_dtype):
    if name in ("var", "std", "mean") and out_dtype is not None and np.dtype(out_dtype).kind != "f":
        return  # NumPy computes an integer mean or variance through floats with casting quirks
    x = make(dtype, (2, 3))
    check(getattr(np, name), getattr(mnp, name), x, 0, out_dtype)  # NumPy's positional order
    check(getattr(np, name), getattr(mnp, name), x, axis=-1, dtype=out_dtype, keepdims=True)
    check_transformed(getattr(np, name), getattr(mnp, name), x, axis=None, dtype=out_dtype)


def test_reductions_take_numpys_positional_order():
    x = make(np.float32, (2, 3))
    check(np.sum, mnp.sum, x, 1, None, None, True)
    check(np.mean, mnp.mean, x, 1, None, None, True)
    check(np.prod, mnp.prod, x, 0, None, None, True)
    check(np.var, mnp.var, x, 1, None, None, 1)
    check(np.std, mnp.std, x, 0, None, None, 1, True)
    check(np.max, mnp.max, x, 1, None, True)
    check(np.argmax, mnp.argmax, x, -1, None)
