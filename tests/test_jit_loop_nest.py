"""Tests for minigrad.transforms.jit.loop_nest: a region of small-array work across
shapes (broadcast operands, sums, maxima and minima over axes, reshapes, transposes and
broadcasts) runs as one compiled function, and agrees with eager evaluation on drawn
shapes and axes, NaN and infinities, 0-d, size-1 and empty axes, in float32 and float64,
under grad; what a nest cannot write (a reshape that regroups elements, a transpose a
product reads) stays a NumPy call."""

import logging
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.ir import ShapedArray
from minigrad.core.staging import stage_flat
from minigrad.transforms.jit.fusion import fusion_available
from minigrad.transforms.jit.fusion_tier import LARGE_REGION, MIN_RUN, fuse_small_runs
from minigrad.transforms.jit.loop_nest import nest_form
from tests.test_jit_fusion_tier import assert_close, fused_source, needs_numba, tier_up_at

FLOATS = (np.float32, np.float64)
RNG = np.random.default_rng(11)


@pytest.fixture
def tier_now():
    """Programs jitted in the test fuse their small work at the first call."""
    with tier_up_at(1):
        yield


def kernels(fused) -> list:
    return [eqn.params["kernel"] for eqn in fused.eqns if eqn.primitive.name == "fused"]


def region(x, row, column, axes):
    """Every kind of equation a nest writes: broadcast arithmetic, a ReLU, the steps of a
    softmax over ``axes`` (max, exp, sum, division), a minimum, a total, a transpose
    and a broadcast."""
    h = mnp.maximum(x * 2.0 + row, 0.0) - column
    top = mnp.max(h, axis=axes, keepdims=True)
    e = mnp.exp(h - top)
    softmax = e / mnp.sum(e, axis=axes, keepdims=True)
    return [
        mnp.transpose(softmax),
        mnp.min(h, axis=axes),
        mnp.sum(h * h) / 3.0,
        mnp.broadcast_to(column, x.shape) + h,
    ]


@st.composite
def region_arguments(draw, dtype):
    """``x`` of 1 to 3 axes (sizes 1 to 5), a row that broadcasts along the last axis,
    a column of size-1 last axis, some of their values NaN or infinite, and the axes."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    axes = tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    special = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0])

    def array(shape):
        values = RNG.standard_normal(shape)
        if values.size and draw(st.booleans()):
            values.flat[draw(st.integers(0, values.size - 1))] = draw(special)
        return values.astype(dtype)

    return array(shape), array(shape[-1:]), array((*shape[:-1], 1)), axes


@needs_numba
@settings(max_examples=40, deadline=None)
@given(data=st.data(), dtype=st.sampled_from(FLOATS))
def test_a_region_agrees_with_eager_on_drawn_shapes_axes_and_values(data, dtype):
    x, row, column, axes = data.draw(region_arguments(dtype))
    jitted = mg.jit(region, static_argnames="axes")
    with np.errstate(all="ignore"), tier_up_at(1):
        expected = region(x, row, column, axes)
        for _ in range(2):  # the first call tiers up; the second runs the nests again
            got = jitted(x, row, column, axes)
    for g, e in zip(got, expected, strict=True):
        assert_close(np.asarray(g), np.asarray(e))
    assert fused_source(jitted, x, row, column, axes)


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
def test_empty_axes_and_0d_values(tier_now, dtype):
    def fun(x, s):
        # A (0, 3) batch: sums over the empty axis are 0, maxima over the full one empty.
        y = x * s + 1.0
        return [mnp.sum(y, axis=0), mnp.max(y, axis=1), (s * s + 1.0) * 2.0 - s, mnp.sum(y * y)]

    x, s = np.zeros((0, 3), dtype), dtype(1.5)
    jitted = mg.jit(fun)
    for got, expected in zip(jitted(x, s), fun(x, s), strict=True):
        assert_close(np.asarray(got), np.asarray(expected))
    assert fused_source(jitted, x, s)


@needs_numba
def test_reductions_propagate_nan_and_infinities_as_numpy():
    program = stage_flat(
        lambda x: [mnp.max(x * 1.0 + 0.0, axis=1), mnp.min(x * 1.0 - 0.0, axis=1), mnp.sum(x * 2.0, axis=1)],
        [ShapedArray((4, 3), np.float64)],
    )
    fused = fuse_small_runs(program)
    (kernel,) = kernels(fused)
    x = np.array(
        [[1.0, np.nan, 3.0], [-np.inf, -np.inf, -np.inf], [np.inf, -np.inf, 0.0], [np.nan, np.inf, 1.0]]
    )
    with np.errstate(all="ignore"):
        got = kernel(x)
        expected = [np.max(x, axis=1), np.min(x, axis=1), np.sum(x * 2.0, axis=1)]
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)  # NaN where NumPy's, the same infinities


@needs_numba
def test_float32_sums_are_rounded_once_from_float64():
    # 4097 float32 terms: summed in float32 one by one, each 2**-24 would vanish against
    # 1.0; the nest's float64 accumulator keeps them all, then rounds once.
    x = np.full(4097, 2.0**-24, np.float32)
    x[0] = 1.0
    program = stage_flat(lambda v: [mnp.sum(v * 1.0 + 0.0) * 1.0 - 0.0], [ShapedArray(x.shape, np.float32)])
    (kernel,) = kernels(fuse_small_runs(program))
    (got,) = kernel(x)
    assert got.dtype == np.float32
    assert got == np.float32(np.sum(x, dtype=np.float64))


@needs_numba
def test_float64_sums_are_compensated():
    # Added one after another, 60,000 terms of about 0.68 lose about 1e-12 relative
    # (NumPy's pairwise sum: 1e-16); with Neumaier's compensation the nest's sum is as
    # good as the exact sum of the terms, rounded. Infinities and NaN stay the sum.
    program = stage_flat(lambda v: [mnp.sum(v * 1.1 + 0.3 - v * 0.7)], [ShapedArray((60000,), np.float64)])
    (kernel,) = kernels(fuse_small_runs(program))
    x = np.full(60000, 0.1)
    terms = x * 1.1 + 0.3 - x * 0.7  # the loop's IEEE operations give these bits
    (got,) = kernel(x)
    assert abs(got - math.fsum(terms)) <= 2 * np.spacing(math.fsum(terms))
    doubled = stage_flat(lambda v: [mnp.sum(v * 2.0 + 1.0)], [ShapedArray((60000,), np.float64)])
    (kernel,) = kernels(fuse_small_runs(doubled))
    for specials, expected in (([np.inf], np.inf), ([np.inf, -np.inf], np.nan), ([np.nan, 1.0], np.nan)):
        y = x.copy()
        y[: len(specials)] = specials
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(kernel(y)[0], expected)


@needs_numba
def test_size_1_axes_take_no_loops(tier_now, caplog):
    # 21 axes would be 21 nested loops, more than Python compiles; size-1 axes read index 0.
    def fun(x):
        return [mnp.tanh(mnp.sin(x) * 1.1 + 0.3)]

    x = np.linspace(-1.0, 1.0, 3).reshape((1,) * 20 + (3,))
    jitted = mg.jit(fun)
    with caplog.at_level(logging.WARNING, logger="minigrad.jit"):
        for _ in range(2):
            (got,) = jitted(x)
    assert not caplog.records and fused_source(jitted, x)
    assert_close(got, fun(x)[0])


@needs_numba
def test_the_mlp_loss_gradient_is_a_few_nests_and_agrees_with_eager(tier_now):
    def loss(params, x, y):
        h = mnp.maximum(x @ params["w1"] + params["b1"], 0.0)
        logits = h @ params["w2"] + params["b2"]
        return mnp.mean(mnp.logsumexp(logits, axis=1) - mnp.sum(logits * y, axis=1))

    for dtype, rtol in ((np.float32, 2e-5), (np.float64, 1e-12)):
        params = {
            "w1": RNG.standard_normal((6, 16)).astype(dtype),
            "b1": RNG.standard_normal(16).astype(dtype),
            "w2": RNG.standard_normal((16, 5)).astype(dtype),
            "b2": RNG.standard_normal(5).astype(dtype),
        }
        x = RNG.standard_normal((8, 6)).astype(dtype)
        y = np.eye(5, dtype=dtype)[RNG.integers(0, 5, 8)]
        step = mg.jit(mg.value_and_grad(loss))
        for _ in range(2):
            value, grads = step(params, x, y)
        expected_value, expected_grads = mg.value_and_grad(loss)(params, x, y)
        np.testing.assert_allclose(value, expected_value, rtol=rtol)
        for name in params:
            assert grads[name].dtype == dtype
            np.testing.assert_allclose(grads[name], expected_grads[name], rtol=rtol, atol=rtol)
        source = step.lower(params, x, y).source
        # The loss from the logits to the softmax's gradient is one nest call.
        assert "reduce_max" in source and "loop nests" in source and "_maximum_reduce(" not in source


@needs_numba
def test_a_view_leaving_the_region_is_copied_out_and_non_contiguous_inputs_are_read(tier_now):
    def fun(x):
        y = mnp.exp(x) * 2.0 + 1.0
        return [mnp.reshape(y - x, (1, *x.shape, 1)), mnp.transpose(y)]

    x = RNG.standard_normal((6, 4))[::2, ::-1]  # neither C- nor F-contiguous
    jitted = mg.jit(fun)
    for _ in range(2):
        got = jitted(x)
    for g, e in zip(got, fun(x), strict=True):
        assert_close(np.asarray(g), np.asarray(e))
    assert fused_source(jitted, x)


@needs_numba
def test_what_a_nest_cannot_write_stays_numpy(tier_now):
    # A reshape that regroups elements is no nest's view; a transpose a product reads
    # stays NumPy's free view instead of a copy written by the nest.
    regroup = stage_flat(lambda x: [mnp.reshape(mnp.exp(x) * 2.0, (6, 4))], [ShapedArray((4, 6), np.float64)])
    (eqn,) = [e for e in regroup.eqns if e.primitive.name == "reshape"]
    assert nest_form(eqn) is None

    def fun(x, w):
        y = mnp.tanh(x) * 2.0 + 1.0 - x
        return [y @ mnp.transpose(w), y]

    program = stage_flat(fun, [ShapedArray((4, 6), np.float64), ShapedArray((5, 6), np.float64)])
    names = [eqn.primitive.name for eqn in fuse_small_runs(program).eqns]
    assert names == ["transpose", "fused", "matmul"] or names == ["fused", "transpose", "matmul"]


@needs_numba
def test_array_constants_are_passed_in_and_the_hessian_agrees(tier_now, caplog):
    # The Hessian's program holds constant arrays (literals that are not scalars): the
    # nest takes them as arguments, and no tier-up falls back to the NumPy code.
    def rosen(x):
        return mnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    x = RNG.standard_normal(20)
    hessian = mg.jit(mg.hessian(rosen))
    with caplog.at_level(logging.WARNING, logger="minigrad.jit"):
        for _ in range(2):
            got = hessian(x)
    assert not caplog.records
    np.testing.assert_allclose(got, mg.hessian(rosen)(x), rtol=1e-12)
    assert fused_source(hessian, x)


@needs_numba
def test_which_regions_pay(tier_now):
    def bias_relu(x, b):
        return [mnp.maximum(x + b, 0.0)]

    # Two operations pay on a batch of LARGE_REGION elements (NumPy's broadcast add is
    # slow there), not on a few elements, where MIN_RUN operations are needed.
    for rows, fused in ((LARGE_REGION // 64, True), (2, False)):
        avals = [ShapedArray((rows, 64), np.float32), ShapedArray((64,), np.float32)]
        names = [eqn.primitive.name for eqn in fuse_small_runs(stage_flat(bias_relu, avals)).eqns]
        assert names == (["fused"] if fused else ["add", "max"])
    assert MIN_RUN > 2
    # And so does jit, whose program has those two operations only.
    x, b = np.ones((LARGE_REGION // 64, 64), np.float32), np.ones(64, np.float32)
    jitted = mg.jit(bias_relu)
    jitted(x, b)
    assert fused_source(jitted, x, b)


def test_without_numba_nothing_changes(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "numba", None)
    program = stage_flat(lambda x: region(x, x[0], x[:, :1], (1,)), [ShapedArray((3, 4), np.float64)])
    assert not fusion_available()
    assert fuse_small_runs(program) is program
