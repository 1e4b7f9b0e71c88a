"""The new layers, losses and optimizers against PyTorch, where it is installed (float64).

An independent implementation of the same conventions (gate orders, masking, bias
corrections); the NumPy references in the other test files do not need it.
"""

import numpy as np
import pytest

from minigrad import nn, optim

torch = pytest.importorskip("torch")
F = torch.nn.functional
RNG = np.random.default_rng(2)


def t(x):
    return torch.tensor(np.asarray(x), dtype=torch.float64)


def test_activations_and_losses_match_torch():
    x = RNG.standard_normal((4, 6))
    for ours, theirs in [
        (nn.silu, F.silu),
        (nn.elu, F.elu),
        (nn.leaky_relu, F.leaky_relu),
        (nn.log_sigmoid, F.logsigmoid),
        (nn.glu, F.glu),
    ]:
        np.testing.assert_allclose(ours(x), theirs(t(x)).numpy(), rtol=1e-12, atol=1e-14)
    labels = RNG.integers(0, 6, 4)
    np.testing.assert_allclose(
        nn.cross_entropy(x, labels, label_smoothing=0.2),
        F.cross_entropy(t(x), torch.tensor(labels), label_smoothing=0.2).item(),
        rtol=1e-12,
    )
    y = RNG.standard_normal((4, 6))
    np.testing.assert_allclose(nn.huber(x, y, 0.7), F.huber_loss(t(x), t(y), delta=0.7).item(), rtol=1e-12)
    log_p, q = nn.log_softmax(x), nn.softmax(y)
    np.testing.assert_allclose(
        nn.kl_div(log_p, q), F.kl_div(t(log_p), t(q), reduction="batchmean").item(), rtol=1e-12
    )


def test_recurrent_cells_match_torch():
    gru, lstm = torch.nn.GRUCell(3, 5).double(), torch.nn.LSTMCell(3, 5).double()
    x, h, c = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 5)), RNG.standard_normal((2, 5))

    def params(module):
        return {
            "wi": module.weight_ih.detach().numpy().T,
            "wh": module.weight_hh.detach().numpy().T,
            "bi": module.bias_ih.detach().numpy(),
            "bh": module.bias_hh.detach().numpy(),
        }

    ours, _ = nn.GRUCell(3, 5).apply(params(gru), h, x)
    np.testing.assert_allclose(ours, gru(t(x), t(h)).detach().numpy(), rtol=1e-12)
    (h_new, c_new), _ = nn.LSTMCell(3, 5).apply(params(lstm), (h, c), x)
    h_torch, c_torch = lstm(t(x), (t(h), t(c)))
    np.testing.assert_allclose(h_new, h_torch.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(c_new, c_torch.detach().numpy(), rtol=1e-12)


def test_multi_head_attention_with_masks_matches_torch():
    dim, heads = 8, 2
    module = torch.nn.MultiheadAttention(dim, heads, batch_first=True).double()
    w_in, b_in = module.in_proj_weight.detach().numpy(), module.in_proj_bias.detach().numpy()
    params = {
        name: {"w": w_in[i * dim : (i + 1) * dim].T, "b": b_in[i * dim : (i + 1) * dim]}
        for i, name in enumerate("qkv")
    }
    params["o"] = {"w": module.out_proj.weight.detach().numpy().T, "b": module.out_proj.bias.detach().numpy()}
    x = RNG.standard_normal((3, 5, dim))
    padding = np.array([[True] * 5, [True, True, True, False, False], [True, True, False, True, True]])
    causal = ~nn.causal_mask(5)  # torch: True where attention is *not* allowed
    expected, _ = module(
        t(x), t(x), t(x), key_padding_mask=torch.tensor(~padding), attn_mask=torch.tensor(causal)
    )
    ours = nn.MultiHeadAttention(dim, heads, causal=True).apply(params, x, key_padding_mask=padding)
    np.testing.assert_allclose(ours, expected.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_norms_and_conv1d_match_torch():
    x = RNG.standard_normal((6, 4, 3))
    scale, bias = RNG.standard_normal(3), RNG.standard_normal(3)
    expected = F.layer_norm(t(x), (3,), t(scale), t(bias), eps=1e-5).numpy()
    np.testing.assert_allclose(nn.LayerNorm(3).apply({"scale": scale, "bias": bias}, x), expected, rtol=1e-12)
    bn = torch.nn.BatchNorm1d(4, momentum=0.1).double()
    y, state = nn.BatchNorm(4, momentum=0.9).apply(
        nn.BatchNorm(4).init(None), x, state=nn.BatchNorm(4).init_state(), train=True
    )
    np.testing.assert_allclose(y, bn(t(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(state["mean"], bn.running_mean.numpy(), rtol=1e-6)
    # torch keeps the unbiased variance n/(n-1) in its running average; minigrad the biased one.
    n = x.shape[0] * x.shape[2]
    biased = x.var(axis=(0, 2))
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * biased * n / (n - 1), rtol=1e-12)
    np.testing.assert_allclose(state["var"], 0.9 + 0.1 * biased, rtol=1e-6)
    w, b = RNG.standard_normal((5, 4, 3)), RNG.standard_normal(5)
    np.testing.assert_allclose(
        nn.conv1d(x, w, b, stride=2, padding=1),
        F.conv1d(t(x), t(w), t(b), stride=2, padding=1).numpy(),
        rtol=1e-12,
    )


OPTIMIZERS = [
    (
        lambda: optim.sgd(0.1, momentum=0.9, nesterov=True),
        lambda p: torch.optim.SGD(p, 0.1, 0.9, nesterov=True),
    ),
    (lambda: optim.adam(0.01, b1=0.8, b2=0.9), lambda p: torch.optim.Adam(p, 0.01, betas=(0.8, 0.9))),
    (lambda: optim.adamw(0.01, weight_decay=0.1), lambda p: torch.optim.AdamW(p, 0.01, weight_decay=0.1)),
    (lambda: optim.rmsprop(0.01, decay=0.95), lambda p: torch.optim.RMSprop(p, 0.01, alpha=0.95, eps=1e-8)),
    (
        lambda: optim.adagrad(0.1, initial_accumulator_value=0.1, eps=1e-10),
        lambda p: torch.optim.Adagrad(p, 0.1, initial_accumulator_value=0.1, eps=1e-10),
    ),
]


@pytest.mark.parametrize("make", OPTIMIZERS, ids=["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_optimizers_follow_torch_step_by_step(make):
    ours_opt, theirs_opt = make
    params = {"w": RNG.standard_normal((3, 4))}
    tensor = torch.nn.Parameter(t(params["w"]))
    opt, torch_opt = ours_opt(), theirs_opt([tensor])
    state = opt.init(params)
    for _ in range(8):
        grads = {"w": RNG.standard_normal((3, 4))}
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
        tensor.grad = t(grads["w"])
        torch_opt.step()
        np.testing.assert_allclose(params["w"], tensor.detach().numpy(), rtol=1e-10, atol=1e-12)
