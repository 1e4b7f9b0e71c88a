"""``jit``'s rewrite of scans that stack both the carry each step reads and the one it
makes (``lax/scan_carry_stacks.py``): the loop stacks the outgoing carries only, the
incoming ones are that stack shifted by one step after it, and the program computes
what the loop as written computes (values against eager, gradients against finite
differences)."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import lax
from tests.test_scan_hoist import optimized_scans

RNG = np.random.default_rng(11)


def states(w, xs, reverse=False, unroll=1):
    def step(h, x):
        new = mnp.tanh(h @ w + x)
        return new, (h, new, h * 2.0)

    return lax.scan(step, mnp.full((2, 3), 0.5), xs, reverse=reverse, unroll=unroll)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("unroll", [1, 3])
def test_the_incoming_carries_are_the_outgoing_ones_shifted(reverse, unroll):
    w, xs = 0.5 * RNG.standard_normal((3, 3)), RNG.standard_normal((5, 2, 3))
    (scan,), program = optimized_scans(lambda w, xs: states(w, xs, reverse, unroll), w, xs)
    body = scan.params["jaxpr"]
    assert body.invars[scan.params["num_consts"]] not in body.outvars  # the incoming carry: not stacked
    assert "concatenate" in [e.primitive.name for e in program.jaxpr.eqns]
    got = mg.jit(states, static_argnums=(2, 3))(w, xs, reverse, unroll)
    h = np.full((2, 3), 0.5)
    want_in, want_out = [None] * 5, [None] * 5
    for t in reversed(range(5)) if reverse else range(5):
        want_in[t] = h
        h = np.tanh(h @ w + xs[t])
        want_out[t] = h
    final, (incoming, outgoing, doubled) = got
    np.testing.assert_array_equal(incoming, np.stack(want_in))
    np.testing.assert_array_equal(doubled, 2.0 * np.stack(want_in))
    np.testing.assert_allclose(outgoing, np.stack(want_out), rtol=1e-13)
    np.testing.assert_allclose(final, h, rtol=1e-13)


@pytest.mark.parametrize("reverse", [False, True])
def test_gradients_of_a_gated_loop_match_finite_differences(reverse):
    # z * h: reverse mode keeps the carry each step read; the ys hold the ones made.
    wz, wh = 0.5 * RNG.standard_normal((3, 3)), 0.5 * RNG.standard_normal((3, 3))
    xs = RNG.standard_normal((4, 2, 3))
    weights = RNG.standard_normal((4, 2, 3))

    def loss(wz, wh, xs):
        def step(h, x):
            z = mnp.sin(h @ wz + x)
            new = z * h + mnp.tanh(h @ wh)
            return new, new

        final, hs = lax.scan(step, mnp.ones((2, 3)), xs, reverse=reverse)
        return mnp.sum(final**2) + mnp.sum(hs * weights)

    grad = mg.grad(loss, argnums=(0, 1, 2))
    scans, _ = optimized_scans(grad, wz, wh, xs)
    forward = scans[0].params["jaxpr"]
    assert forward.invars[scans[0].params["num_consts"]] not in forward.outvars
    got = mg.jit(grad)(wz, wh, xs)
    args = (wz, wh, xs)
    for index, arg in enumerate(args):
        for position in [(0,) * arg.ndim, tuple(s - 1 for s in arg.shape)]:
            up, down = [np.array(a, copy=True) for a in args], [np.array(a, copy=True) for a in args]
            up[index][position] += 1e-6
            down[index][position] -= 1e-6
            numeric = (loss(*up) - loss(*down)) / 2e-6
            np.testing.assert_allclose(got[index][position], numeric, rtol=1e-6, atol=1e-8)


def test_a_carry_passed_through_unchanged_is_left_alone():
    xs = RNG.standard_normal((3, 2))

    def fun(xs):
        return lax.scan(lambda c, x: (c, (c, c + x)), mnp.ones(2), xs)

    got = mg.jit(fun)(xs)
    for g, want in zip(mg.tree.tree_leaves(got), mg.tree.tree_leaves(fun(xs)), strict=True):
        np.testing.assert_array_equal(g, want)


def test_a_single_step_is_left_alone():
    w, xs = 0.5 * RNG.standard_normal((3, 3)), RNG.standard_normal((1, 2, 3))
    (scan,), _ = optimized_scans(states, w, xs)
    body = scan.params["jaxpr"]
    assert body.invars[scan.params["num_consts"]] in body.outvars
