"""Every case of API.md's Errors section, plus the other messages users will meet."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.numpy as mnp
from minigrad.core.errors import CONCRETIZATION_ADVICE
from minigrad.ops.elementwise import div
from minigrad.testing import check_grads
from minigrad.transforms.ad import GRAD_NON_SCALAR_ADVICE


@pytest.mark.parametrize(
    "call, names",
    [
        (lambda: mnp.matmul(np.ones((2, 3)), np.ones((4, 5))), ["matmul", "(2, 3)", "(4, 5)"]),
        (lambda: mnp.add(np.ones((2, 3)), np.ones((4,))), ["add", "(2, 3)", "(4,)"]),
        (lambda: mnp.reshape(np.ones((2, 3)), (4, 2)), ["reshape", "(2, 3)", "(4, 2)"]),
        (lambda: mnp.concatenate([np.ones((2, 3)), np.ones((2, 4))]), ["concatenate", "(2, 3)", "(2, 4)"]),
        (lambda: mnp.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 5))), ["einsum", "(2, 3)", "(4, 5)"]),
        # batch axes that do not broadcast: the full shapes, not only (2,) and (3,)
        (lambda: mnp.matmul(np.ones((2, 3, 4)), np.ones((3, 4, 5))), ["matmul", "(2, 3, 4)", "(3, 4, 5)"]),
        (
            lambda: mg.jit(mnp.matmul)(np.ones((5, 2, 3, 4)), np.ones((3, 4, 5))),
            ["matmul", "(5, 2, 3, 4)", "(3, 4, 5)"],
        ),
    ],
)
def test_shape_mismatch_names_operation_and_shapes(call, names):
    with pytest.raises(ValueError) as info:
        call()
    for name in names:
        assert name in str(info.value)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: nn.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), padding=-1),
            "conv2d: padding must be non-negative, got -1",
        ),
        (
            lambda: nn.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2)), stride=0),
            "conv2d: stride must be positive, got 0",
        ),
        (
            lambda: nn.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 0, 2))),
            r"conv2d: weight of shape \(1, 1, 0, 2\) .* empty kernel",
        ),
        (lambda: nn.max_pool2d(np.ones((1, 1, 4, 4)), 0), "max_pool2d: size must be positive, got 0"),
        (
            lambda: nn.avg_pool2d(np.ones((1, 1, 4, 4)), (2, 0)),
            r"avg_pool2d: size must be positive, got \(2, 0\)",
        ),
        (
            lambda: nn.max_pool2d(np.ones((1, 1, 4, 4)), 2, stride=-1),
            "max_pool2d: stride must be positive, got -1",
        ),
    ],
)
def test_layer_arguments_are_named_in_their_errors(call, message):
    # Not the operations they are built from ("pad", "stack", strides the user never gave).
    with pytest.raises(ValueError, match=f"^{message}"):
        call()


@pytest.mark.parametrize(("shape", "axis"), [((0,), None), ((2, 0), 1), ((0, 3), 0)])
def test_logsumexp_of_an_empty_slice_is_minus_infinity(shape, axis):
    # As in SciPy and JAX (an empty sum is 0), rather than an error about "max".
    expected = np.full(np.sum(np.ones(shape), axis=axis).shape, -np.inf)
    np.testing.assert_array_equal(mnp.logsumexp(np.ones(shape), axis=axis), expected)
    np.testing.assert_array_equal(mg.jit(lambda x: mnp.logsumexp(x, axis=axis))(np.ones(shape)), expected)


def test_shape_mismatch_inside_transforms():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        mg.grad(lambda x: (x @ np.ones((4, 5))).sum())(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"mul.*\(3,\).*\(2,\)"):
        mg.make_jaxpr(lambda x: x * np.ones(2))(np.ones(3))


def test_grad_of_non_scalar_says_use_vjp_or_jacrev():
    with pytest.raises(TypeError) as info:
        mg.grad(lambda x: x * 2)(np.ones(3))
    message = str(info.value)
    assert "(3,)" in message and "vjp" in message and "jacrev" in message
    assert GRAD_NON_SCALAR_ADVICE in message


@pytest.mark.parametrize("bad", [np.array([1, 2]), np.array(True), 3])
def test_grad_with_respect_to_integer_or_boolean_names_the_argument(bad):
    with pytest.raises(TypeError, match="argument 1") as info:
        mg.grad(lambda x, n: x * n, argnums=1)(1.0, bad)
    assert str(np.asarray(bad).dtype) in str(info.value)


def test_concretization_error_under_make_jaxpr():
    def f(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(mg.ConcretizationError) as info:
        mg.make_jaxpr(f)(1.0)
    assert isinstance(info.value, TypeError)
    assert (
        "bool()" in str(info.value) and "mnp.where" in str(info.value) and "static_argnums" in str(info.value)
    )
    assert CONCRETIZATION_ADVICE in str(info.value)
    with pytest.raises(mg.ConcretizationError, match="float"):
        mg.make_jaxpr(lambda x: float(x))(1.0)
    with pytest.raises(mg.ConcretizationError, match="int"):
        mg.make_jaxpr(lambda x: int(x))(1.0)


def test_static_argnums_make_control_flow_possible():
    def f(x, flag):
        return x * 2 if flag else x

    assert len(mg.make_jaxpr(f, static_argnums=1)(1.0, True).eqns) == 1
    assert len(mg.make_jaxpr(f, static_argnums=1)(1.0, False).eqns) == 0


def test_control_flow_works_under_grad_inside_jvp():
    def f(x):
        return x**2 if x > 0 else -x

    assert mg.jvp(f, (2.0,), (1.0,))[1] == pytest.approx(4.0)


def test_tracer_leak_is_reported():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2

    mg.grad(f)(1.0)
    with pytest.raises(mg.TracerLeakError) as info:
        leaked[0] + 1.0
    assert isinstance(info.value, RuntimeError)
    with pytest.raises(mg.TracerLeakError):
        mg.grad(lambda y: y * leaked[0])(1.0)
    with pytest.raises(mg.TracerLeakError):
        bool(leaked[0])


def test_unknown_leaf_type_names_type_and_position():
    class Opaque:
        pass

    with pytest.raises(TypeError) as info:
        mg.grad(lambda p: p["w"].sum())({"w": np.ones(2), "extra": [1.0, Opaque()]})
    assert "Opaque" in str(info.value) and "['extra'][1]" in str(info.value)
    with pytest.raises(TypeError, match="str"):
        mg.make_jaxpr(lambda x: x)("text")


def test_tracers_cannot_become_numpy_arrays_silently():
    with pytest.raises(TypeError, match="minigrad.numpy"):
        mg.grad(lambda x: np.sin(np.asarray(x)))(1.0)


def test_item_assignment_on_tracers_explains_the_alternative():
    def f(x):
        x[0] = 1.0
        return x.sum()

    with pytest.raises(TypeError, match="immutable"):
        mg.grad(f)(np.ones(2))


def test_bad_argnums_and_cotangents():
    with pytest.raises(ValueError, match="argnums"):
        mg.grad(lambda x: x, argnums=3)(1.0)
    _, vjp_fn = mg.vjp(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        vjp_fn(np.ones(2))
    with pytest.raises(ValueError, match="structure"):
        vjp_fn((np.ones(3),))


def test_axis_out_of_bounds():
    with pytest.raises(ValueError, match="axis 2"):
        mnp.sum(np.ones((2, 3)), axis=2)


def test_index_out_of_bounds_is_an_index_error():
    with pytest.raises(IndexError):
        mg.make_jaxpr(lambda x: x[5])(np.ones(3))


def test_float_tracer_as_python_index_is_a_type_error():
    # NumPy refuses float arrays as indices rather than truncating 1.7 to 1.
    with pytest.raises(TypeError, match="integer"):
        mg.grad(lambda x: x * [1.0, 2.0, 3.0][x])(1.7)
    assert mg.grad(lambda x, i: x * [1.0, 2.0, 3.0][i])(2.0, np.int64(2)) == 3.0


def test_numpy_array_indexed_by_a_traced_integer_says_what_to_write():
    table = np.arange(12.0).reshape(4, 3)
    indices = np.array([2, 0])
    for lookup in (lambda t, i: t[i], lambda t, i: t[i, 0], lambda t, i: t[i:]):
        with pytest.raises(TypeError, match=r"mnp\.take\(table, i, axis=0\)"):
            mg.vmap(lookup, in_axes=(None, 0))(table, indices)
    # What the message suggests works.
    np.testing.assert_array_equal(
        mg.vmap(lambda t, i: mnp.take(t, i, axis=0), in_axes=(None, 0))(table, indices), table[indices]
    )
    np.testing.assert_array_equal(mg.vmap(mnp.getitem, in_axes=(None, 0))(table, indices), table[indices])


@pytest.mark.parametrize("name", ["maximum", "minimum", "power", "subtract", "multiply", "divide", "less"])
def test_broadcast_errors_name_the_numpy_function(name):
    # The primitives are called max, pow, sub, ...; users called maximum, power, subtract.
    with pytest.raises(ValueError, match=rf"^{name}: shapes \(2,\), \(3,\)"):
        getattr(mnp, name)(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match=rf"^{name}: shapes"):
        mg.grad(lambda x: getattr(mnp, name)(x, np.ones(3)).sum())(np.ones(2))


def test_shape_function_errors_are_ours():
    with pytest.raises(ValueError, match="moveaxis: source names an axis more than once"):
        mnp.moveaxis(np.ones((2, 3)), [0, 0], [0, 1])
    with pytest.raises(ValueError, match="moveaxis: destination names an axis more than once"):
        mnp.moveaxis(np.ones((2, 3)), [0, 1], [1, -1])
    with pytest.raises(ValueError, match="stack: need at least one array"):
        mnp.stack([])
    with pytest.raises(ValueError, match="concatenate: need at least one array"):
        mnp.concatenate([])


def test_vmap_of_a_0d_input_says_it_cannot_be_mapped():
    with pytest.raises(ValueError, match=r"args\[1\] is 0-d.*in_axes=None") as info:
        mg.vmap(lambda x, s: x * s)(np.ones(3), 2.0)
    assert "[-0, 0)" not in str(info.value)


def test_error_location_skips_numpys_own_files():
    with pytest.raises(TypeError, match="out=") as info:
        mg.grad(lambda x: np.sum(x, out=np.zeros(())))(np.ones(2))
    assert "fromnumeric" not in str(info.value) and "test_errors.py" in str(info.value)


def test_check_grads_names_the_argument_by_its_path():
    def wrong(x, params):
        return x * mg.stop_gradient(params["w"]) * params["w"]

    with pytest.raises(AssertionError, match=r"args\[1\]\['w'\]"):
        check_grads(wrong, (np.array(1.0), {"w": np.array([1.0, 2.0])}), modes=("rev",))


def test_div_primitive_refuses_integer_operands_while_mnp_divide_promotes():
    with pytest.raises(TypeError, match="minigrad.numpy.divide"):
        mg.make_jaxpr(lambda a, b: div(a, b))(np.arange(3), np.arange(1, 4))
    assert mg.jit(lambda a, b: mnp.divide(a, b))(np.arange(3), np.arange(1, 4)).dtype == np.float64
