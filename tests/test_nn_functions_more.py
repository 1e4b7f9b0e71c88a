"""minigrad.nn beyond the MLP: activations, losses, dropout, initializers and small layers,
each against an independent NumPy reference in float64."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.random as mr
from minigrad import nn
from minigrad.testing import check_grads
from minigrad.tree import tree_map

RNG = np.random.default_rng(16)


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_log_softmax(x):
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


# ---------------------------------------------------------------------------------------
# Activations


ACTIVATIONS = [
    (nn.silu, lambda x: x * np_sigmoid(x)),
    (nn.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1.0)),
    (nn.leaky_relu, lambda x: np.where(x >= 0, x, 0.01 * x)),
    (nn.log_sigmoid, lambda x: np.log(np_sigmoid(x))),
    (nn.glu, lambda x: x[..., :2] * np_sigmoid(x[..., 2:])),
]


@pytest.mark.parametrize("fn, reference", ACTIVATIONS, ids=lambda f: getattr(f, "__name__", ""))
def test_activation_values_and_gradients(fn, reference):
    x = RNG.standard_normal((3, 4)) + 0.05  # away from the kinks at 0
    np.testing.assert_allclose(fn(x), reference(x), rtol=1e-12, atol=1e-14)
    check_grads(fn, (x,), order=2)


def test_activations_are_finite_far_out():
    x = np.array([-1000.0, -50.0, 50.0, 1000.0])
    for fn in (nn.silu, nn.elu, nn.log_sigmoid):
        value = fn(x)
        grads = mg.grad(lambda x, fn=fn: fn(x).sum())(x)
        assert np.isfinite(value).all() and np.isfinite(grads).all(), fn.__name__
    np.testing.assert_allclose(nn.log_sigmoid(x), [-1000.0, -50.0, -np.exp(-50.0), 0.0], rtol=1e-12)
    np.testing.assert_allclose(nn.elu(np.array([-1.0]), alpha=2.0), [2.0 * (np.exp(-1.0) - 1.0)])


def test_glu_refuses_an_odd_axis():
    with pytest.raises(ValueError, match="glu: axis -1 .* odd length 3"):
        nn.glu(np.ones((2, 3)))


def test_logsumexp_matches_numpy_and_is_stable():
    x = RNG.standard_normal((3, 5))
    np.testing.assert_allclose(nn.logsumexp(x, axis=1), np.log(np.exp(x).sum(axis=1)), rtol=1e-12)
    np.testing.assert_allclose(nn.logsumexp(x + 1000.0, axis=1), np.log(np.exp(x).sum(axis=1)) + 1000.0)
    check_grads(lambda x: nn.logsumexp(x, axis=-1), (x,), order=2)


def test_layer_norm_against_numpy_and_gradients():
    x, scale, bias = RNG.standard_normal((4, 6)), RNG.standard_normal(6), RNG.standard_normal(6)
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * scale + bias
    np.testing.assert_allclose(nn.layer_norm(x, scale, bias), expected, rtol=1e-12)
    check_grads(lambda x, s, b: nn.layer_norm(x, s, b), (x, scale, bias), order=1)
    # A constant row has zero variance: eps inside the square root keeps everything finite.
    grads = mg.grad(lambda x: (nn.layer_norm(x) * np.arange(3.0)).sum())(np.ones((1, 3)))
    assert np.isfinite(grads).all()


# ---------------------------------------------------------------------------------------
# Dropout


def test_dropout_statistics():
    rate, n = 0.3, 200_000
    y = nn.dropout(np.ones(n), rate, mr.key(0))
    dropped = float(np.mean(y == 0.0))
    # Binomial standard deviation sqrt(p (1 - p) / n) = 0.001; allow 5 of them.
    assert abs(dropped - rate) < 0.005
    np.testing.assert_allclose(np.unique(y), [0.0, 1.0 / (1.0 - rate)])
    assert abs(float(y.mean()) - 1.0) < 0.01  # the expectation is unchanged
    np.testing.assert_array_equal(
        nn.dropout(np.ones(50), rate, mr.key(3)), nn.dropout(np.ones(50), rate, mr.key(3))
    )
    assert not np.array_equal(
        nn.dropout(np.ones(50), rate, mr.key(3)), nn.dropout(np.ones(50), rate, mr.key(4))
    )


def test_dropout_gradient_is_the_mask_scaled():
    x = RNG.standard_normal(1000)
    y = nn.dropout(x, 0.5, mr.key(1))
    grads = mg.grad(lambda x: nn.dropout(x, 0.5, mr.key(1)).sum())(x)
    np.testing.assert_array_equal(grads, np.where(y != 0, 2.0, 0.0))


def test_dropout_layer_train_eval_and_errors():
    layer = nn.Dropout(0.5)
    x = np.ones((4, 8))
    np.testing.assert_array_equal(layer.apply({}, x, train=False), x)
    with pytest.raises(ValueError, match=r"Dropout\(0.5\).apply: training needs a random key"):
        layer.apply({}, x)
    with pytest.raises(ValueError, match="rate must be in"):
        nn.dropout(x, 1.0, mr.key(0))
    np.testing.assert_array_equal(nn.Dropout(0.0).apply({}, x), x)


def test_dropout_under_jit_with_a_traced_key():
    f = mg.jit(lambda x, key: nn.dropout(x, 0.5, key))
    x = np.ones(64)
    np.testing.assert_array_equal(f(x, mr.key(5)), nn.dropout(x, 0.5, mr.key(5)))


# ---------------------------------------------------------------------------------------
# Losses


def test_cross_entropy_with_label_smoothing_against_numpy():
    logits, labels = RNG.standard_normal((5, 4)), RNG.integers(0, 4, 5)
    for smoothing in (0.0, 0.1, 1.0):
        target = (1 - smoothing) * np.eye(4)[labels] + smoothing / 4
        expected = -(target * np_log_softmax(logits)).sum(axis=-1).mean()
        np.testing.assert_allclose(
            nn.cross_entropy(logits, labels, label_smoothing=smoothing), expected, rtol=1e-12
        )
    check_grads(lambda z: nn.cross_entropy(z, labels, label_smoothing=0.1), (logits,), order=2)
    np.testing.assert_allclose(nn.cross_entropy(logits, labels), nn.softmax_cross_entropy(logits, labels))


def test_cross_entropy_and_nll_with_where_average_only_true_positions():
    logits, labels = RNG.standard_normal((2, 3, 4)), RNG.integers(0, 4, (2, 3))
    where = np.array([[True, True, False], [True, False, False]])
    per_position = -np.take_along_axis(np_log_softmax(logits), labels[..., None], -1)[..., 0]
    expected = per_position[where].mean()
    np.testing.assert_allclose(nn.cross_entropy(logits, labels, where=where), expected, rtol=1e-12)
    np.testing.assert_allclose(nn.nll(np_log_softmax(logits), labels, where=where), expected, rtol=1e-12)
    assert float(nn.nll(np_log_softmax(logits), labels, where=np.zeros((2, 3), bool))) == 0.0
    with pytest.raises(ValueError, match="where of shape"):
        nn.cross_entropy(logits, labels, where=np.ones(3, bool))
    with pytest.raises(ValueError, match=r"nll: labels must be integer class indices of shape \(2, 3\)"):
        nn.nll(logits, labels.astype(float))
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 4\)"):
        nn.cross_entropy(logits, labels + 4)


def test_huber_against_numpy_and_gradients():
    predictions, targets = RNG.standard_normal(20) * 3, RNG.standard_normal(20)
    for delta in (0.5, 1.0, 2.0):
        error = np.abs(predictions - targets)
        expected = np.where(error <= delta, 0.5 * error**2, delta * (error - 0.5 * delta)).mean()
        np.testing.assert_allclose(nn.huber(predictions, targets, delta), expected, rtol=1e-12)
    check_grads(lambda p: nn.huber(p, targets), (predictions,), order=1)


def test_kl_div_against_numpy_with_zero_targets():
    log_p = np_log_softmax(RNG.standard_normal((3, 4)))
    t = np.array([[0.5, 0.5, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4], [1.0, 0.0, 0.0, 0.0]])
    terms = np.where(t > 0, t * (np.log(np.where(t > 0, t, 1.0)) - log_p), 0.0)
    np.testing.assert_allclose(nn.kl_div(log_p, t), terms.sum(axis=-1).mean(), rtol=1e-12)
    grad_t = mg.grad(lambda t: nn.kl_div(log_p, t), argnums=0)(t)
    assert np.isfinite(grad_t).all()
    check_grads(lambda lp: nn.kl_div(lp, t), (log_p,), order=1)
    assert abs(float(nn.kl_div(np.log(t[1:2]), t[1:2]))) < 1e-15


# ---------------------------------------------------------------------------------------
# Initializers


def test_initializer_statistics():
    key = mr.key(0)
    assert abs(float(nn.lecun_normal(key, (500, 400)).std()) - np.sqrt(1 / 500)) < 0.002
    assert abs(float(nn.glorot_normal(key, (500, 300)).std()) - np.sqrt(2 / 800)) < 0.002
    w = nn.he_uniform(key, (600, 100))
    limit = np.sqrt(6 / 600)
    assert abs(w).max() <= limit and abs(float(w.std()) - limit / np.sqrt(3)) < 0.002
    t = nn.truncated_normal(key, (100_000,))
    assert abs(t).max() <= 2.0 and abs(float(t.std()) - 0.8796) < 0.01  # sd of N(0,1) cut at 2
    assert abs(float(nn.normal(0.3)(key, (100_000,)).std()) - 0.3) < 0.005
    u = nn.uniform(0.5)(key, (100_000,))
    assert u.min() >= 0 and u.max() < 0.5 and abs(float(u.mean()) - 0.25) < 0.005
    np.testing.assert_array_equal(nn.ones(key, (2, 2)), np.ones((2, 2), np.float32))
    np.testing.assert_array_equal(nn.constant(-2.0)(key, (3,), np.float64), [-2.0, -2.0, -2.0])
    for init in (nn.lecun_normal, nn.glorot_normal, nn.he_uniform, nn.orthogonal, nn.truncated_normal):
        assert init(key, (4, 6)).dtype == np.float32 and init(key, (4, 6), np.float64).dtype == np.float64


@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (7, 3), (4, 2, 3)])
def test_orthogonal_is_orthogonal(shape):
    w = np.asarray(nn.orthogonal(mr.key(1), shape, np.float64)).reshape(shape[0], -1)
    small = min(w.shape)
    gram = w @ w.T if w.shape[0] == small else w.T @ w
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


# ---------------------------------------------------------------------------------------
# Small layers


def test_embedding_looks_up_and_accumulates_gradients_of_repeated_ids():
    embed = nn.Embedding(5, 3)
    params = embed.init(mr.key(0))
    ids = np.array([[1, 4, 1], [0, 1, 2]])
    np.testing.assert_array_equal(embed.apply(params, ids), params["table"][ids])
    weights = RNG.standard_normal((2, 3, 3))
    grads = mg.grad(lambda p: (embed.apply(p, ids) * weights).sum())(params)
    expected = np.zeros((5, 3))
    np.add.at(expected, ids, weights)
    np.testing.assert_allclose(grads["table"], expected, rtol=1e-6)
    with pytest.raises(TypeError, match=r"Embedding: ids must be integers in \[0, 5\)"):
        embed.apply(params, np.ones(2))


def test_conv1d_against_a_loop():
    x, w, b = RNG.standard_normal((2, 3, 9)), RNG.standard_normal((4, 3, 3)), RNG.standard_normal(4)
    stride, padding = 2, 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    length = (xp.shape[2] - 3) // stride + 1
    expected = np.zeros((2, 4, length))
    for i in range(length):
        window = xp[:, :, i * stride : i * stride + 3]
        expected[:, :, i] = np.einsum("nck,ock->no", window, w) + b
    layer = nn.Conv1d(3, 4, 3, stride=stride, padding=padding)
    params = {"w": w, "b": b}
    np.testing.assert_allclose(layer.apply(params, x), expected, rtol=1e-12)
    check_grads(lambda x, w: nn.conv1d(x, w, b, stride, padding), (x, w), order=1)
    assert tree_map(np.shape, layer.init(mr.key(0))) == {"w": (4, 3, 3), "b": (4,)}
    with pytest.raises(ValueError, match=r"conv1d: input of shape \(3, 9\)"):
        nn.conv1d(x[0], w)


def test_pooling_and_flatten_layers_in_a_sequential():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.MaxPool2d(2), nn.AvgPool2d(2), nn.Flatten())
    params = model.init(mr.key(0))
    x = RNG.standard_normal((3, 1, 8, 8))
    manual = nn.avg_pool2d(nn.max_pool2d(model.layers[0].apply(params[0], x), 2), 2).reshape(3, -1)
    np.testing.assert_allclose(model.apply(params, x), manual)
    assert params[1:] == [{}, {}, {}]


def test_param_count_and_summary():
    model = nn.Sequential(nn.Embedding(27, 8), nn.Flatten(), nn.Linear(24, 16), nn.relu, nn.Linear(16, 27))
    params = model.init(mr.key(0))
    assert nn.param_count(params) == 27 * 8 + 24 * 16 + 16 + 16 * 27 + 27
    table = nn.summary(model, np.zeros((2, 3), np.int64), params)
    lines = table.splitlines()
    assert lines[0].split() == ["layer", "output", "shape", "parameters"]
    assert lines[1].split() == ["Embedding(27,", "8)", "(2,", "3,", "8)", "216"]
    assert lines[3].startswith("Linear(24, 16)") and lines[3].endswith(" 400")
    assert lines[-1].split() == ["total", str(nn.param_count(params))]
    single = nn.summary(nn.LayerNorm(4), np.ones((2, 4))).splitlines()
    assert single[1].split() == ["LayerNorm(4,", "1e-05)", "(2,", "4)", "8"]
