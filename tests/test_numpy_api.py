"""minigrad.numpy agrees with NumPy on values, shapes and dtypes, and tracers behave like
arrays (operators in both orders with NumPy arrays, methods, attributes)."""

import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.numpy as mnp
from tests.op_specs import broadcast_shapes, values

UNARY = ["negative", "exp", "log1p", "expm1", "sin", "cos", "tanh", "arctan", "abs", "sign", "square"]
BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "equal", "less", "greater_equal"]


@pytest.mark.parametrize("name", UNARY)
@given(shape=broadcast_shapes(1), seed=st.integers(0, 1000))
def test_unary_functions_match_numpy(name, shape, seed):
    x = values(np.random.default_rng(seed), shape[0], "positive")
    expected = getattr(np, name)(x)
    result = getattr(mnp, name)(x)
    assert isinstance(result, np.ndarray)
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    assert result.dtype == expected.dtype


@pytest.mark.parametrize("name", BINARY)
@given(shapes=broadcast_shapes(2), seed=st.integers(0, 1000))
def test_binary_functions_match_numpy(name, shapes, seed):
    rng = np.random.default_rng(seed)
    x, y = (values(rng, s, "nonzero") for s in shapes)
    expected = getattr(np, name)(x, y)
    result = getattr(mnp, name)(x, y)
    np.testing.assert_allclose(result, expected)
    assert result.shape == expected.shape and result.dtype == expected.dtype


@pytest.mark.parametrize(
    "a, b",
    [
        (np.ones(2, np.float32), 2.0),
        (np.ones(2, np.float32), 2),
        (np.ones(2, np.int32), 2.5),
        (np.ones(2, np.int8), np.ones(2, np.int16)),
        (np.ones(2, np.float16), np.ones(2, np.float32)),
        (np.ones(2, bool), np.ones(2, np.int64)),
        (3, 4.0),
    ],
)
def test_promotion_follows_numpy_2(a, b):
    assert mnp.multiply(a, b).dtype == np.multiply(a, b).dtype
    assert mnp.add(b, a).dtype == np.add(b, a).dtype


def test_python_scalars_are_weak_inside_transforms():
    def f(x):
        assert (x * 2.0).dtype == np.float32
        assert (2.0 * x).dtype == np.float32
        assert (x / 3).dtype == np.float32
        assert (x**2).dtype == np.float32
        return (x * 2.0).sum()

    assert mg.grad(f)(np.ones(3, np.float32)).dtype == np.float32


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("sum", {"axis": 1}),
        ("sum", {"axis": (0, 2), "keepdims": True}),
        ("mean", {"axis": -1}),
        ("max", {}),
        ("min", {"axis": 0, "keepdims": True}),
        ("prod", {"axis": 2}),
        ("var", {"axis": 1}),
        ("std", {}),
        ("argmax", {"axis": 1}),
        ("argmin", {}),
    ],
)
def test_reductions_match_numpy(name, kwargs):
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    np.testing.assert_allclose(getattr(mnp, name)(x, **kwargs), getattr(np, name)(x, **kwargs))


def test_logsumexp_is_stable_and_correct():
    x = np.array([[1000.0, 1000.0], [-1000.0, -1000.0], [0.0, np.log(3.0)]])
    np.testing.assert_allclose(mnp.logsumexp(x, axis=1), [1000 + np.log(2), -1000 + np.log(2), np.log(4.0)])
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer here
        np.testing.assert_allclose(mnp.logsumexp(np.array([-np.inf, -np.inf])), -np.inf)
    g = mg.grad(lambda x: mnp.logsumexp(x))(np.array([1e4, 1e4, -1e4]))
    np.testing.assert_allclose(g, [0.5, 0.5, 0.0])


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.reshape(np.arange(24.0), (2, -1, 3)),
        lambda m: m.transpose(np.ones((2, 3, 4)), (2, 0, 1)),
        lambda m: m.swapaxes(np.ones((2, 3, 4)), 0, 2),
        lambda m: m.moveaxis(np.ones((2, 3, 4)), [0, 2], [1, 0]),
        lambda m: m.squeeze(np.ones((1, 3, 1))),
        lambda m: m.expand_dims(np.ones((2, 3)), (0, 3)),
        lambda m: m.broadcast_to(np.arange(3.0), (2, 3)),
        lambda m: m.concatenate([np.ones((2, 1)), np.zeros((2, 2))], axis=1),
        lambda m: m.concatenate([np.ones((2, 1)), np.zeros((2, 2))], axis=None),
        lambda m: m.stack([np.ones(2), np.zeros(2)], axis=1),
        lambda m: m.split(np.arange(6.0), 3)[1],
        lambda m: m.split(np.arange(6.0), [2, 5])[2],
        lambda m: m.flip(np.arange(6.0).reshape(2, 3), axis=1),
        lambda m: m.pad(np.arange(3.0), (1, 2), mode="reflect"),
        lambda m: m.pad(np.arange(4.0).reshape(2, 2), 1, constant_values=7.0),
        lambda m: m.matmul(np.arange(6.0).reshape(2, 3), np.arange(3.0)),
        lambda m: m.matmul(np.ones((2, 1, 2, 3)), np.ones((4, 3, 2))),
        lambda m: m.dot(np.arange(3.0), np.arange(3.0)),
        lambda m: m.dot(np.ones((2, 3, 4)), np.ones((5, 4, 2))),
        lambda m: m.outer(np.arange(2.0), np.arange(3.0)),
        lambda m: m.einsum("ii", np.arange(9.0).reshape(3, 3)),
        lambda m: m.einsum("...i,i->...", np.ones((2, 3, 4)), np.arange(4.0)),
        lambda m: m.tensordot(np.ones((2, 3)), np.ones((3, 2)), axes=1),
        lambda m: m.where(np.array([1, 0, 2]), 1.0, np.arange(3.0)),
        lambda m: m.clip(np.arange(5.0), 1, 3),
        lambda m: m.linspace(0, 1, 5),
        lambda m: m.eye(3, k=1),
        lambda m: m.full_like(np.ones(3, np.int32), 4),
        lambda m: m.arange(2, 10, 3),
    ],
)
def test_shape_linear_algebra_and_creation_match_numpy(call):
    expected = call(np)
    result = call(mnp)
    np.testing.assert_allclose(result, expected)
    assert result.shape == expected.shape and result.dtype == expected.dtype


@pytest.mark.parametrize(
    "index",
    [
        1,
        -1,
        (slice(None), 0),
        (slice(None, None, -1), slice(1, None)),
        (Ellipsis, None),
        (None, 1, Ellipsis),
        np.array([0, 0, 2]),
        (np.array([[0], [1]]), np.array([1, 2])),
        (slice(None), np.array([2, 0])),
        (np.array([1, 0]), slice(None), np.array([0, 0])),
        np.array([True, False, True]),
    ],
)
def test_indexing_matches_numpy(index):
    x = np.arange(18.0).reshape(3, 3, 2)
    np.testing.assert_array_equal(mnp.getitem(x, index), x[index])

    def traced(x):
        return x[index]

    np.testing.assert_array_equal(mg.vjp(traced, x)[0], x[index])


def _operators(x):
    """The same expression on NumPy arrays or on tracers: every operator, both orders."""
    a = np.array([1.0, 2.0])
    m = np.array([[1.0, 0.0], [0.0, 2.0]])
    out = [a + x, x + a, a - x, x - a, a * x, x * a, a / x, x / a, a**x, x**a, m @ x, x @ m, -x, +x, abs(x)]
    return sum(o.sum() for o in out)


def test_operators_work_in_both_orders_with_numpy_arrays():
    x = np.array([0.5, 1.5])
    value, gradient = mg.value_and_grad(_operators)(x)
    assert value == pytest.approx(_operators(x))
    steps = np.eye(2) * 1e-6
    numeric = [(_operators(x + h) - _operators(x - h)) / 2e-6 for h in steps]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6)


def test_comparisons_give_booleans_without_gradient():
    def f(x):
        mask = x > 1.0
        assert mask.dtype == np.bool_
        both = (x >= 0) & ~(x == 2.0) | (x != x)
        return mnp.where(mask & both, x, 0.0).sum()

    np.testing.assert_array_equal(mg.grad(f)(np.array([0.5, 1.5, 2.0])), [0.0, 1.0, 0.0])


def test_tracer_attributes_and_methods():
    def f(x):
        assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
        assert x.dtype == np.float64
        assert x.T.shape == (3, 2)
        assert x.reshape(3, 2).shape == x.reshape((3, 2)).shape == (3, 2)
        assert x.transpose(1, 0).shape == x.transpose().shape == (3, 2)
        assert x.sum(axis=0).shape == (3,) and x.mean(1, keepdims=True).shape == (2, 1)
        assert x.max().shape == () and x.min(axis=1).shape == (2,)
        assert x.astype(np.float32).dtype == np.float32
        assert x[:1].squeeze().shape == (3,)
        rows = [row.sum() for row in x]
        return rows[0] * rows[1]

    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(mg.grad(f)(x), [[12.0] * 3, [3.0] * 3])


def test_asarray_of_a_list_of_tracers_stacks_them():
    g = mg.grad(lambda x, y: (mnp.asarray([x, y * 2.0]) ** 2).sum(), argnums=(0, 1))(1.0, 3.0)
    assert [float(v) for v in g] == [2.0, 24.0]


def test_outside_transforms_results_are_numpy_arrays():
    for result in (
        mnp.sin(1.0),
        mnp.sum(np.ones(3)),
        mnp.matmul(mnp.ones(2), mnp.ones(2)),
        mnp.getitem(np.ones(3), 0),
    ):
        assert type(result) is np.ndarray


@pytest.mark.parametrize("name", ["exp2", "log2", "log10", "cbrt"])
def test_exact_functions_match_numpy_bit_for_bit(name):
    # Composites such as log(x) / log(10) are off by an ulp: log10(1000.0) gave 2.9999999999999996.
    x = np.array([1e-3, 0.5, 1.0, 3.0, 8.0, 100.0, 1000.0 if name != "exp2" else 10.0])
    for dtype in (np.float64, np.float32):
        got = getattr(mnp, name)(x.astype(dtype))
        want = getattr(np, name)(x.astype(dtype))
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert mnp.log10(1000.0) == 3.0


@pytest.mark.parametrize(
    "name, op",
    [("bitwise_and", operator.and_), ("bitwise_or", operator.or_), ("bitwise_xor", operator.xor)],
)
@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.uint8, np.bool_])
def test_bitwise_operators_on_tracers_match_numpy(name, op, dtype):
    x = np.array([5, 3, 0, 12]).astype(dtype)
    y = np.array([6, 6, 1, 10]).astype(dtype)
    want = getattr(np, name)(x, y)
    for got in (
        getattr(mnp, name)(x, y),
        mg.vmap(op)(x, y),
        mg.vmap(lambda a: op(a, y))(np.stack([x, x]))[1],
        mg.vmap(lambda b: op(x, b))(np.stack([y, y]))[0],  # NumPy defers to the tracer
    ):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype


def test_invert_and_float_operands_follow_numpy():
    ints = np.array([5, 3, 0])
    np.testing.assert_array_equal(mg.vmap(lambda x: ~x)(ints), [-6, -4, -1])
    np.testing.assert_array_equal(mg.vmap(lambda x: ~(x > 1))(ints), [False, False, True])
    np.testing.assert_array_equal(mg.vmap(lambda x: x & 6)(ints), [4, 2, 0])
    for bad in (lambda x: x & 6, lambda x: ~x, lambda x: 1 | x):
        with pytest.raises(TypeError, match="integers or booleans"):
            mg.vmap(bad)(np.array([1.0, 2.0]))
    # logical_* still take numbers as truth values, as NumPy's do.
    np.testing.assert_array_equal(mnp.logical_and(np.array([2.0, 0.0]), 3), [True, False])
    np.testing.assert_array_equal(mnp.logical_not(np.array([2, 0])), [False, True])


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint16, np.int32, np.int64])
def test_division_and_averages_of_integers_are_float64(dtype):
    x = np.array([1, 0, 1, 1]).astype(dtype)
    for name in ("mean", "var", "std"):
        got, want = getattr(mnp, name)(x), getattr(np, name)(x)
        assert got.dtype == want.dtype == np.float64
        np.testing.assert_allclose(got, want)
    for got, want in (
        (mnp.divide(x, 3), np.divide(x, 3)),
        (mnp.true_divide(3, x[:1]), np.true_divide(3, x[:1])),
    ):
        assert got.dtype == want.dtype == np.float64
        np.testing.assert_allclose(got, want)
    # Under a transform too: the traced mean of integers is float64.
    assert mg.vmap(mnp.mean)(np.stack([x, x])).dtype == np.float64


def test_float16_averages_accumulate_in_float32():
    # A float16 sum overflows at 65504 and stops growing at 2048 ones; NumPy's mean
    # accumulates float16 in float32, and so do var and std here.
    big = np.full(1000, 100.0, np.float16)
    assert mnp.mean(big) == 100.0 and mnp.mean(big).dtype == np.float16
    many = np.full(100000, 1.0, np.float16)
    assert mnp.mean(many) == 1.0
    assert mnp.var(big) == 0.0 and mnp.std(big) == 0.0
    ramp = np.arange(1000, dtype=np.float16)
    np.testing.assert_allclose(mnp.std(ramp), np.std(ramp.astype(np.float32)), rtol=1e-3)
    assert mnp.std(ramp).dtype == np.float16
    grads = mg.grad(lambda x: mnp.mean(x))(big)
    assert grads.dtype == np.float16
    np.testing.assert_allclose(grads, np.full(1000, 1e-3), rtol=1e-3)
    np.testing.assert_allclose(
        mnp.mean(np.full((3, 2000), 50.0, np.float16), axis=1, keepdims=True), [[50.0]] * 3
    )


def test_reductions_take_numpy_positional_order_and_numpy_defers_to_them():
    x = np.arange(6.0).reshape(2, 3)
    # NumPy's order is (a, axis, dtype, out, keepdims): the dtype is not keepdims.
    got = mnp.mean(x, 0, np.float32)
    assert got.dtype == np.float32 and got.shape == (3,)
    assert mnp.sum(x, 1, np.float32, None, True).shape == (2, 1)
    assert mnp.max(x, 0, None, True).shape == (1, 3)
    assert mnp.prod(x, 1, np.float32).dtype == np.float32
    np.testing.assert_allclose(mnp.var(x, 1, np.float64, None, 1), np.var(x, 1, np.float64, None, 1))
    np.testing.assert_allclose(mnp.std(x, None, None, None, 0, True), np.std(x, None, None, None, 0, True))
    with pytest.raises(TypeError, match="out="):
        mnp.sum(x, out=np.zeros(3))
    # np.sum(tracer) and friends call the tracer's methods with out=None.
    for function in (np.sum, np.max, np.min, np.mean, np.prod, np.std, np.var):
        want = function(x, axis=0, keepdims=True)
        np.testing.assert_allclose(
            mg.vmap(lambda t, f=function: f(t, axis=0, keepdims=True))(x[None])[0], want
        )
    np.testing.assert_allclose(
        mg.grad(lambda t: np.sum(t) + np.max(t) + np.mean(t))(x).ravel()[-1], 1 + 1 + 1 / 6
    )


def test_reshape_accepts_numpy_2_1_shape_keyword():
    x = np.arange(6.0)
    assert mnp.reshape(x, shape=(2, 3)).shape == (2, 3)
    assert mnp.reshape(x, newshape=(3, 2)).shape == (3, 2)
    assert mg.vmap(lambda t: np.reshape(t, shape=(3, 1)))(x.reshape(2, 3)).shape == (2, 3, 1)
    with pytest.raises(TypeError, match="once"):
        mnp.reshape(x, (6,), newshape=(6,))


@pytest.mark.parametrize(
    "index",
    [
        [True, False, True],
        True,
        False,
        np.True_,
        np.False_,
        np.array(True),
        [],
        (Ellipsis, True),
        (0, True),
        (True, 1),
        (slice(None), [True, False, True, False]),
        (None, True, [0, 2]),
    ],
    ids=repr,
)
def test_boolean_and_list_indices_as_numpy(index):
    x = np.arange(12.0).reshape(3, 4)
    want = x[index]
    got = mnp.getitem(x, index)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(mg.vmap(lambda t: t[index])(np.stack([x, -x]))[1], -want)
    if want.size:
        grads = mg.grad(lambda t: t[index].sum())(x)
        expected = np.zeros_like(x)
        np.add.at(expected, index, 1.0)
        np.testing.assert_array_equal(grads, expected)


@pytest.mark.parametrize(
    "args",
    [(0.0, 1.0, 5), (1.0, 3.0, 4, False), (2.0, 5.0, 1), (2.0, 5.0, 0), (np.array([0.0, 1.0]), 3.0, 4)],
    ids=repr,
)
def test_linspace_with_traced_endpoints(args):
    want = np.linspace(*args)
    start, rest = np.asarray(args[0]), args[1:]
    got = mg.vmap(lambda s: mnp.linspace(s, *rest))(np.stack([start, start]))
    assert got.shape[1:] == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got[1], want, rtol=1e-15)
    assert mnp.linspace(np.float32(1), np.float32(2), 3).dtype == np.float32
    # NumPy floors to an integer dtype (a cast would truncate -4/3 to -1).
    want = np.linspace(-3.0, 2.0, 4, dtype=np.int32)  # -3, -4/3, 1/3, 2
    got = mg.vmap(lambda s: mnp.linspace(s, 2.0, 4, dtype=np.int32))(np.array([-3.0, -3.0]))[0]
    np.testing.assert_array_equal(got, want)
    assert got.dtype == want.dtype


def test_linspace_is_differentiable_in_its_endpoints():
    # linspace(a, b, 3) = [a, (a + b) / 2, b].
    d_start, d_stop = mg.jacrev(lambda a, b: mnp.linspace(a, b, 3), argnums=(0, 1))(1.0, 2.0)
    np.testing.assert_allclose(d_start, [1.0, 0.5, 0.0])
    np.testing.assert_allclose(d_stop, [0.0, 0.5, 1.0])


def test_square_and_power_of_booleans_are_integers_as_in_numpy():
    flags = np.array([True, False])
    cases = [
        (mnp.square, np.square),
        (lambda b: mnp.power(b, 2), lambda b: np.power(b, 2)),
        (lambda b: mnp.power(b, b), lambda b: np.power(b, b)),
        (lambda b: mnp.power(b, 2.0), lambda b: np.power(b, 2.0)),
    ]
    for ours, numpys in cases:
        got, want = ours(flags), numpys(flags)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
        assert mg.vmap(ours)(np.stack([flags, flags])).dtype == want.dtype


def test_var_method_of_tracers():
    # The tracers' own fields once shadowed the `var` method: `x.var()` raised under grad.
    x = np.arange(3.0)
    np.testing.assert_allclose(mg.grad(lambda t: t.var())(x), 2 * (x - x.mean()) / 3)
    np.testing.assert_allclose(mg.vmap(lambda t: t.var())(np.stack([x, 2 * x])), [x.var(), (2 * x).var()])


# A Python number passed to any transform promotes as it does eagerly (weak typing).
def _weak_mixed(x):
    return (x * np.ones(2, np.float32)).sum()


_WEAK_TRANSFORMS = {
    "grad": lambda x: mg.value_and_grad(_weak_mixed)(x)[0],
    "vjp": lambda x: mg.vjp(_weak_mixed, x)[0],
    "jvp": lambda x: mg.jvp(_weak_mixed, (x,), (1.0,))[0],
    "jit": mg.jit(_weak_mixed),
    "vmap": lambda x: mg.vmap(lambda a, s: a * _weak_mixed(s), in_axes=(0, None))(np.ones(3, np.float32), x),
    "make_jaxpr": lambda x: np.zeros((), mg.make_jaxpr(_weak_mixed)(x).out_avals[0].dtype),
    "checkpoint": lambda x: mg.checkpoint(_weak_mixed)(x),
}


@pytest.mark.parametrize(
    "transform, number",
    [(name, 1.0) for name in sorted(_WEAK_TRANSFORMS)]
    # An int is not differentiable, but it is weak where it is only traced.
    + [(name, 2) for name in ("vjp", "jit", "vmap", "make_jaxpr", "checkpoint")],
)
def test_python_number_arguments_are_weak_under_every_transform(transform, number):
    eager = _weak_mixed(number)
    assert eager.dtype == np.float32  # NumPy 2: the Python number adopts float32
    assert _WEAK_TRANSFORMS[transform](number).dtype == eager.dtype


def test_numpy_scalars_are_not_weak_under_transforms():
    # np.float64 is a strong scalar in NumPy 2, eagerly and under every transform.
    x = np.float64(1.0)
    assert _weak_mixed(x).dtype == np.float64
    assert mg.value_and_grad(_weak_mixed)(x)[0].dtype == np.float64
    assert mg.jit(_weak_mixed)(x).dtype == np.float64
    assert mg.make_jaxpr(_weak_mixed)(x).out_avals[0].dtype == np.float64
