"""The array functions of ``minigrad.numpy`` (building, cumulative, sorting, statistics)
against NumPy itself: values, shapes, dtypes and keywords. Derivatives, batching and jit
are checked by the rows of ``op_specs_arrays.py``."""

import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
import minigrad.numpy as mnp
from tests import op_specs_arrays
from tests.op_specs import op_args
from tests.transform_specs import split_arrays

# ---------------------------------------------------------------------------------------
# Sequences holding traced values are stacked, as NumPy stacks a list.


def test_sequences_of_traced_values_are_arrays():
    assert mg.grad(lambda x: mnp.sum([x, 2 * x]))(1.5) == 3.0
    assert mg.grad(lambda x: mnp.asarray((x, 1.0))[0] * 3)(1.5) == 3.0
    np.testing.assert_allclose(mg.grad(lambda x: mnp.sin([x, x]).sum())(1.0), 2 * np.cos(1.0))
    np.testing.assert_allclose(mg.grad(lambda x: mnp.mean([[x, 1.0], [2.0, x]]))(1.5), 0.5)
    np.testing.assert_allclose(mg.jit(lambda x, y: mnp.array([x, y]))(1.0, 2.0), [1.0, 2.0])
    np.testing.assert_allclose(mg.vmap(lambda x: mnp.array([x, 2 * x]))(np.arange(2.0)), [[0, 0], [1, 2]])


def test_python_numbers_in_a_traced_sequence_stay_weak():
    closed = mg.make_jaxpr(lambda x: mnp.array([[x, 1.0], [2.0, x]]))(np.float32(1.5))
    assert closed.out_avals[0].dtype == np.float32
    grad = mg.grad(lambda x: mnp.add([x, 1.0], 2.0).sum())(np.float32(1.5))
    assert grad.dtype == np.float32


def test_ragged_traced_sequences_are_refused():
    with pytest.raises(ValueError, match="one shape"):
        mg.make_jaxpr(lambda x: mnp.array([x, 1.0]))(np.ones(2))


# ---------------------------------------------------------------------------------------
# jit of every row of this family's table equals eager evaluation, values and gradients.


@pytest.mark.parametrize("spec", op_specs_arrays.SPECS, ids=lambda s: s.name)
def test_jit_equals_eager(spec):
    @settings(max_examples=3, deadline=None)
    @given(op_args(spec))
    def check(args):
        fun, arrays = split_arrays(spec, args)
        np.testing.assert_allclose(mg.jit(fun)(*arrays), fun(*arrays), rtol=1e-12, atol=1e-12)

        def scalar(*xs):
            return (fun(*xs) ** 2).sum()

        argnums = tuple(range(len(arrays)))
        eager, compiled = mg.grad(scalar, argnums)(*arrays), mg.jit(mg.grad(scalar, argnums))(*arrays)
        for e, c in zip(eager, compiled, strict=True):
            np.testing.assert_allclose(c, e, rtol=1e-10, atol=1e-12)

    check()


# ---------------------------------------------------------------------------------------
# Values, shapes and dtypes against NumPy.

RNG = np.random.default_rng(7)
TIES = RNG.integers(0, 4, (3, 5)).astype(np.float32)  # ties, to see that sorts are stable
MIXED = [np.array([[1, 2, 0], [3, 0, 4]], np.int8), np.array([True, False, True]), TIES]


def assert_same(got, expected):
    """Same values, shape and dtype as NumPy's result (tuples element by element)."""
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            assert_same(g, e)
        return
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape and got.dtype == expected.dtype, (got, expected)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("x", MIXED, ids=["int8", "bool", "float32"])
@pytest.mark.parametrize("name", ["cumsum", "cumprod", "nancumsum", "nancumprod"])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_running_totals_match_numpy(name, x, axis):
    assert_same(getattr(mnp, name)(x, axis=axis), getattr(np, name)(x, axis=axis))


def test_running_totals_keywords_match_numpy():
    x = np.array([[1.0, np.nan], [2.0, 3.0]])
    assert_same(mnp.nancumsum(x, axis=1), np.nancumsum(x, axis=1))
    assert_same(mnp.cumsum(MIXED[0], dtype=np.float32), np.cumsum(MIXED[0], dtype=np.float32))
    for name in ("cumulative_sum", "cumulative_prod"):
        for include_initial in (False, True):
            got = getattr(mnp, name)(TIES, axis=1, include_initial=include_initial)
            assert_same(got, getattr(np, name)(TIES, axis=1, include_initial=include_initial))
    with pytest.raises(ValueError, match="axis"):
        mnp.cumulative_sum(TIES)
    assert_same(mg.grad(lambda x: mnp.cumprod(x).sum())(np.array([2.0, 0.0, 3.0])), np.array([1.0, 8.0, 0.0]))


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m.diff(x),
        lambda m, x: m.diff(x, n=2, axis=0, prepend=0),
        lambda m, x: m.diff(x, n=0),
        lambda m, x: m.diff(x > 1, axis=1, append=[[True]] * x.shape[0]),
        lambda m, x: m.ediff1d(x, to_end=[9, 9], to_begin=1),
        lambda m, x: m.gradient(x),
        lambda m, x: m.gradient(x, 2.0, axis=1, edge_order=2),
        lambda m, x: m.gradient(x, 0.5, 2.0),
    ],
)
def test_differences_match_numpy(call):
    x = (np.arange(20.0) ** 2).reshape(4, 5) % 7
    assert_same(call(mnp, x), call(np, x))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_sorts_match_numpy(axis):
    assert_same(mnp.sort(TIES, axis=axis), np.sort(TIES, axis=axis))
    assert_same(mnp.argsort(TIES, axis=axis), np.argsort(TIES, axis=axis, kind="stable"))
    assert_same(mnp.sort(MIXED[0], axis=axis), np.sort(MIXED[0], axis=axis))
    with_nan = np.array([2.0, np.nan, 1.0])
    assert_same(mnp.sort(with_nan), np.sort(with_nan))


def test_descending_sorts_are_stable():
    x = np.array([1.0, 3.0, 1.0, 3.0])
    assert_same(mnp.argsort(x, descending=True), np.array([1, 3, 0, 2]))
    assert_same(mnp.sort(x, descending=True), np.array([3.0, 3.0, 1.0, 1.0]))


def test_partitions_put_the_kth_element_in_place():
    x = RNG.standard_normal((3, 6))
    for kth in (0, 2, -1):
        got = mnp.partition(x, kth, axis=1)
        np.testing.assert_array_equal(got[:, kth], np.partition(x, kth, axis=1)[:, kth])
        order = mnp.argpartition(x, kth, axis=1)
        np.testing.assert_array_equal(np.take_along_axis(x, order, 1)[:, kth], np.sort(x, 1)[:, kth])
    with pytest.raises(ValueError, match="kth"):
        mnp.partition(x, 6)


def test_lexsort_searchsorted_digitize_take_along_axis_match_numpy():
    keys = [RNG.integers(0, 3, 8) for _ in range(3)]
    assert_same(mnp.lexsort(keys), np.lexsort(keys))
    assert_same(mnp.lexsort(np.stack(keys)), np.lexsort(np.stack(keys)))
    a, v = np.array([1.0, 2.0, 2.0, 3.0]), np.array([[0.0, 2.0], [2.5, 9.0]])
    for side in ("left", "right"):
        assert_same(mnp.searchsorted(a, v, side=side), np.searchsorted(a, v, side=side))
    unsorted = np.array([3.0, 1.0, 2.0])
    sorter = np.argsort(unsorted)
    assert_same(
        mnp.searchsorted(unsorted, [2.5], sorter=sorter), np.searchsorted(unsorted, [2.5], sorter=sorter)
    )
    values = np.array([-1.0, 1.0, 1.5, 2.0, 5.0])
    for bins in (np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])):
        for right in (False, True):
            assert_same(mnp.digitize(values, bins, right), np.digitize(values, bins, right))
    indices = np.argsort(TIES, axis=0)
    assert_same(mnp.take_along_axis(TIES, indices, axis=0), np.take_along_axis(TIES, indices, axis=0))
    assert_same(mnp.take_along_axis(TIES, indices[:1], axis=0), np.take_along_axis(TIES, indices[:1], axis=0))
    flat = np.array([4, 0])
    assert_same(mnp.take_along_axis(TIES, flat, axis=None), np.take_along_axis(TIES, flat, axis=None))


def test_sort_gradients_reach_the_permuted_positions():
    x = np.array([3.0, 1.0, 2.0])
    assert_same(
        mg.grad(lambda x: (mnp.sort(x) * np.array([1.0, 10.0, 100.0])).sum())(x), np.array([100.0, 1.0, 10.0])
    )
    _, tangent = mg.jvp(lambda x: mnp.sort(x), (x,), (np.array([1.0, 2.0, 3.0]),))
    assert_same(tangent, np.array([2.0, 3.0, 1.0]))


VALUED = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -3.0]])


def test_value_dependent_functions_match_numpy():
    assert_same(mnp.nonzero(VALUED), np.nonzero(VALUED))
    assert_same(mnp.argwhere(VALUED), np.argwhere(VALUED))
    assert_same(mnp.argwhere(np.array(2.0)), np.argwhere(np.array(2.0)))
    assert_same(mnp.flatnonzero(VALUED), np.flatnonzero(VALUED))
    assert_same(mnp.count_nonzero(VALUED), np.int64(np.count_nonzero(VALUED)))
    assert_same(
        mnp.count_nonzero(VALUED, axis=1, keepdims=True), np.count_nonzero(VALUED, axis=1, keepdims=True)
    )
    ints = np.array([3, 1, 3, 2, 1, 1])
    assert_same(mnp.unique(ints), np.unique(ints))
    assert_same(mnp.unique(ints, True, True, True), np.unique(ints, True, True, True))
    rows = np.array([[1, 2], [0, 1], [1, 2]])
    assert_same(mnp.unique(rows, axis=0), np.unique(rows, axis=0))
    assert_same(mnp.bincount(ints), np.bincount(ints))
    weights = np.linspace(0.0, 1.0, 6, dtype=np.float32)
    assert_same(mnp.bincount(ints, weights, minlength=6), np.bincount(ints, weights, minlength=6))


def test_value_dependent_functions_work_traced_with_a_size():
    got = mg.jit(lambda x: mnp.nonzero(x, size=5, fill_value=-1))(VALUED)
    assert_same(got, (np.array([0, 1, 1, -1, -1]), np.array([1, 0, 2, -1, -1])))
    assert_same(mg.vmap(lambda x: mnp.flatnonzero(x, size=1))(VALUED), np.array([[1], [0]]))
    assert_same(mg.jit(lambda x: mnp.argwhere(x, size=2))(VALUED), np.array([[0, 1], [1, 0]]))
    assert_same(
        mg.jit(lambda x: mnp.unique(x, size=4))(np.array([3.0, 1.0, 3.0])), np.array([1.0, 3.0, 1.0, 1.0])
    )
    got = mg.jit(lambda w: mnp.bincount(np.array([0, 2, 2]), w, length=4))(np.ones(3))
    assert_same(got, np.array([1.0, 0.0, 2.0, 0.0]))
    # Under grad the values are known: no size needed, and gradients reach the values.
    assert_same(mg.grad(lambda x: mnp.unique(x).sum())(np.array([3.0, 1.0, 3.0])), np.array([1.0, 1.0, 0.0]))


@pytest.mark.parametrize(
    "call, advice",
    [
        (lambda x: mnp.nonzero(x), "size="),
        (lambda x: mnp.argwhere(x), "size="),
        (lambda x: mnp.unique(x), "size="),
        (lambda x: mnp.unique(x, return_counts=True, size=2), "size="),
        (lambda x: mnp.bincount(x.astype(int)), "length="),
    ],
)
def test_value_dependent_shapes_under_jit_say_what_to_pass(call, advice):
    with pytest.raises(mg.ConcretizationError, match=advice):
        mg.jit(call)(np.array([1.0, 0.0]))


X = np.arange(12.0).reshape(3, 4)
X3 = np.arange(24.0).reshape(2, 3, 4)
BUILDING = {
    "repeat": lambda m: m.repeat(X, 2),
    "repeat_counts": lambda m: m.repeat(X, [1, 0, 2], axis=0),
    "roll_flat": lambda m: m.roll(X, 1),
    "roll_axes": lambda m: m.roll(X, (1, -2), (0, 1)),
    "roll_long": lambda m: m.roll(X, 5, axis=1),
    "append_axis": lambda m: m.append(X, [[1, 2, 3, 4]], axis=0),
    "append_flat": lambda m: m.append(X, 1),
    "tile": lambda m: m.tile(X, (2, 1, 3)),
    "tile_int": lambda m: m.tile(X[0], 2),
    "rot90": lambda m: m.rot90(X),
    "rot90_2": lambda m: m.rot90(X, 2),
    "rot90_3": lambda m: m.rot90(X3, 3, axes=(2, 0)),
    "rot90_negative": lambda m: m.rot90(X, -1, (1, 0)),
    "flipud": lambda m: m.flipud(X),
    "fliplr": lambda m: m.fliplr(X),
    "atleast_3d": lambda m: m.atleast_3d(X),
    "atleast_3d_many": lambda m: m.atleast_3d(1.0, X[0]),
    "resize": lambda m: m.resize(X, (5, 3)),
    "copy": lambda m: m.copy(X),
    "insert_rows": lambda m: m.insert(X, 1, [7, 8, 9, 10], axis=0),
    "insert_scalar": lambda m: m.insert(X, 1, 7, axis=1),
    "insert_flat": lambda m: m.insert(X, [1, 3], [7, 8]),
    "insert_columns": lambda m: m.insert(X, [0, 2], [[1], [2], [3]], axis=1),
    "insert_slice": lambda m: m.insert(X, slice(0, 2), 5, axis=0),
    "insert_block": lambda m: m.insert(X, 2, [[7, 8, 9]], axis=1),
    "insert_int_dtype": lambda m: m.insert(np.arange(3), 1, 2.7),
    "delete": lambda m: m.delete(X, 1, axis=1),
    "delete_flat": lambda m: m.delete(X, [0, 5]),
    "delete_slice": lambda m: m.delete(X, slice(0, 2), axis=0),
    "diagonal": lambda m: m.diagonal(X3),
    "diagonal_offset": lambda m: m.diagonal(X3, 1, 1, 2),
    "diagonal_negative": lambda m: m.diagonal(X3, -1, 2, 0),
    "trace": lambda m: m.trace(X3),
    "trace_axes": lambda m: m.trace(X3, 1, -1, -2),
    "trace_int8": lambda m: m.trace(np.ones((3, 3), np.int8)),
    "diag_of_matrix": lambda m: m.diag(X, -1),
    "diag_of_vector": lambda m: m.diag(X[0], 2),
    "diag_below": lambda m: m.diag(X[0], -1),
    "diagflat": lambda m: m.diagflat(X[:2, :2], 1),
    "tri": lambda m: m.tri(3, 4, 1),
    "tri_dtype": lambda m: m.tri(2, dtype=np.int32),
    "tril": lambda m: m.tril(X3, 1),
    "triu": lambda m: m.triu(X3, -1),
    "kron": lambda m: m.kron(X, X3[1, :2, :2]),
    "kron_ranks": lambda m: m.kron(X[0], X3),
    "kron_ints": lambda m: m.kron(np.eye(2, dtype=int), np.ones(3, np.float32)),
    "vander": lambda m: m.vander(np.array([2, 3, 0])),
    "vander_increasing": lambda m: m.vander(np.array([2.0, 3.0]), 4, True),
    "cross": lambda m: m.cross(X3[0, :, :3], X3[1, :, 1:]),
    "cross_axes": lambda m: m.cross(X3[0, :, :3], X3[1, 0, 1:], axisc=0),
    "cross_axis": lambda m: m.cross(X[:, :3], X[:, 1:], axis=-1),
    "ptp": lambda m: m.ptp(X3, axis=1),
    "ptp_keepdims": lambda m: m.ptp(X3, axis=(0, 2), keepdims=True),
}


@pytest.mark.parametrize("name", sorted(BUILDING))
def test_building_and_matrices_match_numpy(name):
    call = BUILDING[name]
    assert_same(call(mnp), call(np))


def test_two_component_cross_products_give_the_z_component():
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([5.0, 7.0])
    np.testing.assert_allclose(mnp.cross(a, b), a[:, 0] * b[1] - a[:, 1] * b[0])


def test_traced_shifts_roll():
    assert_same(mg.jit(lambda x, s: mnp.roll(x, s))(np.arange(5.0), 2), np.roll(np.arange(5.0), 2))


def test_gradients_of_rearrangements_by_hand():
    x = np.array([0.0, 2.0])
    assert_same(mg.grad(lambda x: mnp.vander(x, 4).sum())(x), np.array([1.0, 17.0]))  # 1 + 2x + 3x^2
    assert_same(mg.grad(lambda x: (mnp.tile(x, (2, 2)) * 1.0).sum())(x), np.array([4.0, 4.0]))
    assert_same(mg.grad(lambda x: mnp.repeat(x, [3, 1]).sum())(x), np.array([3.0, 1.0]))


def test_tracer_methods_of_the_array_functions():
    def f(x):
        m = x.reshape(2, 2)
        return (
            x.cumsum().sum() + x.sort()[0] + x.repeat(2).sum() + m.diagonal().sum() + m.trace()
            + x.take([0]).sum() + x.ptp() + x.cumprod()[-1] + x.flatten()[1]
            + x.argsort()[0] + x.searchsorted(np.array([2.5]))[0]
        )  # fmt: skip

    x = np.array([1.0, 2.0, 3.0, 4.0])
    # Hand-computed: cumsum [4,3,2,1], sort 1 at x0, repeat 2s, diagonal and trace x0 and
    # x3, take x0, ptp x3 - x0, cumprod the product of the others, flatten x1.
    assert_same(mg.grad(f)(x), np.array([33.0, 18.0, 12.0, 12.0]))
    assert float(mg.jit(f)(x)) == 20 + 1 + 20 + 5 + 5 + 1 + 3 + 24 + 2 + 0 + 2
    assert_same(mg.grad(lambda x: x.nonzero()[0].sum() * x.sum())(np.array([1.0, 0.0, 3.0])), np.full(3, 2.0))


SAMPLE = np.random.default_rng(3).standard_normal((3, 4, 5))
HOLES = SAMPLE.copy()
HOLES[0, 1, 2] = np.nan
HOLES[1, :, 3] = np.nan  # a slice of NaNs only
STATISTICS = {
    "median": lambda m: m.median(SAMPLE),
    "median_axis": lambda m: m.median(SAMPLE, axis=1),
    "median_axes_keepdims": lambda m: m.median(SAMPLE, axis=(0, 2), keepdims=True),
    "median_with_nan": lambda m: m.median(HOLES, axis=2),
    "median_ints": lambda m: m.median(np.arange(4)),
    "quantile_array_q": lambda m: m.quantile(SAMPLE, [0.1, 0.5, 1.0], axis=-1),
    "quantile_float32": lambda m: m.quantile(SAMPLE.astype(np.float32), 0.3, axis=1),
    "quantile_float32_array_q": lambda m: m.quantile(SAMPLE.astype(np.float32), np.array([0.3])),
    "quantile_ints": lambda m: m.quantile(np.arange(7), 0.3),
    "percentile": lambda m: m.percentile(SAMPLE, 30, axis=0),
    "nanmedian": lambda m: m.nanmedian(HOLES, axis=2),
    "nanquantile": lambda m: m.nanquantile(HOLES, [0.2, 0.9], axis=1),
    "nanpercentile": lambda m: m.nanpercentile(HOLES, 75),
    "nansum": lambda m: m.nansum(HOLES, axis=1),
    "nanprod": lambda m: m.nanprod(HOLES),
    "nanmean": lambda m: m.nanmean(HOLES, axis=1),
    "nanmean_ints": lambda m: m.nanmean(np.arange(4)),
    "nanvar": lambda m: m.nanvar(HOLES, axis=1, ddof=1),
    "nanstd": lambda m: m.nanstd(HOLES, axis=(0, 2)),
    "nanmax": lambda m: m.nanmax(HOLES, axis=1),
    "nanmin": lambda m: m.nanmin(HOLES, axis=2),
    "nanargmax": lambda m: m.nanargmax(HOLES, axis=2),
    "nanargmin": lambda m: m.nanargmin(HOLES),
}
for _method in ("linear", "lower", "higher", "nearest", "midpoint"):
    STATISTICS[f"quantile_{_method}"] = lambda m, method=_method: m.quantile(
        np.arange(10.0), [0.05, 0.15, 0.25, 0.5, 0.61, 0.95], method=method
    )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns of the all-NaN slice
@pytest.mark.parametrize("name", sorted(STATISTICS))
def test_statistics_match_numpy(name):
    got, expected = STATISTICS[name](mnp), STATISTICS[name](np)
    assert np.shape(got) == np.shape(expected) and np.asarray(got).dtype == np.asarray(expected).dtype
    # float32 interpolation rounds differently from NumPy's formula: a few ulp of the inputs.
    tolerance = 1e-6 if np.asarray(expected).dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance, equal_nan=True)


def test_order_statistic_gradients_by_hand():
    # Sorted [1, 2, 3, 5]: the median averages 2 and 3; quantile 0.75 of [1, 2, 4] sits
    # halfway between 2 and 4 (rank 1.5), so d/dq = (4 - 2) * 2.
    assert_same(mg.grad(mnp.median)(np.array([3.0, 1.0, 2.0, 5.0])), np.array([0.5, 0.0, 0.5, 0.0]))
    assert mg.grad(lambda q: mnp.quantile(np.array([1.0, 2.0, 4.0]), q))(0.75) == 4.0
    assert_same(
        mg.grad(lambda x: mnp.nansum(mnp.where(x > 1, np.nan, x)))(np.array([0.5, 2.0])), np.array([1.0, 0.0])
    )
    with pytest.raises(ValueError, match="method"):
        mnp.quantile(np.ones(3), 0.5, method="hazen")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mnp.quantile(np.ones(3), 1.5)
