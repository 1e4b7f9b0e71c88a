"""``custom_jvp`` under every transform (the rule is the one used; reverse mode transposes
it), ``custom_vjp`` with Python control flow under plain ``grad``, ``linearize``,
``linear_transpose``, and ``grad``'s ``holomorphic`` and ``allow_int``."""

import functools

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.dtypes import float0
from minigrad.core.typecheck import typecheck
from minigrad.testing import check_grads


@mg.custom_jvp
def log1pexp(x):
    return mnp.log(1.0 + mnp.exp(x))


@log1pexp.defjvp
def log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * (1.0 - 1.0 / (1.0 + mnp.exp(x)))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


X = np.array([-3.0, -0.5, 0.0, 0.7, 2.5])


def test_the_rule_is_used_where_the_naive_derivative_is_nan():
    with np.errstate(all="ignore"):  # exp(1000) overflows: that is the point
        naive = mg.grad(lambda x: mnp.log(1.0 + mnp.exp(x)))(1000.0)
        assert np.isnan(naive)
        np.testing.assert_allclose(mg.grad(log1pexp)(1000.0), 1.0)
        np.testing.assert_allclose(mg.jvp(log1pexp, (1000.0,), (2.0,))[1], 2.0)


@pytest.mark.parametrize(
    "transform",
    [
        lambda f: mg.vmap(mg.grad(f)),
        lambda f: mg.jit(mg.vmap(mg.grad(f))),
        lambda f: mg.vmap(mg.jit(mg.grad(f))),
        lambda f: lambda x: mg.grad(lambda v: mnp.sum(f(v)))(x),
        lambda f: lambda x: mg.jvp(f, (x,), (np.ones_like(x),))[1],
        lambda f: lambda x: mg.jvp(mg.jit(f), (x,), (np.ones_like(x),))[1],
        lambda f: lambda x: np.diag(mg.jacfwd(f)(x)),
        lambda f: lambda x: np.diag(mg.jacrev(f)(x)),
        lambda f: lambda x: mg.vjp(f, x)[1](np.ones_like(x))[0],
        lambda f: lambda x: mg.linearize(f, x)[1](np.ones_like(x)),
    ],
    ids=["vmap-grad", "jit-vmap-grad", "vmap-jit-grad", "grad-sum", "jvp", "jvp-jit", "jacfwd", "jacrev",
         "vjp", "linearize"],
)  # fmt: skip
def test_first_derivative_under_every_transform_is_the_sigmoid(transform):
    np.testing.assert_allclose(transform(log1pexp)(X), sigmoid(X), rtol=1e-12)


def test_second_derivatives_differentiate_the_rule():
    expected = sigmoid(X) * (1 - sigmoid(X))
    np.testing.assert_allclose(mg.vmap(mg.grad(mg.grad(log1pexp)))(X), expected, rtol=1e-12)
    np.testing.assert_allclose(np.diag(mg.hessian(lambda v: mnp.sum(log1pexp(v)))(X)), expected, rtol=1e-12)
    np.testing.assert_allclose(np.einsum("iii->i", mg.jacfwd(mg.jacrev(log1pexp))(X)), expected, rtol=1e-12)
    check_grads(log1pexp, (X,), order=2)


def test_values_and_staged_programs():
    np.testing.assert_allclose(log1pexp(X), np.log1p(np.exp(X)))
    np.testing.assert_allclose(mg.jit(log1pexp)(X), np.log1p(np.exp(X)))
    closed = mg.make_jaxpr(mg.grad(lambda v: mnp.sum(log1pexp(v))))(X)
    typecheck(closed)
    assert "custom_jvp_call[name='log1pexp']" in str(mg.make_jaxpr(log1pexp)(X))


@mg.custom_jvp
def branchy_relu(x):
    if x > 0:  # Python control flow on the value: fine wherever values are known
        return x
    return 0.0 * x


branchy_relu.defjvps(lambda t, ans, x: t * (x > 0) * 1.0)


def test_python_control_flow_in_the_function_under_grad_and_jvp():
    assert mg.grad(branchy_relu)(2.0) == 1.0 and mg.grad(branchy_relu)(-2.0) == 0.0
    assert mg.jvp(branchy_relu, (3.0,), (5.0,)) == (3.0, 5.0)
    with pytest.raises(mg.ConcretizationError):
        mg.make_jaxpr(branchy_relu)(1.0)


def test_defjvps_per_argument_rules_with_a_missing_one():
    calls = []

    @mg.custom_jvp
    def product(x, y):
        return x * y

    def x_part(tx, ans, x, y):
        calls.append("x")
        return tx * y * 10.0  # deliberately not the true derivative, to see it is used

    product.defjvps(x_part, lambda ty, ans, x, y: ty * x)
    gx, gy = mg.grad(product, argnums=(0, 1))(2.0, 3.0)
    assert (float(gx), float(gy)) == (30.0, 2.0)
    calls.clear()
    # the tangent of x is zero here: its rule is not called
    assert mg.jvp(lambda y: product(2.0, y), (3.0,), (1.0,))[1] == 2.0
    assert calls == []
    no_y = mg.custom_jvp(lambda x, y: x * y)
    no_y.defjvps(lambda tx, ans, x, y: tx * y, None)
    assert mg.grad(no_y, argnums=1)(2.0, 3.0) == 0.0


def test_nondiff_argnums_pytrees_and_integer_inputs():
    @functools.partial(mg.custom_jvp, nondiff_argnums=(0,))
    def apply(f, params, n):
        return f(params["w"]) * params["b"] * n

    @apply.defjvp
    def apply_jvp(f, primals, tangents):
        (params, n), (dparams, dn) = primals, tangents
        assert dn.dtype == float0  # an integer input's tangent, as in JAX
        out = apply(f, params, n)
        return out, (mnp.cos(params["w"]) * params["b"] * dparams["w"] + f(params["w"]) * dparams["b"]) * n

    params = {"w": np.array([0.1, 0.4]), "b": np.array(2.0)}
    grads = mg.grad(lambda p: mnp.sum(apply(mnp.sin, p, 3)))(params)
    np.testing.assert_allclose(grads["w"], np.cos(params["w"]) * 2.0 * 3)
    np.testing.assert_allclose(grads["b"], np.sum(np.sin(params["w"])) * 3)
    batched = mg.vmap(lambda w: apply(mnp.sin, {"w": w, "b": np.array(2.0)}, 3))(np.ones((4, 2)))
    np.testing.assert_allclose(batched, np.full((4, 2), np.sin(1.0) * 6))


def test_symbolic_zeros_reach_the_rule_as_none():
    seen = []

    @mg.custom_jvp
    def f(x, y):
        return x * y

    def f_jvp(primals, tangents):
        seen.append(tuple(t is None for t in tangents))
        (x, y), (tx, ty) = primals, tangents
        out = x * y
        return out, (0.0 if tx is None else tx * y) + (0.0 if ty is None else ty * x)

    f.defjvp(f_jvp, symbolic_zeros=True)
    assert mg.jvp(lambda x: f(x, 4.0), (2.0,), (1.0,))[1] == 4.0
    assert seen == [(False, True)]


def test_errors_name_the_construct():
    bare = mg.custom_jvp(lambda x: x)
    with pytest.raises(TypeError, match="has no JVP rule yet"):
        mg.grad(bare)(1.0)
    bad = mg.custom_jvp(lambda x: x)
    bad.defjvp(lambda primals, tangents: primals[0])
    with pytest.raises(TypeError, match="must return a pair"):
        mg.jvp(bad, (1.0,), (1.0,))
    w = np.array(2.0)

    def closes_over(x):
        inner = mg.custom_jvp(lambda y: y * x)
        inner.defjvps(lambda t, ans, y: t * x)
        return inner(w)

    with pytest.raises(TypeError, match="closes over a value traced"):
        mg.grad(closes_over)(1.0)


# ---------------------------------------------------------------------------------------
# custom_vjp with Python control flow runs under grad, as JAX's does


@mg.custom_vjp
def safe_sqrt(x):
    if x > 0:
        return mnp.sqrt(x)
    return 0.0 * x


def safe_sqrt_fwd(x):
    return safe_sqrt(x), x


def safe_sqrt_bwd(x, g):
    if x > 0:
        return (g * 0.5 / mnp.sqrt(x),)
    return (0.0 * g,)


safe_sqrt.defvjp(safe_sqrt_fwd, safe_sqrt_bwd)


def test_custom_vjp_with_python_control_flow_under_grad_vjp_and_grad_of_grad():
    assert mg.grad(safe_sqrt)(4.0) == 0.25 and mg.grad(safe_sqrt)(-1.0) == 0.0
    out, pullback = mg.vjp(safe_sqrt, 9.0)
    assert out == 3.0 and pullback(2.0) == (2.0 / 6.0,)
    np.testing.assert_allclose(mg.grad(lambda x: safe_sqrt(x) * x)(4.0), 2.0 + 4.0 * 0.25)
    np.testing.assert_allclose(mg.grad(mg.grad(safe_sqrt))(4.0), -0.25 * 4.0**-1.5)
    with pytest.raises(mg.ConcretizationError):
        mg.jit(mg.grad(safe_sqrt))(4.0)  # no values under jit: as in JAX, it must be staged


# ---------------------------------------------------------------------------------------
# linearize, linear_transpose, grad's options


def test_linearize_matches_jvp_and_runs_the_function_once():
    calls = []

    def f(x, y):
        calls.append(1)
        return {"p": mnp.sin(x) * y, "q": x**2}

    x, y = np.array([0.3, 1.2]), np.array(2.0)
    out, f_jvp = mg.linearize(f, x, y)
    assert len(calls) == 1
    tx, ty = np.array([1.0, -2.0]), np.array(0.5)
    expected = mg.jvp(f, (x, y), (tx, ty))[1]
    got = f_jvp(tx, ty)
    np.testing.assert_allclose(got["p"], expected["p"])
    np.testing.assert_allclose(got["q"], expected["q"])
    np.testing.assert_allclose(out["p"], np.sin(x) * y)
    assert len(calls) == 2  # once for the value, once staged: never again per call
    f_jvp(tx, ty)
    assert len(calls) == 2
    with pytest.raises(ValueError, match="linearize: f_jvp takes tangents"):
        f_jvp(np.ones(3), ty)


def test_linear_transpose_is_the_matrix_transpose():
    matrix = np.arange(6.0).reshape(2, 3)
    (ct,) = mg.linear_transpose(lambda v: matrix @ v, np.zeros(3))(np.array([1.0, -1.0]))
    np.testing.assert_allclose(ct, matrix.T @ np.array([1.0, -1.0]))
    transpose = mg.linear_transpose(lambda a, b: 2.0 * a + b.sum(), np.zeros(2), np.zeros(3))
    ta, tb = transpose(np.array([1.0, 3.0]))
    np.testing.assert_allclose(ta, [2.0, 6.0])
    np.testing.assert_allclose(tb, [4.0, 4.0, 4.0])


def test_grad_allow_int_gives_float0_zeros_and_holomorphic_checks_dtypes():
    gx, gn = mg.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert gx == 3.0 and gn.dtype == float0 and gn.shape == ()
    grads = mg.grad(lambda p: p["w"] * p["k"].sum(), allow_int=True)({"w": 1.5, "k": np.arange(3)})
    assert grads["k"].dtype == float0 and grads["k"].shape == (3,)
    with pytest.raises(TypeError, match="dtype int64"):
        mg.grad(lambda x, n: x * n, argnums=1)(2.0, 3)
    z = np.complex128(1.0 + 2.0j)
    with pytest.raises(TypeError, match="holomorphic=True"):
        mg.grad(lambda z: z * z)(z)
    np.testing.assert_allclose(mg.grad(lambda z: z * z * z, holomorphic=True)(z), 3 * z**2)
    with pytest.raises(TypeError, match="needs complex inputs"):
        mg.grad(lambda x: x * x, holomorphic=True)(1.0)
