"""``custom_vjp`` (the user's backward rule is the one used) and ``checkpoint`` (the
same derivatives, fewer stored values), under every transform they meet."""

import functools

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.recording import RecordTrace
from minigrad.core.trace import new_trace
from minigrad.core.typecheck import typecheck

# ---------------------------------------------------------------------------------------
# custom_vjp


@mg.custom_vjp
def sin_times(x, y):
    return mnp.sin(x) * y


def sin_times_fwd(x, y):
    return sin_times(x, y), (mnp.cos(x), mnp.sin(x), y)


def sin_times_bwd(residuals, g):
    cos_x, sin_x, y = residuals
    return (cos_x * g * y, sin_x * g)


sin_times.defvjp(sin_times_fwd, sin_times_bwd)


@mg.custom_vjp
def clip_gradient(x):
    return x


def clip_gradient_fwd(x):
    return x, None


def clip_gradient_bwd(residuals, g):
    return (mnp.clip(g, -1.0, 1.0),)


clip_gradient.defvjp(clip_gradient_fwd, clip_gradient_bwd)

X = np.array([0.3, 1.0, -2.0])
Y = np.array([2.0, -1.0, 0.5])


def test_values_are_the_functions_values():
    np.testing.assert_allclose(sin_times(X, Y), np.sin(X) * Y)
    np.testing.assert_allclose(mg.vjp(sin_times, X, Y)[0], np.sin(X) * Y)


def test_grad_uses_the_custom_rule():
    # The true derivative of 5 * x is 5; the custom rule clips it to 1.
    assert mg.grad(lambda x: 5.0 * clip_gradient(x))(2.0) == 1.0
    np.testing.assert_array_equal(mg.grad(lambda x: (-3.0 * clip_gradient(x)).sum())(X), -np.ones(3))
    gx, gy = mg.grad(lambda x, y: sin_times(x, y).sum(), argnums=(0, 1))(X, Y)
    np.testing.assert_allclose(gx, np.cos(X) * Y)
    np.testing.assert_allclose(gy, np.sin(X))


def test_pytree_arguments_residuals_and_none_cotangents():
    @mg.custom_vjp
    def affine(params, x):
        return params["w"] * x + params["b"]

    def affine_fwd(params, x):
        return affine(params, x), {"saved": (params["w"], [x])}

    def affine_bwd(residuals, g):
        w, (x,) = residuals["saved"]
        return ({"w": (g * x).sum(), "b": g.sum()}, None)

    affine.defvjp(affine_fwd, affine_bwd)
    params = {"w": np.array(2.0), "b": np.array(0.5)}
    grads, gx = mg.grad(lambda p, x: affine(p, x).sum(), argnums=(0, 1))(params, X)
    assert grads["w"] == pytest.approx(X.sum()) and grads["b"] == pytest.approx(3.0)
    np.testing.assert_array_equal(gx, np.zeros(3))  # bwd said None: no gradient


def test_higher_order_differentiates_fwd_and_bwd():
    second = mg.grad(mg.grad(lambda x: sin_times(x, 2.0)))(0.3)
    assert second == pytest.approx(-2.0 * np.sin(0.3))
    hess = mg.jacrev(mg.jacrev(lambda x: sin_times(x, Y).sum()))(X)
    np.testing.assert_allclose(hess, np.diag(-np.sin(X) * Y))


def test_vmap_and_jacrev_use_the_rule():
    np.testing.assert_allclose(mg.vmap(sin_times)(X, Y), np.sin(X) * Y)
    np.testing.assert_allclose(mg.vmap(mg.grad(lambda x: sin_times(x, 2.0)))(X), 2.0 * np.cos(X))
    # A weight shared by every example collects every example's cotangent.
    shared = mg.grad(lambda y: mg.vmap(lambda x: sin_times(x, y))(X).sum())(np.array(2.0))
    assert shared == pytest.approx(np.sin(X).sum())
    np.testing.assert_array_equal(
        mg.grad(lambda xs: mg.vmap(lambda x: 4.0 * clip_gradient(x))(xs).sum())(X), np.ones(3)
    )
    np.testing.assert_allclose(mg.jacrev(lambda x: sin_times(x, Y))(X), np.diag(np.cos(X) * Y))


def test_programs_show_one_call_and_typecheck():
    program = mg.make_jaxpr(sin_times)(X, Y)
    assert [eqn.primitive.name for eqn in program.eqns] == ["custom_vjp_call"]
    assert "custom_vjp_call" in str(program)
    typecheck(program)
    typecheck(mg.make_jaxpr(mg.grad(lambda x: sin_times(x, Y).sum()))(X))
    typecheck(mg.make_jaxpr(mg.vmap(sin_times, in_axes=(0, None)))(np.ones((2, 3)), Y))


def test_forward_mode_is_refused_as_in_jax():
    with pytest.raises(TypeError, match="forward-mode.*custom VJP.*jacrev"):
        mg.jvp(lambda x: sin_times(x, Y), (X,), (X,))
    with pytest.raises(TypeError, match="forward-mode"):
        mg.jacfwd(clip_gradient)(X)


def test_closed_over_values_are_differentiated_through_fwd():
    def loss(w):
        @mg.custom_vjp
        def scale(x):
            return x * w

        def scale_fwd(x):
            return scale(x), w

        def scale_bwd(w_saved, g):
            return (g * w_saved,)

        scale.defvjp(scale_fwd, scale_bwd)
        return scale(X).sum()

    assert mg.grad(loss)(np.array(3.0)) == pytest.approx(X.sum())


def test_nondiff_argnums_are_passed_to_bwd_first():
    @functools.partial(mg.custom_vjp, nondiff_argnums=(0,))
    def apply(fn, x):
        return fn(x)

    def apply_fwd(fn, x):
        return apply(fn, x), x

    def apply_bwd(fn, x, g):
        return (g * fn(x) * 10.0,)  # a rule that shows it received fn

    apply.defvjp(apply_fwd, apply_bwd)
    assert apply(mnp.exp, 0.0) == 1.0
    assert mg.grad(lambda x: apply(mnp.exp, x))(0.0) == 10.0
    np.testing.assert_allclose(mg.vmap(mg.grad(lambda x: apply(mnp.sin, x)))(X), 10.0 * np.sin(X))
    with pytest.raises(TypeError, match="nondiff_argnums.*traced"):
        mg.grad(lambda x: apply(x, x))(1.0)


def test_custom_vjp_errors():
    @mg.custom_vjp
    def f(x):
        return x * 2.0

    with pytest.raises(TypeError, match="defvjp"):
        f(1.0)
    f.defvjp(lambda x: (f(x), None), lambda r, g: (g, g))
    with pytest.raises(TypeError, match="one cotangent per argument"):
        mg.grad(f)(1.0)
    f.defvjp(lambda x: (f(x), None), lambda r, g: (np.ones(2),))
    with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(\)"):
        mg.grad(f)(1.0)
    f.defvjp(lambda x: f(x), lambda r, g: (g,))
    with pytest.raises(TypeError, match="pair"):
        mg.grad(f)(1.0)


# ---------------------------------------------------------------------------------------
# checkpoint


def deep(x):
    for _ in range(8):
        x = mnp.sin(x) * 1.5 + x[::-1] * 0.1
    return x


def stored_values(fun, x) -> int:
    """How many values a recording trace (the forward pass of grad) keeps for fun(x)."""
    with new_trace(RecordTrace) as trace:
        fun(trace.new_input(x))
    return len(trace.values)


def test_checkpoint_has_the_same_values_and_derivatives():
    remat = mg.checkpoint(deep)
    np.testing.assert_allclose(remat(X), deep(X))

    def loss(f):
        return lambda x: (f(x) ** 2).sum()

    np.testing.assert_allclose(mg.grad(loss(remat))(X), mg.grad(loss(deep))(X), rtol=1e-12)
    np.testing.assert_allclose(mg.jvp(remat, (X,), (Y,))[1], mg.jvp(deep, (X,), (Y,))[1], rtol=1e-12)
    np.testing.assert_allclose(mg.hessian(loss(remat))(X), mg.hessian(loss(deep))(X), rtol=1e-10)
    np.testing.assert_allclose(mg.jacrev(mg.jacrev(loss(remat)))(X), mg.hessian(loss(deep))(X), rtol=1e-10)
    second = mg.grad(mg.grad(lambda s: mg.checkpoint(mnp.tanh)(s)))(0.4)
    assert second == pytest.approx(-2 * np.tanh(0.4) * (1 - np.tanh(0.4) ** 2))


def test_checkpoint_stores_fewer_values_and_recomputes_them():
    plain, remat = stored_values(deep, X), stored_values(mg.checkpoint(deep), X)
    assert remat == 2  # the input and the output
    assert plain > 8 * 4  # every sin, product, reversal and sum of the eight layers
    program = mg.make_jaxpr(mg.grad(lambda x: mg.checkpoint(deep)(x).sum()))(X)
    names = [eqn.primitive.name for eqn in program.eqns]
    assert names[0] == "checkpoint"
    assert names.count("sin") == 8  # the forward pass again, in the backward pass
    typecheck(program)


def test_checkpoint_under_vmap_stays_checkpointed():
    remat = mg.checkpoint(deep)
    xs = np.stack([X, Y])
    np.testing.assert_allclose(mg.vmap(remat)(xs), np.stack([deep(X), deep(Y)]))
    program = mg.make_jaxpr(mg.vmap(remat))(xs)
    assert [eqn.primitive.name for eqn in program.eqns] == ["checkpoint"]
    typecheck(program)
    grads = mg.grad(lambda xs: mg.vmap(remat)(xs).sum())(xs)
    np.testing.assert_allclose(grads, np.stack([mg.grad(lambda x: deep(x).sum())(x) for x in xs]), rtol=1e-12)


def test_checkpoint_closures_and_pytrees():
    def loss(w):
        block = mg.checkpoint(lambda p: {"out": mnp.tanh(p["x"] * w), "aux": p["x"].sum()})
        result = block({"x": X})
        return result["out"].sum() + result["aux"]

    expected = (X * (1 - np.tanh(X * 1.5) ** 2)).sum()
    assert mg.grad(loss)(np.array(1.5)) == pytest.approx(expected)


def test_checkpoint_refuses_python_control_flow_on_traced_values():
    def branchy(x):
        return x if x > 0 else -x

    with pytest.raises(mg.ConcretizationError):
        mg.grad(mg.checkpoint(branchy))(1.0)


def test_checkpoint_and_custom_vjp_take_keyword_arguments():
    layer = mg.checkpoint(lambda x, *, w: mnp.tanh(x * w))
    np.testing.assert_allclose(mg.grad(lambda w: layer(np.ones(2), w=w).sum())(0.0), 2.0)

    @mg.custom_vjp
    def scaled(x, scale=2.0):
        return x * scale

    def scaled_fwd(x, scale):
        return scaled(x, scale), scale

    def scaled_bwd(scale, g):
        return (g * scale * 10, None)  # deliberately not the true derivative

    scaled.defvjp(scaled_fwd, scaled_bwd)
    assert mg.grad(lambda x: scaled(x, scale=3.0))(1.0) == 30.0
    assert mg.grad(lambda x: scaled(x=x))(1.0) == 20.0
    assert scaled(1.0, scale=5.0) == 5.0
    with pytest.raises(TypeError, match="custom_vjp: the call does not fit the signature of scaled"):
        mg.grad(lambda x: scaled(x, y=1.0))(1.0)
