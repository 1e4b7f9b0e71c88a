"""``jit``'s rewrite of scan bodies (``lax/scan_sink.py``): work that only makes ``ys`` runs
after the loop, batched over the steps, and the program computes what the loop as
written computes (values against an unrolled Python loop, gradients against finite
differences)."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import lax
from minigrad.ops.linalg import matmul_p
from tests.test_scan_hoist import optimized_scans

RNG = np.random.default_rng(7)


def cell(params, h, x):
    w, v = params
    h = mnp.tanh(h @ w + x)
    return h, (h, mnp.sin(h @ v) * 2.0)  # the read-out: read by nothing in the loop


def readout(params, xs, reverse=False, unroll=1):
    return lax.scan(
        lambda h, x: cell(params, h, x), mnp.zeros((xs.shape[1], 3)), xs, reverse=reverse, unroll=unroll
    )


def unrolled(params, xs, reverse=False):
    h, hs, outs = mnp.zeros((xs.shape[1], 3)), [None] * len(xs), [None] * len(xs)
    for i in reversed(range(len(xs))) if reverse else range(len(xs)):
        h, (hs[i], outs[i]) = cell(params, h, xs[i])
    return h, (mnp.stack(hs), mnp.stack(outs))


def make_params():
    return 0.5 * RNG.standard_normal((3, 3)), RNG.standard_normal((3, 4))


def body_primitives(scan):
    return [e.primitive.name for e in scan.params["jaxpr"].eqns]


def test_the_read_out_leaves_the_loop():
    params, xs = make_params(), RNG.standard_normal((6, 2, 3))
    (scan,), program = optimized_scans(readout, params, xs)
    assert body_primitives(scan) == ["matmul", "add", "tanh"]
    after = [e.primitive.name for e in program.jaxpr.eqns[program.jaxpr.eqns.index(scan) :]]
    assert after[0] == "scan" and {"matmul", "sin", "mul"} <= set(after[1:])
    assert len(scan.outvars) == 2  # the carry and the stack of h the product reads


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("unroll", [1, 4])
def test_values_match_an_unrolled_loop(reverse, unroll):
    params, xs = make_params(), RNG.standard_normal((6, 2, 3))
    got = mg.jit(readout, static_argnums=(2, 3))(params, xs, reverse, unroll)
    want = unrolled(params, xs, reverse)
    for g, w in zip(mg.tree.tree_leaves(got), mg.tree.tree_leaves(want), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)


def test_gradients_match_finite_differences():
    params, xs = make_params(), RNG.standard_normal((5, 2, 3))
    weights = RNG.standard_normal((5, 2, 4))

    def loss(params, xs):
        h, (hs, outs) = readout(params, xs)
        return mnp.sum(h**2) + mnp.sum(outs * weights) + mnp.sum(hs[::2])

    grads = mg.jit(mg.grad(loss, argnums=(0, 1)))(params, xs)
    leaves, treedef = mg.tree.tree_flatten((params, xs))
    flat_grads = mg.tree.tree_leaves(grads)
    eps = 1e-6
    for index, leaf in enumerate(leaves):
        for position in [(0,) * leaf.ndim, tuple(s - 1 for s in leaf.shape)]:
            bumped = [np.array(x, copy=True) for x in leaves]
            bumped[index][position] += eps
            up = loss(*mg.tree.tree_unflatten(treedef, bumped))
            bumped[index][position] -= 2 * eps
            down = loss(*mg.tree.tree_unflatten(treedef, bumped))
            np.testing.assert_allclose(
                flat_grads[index][position], (up - down) / (2 * eps), rtol=1e-6, atol=1e-8
            )


def test_the_backward_product_of_the_input_cotangent_runs_after_the_loop():
    # A GRU-like cell: its reverse scan's d_gates @ transpose(wi) feeds only the xs'
    # cotangent, and d_gates is stacked for wi's gradient: the product leaves the loop.
    wi, wh = 0.5 * RNG.standard_normal((4, 6)), 0.5 * RNG.standard_normal((3, 6))
    xs = RNG.standard_normal((7, 2, 4))

    def loss(wi, wh, xs):
        def step(h, x):
            gates = x @ wi + h @ wh
            h = (1.0 - mnp.tanh(gates[:, :3])) * h + mnp.sin(gates[:, 3:])
            return h, h

        return mnp.sum(lax.scan(step, mnp.zeros((2, 3)), xs)[1] ** 2)

    grad = mg.grad(loss, argnums=(0, 1, 2))
    scans, _ = optimized_scans(grad, wi, wh, xs)
    backward = scans[-1]
    assert body_primitives(backward).count("matmul") == 1  # only the carry's product stays
    for g, w in zip(mg.jit(grad)(wi, wh, xs), grad(wi, wh, xs), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-12)


def test_work_reading_an_unstacked_value_stays():
    w, v = make_params()
    xs = RNG.standard_normal((4, 2, 3))

    def fun(w, v, xs):
        def step(h, x):
            pre = h @ w + x  # made in the step and not stacked
            return mnp.tanh(pre), pre @ v

        return lax.scan(step, mnp.zeros((2, 3)), xs)

    (scan,), _ = optimized_scans(fun, w, v, xs)
    assert [e.primitive for e in scan.params["jaxpr"].eqns].count(matmul_p) == 2
    for g, want in zip(
        mg.tree.tree_leaves(mg.jit(fun)(w, v, xs)), mg.tree.tree_leaves(fun(w, v, xs)), strict=True
    ):
        np.testing.assert_allclose(g, want, rtol=1e-13)


def test_an_effect_stays_in_the_loop_once_per_step():
    seen = []
    w, v = make_params()
    xs = RNG.standard_normal((3, 2, 3))

    def fun(w, v, xs):
        def step(h, x):
            h = mnp.tanh(h @ w + x)
            out = h @ v
            mg.debug.callback(lambda o: seen.append(np.asarray(o).copy()), out)
            return h, (h, out)

        return lax.scan(step, mnp.zeros((2, 3)), xs)

    _, (hs, outs) = mg.jit(fun)(w, v, xs)
    assert len(seen) == 3
    np.testing.assert_allclose(np.stack(seen), outs, rtol=1e-13)


def gated(w, xs, reverse=False):
    # Both halves of the gates feed the carry and are kept for the backward pass: under
    # grad the loop would stack the gates and each half again.
    def step(h, x):
        gates = mnp.tanh(h @ w + x)
        z, r = gates[:, :3], gates[:, 3:]
        return z * h + r, (z, gates, gates.T[1:])

    return lax.scan(step, mnp.ones((2, 3)), xs, reverse=reverse)


def test_stacked_views_of_a_stack_are_taken_after_the_loop():
    w, xs = 0.5 * RNG.standard_normal((3, 6)), RNG.standard_normal((5, 2, 6))
    (scan,), program = optimized_scans(gated, w, xs)
    body = scan.params["jaxpr"]
    views = [e for e in body.eqns if e.primitive.name in ("gather", "transpose")]
    assert not {v for e in views for v in e.outvars} & set(body.outvars)  # no view stacked
    assert len(scan.outvars) == 2  # the carry and the stack of gates the views are taken from
    assert {e.primitive.name for e in program.jaxpr.eqns} >= {"gather", "transpose"}
    got = mg.jit(gated)(w, xs)
    for g, want in zip(mg.tree.tree_leaves(got), mg.tree.tree_leaves(gated(w, xs)), strict=True):
        np.testing.assert_allclose(g, want, rtol=1e-13)


@pytest.mark.parametrize("reverse", [False, True])
def test_gradients_through_stacked_views_match_finite_differences(reverse):
    w, xs = 0.5 * RNG.standard_normal((3, 6)), RNG.standard_normal((4, 2, 6))
    weights = RNG.standard_normal((4, 2, 3))

    def loss(w, xs):
        h, (zs, _, rows) = gated(w, xs, reverse)
        return mnp.sum(h**2) + mnp.sum(zs * weights) + mnp.sum(mnp.sin(rows))

    grad = mg.grad(loss, argnums=(0, 1))
    scans, _ = optimized_scans(grad, w, xs)
    body = scans[0].params["jaxpr"]
    views = {v for e in body.eqns if e.primitive.name in ("gather", "transpose") for v in e.outvars}
    assert views and not views & set(body.outvars)  # z, kept for z * h's gradient, included
    got = mg.jit(grad)(w, xs)
    for index, arg in enumerate((w, xs)):
        for position in [(0,) * arg.ndim, tuple(s - 1 for s in arg.shape)]:
            up, down = [np.array(a, copy=True) for a in (w, xs)], [np.array(a, copy=True) for a in (w, xs)]
            up[index][position] += 1e-6
            down[index][position] -= 1e-6
            numeric = (loss(*up) - loss(*down)) / 2e-6
            np.testing.assert_allclose(got[index][position], numeric, rtol=1e-6, atol=1e-8)
