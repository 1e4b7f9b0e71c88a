"""Tests for minigrad.nn: functions, losses, conv/pooling against loop references, layers."""

import warnings

import attrs
import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad import nn
from minigrad.testing import check_grads
from minigrad.tree import tree_leaves, tree_structure

RNG = np.random.default_rng(0)


# ---------------------------------------------------------------------------------------
# Independent loop implementations


def loop_conv2d(x, w, b, stride, padding):
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, height, width = xp.shape
    o, _, kh, kw = w.shape
    out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
    out = np.zeros((n, o, out_h, out_w))
    for ni in range(n):
        for oi in range(o):
            for i in range(out_h):
                for j in range(out_w):
                    window = xp[ni, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
                    out[ni, oi, i, j] = np.sum(window * w[oi]) + (0.0 if b is None else b[oi])
    return out


def loop_conv2d_grads(x, w, ct, stride, padding):
    """dL/dx, dL/dw, dL/db of L = sum(ct * conv2d(x, w, b)), by the chain rule in loops."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    n, o, out_h, out_w = ct.shape
    kh, kw = w.shape[2:]
    for ni in range(n):
        for oi in range(o):
            for i in range(out_h):
                for j in range(out_w):
                    g = ct[ni, oi, i, j]
                    rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                    dw[oi] += g * xp[ni, :, rows, cols]
                    dxp[ni, :, rows, cols] += g * w[oi]
    dx = dxp[:, :, ph : ph + x.shape[2], pw : pw + x.shape[3]]
    return dx, dw, ct.sum(axis=(0, 2, 3))


def loop_pool(x, size, stride, reduce):
    n, c, height, width = x.shape
    out_h, out_w = (height - size) // stride + 1, (width - size) // stride + 1
    out = np.zeros((n, c, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, :, i * stride : i * stride + size, j * stride : j * stride + size]
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


# ---------------------------------------------------------------------------------------
# Functions


def test_relu_values_and_zero_gradient_at_zero():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(nn.relu(x), [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(mg.grad(lambda x: nn.relu(x).sum())(x), [0.0, 0.0, 1.0])


def test_sigmoid_matches_formula_and_never_overflows():
    x = np.linspace(-8, 8, 17)
    np.testing.assert_allclose(nn.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        extreme = nn.sigmoid(np.array([-1000.0, 1000.0]))
    np.testing.assert_array_equal(extreme, [0.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_keeps_its_relative_accuracy_in_the_tails_and_its_dtype(dtype):
    # Far left, sigmoid(x) is about exp(x): tiny, but with all its digits (a form such as
    # 0.5 + 0.5 * tanh(x / 2) would give 0 or a few digits there).
    far = 700.0 if dtype == np.float64 else 80.0
    x = np.array([-far, -30.0, -1e-3, -0.0, 0.0, 1e-3, 30.0, far], dtype)
    wide = x.astype(np.float64)
    expected = np.where(wide < 0, np.exp(wide) / (1 + np.exp(wide)), 1 / (1 + np.exp(-wide)))
    got = nn.sigmoid(x)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected.astype(dtype), rtol=4 * np.finfo(dtype).eps, atol=0)
    special = nn.sigmoid(np.array([np.nan, np.inf, -np.inf], dtype))
    np.testing.assert_array_equal(special, np.array([np.nan, 1.0, 0.0], dtype))


def test_softplus_is_stable_and_its_derivative_is_sigmoid():
    x = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(nn.softplus(x), np.logaddexp(0.0, x), rtol=1e-12)
    np.testing.assert_allclose(mg.grad(lambda x: nn.softplus(x).sum())(x), nn.sigmoid(x), rtol=1e-12)


def test_gelu_and_tanh():
    x = np.linspace(-3, 3, 7)
    expected = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    np.testing.assert_allclose(nn.gelu(x), expected, rtol=1e-12)
    np.testing.assert_allclose(nn.tanh(x), np.tanh(x))


def test_softmax_and_log_softmax():
    x = RNG.standard_normal((3, 5))
    expected = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(nn.softmax(x), expected, rtol=1e-12)
    np.testing.assert_allclose(nn.log_softmax(x), np.log(expected), rtol=1e-12)
    np.testing.assert_allclose(nn.softmax(x, axis=0).sum(axis=0), np.ones(5))
    big = np.array([[1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(nn.log_softmax(big), [[0.0, -1000.0, -2000.0]])


@pytest.mark.parametrize(
    "fn", [nn.relu, nn.sigmoid, nn.tanh, nn.gelu, nn.softplus, nn.softmax, nn.log_softmax]
)
def test_activation_gradients(fn):
    x = RNG.standard_normal((2, 3)) + 0.1  # keep relu away from its kink
    check_grads(fn, (x,), order=2)


def test_one_hot():
    np.testing.assert_array_equal(nn.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    assert nn.one_hot(np.array([1]), 2).dtype == np.float32
    with pytest.raises(TypeError, match="integers"):
        nn.one_hot(np.array([1.0]), 2)


# ---------------------------------------------------------------------------------------
# Convolution and pooling

CONV_CASES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), (1, 1), (0, 0)),
    ((1, 2, 6, 5), (3, 2, 3, 2), (2, 1), (1, 0)),
    ((2, 1, 7, 7), (2, 1, 3, 3), (2, 2), (1, 1)),
    ((1, 2, 4, 4), (1, 2, 1, 1), (1, 1), (2, 2)),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_CASES)
def test_conv2d_matches_loops(x_shape, w_shape, stride, padding):
    x, w, b = RNG.standard_normal(x_shape), RNG.standard_normal(w_shape), RNG.standard_normal(w_shape[0])
    out = nn.conv2d(x, w, b, stride=stride, padding=padding)
    np.testing.assert_allclose(out, loop_conv2d(x, w, b, stride, padding), rtol=1e-10, atol=1e-12)
    ct = RNG.standard_normal(out.shape)
    grads = mg.grad(lambda x, w, b: mnp.sum(ct * nn.conv2d(x, w, b, stride, padding)), argnums=(0, 1, 2))(
        x, w, b
    )
    for got, expected in zip(grads, loop_conv2d_grads(x, w, ct, stride, padding)):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_conv2d_gradients_forward_and_reverse_against_finite_differences():
    x, w, b = RNG.standard_normal((1, 2, 4, 4)), RNG.standard_normal((2, 2, 2, 2)), RNG.standard_normal(2)
    check_grads(lambda x, w, b: nn.conv2d(x, w, b, stride=(1, 2), padding=1), (x, w, b), order=2)


def test_conv2d_float32_stays_float32():
    x, w = np.ones((1, 1, 3, 3), np.float32), np.ones((1, 1, 2, 2), np.float32)
    assert nn.conv2d(x, w).dtype == np.float32


def test_conv2d_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"conv2d.*\(2, 3, 5, 5\).*\(4, 2, 3, 3\)"):
        nn.conv2d(np.zeros((2, 3, 5, 5)), np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"bias of shape \(3,\)"):
        nn.conv2d(np.zeros((1, 1, 3, 3)), np.zeros((2, 1, 2, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="batch"):
        nn.conv2d(np.zeros((1, 3, 3)), np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="does not fit"):
        nn.conv2d(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)))


@pytest.mark.parametrize("size, stride", [(2, None), (3, 1), (2, 3)])
def test_pooling_matches_loops(size, stride):
    x = RNG.standard_normal((2, 3, 7, 7))
    step = size if stride is None else stride
    np.testing.assert_allclose(nn.max_pool2d(x, size, stride), loop_pool(x, size, step, np.max))
    np.testing.assert_allclose(nn.avg_pool2d(x, size, stride), loop_pool(x, size, step, np.mean))
    check_grads(lambda x: nn.max_pool2d(x, size, stride), (x,))
    check_grads(lambda x: nn.avg_pool2d(x, size, stride), (x,))


def test_max_pool_gradient_goes_to_the_maximum():
    x = np.array([[[[1.0, 5.0], [3.0, 2.0]]]])
    np.testing.assert_array_equal(mg.grad(lambda x: nn.max_pool2d(x, 2).sum())(x), [[[[0, 1], [0, 0]]]])


# ---------------------------------------------------------------------------------------
# Losses


def test_mse():
    p, t = RNG.standard_normal(6), RNG.standard_normal(6)
    np.testing.assert_allclose(nn.mse(p, t), np.mean((p - t) ** 2))
    with pytest.raises(ValueError, match=r"\(6,\).*\(6, 1\)"):
        nn.mse(p, t[:, None])


def test_softmax_cross_entropy_integer_and_one_hot_labels():
    logits, labels = RNG.standard_normal((4, 3)), np.array([0, 2, 1, 2])
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(probabilities[np.arange(4), labels]))
    np.testing.assert_allclose(nn.softmax_cross_entropy(logits, labels), expected, rtol=1e-12)
    np.testing.assert_allclose(nn.softmax_cross_entropy(logits, np.eye(3)[labels]), expected, rtol=1e-12)
    # d/dlogits of the mean cross-entropy is (softmax - one_hot) / batch.
    grad = mg.grad(nn.softmax_cross_entropy)(logits, labels)
    np.testing.assert_allclose(grad, (probabilities - np.eye(3)[labels]) / 4, rtol=1e-10)
    with pytest.raises(ValueError, match="labels"):
        nn.softmax_cross_entropy(logits, labels[:3])


def test_softmax_cross_entropy_is_finite_for_confident_mistakes():
    loss = nn.softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1]))
    np.testing.assert_allclose(loss, 2000.0)


def test_binary_cross_entropy_with_logits():
    x, y = RNG.standard_normal(5), RNG.uniform(size=5)
    s = 1 / (1 + np.exp(-x))
    expected = -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s))
    np.testing.assert_allclose(nn.binary_cross_entropy_with_logits(x, y), expected, rtol=1e-12)
    np.testing.assert_allclose(
        nn.binary_cross_entropy_with_logits(np.array([-500.0]), np.array([1.0])), 500.0
    )


def test_hinge():
    scores, labels = np.array([2.0, 0.5, -1.0, 0.3]), np.array([1.0, 1.0, 1.0, -1.0])
    np.testing.assert_allclose(nn.hinge(scores, labels), np.mean([0.0, 0.5, 2.0, 1.3]))


# ---------------------------------------------------------------------------------------
# Initializers and layers


def test_initializers():
    key = mr.key(0)
    assert nn.initializers.fans((3, 5)) == (3, 5)
    assert nn.initializers.fans((4, 2, 3, 3)) == (18, 36)
    w = nn.glorot_uniform(key, (300, 200))
    limit = np.sqrt(6 / 500)
    assert w.dtype == np.float32 and np.abs(w).max() <= limit
    np.testing.assert_allclose(w.var(), limit**2 / 3, rtol=0.05)
    h = nn.he_normal(key, (400, 300))
    np.testing.assert_allclose(h.std(), np.sqrt(2 / 400), rtol=0.05)
    np.testing.assert_array_equal(nn.zeros(key, (2, 3)), np.zeros((2, 3)))


def test_linear():
    layer = nn.Linear(3, 2)
    params = layer.init(mr.key(1))
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(layer.apply(params, x), x @ params["w"] + params["b"], rtol=1e-6)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        layer.in_features = 5


def test_conv2d_layer():
    layer = nn.Conv2d(2, 3, (3, 2), stride=2, padding=1)
    params = layer.init(mr.key(0))
    assert params["w"].shape == (3, 2, 3, 2) and params["b"].shape == (3,)
    x = RNG.standard_normal((1, 2, 5, 5)).astype(np.float32)
    expected = loop_conv2d(x, params["w"], params["b"], (2, 2), (1, 1))
    np.testing.assert_allclose(layer.apply(params, x), expected, rtol=1e-5, atol=1e-6)


def test_sequential_with_functions_as_layers():
    model = nn.Sequential(nn.Linear(2, 4), nn.relu, nn.Linear(4, 1))
    params = model.init(mr.key(0))
    assert params[1] == {}
    x = RNG.standard_normal((5, 2)).astype(np.float32)
    hidden = np.maximum(x @ params[0]["w"] + params[0]["b"], 0)
    np.testing.assert_allclose(model.apply(params, x), hidden @ params[2]["w"] + params[2]["b"], rtol=1e-5)
    with pytest.raises(ValueError, match="3"):
        model.apply(params[:2], x)
    with pytest.raises(TypeError, match="neither"):
        nn.Sequential(nn.Linear(1, 1), 3)


def test_mlp_parameters_are_plain_pytrees_and_trainable():
    model = nn.MLP([3, 4, 4, 1], activation=nn.tanh)
    params = model.init(mr.key(0))
    assert isinstance(params, list) and all(isinstance(p, dict) for p in params)
    assert len(tree_leaves(params)) == 6
    assert sum(leaf.size for leaf in tree_leaves(params)) == 3 * 4 + 4 + 4 * 4 + 4 + 4 + 1
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    h = np.tanh(x @ params[0]["w"] + params[0]["b"])
    h = np.tanh(h @ params[1]["w"] + params[1]["b"])
    np.testing.assert_allclose(model.apply(params, x), h @ params[2]["w"] + params[2]["b"], rtol=1e-5)
    grads = mg.grad(lambda p: mnp.sum(model.apply(p, x)))(params)
    assert tree_structure(grads) == tree_structure(params)
    assert all(g.dtype == np.float32 for g in tree_leaves(grads))
    assert nn.MLP([3, 1]) == nn.MLP((3, 1))  # records compare by value
    with pytest.raises(ValueError, match="sizes"):
        nn.MLP([3])


def test_same_key_same_parameters():
    a = nn.MLP([2, 3, 1]).init(mr.key(4))
    b = nn.MLP([2, 3, 1]).init(mr.key(4))
    for x, y in zip(tree_leaves(a), tree_leaves(b)):
        np.testing.assert_array_equal(x, y)


def test_conv_and_pooling_under_vmap_and_per_example_gradients():
    xs, w = RNG.standard_normal((3, 2, 5, 5)), RNG.standard_normal((4, 2, 3, 3))
    mapped = mg.vmap(lambda x: nn.conv2d(x[None], w, stride=2, padding=1)[0])(xs)
    np.testing.assert_allclose(mapped, nn.conv2d(xs, w, stride=2, padding=1), rtol=1e-12)
    over_weights = mg.vmap(lambda w: nn.avg_pool2d(nn.conv2d(xs, w), 3))(np.stack([w, 2 * w]))
    np.testing.assert_allclose(over_weights[1], 2 * nn.avg_pool2d(nn.conv2d(xs, w), 3), rtol=1e-12)

    def loss(w, x):
        return mnp.sum(nn.max_pool2d(nn.relu(nn.conv2d(x[None], w)), 2))

    per_example = mg.vmap(mg.grad(loss), in_axes=(None, 0))(w, xs)
    for i in range(3):
        np.testing.assert_allclose(per_example[i], mg.grad(loss)(w, xs[i]), rtol=1e-12)


def test_mlp_per_example_gradients_with_vmap():
    model = nn.MLP([3, 5, 1])
    params = model.init(mr.key(0))
    xs = RNG.standard_normal((4, 3)).astype(np.float32)

    def loss(params, x):
        return mnp.sum(model.apply(params, x[None]))

    per_example = mg.vmap(mg.grad(loss), in_axes=(None, 0))(params, xs)
    assert per_example[0]["w"].shape == (4, 3, 5)
    single = mg.grad(loss)(params, xs[2])
    np.testing.assert_allclose(per_example[1]["w"][2], single[1]["w"], rtol=1e-5)
    np.testing.assert_allclose(per_example[0]["b"][2], single[0]["b"], rtol=1e-5)


@pytest.mark.parametrize("labels", [[3, 1], [-1, 1]])
def test_softmax_cross_entropy_rejects_out_of_range_labels(labels):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]])
    with pytest.raises(ValueError, match=rf"\[0, 3\).*{labels[0]}"):
        nn.softmax_cross_entropy(logits, np.array(labels))
    # under grad the labels are still concrete, so the check still applies
    with pytest.raises(ValueError, match="labels"):
        mg.grad(nn.softmax_cross_entropy)(logits, np.array(labels))


def test_one_hot_gives_zero_rows_out_of_range_as_jax():
    np.testing.assert_array_equal(nn.one_hot(np.array([-1, 3, 1]), 3), [[0, 0, 0], [0, 0, 0], [0, 1, 0]])
