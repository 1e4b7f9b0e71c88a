"""Tests for minigrad.transforms.api_util: what transforms do at their boundary."""

import warnings

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

with warnings.catch_warnings():  # NumPy discourages np.matrix, which is the point here
    warnings.simplefilter("ignore", PendingDeprecationWarning)
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


# ---------------------------------------------------------------------------------------
# Arguments are checked when a transform is built, not when it is called

BUILDERS = {
    "grad": mg.grad,
    "value_and_grad": mg.value_and_grad,
    "vmap": mg.vmap,
    "jacfwd": mg.jacfwd,
    "jacrev": mg.jacrev,
    "hessian": mg.hessian,
    "jit": mg.jit,
    "make_jaxpr": mg.make_jaxpr,
    "checkpoint": mg.checkpoint,
    "custom_vjp": mg.custom_vjp,
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("not_a_function", [3, "x", np.ones(2)])
def test_a_transform_of_something_not_callable_fails_when_built(name, not_a_function):
    with pytest.raises(
        TypeError, match=rf"^{name}: expected a function to transform, got {type(not_a_function).__name__}"
    ):
        BUILDERS[name](not_a_function)


@pytest.mark.parametrize("name", ["grad", "value_and_grad", "jacfwd", "jacrev"])
@pytest.mark.parametrize("argnums", [1.5, "0", (0, None), True])
def test_argnums_of_the_wrong_type_fail_when_built(name, argnums):
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints"):
        BUILDERS[name](lambda x: x, argnums=argnums)


def test_static_argnums_none_means_none_as_in_jax():
    np.testing.assert_array_equal(mg.jit(lambda x: x * 2.0, static_argnums=None)(np.ones(1)), [2.0])
    assert "mul" in str(mg.make_jaxpr(lambda x: x * 2.0, static_argnums=None)(np.ones(1)))


@pytest.mark.parametrize("static_argnums", [1.5, "1", (0, 1.0)])
def test_static_argnums_of_the_wrong_type_fail_when_built(static_argnums):
    with pytest.raises(TypeError, match=r"jit: static_argnums must be an int, a tuple of ints or None, got"):
        mg.jit(lambda x, n: x, static_argnums=static_argnums)


def test_static_argnames_none_means_none_and_other_types_fail_when_built():
    np.testing.assert_array_equal(mg.jit(lambda x: x, static_argnames=None)(np.ones(1)), [1.0])
    with pytest.raises(TypeError, match="static_argnames must be a str, a tuple of str or None, got 3"):
        mg.jit(lambda x: x, static_argnames=3)


NOT_ARRAYS = {"str": lambda x: "label", "object": lambda x: object(), "generator": lambda x: (v for v in [x])}


@pytest.mark.parametrize("kind", sorted(NOT_ARRAYS))
@pytest.mark.parametrize(
    "transform",
    [
        lambda f: mg.vmap(f)(np.ones(2)),
        lambda f: mg.jvp(f, (np.ones(2),), (np.ones(2),)),
        lambda f: mg.jit(f)(np.ones(2)),
    ],
    ids=["vmap", "jvp", "jit"],
)
def test_outputs_that_are_not_arrays_are_refused_by_every_transform(kind, transform):
    # vmap and jvp used to return object arrays where grad and jit raised.
    with pytest.raises(TypeError, match=rf"output is of type {kind}, which is not an array"):
        transform(NOT_ARRAYS[kind])
