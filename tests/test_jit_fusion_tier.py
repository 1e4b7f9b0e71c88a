"""Tests for minigrad.transforms.jit.fusion_tier: a hot jitted program's small-array runs
are fused, transcendental functions included; fused results agree with eager ones (bit
for bit for the IEEE operations, within a few ulp for transcendental functions) in
float32 and float64, on drawn shapes, NaN, infinities and 0-d arrays; a program called
once never loads numba; the tier-up is visible in ``lower().source``, safe under
threads, and falls back to the NumPy code if numba fails."""

import contextlib
import logging
import os
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.ir import ShapedArray
from minigrad.core.staging import stage_flat
from minigrad.transforms.jit import fusion, fusion_tier
from minigrad.transforms.jit.compiler import CompiledProgram, compile_jaxpr
from minigrad.transforms.jit.fusion import MIN_FUSED_SIZE, fused_p
from minigrad.transforms.jit.fusion_tier import (
    TRANSCENDENTAL_SIZE,
    TieredProgram,
    calls_to_tier_up,
    compile_tiered,
    fuse_small_runs,
    small_work,
)

needs_numba = pytest.mark.skipif(
    not fusion.fusion_available(), reason="fusion needs the 'fast' extra (numba)"
)
FLOATS = (np.float32, np.float64)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RNG_TIER = np.random.default_rng(3)


@contextlib.contextmanager
def tier_up_at(calls):
    """Programs compiled inside fuse their small runs at call number ``calls``."""
    saved = fusion_tier.TIER_UP_CALLS
    fusion_tier.TIER_UP_CALLS = calls
    try:
        yield
    finally:
        fusion_tier.TIER_UP_CALLS = saved


@pytest.fixture
def tier_now():
    with tier_up_at(1):
        yield


def fused_source(jitted, *args) -> bool:
    return "# fused: " in jitted.lower(*args).source


def mixed(x, y):
    """Transcendental functions, arithmetic, comparisons, `where`, squares and
    reciprocals, with scalars: every kind of operation a small loop writes."""
    a = mnp.tanh(mnp.sin(x) * 1.1 + 0.3) - mnp.exp(-mnp.abs(y))
    b = mnp.where(a > 0.1, mnp.log1p(a * a), mnp.cos(y) / 2.0)
    c = mnp.sqrt(mnp.abs(b) + 1.0) * mnp.expm1(-(y**2)) + mnp.maximum(a, y) * mnp.arctan(x)
    return c + 1.0 / (mnp.log(mnp.abs(x) + 2.0) + b**2)


# The loop's transcendental functions are libm's, NumPy's are SIMD code: a few ulp
# apart per operation (3 ulp measured), accumulated over a dozen operations.
TOLERANCE = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-13}


def assert_close(got, expected):
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(
        got, expected, rtol=TOLERANCE[got.dtype], atol=TOLERANCE[got.dtype], equal_nan=True
    )
    # NaN and infinities where eager has them, not only close numbers elsewhere.
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(expected))


SHAPES = st.sampled_from([(), (1,), (7,), (16,), (2, 3), (3, 1, 4), (0,), (TRANSCENDENTAL_SIZE + 1,)])


@needs_numba
@settings(max_examples=25, deadline=None)
@given(data=st.data(), shape=SHAPES, dtype=st.sampled_from(FLOATS))
def test_fused_small_runs_agree_with_eager(data, shape, dtype):
    size = int(np.prod(shape))
    values = st.floats(-5, 5, width=32) | st.sampled_from([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-30])
    x, y = (
        np.array(data.draw(st.lists(values, min_size=size, max_size=size)), dtype).reshape(shape)
        for _ in "xy"
    )
    jitted = mg.jit(mixed)
    with tier_up_at(1), np.errstate(all="ignore"):
        got, expected = jitted(x, y), mixed(x, y)
        assert_close(got, expected)
    assert fused_source(jitted, x, y)  # above TRANSCENDENTAL_SIZE, the arithmetic still fuses
    assert np.asarray(got).dtype == dtype


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
def test_nan_and_infinities_propagate_through_transcendental_functions(tier_now, dtype):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e30, -1e30, 700.0], dtype)

    def fun(x):
        return mnp.exp(mnp.tanh(x) * 2.0) + mnp.log(mnp.abs(x)) - mnp.sqrt(x) * mnp.sin(x)

    jitted = mg.jit(fun)
    with np.errstate(all="ignore"):
        assert_close(jitted(x), fun(x))
    assert fused_source(jitted, x)


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
def test_ieee_operations_and_powers_are_bit_for_bit(tier_now, dtype):
    # (x + big) - big is 0 in float32 for x = 1: a loop computing in float64 would
    # return 1. Powers 0, 1, 2 and -1 are written as products, exactly as NumPy's.
    big = 1e8 if dtype == np.float32 else 1e17
    x = np.array([1.0, -0.0, 0.0, 3.0, np.nan, np.inf, -2.5, 1e-30], dtype)

    def fun(x):
        return ((x + big) - big) * x**2, x**0 - 1.0 / x**1 + x**-1 * x

    jitted = mg.jit(fun)
    with np.errstate(all="ignore"):
        got, expected = jitted(x), fun(x)
    lowered = jitted.lower(x)
    assert lowered.source.count("# fused: ") == 1
    # x ** 0 and x ** 1 are simplified away (to ones and x) before the loop is written.
    assert [eqn.params["y"] for eqn in lowered.program.jaxpr.eqns if eqn.primitive.name == "integer_pow"] == [
        2,
        -1,
    ]
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == e.dtype == dtype
        assert g.tobytes() == e.tobytes()  # NaN payloads and signed zeros too
    assert got[0][0] == 0.0  # absorbed in the dtype's precision


@needs_numba
def test_zero_d_arrays_and_scalars(tier_now):
    def fun(x, s):
        return mnp.cos(x * s) + mnp.tanh(x) * s

    jitted = mg.jit(fun)
    for dtype in FLOATS:
        x = np.array(0.25, dtype)
        got, expected = jitted(x, 2.0), np.asarray(fun(x, 2.0))  # a Python float: weakly typed
        assert got.shape == () and got.dtype == expected.dtype == dtype
        assert_close(got, expected)
        assert fused_source(jitted, x, 2.0)


@needs_numba
def test_the_tier_up_happens_at_the_threshold_and_the_source_says_so(monkeypatch):
    monkeypatch.setattr(fusion_tier, "TIER_UP_CALLS", 3)
    jitted = mg.jit(lambda x: mnp.tanh(mnp.sin(x) * 1.1 + 0.3))
    x = np.linspace(-1, 1, 16)
    for _ in range(2):
        np.testing.assert_array_equal(jitted(x), np.tanh(np.sin(x) * 1.1 + 0.3))  # NumPy's code: same bits
        assert not fused_source(jitted, x)
    third = jitted(x)
    source = jitted.lower(x).source
    assert "# fused: tanh(((sin(a) * 1.1) + 0.3))" in source and "_sin(" not in source
    np.testing.assert_allclose(third, np.tanh(np.sin(x) * 1.1 + 0.3), rtol=1e-15)


@needs_numba
def test_a_long_run_is_summarised_in_the_source(tier_now):
    def chain(x):
        for _ in range(30):
            x = mnp.tanh(mnp.sin(x) * 1.1 + 0.3)
        return x

    x = np.linspace(-1, 1, 16)
    jitted = mg.jit(mg.grad(lambda v: mnp.sum(chain(v))))
    jitted(x)  # lower() alone is no call: it shows the code that runs now
    source = jitted.lower(x).source
    assert "# fused: 299 operations in one loop nest (add x30, cos x30, integer_pow x30, mul x119" in source
    assert len(source) < 500


@needs_numba
def test_transcendental_functions_stay_numpy_calls_above_their_size():
    def fun(x):
        return mnp.exp(x) * 2.0 + 1.0 - x * x

    for size, exp_fused in ((TRANSCENDENTAL_SIZE, True), (TRANSCENDENTAL_SIZE + 1, False)):
        program = stage_flat(lambda x: [fun(x)], [ShapedArray((size,), np.float64)])
        fused = fuse_small_runs(program)
        assert [eqn.primitive.name for eqn in fused.eqns] == (["fused"] if exp_fused else ["exp", "fused"])
    large = stage_flat(lambda x: [fun(x)], [ShapedArray((MIN_FUSED_SIZE,), np.float64)])
    assert fuse_small_runs(large) is large  # large arrays: fusion.py's pass decides


def adam_like_update(params, grads, moments):
    """Each formula over every parameter in turn, as ``tree_map`` writes an optimizer:
    consecutive equations alternate between the parameters' shapes."""
    moments = [0.9 * m + 0.1 * g for m, g in zip(moments, grads)]
    scaled = [m / (mnp.sqrt(g * g) + 1e-8) for m, g in zip(moments, grads)]
    return [p - 0.01 * s for p, s in zip(params, scaled)] + moments


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
def test_runs_of_each_shape_fuse_across_equations_of_other_shapes(tier_now, dtype):
    # Three parameters, the largest above TRANSCENDENTAL_SIZE: sqrt, an IEEE operation,
    # still joins its loop. The update is one function, a loop nest per parameter, the
    # same bits as NumPy.
    shapes = [(3, 5), (64, 48), (7,)]
    params, grads, moments = ([RNG_TIER.normal(size=shape).astype(dtype) for shape in shapes] for _ in "pgm")
    grads[1][0, :3] = [0.0, np.inf, np.nan]
    avals = [ShapedArray(shape, np.dtype(dtype)) for shape in shapes] * 3
    program = stage_flat(lambda *a: adam_like_update(a[:3], a[3:6], a[6:]), avals)
    fused = fuse_small_runs(program)
    assert [eqn.primitive.name for eqn in fused.eqns] == ["fused"]
    assert fused.eqns[0].params["kernel"].stages == 3
    jitted = mg.jit(adam_like_update)
    with np.errstate(all="ignore"):
        got, expected = jitted(params, grads, moments), adam_like_update(params, grads, moments)
    assert fused_source(jitted, params, grads, moments)
    for got_leaf, expected_leaf in zip(got, expected, strict=True):
        np.testing.assert_array_equal(got_leaf, expected_leaf)


@needs_numba
def test_an_equation_reading_a_run_of_another_shape_comes_after_it(tier_now):
    # The scalar's nest must come before the nest of (5,) that reads its result.
    def fun(s, x):
        t = (s * 2.0 + 1.0) * s - 3.0
        return [x * t + x * x - 1.0, t]

    s, x = np.float64(0.5), RNG_TIER.normal(size=5)
    program = stage_flat(fun, [ShapedArray((), np.float64), ShapedArray((5,), np.float64)])
    fused = fuse_small_runs(program)
    assert [eqn.primitive.name for eqn in fused.eqns] == ["fused"]
    kernel = fused.eqns[0].params["kernel"]
    assert kernel.stages == 2 and kernel.source.index("range(5)") > kernel.source.index("[()] =")
    jitted = mg.jit(fun)
    for got, expected in zip(jitted(s, x), fun(s, x), strict=True):
        np.testing.assert_array_equal(got, expected)


@needs_numba
def test_the_default_threshold_is_the_break_even_estimate():
    program = stage_flat(lambda x: [mnp.tanh(x * 2.0 + 1.0) * x], [ShapedArray((8,), np.float64)])
    compiled = compile_tiered(program)
    assert isinstance(compiled, TieredProgram) and compiled._calls_left == calls_to_tier_up(4)
    # Each region and each array read or written is more to compile, so more calls.
    reduced = stage_flat(
        lambda x, y: [mnp.sum(mnp.tanh(x * 2.0 + 1.0), axis=1) * 3.0 @ y],
        [ShapedArray((8, 3), np.float64)] * 2,
    )
    work = small_work(reduced)
    assert (work.operations, work.regions) == (5, 2) and work.arrays >= 2  # reads x, writes before `@`
    assert compile_tiered(reduced)._calls_left == calls_to_tier_up(5, arrays=work.arrays, regions=2)
    assert calls_to_tier_up(5, arrays=2, regions=2) > calls_to_tier_up(5)
    assert calls_to_tier_up(5, arrays=9) > calls_to_tier_up(5)
    # Longer programs save more per call and tier up sooner, never at once.
    assert calls_to_tier_up(10_000) < calls_to_tier_up(500) < calls_to_tier_up(5)
    assert calls_to_tier_up(10**9) > 1000


def test_a_program_called_a_few_times_never_loads_numba():
    # In a fresh process: this one may have loaded numba for other tests.
    script = (
        "import sys\n"
        "import numpy as np\n"
        "import minigrad as mg\n"
        "import minigrad.numpy as mnp\n"
        "f = mg.jit(mg.grad(lambda x: mnp.sum(mnp.tanh(mnp.sin(x) * 1.1 + 0.3))))\n"
        "for _ in range(3):\n"
        "    f(np.ones(16))\n"
        "print(f.lower(np.ones(16)).source)\n"
        "assert 'numba' not in sys.modules, 'numba was imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "_sin(" in result.stdout and "# fused" not in result.stdout


def test_without_numba_programs_compile_as_before(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # as if the extra were not installed
    monkeypatch.setattr(fusion_tier, "TIER_UP_CALLS", 1)
    program = stage_flat(lambda x: [mnp.tanh(mnp.sin(x) * 1.1 + 0.3)], [ShapedArray((16,), np.float64)])
    compiled = compile_tiered(program)
    assert type(compiled) is CompiledProgram
    assert compiled.source == compile_jaxpr(program).source
    assert fuse_small_runs(program) is program


@needs_numba
def test_threads_calling_across_the_tier_up_get_right_results(monkeypatch):
    monkeypatch.setattr(fusion_tier, "TIER_UP_CALLS", 20)
    jitted = mg.jit(lambda x: mnp.exp(mnp.cos(x) * 0.5) - x * x)
    x = np.linspace(-2, 2, 32)
    expected = np.exp(np.cos(x) * 0.5) - x * x
    errors = []
    start = threading.Barrier(8)

    def work():
        start.wait()
        for _ in range(30):
            got = jitted(x)
            if not np.allclose(got, expected, rtol=1e-14, atol=0):
                errors.append(got)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert fused_source(jitted, x)


@needs_numba
def test_a_failing_tier_up_keeps_the_numpy_code_and_says_so(monkeypatch, caplog):
    def refuse(program, name, copied_outputs=()):
        raise RuntimeError("numba refused the loop")

    monkeypatch.setattr(fusion_tier, "TIER_UP_CALLS", 1)
    monkeypatch.setattr(fusion_tier, "_compile_fused", refuse)
    jitted = mg.jit(lambda x: mnp.sin(x) * 2.0 + mnp.cos(x))
    x = np.linspace(0, 1, 5)
    with caplog.at_level(logging.WARNING, logger="minigrad.jit"):
        for _ in range(3):
            np.testing.assert_array_equal(jitted(x), np.sin(x) * 2.0 + np.cos(x))
    assert [record.getMessage() for record in caplog.records] == [
        "jit(<lambda>): small-array fusion failed, keeping the NumPy code: RuntimeError('numba refused the loop')"
    ]
    assert not fused_source(jitted, x)


@needs_numba
def test_tiered_jit_composes_with_grad_and_vmap(tier_now):
    def loss(w, x):
        return mnp.sum(mnp.tanh(x * w + 0.5) ** 2)

    w, x = np.linspace(-1, 1, 6), np.linspace(0, 2, 6)
    jitted_grad = mg.jit(mg.grad(loss))
    np.testing.assert_allclose(jitted_grad(w, x), mg.grad(loss)(w, x), rtol=1e-13)
    assert fused_source(jitted_grad, w, x)
    # Under grad and vmap a jitted function replays its program: the same numbers.
    np.testing.assert_allclose(mg.grad(mg.jit(loss))(w, x), mg.grad(loss)(w, x), rtol=1e-13)
    batched = mg.vmap(mg.jit(lambda v: mnp.sin(v) * 2.0 + mnp.exp(v)))(np.ones((3, 4)))
    np.testing.assert_allclose(batched, np.sin(1.0) * 2.0 + np.exp(1.0), rtol=1e-14)


@needs_numba
def test_a_region_across_shapes_and_reductions_is_one_equation():
    program = stage_flat(
        lambda x, y: [mnp.sin(x) * 2.0 + 1.0 - x, mnp.sum(x) * mnp.cos(y) - y / 2.0],
        [ShapedArray((4,), np.float32), ShapedArray((3,), np.float32)],
    )
    fused = fuse_small_runs(program)
    names = [eqn.primitive.name for eqn in fused.eqns]
    # Two shapes and a sum between them: one function of two nests, the sum in the first.
    assert names == ["fused"] and fused.eqns[0].primitive is fused_p
    assert fused.eqns[0].params["kernel"].stages == 2
    x, y = np.linspace(0, 1, 4, dtype=np.float32), np.linspace(1, 2, 3, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no precision-loss or casting warnings from the loops
        got = compile_jaxpr(fused)(x, y)
    for g, e in zip(got, compile_jaxpr(program)(x, y), strict=True):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, e, rtol=2e-6)


@needs_numba
def test_a_tier_up_that_fuses_nothing_keeps_the_plain_code():
    # Four fusable equations, but a product cuts them into runs of two: no loop pays.
    w = np.eye(16)

    def fun(x):
        return [(mnp.sin(x) * 2.0) @ w * 3.0 + 1.0]

    program = stage_flat(fun, [ShapedArray((16,), np.float64)])
    compiled = compile_tiered(program, calls=1)
    assert isinstance(compiled, TieredProgram)
    x = np.linspace(0, 1, 16)
    np.testing.assert_array_equal(compiled(x)[0], fun(x)[0])
    assert compiled.fn == compiled._plain and "# fused" not in compiled.source


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
def test_logistic_joins_small_loops_and_agrees_with_eager(tier_now, dtype):
    # Far into both tails (where 1 / (1 + exp(-x)) would overflow), at zero, NaN and inf.
    x = np.array(
        [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 30.0, -30.0, -100.0, -1000.0, 1000.0, 1e-30], dtype
    )

    def fun(x):
        return mg.nn.sigmoid(x) * 2.0 - mg.nn.sigmoid(-x) + x * 0.5

    jitted = mg.jit(fun)
    with np.errstate(all="ignore"):
        assert_close(jitted(x), fun(x))
        # The tails themselves, not only their sum: exp(-1000) / 1 is 0, exp(-30) is not.
        assert_close(mg.jit(mg.nn.sigmoid)(x * 1.0), mg.nn.sigmoid(x))
    assert "logistic(" in jitted.lower(x).source


@needs_numba
def test_loops_take_slices_transposes_and_broadcasts(tier_now):
    # Operands of any strides: column slices of one array, a transpose, a broadcast.
    def fun(g, t):
        a, b = g[:, :5], g[:, 5:]
        return mnp.tanh(a * b + 1.0) - mnp.sin(t.T) * 2.0 + mnp.exp(-a)

    g, t = RNG_TIER.standard_normal((4, 10)), RNG_TIER.standard_normal((5, 4))
    jitted = mg.jit(fun)
    assert_close(jitted(g, t), fun(g, t))
    assert_close(
        jitted(g[::-1], np.broadcast_to(t[:1], (5, 4))), fun(g[::-1], np.broadcast_to(t[:1], (5, 4)))
    )
    assert fused_source(jitted, g, t)
