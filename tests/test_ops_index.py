"""``ops/index.py``: ``accumulate_at`` against NumPy's ``ufunc.at`` bit for bit (its flat
path and its fallback), and the gradient of a table lookup it computes, against finite
differences and jit against eager."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.ops.index import accumulate_at
from minigrad.testing import check_grads

RNG = np.random.default_rng(0)

# (out shape, index, updates shape): leading index arrays with repeats (the flat path),
# broadcast against each other, negative, unsigned, empty; and indices it leaves to
# ufunc.at (an integer or a partial slice after the arrays, an array after a slice)
CASES = [
    ((27, 32), (RNG.integers(0, 27, (32, 32)),), (32, 32, 32)),
    ((5,), (np.array([4, 0, 4, 4, -1]),), (5,)),
    ((4, 5, 3), (np.array([[0], [3], [-1]]), np.array([1, -2, 1, 4])), (3, 4, 3)),
    ((6, 2), (np.array([1, 1, 5], np.uint32),), (3, 2)),
    ((3, 4), (np.array([], np.int64),), (0, 4)),
    ((3, 4, 2), (np.array([2, 2]), 1), (2, 2)),
    ((3, 4), (np.array([0, 0]), slice(1, 3)), (2, 2)),
    ((3, 4), (slice(None), np.array([1, 1, 3])), (3, 3)),
    ((3, 4, 5), (np.array([0, 0]), slice(None), np.array([1, 2])), (2, 4)),
]


@pytest.mark.parametrize("ufunc", [np.add, np.multiply, np.minimum, np.maximum])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("shape", "index", "updates_shape"), CASES)
def test_accumulate_at_is_ufunc_at(ufunc, dtype, shape, index, updates_shape):
    out = RNG.normal(size=shape).astype(dtype)
    updates = RNG.normal(size=updates_shape).astype(dtype)
    expected = out.copy()
    ufunc.at(expected, index, updates)
    accumulate_at(ufunc, out, index, updates)
    np.testing.assert_array_equal(out, expected)


def test_accumulate_at_on_a_transposed_table():
    # Not contiguous: the flat positions would be wrong, so ufunc.at's own path runs.
    out = np.zeros((4, 3)).T
    expected = out.copy()
    index, updates = (np.array([0, 2, 0]),), np.arange(12.0).reshape(3, 4)
    np.add.at(expected, index, updates)
    accumulate_at(np.add, out, index, updates)
    np.testing.assert_array_equal(out, expected)


def test_accumulate_at_adds_repeated_rows_by_hand():
    out = np.zeros((3, 2))
    accumulate_at(np.add, out, (np.array([[2, 0], [2, 2]]),), np.arange(8.0).reshape(2, 2, 2))
    np.testing.assert_array_equal(out, [[2.0, 3.0], [0.0, 0.0], [0.0 + 4.0 + 6.0, 1.0 + 5.0 + 7.0]])


@pytest.mark.parametrize("bad", [3, -4])
def test_accumulate_at_rejects_an_index_out_of_bounds(bad):
    with pytest.raises(IndexError, match=f"index {bad} is out of bounds for axis 0 with size 3"):
        accumulate_at(np.add, np.zeros((3, 2)), (np.array([0, bad]),), np.ones((2, 2)))


def embedding_loss(table, ids):
    return mnp.sum(mnp.tanh(table[ids]) ** 2)


def test_embedding_gradient_against_finite_differences():
    table, ids = RNG.normal(size=(7, 3)), RNG.integers(0, 7, (4, 5))
    check_grads(lambda t: embedding_loss(t, ids), (table,), modes=("rev",))


def test_embedding_gradient_under_jit_is_eager():
    table = RNG.normal(size=(27, 32)).astype(np.float32)
    ids = RNG.integers(0, 27, (32, 32))
    grad = mg.grad(embedding_loss)
    np.testing.assert_array_equal(mg.jit(grad)(table, ids), grad(table, ids))
    # Each row's gradient is the sum over the places its id appears.
    by_hand = np.zeros_like(table)
    for i in ids.reshape(-1):
        by_hand[i] += 2 * np.tanh(table[i]) * (1 - np.tanh(table[i]) ** 2)
    np.testing.assert_allclose(grad(table, ids), by_hand, rtol=1e-5, atol=1e-6)
