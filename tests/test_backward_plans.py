"""Backward plans (transforms/backward_plans.py): once a differentiated function's
recording repeats, its backward pass runs as compiled code. The gradients must be the
walk's to the last bit, for new values too; user code in backward passes still runs on
every call; values are still dropped after their last use; errors still name the user's line."""

import inspect
import linecache
import pickle
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.primitive import Primitive
from minigrad.core.recording import STRUCTURE_LIMIT
from minigrad.core.trace import bind
from minigrad.ops.elementwise import mul
from minigrad.transforms import backward_plans
from tests.op_specs import OP_SPECS, op_args
from tests.transform_specs import split_arrays


def _same_bits(first, second):
    first, second = mg.tree_util.tree_leaves(first), mg.tree_util.tree_leaves(second)
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        assert type(a) is type(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("spec", OP_SPECS, ids=lambda s: s.name)
def test_planned_gradients_equal_the_walks_bit_for_bit(spec):
    @settings(max_examples=2, deadline=None)
    @given(op_args(spec))
    def check(args):
        fun, arrays = split_arrays(spec, args)
        # New values of the same shapes, in the operation's domain (1% changes keep signs,
        # bounds and the order of distinct elements).
        moved = [a * (1 + 0.01 * np.cos(np.arange(a.size) + 1.0).reshape(a.shape)) for a in arrays]
        weights = np.sin(np.arange(np.size(fun(*arrays))) + 2.0).reshape(np.shape(fun(*arrays)))

        def scalar(*xs):
            return mnp.sum(fun(*xs) * weights)

        argnums = tuple(range(len(arrays)))
        planned = mg.grad(scalar, argnums=argnums)
        backward_plans.PLANS.clear()
        first = planned(*arrays)  # walked
        second = planned(*arrays)  # staged, then planned
        on_moved = planned(*moved)  # planned, on new values
        again = planned(*arrays)
        backward_plans.PLANS.clear()
        _same_bits(on_moved, planned(*moved))  # walked
        _same_bits(first, second)
        _same_bits(again, first)

    check()


def _counting_primitive():
    """``double(x) = 2x`` whose VJP rule counts its calls."""
    double_p = Primitive("double_for_plans", register=False)
    double_p.def_impl(lambda x: 2.0 * x)
    double_p.def_shape_rule(lambda aval: aval)
    calls = []

    def double_vjp(g, ans, x):
        calls.append(1)
        return mul(g, 2.0)

    double_p.def_vjp(double_vjp)
    return double_p, calls


def test_the_rules_run_twice_then_the_plan_runs_alone():
    double_p, calls = _counting_primitive()

    def loss(x):
        return mnp.sum(mnp.sin(bind(double_p, x)))

    x = np.linspace(0.0, 1.0, 4)
    expected = 2.0 * np.cos(2.0 * x)
    for _ in range(6):
        # A new function each step, as in `mg.grad(loss)(params)` in a training loop.
        np.testing.assert_allclose(mg.grad(loss)(x), expected, rtol=1e-15)
    # The walk of the first call, the staging of the second; the rest are the plan's.
    assert len(calls) == 2


def test_the_least_recently_seen_structures_are_forgotten():
    double_p, calls = _counting_primitive()
    df = mg.grad(lambda x: mnp.sum(bind(double_p, x)))
    hot, cold = np.ones(1), np.ones(2)
    for _ in range(3):
        df(hot), df(cold)
    assert len(calls) == 4
    for size in range(3, backward_plans.MAX_PLANS + 3):  # other structures, seen once each
        df(np.ones(size))
        df(hot)  # seen again and again: kept
    calls.clear()
    df(hot)
    assert not calls
    df(cold)  # forgotten: noted afresh and walked
    df(cold)  # staged afresh
    df(cold)
    assert len(calls) == 2


def test_degenerate_eigenvalues_keep_the_walks_gradient():
    # eigh's rule skips the terms of an eigenvector cotangent that is all zeros, a test
    # of values that a plan could not make: recordings with eigh are always walked.
    def loss(a, scale):
        w, v = mnp.linalg.eigh(a)
        return mnp.sum(w) + scale * mnp.sum(v)

    df = mg.grad(loss)
    a = np.diag([2.0, 2.0, 5.0])
    for _ in range(3):
        np.testing.assert_array_equal(df(a, 0.0), np.eye(3))


def test_each_path_of_python_control_flow_has_its_plan():
    def f(x):
        return mnp.sum(mnp.sin(x)) if mnp.sum(x) > 0 else mnp.sum(x**3)

    df = mg.grad(f)
    for _ in range(3):
        for x in (np.array([1.0, 2.0]), np.array([-1.0, -2.0]), np.array([0.5, 0.25, 0.125])):
            expected = np.cos(x) if x.sum() > 0 else 3 * x**2
            np.testing.assert_allclose(df(x), expected, rtol=1e-14)


def test_user_code_in_a_backward_pass_runs_on_every_call():
    seen = []

    @mg.custom_vjp
    def noted(x):
        return x

    def fwd(x):
        return x, None

    def bwd(_, g):
        seen.append(1)
        return (g,)

    noted.defvjp(fwd, bwd)
    df = mg.grad(lambda x: mnp.sum(mnp.sin(noted(x))))
    for _ in range(4):
        df(np.ones(3))
    assert len(seen) == 4


def test_changing_constants_and_integer_arguments_are_inputs_of_the_plan():
    def loss(w, x, labels):
        logits = x @ w
        return -mnp.mean(mnp.take_along_axis(mg.nn.log_softmax(logits), labels[:, None], axis=1))

    df = mg.grad(loss)
    rng = np.random.default_rng(0)
    w = rng.standard_normal((5, 3))
    for _ in range(4):
        x, labels = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
        _same_bits(df(w, x, labels), mg.grad(loss)(w, x, labels))


def test_python_number_inputs_and_float32():
    df = mg.grad(lambda x, y: x * mnp.tanh(y) ** 2, argnums=(0, 1))
    for _ in range(3):
        _same_bits(
            df(3.0, np.float32(0.5)),
            mg.grad(lambda x, y: x * mnp.tanh(y) ** 2, argnums=(0, 1))(3.0, np.float32(0.5)),
        )


def test_gradients_handed_out_may_be_written_into():
    df = mg.grad(lambda x: mnp.sum(x))  # the gradient is a constant of the plan
    for _ in range(3):
        g = df(np.zeros(3))
        assert g.flags.writeable
        np.testing.assert_array_equal(g, np.ones(3))
        g[:] = 7.0


def test_debug_nans_still_checks_every_operation():
    double_p, calls = _counting_primitive()
    df = mg.grad(lambda x: mnp.sum(mnp.sqrt(bind(double_p, x))))
    for _ in range(3):
        df(np.ones(2))
    with mg.debug_nans(), pytest.raises(FloatingPointError, match="div"):
        df(np.zeros(2))
    calls.clear()
    for _ in range(3):  # plans again once debug_nans is off
        df(np.ones(2))
    assert not calls


def test_a_failure_in_a_planned_backward_pass_names_the_line():
    fragile_p = Primitive("fragile_for_plans", register=False)

    def fragile_impl(x):
        if (x < 0).any():
            raise ValueError("fragile: negative cotangent")
        return x

    fragile_p.def_impl(fragile_impl)
    fragile_p.def_shape_rule(lambda aval: aval)
    guarded_p = Primitive("guarded_for_plans", register=False)
    guarded_p.def_impl(lambda x: x)
    guarded_p.def_shape_rule(lambda aval: aval)
    guarded_p.def_vjp(lambda g, ans, x: bind(fragile_p, g))
    df = mg.grad(lambda x, w: mnp.sum(bind(guarded_p, x) * w))
    for _ in range(3):
        df(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="negative cotangent") as raised:
        line = inspect.currentframe().f_lineno + 1
        df(np.ones(2), -np.ones(2))
    assert f"test_backward_plans.py:{line}" in str(raised.value)
    assert not [name for name in linecache.cache if "backward plan" in name]


def test_planned_backward_passes_free_values_as_the_walk_does():
    rng = np.random.default_rng(0)
    layers = [rng.standard_normal((256, 256)).astype(np.float32) * 0.05 for _ in range(20)]
    x = rng.standard_normal((128, 256)).astype(np.float32)

    def loss(layers):
        h = x
        for w in layers:
            h = mnp.tanh(h @ w)
        return mnp.sum(h)

    df = mg.grad(loss)

    def peak():
        tracemalloc.start()
        df(layers)
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    walked = peak()
    peak()  # staged
    assert peak() <= 1.1 * walked


def test_long_recordings_are_walked():
    double_p, calls = _counting_primitive()

    def long(x):
        for _ in range(STRUCTURE_LIMIT):
            x = bind(double_p, x) * 0.5
        return mnp.sum(x)

    df = mg.grad(long)
    for _ in range(3):
        np.testing.assert_array_equal(df(np.ones(2)), np.ones(2))
    assert len(calls) == 3 * STRUCTURE_LIMIT


def test_a_pickled_function_finds_the_plans_of_its_process():
    # Dask pickles grad's closure by value; its reference to the plans must not carry them.
    assert pickle.loads(pickle.dumps(backward_plans.PLANS)) is backward_plans.PLANS


def test_which_recorded_value_is_the_output_is_part_of_the_structure():
    # Two losses computed together, either returned: the same operations, two gradients.
    rng = np.random.default_rng(0)
    x, y, w = rng.standard_normal((8, 3)), np.ones(8), np.array([0.1, -0.2, 0.3])

    def losses(w):
        residual = x @ w - y
        return mnp.mean(residual**2), mnp.mean(mnp.abs(residual))

    squared, absolute = mg.grad(lambda w: losses(w)[0]), mg.grad(lambda w: losses(w)[1])
    for _ in range(3):
        np.testing.assert_allclose(squared(w), 2 * x.T @ (x @ w - y) / 8, rtol=1e-13)
        np.testing.assert_allclose(absolute(w), x.T @ np.sign(x @ w - y) / 8, rtol=1e-13)


def test_float_parameters_are_told_apart_by_their_bits():
    scale_p = Primitive("scale_for_plans", register=False)
    scale_p.def_impl(lambda x, *, c: x * c)
    scale_p.def_shape_rule(lambda aval, *, c: aval)
    scale_p.def_vjp(lambda g, ans, x, *, c: mul(g, c))
    df = mg.grad(lambda x, c: mnp.sum(bind(scale_p, x, c=c)))
    x = np.array([1.0, 2.0])
    for _ in range(3):
        assert not np.signbit(df(x, 0.0)).any()
    for _ in range(3):
        assert np.signbit(df(x, -0.0)).all()  # -0.0 == 0.0, but its plan is its own
