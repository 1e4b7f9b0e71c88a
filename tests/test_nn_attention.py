"""Attention, MultiHeadAttention and TransformerBlock against NumPy references written
here from the equations; masks leave no trace of what they hide, and nothing is nan."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.random as mr
from minigrad import nn
from minigrad.testing import check_grads
from minigrad.tree import tree_map

RNG = np.random.default_rng(11)


def np_softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_attention(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return np_softmax(scores) @ v


def np_mha(params, x, heads, causal=False, padding=None):
    batch, length, dim = x.shape
    size = dim // heads

    def project(name):
        y = x @ params[name]["w"] + params[name]["b"]
        return y.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

    mask = np.ones((batch, 1, length, length), bool)
    if causal:
        mask &= np.tril(np.ones((length, length), bool))
    if padding is not None:
        mask &= padding[:, None, None, :]
    out = np_attention(project("q"), project("k"), project("v"), mask)
    out = out.transpose(0, 2, 1, 3).reshape(batch, length, dim)
    return out @ params["o"]["w"] + params["o"]["b"]


def float64(tree):
    return tree_map(lambda a: np.asarray(a, np.float64), tree)


def test_attention_against_numpy_with_and_without_a_mask():
    q, k, v = RNG.standard_normal((2, 4, 3)), RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 5, 2))
    np.testing.assert_allclose(nn.attention(q, k, v), np_attention(q, k, v), rtol=1e-12)
    mask = RNG.random((2, 4, 5)) > 0.3
    mask[:, :, 0] = True
    np.testing.assert_allclose(nn.attention(q, k, v, mask), np_attention(q, k, v, mask), rtol=1e-12)
    check_grads(lambda q, k, v: nn.attention(q, k, v, mask), (q, k, v), order=1)
    with pytest.raises(ValueError, match=r"attention: queries \(2, 4, 3\), keys \(2, 5, 2\)"):
        nn.attention(q, v, v)


def test_a_fully_masked_row_gives_finite_values_and_gradients():
    q, k, v = RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2))
    mask = np.array([[False, False, False], [True, False, False], [True, True, True]])
    out = nn.attention(q, k, v, mask)
    np.testing.assert_allclose(out[0], v.mean(axis=0))  # uniform weights, not 0/0
    grads = mg.grad(lambda q, k, v: nn.attention(q, k, v, mask).sum(), argnums=(0, 1, 2))(q, k, v)
    assert all(np.isfinite(g).all() for g in grads)
    np.testing.assert_allclose(grads[0][0], 0.0, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_against_numpy(causal):
    mha = nn.MultiHeadAttention(8, 2, causal=causal)
    params = float64(mha.init(mr.key(0)))
    x = RNG.standard_normal((3, 5, 8))
    padding = np.array([[True] * 5, [True, True, True, False, False], [True, False, True, True, False]])
    np.testing.assert_allclose(mha.apply(params, x), np_mha(params, x, 2, causal), rtol=1e-10)
    np.testing.assert_allclose(
        mha.apply(params, x, key_padding_mask=padding), np_mha(params, x, 2, causal, padding), rtol=1e-10
    )
    check_grads(lambda p, x: mha.apply(p, x, key_padding_mask=padding[:2, :4]), (params, x[:2, :4]), order=1)


def test_causal_attention_does_not_look_ahead_and_padding_is_invisible():
    block = nn.TransformerBlock(8, 2, causal=True)
    params = block.init(mr.key(0))
    x = RNG.standard_normal((1, 6, 8)).astype(np.float32)
    changed = x.copy()
    changed[:, 4:] += 10.0
    np.testing.assert_allclose(block.apply(params, x)[:, :4], block.apply(params, changed)[:, :4], rtol=1e-5)
    # The gradient of an early output with respect to later inputs is exactly zero.
    grads = mg.grad(lambda x: block.apply(params, x)[0, 2].sum())(x)
    np.testing.assert_array_equal(grads[0, 3:], 0.0)
    mha = nn.MultiHeadAttention(8, 2)
    mha_params = mha.init(mr.key(1))
    padding = np.array([[True, True, True, True, False, False]])
    np.testing.assert_allclose(
        mha.apply(mha_params, x, key_padding_mask=padding)[:, :4],
        mha.apply(mha_params, changed, key_padding_mask=padding)[:, :4],
        rtol=1e-5,
    )


def np_gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def np_layer_norm(x, p):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * p["scale"] + p["bias"]


def test_transformer_block_against_numpy():
    block = nn.TransformerBlock(8, 4, causal=True, mlp_ratio=2)
    params = float64(block.init(mr.key(3)))
    x = RNG.standard_normal((2, 5, 8))
    h = x + np_mha(params["attention"], np_layer_norm(x, params["norm1"]), 4, causal=True)
    inner = np_gelu(np_layer_norm(h, params["norm2"]) @ params["mlp_in"]["w"] + params["mlp_in"]["b"])
    expected = h + inner @ params["mlp_out"]["w"] + params["mlp_out"]["b"]
    np.testing.assert_allclose(block.apply(params, x), expected, rtol=1e-10)
    check_grads(lambda p: block.apply(p, x[:1, :3]), (params,), order=1)


def test_transformer_block_dropout_needs_a_key_in_training_only():
    block = nn.TransformerBlock(4, 2, dropout=0.5)
    params = block.init(mr.key(0))
    x = RNG.standard_normal((1, 3, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="training needs a random key"):
        block.apply(params, x)
    np.testing.assert_allclose(
        block.apply(params, x, train=False), nn.TransformerBlock(4, 2).apply(params, x), rtol=1e-6
    )
    assert not np.allclose(block.apply(params, x, key=mr.key(1)), block.apply(params, x, train=False))


def test_multi_head_attention_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match="dim 10 must be a positive multiple of heads 4"):
        nn.MultiHeadAttention(10, 4)
    mha = nn.MultiHeadAttention(8, 2)
    with pytest.raises(
        ValueError, match=r"MultiHeadAttention\(8, 2\): expected inputs of shape \(\.\.\., T, 8\)"
    ):
        mha.apply(mha.init(mr.key(0)), np.ones((2, 3, 6)))
    with pytest.raises(ValueError, match=r"key_padding_mask of shape \(3,\)"):
        mha.apply(mha.init(mr.key(0)), np.ones((2, 3, 8)), key_padding_mask=np.ones(3, bool))


def test_a_jitted_transformer_training_step_matches_eager():
    block = nn.TransformerBlock(16, 4, causal=True)
    params = block.init(mr.key(0))
    x = RNG.standard_normal((2, 7, 16)).astype(np.float32)

    def loss(params):
        return (block.apply(params, x) ** 2).mean()

    value, grads = mg.jit(mg.value_and_grad(loss))(params)
    eager_value, eager_grads = mg.value_and_grad(loss)(params)
    np.testing.assert_allclose(value, eager_value, rtol=1e-5)
    np.testing.assert_allclose(
        grads["attention"]["q"]["w"], eager_grads["attention"]["q"]["w"], rtol=1e-4, atol=1e-7
    )
