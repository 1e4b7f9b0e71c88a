"""LayerNorm, RMSNorm and BatchNorm against NumPy references; batch-norm state in and out
of Sequential, in training and evaluation."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.random as mr
from minigrad import nn
from minigrad.testing import check_grads

RNG = np.random.default_rng(7)


def test_layer_norm_and_rms_norm_layers_against_numpy():
    x = RNG.standard_normal((3, 5)) * 4 + 2
    params = {"scale": RNG.standard_normal(5), "bias": RNG.standard_normal(5)}
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * params["scale"] + params["bias"]
    np.testing.assert_allclose(nn.LayerNorm(5).apply(params, x), expected, rtol=1e-12)
    rms = {"scale": params["scale"]}
    expected_rms = x / np.sqrt((x**2).mean(-1, keepdims=True) + 1e-6) * rms["scale"]
    np.testing.assert_allclose(nn.RMSNorm(5).apply(rms, x), expected_rms, rtol=1e-12)
    check_grads(lambda p, x: nn.LayerNorm(5).apply(p, x), (params, x), order=1)
    check_grads(lambda p, x: nn.RMSNorm(5).apply(p, x), (rms, x), order=1)
    with pytest.raises(
        ValueError, match=r"LayerNorm: expected 4 features on axis -1, got an input of shape \(3, 5\)"
    ):
        nn.LayerNorm(4).apply(nn.LayerNorm(4).init(None), x)


def np_batch_norm(x, scale, bias, mean, var, eps=1e-5):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * scale.reshape(
        shape
    ) + bias.reshape(shape)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 5)])
def test_batch_norm_training_uses_batch_statistics_and_moves_the_running_ones(shape):
    x = RNG.standard_normal(shape) * 3 + 1
    bn = nn.BatchNorm(3, momentum=0.8)
    params = {"scale": RNG.standard_normal(3), "bias": RNG.standard_normal(3)}
    state = {"mean": RNG.standard_normal(3), "var": RNG.random(3) + 0.5}
    axes = (0, *range(2, x.ndim))
    batch_mean, batch_var = x.mean(axis=axes), x.var(axis=axes)
    y, new_state = bn.apply(params, x, state=state, train=True)
    np.testing.assert_allclose(
        y, np_batch_norm(x, params["scale"], params["bias"], batch_mean, batch_var), rtol=1e-10
    )
    np.testing.assert_allclose(new_state["mean"], 0.8 * state["mean"] + 0.2 * batch_mean, rtol=1e-12)
    np.testing.assert_allclose(new_state["var"], 0.8 * state["var"] + 0.2 * batch_var, rtol=1e-12)
    # Evaluation: the running statistics, and the state comes back unchanged.
    y_eval, same = bn.apply(params, x, state=state, train=False)
    np.testing.assert_allclose(
        y_eval, np_batch_norm(x, params["scale"], params["bias"], state["mean"], state["var"])
    )
    assert same is state
    # The gradient goes through the batch statistics (not into the state).
    check_grads(lambda p, x: bn.apply(p, x, state=state, train=True)[0], (params, x), order=1)


def test_batch_norm_normalises_each_feature_of_a_training_batch():
    bn = nn.BatchNorm(4)
    x = RNG.standard_normal((64, 4)) * np.array([1.0, 10.0, 0.1, 5.0]) + np.array([0.0, -3.0, 7.0, 1.0])
    y, _ = bn.apply(bn.init(mr.key(0)), x, state=bn.init_state())
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(y.std(axis=0), 1.0, atol=1e-3)


def test_batch_norm_running_statistics_converge_over_steps():
    bn = nn.BatchNorm(2, momentum=0.9)
    params, state = bn.init(mr.key(0)), bn.init_state()
    data = RNG.standard_normal((100, 32, 2)) * np.array([2.0, 0.5]) + np.array([3.0, -1.0])
    for batch in data:
        _, state = bn.apply(params, batch, state=state)
    np.testing.assert_allclose(state["mean"], [3.0, -1.0], atol=0.3)
    np.testing.assert_allclose(state["var"], [4.0, 0.25], rtol=0.3)
    assert state["mean"].dtype == np.float32


def test_batch_norm_needs_its_state():
    bn = nn.BatchNorm(2)
    with pytest.raises(ValueError, match="BatchNorm.apply: needs its running statistics"):
        bn.apply(bn.init(mr.key(0)), np.ones((2, 2)))


def test_sequential_threads_state_key_and_train():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm(4), nn.relu, nn.Dropout(0.5), nn.Linear(4, 2))
    params, state = model.init(mr.key(0)), model.init_state()
    assert sorted(state[1]) == ["mean", "var"] and state[0] == {} and model.stateful
    x = RNG.standard_normal((16, 3)).astype(np.float32)
    y, new_state = model.apply(params, x, key=mr.key(1), state=state, train=True)
    # The same computation by hand: dropout gets fold_in(key, 3), its index in the model.
    h = model.layers[0].apply(params[0], x)
    h, bn_state = model.layers[1].apply(params[1], h, state=state[1], train=True)
    h = nn.dropout(nn.relu(h), 0.5, mr.fold_in(mr.key(1), 3))
    np.testing.assert_allclose(y, model.layers[4].apply(params[4], h), rtol=1e-6)
    np.testing.assert_allclose(new_state[1]["mean"], bn_state["mean"])
    # Evaluation: no key needed, dropout off, running statistics used and kept.
    y_eval, eval_state = model.apply(params, x, state=new_state, train=False)
    h = model.layers[1].apply(
        params[1], model.layers[0].apply(params[0], x), state=new_state[1], train=False
    )[0]
    np.testing.assert_allclose(y_eval, model.layers[4].apply(params[4], nn.relu(h)), rtol=1e-6)
    np.testing.assert_array_equal(eval_state[1]["var"], new_state[1]["var"])
    with pytest.raises(ValueError, match=r"Sequential.apply: the model has layers with state"):
        model.apply(params, x, key=mr.key(1))
    with pytest.raises(ValueError, match=r"Dropout\(0.5\).apply: training needs a random key"):
        model.apply(params, x, state=state)


def test_a_batch_norm_training_step_under_jit_and_grad():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm(4), nn.Dropout(0.2), nn.Linear(4, 1))
    x, target = RNG.standard_normal((8, 3)), RNG.standard_normal((8, 1))

    def loss(params, state, key):
        y, state = model.apply(params, x, key=key, state=state, train=True)
        return nn.mse(y, target), state

    @mg.jit
    def step(params, state, key):
        (value, state), grads = mg.value_and_grad(loss, has_aux=True)(params, state, key)
        return value, state, grads

    params, state = model.init(mr.key(0)), model.init_state()
    value, new_state, grads = step(params, state, mr.key(2))
    eager_value, eager_state = loss(params, state, mr.key(2))
    np.testing.assert_allclose(value, eager_value, rtol=1e-5)
    np.testing.assert_allclose(new_state[1]["mean"], eager_state[1]["mean"], rtol=1e-5)
    assert np.isfinite(grads[1]["scale"]).all()
