"""Numerical edge cases: kinks, extreme logits, guarded branches, zeros, dtypes.

Expected values are worked out by hand from the conventions in API.md (``relu'(0) = 0``,
``abs'(0) = 0``, tied maxima share equally, ``maximum`` ties split 0.5/0.5) and from
calculus, never read off minigrad.
"""

import importlib

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.ops.elementwise import _power_by_squaring, integer_pow_impl, logistic

try:
    nn = importlib.import_module("minigrad.nn")
except ImportError:  # built by another branch; these tests switch on when it lands
    nn = None


def relu(x):
    return mnp.where(x > 0, x, 0.0)


# ----------------------------------------------------------------------------------------
# Gradients at non-differentiable points


def test_relu_via_where_has_zero_derivative_at_zero():
    assert mg.grad(relu)(0.0) == 0.0
    np.testing.assert_array_equal(
        mg.grad(lambda x: relu(x).sum())(np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0]
    )
    assert mg.jvp(relu, (np.array(0.0),), (np.array(1.0),))[1] == 0.0


def test_abs_has_zero_derivative_at_zero_in_every_mode():
    assert mg.grad(mnp.abs)(0.0) == 0.0
    assert mg.grad(lambda x: abs(x))(0.0) == 0.0  # the tracer's __abs__
    assert mg.jvp(mnp.abs, (np.array(0.0),), (np.array(1.0),))[1] == 0.0
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.abs(x).sum())(np.array([-2.0, 0.0, 3.0])), [-1, 0, 1])
    assert mg.grad(mg.grad(mnp.abs))(0.0) == 0.0


def test_max_and_min_reductions_share_ties_equally():
    x = np.array([1.0, 3.0, 3.0])
    np.testing.assert_array_equal(mg.grad(mnp.max)(x), [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(
        mg.grad(mnp.min)(np.array([2.0, 2.0, 2.0, 5.0])), [1 / 3, 1 / 3, 1 / 3, 0.0]
    )
    rows = np.array([[4.0, 4.0], [1.0, 2.0]])
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.max(x, axis=1).sum())(rows), [[0.5, 0.5], [0.0, 1.0]])
    # forward mode: the mean of the tied elements' tangents
    _, tangent = mg.jvp(mnp.max, (x,), (np.array([10.0, 2.0, 4.0]),))
    assert tangent == 3.0


def test_maximum_and_minimum_split_ties_half_and_half():
    grads = mg.grad(mnp.maximum, argnums=(0, 1))(1.5, 1.5)
    assert [float(g) for g in grads] == [0.5, 0.5]
    grads = mg.grad(mnp.minimum, argnums=(0, 1))(-2.0, -2.0)
    assert [float(g) for g in grads] == [0.5, 0.5]
    # away from ties the whole gradient goes to the winner
    assert [float(g) for g in mg.grad(mnp.maximum, argnums=(0, 1))(2.0, 1.0)] == [1.0, 0.0]
    # a value compared with itself: both halves reach it, derivative 1 as for the identity
    assert mg.grad(lambda x: mnp.maximum(x, x))(0.7) == 1.0
    _, tangent = mg.jvp(mnp.maximum, (np.array(1.0), np.array(1.0)), (np.array(2.0), np.array(4.0)))
    assert tangent == 3.0


def test_clip_passes_gradient_inside_the_interval_and_half_at_its_ends():
    # JAX's clip is minimum(hi, maximum(lo, x)): at a bound, x ties with it and gets half.
    x = np.array([-2.0, 0.0, 0.5, 1.0, 3.0])
    np.testing.assert_array_equal(mg.grad(lambda x: mnp.clip(x, 0.0, 1.0).sum())(x), [0, 0.5, 1, 0.5, 0])


# ----------------------------------------------------------------------------------------
# Extreme inputs stay finite


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_is_finite_and_exact_for_huge_logits(dtype):
    x = np.array([1e4, -1e4, 1e4 - 1.0], dtype)
    value = mnp.logsumexp(x)
    assert value.dtype == dtype
    expected = 1e4 + np.log1p(np.exp(-1.0))  # exp(-2e4) vanishes
    np.testing.assert_allclose(value, expected, rtol=1e-6)
    g = mg.grad(mnp.logsumexp)(x)
    assert g.dtype == dtype and np.all(np.isfinite(g))
    softmax_top = 1.0 / (1.0 + np.exp(-1.0))
    np.testing.assert_allclose(g, [softmax_top, 0.0, 1.0 - softmax_top], rtol=1e-5, atol=1e-30)
    hessian_row = mg.grad(lambda x: mg.grad(mnp.logsumexp)(x)[0])(x)
    assert np.all(np.isfinite(hessian_row))


def test_logsumexp_of_all_minus_infinity_is_minus_infinity_without_nan():
    with np.errstate(divide="ignore"):  # log(0), as in NumPy
        value = mnp.logsumexp(np.array([-np.inf, -np.inf]))
    assert value == -np.inf


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_sigmoid_is_accurate_wherever_its_value_is_a_normal_number(dtype):
    # 1 / (1 + exp(-x)) on every sign, the tails where exp overflows or underflows,
    # signed zeros, infinities and NaN: within a few ulp of a float64 reference where
    # the sigmoid is a normal number of `dtype`, and 0 or subnormal below that, without
    # a warning (the test suite turns minigrad's warnings into errors).
    x = np.concatenate([np.linspace(-800, 800, 20001), [0.0, -0.0, 1e-300, -1e-300, np.inf, -np.inf, np.nan]])
    with np.errstate(over="ignore"):  # float16 cannot hold +-800: they become infinities
        x = x.astype(dtype)
        reference = 1 / (1 + np.exp(-x.astype(np.float64)))
    value = logistic(x)
    assert value.dtype == dtype
    normal = ~(reference < np.finfo(dtype).tiny)  # NaN stays in
    np.testing.assert_allclose(value[normal], reference[normal], rtol=4 * np.finfo(dtype).eps, atol=0)
    assert np.all((value[~normal] >= 0) & (value[~normal] < np.finfo(dtype).tiny))
    assert logistic(np.array(0.0, dtype)) == 0.5 and np.isnan(logistic(np.array(np.nan, dtype)))


@pytest.mark.parametrize("x", [1e4, -1e4, 0.0, 40.0, -40.0])
def test_sigmoid_and_its_derivatives_are_finite(x):
    value = logistic(np.array(x))
    expected = 0.5 if x == 0 else (1.0 if x > 0 else 0.0)
    np.testing.assert_allclose(value, expected, atol=1e-15 if abs(x) > 1e3 else 0.1)
    g = mg.grad(logistic)(x)
    gg = mg.grad(mg.grad(logistic))(x)
    assert np.isfinite(g) and np.isfinite(gg)
    assert g >= 0
    if x == 0:
        assert g == 0.25 and gg == 0.0


@pytest.mark.parametrize("x", [1e4, -1e4, 0.0])
def test_softplus_written_with_logsumexp_is_finite(x):
    def softplus(x):
        return mnp.logsumexp(mnp.stack([x, mnp.zeros_like(x)]), axis=0)

    value = softplus(np.array(x))
    np.testing.assert_allclose(value, max(x, 0.0) if x else np.log(2.0))
    g = mg.grad(softplus)(x)
    np.testing.assert_allclose(g, 1.0 if x > 0 else (0.0 if x < 0 else 0.5), atol=1e-300)


@pytest.mark.skipif(nn is None, reason="minigrad.nn is not in this build yet")
@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_nn_losses_and_activations_are_finite_for_huge_logits(scale):
    logits = np.array([[scale, 0.0, -scale], [0.0, scale, 1.0]])
    labels = np.array([2, 0])
    for fn in (nn.log_softmax, nn.softmax, nn.softplus, nn.sigmoid):
        out = fn(logits)
        assert np.all(np.isfinite(out)), fn.__name__
        assert np.all(np.isfinite(mg.grad(lambda z, fn=fn: fn(z).sum())(logits))), fn.__name__
    loss = nn.softmax_cross_entropy(logits, labels)
    assert np.all(np.isfinite(loss))
    assert np.all(np.isfinite(mg.grad(lambda z: mnp.sum(nn.softmax_cross_entropy(z, labels)))(logits)))


# ----------------------------------------------------------------------------------------
# where: the documented safe pattern


def safe_log(x):
    """log(x) where x > 0, else 0, with finite gradients everywhere (the safe pattern)."""
    positive = x > 0
    return mnp.where(positive, mnp.log(mnp.where(positive, x, 1.0)), 0.0)


def safe_sqrt(x):
    positive = x > 0
    return mnp.where(positive, mnp.sqrt(mnp.where(positive, x, 1.0)), 0.0)


@pytest.mark.parametrize("fn", [safe_log, safe_sqrt])
def test_safe_double_where_gives_no_nan_gradient_in_any_mode(fn):
    x = np.array([-1.0, 0.0, 4.0])
    scalar = lambda x: fn(x).sum()  # noqa: E731
    g = mg.grad(scalar)(x)
    assert np.all(np.isfinite(g)) and np.all(g[:2] == 0.0)
    np.testing.assert_allclose(g[2], 0.25)  # log'(4) = sqrt'(4) = 1/4
    gg = mg.grad(lambda x: mg.grad(scalar)(x).sum())(x)
    assert np.all(np.isfinite(gg)) and np.all(gg[:2] == 0.0)
    _, tangent = mg.jvp(fn, (x,), (np.ones(3),))
    assert np.all(np.isfinite(tangent)) and np.all(tangent[:2] == 0.0)


def test_the_unselected_branch_itself_gets_exactly_zero_gradient():
    # Even an infinite branch value does not leak into the gradient of the other branch.
    x = np.array([1.0, 2.0])
    g = mg.grad(lambda x: mnp.where(x > 1.5, x * 3.0, x * 7.0).sum())(x)
    np.testing.assert_array_equal(g, [7.0, 3.0])


# ----------------------------------------------------------------------------------------
# Powers and roots at zero


def test_sqrt_and_half_power_at_zero_are_zero_with_infinite_slope():
    assert mnp.sqrt(np.array(0.0)) == 0.0
    with np.errstate(divide="ignore"):
        assert mg.grad(mnp.sqrt)(0.0) == np.inf
        assert mg.grad(lambda x: x**0.5)(0.0) == np.inf
        assert mg.jvp(mnp.sqrt, (np.array(0.0),), (np.array(1.0),))[1] == np.inf
    np.testing.assert_allclose(mg.grad(lambda x: x**0.5)(4.0), 0.25)


def test_integer_powers_at_zero_are_exact():
    assert mg.grad(lambda x: x**2)(0.0) == 0.0
    assert mg.grad(lambda x: x**3)(0.0) == 0.0
    assert mg.grad(lambda x: x**1)(0.0) == 1.0
    assert mg.grad(lambda x: x**0)(0.0) == 0.0
    assert mg.grad(mg.grad(lambda x: x**2))(0.0) == 2.0
    assert mg.grad(lambda x: x**1.0)(0.0) == 1.0  # float exponent: 1 * 0**0 = 1


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, 5, 8, -1, -3])
def test_integer_powers_are_products_in_the_input_dtype(exponent):
    # integer_pow multiplies by repeated squaring (NumPy's float32 power by an integer is
    # slow): exact products, in the input's dtype, eager and under jit.
    x = np.array([0.5, -1.25, 3.0, 7.0], np.float32)
    expected = np.ones_like(x)
    for _ in range(abs(exponent)):
        expected = expected * x
    if exponent < 0:
        expected = np.float32(1.0) / expected
    for result in (mnp.power(x, exponent), mg.jit(lambda v: v**exponent)(x)):
        assert result.dtype == np.float32
        np.testing.assert_allclose(result, expected, rtol=2e-7)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex64, np.complex128])
def test_integer_power_two_agrees_with_repeated_squaring(dtype):
    # The exponent 2 (square, in tanh's derivative) is computed by np.square, a fast path
    # that must give exactly the x * x that repeated squaring gives.
    with np.errstate(all="ignore"):  # overflow and inf * 0 are part of the point
        x = np.array([0.5, -1.25, 3.0, 1e200, -0.0, np.inf, -np.inf, np.nan]).astype(dtype)
        if np.dtype(dtype).kind == "c":
            x = x + 1j * x[::-1]
        fast, general = integer_pow_impl(x, y=2), _power_by_squaring(x, 2)
    assert fast.dtype == general.dtype == x.dtype
    np.testing.assert_array_equal(fast, general)


def test_integer_power_one_returns_a_new_array():
    x = np.arange(3.0)
    y = mnp.power(x, 1)
    assert y is not x and not np.shares_memory(x, y)
    np.testing.assert_array_equal(mnp.power(np.array([2, -3], np.int8), 3), np.array([8, -27], np.int8))


def test_power_gradient_in_the_exponent_at_base_zero_is_zero():
    # d/dy 0**y = log(0) * 0**y, whose limit for y > 0 is 0 (not nan).
    g = mg.grad(lambda y: mnp.power(0.0, y))(2.0)
    assert g == 0.0
    np.testing.assert_allclose(mg.grad(lambda y: mnp.power(2.0, y))(3.0), 8.0 * np.log(2.0))


def test_prod_derivatives_of_every_order_at_zeros():
    # prod(a) = a0 a1 a2 at a = (0, 3, 2): gradient (a1 a2, a0 a2, a0 a1) = (6, 0, 0);
    # the Hessian's entries are the third factor: d2/da0 da1 = a2 = 2, d2/da0 da2 = a1 = 3.
    a = np.array([0.0, 3.0, 2.0])
    np.testing.assert_array_equal(mg.grad(mnp.prod)(a), [6.0, 0.0, 0.0])
    np.testing.assert_array_equal(mg.grad(lambda a: mg.grad(mnp.prod)(a)[0])(a), [0.0, 2.0, 3.0])
    np.testing.assert_array_equal(mg.grad(lambda a: mg.grad(mnp.prod)(a)[1])(a), [2.0, 0.0, 0.0])
    _, tangent = mg.jvp(mg.grad(mnp.prod), (a,), (np.array([1.0, 0.0, 0.0]),))
    np.testing.assert_array_equal(tangent, [0.0, 2.0, 3.0])
    # two zeros: the gradient vanishes but the mixed second derivative is the third factor
    b = np.array([0.0, 0.0, 5.0])
    np.testing.assert_array_equal(mg.grad(lambda b: mg.grad(mnp.prod)(b)[0])(b), [0.0, 5.0, 0.0])
    # third order: d3/da0 da1 da2 of a0 a1 a2 is 1 everywhere
    third = mg.grad(lambda a: mg.grad(lambda a: mg.grad(mnp.prod)(a)[0])(a)[1])(np.zeros(3))
    np.testing.assert_array_equal(third, [0.0, 0.0, 1.0])


# ----------------------------------------------------------------------------------------
# Integer and boolean inputs


def test_grad_with_respect_to_integers_or_booleans_names_the_argument():
    with pytest.raises(TypeError, match=r"argument 0\b.*int64"):
        mg.grad(lambda n: n * 2.0)(np.array(3))
    with pytest.raises(TypeError, match=r"argument 1\b.*bool"):
        mg.grad(lambda x, m: x, argnums=(0, 1))(1.0, np.array(True))


def test_integer_and_boolean_arguments_ride_along():
    x = np.array([1.0, -2.0, 3.0])
    n = np.array([2, 3, 4])
    mask = np.array([True, False, True])
    g = mg.grad(lambda x, n, m: mnp.where(m, x * n, 0.0).sum())(x, n, mask)
    np.testing.assert_array_equal(g, [2.0, 0.0, 4.0])
    # vjp hands back zeros of the integer's own dtype for it
    _, vjp_fn = mg.vjp(lambda x, n: x * n, x, n)
    ct_x, ct_n = vjp_fn(np.ones(3))
    np.testing.assert_array_equal(ct_x, n)
    assert ct_n.dtype == n.dtype and not np.any(ct_n)
    # jvp through an integer primal: its tangent does not matter
    _, tangent = mg.jvp(lambda x, n: x * n, (x, n), (np.ones(3), np.zeros(3, int)))
    np.testing.assert_array_equal(tangent, n)


def test_functions_of_integers_compute_in_floating_point_under_grad():
    n = np.array([1, 4, 9])
    g = mg.grad(lambda s: (mnp.sqrt(n) * s).sum())(2.0)
    assert g == 6.0
    assert mg.grad(lambda s: mnp.mean(n) * s)(1.0) == pytest.approx(14 / 3)
    # comparisons give booleans that can be cast and multiplied
    g = mg.grad(lambda x: ((x > 0).astype(np.float64) * x).sum())(np.array([-1.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0])


# ----------------------------------------------------------------------------------------
# Dtypes survive differentiation


DTYPE_FUNCTIONS = {
    "sin": lambda x: mnp.sin(x).sum(),
    "exp_scaled": lambda x: (mnp.exp(x) * 2.0).sum(),
    "log_guarded": lambda x: mnp.log(x * x + 1.0).sum(),
    "sqrt_guarded": lambda x: mnp.sqrt(x * x + 1.0).sum(),
    "half_power": lambda x: ((x * x + 1.0) ** 0.5).sum(),
    "tanh_mean": lambda x: mnp.tanh(x).mean(),
    "logistic": lambda x: logistic(x).sum(),
    "logsumexp": lambda x: mnp.logsumexp(x),
    "max": lambda x: mnp.max(x),
    "var_std": lambda x: mnp.var(x) + mnp.std(x),
    "matmul": lambda x: (x @ x.T).sum(),
    "index": lambda x: x[::-1][np.array([0, 2, 2])].sum(),
    "where_relu": lambda x: relu(x).sum(),
    "float64_constant": lambda x: (x * np.array([1.0, 2.0, 3.0])).sum(),
    "int_constant": lambda x: (x * np.array([1, 2, 3])).sum(),
}


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(DTYPE_FUNCTIONS))
def test_gradients_keep_the_dtype_of_their_input(name, dtype):
    fn = DTYPE_FUNCTIONS[name]
    x64 = np.array([0.3, -0.7, 1.1])
    x = x64.astype(dtype)
    g = mg.grad(fn)(x)
    assert g.dtype == dtype and g.shape == x.shape
    tolerance = {np.float16: 3e-2, np.float32: 1e-5, np.float64: 1e-12}[dtype]
    np.testing.assert_allclose(g.astype(np.float64), mg.grad(fn)(x64), rtol=tolerance, atol=tolerance)
    _, tangent = mg.jvp(lambda x: fn(x), (x,), (np.ones(3, dtype),))
    assert np.isfinite(tangent)
    hessian_diagonal_term = mg.grad(lambda x: mg.grad(fn)(x)[0])(x)
    assert hessian_diagonal_term.dtype == dtype


def test_scalar_arguments_and_python_floats_give_float64_gradients():
    g = mg.grad(lambda x: x * x)(3.0)
    assert g.dtype == np.float64 and g == 6.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("exponent", [0, 1])
def test_integer_powers_zero_and_one_are_exact_and_fresh(dtype, exponent):
    # The derivatives of squares hold x ** 1 and x ** 0, so these take one-call paths:
    # x ** 1 is x to the bit (-0.0 included, as in JAX), x ** 0 is one (NaN ** 0 too).
    x = np.array([-0.0, 1.5, np.nan, np.inf, -2.0], dtype)
    for result in (mnp.power(x, exponent), mg.jit(lambda v: v**exponent)(x)):
        expected = x if exponent == 1 else np.ones_like(x)
        assert result.dtype == dtype
        np.testing.assert_array_equal(result, expected)
        np.testing.assert_array_equal(np.signbit(result.real), np.signbit(expected.real))
        assert not np.shares_memory(result, x)
