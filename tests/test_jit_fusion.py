"""Tests for minigrad.transforms.jit.fusion: fused loops compute what the unfused program
computes (dtypes exactly, values bit for bit for the IEEE operations), on drawn shapes and
on NaN, infinities and signed zeros; aliasing and buffer reuse stay safe; without numba,
or for small arrays, the program is compiled exactly as before."""

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.ir import ShapedArray
from minigrad.core.primitive import all_primitives
from minigrad.core.staging import stage_flat
from minigrad.core.trace import bind
from minigrad.ops.selection import BRANCH_FREE_SELECT_SIZE, select_by_bits
from minigrad.transforms.jit import fusion
from minigrad.transforms.jit.compiler import compile_jaxpr
from minigrad.transforms.jit.fusion import MIN_FUSED_SIZE, SCALAR_FORMS, fuse_elementwise, fused_p

# Fusing needs numba (the `fast` extra); the tests of the plain path run without it.
needs_numba = pytest.mark.skipif(
    not fusion.fusion_available(), reason="fusion needs the 'fast' extra (numba)"
)

FLOATS = (np.float32, np.float64)
SPECIAL = (np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 2.5, -3.0, 1e-30)


def _fusable_primitives():
    """Every registered primitive whose implementation fusion knows (by object)."""
    return sorted(
        (prim for prim in all_primitives().values() if _known_impl(prim.impl) and not prim.multiple_results),
        key=lambda prim: prim.name,
    )


def _known_impl(impl) -> bool:
    try:
        return impl in SCALAR_FORMS
    except TypeError:  # an unhashable implementation
        return False


def _operand_dtypes(prim, dtype):
    kind = SCALAR_FORMS[prim.impl][2]
    if kind == "select":
        return [np.dtype(bool), np.dtype(dtype), np.dtype(dtype)]
    arity = 1 if prim.impl in (np.negative, np.absolute) else 2
    return [np.dtype(dtype)] * arity


def _values(draw_data, shape, dtype):
    if np.dtype(dtype) == np.bool_:
        return draw_data.draw(
            st.lists(st.booleans(), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))
        )
    return draw_data.draw(
        st.lists(
            st.sampled_from(SPECIAL) | st.floats(-1e3, 1e3, width=32),
            min_size=int(np.prod(shape)),
            max_size=int(np.prod(shape)),
        )
    )


def _fused_and_plain(fun, avals):
    program = stage_flat(fun, avals)
    fused = fuse_elementwise(program, min_size=0)  # whatever the size
    return compile_jaxpr(fused), compile_jaxpr(program), fused


def assert_same(got, expected):
    """Equal dtypes, shapes and values, NaN where NaN, and the same signs of zero."""
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g, e)
        if g.dtype.kind == "f":
            np.testing.assert_array_equal(np.signbit(g), np.signbit(e))


def test_the_fusable_primitives_are_found_by_their_implementation():
    names = {prim.name for prim in _fusable_primitives()}
    assert {"add", "sub", "mul", "div", "neg", "abs", "max", "min", "select", "gt", "lt", "eq"} <= names
    assert "exp" not in names and "sin" not in names  # NumPy's SIMD versions are faster


@needs_numba
@pytest.mark.parametrize("prim", _fusable_primitives(), ids=lambda prim: prim.name)
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@settings(max_examples=6)
@given(data=st.data(), shape=st.sampled_from([(7,), (2, 3), (3, 1, 4), ()]), second_scalar=st.booleans())
def test_each_fusable_primitive_fused_equals_unfused(prim, dtype, data, shape, second_scalar):
    # Only runs holding a `where` are fused: each primitive is put in one.
    dtypes = _operand_dtypes(prim, dtype)
    shapes = [shape] * len(dtypes)
    if second_scalar and len(dtypes) > 1:
        shapes[-1] = ()
    avals = [ShapedArray(s, d) for s, d in zip(shapes, dtypes, strict=True)]
    out_is_bool = SCALAR_FORMS[prim.impl][2] == "comparison"

    def fun(*args):
        out = bind(prim, *args)
        return [mnp.where(out, args[0], 2.0) if out_is_bool else mnp.where(out > 1.0, out, -out), out]

    fused, plain, program = _fused_and_plain(fun, avals)
    assert any(eqn.primitive is fused_p for eqn in program.jaxpr.eqns)
    args = [np.array(_values(data, s, d), d).reshape(s) for s, d in zip(shapes, dtypes, strict=True)]
    with np.errstate(all="ignore"):
        assert_same(fused(*args), plain(*args))


@needs_numba
@given(data=st.data(), size=st.integers(0, 40), dtype=st.sampled_from(FLOATS))
def test_a_chain_feeding_a_reduction_matches(data, size, dtype):
    x = np.array(_values(data, (size,), dtype), dtype)
    y = np.array(_values(data, (size,), dtype), dtype)
    avals = [ShapedArray((size,), dtype)] * 2

    def fun(x, y):
        chain = mnp.where(x > 0, x * 2.0, -x) / (mnp.abs(y) + 1.0) - mnp.minimum(x, y)
        return [mnp.sum(chain), mnp.max(mnp.maximum(chain, y), initial=-np.inf)]

    fused, plain, program = _fused_and_plain(fun, avals)
    assert any(eqn.primitive is fused_p for eqn in program.jaxpr.eqns)
    with np.errstate(all="ignore"):
        assert_same(fused(x, y), plain(x, y))


@needs_numba
def test_transcendental_functions_stay_numpy_calls_between_fused_operations():
    def selu(x):
        return 1.05 * mnp.where(x > 0, x, 1.67 * mnp.exp(x) - 1.67)

    x = np.random.default_rng(0).standard_normal(MIN_FUSED_SIZE).astype(np.float32)
    jitted = mg.jit(selu)
    source = jitted.lower(x).source
    assert "_exp(a)" in source and source.count("_fused(") == 1  # one loop around the exp
    assert "# fused: " in source and "where(" in source
    result = jitted(x)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, selu(x))  # eager: NumPy, operation by operation


@needs_numba
def test_small_arrays_take_the_plain_path():
    f = mg.jit(lambda x: 1.05 * mnp.where(x > 0, x, 1.67 * mnp.exp(x) - 1.67))
    small = np.ones(MIN_FUSED_SIZE - 1, np.float32)
    assert "_fused" not in f.lower(small).source
    assert "_fused" in f.lower(np.ones(MIN_FUSED_SIZE, np.float32)).source


def test_without_numba_the_numpy_path_is_used(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # as if the extra were not installed
    assert not fusion.fusion_available()
    x = np.linspace(-2, 2, MIN_FUSED_SIZE)
    f = mg.jit(lambda x: mnp.where(x > 0, x * 3.0, x - 1.0))
    source = f.lower(x).source
    assert "_fused" not in source and "_select_by_bits(" in source  # large: no branch per element
    np.testing.assert_array_equal(f(x), np.where(x > 0, x * 3.0, x - 1.0))


def test_arithmetic_alone_is_left_to_numpy():
    program = stage_flat(lambda x: [mnp.maximum(x * 2.0 - 1.0, 0.0)], [ShapedArray((8,), np.float32)])
    assert fuse_elementwise(program, min_size=0) is program


BITS_DTYPES = (np.float32, np.float64, np.float16, np.int8, np.int64, np.uint16, np.bool_)


@given(
    data=st.data(),
    dtype=st.sampled_from(BITS_DTYPES),
    shapes=st.sampled_from(
        [((5,), (5,), (5,)), ((2, 3), (3,), ()), ((), (4,), (1, 4)), ((0, 2), (2,), (0, 1))]
    ),
)
def test_select_by_bits_copies_exactly_what_np_where_copies(data, dtype, shapes):
    cond_shape, x_shape, y_shape = shapes
    dtype = np.dtype(dtype)

    def draw(shape):
        raw = data.draw(
            st.binary(
                min_size=int(np.prod(shape)) * dtype.itemsize, max_size=int(np.prod(shape)) * dtype.itemsize
            )
        )
        values = np.frombuffer(raw, dtype=np.uint8).view(dtype).reshape(shape)  # any bits: NaN payloads, -0.0
        return values if dtype != np.bool_ else values.astype(bool)

    cond = np.array(
        data.draw(
            st.lists(st.booleans(), min_size=int(np.prod(cond_shape)), max_size=int(np.prod(cond_shape)))
        ),
        bool,
    ).reshape(cond_shape)
    x, y = draw(x_shape), draw(y_shape)
    got, expected = select_by_bits(cond, x, y), np.where(cond, x, y)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()


def test_jit_selects_by_bits_for_large_arrays_only():
    f = mg.jit(lambda c, x, y: mnp.where(c, x, y))
    for size, expected in (
        (BRANCH_FREE_SELECT_SIZE - 1, "_where("),
        (BRANCH_FREE_SELECT_SIZE, "_select_by_bits("),
    ):
        c = np.arange(size) % 3 == 0
        x, y = np.arange(size, dtype=np.float32), np.full(size, -0.0, np.float32)
        assert expected in f.lower(c, x, y).source
        assert f(c, x, y).tobytes() == np.where(c, x, y).tobytes()


@needs_numba
def test_integer_and_broadcasting_runs_are_not_fused():
    ints = stage_flat(lambda x: [x * 3 + 1], [ShapedArray((8,), np.int64)])
    assert fuse_elementwise(ints, min_size=1) is ints  # integer overflow and division differ in numba
    rows = stage_flat(
        lambda x, b: [mnp.where(x > 2.0, x + b, x * 2.0)],
        [ShapedArray((4, 3), np.float64), ShapedArray((3,), np.float64)],
    )
    fused = fuse_elementwise(rows, min_size=1)
    # `>`, `*` and `where` are fused; the broadcasting `+ b` stays a NumPy call before them.
    assert [eqn.primitive.name for eqn in fused.eqns] == ["add", "fused"]
    x, b = np.arange(12.0).reshape(4, 3), np.arange(3.0)
    assert_same(compile_jaxpr(fused)(x, b), compile_jaxpr(rows)(x, b))


@needs_numba
def test_values_used_outside_the_run_are_its_outputs():
    avals = [ShapedArray((5,), np.float64)]

    def fun(x):
        doubled = mnp.where(x > 0, x * 2.0, x)
        return [mnp.exp(doubled) + doubled, doubled]  # `doubled` leaves the run twice

    fused, plain, program = _fused_and_plain(fun, avals)
    x = np.linspace(-1, 1, 5)
    assert_same(fused(x), plain(x))


@needs_numba
def test_a_reversed_view_of_an_operand_is_read_correctly():
    # The run's operands are exp(x) and its reversed view, both dead after the loop:
    # the loop writes new arrays, so neither is overwritten while it is still read.
    avals = [ShapedArray((6,), np.float64)]

    def fun(x):
        e = mnp.exp(x)
        return [mnp.where(e > 1.0, e * 2.0, mnp.flip(e))]

    fused, plain, program = _fused_and_plain(fun, avals)
    x = np.linspace(-1, 1, 6)
    assert_same(fused(x), plain(x))
    e = np.exp(x)
    np.testing.assert_array_equal(fused(x)[0], np.where(e > 1.0, e * 2.0, e[::-1]))


@needs_numba
def test_inputs_are_never_written_and_results_are_fresh():
    x = np.linspace(-1, 1, MIN_FUSED_SIZE)
    copy = x.copy()
    f = mg.jit(lambda x: (x * 2.0 - 1.0, mnp.where(x > 0, x, 0.0)))
    first, second = f(x)
    np.testing.assert_array_equal(x, copy)
    assert not np.shares_memory(first, x) and not np.shares_memory(first, second)
    np.testing.assert_array_equal(first, x * 2.0 - 1.0)


@needs_numba
@pytest.mark.parametrize("shape", [(), (0,), (0, 3)])
def test_zero_d_and_empty_arrays(shape):
    avals = [ShapedArray(shape, np.float32)]
    fused, plain, program = _fused_and_plain(
        lambda x: [mnp.where(x < 0, mnp.maximum(x * 2.0, -1.0) - x, x)], avals
    )
    assert any(eqn.primitive is fused_p for eqn in program.jaxpr.eqns)
    x = np.full(shape, -0.5, np.float32)
    assert_same(fused(x), plain(x))


@needs_numba
def test_fused_jit_composes_with_grad_and_vmap():
    x = np.linspace(-2, 2, MIN_FUSED_SIZE)

    def loss(x):
        return mnp.sum(mnp.where(x > 0, x * x, -0.5 * x))

    grad = mg.jit(mg.grad(loss))(x)
    np.testing.assert_array_equal(grad, np.where(x > 0, 2 * x, -0.5))
    np.testing.assert_array_equal(mg.grad(mg.jit(loss))(x), grad)


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@settings(max_examples=10)
@given(data=st.data(), shape=st.sampled_from([(7,), (2, 3), ()]))
def test_casts_of_comparisons_to_floats_fuse_bit_for_bit(dtype, data, shape):
    # The weights of maximum's gradient: wins + 0.5 * ties, as booleans cast to floats.
    avals = [ShapedArray(shape, dtype)] * 2

    def fun(x, g):
        wins = (x > 0.0).astype(dtype)
        ties = (x == 0.0).astype(dtype)
        return [g * (wins + ties * 0.5)]

    fused, plain, program = _fused_and_plain(fun, avals)
    assert [eqn.primitive for eqn in program.jaxpr.eqns] == [fused_p]
    x, g = (np.array(_values(data, shape, dtype), dtype).reshape(shape) for _ in range(2))
    with np.errstate(all="ignore"):
        assert_same(fused(x, g), plain(x, g))


def test_only_casts_of_booleans_to_floats_join_a_loop():
    def form(source_dtype, result_dtype):
        program = stage_flat(lambda x: [x.astype(result_dtype)], [ShapedArray((3,), source_dtype)])
        return fusion.scalar_form(program.eqns[0])

    assert form(np.bool_, np.float32) is not None and form(np.bool_, np.float64) is not None
    assert form(np.int64, np.float64) is None and form(np.float32, np.float64) is None
    assert form(np.bool_, np.int32) is None


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
def test_a_relu_gradient_is_one_loop_and_equals_eager(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2 * MIN_FUSED_SIZE // 256, 256)).astype(dtype)
    x[::7] = 0.0  # ties, which get half the cotangent
    x[1, :3] = (np.nan, np.inf, -np.inf)
    w = rng.standard_normal(256).astype(dtype)

    def loss(x, w):
        return mnp.sum(mnp.maximum(x, 0.0) * w)

    step = mg.jit(mg.grad(loss))
    inputs = {
        "contiguous": (x, w),
        "transposed": (np.ascontiguousarray(x.T).T, w),
        "strided": (np.repeat(x, 2, axis=1)[:, ::2], w),
        "broadcast": (np.broadcast_to(x[0], x.shape), np.broadcast_to(w[:1], w.shape)),
    }
    for name, (xs, ws) in inputs.items():
        assert "_fused(" in step.lower(xs, ws).source, name
        assert_same([step(xs, ws)], [mg.grad(loss)(xs, ws)])


@needs_numba
def test_elementwise_work_on_a_transposed_array_stays_numpy_calls():
    # A loop would copy the view and return C order where NumPy keeps the view's order.
    x = np.linspace(-1, 1, 2 * MIN_FUSED_SIZE).reshape(256, -1)

    def fun(x):
        t = x.T
        relu_mask = (t > 0.0).astype(t.dtype) + (t == 0.0).astype(t.dtype) * 0.5
        return relu_mask * 3.0, mnp.where(x > 0, x, -x)

    jitted = mg.jit(fun)
    source = jitted.lower(x).source
    assert source.count("_fused(") == 1 and "_fused(a" in source  # only the untransposed run
    assert_same(jitted(x), fun(x))
