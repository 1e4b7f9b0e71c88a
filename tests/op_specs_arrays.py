"""Rows of the operation table for array manipulation, cumulative operations, sorting and statistics.

See ``op_specs.py`` for how the table is used and ``op_spec_tools.py`` for ``OpSpec``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minigrad.numpy as mnp
from tests.op_spec_tools import OpSpec, values


def _array(domain="real", min_ndim=1, min_size=1, max_ndim=3):
    """Draws one array of 1 to 3 dimensions (sizes ``min_size`` to 3) in ``domain``."""

    def draw_args(draw, rng):
        shape = draw(st.lists(st.integers(min_size, 3), min_size=min_ndim, max_size=max_ndim).map(tuple))
        return (values(rng, shape, domain),)

    return draw_args


def _with_axis(domain="real", min_size=1):
    """Draws an array and one of its axes (as an int, closed over by the tests)."""

    def draw_args(draw, rng):
        shape = draw(st.lists(st.integers(min_size, 3), min_size=1, max_size=3).map(tuple))
        return (values(rng, shape, domain), draw(st.integers(-len(shape), len(shape) - 1)))

    return draw_args


def _with_zeros(draw, rng):
    """An array with some elements exactly zero, and an axis (cumprod's hard case)."""
    (x, axis) = _with_axis()(draw, rng)
    return (np.where(rng.random(x.shape) < 0.3, 0.0, x), axis)


def _weights(shape):
    """Distinct constant weights, so that a result in the wrong order changes the gradient."""
    return np.cos(np.arange(int(np.prod(shape)))).reshape(shape)


def _with_nan(x):
    """``x`` with its first element NaN (kept when ``x`` has one element), as a traced value."""
    if x.size < 2:
        return x
    mask = np.zeros(x.shape, bool)
    mask.flat[0] = True
    return mnp.where(mask, np.nan, x)


def _spec(name, fun, draw_args):
    return OpSpec(name, fun, draw_args=draw_args, shapes="custom")


# Fixed bins, away from the drawn values' likely neighbourhoods of a finite difference.
_BINS = np.array([-0.7, 0.1, 0.9])


def _canonical(partitioned, kth, axis):
    """A partition with the elements between its kth positions sorted: NumPy promises
    where the kth elements go and which elements lie between them, not their order
    there (introselect's, which other libraries' partitions need not share)."""
    moved = mnp.moveaxis(partitioned, axis, 0)
    pieces, start = [], 0
    for k in sorted(set(kth)):
        if k > start:
            pieces.append(mnp.sort(moved[start:k], axis=0))
        pieces.append(moved[k : k + 1])
        start = k + 1
    if start < moved.shape[0]:
        pieces.append(mnp.sort(moved[start:], axis=0))
    return mnp.moveaxis(mnp.concatenate(pieces, axis=0), 0, axis)


SPECS: list[OpSpec] = [
    # running totals and differences
    _spec("cumsum", lambda x, axis: mnp.cumsum(x, axis=axis), _with_axis()),
    _spec("cumsum_flat", lambda x: mnp.cumsum(x) * np.arange(x.size), _array()),
    _spec("cumprod", lambda x, axis: mnp.cumprod(x, axis=axis), _with_axis()),
    _spec("cumprod_with_zeros", lambda x, axis: mnp.cumprod(x, axis=axis), _with_zeros),
    _spec("nancumsum", lambda x, axis: mnp.nancumsum(x, axis=axis), _with_axis()),
    _spec("cumulative_sum", lambda x: mnp.cumulative_sum(x, include_initial=True), _array(max_ndim=1)),
    _spec("diff", lambda x, axis: mnp.diff(x, axis=axis, prepend=1.0), _with_axis()),
    _spec("diff2", lambda x, axis: mnp.diff(x, n=2, axis=axis), _with_axis(min_size=3)),
    _spec("ediff1d", lambda x: mnp.ediff1d(x, to_begin=2.0), _array()),
    _spec("gradient", lambda x, axis: mnp.gradient(x, 0.5, axis=axis, edge_order=2), _with_axis(min_size=3)),
    # sorting and searching
    _spec("sort", lambda x, axis: mnp.sort(x, axis=axis), _with_axis("distinct")),
    _spec("sort_descending_flat", lambda x: mnp.sort(x, axis=None, descending=True), _array("distinct")),
    _spec("take_along_axis", lambda x: mnp.take_along_axis(x, mnp.argsort(-x, axis=0), axis=0) * x, _array("distinct")),
    _spec("partition", lambda x: _canonical(mnp.partition(x, 0, axis=-1), (0,), -1), _array("distinct")),
    _spec("partition_middle",
          lambda x: _canonical(mnp.partition(x, (0, x.shape[0] // 2), axis=0), (0, x.shape[0] // 2), 0) * _weights(x.shape),
          _array("distinct")),
    _spec("searchsorted", lambda x: x * mnp.searchsorted(_BINS, x), _array()),
    _spec("digitize", lambda x: x * mnp.digitize(x, _BINS[::-1], right=True), _array()),
    _spec("bincount_weights", lambda w: mnp.bincount(np.array([0, 2, 2, 1, 0, 4])[: w.size], w, length=5),
          _array(max_ndim=1)),
    _spec("nonzero_sized", lambda x: mnp.take(x, mnp.flatnonzero(x > 0, size=4)), _array()),
    # rearranging
    _spec("repeat", lambda x, axis: mnp.repeat(x, 2, axis=axis), _with_axis()),
    _spec("repeat_counts", lambda x: mnp.repeat(x, np.arange(x.shape[0]) % 3, axis=0), _array()),
    _spec("roll", lambda x, axis: mnp.roll(x, 2, axis=axis) * _weights(x.shape), _with_axis()),
    _spec("roll_flat", lambda x: mnp.roll(x, -1) * _weights(x.shape), _array()),
    _spec("roll_axes", lambda x: mnp.roll(x, (1, -2), axis=(0, -1)) * _weights(x.shape), _array(min_ndim=2)),
    _spec("append", lambda x: mnp.append(x, 2.0 * x, axis=0), _array()),
    _spec("tile", lambda x: mnp.tile(x, (2, 1, 2)) * 1.5, _array()),
    _spec("rot90", lambda x: mnp.rot90(x, 1) * _weights(x.shape[1::-1] + x.shape[2:]), _array(min_ndim=2)),
    _spec("rot90_three_times", lambda x: mnp.rot90(x, 3, axes=(1, 0)), _array(min_ndim=2)),
    _spec("atleast_3d", lambda x: mnp.atleast_3d(x) ** 2, _array(min_ndim=0)),
    _spec("resize", lambda x: mnp.resize(x, (2, 5)), _array()),
    _spec("insert", lambda x, v: mnp.insert(x, 1, v, axis=0),
          lambda draw, rng: (values(rng, (3, 2), "real"), values(rng, (2,), "real"))),
    _spec("insert_flat", lambda x: mnp.insert(x, [0, 2], 5.0), _array(min_size=2)),
    _spec("delete", lambda x: mnp.delete(x, [0], axis=-1), _array(min_size=2)),
    # matrix structure
    _spec("diagonal", lambda x: mnp.diagonal(x, 1, -1, 0), _array(min_ndim=2, min_size=2)),
    _spec("trace", lambda x: mnp.trace(x, -1), _array(min_ndim=2, min_size=2)),
    _spec("diag_vector", lambda x: mnp.diag(x, -1), _array(max_ndim=1)),
    _spec("diag_matrix", lambda x: mnp.diag(x, 1), _array(min_ndim=2, max_ndim=2, min_size=2)),
    _spec("tril_triu", lambda x: mnp.tril(x, 1) - 2.0 * mnp.triu(x, -1), _array(min_ndim=2)),
    _spec("kron", mnp.kron, lambda draw, rng: (values(rng, (2, 3), "real"), values(rng, (3, 1, 2), "real"))),
    _spec("vander", lambda x: mnp.vander(x, 4), _array(max_ndim=1)),
    _spec("cross", lambda a, b: mnp.cross(a, b, axisa=0), lambda draw, rng: (values(rng, (3, 2), "real"), values(rng, (2, 3), "real"))),
    _spec("cross_2d", mnp.cross, lambda draw, rng: (values(rng, (2, 2), "real"), values(rng, (2,), "real"))),
    _spec("ptp", lambda x, axis: mnp.ptp(x, axis=axis), _with_axis("distinct")),
    # statistics
    _spec("median", lambda x, axis: mnp.median(x, axis=axis), _with_axis("distinct")),
    _spec("quantile", lambda x: mnp.quantile(x, [0.1, 0.62], axis=0, keepdims=True), _array("distinct")),
    _spec("quantile_in_q", lambda x, q: mnp.quantile(x, q), lambda draw, rng: (values(rng, (5,), "distinct"), rng.uniform(0.1, 0.2, 2))),
    _spec("percentile_nearest", lambda x: mnp.percentile(x, 40, axis=-1, method="nearest"), _array("distinct")),
    _spec("nanmedian", lambda x: mnp.nanmedian(_with_nan(x), axis=-1), _array("distinct", min_size=2)),
    _spec("nansum_nanmean", lambda x, axis: mnp.nansum(_with_nan(x), axis=axis) + mnp.nanmean(_with_nan(x), axis=axis), _with_axis(min_size=2)),
    _spec("nanvar_nanstd", lambda x: mnp.nanvar(_with_nan(x), axis=-1) + mnp.nanstd(_with_nan(x)), _array(min_size=3)),
    _spec("nanmax_nanmin_nanprod", lambda x: mnp.nanmax(_with_nan(x), axis=0) * mnp.nanmin(_with_nan(x), axis=0) + mnp.nanprod(_with_nan(x)), _array("distinct", min_size=2)),
]  # fmt: skip


def _pair(shape_a, shape_b, domain="real"):
    """Two arrays of fixed shapes."""
    return lambda draw, rng: (values(rng, shape_a, domain), values(rng, shape_b, domain))


def _vector_pair(draw, rng):
    """Two 1-D arrays of independent lengths 1 to 4 (the longer may come first or second)."""
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return (values(rng, (n,), "real"), values(rng, (m,), "real"))


def _one(shape, domain="real"):
    """One array of a fixed shape."""
    return lambda draw, rng: (values(rng, shape, domain),)


_MASK = np.array([True, False, True, True, False, True])
_TABLE_X = np.array([-1.0, -0.2, 0.5, 1.5])

SPECS += [
    # joining, splitting, broadcasting together
    _spec("array_split", lambda x: mnp.concatenate([p * (i + 1) for i, p in enumerate(mnp.array_split(x, 2, axis=0))]), _array(min_size=3)),
    _spec("column_stack_dstack", lambda a, b: mnp.column_stack([a, b]).sum() * mnp.dstack([a, 2 * b]), _pair((3,), (3,))),
    _spec("block", lambda a, b: mnp.block([[a, b], [b.T, 1.0 + a[:1, :1]]]), _pair((2, 2), (2, 1))),
    _spec("broadcast_arrays", lambda a, b: mnp.stack(mnp.broadcast_arrays(a, b)) * _weights((2, 2, 3)), _pair((2, 1), (3,))),
    _spec("unstack_rollaxis", lambda x: mnp.unstack(mnp.rollaxis(x, -1), axis=0)[0] * 3.0, _array(min_ndim=2)),
    _spec("matrix_transpose", lambda x: mnp.matrix_transpose(x) * _weights(x.shape[:-2] + x.shape[:-3:-1]), _array(min_ndim=2)),
    # grids and creation
    _spec("meshgrid", lambda a, b: mnp.stack(mnp.meshgrid(a, b)) * _weights((2, 2, 3)), _pair((3,), (2,))),
    _spec("meshgrid_sparse_ij", lambda a, b: mnp.meshgrid(a, b, sparse=True, indexing="ij")[0] * b, _pair((3,), (2,))),
    _spec("r_c_", lambda a, b: mnp.r_[a, 2.0, b] * mnp.r_[0:1:5j] + mnp.c_[a, a].sum(), _pair((2,), (2,))),
    _spec("logspace_geomspace", lambda a, b: mnp.logspace(a, b, 4, base=2.0, axis=-1) * mnp.geomspace(a + 3.0, b + 3.0, 4, axis=-1),
          _pair((2,), (2,), "unit")),
    # choosing by conditions and writing at positions
    _spec("select", lambda x: mnp.select([x < -0.5, x > 0.5], [x**2, mnp.sin(x)], default=-x), _array()),
    _spec("piecewise", lambda x: mnp.piecewise(x, [x < 0, x > 1], [mnp.exp, lambda v: v**3, 0.5]), _array()),
    _spec("choose", lambda a, b: mnp.choose(np.array([[0, 1, 1], [1, 0, 2]]), [a, b, 3.0 * a]), _pair((3,), (2, 3))),
    _spec("compress_extract", lambda x: mnp.compress([True, False, True], x, axis=0) * 2.0 + mnp.extract(_MASK, x).sum(), _one((3, 2))),
    _spec("put_place", lambda a, v: mnp.put(a, [0, 5, 0], v, inplace=False) * 2.0 + mnp.place(a, _MASK.reshape(2, 3), v[:2], inplace=False), _pair((2, 3), (3,))),
    _spec("put_along_axis", lambda a, v: mnp.put_along_axis(a, np.array([[2], [0]]), v, axis=1, inplace=False), _pair((2, 3), (2, 1))),
    _spec("fill_diagonal", lambda a, v: mnp.fill_diagonal(a, v, wrap=True, inplace=False), _pair((5, 2), (2,))),
    # signals
    _spec("convolve", lambda a, v: mnp.convolve(a, v) * _weights((a.size + v.size - 1,)), _vector_pair),
    _spec("convolve_same_valid", lambda a, v: mnp.concatenate([mnp.convolve(a, v, "same"), mnp.convolve(a, v, "valid")]), _vector_pair),
    _spec("correlate", lambda a, v: mnp.concatenate([mnp.correlate(a, v, "full"), mnp.correlate(a, v, "same")]), _vector_pair),
    _spec("interp", lambda x, fp: mnp.interp(x, _TABLE_X, fp, right=-2.0), lambda draw, rng: (values(rng, (5,), "real"), values(rng, (4,), "real"))),
    _spec("interp_in_xp", lambda xp, fp: mnp.interp(np.array([-0.5, 0.3, 1.0, 2.0]), xp, fp, period=3.0),
          lambda draw, rng: (np.sort(rng.uniform(-1.0, 2.0, 3)) + np.array([0.0, 0.3, 0.6]), values(rng, (3,), "real"))),
    _spec("trapezoid", lambda y, x: mnp.trapezoid(y, x, axis=0), _pair((3, 2), (3,))),
    _spec("unwrap", lambda p: mnp.unwrap(3.0 * p, axis=0), _array()),
    _spec("i0", lambda x: mnp.i0(6.0 * x), _array()),
    _spec("kaiser", lambda beta: mnp.kaiser(5, 2.0 + beta**2), _one(())),
    # polynomials
    _spec("polyval", mnp.polyval, _pair((3,), (2, 2))),
    _spec("polyadd_polysub_polymul", lambda a, b: mnp.polyadd(a, b) * mnp.polysub(b, a) + mnp.polymul(a, b)[: max(a.size, b.size)], _vector_pair),
    _spec("polyder_polyint", lambda p: mnp.concatenate([mnp.polyder(p, 2), mnp.polyint(p, 2, k=[1.0, p[0]])]), _array(max_ndim=1, min_size=3)),
    _spec("polydiv", lambda u, v: mnp.concatenate(mnp.polydiv(u, v)), lambda draw, rng: (values(rng, (4,), "real"), values(rng, (2,), "nonzero"))),
    _spec("polyfit", lambda x, y: mnp.polyfit(x, y, 2), lambda draw, rng: (np.linspace(-1.0, 1.0, 5) + rng.uniform(-0.1, 0.1, 5), values(rng, (5, 2), "real"))),
    _spec("poly", mnp.poly, _array(max_ndim=1)),
    # weighted moments and histograms
    _spec("average", lambda a, w: mnp.average(a, axis=1, weights=w), _pair((2, 3), (3,), "positive")),
    _spec("cov", lambda m: mnp.cov(m, aweights=np.array([1.0, 2.0, 0.5, 1.0]), ddof=1), _one((2, 4))),
    _spec("corrcoef", lambda x, y: mnp.corrcoef(x, y), _pair((4,), (4,))),
    _spec("histogram_weights", lambda w: mnp.histogram(np.array([-0.5, 0.2, 0.3, 0.9, 2.0]), bins=3, range=(-1.0, 1.0), weights=w, density=True)[0],
          _one((5,), "positive")),
    _spec("histogram_traced_range", lambda hi: mnp.histogram(np.array([0.1, 0.2, 0.5]), bins=2, range=(0.0, 1.0 + hi**2), density=True)[0],
          _one((), "unit")),
    # sets, applying functions over axes, products of vectors and matrices
    _spec("union1d_sized", lambda x: mnp.union1d(x[1:], x, size=x.size + 1) * _weights((x.size + 1,)), _array("distinct", max_ndim=1, min_size=2)),
    _spec("vectorize", lambda x, y: mnp.vectorize(lambda u, v: mnp.dot(u, v) * u[0], signature="(n),(n)->()")(x, y), _pair((2, 3), (3,))),
    _spec("apply_along_axis", lambda x: mnp.apply_along_axis(lambda v: mnp.cumsum(v) * v, 0, x), _array(min_ndim=2)),
    _spec("vecdot_matvec_vecmat", lambda a, b: mnp.vecdot(a, b[0]) * mnp.matvec(a, b[1]) + mnp.vecmat(b[0], a.T)[:2],
          _pair((2, 3), (2, 3))),
    _spec("einsum_sublists", lambda a, b: mnp.einsum(a, [0, 1], b, [1, Ellipsis], [Ellipsis, 0]), _pair((2, 3), (3, 2))),
]  # fmt: skip


def _polynomial(draw, rng):
    """Coefficients of a polynomial of degree 1 to 4 whose roots (a real one, maybe a
    complex pair) are at least 0.5 apart, so every root is simple."""
    degree = draw(st.integers(1, 4))
    real = rng.permutation(4)[: degree % 2 + 2 * (degree // 4)] - 1.5 + rng.uniform(-0.1, 0.1)
    pairs = [complex(rng.uniform(-1, 1), rng.uniform(0.5, 1.5))] * ((degree - real.size) // 2)
    zeros = np.concatenate([real, *[[z, z.conjugate()] for z in pairs]])
    return (rng.uniform(0.5, 2.0) * np.real(np.poly(zeros)),)


def _root_sums(r):
    """A smooth function of the roots that does not depend on their order."""
    return mnp.sum(mnp.real(mnp.exp(r)) + 0.7 * mnp.imag(r * r) ** 2)


SPECS += [
    # strip_zeros=False: a length known without values, so vmap and jit apply too (as JAX).
    _spec("roots", lambda p: _root_sums(mnp.roots(p, strip_zeros=False)), _polynomial),
    _spec("roots_complex_coefficients",
          lambda p: _root_sums(mnp.roots(p * (1.0 + 0.3j) + 0.05j * p[::-1], strip_zeros=False)), _polynomial),
    _spec("sort_complex", lambda x: mnp.real(mnp.sort_complex(x)) * _weights(x.shape), _array("distinct")),
]  # fmt: skip
