"""One weak scalar everywhere: only Python numbers adapt to the arrays they meet.

``ops`` and ``minigrad.numpy`` agree with NumPy 2 on float32 arrays meeting Python
numbers (weak) and NumPy scalars (strong, like 0-d arrays), and float32 functions have
float32 gradients.
"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.numpy as mnp
from minigrad.core.dtypes import is_python_scalar
from minigrad.ops import elementwise as ew

# The same operation in the primitive layer, in minigrad.numpy and in NumPy.
BINARY = [
    (ew.add, mnp.add, np.add),
    (ew.mul, mnp.multiply, np.multiply),
    (ew.sub, mnp.subtract, np.subtract),
    (ew.div, mnp.divide, np.divide),
    (ew.maximum, mnp.maximum, np.maximum),
]
SCALARS = [2.0, 3, np.float64(2.0), np.float32(2.0)]


def _ids(value):
    return f"{type(value).__name__}({value})" if not callable(value) else value.__name__


@pytest.mark.parametrize(
    "value, weak",
    [(True, True), (1, True), (1.0, True), (1j, True), (np.float64(1.0), False), (np.complex128(1j), False)]
    + [(np.float32(1.0), False), (np.int64(1), False), (np.bool_(True), False), (np.array(1.0), False)],
    ids=_ids,
)
def test_only_python_numbers_are_weak(value, weak):
    assert is_python_scalar(value) is weak


@pytest.mark.parametrize("op, mnp_op, np_op", BINARY, ids=lambda f: f.__name__)
@pytest.mark.parametrize("scalar", SCALARS, ids=_ids)
@pytest.mark.parametrize("scalar_first", [False, True], ids=["array_op_scalar", "scalar_op_array"])
def test_ops_and_numpy_agree_on_scalars(op, mnp_op, np_op, scalar, scalar_first):
    x = np.array([0.5, 1.5, 3.0], np.float32)
    args = (scalar, x) if scalar_first else (x, scalar)
    expected = np_op(*args)
    from_ops, from_mnp = op(*args), mnp_op(*args)
    assert from_ops.dtype == from_mnp.dtype == expected.dtype
    np.testing.assert_array_equal(from_ops, expected)
    np.testing.assert_array_equal(from_mnp, expected)


def test_ops_mul_with_a_numpy_float64_is_float64():
    # The defect this module guards against: ops once treated np.float64 as weak.
    assert ew.mul(np.ones(3, np.float32), np.float64(2.0)).dtype == np.float64


def test_ops_refuse_a_strong_scalar_of_another_dtype_under_jit():
    with pytest.raises(TypeError, match="Only Python numbers adapt"):
        mg.jit(lambda x: ew.mul(x, np.float64(2.0)))(np.ones(3, np.float32))


@pytest.mark.parametrize("scalar", [2.0, np.float32(2.0), np.float64(2.0)], ids=_ids)
@pytest.mark.parametrize("mnp_op", [mnp.add, mnp.multiply, mnp.subtract, mnp.divide, mnp.maximum])
def test_gradients_of_float32_functions_are_float32(mnp_op, scalar):
    x = np.array([0.5, 1.5, 3.0], np.float32)
    grads = mg.grad(lambda v: mnp.sum(mnp.tanh(mnp_op(v, scalar))))(x)
    assert grads.dtype == np.float32
    jitted = mg.jit(mg.grad(lambda v: mnp.sum(mnp.tanh(mnp_op(v, scalar)))))(x)
    assert jitted.dtype == np.float32


@pytest.mark.parametrize("fun", [nn.gelu, nn.sigmoid, nn.softplus, nn.log_softmax, mnp.sqrt, mnp.arctan])
def test_constants_inside_rules_keep_float32(fun):
    x = np.array([0.5, 1.5, 3.0], np.float32)
    assert fun(x).dtype == np.float32
    assert mg.jit(fun)(x).dtype == np.float32
    second = mg.grad(lambda v: mnp.sum(mg.grad(lambda w: mnp.sum(fun(w)))(v)))(x)
    assert second.dtype == np.float32


# minigrad.numpy decides the usual meetings (a floating-point array and a Python float,
# two operands of one dtype) before its general promotion; these pin both paths to NumPy.
ARRAY_DTYPES = [np.float16, np.float32, np.float64, np.complex64, np.int32, np.bool_]
PARTNERS = [
    1.5,
    2,
    1j,
    np.float64(1.5),
    np.array([2.0, 3.0, 4.0], np.float32),
    np.array([2.0, 3.0, 4.0], np.float64),
]


@pytest.mark.parametrize("dtype", ARRAY_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("partner", PARTNERS, ids=lambda p: f"{type(p).__name__}:{getattr(p, 'dtype', '')}")
@pytest.mark.parametrize("partner_first", [False, True], ids=["array_first", "partner_first"])
def test_binary_promotion_matches_numpy_on_every_path(dtype, partner, partner_first):
    x = np.array([1.0, 0.0, 3.0]).astype(dtype)
    args = (partner, x) if partner_first else (x, partner)
    for mnp_op, np_op in ((mnp.multiply, np.multiply), (mnp.add, np.add)):
        expected = np_op(*args)
        got = mnp_op(*args)
        assert got.dtype == expected.dtype, (mnp_op.__name__, args)
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "dtype", [np.float16, np.float32, np.float64, np.complex64], ids=lambda d: np.dtype(d).name
)
def test_traced_operands_promote_as_their_arrays_do(dtype):
    x = np.array([1.0, 2.0, 3.0]).astype(dtype)
    seen = {}

    def f(v):
        seen["float"] = (v * 1.5).dtype, (1.5 - v).dtype
        seen["same"] = (v * v).dtype
        seen["float64 array"] = (v + np.ones(3)).dtype
        return mnp.sum(mnp.real(v * 1.5 + v * v))

    mg.vjp(f, x)
    assert seen["float"] == (np.dtype(dtype), np.dtype(dtype))
    assert seen["same"] == np.dtype(dtype)
    assert seen["float64 array"] == np.result_type(dtype, np.float64)


def test_a_weak_traced_number_still_takes_the_arrays_dtype():
    # A Python float passed to jit is traced weak: it meets float32 as a float would.
    out = mg.jit(lambda s, v: mnp.multiply(s, v) + s)(1.5, np.ones(3, np.float32))
    assert out.dtype == np.float32
