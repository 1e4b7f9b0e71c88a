"""Jacobians: ``jacfwd`` equals ``jacrev`` equals finite differences, with the shape
``out.shape + in.shape``; ``hessian`` is symmetric and matches finite differences of
``grad``."""

import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.typecheck import typecheck
from tests.op_specs import OP_SPECS, op_args
from tests.transform_specs import split_arrays

EPS = 1e-6


def numerical_jacobian(fun, x):
    """Central differences, one input element at a time: shape out.shape + x.shape."""
    x = np.asarray(x, np.float64)
    columns = []
    for index in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[index] = EPS
        columns.append((np.asarray(fun(x + step)) - np.asarray(fun(x - step))) / (2 * EPS))
    out_shape = np.shape(fun(x))
    return np.moveaxis(np.array(columns), 0, -1).reshape(out_shape + x.shape)


def _first_array_only(spec, args):
    fun, arrays = split_arrays(spec, args)
    rest = arrays[1:]
    return (lambda x: fun(x, *rest)), arrays[0]


@pytest.mark.parametrize("spec", OP_SPECS, ids=lambda s: s.name)
def test_jacfwd_equals_jacrev_equals_finite_differences(spec):
    @settings(max_examples=3)
    @given(op_args(spec))
    def check(args):
        fun, x = _first_array_only(spec, args)
        forward = mg.jacfwd(fun)(x)
        reverse = mg.jacrev(fun)(x)
        expected_shape = np.shape(fun(x)) + x.shape
        assert forward.shape == expected_shape and reverse.shape == expected_shape
        np.testing.assert_allclose(forward, reverse, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(forward, numerical_jacobian(fun, x), rtol=1e-5, atol=1e-5)

    check()


@pytest.mark.parametrize("spec", [s for s in OP_SPECS if s.order >= 2], ids=lambda s: s.name)
def test_hessian_is_symmetric_and_matches_finite_differences_of_grad(spec):
    @settings(max_examples=3)
    @given(op_args(spec))
    def check(args):
        fun, x = _first_array_only(spec, args)
        weights = np.cos(np.arange(np.size(fun(x))) + 1.0).reshape(np.shape(fun(x)))

        def scalar(x):
            return mnp.sum(fun(x) * weights)

        hess = mg.hessian(scalar)(x)
        assert hess.shape == x.shape + x.shape
        square = hess.reshape(x.size, x.size)
        np.testing.assert_allclose(square, square.T, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(hess, numerical_jacobian(mg.grad(scalar), x), rtol=1e-5, atol=1e-5)

    check()


def test_hand_computed_jacobians():
    a = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
    x = np.array([0.5, -0.5, 2.0])
    np.testing.assert_array_equal(mg.jacfwd(lambda x: a @ x)(x), a)
    np.testing.assert_array_equal(mg.jacrev(lambda x: a @ x)(x), a)
    m = np.array([[2.0, 1.0], [0.0, 3.0]])
    np.testing.assert_allclose(mg.hessian(lambda v: v @ m @ v)(np.array([1.0, -2.0])), m + m.T)
    np.testing.assert_allclose(
        mg.jacrev(lambda v: v[::-1] ** 2)(np.array([1.0, 3.0])), [[0.0, 6.0], [2.0, 0.0]]
    )


def test_argnums_and_pytrees():
    x, y = np.array([1.0, 2.0]), np.array([3.0, -1.0, 0.5])

    def f(x, y):
        return {"outer": mnp.outer(x, y), "total": (x**2).sum() * y.sum()}

    for jac in (mg.jacfwd, mg.jacrev):
        both = jac(f, argnums=(0, 1))(x, y)
        assert both["outer"][0].shape == (2, 3, 2) and both["outer"][1].shape == (2, 3, 3)
        np.testing.assert_allclose(both["total"][0], 2 * x * y.sum())
        np.testing.assert_allclose(both["total"][1], np.full(3, (x**2).sum()))
        np.testing.assert_allclose(jac(f, argnums=1)(x, y)["outer"][1, 2], [0.0, 0.0, 2.0])

    params = {"w": np.array([[1.0, 0.5]]), "b": np.array(0.2)}

    def model(params):
        return mnp.tanh(params["w"] @ x + params["b"])

    forward = mg.jacfwd(model)(params)
    reverse = mg.jacrev(model)(params)
    slope = 1 - np.tanh(params["w"] @ x + 0.2) ** 2
    np.testing.assert_allclose(forward["w"], slope[:, None, None] * x[None, None, :])
    np.testing.assert_allclose(reverse["w"], forward["w"])
    np.testing.assert_allclose(reverse["b"], slope)
    hess = mg.hessian(lambda p: model(p).sum())(params)
    assert hess["w"]["w"].shape == (1, 2, 1, 2) and hess["w"]["b"].shape == (1, 2)


def test_python_control_flow_works_under_jacobians():
    def f(x):
        return x**3 if x.sum() > 0 else -x

    x = np.array([1.0, 2.0])
    for jac in (mg.jacfwd, mg.jacrev):
        np.testing.assert_allclose(jac(f)(x), np.diag(3 * x**2))
    np.testing.assert_allclose(mg.hessian(lambda x: f(x).sum())(x), np.diag(6 * x))


def test_dtypes_and_errors():
    x32 = np.array([1.0, 2.0], np.float32)
    assert mg.jacfwd(mnp.sin)(x32).dtype == np.float32
    assert mg.jacrev(mnp.sin)(x32).dtype == np.float32
    with pytest.raises(TypeError, match="argnums=0.*int64"):
        mg.jacfwd(lambda n: n * 2)(np.array([1, 2]))
    with pytest.raises(TypeError, match="floating-point outputs"):
        mg.jacrev(lambda x: mnp.argmax(x))(x32)


def test_jacobian_programs_typecheck():
    def f(x):
        return mnp.logsumexp(x[:, None] * x[None, ::-1], axis=1)

    x = np.array([0.1, 0.4, -0.3])
    for program in (
        mg.make_jaxpr(mg.jacfwd(f))(x),
        mg.make_jaxpr(mg.jacrev(f))(x),
        mg.make_jaxpr(mg.hessian(lambda x: f(x).sum()))(x),
    ):
        typecheck(program)
