"""Reverse mode of ``cond`` and ``switch`` keeps residuals, as ``scan`` does: the chosen
branch runs once per ``grad`` call, and its backward pass reads what the forward pass
kept; a ``cond`` or ``scan`` nested in a loop body keeps its residuals in the loop.
(Derivatives against plain Python ``if`` under every composition are the ``cond*`` and
``switch*`` cases of ``test_lax_transforms.py``.)"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.core.interpreter
import minigrad.numpy as mnp
from minigrad import lax
from minigrad.lax.conditionals import cond_p
from minigrad.lax.residuals import linearize_branches

X = np.array([0.6, -0.2, 0.9])
XS = np.array([[0.6, -0.2, 0.9], [-0.7, 0.3, -0.4], [1.3, 0.8, -0.1]])


def counted(runs):
    """A cond whose true branch notes each time it runs (at run time, under every transform)."""

    def true_branch(x):
        mg.debug.callback(lambda: runs.append("true"))
        return mnp.tanh(mnp.exp(x) * x)

    def false_branch(x):
        mg.debug.callback(lambda: runs.append("false"))
        return mnp.sin(x) * 2.0

    return lambda x: lax.cond(x.sum() > 0, true_branch, false_branch, x).sum()


@pytest.mark.parametrize("transform", [mg.grad, lambda f: mg.jit(mg.grad(f)), lambda f: mg.value_and_grad(f)])
def test_the_chosen_branch_runs_once_per_grad_call(transform):
    runs = []
    fun = transform(counted(runs))
    fun(X)
    assert runs == ["true"]
    runs.clear()
    fun(-X)
    assert runs == ["false"]


def test_under_vmap_with_a_batched_predicate_each_branch_runs_once_over_the_batch():
    # Both branches run on the whole batch (a callback of no batched value runs once per
    # batch), and not again in the backward pass.
    runs = []
    mg.vmap(mg.grad(counted(runs)))(XS)
    assert sorted(runs) == ["false", "true"]


def _primitive_names(closed):
    names = []
    for eqn in closed.eqns:
        names.append(eqn.primitive.name)
        for branch in eqn.params.get("branches", ()):
            names.extend(e.primitive.name for e in branch.eqns)
    return names


def test_the_backward_branches_do_not_compute_the_forward_values_again():
    closed = mg.make_jaxpr(mg.grad(counted([])))(X)
    conds = [e for e in closed.eqns if e.primitive is cond_p]
    forward, backward = conds
    assert len(forward.outvars) > 1  # the branch's outputs, then its residuals
    assert any(v in backward.invars for v in forward.outvars[1:])  # the backward reads them
    names = _primitive_names(closed)
    assert names.count("exp") == 1 and names.count("tanh") == 1 and names.count("sin") == 1


def test_each_branch_fills_its_own_residual_slots_and_zeros_the_others():
    f64 = [mg.make_jaxpr(lambda x: mnp.tanh(mnp.exp(x)))(X).jaxpr, mg.make_jaxpr(lambda x: x * 2.0)(X).jaxpr]
    split = linearize_branches(tuple(f64))
    (start, stop), (start2, stop2) = split.slots
    assert stop > start and stop2 == start2 == stop  # x * 2.0 keeps nothing
    kept = split.residual_avals()
    assert all(jaxpr.out_avals[1:] == kept for jaxpr in split.forward)
    light_outs = minigrad.core.interpreter.eval_jaxpr(split.forward[1], (), X)
    np.testing.assert_array_equal(light_outs[0], X * 2.0)
    assert all(not slot.any() for slot in light_outs[1:])  # the heavy branch's slots, zeroed


def test_second_order_through_the_kept_residuals_matches_python_if():
    def lax_fun(x):
        return lax.cond(x > 0, lambda x: mnp.exp(mnp.sin(x)) * x, lambda x: x**3, x)

    def python_fun(x):
        return mnp.exp(mnp.sin(x)) * x if x > 0 else x**3

    for x in (0.7, -0.4):
        for order in (mg.grad, lambda f: mg.grad(mg.grad(f)), lambda f: mg.grad(mg.grad(mg.grad(f)))):
            np.testing.assert_allclose(order(lax_fun)(x), order(python_fun)(x), rtol=1e-12)
        np.testing.assert_allclose(
            mg.jit(mg.grad(mg.grad(lax_fun)))(x), mg.grad(mg.grad(python_fun))(x), rtol=1e-12
        )


def test_a_cond_inside_a_loop_body_keeps_its_residuals_in_the_loop():
    # The scan stacks the branch's residuals: each step's branch runs once, not again in
    # the backward scan.
    runs = []

    def step(h, _):
        return counted(runs)(h) * h * 0.5, None

    for transform in (mg.grad, lambda f: mg.jit(mg.grad(f))):
        runs.clear()
        transform(lambda x: lax.scan(step, x, length=4)[0].sum())(X)
        assert len(runs) == 4


def test_a_cond_inside_a_loop_body_differentiates_like_python_if():
    def lax_fun(x):
        def step(h, _):
            return lax.cond(h.sum() > 0, lambda v: mnp.tanh(v) * 1.5, lambda v: v * v - 0.5, h), None

        return lax.scan(step, x, length=5)[0].sum()

    def python_fun(x):
        for _ in range(5):
            x = mnp.tanh(x) * 1.5 if x.sum() > 0 else x * x - 0.5
        return x.sum()

    for x in (X, -X):
        np.testing.assert_allclose(mg.grad(lax_fun)(x), mg.grad(python_fun)(x), rtol=1e-12)
        np.testing.assert_allclose(mg.jit(mg.grad(lax_fun))(x), mg.grad(python_fun)(x), rtol=1e-12)
    hessian_lax = mg.grad(lambda x: (mg.grad(lax_fun)(x) * X).sum())
    hessian_py = mg.grad(lambda x: (mg.grad(python_fun)(x) * X).sum())
    np.testing.assert_allclose(hessian_lax(X), hessian_py(X), rtol=1e-12)
    np.testing.assert_allclose(
        mg.vmap(mg.grad(lax_fun))(XS), np.stack([mg.grad(python_fun)(x) for x in XS]), rtol=1e-12
    )


def test_a_loop_inside_a_loop_body_runs_forward_once():
    runs = []

    def inner_step(c, _):
        mg.debug.callback(lambda: runs.append(1))
        return mnp.sin(c) * 1.2, None

    def outer(x):
        return lax.scan(lambda h, _: (lax.scan(inner_step, h, length=3)[0] + 0.1, None), x, length=4)[0].sum()

    def python_outer(x):
        for _ in range(4):
            for _ in range(3):
                x = mnp.sin(x) * 1.2
            x = x + 0.1
        return x.sum()

    gradient = mg.grad(outer)(X)
    assert len(runs) == 12
    np.testing.assert_allclose(gradient, mg.grad(python_outer)(X), rtol=1e-12)
    np.testing.assert_allclose(mg.jit(mg.grad(outer))(X), mg.grad(python_outer)(X), rtol=1e-12)


def test_a_loop_inside_a_branch_keeps_its_residuals_in_the_cond():
    runs = []

    def inner_step(c, _):
        mg.debug.callback(lambda: runs.append(1))
        return mnp.sin(c) * 1.3, c

    def lax_fun(x):
        return lax.cond(
            x.sum() > 0, lambda x: lax.scan(inner_step, x, length=3)[1].sum(), lambda x: (x**2).sum(), x
        )

    def python_fun(x):
        if x.sum() > 0:
            total = 0.0
            for _ in range(3):
                total, x = total + x.sum(), mnp.sin(x) * 1.3
            return total
        return (x**2).sum()

    np.testing.assert_allclose(mg.grad(lax_fun)(X), mg.grad(python_fun)(X), rtol=1e-12)
    assert len(runs) == 3
    second = [mg.grad(lambda x, f=f: (mg.grad(f)(x) ** 2).sum())(X) for f in (lax_fun, python_fun)]
    np.testing.assert_allclose(*second, rtol=1e-12)
    np.testing.assert_allclose(
        mg.vmap(mg.grad(lax_fun))(XS), np.stack([mg.grad(python_fun)(x) for x in XS]), rtol=1e-12
    )
