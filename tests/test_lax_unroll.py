"""``lax.scan(..., unroll=k)``: the loop runs ``k`` body copies per turn, with a remainder,
and nothing else changes: the same results bit for bit, under every transform, and one
equation in the program. (The compositions against plain Python loops are the
``scan_unrolled`` and ``fori_loop_unrolled`` cases of ``test_lax_transforms.py``.)"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import lax
from minigrad.core.ir import ShapedArray
from minigrad.core.typecheck import typecheck
from minigrad.lax.scan import scan_p
from minigrad.lax.scan_loop import run_scan, step_loop, unrolled_body
from minigrad.lax.subprograms import stage_program

W = np.array([[0.5, -0.3, 0.2], [0.1, 0.4, -0.6], [-0.2, 0.3, 0.1]])
XS = np.random.default_rng(0).standard_normal((7, 3))


def rnn(h, unroll, reverse=False):
    def step(h, x):
        h = mnp.tanh(W @ h + x)
        return h, (h * x).sum()

    return lax.scan(step, h, XS, unroll=unroll, reverse=reverse)


def loss(h, unroll, reverse=False):
    carry, ys = rnn(h, unroll, reverse)
    return (carry**2).sum() + (ys * np.arange(7.0)).sum()


TRANSFORMS = {
    "eager": lambda f: f,
    "jit": mg.jit,
    "grad": mg.grad,
    "jit(grad)": lambda f: mg.jit(mg.grad(f)),
    "grad(grad)": lambda f: mg.grad(lambda h: (mg.grad(f)(h) * W[0]).sum()),
    "jvp": lambda f: lambda h: mg.jvp(f, (h,), (W[1],))[1],
    "vmap(grad)": lambda f: lambda h: mg.vmap(mg.grad(f))(np.stack([h, -h, 2 * h])),
}


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("unroll", [2, 3, 7, 50, True])
@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_unrolling_changes_no_result(transform, unroll, reverse):
    # Every unroll (7 steps: with and without a remainder, all at once, more than the
    # length) computes what unroll=1 does, exactly: the same NumPy calls in the same order.
    h = np.array([0.2, -0.4, 0.9])
    apply = TRANSFORMS[transform]
    expected = apply(lambda h: loss(h, 1, reverse))(h)
    np.testing.assert_array_equal(apply(lambda h: loss(h, unroll, reverse))(h), expected)


def test_the_program_stays_one_equation_holding_the_unroll():
    closed = mg.make_jaxpr(lambda h: rnn(h, 4))(np.zeros(3))
    (eqn,) = [e for e in closed.eqns if e.primitive is scan_p]
    assert eqn.params["unroll"] == 4
    assert len(closed.eqns) == len(mg.make_jaxpr(lambda h: rnn(h, 1))(np.zeros(3)).eqns)
    assert "unroll=4" in str(closed)
    # True means every step; more than the length is the length.
    for unroll in (True, 50):
        closed = mg.make_jaxpr(lambda h, u=unroll: rnn(h, u))(np.zeros(3))
        (eqn,) = [e for e in closed.eqns if e.primitive is scan_p]
        assert eqn.params["unroll"] == 7


def test_every_transform_keeps_the_unroll():
    backward = mg.make_jaxpr(mg.grad(lambda h: loss(h, 3)))(np.zeros(3))
    batched = mg.make_jaxpr(mg.vmap(lambda h: rnn(h, 3)[0]))(np.zeros((2, 3)))
    forward = mg.make_jaxpr(lambda h: mg.jvp(lambda h: loss(h, 3), (h,), (h,)))(np.zeros(3))
    for closed in (backward, batched, forward):
        scans = [e for e in closed.eqns if e.primitive is scan_p]
        assert scans and all(e.params["unroll"] == 3 for e in scans)


def test_the_loop_calls_the_unrolled_body_once_per_turn_and_the_body_for_the_rest():
    calls = []

    def body(c, x):
        calls.append(1)
        return [c + x, c]

    def three_steps(c, x0, x1, x2):
        calls.append(3)
        return [c + x0 + x1 + x2, c, c + x0, c + x0 + x1]

    xs = np.arange(8.0)
    carry, ys = run_scan(body, three_steps, 3, 0, 1, 8, False, [ShapedArray((), np.float64)], 0.0, xs)
    assert calls == [3, 3, 1, 1]  # two turns of three steps, then a remainder of two
    np.testing.assert_array_equal(carry, xs.sum())
    np.testing.assert_array_equal(ys, np.concatenate([[0.0], np.cumsum(xs)[:-1]]))


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize(
    ("num_consts", "num_carry", "x_shapes", "y_shapes"),
    [(1, 1, [(), (2, 3)], [(), (3,)]), (0, 2, [], [(2,)]), (2, 0, [(3,)], []), (0, 0, [()], [])],
)
def test_the_written_out_loop_passes_and_returns_what_the_general_loop_does(
    num_consts, num_carry, x_shapes, y_shapes, reverse
):
    # Same body calls with arguments of the same types (a 1-d xs gives 0-d arrays, not
    # NumPy scalars), same stacks: step_loop replaces run_scan for unroll=1.
    rng = np.random.default_rng(1)
    length = 4
    seen = {"general": [], "written": []}

    def body_for(name):
        def body(*args):
            seen[name].append([(type(a), np.shape(a), np.asarray(a).tolist()) for a in args])
            carry = args[num_consts : num_consts + num_carry]
            total = sum((np.sum(a) for a in args), 0.5)
            new_carry = [c * 0.5 + total for c in carry]
            return [*new_carry, *(np.full(shape, total) for shape in y_shapes)]

        return body

    args = [rng.standard_normal(3) for _ in range(num_consts)]
    args += [rng.standard_normal(2) for _ in range(num_carry)]
    args += [rng.standard_normal((length, *shape)) for shape in x_shapes]
    y_avals = [ShapedArray(shape, np.float64) for shape in y_shapes]
    general = run_scan(body_for("general"), None, 1, num_consts, num_carry, length, reverse, y_avals, *args)
    order = range(length - 1, -1, -1) if reverse else range(length)
    loop = step_loop(num_consts, num_carry, tuple(len(shape) == 0 for shape in x_shapes), len(y_shapes))
    written = loop(body_for("written"), order, tuple(y_avals), *args)
    assert seen["written"] == seen["general"] and len(seen["general"]) == length
    assert len(written) == len(general) == num_carry + len(y_shapes)
    for ours, theirs in zip(written, general, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_the_unrolled_body_holds_k_copies_of_the_body():
    f64 = ShapedArray((), np.float64)
    body = stage_program(lambda c, x: [mnp.sin(c) * x, c], [f64, f64]).jaxpr
    program = unrolled_body(body, 0, 1, 4)
    assert len(program.eqns) == 4 * len(body.eqns)
    assert len(program.invars) == 1 + 4 and len(program.outvars) == 1 + 4
    typecheck(program)


def test_effects_in_an_unrolled_body_run_once_per_step_in_order():
    seen = []

    def step(c, x):
        mg.debug.callback(lambda: seen.append("step"))
        mg.debug.callback(lambda v: seen.append(float(v)), x)
        return c + x, None

    for fun in (
        lambda xs: lax.scan(step, 0.0, xs, unroll=3)[0],
        mg.jit(lambda xs: lax.scan(step, 0.0, xs, unroll=3)[0]),
    ):
        seen.clear()
        fun(np.arange(4.0))
        assert seen == ["step", 0.0, "step", 1.0, "step", 2.0, "step", 3.0]


def test_fori_loop_takes_unroll_with_concrete_bounds_only():
    body = lambda i, v: mnp.sin(v) * 1.1 + i  # noqa: E731
    np.testing.assert_array_equal(lax.fori_loop(0, 10, body, 0.3, unroll=4), lax.fori_loop(0, 10, body, 0.3))
    with pytest.raises(ValueError, match="fori_loop: unroll needs bounds known when tracing"):
        mg.jit(lambda n: lax.fori_loop(0, n, body, 0.3, unroll=2))(5)


@pytest.mark.parametrize("unroll", [0, -1, 1.5, "2"])
def test_a_bad_unroll_is_a_type_error_naming_scan(unroll):
    with pytest.raises(TypeError, match=r"scan: unroll must be a positive int"):
        rnn(np.zeros(3), unroll)
