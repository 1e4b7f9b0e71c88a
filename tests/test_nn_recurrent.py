"""GRUCell, LSTMCell and RNN against NumPy references written from the equations."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.random as mr
from minigrad import nn
from minigrad.testing import check_grads
from minigrad.tree import tree_map

RNG = np.random.default_rng(5)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_gru(p, h, x):
    n = h.shape[-1]
    wi, wh = p["wi"], p["wh"]
    r = sigmoid(x @ wi[:, :n] + p["bi"][:n] + h @ wh[:, :n] + p["bh"][:n])
    z = sigmoid(x @ wi[:, n : 2 * n] + p["bi"][n : 2 * n] + h @ wh[:, n : 2 * n] + p["bh"][n : 2 * n])
    candidate = np.tanh(x @ wi[:, 2 * n :] + p["bi"][2 * n :] + r * (h @ wh[:, 2 * n :] + p["bh"][2 * n :]))
    return (1 - z) * candidate + z * h


def np_lstm(p, carry, x):
    h, c = carry
    n = h.shape[-1]
    gates = x @ p["wi"] + p["bi"] + h @ p["wh"] + p["bh"]
    i, f, g, o = (gates[:, k * n : (k + 1) * n] for k in range(4))
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return np.tanh(c) * sigmoid(o), c


def random_params(cell):
    return tree_map(lambda a: RNG.standard_normal(np.shape(a)) * 0.5, cell.init(mr.key(0)))


def test_gru_cell_against_numpy():
    cell = nn.GRUCell(3, 4)
    params, h, x = random_params(cell), RNG.standard_normal((2, 4)), RNG.standard_normal((2, 3))
    new, y = cell.apply(params, h, x)
    np.testing.assert_allclose(new, np_gru(params, h, x), rtol=1e-12)
    np.testing.assert_array_equal(new, y)
    check_grads(lambda p, h, x: cell.apply(p, h, x)[0], (params, h, x), order=1)


def test_lstm_cell_against_numpy_and_its_forget_bias():
    cell = nn.LSTMCell(3, 4)
    assert np.array_equal(cell.init(mr.key(0))["bi"], np.repeat([0.0, 1.0, 0.0, 0.0], 4))
    params = random_params(cell)
    carry = (RNG.standard_normal((2, 4)), RNG.standard_normal((2, 4)))
    x = RNG.standard_normal((2, 3))
    (h, c), y = cell.apply(params, carry, x)
    expected_h, expected_c = np_lstm(params, carry, x)
    np.testing.assert_allclose(h, expected_h, rtol=1e-12)
    np.testing.assert_allclose(c, expected_c, rtol=1e-12)
    check_grads(lambda p, x: cell.apply(p, carry, x)[1], (params, x), order=1)


@pytest.mark.parametrize("cell", [nn.GRUCell(3, 4), nn.LSTMCell(3, 4)], ids=["gru", "lstm"])
def test_rnn_scans_the_cell_like_a_python_loop(cell):
    rnn = nn.RNN(cell)
    params = random_params(cell)
    xs = RNG.standard_normal((2, 6, 3))
    step = np_gru if isinstance(cell, nn.GRUCell) else np_lstm
    carry = np.zeros((2, 4)) if isinstance(cell, nn.GRUCell) else (np.zeros((2, 4)), np.zeros((2, 4)))
    outputs = []
    for t in range(6):
        carry = step(params, carry, xs[:, t])
        outputs.append(carry if isinstance(cell, nn.GRUCell) else carry[0])
    np.testing.assert_allclose(rnn.apply(params, xs), np.stack(outputs, axis=1), rtol=1e-12)
    final, _ = rnn.apply(params, xs, return_carry=True)
    np.testing.assert_allclose(
        np.asarray(final[0] if isinstance(final, tuple) else final), outputs[-1], rtol=1e-12
    )
    check_grads(lambda p, xs: rnn.apply(p, xs), (params, xs[:, :4]), order=1, modes=("rev",))
    jitted = mg.jit(mg.grad(lambda p: (rnn.apply(p, xs) ** 2).sum()))(params)
    eager = mg.grad(lambda p: (rnn.apply(p, xs) ** 2).sum())(params)
    np.testing.assert_allclose(jitted["wh"], eager["wh"], rtol=1e-10)


def test_rnn_program_is_one_scan_whatever_the_length():
    rnn = nn.RNN(nn.GRUCell(2, 3))
    params = rnn.init(mr.key(0))
    short = str(mg.make_jaxpr(rnn.apply)(params, np.ones((1, 5, 2), np.float32)))
    long = str(mg.make_jaxpr(rnn.apply)(params, np.ones((1, 500, 2), np.float32)))
    assert short.count("scan") == long.count("scan") == 1
    assert len(long.splitlines()) == len(short.splitlines())


def test_recurrent_errors_name_the_layer_and_shapes():
    rnn = nn.RNN(nn.LSTMCell(3, 4))
    with pytest.raises(
        ValueError, match=r"RNN\(LSTMCell\): expected inputs of shape \(batch, time, features\), got \(5, 3\)"
    ):
        rnn.apply(rnn.init(mr.key(0)), np.ones((5, 3)))
    cell = nn.GRUCell(3, 4)
    with pytest.raises(
        ValueError, match=r"GRUCell: expected inputs with 3 features on the last axis, got shape \(2, 5\)"
    ):
        cell.apply(cell.init(mr.key(0)), np.zeros((2, 4)), np.ones((2, 5)))
