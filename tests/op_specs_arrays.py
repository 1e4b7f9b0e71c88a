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
    _spec("partition", lambda x: mnp.partition(x, 0, axis=-1), _array("distinct")),
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
