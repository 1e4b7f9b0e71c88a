"""Reverse mode: the seeds' worked examples, argnums, has_aux, pytrees, accumulation."""

import collections
import math
import sys

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind
from minigrad.ops.elementwise import sin_p
from minigrad.testing import check_grads

# ---------------------------------------------------------------------------------------
# The seeds' worked examples, with numbers computed by hand.


def test_seed_z_equals_x1_x2_plus_sin_x1():
    def z(x1, x2):
        return x1 * x2 + mnp.sin(x1)

    dx1, dx2 = mg.grad(z, argnums=(0, 1))(2.0, 3.0)
    assert dx1 == pytest.approx(3 + math.cos(2))
    assert float(dx1) == pytest.approx(2.584, abs=1e-3)
    assert dx2 == pytest.approx(2.0)


def test_seed_quadratic_derivative():
    def f(x):
        return 3 * x**2 - 4 * x + 5

    assert mg.grad(f)(-3.0) == pytest.approx(-22.0)
    assert mg.grad(mg.grad(f))(-3.0) == pytest.approx(6.0)


def test_seed_fan_out_accumulates():
    assert mg.grad(lambda a: a + a)(3.0) == pytest.approx(2.0)
    assert mg.grad(lambda a: a * a * a)(2.0) == pytest.approx(12.0)


def test_seed_expression_graph():
    def loss(a, b, c, f):
        e = a * b
        d = e + c
        return d * f

    grads = mg.grad(loss, argnums=(0, 1, 2, 3))(2.0, -3.0, 10.0, -2.0)
    assert [float(g) for g in grads] == pytest.approx([6.0, -4.0, -2.0, 4.0])


def test_seed_tanh_neuron():
    def neuron(x1, x2, w1, w2, b):
        return mnp.tanh(x1 * w1 + x2 * w2 + b)

    args = (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)
    assert neuron(*args) == pytest.approx(0.7071, abs=1e-4)
    gx1, gx2, gw1, gw2, _ = mg.grad(neuron, argnums=(0, 1, 2, 3, 4))(*args)
    assert float(gx1) == pytest.approx(-1.5)
    assert float(gw1) == pytest.approx(1.0)
    assert float(gx2) == pytest.approx(0.5)
    assert float(gw2) == pytest.approx(0.0)


# ---------------------------------------------------------------------------------------
# The API of grad, value_and_grad and vjp.


def test_value_and_grad_returns_value_and_gradient():
    value, gradient = mg.value_and_grad(lambda x: (x**2).sum())(np.array([1.0, 2.0]))
    assert value == pytest.approx(5.0)
    np.testing.assert_allclose(gradient, [2.0, 4.0])


def test_has_aux_returns_aux_untouched():
    def f(x):
        return (x**2).sum(), {"mean": x.mean(), "tag": 3}

    (value, aux), gradient = mg.value_and_grad(f, has_aux=True)(np.array([1.0, 3.0]))
    assert value == pytest.approx(10.0)
    assert aux["tag"] == 3
    assert isinstance(aux["mean"], np.ndarray) and aux["mean"] == pytest.approx(2.0)
    np.testing.assert_allclose(gradient, [2.0, 6.0])
    gradient_only, aux_only = mg.grad(f, has_aux=True)(np.array([1.0, 3.0]))
    np.testing.assert_allclose(gradient_only, [2.0, 6.0])
    assert aux_only["tag"] == 3


def test_grads_follow_the_pytree_of_the_argument():
    Params = collections.namedtuple("Params", ["w", "b"])

    def loss(params, x):
        return ((x @ params["layer"].w + params["layer"].b) ** 2).sum() + params["scale"][0] ** 2

    params = {"layer": Params(np.ones((2, 3)), np.zeros(3)), "scale": [np.array(2.0)]}
    x = np.array([[1.0, 2.0]])
    grads = mg.grad(loss)(params, x)
    assert isinstance(grads["layer"], Params)
    np.testing.assert_allclose(grads["layer"].b, 2 * (x @ np.ones((2, 3)))[0])
    np.testing.assert_allclose(grads["layer"].w, 2 * x.T @ (x @ np.ones((2, 3))))
    assert grads["scale"][0] == pytest.approx(4.0)


def test_negative_argnums_and_kwargs():
    def f(x, y, scale=1.0):
        return scale * x * y

    assert mg.grad(f, argnums=-1)(2.0, 5.0, scale=3.0) == pytest.approx(6.0)


def test_vjp_returns_one_cotangent_per_primal():
    out, vjp_fn = mg.vjp(lambda x, y: x * y, np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_allclose(out, [3.0, 8.0])
    ct_x, ct_y = vjp_fn(np.array([1.0, 10.0]))
    np.testing.assert_allclose(ct_x, [3.0, 40.0])
    np.testing.assert_allclose(ct_y, [1.0, 20.0])


def test_vjp_with_pytree_output_and_aux():
    def f(x):
        return {"a": x * 2.0, "b": (x.sum(),)}, "aux"

    out, vjp_fn, aux = mg.vjp(f, np.array([1.0, 2.0]), has_aux=True)
    assert aux == "aux"
    (ct,) = vjp_fn({"a": np.array([1.0, 1.0]), "b": (np.array(1.0),)})
    np.testing.assert_allclose(ct, [3.0, 3.0])


def test_unused_input_gets_zero_gradient_of_its_dtype():
    g = mg.grad(lambda x, y: x * 2.0, argnums=1)(np.float32(1.0), np.ones(3, np.float32))
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, np.zeros(3))


def test_constant_output_has_zero_gradient():
    assert mg.grad(lambda x: 5.0)(np.array(1.0)) == 0.0


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_gradient_keeps_the_primal_dtype(dtype):
    x = np.arange(3, dtype=dtype)
    g = mg.grad(lambda x: (mnp.sin(x) * 2.0 + x.astype(np.float64)).sum())(x)
    assert g.dtype == dtype and g.shape == x.shape


def test_broadcasting_is_undone_in_the_gradient():
    x = np.ones((3, 1))
    y = np.arange(4.0)
    gx, gy = mg.grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.full((3, 1), 6.0))
    np.testing.assert_allclose(gy, np.full(4, 3.0))


def test_python_control_flow_follows_the_values():
    def f(x):
        if x > 0:
            return x**2
        while x < -1:
            x = x / 2
        return -x

    assert mg.grad(f)(3.0) == pytest.approx(6.0)
    assert mg.grad(f)(-8.0) == pytest.approx(-0.125)
    assert mg.grad(lambda x: float(mg.stop_gradient(x)) * x)(3.0) == pytest.approx(3.0)
    assert mg.grad(lambda x: x[int(mnp.argmax(x))])(np.array([1.0, 5.0, 2.0]))[1] == 1.0


def test_integer_inputs_pass_through_as_constants():
    assert mg.grad(lambda x, n: x**2 * n)(3.0, 4) == pytest.approx(24.0)
    _, vjp_fn = mg.vjp(lambda x, i: x[i], np.arange(3.0), np.array(1))
    ct_x, ct_i = vjp_fn(np.array(1.0))
    np.testing.assert_array_equal(ct_x, [0.0, 1.0, 0.0])
    assert ct_i.shape == ()


@pytest.mark.parametrize(
    "f, third",
    [
        (mnp.sin, lambda x: -math.cos(x)),
        (mnp.exp, math.exp),
        (lambda x: x**4, lambda x: 24 * x),
        (mnp.tanh, lambda x: -2 * (1 - math.tanh(x) ** 2) * (1 - 3 * math.tanh(x) ** 2)),
    ],
    ids=["sin", "exp", "x**4", "tanh"],
)
def test_third_derivatives_match_closed_forms(f, third):
    assert mg.grad(mg.grad(mg.grad(f)))(0.7) == pytest.approx(third(0.7))


def test_grad_of_grad_with_broadcasting_reductions_and_indexing():
    def f(x):
        return (mnp.sum(x[:, None] * x[None, 1:], axis=1) ** 2).mean()

    x = np.array([0.5, -1.0, 2.0])
    # f(x) = mean_i (x_i * S)^2 with S = x_1 + x_2, so f = S^2 * sum(x^2) / 3.
    s = x[1] + x[2]

    def hessian_diag_by_hand(i):
        # d2f/dx_i2 = (2 S^2 + 2 * 2*(dS/dx_i)*2 x_i S + 2 (dS/dx_i)^2 sum x^2) / 3
        ds = 1.0 if i > 0 else 0.0
        return (2 * s**2 + 8 * ds * x[i] * s + 2 * ds**2 * np.sum(x**2)) / 3

    for i in range(3):

        def partial(xi, i=i):
            return mg.grad(f)(mnp.concatenate([x[:i], mnp.reshape(xi, (1,)), x[i + 1 :]]))[i]

        assert mg.grad(partial)(np.float64(x[i])) == pytest.approx(hessian_diag_by_hand(i))


def test_nested_grad_closing_over_outer_value():
    # d/dy [ d/dx (x * y)^2 at x=1 ] = d/dy (2 y^2) = 4 y
    def outer(y):
        return mg.grad(lambda x: (x * y) ** 2)(1.0)

    assert mg.grad(outer)(3.0) == pytest.approx(12.0)


def test_stop_gradient_blocks_the_gradient():
    assert mg.grad(lambda x: mg.stop_gradient(x) * x)(3.0) == pytest.approx(3.0)
    assert mg.grad(lambda x: mg.stop_gradient(x**2))(3.0) == 0.0


def test_tie_rules_at_non_differentiable_points():
    np.testing.assert_allclose(mg.grad(lambda x: mnp.max(x))(np.array([2.0, 2.0, 1.0])), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(mg.grad(lambda x: mnp.maximum(x, 1.0).sum())(np.array([1.0, 2.0])), [0.5, 1.0])
    assert mg.grad(mnp.abs)(0.0) == 0.0
    assert mg.grad(lambda x: mnp.where(x > 0, x, 0.0))(0.0) == 0.0


def test_derivatives_at_zero_of_power_and_cbrt():
    # x**0 is the constant 1, so its derivatives are 0 everywhere, 0 included.
    assert mg.grad(lambda x: mnp.power(x, 0.0))(0.0) == 0.0
    assert mg.grad(mg.grad(lambda x: mnp.power(x, 0.0)))(0.0) == 0.0
    assert mg.grad(lambda x: mnp.power(x, 1.0))(0.0) == 1.0
    # Away from x = 0 the mixed derivative d/dy d/dx x**y = x**(y-1) (1 + y log x) stays exact.
    assert mg.grad(mg.grad(mnp.power), argnums=1)(2.0, 0.0) == pytest.approx(0.5)
    # The cube root's tangent is vertical at 0.
    with np.errstate(divide="ignore"):
        assert mg.grad(mnp.cbrt)(0.0) == np.inf
    assert mg.grad(mnp.cbrt)(-8.0) == pytest.approx(1 / 12)
    # The C library may round the last bit either way (-3.0000000000000004 on some).
    assert mnp.cbrt(-27.0) == pytest.approx(-3.0, rel=1e-15)


@pytest.mark.parametrize("transform", [mg.grad, mg.value_and_grad, mg.jacfwd, mg.jacrev, mg.hessian])
def test_duplicate_or_boolean_argnums_are_rejected(transform):
    def f(a, b):
        return a * b

    with pytest.raises(ValueError, match="more than once"):
        transform(f, argnums=(0, 0))(2.0, 3.0)
    with pytest.raises(ValueError, match="more than once"):
        transform(f, argnums=(1, -1))(2.0, 3.0)
    with pytest.raises(TypeError, match="argnums must be an int"):
        transform(f, argnums=True)(2.0, 3.0)


def test_integer_argument_error_has_one_wording_and_names_the_leaf():
    for transform in (mg.grad, mg.jacfwd, mg.jacrev):
        with pytest.raises(TypeError, match=r"argument 1\['n'\], of dtype int64"):
            transform(lambda x, p: x * p["n"], argnums=(0, 1))(1.0, {"n": np.int64(2)})
    with pytest.raises(TypeError, match=r"argument 0 is of type str") as info:
        mg.grad(lambda x: 1.0)("a")
    assert "<root>" not in str(info.value)


def test_stop_gradient_maps_over_pytrees():
    params = {"a": 1.0, "b": (np.ones(2), 3)}
    stopped = mg.stop_gradient(params)
    assert isinstance(stopped, dict) and isinstance(stopped["b"], tuple)
    np.testing.assert_array_equal(stopped["b"][0], np.ones(2))
    assert stopped["a"] == 1.0 and stopped["b"][1] == 3

    def loss(p):
        frozen = mg.stop_gradient(p)
        return (frozen["w"] * p["w"]).sum() + frozen["v"] * p["v"]

    grads = mg.grad(loss)({"w": np.array([2.0, 3.0]), "v": 4.0})
    np.testing.assert_allclose(grads["w"], [2.0, 3.0])
    assert grads["v"] == 4.0


def test_prod_second_derivatives_at_zeros():
    # d2/dai daj prod(a) is the product of the elements other than i and j.
    hessian = mg.hessian(lambda a: mnp.prod(a))
    np.testing.assert_allclose(hessian(np.array([0.0, 2.0, 3.0])), [[0, 3, 2], [3, 0, 0], [2, 0, 0]])
    np.testing.assert_allclose(hessian(np.array([0.0, 0.0, 3.0])), [[0, 3, 0], [3, 0, 0], [0, 0, 0]])
    x = np.array([[0.0, 1.5, -2.0, 0.5], [0.0, 0.0, 3.0, 1.0], [1.0, 2.0, 0.5, -1.0]])
    for axis in (None, 0, 1):
        check_grads(lambda a, axis=axis: mnp.prod(a, axis=axis), (x,), order=2)
    check_grads(lambda a: mnp.prod(a, axis=1), (x[:2, :3],), order=3)


def test_vjp_fn_can_be_called_repeatedly_while_grad_frees_as_it_walks():
    def f(x):
        return mnp.tanh(mnp.sin(x) * x)

    x = np.linspace(-1.0, 1.0, 4)
    _, pullback = mg.vjp(f, x)
    first = pullback(np.ones(4))[0]
    second = pullback(np.ones(4))[0]
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(mg.grad(lambda v: f(v).sum())(x), first)


def test_python_float_argument_is_weak_and_its_gradient_is_float64():
    # The value has eager's dtype (float32: the number is weak); the gradient has the
    # dtype of the primal as an array (float64), as JAX gives its default float.
    def f(x):
        return (x * np.array([1.0, 2.0], np.float32)).sum()

    value, gradient = mg.value_and_grad(f)(1.5)
    assert value.dtype == f(1.5).dtype == np.float32
    assert gradient.dtype == np.float64 and gradient.shape == ()
    assert gradient == 3.0
    assert mg.grad(f)(1.5).dtype == np.float64
    assert mg.vjp(f, 1.5)[1](np.float32(1.0))[0].dtype == np.float64
    assert mg.jacrev(f)(1.5).dtype == np.float64
    assert mg.grad(mg.jit(f))(1.5).dtype == np.float64
    assert mg.jit(mg.grad(f))(1.5).dtype == np.float64
    assert mg.jit(mg.value_and_grad(f))(1.5)[0].dtype == np.float32


def test_jvp_of_python_float_is_weak():
    def f(x):
        return x * np.ones(2, np.float32)

    out, tangent = mg.jvp(f, (2.0,), (1.0,))
    assert out.dtype == tangent.dtype == f(2.0).dtype == np.float32
    np.testing.assert_array_equal(tangent, [1.0, 1.0])
    assert mg.jacfwd(f)(2.0).dtype == np.float32  # forward mode: the output's dtype


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: mnp.sum(x),
        lambda x: mnp.mean(x),
        lambda x: mnp.sum(x) * 3.0,
    ],
)
@pytest.mark.parametrize("jitted", [False, True])
def test_gradients_are_ordinary_writable_arrays(fun, jitted):
    g_fun = mg.grad(fun)
    g = (mg.jit(g_fun) if jitted else g_fun)(np.arange(3.0))
    assert g.flags.writeable and g.flags.c_contiguous and 0 not in g.strides
    g += 1.0  # must not raise nor change anything else
    _, vjp_fn = mg.vjp(fun, np.arange(3.0))
    (ct,) = vjp_fn(np.array(1.0))
    assert ct.flags.writeable
    value, g2 = mg.value_and_grad(fun)(np.arange(3.0))
    assert g2.flags.writeable


# ---------------------------------------------------------------------------------------
# The backward pass checks the rules it calls.


def _two_input_primitive_with_vjp_all(rule):
    """A product primitive whose only reverse rule is ``rule`` (a vjp_all rule)."""
    product_p = Primitive("product_with_bad_vjp_all", register=False)

    @product_p.def_impl
    def product_impl(x, y):
        return x * y

    @product_p.def_shape_rule
    def product_shape_rule(x, y):
        return x

    product_p.def_vjp_all(rule)
    return product_p


def test_a_vjp_all_rule_with_the_wrong_number_of_cotangents_is_named():
    def one_cotangent_for_two_inputs(wanted, ct, ans, x, y):
        return (mnp.multiply(ct, y),)

    product_p = _two_input_primitive_with_vjp_all(one_cotangent_for_two_inputs)
    with pytest.raises(ValueError, match=r"'product_with_bad_vjp_all' returned 1 cotangents for 2 inputs"):
        mg.grad(lambda x: bind(product_p, x, np.array(3.0)))(np.array(2.0))


def test_a_vjp_all_rule_returning_a_bare_array_is_named():
    def bare_array(wanted, ct, ans, x, y):
        return mnp.multiply(ct, y)

    product_p = _two_input_primitive_with_vjp_all(bare_array)
    with pytest.raises(ValueError, match=r"'product_with_bad_vjp_all' returned ndarray for 2 inputs"):
        mg.grad(lambda x: bind(product_p, x, np.array(3.0)))(np.array(2.0))


def test_a_correct_vjp_all_rule_gives_the_gradient():
    def product_vjp_all(wanted, ct, ans, x, y):
        return (mnp.multiply(ct, y), mnp.multiply(ct, x))

    product_p = _two_input_primitive_with_vjp_all(product_vjp_all)
    assert mg.grad(lambda x: bind(product_p, x, np.array(3.0)))(np.array(2.0)) == 3.0


def _python_calls(fun, *args) -> int:
    """How many Python-level calls (functions and generator steps) ``fun(*args)`` makes."""
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        fun(*args)
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("join", [mnp.stack, mnp.concatenate], ids=["stack", "concatenate"])
def test_grad_through_joining_n_operands_is_linear_in_n(join):
    # Each operand's cotangent is one slice; finding every offset must not cost O(n) per
    # operand (n = 8000 took 30 s against 0.09 s forward).
    grad = mg.grad(lambda xs: mnp.sum(join(xs) ** 2))
    small, large = ([np.ones(2) for _ in range(n)] for n in (300, 1200))
    np.testing.assert_array_equal(grad(small)[7], [2.0, 2.0])
    ratio = _python_calls(grad, large) / _python_calls(grad, small)
    assert ratio < 5.5, f"4x the operands made {ratio:.1f}x the calls (16x would be quadratic)"


def test_the_backward_pass_calls_whichever_vjp_rule_a_primitive_holds(monkeypatch):
    # The walk calls def_vjp's per-input rules directly (vjp_rules); a rule set on
    # `vjp` afterwards (a test's deliberately wrong one, say) must replace them.
    assert sin_p.vjp_rules is not None
    calls = []
    original = sin_p.vjp

    def doubled_sin_vjp(argnum, ct, ans, x):
        calls.append(argnum)
        return 2.0 * original(argnum, ct, ans, x)

    monkeypatch.setattr(sin_p, "vjp", doubled_sin_vjp)
    assert sin_p.vjp_rules is None
    np.testing.assert_allclose(mg.grad(mnp.sin)(0.5), 2.0 * np.cos(0.5))
    assert calls == [0]
    monkeypatch.undo()
    assert sin_p.vjp_rules is not None  # the per-input rules come back with def_vjp's rule
    np.testing.assert_allclose(mg.grad(mnp.sin)(0.5), np.cos(0.5))
