"""``jit``'s rewrite of scan bodies (``lax/scan_invariants.py``): work that reads no carry runs
before the loop, once (constants only) or batched over the steps (``xs``), and the loop
computes what it computed before."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import lax
from minigrad.lax.scan import scan_p
from minigrad.ops.linalg import matmul_p
from minigrad.ops.shape import transpose_p
from tests.test_scan_hoist import optimized_scans

RNG = np.random.default_rng(1)


def gru_like(params, xs, reverse=False, unroll=1):
    wi, wh, b = params

    def step(h, x):
        projected = x @ wi + b  # reads no carry: one product over all steps, before the loop
        gate = mnp.tanh(projected[:, :3] + h @ wh[:, :3])
        candidate = mnp.sin(projected[:, 3:] + (gate * h) @ wh[:, 3:])
        h = (1.0 - gate) * h + gate * candidate
        return h, mnp.sum(h * h, axis=1)

    return lax.scan(step, mnp.zeros((xs.shape[1], 3), xs.dtype), xs, reverse=reverse, unroll=unroll)


def gru_params():
    return 0.5 * RNG.standard_normal((4, 6)), 0.5 * RNG.standard_normal((3, 6)), 0.1 * RNG.standard_normal(6)


def body_primitives(eqn):
    return [e.primitive for e in eqn.params["jaxpr"].eqns]


def test_the_input_projection_leaves_the_loop():
    params, xs = gru_params(), RNG.standard_normal((5, 2, 4))
    (scan,), _ = optimized_scans(gru_like, params, xs)
    # The two products of the carry stay; the product of x is made before the loop.
    assert body_primitives(scan).count(matmul_p) == 2
    body = scan.params["jaxpr"]
    assert all(var.aval.shape != (2, 4) for var in body.invars), "the raw xs are no longer read"


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("unroll", [1, 3])
@pytest.mark.parametrize(
    "transform",
    ["jit", "jit(grad)", "jit(vmap)", "jit(jvp)"],
)
def test_results_match_the_loop_as_written(transform, reverse, unroll):
    params, xs = gru_params(), RNG.standard_normal((5, 2, 4))

    def loss(params, xs):
        h, ys = gru_like(params, xs, reverse, unroll)
        return mnp.sum(h**2) + mnp.sum(ys * mnp.arange(5.0)[:, None])

    if transform == "jit":
        got, want = mg.jit(loss)(params, xs), loss(params, xs)
    elif transform == "jit(grad)":
        got, want = mg.jit(mg.grad(loss))(params, xs), mg.grad(loss)(params, xs)
    elif transform == "jit(vmap)":
        batch = np.stack([xs, 2 * xs, -xs])
        got = mg.jit(mg.vmap(loss, in_axes=(None, 0)))(params, batch)
        want = mg.vmap(loss, in_axes=(None, 0))(params, batch)
    else:
        tangent = RNG.standard_normal(xs.shape)
        got = mg.jit(lambda xs, t: mg.jvp(lambda v: loss(params, v), (xs,), (t,)))(xs, tangent)
        want = mg.jvp(lambda v: loss(params, v), (xs,), (tangent,))
    for g, w in zip(mg.tree.tree_leaves(got), mg.tree.tree_leaves(want), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)


def test_work_on_constants_alone_runs_once():
    w = RNG.standard_normal((3, 3))
    xs = RNG.standard_normal((6, 3))

    def f(w, xs):
        return lax.scan(lambda h, x: (mnp.tanh(h @ w.T + x), None), mnp.zeros(3), xs)[0]

    (scan,), _ = optimized_scans(f, w, xs)
    assert transpose_p not in body_primitives(scan)
    h = np.zeros(3)
    for x in xs:
        h = np.tanh(h @ w.T + x)
    np.testing.assert_allclose(mg.jit(f)(w, xs), h, rtol=1e-13)


def test_an_effect_on_the_xs_stays_in_the_loop_and_runs_every_step_in_order():
    seen = []
    xs = np.arange(4.0)

    def f(xs):
        def step(c, x):
            mg.debug.callback(lambda v: seen.append(float(v)), x * 2.0)
            return c + x * c, None

        return lax.scan(step, 1.0, xs)[0]

    assert float(mg.jit(f)(xs)) == 1.0 * 1 * 2 * 3 * 4
    assert seen == [0.0, 2.0, 4.0, 6.0]


def test_work_whose_stacks_would_grow_too_much_stays_in_the_loop():
    # Each step makes a 2048 x 2048 outer product of its x (32 MiB): 300 of them are refused.
    def f(xs):
        def step(c, x):
            return c + mnp.sum(mnp.tanh(mnp.outer(x, x)) @ c), None

        return lax.scan(step, mnp.ones(2048), xs)[0]

    (scan,), _ = optimized_scans(f, np.ones((300, 2048)))
    assert any(e.primitive.name == "tanh" for e in scan.params["jaxpr"].eqns)


@settings(max_examples=20, deadline=None)
@given(
    steps=st.integers(1, 5),
    batch=st.integers(1, 3),
    dtype=st.sampled_from([np.float32, np.float64]),
    reverse=st.booleans(),
)
def test_drawn_loops_agree_with_a_python_loop(steps, batch, dtype, reverse):
    wi, wh, b = (p.astype(dtype) for p in gru_params())
    xs = RNG.standard_normal((steps, batch, 4)).astype(dtype)
    h, ys = mg.jit(lambda p, xs: gru_like(p, xs, reverse))((wi, wh, b), xs)
    expected_h, expected_ys = np.zeros((batch, 3), dtype), []
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:
        projected = xs[t] @ wi + b
        gate = np.tanh(projected[:, :3] + expected_h @ wh[:, :3])
        candidate = np.sin(projected[:, 3:] + (gate * expected_h) @ wh[:, 3:])
        expected_h = (1.0 - gate) * expected_h + gate * candidate
        expected_ys.append((t, np.sum(expected_h * expected_h, axis=1)))
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    assert h.dtype == dtype and ys.dtype == dtype
    np.testing.assert_allclose(h, expected_h, rtol=tolerance, atol=tolerance)
    for t, y in expected_ys:
        np.testing.assert_allclose(ys[t], y, rtol=tolerance, atol=tolerance)


def test_a_scan_that_only_reads_its_xs_leaves_no_loop_work_behind():
    xs = RNG.standard_normal((4, 3))

    def f(xs):
        return lax.scan(lambda c, x: (c, mnp.exp(x) * 2.0), 0.0, xs)[1]

    scans, _ = optimized_scans(f, xs)
    assert all(not e.params["jaxpr"].eqns for e in scans if e.primitive is scan_p)
    np.testing.assert_allclose(mg.jit(f)(xs), np.exp(xs) * 2.0, rtol=1e-13)
