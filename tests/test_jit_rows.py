"""Reductions and products over rows in compiled programs (ops/reduce_kernels.py,
``matmul_over_rows`` and ``sum_of_sum``): the same values as NumPy, on every layout."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.ir import ShapedArray
from minigrad.core.staging import stage_flat
from minigrad.ops.linalg import matmul, matmul_p
from minigrad.ops.reduce_kernels import CACHED_ONES, SHORT_SUM
from minigrad.ops.shape import reduce_sum, reduce_sum_p, transpose
from minigrad.transforms.jit.passes import dce, simplify

REDUCTIONS = {"sum": (mnp.sum, np.sum), "max": (mnp.max, np.max), "min": (mnp.min, np.min)}


def arrays(draw, ndim_range=(2, 4), max_side=12):
    shape = tuple(draw(st.lists(st.integers(0, max_side), min_size=ndim_range[0], max_size=ndim_range[1])))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    values = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal(shape).astype(dtype)
    return values


@st.composite
def reduction_cases(draw):
    x = arrays(draw)
    count = draw(st.integers(1, x.ndim - 1))
    axes = tuple(range(count)) if draw(st.booleans()) else tuple(range(x.ndim - count, x.ndim))
    # A transposed operand: the kernels see an array that is not row-major.
    permutation = draw(st.permutations(range(x.ndim)))
    return x, axes, tuple(permutation), draw(st.sampled_from(sorted(REDUCTIONS)))


@settings(max_examples=150, deadline=None)
@given(reduction_cases())
def test_reductions_over_rows_agree_with_numpy(case):
    x, axes, permutation, name = case
    ours, theirs = REDUCTIONS[name]
    operand = x.transpose(permutation)
    if name != "sum" and any(operand.shape[axis] == 0 for axis in axes):
        with pytest.raises(ValueError):
            mg.jit(lambda v: ours(v, axis=axes))(operand)
        return
    for value in (operand, np.ascontiguousarray(operand)):
        got = mg.jit(lambda v: ours(v, axis=axes))(value)
        expected = theirs(value, axis=axes)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        tolerance = 1e-5 if x.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance * max(1, x.shape[0] ** 0.5))
        if name != "sum":
            np.testing.assert_array_equal(got, expected)  # an extremum is one of the elements


@pytest.mark.parametrize(
    "fun, expected",
    [
        (lambda v: mnp.sum(v, axis=2), "_sum_trailing"),
        (lambda v: mnp.sum(v, axis=(0, 1)), "_sum_leading"),
        (lambda v: mnp.max(v, axis=-1), "_extremum_trailing"),
        (lambda v: mnp.min(v, axis=-1), "_extremum_trailing"),
        (lambda v: mnp.max(v, axis=(0, 1)), "_maximum_reduce"),  # NumPy's is fast there
        (lambda v: mnp.sum(v), "_add_reduce"),  # pairwise over everything
    ],
)
def test_row_kernels_are_chosen_by_shape(fun, expected):
    x = np.ones((32, 32, 27), np.float32)
    assert f"= {expected}(" in mg.jit(fun).lower(x).source


@pytest.mark.parametrize("columns, kernel", [(128, "_sum_trailing"), (129, "_add_reduce")])
def test_long_trailing_sums_stay_pairwise(columns, kernel):
    # NumPy sums up to 128 elements in order (in lanes) and pairwise beyond, which keeps
    # the error of long float32 sums small: those stay NumPy's.
    assert SHORT_SUM == 128
    x = np.ones((256, columns), np.float32)
    assert f"= {kernel}(" in mg.jit(lambda v: mnp.sum(v, axis=1)).lower(x).source


def test_infinities_and_nans_propagate_as_numpy_s():
    x = np.zeros((160, 3, 5))
    x[0, 0, 0], x[1, 0, 0], x[2, 1, 1], x[3, 2, 2] = np.inf, -np.inf, np.nan, np.inf
    for fun, reference in [
        (lambda v: mnp.sum(v, axis=0), lambda v: np.sum(v, axis=0)),
        (lambda v: mnp.sum(v, axis=(1, 2)), lambda v: np.sum(v, axis=(1, 2))),
        (lambda v: mnp.max(v, axis=2), lambda v: np.max(v, axis=2)),
        (lambda v: mnp.min(v, axis=(1, 2)), lambda v: np.min(v, axis=(1, 2))),
    ]:
        assert "_sum_" in mg.jit(fun).lower(x).source or "_extremum_" in mg.jit(fun).lower(x).source
        with np.errstate(invalid="ignore"):  # inf - inf: NumPy's sums warn too
            np.testing.assert_array_equal(mg.jit(fun)(x), reference(x))


def test_gradients_through_row_reductions():
    x = np.random.default_rng(0).standard_normal((64, 10))

    def loss(v):
        shifted = v - mnp.max(v, axis=1, keepdims=True)
        return mnp.sum(mnp.sum(mnp.exp(shifted), axis=1) * mnp.sum(v, axis=1)) + mnp.sum(
            mnp.sum(v, axis=0) ** 2
        )

    np.testing.assert_allclose(mg.jit(mg.grad(loss))(x), mg.grad(loss)(x), rtol=1e-12)


def test_sum_of_sum_is_one_sum():
    program = stage_flat(
        lambda x: [reduce_sum(reduce_sum(x, (1,)), (0, 1))], [ShapedArray((3, 4, 5, 6), np.float64)]
    )
    sums = [eqn for eqn in dce(simplify(program.jaxpr)).eqns if eqn.primitive is reduce_sum_p]
    assert [eqn.params["axes"] for eqn in sums] == [(0, 1, 2)]
    x = np.random.default_rng(1).standard_normal((3, 4, 5, 6))
    np.testing.assert_allclose(
        mg.jit(lambda v: mnp.sum(mnp.sum(v, axis=1), axis=(0, 1)))(x), x.sum((0, 1, 2))
    )


def products(program):
    return [eqn for eqn in dce(simplify(program.jaxpr)).eqns if eqn.primitive is matmul_p]


@pytest.mark.parametrize("permutation", [None, (1, 0, 2), (2, 1, 0)])
def test_a_stack_of_products_with_one_weight_is_one_product(permutation):
    def fun(h, w):
        return [matmul(h if permutation is None else transpose(h, permutation), w)]

    program = stage_flat(fun, [ShapedArray((3, 4, 3), np.float64), ShapedArray((3, 9), np.float64)])
    (product,) = products(program)
    assert product.invars[0].aval.shape == (12, 3)
    rng = np.random.default_rng(2)
    h, w = rng.standard_normal((3, 4, 3)), rng.standard_normal((3, 9))
    expected = (h if permutation is None else h.transpose(permutation)) @ w
    got = mg.jit(lambda h, w: fun(h, w)[0])(h, w)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got.flags.writeable and not np.shares_memory(got, h)


@pytest.mark.parametrize("columns, folded", [(8, True), (2, False)])
def test_a_stack_out_of_row_order_is_copied_for_products_with_many_columns(columns, folded):
    # (2, 0, 1)'s leading axes do not fold as a view: the reshape copies the stack,
    # worth it unless the product has few columns.
    program = stage_flat(
        lambda h, w: [matmul(transpose(h, (2, 0, 1)), w)],
        [ShapedArray((5, 4, 3), np.float64), ShapedArray((4, columns), np.float64)],
    )
    (product,) = products(program)
    assert product.invars[0].aval.shape == ((15, 4) if folded else (3, 5, 4))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(0, 5), st.integers(0, 5), st.integers(0, 4), st.integers(0, 4))
def test_folded_products_eagerly_and_jitted(batch, rows, inner, columns, seed):
    rng = np.random.default_rng(seed)
    h, w = rng.standard_normal((batch, 2, rows, inner)), rng.standard_normal((inner, columns))
    expected = np.matmul(h, w)
    np.testing.assert_allclose(mnp.matmul(h, w), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mg.jit(mnp.matmul)(h, w), expected, rtol=1e-12, atol=1e-12)
    g = mg.grad(lambda w: mnp.sum(mnp.matmul(h, w) ** 2))(w)
    np.testing.assert_allclose(g, 2 * np.einsum("bnrk,bnrc->kc", h, expected), rtol=1e-10, atol=1e-10)


def test_sums_over_more_rows_than_the_cached_ones_vectors():
    x = np.random.default_rng(3).standard_normal((CACHED_ONES + 5, 3))
    source = mg.jit(lambda v: mnp.sum(v, axis=0)).lower(x).source
    assert "_sum_leading(" in source
    np.testing.assert_allclose(mg.jit(lambda v: mnp.sum(v, axis=0))(x), x.sum(0), rtol=1e-9)
