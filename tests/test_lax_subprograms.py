"""Tests for minigrad.lax.subprograms.compiled: loop bodies go through the small-array tier.

Each step of a loop counts as a call of its body, so a hot ``scan``, ``fori_loop`` or
``while_loop`` fuses its body's small-array runs (forced here with ``TIER_UP_CALLS``):
results agree with a plain Python loop (within the tier's few-ulp tolerance) forward,
reversed, unrolled, under ``grad`` (the backward body tiers too) and for a GRU; the
stacked outputs a scan copies stay uncopied in the fused body; eager loops tier up
as jitted ones; a loop called a few times never loads numba; threads
crossing the tier-up get right results."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad import lax, nn
from minigrad.core.ir import ShapedArray
from minigrad.lax import subprogram_cache, subprograms
from minigrad.lax.subprograms import compiled, stage_program
from minigrad.transforms.jit import fusion, fusion_tier
from minigrad.transforms.jit.fusion_tier import TieredProgram

needs_numba = pytest.mark.skipif(
    not fusion.fusion_available(), reason="fusion needs the 'fast' extra (numba)"
)
FLOATS = (np.float32, np.float64)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The loops' transcendental functions are libm's, NumPy's SIMD code: a few ulp apart per
# operation, accumulated over the steps of a recurrence.
RTOL = {np.dtype(np.float32): 2e-4, np.dtype(np.float64): 1e-11}


def tier_up_at(monkeypatch, calls):
    """Bodies compiled from now on tier up at their call number ``calls``.

    The knob applies to bodies compiled afterwards; the interned ones (compiled by an
    earlier test on the same structure) are forgotten, so each test compiles its own.
    """
    monkeypatch.setattr(fusion_tier, "TIER_UP_CALLS", calls)
    subprogram_cache.clear()


@pytest.fixture
def bodies(monkeypatch):
    """Tier bodies up at their first call; the list collects the tiered bodies made."""
    made = []
    tiered = subprograms.compile_tiered

    def recording(*args, **kwargs):
        result = tiered(*args, **kwargs)
        made.append(result)
        return result

    tier_up_at(monkeypatch, 1)
    monkeypatch.setattr(subprograms, "compile_tiered", recording)
    return made


def fused(made) -> list:
    return [body for body in made if isinstance(body, TieredProgram) and "# fused: " in body.source]


def cell(h, x):
    """Transcendental functions and arithmetic on one small shape: a run worth a loop."""
    h = mnp.tanh(h * 0.9 + mnp.sin(x) * 0.5 + 0.1)
    return h, mnp.exp(-h * h) * 2.0 - h


def python_loop(h, xs, reverse=False):
    """The reference: the same cell, eagerly, in a Python loop (no compiled body)."""
    ys = [None] * len(xs)
    for i in reversed(range(len(xs))) if reverse else range(len(xs)):
        h, ys[i] = cell(h, xs[i])
    return h, mnp.stack(ys)


def inputs(dtype, steps=9):
    rng = np.random.default_rng(0)
    return rng.standard_normal(8).astype(dtype), rng.standard_normal((steps, 8)).astype(dtype)


def assert_close(got, expected):
    for g, e in zip(got, expected, strict=True):
        g, e = np.asarray(g), np.asarray(e)
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=RTOL[g.dtype], atol=RTOL[g.dtype])


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("unroll", [1, 4])
@pytest.mark.parametrize("reverse", [False, True])
def test_a_scan_body_tiers_up_and_agrees_with_a_python_loop(bodies, dtype, unroll, reverse):
    h, xs = inputs(dtype)
    run = mg.jit(lambda h, xs: lax.scan(cell, h, xs, reverse=reverse, unroll=unroll))
    assert_close(run(h, xs), python_loop(h, xs, reverse))
    assert fused(bodies)
    assert_close(run(h, xs), python_loop(h, xs, reverse))  # the fused body, from the first step


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
def test_the_backward_body_of_a_scan_tiers_up_too(bodies, dtype):
    h, xs = inputs(dtype)

    def loss(h, xs, loop):
        carry, ys = loop(h, xs)
        return mnp.sum(carry * carry) + mnp.sum(ys * mnp.arange(len(xs), dtype=dtype)[:, None])

    grads = mg.jit(mg.grad(lambda h, xs: loss(h, xs, lambda h, xs: lax.scan(cell, h, xs)), argnums=(0, 1)))
    expected = mg.grad(lambda h, xs: loss(h, xs, python_loop), argnums=(0, 1))(h, xs)
    assert_close(grads(h, xs), expected)
    # The forward body (with its residuals) and the backward one each fused a run.
    assert len(fused(bodies)) >= 2


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
def test_a_gru_tiers_up_and_agrees_with_its_cell_in_a_python_loop(bodies, dtype):
    # Hidden size 8 on a batch of 2: small enough for tanh and the products' sums to fuse.
    gru = nn.GRUCell(3, 8)
    params = mg.tree.tree_map(lambda p: p.astype(dtype), gru.init(mr.key(0)))
    xs = np.random.default_rng(1).standard_normal((2, 6, 3)).astype(dtype)

    def loss_scan(params, xs):
        return mnp.sum(nn.RNN(gru).apply(params, xs) ** 2)

    def loss_loop(params, xs):
        h, total = gru.initial_carry((2,), dtype), 0.0
        for t in range(xs.shape[1]):
            h, y = gru.apply(params, h, xs[:, t])
            total = total + mnp.sum(y**2)
        return total

    value, grads = mg.jit(mg.value_and_grad(loss_scan))(params, xs)
    expected_value, expected_grads = mg.value_and_grad(loss_loop)(params, xs)
    assert_close([value], [expected_value])
    assert_close(mg.tree.tree_leaves(grads), mg.tree.tree_leaves(expected_grads))
    assert len(fused(bodies)) >= 2


@needs_numba
def test_fori_and_while_bodies_tier_up(bodies):
    x = np.linspace(-1, 1, 6)

    def step(i, v):
        return mnp.tanh(mnp.cos(v) * 0.7 + v * 0.2)

    expected = x
    for i in range(5):
        expected = step(i, expected)
    assert_close([mg.jit(lambda v: lax.fori_loop(0, 5, step, v))(x)], [expected])
    while_loop = mg.jit(
        lambda v: lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, step(0, c[1])), (0, v))
    )
    assert_close([while_loop(x)[1]], [expected])
    assert len(fused(bodies)) >= 2


@needs_numba
def test_each_step_counts_as_a_call(bodies, monkeypatch):
    tier_up_at(monkeypatch, 7)
    h, xs = inputs(np.float64, steps=4)
    run = mg.jit(lambda h, xs: lax.scan(cell, h, xs))
    run(h, xs)  # 4 steps: not yet hot
    (body,) = bodies
    assert isinstance(body, TieredProgram) and not fused(bodies)
    run(h, xs)  # the seventh step compiles the fused version; the eighth runs it
    assert fused(bodies) == [body]
    assert_close(run(h, xs), python_loop(h, xs))


@needs_numba
@pytest.mark.parametrize("stacked_from", [None, 1])
def test_stacked_outputs_stay_uncopied_in_the_fused_body(monkeypatch, stacked_from):
    tier_up_at(monkeypatch, 1)
    f64 = ShapedArray((8,), np.float64)
    # ys: the carry coming in (an input) and the new carry twice (one array, two outputs).
    jaxpr = stage_program(lambda h, x: [cell(h, x)[0], h, cell(h, x)[0]], [f64, f64]).jaxpr
    body = compiled(jaxpr, stacked_from)
    h, xs = inputs(np.float64)
    for _ in range(2):  # the plain code, then the fused one
        new, old, again = body(h, xs[0])
        assert (old is h) == (stacked_from is not None)
        assert (again is new) == (stacked_from is not None)
    assert "# fused" in body.source
    np.testing.assert_allclose(new, np.tanh(h * 0.9 + np.sin(xs[0]) * 0.5 + 0.1), rtol=1e-14)


@needs_numba
def test_eager_loops_tier_up_too(bodies):
    h, xs = inputs(np.float64)
    assert_close(lax.scan(cell, h, xs), python_loop(h, xs))
    assert fused(bodies)


def test_without_numba_bodies_compile_as_before(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # as if the extra were not installed
    tier_up_at(monkeypatch, 1)
    f64 = ShapedArray((8,), np.float64)
    body = compiled(stage_program(lambda h, x: list(cell(h, x)), [f64, f64]).jaxpr, 1)
    assert not isinstance(body, TieredProgram)  # the plain generated function
    h, xs = inputs(np.float64)
    assert_close(body(h, xs[0]), cell(h, xs[0]))


def test_a_loop_called_a_few_times_never_loads_numba():
    # In a fresh process: this one may have loaded numba for other tests. 3 calls of a
    # 10-step scan and its gradient are 30 steps of each body, far below the threshold.
    script = (
        "import sys\n"
        "import numpy as np\n"
        "import minigrad as mg\n"
        "import minigrad.numpy as mnp\n"
        "from minigrad import lax\n"
        "def cell(h, x):\n"
        "    h = mnp.tanh(h * 0.9 + mnp.sin(x) * 0.5 + 0.1)\n"
        "    return h, mnp.exp(-h * h) * 2.0 - h\n"
        "loss = lambda h, xs: mnp.sum(lax.scan(cell, h, xs)[1])\n"
        "f = mg.jit(mg.value_and_grad(loss))\n"
        "for _ in range(3):\n"
        "    f(np.ones(16), np.ones((10, 16)))\n"
        "    lax.scan(cell, np.ones(16), np.ones((10, 16)))\n"
        "assert 'numba' not in sys.modules, 'numba was imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr


@needs_numba
def test_threads_stepping_across_the_tier_up_get_right_results(bodies, monkeypatch):
    tier_up_at(monkeypatch, 40)
    h, xs = inputs(np.float64)
    run = mg.jit(lambda h, xs: lax.scan(cell, h, xs))
    expected = python_loop(h, xs)
    errors = []
    start = threading.Barrier(6)

    def work():
        start.wait()
        for _ in range(10):
            got = run(h, xs)
            try:
                assert_close(got, expected)
            except AssertionError as error:
                errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert fused(bodies)  # 540 steps crossed the threshold of 40


@needs_numba
def test_large_array_runs_of_a_body_are_fused_at_once(bodies):
    # As in a jitted program: a run holding a `where` on MIN_FUSED_SIZE elements is one
    # loop from the first step (measured 1.6-2.4x faster steps), bit for bit NumPy's.
    def leaky(h, x):
        h = mnp.where(h > 0, h, h * 0.01) * 0.9 + x
        return h, h - 1.0

    rng = np.random.default_rng(2)
    h = rng.standard_normal(fusion.MIN_FUSED_SIZE).astype(np.float32)
    xs = rng.standard_normal((3, fusion.MIN_FUSED_SIZE)).astype(np.float32)
    got = mg.jit(lambda h, xs: lax.scan(leaky, h, xs))(h, xs)
    expected_h, expected_ys = h, []
    for x in xs:
        expected_h, y = leaky(expected_h, x)
        expected_ys.append(y)
    np.testing.assert_array_equal(got[0], expected_h)
    np.testing.assert_array_equal(got[1], np.stack(expected_ys))
    assert any("# fused: " in body.source for body in bodies)
