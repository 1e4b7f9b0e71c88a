"""Tests for minigrad.lax.subprogram_cache: eager loops compile their body once, and
never run a stale one.

An eager control-flow call stages its body every time (so what it closes over is read
afresh) and finds the program staged before with the same structure, hence its compiled
code. Checked here: repeated calls of every construct compile nothing after the first;
bodies closing over a rebound array, an array written into, a Python number, a 0-d
array, an attribute or a flag give the new values (against Python loops); other shapes,
dtypes, structures and static arguments get programs of their own; ``grad``, ``jvp``,
``vmap`` and ``jit`` of eager loops agree with finite differences, loops and eager
evaluation, and compile once as well; the table stays bounded and keeps no closed-over
array alive; threads staging one body at once each run with their own values."""

import gc
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import lax
from minigrad.core.ir import Eqn, Jaxpr, ShapedArray, Var
from minigrad.lax import subprogram_cache, subprograms
from minigrad.lax.scan import scan_p
from minigrad.testing import check_grads


@pytest.fixture
def compiles(monkeypatch):
    """The programs compiled while the test runs, in order."""
    made = []
    compile_tiered = subprograms.compile_tiered

    def counting(program, *args, **kwargs):
        made.append(program)
        return compile_tiered(program, *args, **kwargs)

    monkeypatch.setattr(subprograms, "compile_tiered", counting)
    return made


def python_scan(f, carry, xs, reverse=False):
    """The loop ``lax.scan`` stands for, on NumPy values."""
    ys = [None] * len(xs)
    for i in reversed(range(len(xs))) if reverse else range(len(xs)):
        carry, ys[i] = f(carry, xs[i])
    return carry, np.stack(ys)


def assert_trees_close(actual, expected):
    actual_leaves, actual_tree = mg.tree_util.tree_flatten(actual)
    expected_leaves, expected_tree = mg.tree_util.tree_flatten(expected)
    assert actual_tree == expected_tree
    for a, e in zip(actual_leaves, expected_leaves, strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-13, atol=1e-13)


XS = np.linspace(-1.0, 1.0, 12).reshape(4, 3)


def eager_scan(w, x):
    # A fresh lambda at every call, closing over this call's ``w``.
    return lax.scan(lambda c, xi: (c * w + xi, c * xi), x, XS)


def eager_map(w, x):
    return lax.map(lambda row: row * w + x, XS)


def eager_fori(w, x):
    return lax.fori_loop(0, 4, lambda i, c: c * w + i, x)


def eager_while(w, x):
    return lax.while_loop(lambda c: c[0] < 4, lambda c: (c[0] + 1, c[1] * w + 1.0), (0, x))


def eager_cond(w, x):
    return [lax.cond(p, lambda v: v * w, lambda v: v - w, x) for p in (True, False)]


def eager_switch(w, x):
    branches = [lambda v: v * w, lambda v: v - w, lambda v: mnp.sin(v) + w]
    return [lax.switch(i, branches, x) for i in range(3)]


def loop_scan(w, x):
    return python_scan(lambda c, xi: (c * w + xi, c * xi), x, XS)


def loop_map(w, x):
    return np.stack([row * w + x for row in XS])


def loop_fori(w, x):
    for i in range(4):
        x = x * w + i
    return x


def loop_while(w, x):
    for _ in range(4):
        x = x * w + 1.0
    return 4, x


def loop_cond(w, x):
    return [x * w, x - w]


def loop_switch(w, x):
    return [x * w, x - w, np.sin(x) + w]


CONSTRUCTS = {
    "scan": (eager_scan, loop_scan),
    "map": (eager_map, loop_map),
    "fori_loop": (eager_fori, loop_fori),
    "while_loop": (eager_while, loop_while),
    "cond": (eager_cond, loop_cond),
    "switch": (eager_switch, loop_switch),
}


@pytest.mark.parametrize("name", sorted(CONSTRUCTS))
def test_repeated_eager_calls_compile_once_and_see_each_calls_values(compiles, name):
    eager, loop = CONSTRUCTS[name]
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=3), rng.normal(size=3)
    assert_trees_close(eager(w, x), loop(w, x))
    compiled_by_first_call = len(compiles)
    assert compiled_by_first_call >= 1
    for _ in range(5):
        w, x = rng.normal(size=3), rng.normal(size=3)
        assert_trees_close(eager(w, x), loop(w, x))
    assert len(compiles) == compiled_by_first_call


def scan_with(body, carry=1.5):
    return lax.scan(body, carry, XS[:, 0])


def test_a_rebound_closed_over_array_is_read_afresh(compiles):
    w = np.array([2.0, 3.0])

    def body(c, x):  # one function object, its cell rebound below
        return c * w + x, c

    assert_trees_close(scan_with(body, np.ones(2)), python_scan(body, np.ones(2), XS[:, 0]))
    w = np.array([-1.0, 0.5])
    assert_trees_close(scan_with(body, np.ones(2)), python_scan(body, np.ones(2), XS[:, 0]))
    assert len(compiles) == 1  # the array is an operand: one program


def test_a_closed_over_array_written_into_is_read_afresh():
    w = np.array([2.0, 3.0])

    def body(c, x):
        return c * w + x, c

    scan_with(body, np.ones(2))
    w[:] = [0.25, -4.0]
    assert_trees_close(scan_with(body, np.ones(2)), python_scan(body, np.ones(2), XS[:, 0]))


@pytest.mark.parametrize("kind", ["python number", "0-d array"])
def test_a_closed_over_scalar_changed_is_read_afresh(kind):
    # Scalars are written into the program as literals: a new value, a new program.
    scale = 0.5 if kind == "python number" else np.array(0.5)

    def body(c, x):
        return c * scale + x, c

    scan_with(body)
    if kind == "python number":
        scale = 0.25
    else:
        scale[...] = 0.25  # the staged literal is a copy; the new value must still show
    assert_trees_close(scan_with(body), python_scan(body, 1.5, XS[:, 0]))


def test_an_attribute_and_a_python_flag_read_by_the_body_are_read_afresh():
    class Settings:
        scale = 2.0
        squared = False

    def body(c, x):
        new = c * Settings.scale + x
        return (new * new if Settings.squared else new), c

    for scale, squared in [(2.0, False), (-0.5, False), (-0.5, True)]:
        Settings.scale, Settings.squared = scale, squared
        assert_trees_close(lax.scan(body, 0.1, XS[:, 0] * 0.1), python_scan(body, 0.1, XS[:, 0] * 0.1))


def test_literals_that_compare_equal_but_differ_in_sign_are_different_programs():
    for zero in (0.0, -0.0, 0.0, -0.0):  # one step: 1.0 * zero keeps zero's sign
        carry, _ = lax.scan(lambda c, x, zero=zero: (c * zero, c), 1.0, np.zeros(1))
        assert np.signbit(carry) == np.signbit(zero)


def body_for_every_type(c, x):
    return c * 0.5 + x, c - x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("length", [3, 5])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("unroll", [1, 2])
def test_shapes_dtypes_and_static_arguments_get_their_own_programs(dtype, length, reverse, unroll):
    # One body function for every combination, in one process: each must run its own.
    xs = np.arange(1.0, length * 2 + 1).reshape(length, 2).astype(dtype)
    init = np.ones(2, dtype)
    carry, ys = lax.scan(body_for_every_type, init, xs, reverse=reverse, unroll=unroll)
    expected = python_scan(body_for_every_type, init, xs, reverse)
    assert carry.dtype == ys.dtype == dtype
    assert ys.shape == (length, 2)
    assert_trees_close((carry, ys), expected)


def test_carries_of_other_structures_get_their_own_programs():
    def body(c, x):
        return mg.tree_util.tree_map(lambda leaf: leaf * 0.5 + x, c), x

    for init in [(1.0, 2.0), {"a": 1.0, "b": 2.0}, [1.0, (2.0, 3.0)]]:
        carry, ys = lax.scan(body, init, XS[:, 0])
        expected = python_scan(body, mg.tree_util.tree_map(np.asarray, init), XS[:, 0])
        assert_trees_close((carry, ys), expected)


def loss(w, init):
    carry, ys = lax.scan(lambda c, x: (mnp.tanh(c * w + x), c * x), init, XS)
    return mnp.sum(carry) + mnp.sum(ys * ys)


def test_gradients_of_repeated_eager_scans_match_finite_differences_and_compile_once(compiles):
    rng = np.random.default_rng(1)
    check_grads(loss, (rng.normal(size=3), rng.normal(size=3)), order=2)
    compiled = len(compiles)
    for _ in range(3):
        w, init = rng.normal(size=3), rng.normal(size=3)
        check_grads(loss, (w, init), order=2)
    assert len(compiles) == compiled


def test_vmap_of_an_eager_scan_matches_a_loop_over_examples(compiles):
    rng = np.random.default_rng(2)
    batched = mg.vmap(loss, in_axes=(0, None))
    for calls in range(3):
        ws, init = rng.normal(size=(4, 3)), rng.normal(size=3)
        np.testing.assert_allclose(batched(ws, init), [loss(w, init) for w in ws], rtol=1e-13)
        if calls == 0:
            compiled = len(compiles)
    assert len(compiles) == compiled


def test_jit_of_a_scan_agrees_with_the_eager_scan():
    rng = np.random.default_rng(3)
    jitted = mg.jit(loss)
    for _ in range(3):
        w, init = rng.normal(size=3), rng.normal(size=3)
        np.testing.assert_allclose(jitted(w, init), loss(w, init), rtol=1e-13)


def test_the_table_is_bounded_and_evicted_bodies_still_run(monkeypatch):
    monkeypatch.setattr(subprogram_cache, "MAX_PROGRAMS", 4)
    subprogram_cache.clear()
    for _ in range(2):  # the second round finds its programs evicted
        for step in range(10):  # ten literals: ten structures
            carry, _ = lax.scan(lambda c, x, step=step: (c + x * step, c), 0.0, XS[:, 0])
            np.testing.assert_allclose(carry, XS[:, 0].sum() * step, rtol=1e-13, atol=1e-15)
            assert subprogram_cache.size() <= 4


def scan_closing_over_a_table():
    table = np.arange(1e5)
    lax.scan(lambda c, x: (c + mnp.sum(table * x), c), 0.0, XS[:, 0])
    return weakref.ref(table)


def test_closed_over_arrays_are_not_kept_alive():
    tables = [scan_closing_over_a_table() for _ in range(2)]  # the second finds the program
    gc.collect()
    assert [table() for table in tables] == [None, None]


def test_a_program_with_a_param_not_comparable_by_value_is_not_interned():
    f64 = ShapedArray((), np.float64)
    x, y = Var(f64), Var(f64)
    jaxpr = Jaxpr((), [x], [Eqn(scan_p, [x], [y], {"table": np.zeros(2)})], [y])
    assert subprogram_cache.program_structure(jaxpr) is None
    assert subprogram_cache.intern_program(jaxpr) is jaxpr


def test_threads_staging_one_body_with_their_own_closures_get_their_own_values():
    # Every thread stages the same structure at once; each must run with its own array.
    barrier = threading.Barrier(4)

    def worker(scale):
        w = np.full(3, scale)
        barrier.wait()
        return [eager_scan(w, np.ones(3)) for _ in range(20)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(worker, [0.5, -1.0, 2.0, 0.25]))
    for scale, runs in zip([0.5, -1.0, 2.0, 0.25], results, strict=True):
        for result in runs:
            assert_trees_close(result, loop_scan(np.full(3, scale), np.ones(3)))
