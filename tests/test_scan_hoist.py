"""``jit``'s rewrite of scans that accumulate sums (``lax/scan_hoist.py``): a carry the body
only adds to leaves the loop when its contributions hold a matrix product, and results
agree with the loop's (and a plain Python loop's) to rounding; every other loop is left
as it is."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import lax
from minigrad.core.interpreter import eval_jaxpr
from minigrad.lax.scan import scan_p
from minigrad.transforms.jit.passes import optimize

RNG = np.random.default_rng(0)


def optimized_scans(fun, *args):
    """The scan equations of ``fun``'s program after jit's passes, and that program."""
    program = optimize(mg.make_jaxpr(fun)(*args))
    return [eqn for eqn in program.jaxpr.eqns if eqn.primitive is scan_p], program


def run_optimized(fun, *args):
    _, program = optimized_scans(fun, *args)
    return eval_jaxpr(program.jaxpr, program.consts, *mg.tree.tree_leaves(args))


def rnn_loss(params, xs):
    wx, wh, b = params

    def cell(h, x):
        return mnp.tanh(x @ wx + h @ wh + b), None

    h, _ = lax.scan(cell, mnp.zeros((xs.shape[1], wh.shape[0])), xs)
    return 0.5 * mnp.sum(h * h)


def numpy_rnn_grads(params, xs):
    wx, wh, b = params
    hs = [np.zeros((xs.shape[1], wh.shape[0]))]
    for x in xs:
        hs.append(np.tanh(x @ wx + hs[-1] @ wh + b))
    d_wx, d_wh, d_b, d_h = np.zeros_like(wx), np.zeros_like(wh), np.zeros_like(b), hs[-1]
    for t in range(len(xs) - 1, -1, -1):
        d_z = d_h * (1.0 - hs[t + 1] ** 2)
        d_wx, d_wh, d_b = d_wx + xs[t].T @ d_z, d_wh + hs[t].T @ d_z, d_b + d_z.sum(axis=0)
        d_h = d_z @ wh.T
    return d_wx, d_wh, d_b


def rnn_case(steps=6, batch=3, inputs=4, hidden=5):
    params = (
        0.5 * RNG.standard_normal((inputs, hidden)),
        0.5 * RNG.standard_normal((hidden, hidden)),
        0.1 * RNG.standard_normal(hidden),
    )
    return params, RNG.standard_normal((steps, batch, inputs))


def test_the_weight_gradients_of_an_rnn_leave_the_backward_loop():
    params, xs = rnn_case()
    scans, _ = optimized_scans(mg.grad(rnn_loss), params, xs)
    forward, backward = scans
    # The backward loop carried the hidden state's cotangent and three gradients; the
    # gradients are now summed after it, and it carries the hidden state's alone.
    assert backward.params["reverse"] and backward.params["num_carry"] == 1
    assert forward.params["num_carry"] == 1
    for got, want in zip(
        run_optimized(mg.grad(rnn_loss), params, xs), numpy_rnn_grads(params, xs), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("unroll", [1, 2, 4])
def test_jitted_rnn_gradients_match_a_python_loop(unroll):
    params, xs = rnn_case(steps=7)

    def loss(params, xs):
        wx, wh, b = params

        def cell(h, x):
            return mnp.tanh(x @ wx + h @ wh + b), None

        h, _ = lax.scan(cell, mnp.zeros((xs.shape[1], wh.shape[0])), xs, unroll=unroll)
        return 0.5 * mnp.sum(h * h)

    for got, want in zip(mg.jit(mg.grad(loss))(params, xs), numpy_rnn_grads(params, xs), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@settings(max_examples=25, deadline=None)
@given(
    steps=st.integers(2, 6),
    rows=st.integers(1, 3),
    inner=st.integers(1, 4),
    cols=st.integers(1, 3),
    reverse=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_a_forward_accumulation_of_products_matches_a_python_loop(steps, rows, inner, cols, reverse, dtype):
    w = RNG.standard_normal((inner, cols)).astype(dtype)
    xs = RNG.standard_normal((steps, rows, inner)).astype(dtype)

    def total(w, xs):
        def step(carry, x):
            acc, count = carry
            return (acc + x @ w, count + 1.0), mnp.sum(x)

        return lax.scan(step, (mnp.zeros((rows, cols), dtype), mnp.zeros((), dtype)), xs, reverse=reverse)

    scans, _ = optimized_scans(total, w, xs)
    # The product leaves the loop; the count (a sum without a product) stays in it.
    assert [eqn.params["num_carry"] for eqn in scans] == [1]
    (acc, count), sums = mg.jit(total)(w, xs)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(acc, sum(x @ w for x in xs), rtol=tolerance, atol=tolerance)
    assert acc.dtype == dtype and count == steps
    np.testing.assert_allclose(sums, xs.sum(axis=(1, 2)), rtol=tolerance, atol=tolerance)


def test_a_contribution_read_from_another_carry_is_stacked_per_step():
    w = RNG.standard_normal((3, 3))
    xs = RNG.standard_normal((5, 2, 3))

    def f(w, xs):
        def step(carry, x):
            h, acc = carry
            return (mnp.tanh(h @ w + x), acc + h.T @ x), None

        return lax.scan(step, (mnp.ones((2, 3)), mnp.zeros((3, 3))), xs)[0]

    scans, _ = optimized_scans(f, w, xs)
    assert scans[0].params["num_carry"] == 1
    h, acc, expected = np.ones((2, 3)), np.zeros((3, 3)), None
    for x in xs:
        h, acc = np.tanh(h @ w + x), acc + h.T @ x
    expected = (h, acc)
    for got, want in zip(mg.jit(f)(w, xs), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


LEFT_ALONE = {
    # the sum holds no product and reads the carry: moving it out would not pay
    "no product": lambda w, x, acc, h: (acc + h * x, h),
    # the carry is read besides being added to
    "carry read elsewhere": lambda w, x, acc, h: (acc + x @ w, h + mnp.sum(acc)),
    # the contribution is scaled by the carry: not a sum of per-step terms
    "not a sum": lambda w, x, acc, h: (acc * (x @ w), h),
    # the new carry is also what the step returns
    "carry also returned": None,
}


@pytest.mark.parametrize("case", sorted(LEFT_ALONE))
def test_loops_that_do_not_only_accumulate_products_are_left_alone(case):
    w = RNG.standard_normal((3, 3))
    xs = RNG.standard_normal((4, 3, 3))
    update = LEFT_ALONE[case]

    def f(w, xs):
        def step(carry, x):
            acc, h = carry
            if update is None:
                new = acc + x @ w
                return (new, h), new
            return update(w, x, acc, h), None

        return lax.scan(step, (mnp.ones((3, 3)), mnp.zeros(())), xs)

    scans, _ = optimized_scans(f, w, xs)
    assert scans[0].params["num_carry"] == 2
    expected = f(w, xs)
    for got, want in zip(mg.tree.tree_leaves(mg.jit(f)(w, xs)), mg.tree.tree_leaves(expected), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_a_loop_whose_stacks_would_grow_too_much_keeps_its_sums():
    # Each step's contribution is made from a (1, 4096) x (4096, 2048) product: stacking
    # the 4096 x 2048 per-step factor over 300 steps (20 GB) is refused.
    def f(big, xs):
        def step(acc, x):
            return acc + (x * big) @ mnp.ones((2048, 1)), None

        return lax.scan(step, mnp.zeros((4096, 1)), xs)[0]

    scans, _ = optimized_scans(f, np.ones((4096, 2048)), np.ones((300, 1, 2048)))
    assert scans[0].params["num_carry"] == 1


def test_an_effect_in_a_contribution_keeps_the_loop_and_runs_every_step():
    seen = []
    w = RNG.standard_normal((2, 2))
    xs = RNG.standard_normal((3, 2, 2))

    def f(w, xs):
        def step(acc, x):
            product = x @ w
            mg.debug.callback(lambda v: seen.append(np.asarray(v).copy()), product)
            return acc + product, None

        return lax.scan(step, mnp.zeros((2, 2)), xs)[0]

    got = mg.jit(f)(w, xs)
    np.testing.assert_allclose(got, sum(x @ w for x in xs), rtol=1e-12)
    assert len(seen) == 3


def test_a_loop_left_with_no_results_still_runs_its_effects():
    # Every carry leaves the loop, which keeps only a callback: it still runs each step.
    seen = []
    w, xs = np.ones((3, 2)), np.arange(12.0).reshape(4, 3)

    def f(w, xs):
        def step(acc, x):
            mg.debug.callback(lambda v: seen.append(float(np.sum(v))), x)
            return acc + x @ w, None

        return lax.scan(step, mnp.zeros(2), xs)[0]

    np.testing.assert_array_equal(mg.jit(f)(w, xs), [66.0, 66.0])
    assert seen == [3.0, 12.0, 21.0, 30.0]


def test_a_loop_whose_results_are_unused_still_runs_its_effects():
    seen = []

    def f(w, xs):
        def step(carry, x):
            mg.debug.callback(lambda v: seen.append(float(v)), x)
            return carry, None

        lax.scan(step, mnp.zeros(()), xs)
        return w * 2.0

    jitted = mg.jit(f)
    jitted(1.0, np.arange(3.0))
    jitted(1.0, np.arange(3.0) + 10)
    assert seen == [0.0, 1.0, 2.0, 10.0, 11.0, 12.0]


def test_a_sum_of_the_xs_themselves_becomes_one_reduction():
    xs = RNG.standard_normal((5, 3))

    def f(xs):
        return lax.scan(lambda acc, x: (acc + mnp.sin(x), None), mnp.zeros(3), xs)[0]

    scans, _ = optimized_scans(f, xs)
    assert scans == []
    np.testing.assert_allclose(mg.jit(f)(xs), np.sin(xs).sum(axis=0), rtol=1e-12)
