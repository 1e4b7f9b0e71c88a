"""The second part of the array functions of ``minigrad.numpy`` (joining, grids,
choosing, writers, signals, polynomials, moments, histograms, sets, vectorizing, bits,
dtype questions) against NumPy itself: values, shapes, dtypes and keywords, plus the
errors. Derivatives, batching and jit are checked by the rows of ``op_specs_arrays.py``."""

import io

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp

RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 4))
V = RNG.standard_normal(5)


def _same(got, expected):
    """Equal values, shapes and dtypes (recursively through tuples and lists)."""
    if isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            _same(g, e)
        return
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------
# Joining, grids, creation.

JOINING = {
    "array_split": lambda m: m.array_split(np.arange(7.0), 3),
    "array_split_indices": lambda m: m.array_split(A, [1, 3], axis=1),
    "hsplit": lambda m: m.hsplit(A, 2),
    "vsplit": lambda m: m.vsplit(A, [1]),
    "dsplit": lambda m: m.dsplit(np.zeros((1, 2, 4)), 2),
    "column_stack": lambda m: m.column_stack([V, 2 * V, np.ones((5, 2))]),
    "dstack": lambda m: m.dstack([A, A]),
    "block": lambda m: m.block([[A, np.zeros((3, 1))], [np.ones((1, 5))]]),
    "block_3d": lambda m: m.block([[[np.ones(2)], [np.zeros(2)]]]),
    "broadcast_arrays": lambda m: m.broadcast_arrays(np.ones((2, 1)), np.arange(3)),
    "broadcast_shapes": lambda m: m.broadcast_shapes((2, 1), (1, 3), (3,)),
    "concat": lambda m: m.concat([A, A], axis=None) if m is mnp else np.concatenate([A, A], axis=None),
    "unstack": lambda m: m.unstack(A, axis=1) if m is mnp else tuple(np.moveaxis(A, 1, 0)),
    "permute_dims": lambda m: m.permute_dims(np.zeros((1, 2, 3)), (2, 0, 1)),
    "matrix_transpose": lambda m: m.matrix_transpose(np.arange(24.0).reshape(2, 3, 4)),
    "rollaxis": lambda m: [m.rollaxis(np.zeros((2, 3, 4, 5)), a, s).shape for a in (0, 2, -1) for s in (0, 1, -1, 4)],
    "meshgrid": lambda m: m.meshgrid(np.arange(2), np.arange(3.0), np.arange(4)),
    "meshgrid_ij_sparse": lambda m: m.meshgrid(np.arange(2), np.arange(3.0), indexing="ij", sparse=True),
    "indices": lambda m: m.indices((2, 3)),
    "ix_": lambda m: m.ix_([0, 2], np.array([True, False, True, True])),
    "r_": lambda m: m.r_[1:4, 0, np.array([7, 8]), -1:1:3j],
    "r_directive": lambda m: m.r_["0,2,1", [1, 2], [3, 4]],
    "r_axis": lambda m: m.r_["1", np.ones((2, 1)), np.zeros((2, 2))],
    "c_": lambda m: m.c_[np.array([1, 2]), np.array([[3, 4], [5, 6]]), 1:3],
    "tril_indices": lambda m: m.tril_indices(3, -1, 4),
    "triu_indices_from": lambda m: m.triu_indices_from(A, 1),
    "tril_indices_from": lambda m: m.tril_indices_from(A),
    "diag_indices": lambda m: m.diag_indices(3, 3),
    "diag_indices_from": lambda m: m.diag_indices_from(np.zeros((2, 2))),
    "mask_indices": lambda m: m.mask_indices(3, m.triu, 1),
    "unravel_index": lambda m: m.unravel_index(np.array([0, 5, 11]), (3, 4)),
    "ravel_multi_index": lambda m: m.ravel_multi_index((np.array([0, 2, 5]), np.array([1, -1, 3])), (3, 4), mode=("wrap", "clip")),
    "ravel_multi_index_f": lambda m: m.ravel_multi_index((np.array([0, 2]), np.array([1, 3])), (3, 4), order="F"),
    "identity": lambda m: m.identity(3, dtype=np.int32),
    "empty_like": lambda m: m.empty_like(np.ones((2, 1), np.float32)) * 0,
    "logspace": lambda m: m.logspace(0.0, [1.0, 2.0], 4, base=3.0, axis=-1),
    "geomspace": lambda m: m.geomspace(-1.0, -1000.0, 4, endpoint=False),
    "fromfunction": lambda m: m.fromfunction(lambda i, j: i * 10 + j, (2, 3), dtype=int),
    "fromiter": lambda m: m.fromiter(iter(range(4)), np.float32, count=3),
    "frombuffer": lambda m: m.frombuffer(b"\x01\x00\x02\x00", np.int16),
    "fromstring": lambda m: m.fromstring("1,2,3", dtype=float, sep=","),
    "array_ndmin": lambda m: m.array([1, 2], ndmin=3, dtype=np.float32),
}  # fmt: skip


@pytest.mark.parametrize("name", JOINING)
def test_joining_grids_and_creation_match_numpy(name):
    _same(JOINING[name](mnp), JOINING[name](np))


def test_traced_grids_joins_and_index_expressions():
    def f(x):
        grids = mnp.meshgrid(x, 2 * x)
        joined = mnp.r_[x, 1.0, 2 * x] + mnp.block([[x[:2], x[2:]]]).sum()
        return (grids[0] * grids[1]).sum() + (mnp.c_[x, x] ** 2).sum() + joined.sum()

    x = np.array([0.5, -1.0, 2.0])
    # d/dx_k of sum_ij 2 x_i x_j, of 2 sum x^2, of r_'s 1 + 2, of the block's sum added to 7 elements
    np.testing.assert_allclose(mg.grad(f)(x), 4 * x.sum() + 4 * x + 3.0 + 7.0, rtol=1e-12)
    np.testing.assert_allclose(mg.jit(f)(x), f(x), rtol=1e-12)
    ravel = mg.jit(lambda i, j: mnp.ravel_multi_index((i, j), (3, 4)))
    np.testing.assert_array_equal(ravel(np.array([0, 2]), np.array([1, 9])), [1, 11])  # clipped, as JAX
    np.testing.assert_array_equal(
        mg.jit(lambda i: mnp.unravel_index(i, (3, 4))[1])(np.array([5, -1])), [1, 3]
    )


def test_traced_ends_of_log_and_geometric_ranges():
    grad = mg.grad(lambda b: mnp.logspace(0.0, b, 3, base=2.0).sum())(2.0)
    np.testing.assert_allclose(grad, np.log(2) * (0.5 * 2**1 + 2**2), rtol=1e-12)
    values = mg.jit(lambda s: mnp.geomspace(s, 8.0 * s, 4))(np.array([1.0, -2.0]))
    np.testing.assert_allclose(values, np.geomspace([1.0, -2.0], [8.0, -16.0], 4), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# Choosing and writing.


CHOOSING = {
    "select": lambda m: m.select([A < -0.5, A > 0.5], [A**2, -A], default=7.0),
    "select_ints": lambda m: m.select([np.array([True, False])], [np.array([1, 2])]),
    "piecewise": lambda m: m.piecewise(V, [V < 0, V > 1], [lambda v: -v, 3.0, lambda v: v * 0.5]),
    "choose_wrap": lambda m: m.choose(np.array([0, 3, -1]), [np.arange(3.0), 10.0, [5.0, 6.0, 7.0]], mode="wrap"),
    "choose_clip": lambda m: m.choose(np.array([[0], [5]]), [np.arange(3), 10], mode="clip"),
    "compress": lambda m: m.compress([False, True, True], A, axis=0),
    "compress_flat": lambda m: m.compress(np.array([1, 0, 1]), A),
    "extract": lambda m: m.extract(A > 0, A),
    "trim_zeros": lambda m: (m.trim_zeros(np.array([0, 0, 1, 0, 2, 0])), m.trim_zeros(np.array([0, 1, 0]), "b")),
}  # fmt: skip


@pytest.mark.parametrize("name", CHOOSING)
def test_choosing_matches_numpy(name):
    _same(CHOOSING[name](mnp), CHOOSING[name](np))


def _in_place(function, array, *args, **kwargs):
    copy = np.array(array)
    function(copy, *args, **kwargs)
    return copy


WRITERS = [
    ("place", (np.arange(6.0).reshape(2, 3), np.array([[1, 0, 1], [1, 1, 0]]) > 0, [9.0, 8.0]), {}),
    ("put", (np.arange(5.0), [0, -1, 0], [7.0, 8.0, 9.0]), {}),
    ("put", (np.arange(5), [1, 7], [3, 4]), {"mode": "wrap"}),
    ("put", (np.arange(5.0), [1, 7], 2.5), {"mode": "clip"}),
    (
        "put_along_axis",
        (np.arange(6.0).reshape(2, 3), np.array([[0, 2], [1, 1]]), np.array([[5.0], [6.0]]), 1),
        {},
    ),
    ("put_along_axis", (np.arange(6.0).reshape(2, 3), np.array([1, 4]), 9.0, None), {}),
    ("fill_diagonal", (np.zeros((5, 3)), [1.0, 2.0]), {"wrap": True}),
    ("fill_diagonal", (np.zeros((5, 3)), 4.0), {}),
    ("fill_diagonal", (np.zeros((2, 2, 2), int), 3), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), WRITERS, ids=[w[0] for w in WRITERS])
def test_functional_writers_match_numpy_in_place_writers(name, args, kwargs):
    array = args[0]
    before = array.copy()
    got = getattr(mnp, name)(*args, **kwargs, inplace=False)
    _same(got, _in_place(getattr(np, name), *args, **kwargs))
    np.testing.assert_array_equal(array, before)  # the input is never modified


def test_writers_say_how_to_use_them_functionally():
    with pytest.raises(ValueError, match="inplace=False"):
        mnp.put(np.zeros(3), [0], 1.0)
    with pytest.raises(IndexError, match="out of range"):
        mnp.put(np.zeros(3), [5], 1.0, inplace=False)


def test_gradients_of_writes_by_hand():
    # put: the last write to position 0 wins, so the first value gets no gradient.
    grad_v = mg.grad(lambda v: (mnp.put(np.zeros(3), [0, 2, 0], v, inplace=False) * [1.0, 2.0, 3.0]).sum())
    np.testing.assert_array_equal(grad_v(np.ones(3)), [0.0, 3.0, 1.0])
    grad_a = mg.grad(lambda a: (mnp.fill_diagonal(a, 0.0, inplace=False) * 2).sum())
    np.testing.assert_array_equal(grad_a(np.ones((2, 2))), [[0.0, 2.0], [2.0, 0.0]])


def test_select_and_piecewise_gradients_flow_to_the_chosen_branch_only():
    x = np.array([-2.0, 0.5, 3.0])
    grad = mg.grad(lambda x: mnp.piecewise(x, [x < 0, x > 1], [lambda v: v**3, lambda v: v**2, 1.0]).sum())(x)
    np.testing.assert_array_equal(grad, [12.0, 0.0, 6.0])  # x = 0.5 takes the constant
    grad = mg.grad(lambda x: mnp.select([x > 1, x > 0], [x**2, -x], default=x).sum())(x)
    np.testing.assert_array_equal(grad, [1.0, -1.0, 6.0])  # the first true condition wins


# ---------------------------------------------------------------------------------------
# Signals, windows, polynomials.


SIGNALS = {
    "convolve": lambda m: [m.convolve(V[:n], A[0, :k], mode) for n in (1, 3, 5) for k in (1, 2, 4) for mode in ("full", "same", "valid")],
    "correlate": lambda m: [m.correlate(V[:n], A[0, :k], mode) for n in (1, 3, 5) for k in (1, 2, 4) for mode in ("full", "same", "valid")],
    "convolve_ints": lambda m: m.convolve(np.array([1, 2, 3]), np.array([0, 1])),
    "interp": lambda m: m.interp(np.linspace(-2, 4, 25), [0.0, 1.0, 1.0, 3.0], [0.0, 2.0, 1.0, 3.0]),
    "interp_left_right": lambda m: m.interp(np.array([-1.0, 0.5, 9.0]), [0.0, 1.0], [1.0, 2.0], left=-5.0, right=5.0),
    "interp_period": lambda m: m.interp(np.linspace(-7, 7, 15), [350.0, 10.0, 100.0, 200.0], [1.0, 2.0, 0.0, -1.0], period=360.0),
    "interp_one_point": lambda m: m.interp(np.array([-1.0, 1.0]), [0.5], [2.0]),
    "trapezoid": lambda m: (m.trapezoid(A), m.trapezoid(A, dx=0.3, axis=0), m.trapezoid(A, np.array([0.0, 1.0, 3.0, 3.5]))),
    "trapezoid_2d_x": lambda m: m.trapezoid(A, np.cumsum(np.abs(A), axis=0), axis=0),
    "unwrap": lambda m: (m.unwrap(np.cumsum(A * 3, axis=1)), m.unwrap(np.cumsum(A, axis=0), discont=1.0, axis=0, period=2.0)),
    "i0": lambda m: m.i0(np.array([0.0, 0.1, -1.0, 5.0, 19.99, 20.0, 20.01, 37.5, -100.0, 700.0])),
    "windows": lambda m: [getattr(m, w)(n) for w in ("bartlett", "blackman", "hamming", "hanning") for n in (0, 1, 2, 7)],
    "kaiser": lambda m: [m.kaiser(n, beta) for n in (0, 1, 6) for beta in (0.0, 3.5, 30.0)],
}  # fmt: skip


@pytest.mark.parametrize("name", SIGNALS)
def test_signals_match_numpy(name):
    got, expected = SIGNALS[name](mnp), SIGNALS[name](np)
    if name == "i0":  # a different algorithm: close to rounding, not bit for bit
        np.testing.assert_allclose(got, expected, rtol=1e-13)
        return
    _same(got, expected)


def test_i0_derivative_is_i1():
    x = np.array([0.3, 2.0, 19.9, 20.1, 45.0])
    # I1 from its own power series and asymptotic expansion would repeat the code under
    # test; a central difference of NumPy's I0 is an independent reference.
    h = 1e-6 * np.maximum(1.0, x)
    reference = (np.i0(x + h) - np.i0(x - h)) / (2 * h)
    np.testing.assert_allclose(mg.vmap(mg.grad(mnp.i0))(x), reference, rtol=1e-8)
    assert mnp.i0(np.float32(2.0)).dtype == np.float32


POLYNOMIALS = {
    "polyval": lambda m: m.polyval(V[:4], A),
    "polyval_ints": lambda m: m.polyval(np.array([1, 2, 3]), np.array([2, 3])),
    "polyadd_polysub": lambda m: (m.polyadd(V[:2], V), m.polysub(V, V[:3])),
    "polymul": lambda m: m.polymul(V[:3], V[1:]),
    "polyder": lambda m: [m.polyder(V, k) for k in range(7)],
    "polyint": lambda m: (m.polyint(V[:3]), m.polyint(V[:3], 3, k=[1.0, 2.0, 3.0]), m.polyint(V[:2], 2, k=4.0)),
    "polydiv": lambda m: m.polydiv(V, V[:2]) if m is np else m.polydiv(V, V[:2], trim_leading_zeros=True),
    "polydiv_short": lambda m: m.polydiv(V[:2], V),
    "polyfit": lambda m: (m.polyfit(A[0], A[1], 2), m.polyfit(A[0], A[1:].T, 1), m.polyfit(A[0], A[1], 3, w=np.arange(1.0, 5.0))),
    "poly": lambda m: (m.poly(V[:3]), m.poly(np.array([[1.0, 2.0], [3.0, 4.0]]))),
}  # fmt: skip


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_match_numpy(name):
    got, expected = POLYNOMIALS[name](mnp), POLYNOMIALS[name](np)
    if name in ("polyfit", "poly"):
        np.testing.assert_allclose(
            np.concatenate([np.ravel(g) for g in got]),
            np.concatenate([np.ravel(e) for e in expected]),
            rtol=1e-9,
        )
        return
    _same(got, expected)


def test_polydiv_keeps_the_remainder_length_unless_asked():
    quotient, remainder = mg.jit(mnp.polydiv)(np.array([1.0, 0.0, -1.0]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(quotient, [1.0, -1.0])
    np.testing.assert_array_equal(remainder, [0.0, 0.0, 0.0])
    with pytest.raises(mg.ConcretizationError, match="trim_leading_zeros=False"):
        mg.jit(lambda u: mnp.polydiv(u, np.array([1.0, 1.0]), trim_leading_zeros=True))(np.ones(3))


# ---------------------------------------------------------------------------------------
# Moments, histograms, sets.

W = RNG.uniform(0.5, 2.0, 4)
STATISTICS = {
    "average": lambda m: (m.average(A), m.average(A, axis=1, weights=W), m.average(A, axis=(0, 1), weights=np.abs(A))),
    "average_returned": lambda m: (m.average(A, axis=0, returned=True), m.average(A, axis=1, weights=W, returned=True, keepdims=True)),
    "cov": lambda m: (m.cov(A), m.cov(A, bias=True), m.cov(A, rowvar=False, ddof=0), m.cov(A[0], A[1]), m.cov(A[0])),
    "cov_weights": lambda m: (m.cov(A, fweights=np.array([1, 2, 1, 3])), m.cov(A, aweights=W), m.cov(A, fweights=np.array([1, 2, 1, 3]), aweights=W, ddof=0)),
    "corrcoef": lambda m: (m.corrcoef(A), m.corrcoef(A[0], A[1]), m.corrcoef(A.T, rowvar=False)),
    "histogram": lambda m: [m.histogram(V, bins) for bins in (1, 3, [-2.0, 0.0, 0.5, 3.0], "auto")],
    "histogram_options": lambda m: (m.histogram(A, 4, range=(-1.0, 1.0), weights=np.abs(A)), m.histogram(A, 3, density=True), m.histogram(np.ones(3), 2)),
    "histogram_bin_edges": lambda m: (m.histogram_bin_edges(A, 5), m.histogram_bin_edges(A, 3, range=(0.0, 1.0))),
    "histogram2d": lambda m: m.histogram2d(A[0], A[1], bins=(2, 3), density=True),
    "histogramdd": lambda m: m.histogramdd(A.T, bins=(2, 2, 3), range=[(-2, 2), (-1, 1), (-3, 3)], weights=W),
    "isin": lambda m: (m.isin(A, A[0]), m.isin(np.array([1, 5]), [5, 6], invert=True)),
    "set_operations": lambda m: (m.union1d([3, 1, 3], [2]), m.intersect1d([3.0, 1.0, 2.0, 2.0], [2.0, 3.0]), m.setdiff1d([4, 1, 2, 1], [2, 5]), m.setxor1d([1, 2, 3, 3], [3, 4])),
    "intersect1d_indices": lambda m: m.intersect1d([3, 1, 2, 2], [2, 3, 7], return_indices=True),
    "unique_functions": lambda m: (np.sort(m.unique_values(np.array([[2, 1], [2, 3]]))), tuple(m.unique_counts(np.array([2, 1, 2]))), tuple(m.unique_inverse(np.array([[2, 1], [2, 3]]))), tuple(m.unique_all(np.array([3.0, 1.0, 3.0])))),
}  # fmt: skip


@pytest.mark.parametrize("name", STATISTICS)
def test_moments_histograms_and_sets_match_numpy(name):
    _same(STATISTICS[name](mnp), STATISTICS[name](np))


def test_unique_values_are_sorted_as_in_jax():
    # Recent NumPy leaves unique_values in hash order; JAX (and minigrad) sort them.
    _same(mnp.unique_values(np.array([[2, 1], [2, 3]])), np.array([1, 2, 3]))


def test_histogram_traces_with_a_known_number_of_bins():
    counts = mg.jit(lambda a: mnp.histogram(a, bins=4)[0])(V)
    _same(counts, np.histogram(V, bins=4)[0])
    grad = mg.grad(lambda w: mnp.histogram(np.array([0.1, 0.6, 0.7]), bins=2, range=(0, 1), weights=w)[0][1])
    np.testing.assert_array_equal(grad(np.ones(3)), [0.0, 1.0, 1.0])
    with pytest.raises(mg.ConcretizationError, match="number of bins"):
        mg.jit(lambda a: mnp.histogram(a, bins="auto"))(V)


def test_set_functions_need_known_values_and_say_so():
    with pytest.raises(mg.ConcretizationError, match="outside jit"):
        mg.jit(lambda a: mnp.setdiff1d(a, a[:1]))(V)
    _same(
        mg.jit(lambda a: mnp.union1d(a, a, size=7, fill_value=0.0))(V),
        np.concatenate([np.sort(V), [0.0, 0.0]]),
    )
    np.testing.assert_array_equal(
        mg.grad(lambda a: mnp.intersect1d(a, np.array([2.0, 3.0])).sum())(np.array([3.0, 1.0, 3.0])),
        [1.0, 0.0, 0.0],
    )


# ---------------------------------------------------------------------------------------
# Applying functions over axes, products, bits, dtype questions, files.


def test_apply_along_axis_and_over_axes_match_numpy():
    x = np.arange(24.0).reshape(2, 3, 4)
    for axis in (0, 1, -1):
        _same(
            mnp.apply_along_axis(lambda v: mnp.outer(v, v[:2]), axis, x),
            np.apply_along_axis(lambda v: np.outer(v, v[:2]), axis, x),
        )
        _same(mnp.apply_along_axis(mnp.max, axis, x), np.apply_along_axis(np.max, axis, x))
    _same(mnp.apply_over_axes(mnp.sum, x, [0, 2]), np.apply_over_axes(np.sum, x, [0, 2]))
    _same(
        mnp.apply_over_axes(lambda a, axis: mnp.mean(a, axis, keepdims=True), x, 1),
        np.apply_over_axes(np.mean, x, 1),
    )


def test_vectorize_broadcasts_like_numpy_through_vmap():
    def clipped(x, limit):
        return mnp.minimum(x, limit)

    _same(
        mnp.vectorize(clipped)(A, np.array([0.0, 1.0, 2.0, 3.0])),
        np.vectorize(np.minimum)(A, np.array([0.0, 1.0, 2.0, 3.0])),
    )
    gufunc = mnp.vectorize(lambda a, b: mnp.dot(a, b), signature="(n),(n)->()")
    _same(gufunc(A, A[0]), A @ A[0])
    keyword = mnp.vectorize(lambda x, *, power: x**power, excluded={"power"})
    _same(keyword(np.arange(3.0), power=2), np.arange(3.0) ** 2)
    np.testing.assert_allclose(mg.grad(lambda x: gufunc(x, x).sum())(A), 2 * A)
    with pytest.raises(ValueError, match="do not broadcast"):
        gufunc(np.ones((2, 3)), np.ones((4, 3)))


PRODUCTS = {
    "vecdot": lambda m: m.vecdot(A, A[1], axis=-1),
    "matvec": lambda m: m.matvec(np.stack([A, A]), V[:4]),
    "vecmat": lambda m: m.vecmat(V[:3], np.stack([A, A])),
    "einsum_sublists": lambda m: (m.einsum(A, [0, 1], A, [2, 1], [0, 2]), m.einsum(A, [0, 1], V[:4], [1]), m.einsum(np.ones((2, 3, 4)), [Ellipsis, 1], [1, Ellipsis])),
    "packbits": lambda m: [m.packbits(np.arange(22).reshape(2, 11) % 3 == 0, axis, bitorder=order) for axis in (None, 0, 1) for order in ("big", "little")],
    "unpackbits": lambda m: [m.unpackbits(np.array([[3, 255], [128, 7]], np.uint8), axis, count=c, bitorder="little") for axis in (None, 1) for c in (None, 3, -3, 20)],
}  # fmt: skip


@pytest.mark.parametrize("name", PRODUCTS)
def test_products_and_bits_match_numpy(name):
    got = PRODUCTS[name](mnp)
    if name in ("vecdot", "matvec", "vecmat") and not hasattr(np, name):
        pytest.skip(f"this NumPy has no {name}")
    _same(got, PRODUCTS[name](np))


def test_dtype_questions_match_numpy_and_accept_tracers():
    assert mnp.result_type(np.float32, 2.0) == np.float32
    assert mnp.result_type(np.int8, np.uint8) == np.int16
    assert mnp.promote_types("f4", "i8") == np.float64
    assert mnp.can_cast(np.int32, np.float64) and not mnp.can_cast(np.float64, np.float32)
    assert mnp.issubdtype(np.int16, np.integer) and mnp.isdtype(np.float32, "real floating")
    assert mnp.iterable([1]) and not mnp.iterable(1.0)

    def f(x):
        assert mnp.result_type(x, 1.0) == np.float32 and mnp.can_cast(x, np.float64)
        assert mnp.iterable(x)
        return x.sum()

    mg.jit(f)(np.ones(2, np.float32))


def test_files_and_printing_round_trip():
    buffer = io.BytesIO()
    mnp.savez(buffer, a=A, b=np.arange(3))
    buffer.seek(0)
    loaded = mnp.load(buffer)
    _same(loaded["a"], A)
    assert mnp.array_str(np.array([1.0, 2.0])) == np.array_str(np.array([1.0, 2.0]))
    assert mnp.array_repr(np.arange(2)) == "array([0, 1])"
    with mnp.printoptions(precision=2):
        assert mnp.get_printoptions()["precision"] == 2
    with pytest.raises(TypeError, match="save the transform's result"):
        mg.grad(lambda x: mnp.save(io.BytesIO(), x) or x.sum())(np.ones(2))


# ---------------------------------------------------------------------------------------
# Errors name the operation, the shapes and what to do.


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: mnp.select([A > 0], [A, A]), ValueError, "one choice per condition"),
        (lambda: mnp.piecewise(V, [V > 0], [1.0, 2.0, 3.0]), ValueError, "1 conditions need 1 or 2"),
        (lambda: mnp.choose(np.array([0, 2]), [V[:2], V[:2]]), ValueError, r"\[0, 2\)"),
        (lambda: mnp.block([[A], A]), ValueError, "different depths"),
        (lambda: mnp.convolve(A, V), ValueError, "1-D arrays, got shapes"),
        (lambda: mnp.interp(V, A, A), ValueError, "xp and fp must be 1-D"),
        (lambda: mnp.r_["x", 1], ValueError, "directive"),
        (lambda: mnp.vsplit(V, 2), ValueError, "at least 2 dimensions"),
        (lambda: mnp.broadcast_arrays(np.ones(2), np.ones(3)), ValueError, r"\(2,\), \(3,\)"),
        (lambda: mnp.average(A, axis=1, weights=V), ValueError, "weights of shape"),
        (lambda: mnp.polyfit(V, V, 1, full=True), NotImplementedError, "lstsq"),
        (lambda: mg.jit(lambda c: mnp.compress(c > 0, V))(V), mg.ConcretizationError, "condition"),
    ],
)
def test_errors_say_what_to_do(call, error, message):
    with pytest.raises(error, match=message):
        call()
