"""Tests for minigrad.transforms.jit.gemm and gemm_kernel: the compiled matrix product
agrees with a float64 product on drawn shapes (ragged tiles, depths beyond a block,
k = 0) and layouts (transposed, reversed, sliced and broadcast operands) in float32 and
float64, propagates NaN and infinities as NumPy's does; ``matrix_product`` hands
NumPy what the kernel does not fit; the kernel is compiled only once the work owed
pays for it; jitted programs call it, and their gradients agree with eager ones."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.ir import ShapedArray
from minigrad.transforms.jit import fusion, gemm
from minigrad.transforms.jit.gemm import ROWS, compiled_product, fits_compiled_product, tile_columns

needs_numba = pytest.mark.skipif(
    not fusion.fusion_available(), reason="the kernel needs the 'fast' extra (numba)"
)
FLOATS = (np.float32, np.float64)


def operand(rng, shape, dtype, layout):
    """A ``shape`` operand laid out as ``layout`` says: "c" contiguous, "t" a transposed
    contiguous array, "r" rows reversed (negative stride), "s" every other column of a
    wider array, "b" a row broadcast down (zero row stride)."""
    rows, columns = shape
    if layout == "t":
        return rng.standard_normal((columns, rows)).astype(dtype).T
    if layout == "r":
        return rng.standard_normal(shape).astype(dtype)[::-1]
    if layout == "s":
        return rng.standard_normal((rows, 2 * columns)).astype(dtype)[:, ::2]
    if layout == "b":
        return np.broadcast_to(rng.standard_normal((1, columns)).astype(dtype), shape)
    return rng.standard_normal(shape).astype(dtype)


def run_kernel(a, b):
    out = np.full((a.shape[0], b.shape[1]), np.nan, a.dtype)
    compiled_product(a.dtype)(a, b, out)
    return out


def assert_close_to_exact(result, a, b):
    exact = a.astype(np.float64) @ b.astype(np.float64)
    # Each entry is a sum of k products: its rounding error grows with k and with the
    # sizes of the terms (bounded by |a| @ |b|).
    bound = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64))
    eps = np.finfo(a.dtype).eps
    assert np.all(np.abs(result - exact) <= 2 * (a.shape[1] + 1) * eps * bound + np.finfo(a.dtype).tiny)


@needs_numba
@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(1, 40),
    k=st.sampled_from([0, 1, 2, 7, 16, 33, 255, 256, 257, 600]),
    n=st.integers(1, 80),
    dtype=st.sampled_from(FLOATS),
    layouts=st.tuples(st.sampled_from("ctrsb"), st.sampled_from("ctrs")),
    seed=st.integers(0, 2**16),
)
def test_kernel_agrees_with_a_float64_product(m, k, n, dtype, layouts, seed):
    rng = np.random.default_rng(seed)
    a = operand(rng, (m, k), dtype, layouts[0])
    b = operand(rng, (k, n), dtype, layouts[1])
    result = run_kernel(a, b)
    assert result.dtype == dtype
    if k == 0:
        assert np.array_equal(result, np.zeros((m, n), dtype))
    else:
        assert_close_to_exact(result, a, b)


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
def test_kernel_on_the_shapes_of_a_training_step(dtype):
    # Several column blocks of a copied B (n > 2048) and row blocks of A (m > 128).
    rng = np.random.default_rng(0)
    for (m, k, n), layouts in [((300, 300, 2100), "ct"), ((130, 784, 512), "ct"), ((512, 128, 784), "tc")]:
        a, b = operand(rng, (m, k), dtype, layouts[0]), operand(rng, (k, n), dtype, layouts[1])
        assert_close_to_exact(run_kernel(a, b), a, b)


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
def test_kernel_propagates_nan_and_infinities_as_numpy(dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((9, 20)).astype(dtype)
    b = rng.standard_normal((20, tile_columns(dtype) + 3)).astype(dtype)
    a[2, 5], a[8, 0], b[3, 1], b[7, 4] = np.nan, np.inf, -np.inf, np.nan
    with np.errstate(invalid="ignore"):
        expected = a @ b
    result = run_kernel(a, b)
    assert np.array_equal(np.isnan(result), np.isnan(expected))
    assert np.array_equal(np.isposinf(result), np.isposinf(expected))
    assert np.array_equal(np.isneginf(result), np.isneginf(expected))


@pytest.fixture
def kernel_ready(monkeypatch):
    """matrix_product uses the compiled kernel now, whatever this machine's timing says."""
    for dtype in FLOATS:
        state = gemm.kernel_state(dtype)
        monkeypatch.setattr(state, "product", compiled_product(dtype))
        monkeypatch.setattr(state, "settled", True)


@needs_numba
@pytest.mark.parametrize(
    "a, b",
    [
        (np.ones((8, 3), np.int64), np.ones((3, 32), np.int64)),  # integers
        (np.ones((8, 3), np.float32), np.ones((3, 32), np.float64)),  # mixed dtypes
        (np.ones((4, 3)), np.ones((3, 32))),  # fewer rows than a tile
        (np.ones((8, 3)), np.ones((3, 4))),  # fewer columns than a tile
        (np.ones((8, 3), np.complex128), np.ones((3, 32), np.complex128)),
        (np.matrix(np.ones((8, 3))), np.ones((3, 32))),  # a subclass: NumPy's semantics
        (np.ones((8, 3)), np.ones((3, 64, 2))[:, :, 0]),  # neither axis of b contiguous
        (np.ones((8, 3)).astype(">f8"), np.ones((3, 32))),  # big-endian
        (np.ones((2, 8, 3)), np.ones((3, 32))),  # batched
        (np.ones((2, 8, 3)), np.ones((2, 3, 32))),
    ],
)
def test_matrix_product_hands_numpy_what_the_kernel_does_not_fit(kernel_ready, a, b):
    result = gemm.matrix_product(a, b)
    expected = a @ b
    assert type(result) is type(expected) and result.dtype == expected.dtype
    assert np.array_equal(result, expected)


@needs_numba
def test_matrix_product_hands_numpy_an_unaligned_operand(kernel_ready):
    raw = np.zeros(8 * 3 * 8 + 1, np.uint8)[1:].view(np.float64).reshape(8, 3)
    raw[...] = np.arange(24.0).reshape(8, 3)
    assert not raw.flags.aligned
    b = np.ones((3, 32))
    assert np.array_equal(gemm.matrix_product(raw, b), np.asarray(raw) @ b)


@needs_numba
def test_matrix_product_is_safe_from_several_threads(kernel_ready):
    rng = np.random.default_rng(2)
    pairs = [(rng.standard_normal((64, 300)), rng.standard_normal((300, 96)).T.copy().T) for _ in range(4)]
    results = [None] * 4

    def work(i):
        for _ in range(20):
            results[i] = gemm.matrix_product(*pairs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for (a, b), result in zip(pairs, results):
        assert_close_to_exact(result, a, b)


@needs_numba
def test_the_kernel_is_compiled_once_the_work_owed_pays_for_it(monkeypatch):
    state = gemm._Kernel(np.float64)
    monkeypatch.setitem(gemm._STATES, np.dtype(np.float64), state)
    monkeypatch.setattr(gemm, "TIER_UP_CALLS", None)
    # 64 x 64 x 64 products save about 4.4 us each at the assumed rate: 1e-4 s is
    # owed after 23 of them.
    monkeypatch.setattr(gemm, "COMPILE_SECONDS", 1e-4)
    a = np.ones((64, 64))
    for _ in range(22):
        assert np.array_equal(gemm.matrix_product(a, a), a @ a)
    assert not state.settled and state.calls == 22
    gemm.matrix_product(a, a)
    assert state.settled and state.compile_seconds is not None
    # Kept only if it beat NumPy here; either way the products stay right.
    assert state.product in (None, compiled_product(np.float64))
    assert np.array_equal(gemm.matrix_product(a, a), a @ a)


def test_kernel_choice_by_avals():
    f32, f64 = np.dtype(np.float32), np.dtype(np.float64)
    fits = fits_compiled_product(ShapedArray((ROWS, 5), f32), ShapedArray((5, tile_columns(f32)), f32))
    assert fits == fusion.fusion_available()
    assert not fits_compiled_product(ShapedArray((ROWS - 1, 5), f32), ShapedArray((5, 64), f32))
    assert not fits_compiled_product(ShapedArray((64, 5), f32), ShapedArray((5, tile_columns(f32) - 1), f32))
    assert not fits_compiled_product(ShapedArray((64, 5), f32), ShapedArray((5, 64), f64))
    assert not fits_compiled_product(ShapedArray((2, 64, 5), f32), ShapedArray((5, 64), f32))
    assert not fits_compiled_product(ShapedArray((64, 0), f32), ShapedArray((0, 64), f32))
    assert not fits_compiled_product(
        ShapedArray((64, 5), np.dtype(np.int32)), ShapedArray((5, 64), np.dtype(np.int32))
    )


def mlp_loss(params, x):
    h = mnp.tanh(x @ params["w1"].T)
    return mnp.sum((h @ params["w2"]) ** 2)


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
def test_jitted_gradients_call_the_kernel_and_agree_with_eager_ones(kernel_ready, dtype):
    rng = np.random.default_rng(4)
    params = {
        "w1": rng.standard_normal((48, 40)).astype(dtype),
        "w2": rng.standard_normal((48, 33)).astype(dtype),
    }
    x = rng.standard_normal((17, 40)).astype(dtype)
    step = mg.jit(mg.value_and_grad(mlp_loss))
    assert f"_{np.dtype(dtype).name}_product(" in step.lower(params, x).source
    value, grads = step(params, x)
    eager_value, eager_grads = mg.value_and_grad(mlp_loss)(params, x)
    rtol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(value, eager_value, rtol=rtol)
    for name in params:
        np.testing.assert_allclose(
            grads[name], eager_grads[name], rtol=rtol, atol=rtol * np.abs(eager_grads[name]).max()
        )


def test_batched_and_small_products_stay_numpy_products():
    step = mg.jit(lambda a, b: (a @ b, a[0, :4] @ b[0, :, :2]))
    source = step.lower(np.ones((3, 16, 8)), np.ones((3, 8, 64))).source
    assert "_product(" not in source and "@" in source
