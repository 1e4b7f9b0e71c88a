"""The array functions of ``minigrad.numpy`` (building, cumulative, sorting, statistics)
against NumPy itself: values, shapes, dtypes and keywords. Derivatives, batching and jit
are checked by the rows of ``op_specs_arrays.py``."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp

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
