"""Sorting, partitioning and clipping: the fast value paths give a stable sort's values
bit for bit, and derivatives follow JAX's conventions at ties and bounds.

Gradients on tie-free inputs are checked by the op table (``op_specs_arrays``); here are
the cases it cannot draw: ties, signed zeros, NaNs, and values exactly at a bound.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.ops import sorting

WEIGHTS = np.array([10.0, 20.0, 30.0, 40.0])


def _bits(x):
    return np.asarray(x).view(np.uint64)


def test_sort_keeps_signed_zeros_and_nans_in_stable_order():
    x = np.array([0.0, -0.0, np.nan, 1.0, -np.nan, -np.inf, np.inf, 0.0])
    stable = np.sort(x, kind="stable")
    np.testing.assert_array_equal(_bits(mnp.sort(x)), _bits(stable))
    np.testing.assert_array_equal(_bits(mnp.sort(x, descending=True)), _bits(stable[::-1]))
    np.testing.assert_array_equal(mnp.argsort(x), np.argsort(x, kind="stable"))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([0.0, -0.0, 1.5, -2.0, np.nan, np.inf]), min_size=0, max_size=12),
    st.integers(0, 2),
)
def test_sort_and_argsort_equal_numpys_stable_ones_with_many_ties(elements, ndim):
    x = np.array(elements).reshape((-1,) + (1,) * ndim)
    for axis in range(x.ndim):
        np.testing.assert_array_equal(
            _bits(mnp.sort(x, axis=axis)), _bits(np.sort(x, axis=axis, kind="stable"))
        )
        np.testing.assert_array_equal(mnp.argsort(x, axis=axis), np.argsort(x, axis=axis, kind="stable"))


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.float32, np.float64, np.bool_])
def test_argsort_is_stable_for_every_dtype(dtype):
    x = np.random.default_rng(0).integers(0, 3, (4, 50)).astype(dtype)
    for axis in (0, 1):
        np.testing.assert_array_equal(
            sorting.stable_argsort(x, axis), np.argsort(x, axis=axis, kind="stable")
        )
        np.testing.assert_array_equal(mnp.argsort(x, axis=axis), np.argsort(x, axis=axis, kind="stable"))
    distinct = np.random.default_rng(1).permutation(200).reshape(4, 50).astype(np.float64)
    np.testing.assert_array_equal(mnp.argsort(distinct), np.argsort(distinct, kind="stable"))


def test_sort_gradient_at_ties_follows_the_stable_order():
    # [1, 1, 1, 0] sorts to [0, 1, 1, 1]: the tied ones keep their order (JAX's convention),
    # so x[0], x[1], x[2] take the weights of output positions 1, 2, 3.
    x = np.array([1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.sort(x) @ WEIGHTS)(x), [20.0, 30.0, 40.0, 10.0])
    # Descending reverses the ascending sort, ties included (as jnp.sort(descending=True)).
    np.testing.assert_array_equal(
        mg.grad(lambda x: mnp.sort(x, descending=True) @ WEIGHTS)(x), [30.0, 20.0, 10.0, 40.0]
    )
    _, tangent = mg.jvp(mnp.sort, (x,), (WEIGHTS,))
    np.testing.assert_array_equal(tangent, [40.0, 10.0, 20.0, 30.0])


def test_sort_gradient_matches_jax_at_ties():
    jax = pytest.importorskip("jax")
    x = np.array([2.0, -0.0, 2.0, 0.0, 1.0, 2.0])
    w = np.arange(6.0) ** 2
    with jax.enable_x64(True):  # float64 here only, not for the rest of the process
        for descending in (False, True):
            ours = mg.grad(lambda x, d=descending: mnp.sort(x, descending=d) @ w)(x)
            theirs = jax.grad(lambda x, d=descending: jax.numpy.sort(x, descending=d) @ w)(x)
            np.testing.assert_array_equal(ours, np.asarray(theirs))
            values = np.asarray(jax.numpy.sort(x, descending=descending))
            np.testing.assert_array_equal(_bits(mnp.sort(x, descending=descending)), _bits(values))


@pytest.mark.parametrize("kth", [0, 3, -1, (1, 4)])
def test_partition_values_and_gradient_route_each_element_home(kth):
    x = np.array([[5.0, 1.0, 4.0, 1.0, 3.0, 0.0], [2.0, 2.0, 9.0, -1.0, 7.0, 2.0]])
    out = mnp.partition(x, kth, axis=1)
    reference = np.sort(x, axis=1)
    for k in np.atleast_1d(kth) % 6:
        np.testing.assert_array_equal(out[:, k], reference[:, k])
        assert np.all(out[:, :k] <= out[:, k : k + 1]) and np.all(out[:, k + 1 :] >= out[:, k : k + 1])
    # A weight per output position: each input element gets the weight of the position
    # its value landed in (distinct values: x[0]; ties are matched in order).
    weights = np.arange(12.0).reshape(2, 6)
    grads = mg.grad(lambda x: (mnp.partition(x, kth, axis=1) * weights).sum())(x)
    np.testing.assert_array_equal(np.sort(grads, axis=1), np.sort(weights, axis=1))
    for row in range(2):
        for i, value in enumerate(x[row]):
            assert out[row, np.flatnonzero(weights[row] == grads[row, i])[0]] == value
    argpartitioned = mnp.argpartition(x, kth, axis=1)
    np.testing.assert_array_equal(np.sort(argpartitioned, axis=1), np.tile(np.arange(6), (2, 1)))
    for k in np.atleast_1d(kth):
        np.testing.assert_array_equal(np.take_along_axis(x, argpartitioned, 1)[:, k], reference[:, k])


def test_partition_under_vmap_and_jit():
    x = np.random.default_rng(2).standard_normal((3, 5))
    batched = mg.vmap(lambda row: mnp.partition(row, 2))(x)
    np.testing.assert_array_equal(batched[:, 2], np.sort(x, axis=1)[:, 2])
    np.testing.assert_array_equal(mg.jit(lambda x: mnp.partition(x, 1, axis=0))(x)[1], np.sort(x, axis=0)[1])


def test_clip_gradients_at_the_bounds_are_jaxs():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    gx, glo, ghi = mg.grad(lambda x, lo, hi: mnp.clip(x, lo, hi).sum(), argnums=(0, 1, 2))(x, 0.0, 1.0)
    np.testing.assert_array_equal(gx, [0.0, 0.5, 1.0, 0.5, 0.0])
    assert (glo, ghi) == (1.5, 1.5)  # all of x[0], half of x[1]; half of x[3], all of x[4]
    # lo > hi: the result is hi everywhere, and so is the gradient.
    assert mg.grad(lambda x, lo, hi: mnp.clip(x, lo, hi), argnums=(0, 1, 2))(0.5, 1.0, 0.0) == (0.0, 0.0, 1.0)
    _, tangent = mg.jvp(lambda x: mnp.clip(x, 0.0, 1.0), (np.array([0.0, 1.0, 3.0]),), (np.ones(3),))
    np.testing.assert_array_equal(tangent, [0.5, 0.5, 0.0])
    # One bound: maximum or minimum, which split ties the same way.
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.clip(x, max=1.0).sum())(x), [1.0, 1.0, 1.0, 0.5, 0.0])


def test_clip_matches_numpy_on_nan_and_integer_inputs():
    x = np.array([np.nan, -3.0, 3.0])
    np.testing.assert_array_equal(mnp.clip(x, -1.0, 1.0), np.clip(x, -1.0, 1.0))
    assert np.isnan(mg.grad(lambda x: mnp.clip(x, -1.0, 1.0).sum())(x)).sum() == 0
    ints = np.arange(-3, 4, dtype=np.int8)
    out = mnp.clip(ints, np.int8(-1), np.int8(2))
    assert out.dtype == np.int8 and out.tolist() == np.clip(ints, np.int8(-1), np.int8(2)).tolist()


@pytest.mark.parametrize(
    ("statistic", "leading"),
    [
        (lambda a, axis: mnp.median(a, axis=axis), ()),
        (lambda a, axis: mnp.nanmedian(a, axis=axis), ()),
        (lambda a, axis: mnp.quantile(a, np.array([0.25, 0.5], a.dtype), axis=axis), (2,)),
    ],
    ids=["median", "nanmedian", "quantile"],
)
def test_statistics_of_empty_slices_are_nan(statistic, leading):
    # NumPy's median of an empty slice is NaN (with a warning); indexing into it must not fail.
    for a, axis, shape in [
        (np.zeros((0, 3)), 0, (3,)),
        (np.zeros((3, 0), np.float32), 1, (3,)),
        (np.zeros(0), None, ()),
    ]:
        for result in (statistic(a, axis), mg.jit(lambda v, axis=axis: statistic(v, axis))(a)):
            assert result.shape == (*leading, *shape) and result.dtype == a.dtype
            assert np.isnan(result).all()
    grads = mg.grad(lambda v: mnp.sum(statistic(v, 0)))(np.zeros((0, 3)))
    assert grads.shape == (0, 3)
