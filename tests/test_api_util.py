"""Tests for minigrad.transforms.api_util: what transforms do at their boundary."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.transforms.api_util import merge_arguments


@pytest.mark.parametrize(
    ("positions", "values", "rest", "expected"),
    [
        ((), [], ["a", "b"], ["a", "b"]),
        ((0, 1), ["a", "b"], [], ["a", "b"]),
        ((1,), ["b"], ["a", "c"], ["a", "b", "c"]),
        ((3, 0), ["d", "a"], ["b", "c"], ["a", "b", "c", "d"]),  # values in the order of positions
        ([0, 2, 4], ("a", "c", "e"), ("b", "d"), ["a", "b", "c", "d", "e"]),
    ],
)
def test_merge_arguments_puts_values_at_their_positions(positions, values, rest, expected):
    assert merge_arguments(positions, values, rest) == expected


def test_merge_arguments_keeps_the_objects_themselves():
    shared, traced = [1.0], [2.0]
    merged = merge_arguments((1,), [traced], [shared])
    assert merged[0] is shared and merged[1] is traced


def test_merge_arguments_rejects_a_value_count_that_does_not_match_the_positions():
    with pytest.raises(ValueError):
        merge_arguments((0, 1), ["a"], ["b"])


# ---------------------------------------------------------------------------------------
# ndarray subclasses: every entry point sees a plain array, as minigrad.numpy does

MATRIX = np.matrix([[1.0, 2.0], [3.0, 4.0]])
MASKED = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])

ENTRY_POINTS = {
    "eager": lambda f, x: f(x),
    "jit": lambda f, x: mg.jit(f)(x),
    "vmap": lambda f, x: mg.vmap(f)(x),
    "jvp": lambda f, x: mg.jvp(f, (x,), (np.ones(x.shape),))[0],
    "vjp": lambda f, x: mg.vjp(f, x)[0],
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_a_matrix_is_a_plain_array_at_every_entry_point(entry):
    out = ENTRY_POINTS[entry](lambda x: mnp.multiply(x, x) if entry == "eager" else x * x, MATRIX)
    assert type(out) is np.ndarray  # not np.matrix, whose `*` is a matrix product
    np.testing.assert_array_equal(out, np.asarray(MATRIX) ** 2)


def test_jit_of_a_matrix_reduces_like_a_plain_array():
    # np.matrix keeps two dimensions in its reductions; a plain array does not.
    out = mg.jit(lambda x: mnp.sum(x, axis=0))(MATRIX)
    np.testing.assert_array_equal(out, [4.0, 6.0])
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.sum(x * x))(MATRIX), 2 * np.asarray(MATRIX))


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_a_masked_array_is_refused_at_every_entry_point(entry):
    # Eagerly `sum` skipped masked elements and `exp` used them; jit used them all.
    with pytest.raises(TypeError, match=r"masked array of shape \(3,\).*filled"):
        ENTRY_POINTS[entry](mnp.sum, MASKED)
