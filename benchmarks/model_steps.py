"""The ``transformer_step`` and ``gru_step`` workloads: training steps of issue 16's models.

Each is one jitted training step (loss, gradient, Adam update) of a model from
``minigrad.nn``, against the same model written the way each peer's users write it:
PyTorch eager with ``torch.nn`` modules, ``backward()`` and ``torch.optim.Adam``; JAX with
``jax.numpy``, ``jax.lax.scan`` for the recurrence, ``jax.value_and_grad`` and ``jax.jit``
(Adam written with ``tree_map``, as optax is not a dependency). minigrad's parameters are
copied into each peer's layout, and each peer's loss and gradients are checked against
minigrad's (float32 tolerance) before anything is timed.

- ``transformer_step``: two causal pre-norm ``nn.TransformerBlock``s (d=128, 4 heads, MLP
  512 with tanh-GELU), sequence 64, batch 16; the loss is the mean square of the output.
- ``gru_step``: the names example's GRU model (``GRUModel``: embeddings of 32, a GRU of
  64 run with ``lax.scan``, a read-out to 27 characters) on 32 sequences of 32
  characters; the loss is the mean next-character cross-entropy.
"""

from __future__ import annotations

import sys

import numpy as np
from workloads import RNG

import minigrad as mg
import minigrad.random as mr
from minigrad import nn, optim
from minigrad.examples.name_models import GRUModel

DIM, HEADS, LAYERS, LENGTH, BATCH = 128, 4, 2, 64, 16
VOCAB, CHARACTERS, NAMES = 27, 32, 32
LEARNING_RATE = 1e-3


def check_gradients(reference, other, name, rtol=2e-3):
    """``other``'s loss and gradients agree with minigrad's ``reference`` in float32.

    Entries are compared relative to the largest gradient entry of all: some gradients
    are exactly zero in exact arithmetic (a key's bias does not change a softmax), so
    what each library computes for them is rounding of the large terms that cancel.
    """
    (ref_loss, ref_grads), (loss, grads) = reference, other
    np.testing.assert_allclose(float(loss), float(ref_loss), rtol=rtol, err_msg=f"{name}: loss")
    ref_leaves, leaves = mg.tree_util.tree_leaves(ref_grads), mg.tree_util.tree_leaves(grads)
    assert len(ref_leaves) == len(leaves), name
    scale = max(float(np.abs(np.asarray(leaf)).max()) for leaf in ref_leaves)
    for index, (expected, actual) in enumerate(zip(ref_leaves, leaves, strict=True)):
        expected, actual = np.asarray(expected), np.asarray(actual)
        assert expected.shape == actual.shape, (name, index, expected.shape, actual.shape)
        np.testing.assert_allclose(
            actual, expected, rtol=rtol, atol=rtol * scale, err_msg=f"{name}: gradient leaf {index}"
        )


def jit_training_step(loss_fn, params):
    """minigrad: a jitted Adam step of ``loss_fn`` and its first state."""
    optimizer = optim.adam(LEARNING_RATE)
    value_and_grad = mg.value_and_grad(loss_fn)

    @mg.jit
    def step(params, opt_state, *batch):
        loss, grads = value_and_grad(params, *batch)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, loss

    return step, optimizer.init(params), value_and_grad


def timed(step, params, opt_state, *batch):
    """A zero-argument callable that runs ``step`` and keeps its new state for the next call."""
    state = [params, opt_state]

    def run():
        state[0], state[1], loss = step(state[0], state[1], *batch)
        return loss

    return run


# ---------------------------------------------------------------------------------------
# JAX: Adam as optax writes it, with tree_map


def jax_adam(jax, jnp):
    def init(params):
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return zeros, zeros, jnp.zeros((), jnp.int32)

    def update(grads, state, params):
        m, v, count = state
        count = count + 1
        m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
        v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
        m_scale = 1.0 / (1.0 - 0.9 ** count.astype(jnp.float32))
        v_scale = 1.0 / (1.0 - 0.999 ** count.astype(jnp.float32))
        params = jax.tree_util.tree_map(
            lambda p, m, v: p - LEARNING_RATE * (m * m_scale) / (jnp.sqrt(v * v_scale) + 1e-8), params, m, v
        )
        return params, (m, v, count)

    return init, update


def jax_training_step(jax, loss_fn, params, *batch):
    """JAX: a jitted Adam step of ``loss_fn``, its gradient function and a timed callable."""
    jnp = sys.modules["jax.numpy"]
    adam_init, adam_update = jax_adam(jax, jnp)
    value_and_grad = jax.jit(jax.value_and_grad(loss_fn))

    @jax.jit
    def step(params, opt_state, *batch):
        loss, grads = jax.value_and_grad(loss_fn)(params, *batch)
        params, opt_state = adam_update(grads, opt_state, params)
        return params, opt_state, loss

    params = jax.tree_util.tree_map(jnp.asarray, params)
    batch = [jnp.asarray(part) for part in batch]
    run = timed(step, params, adam_init(params), *batch)
    return value_and_grad(params, *batch), lambda: jax.block_until_ready(run())


# ---------------------------------------------------------------------------------------
# transformer_step


def transformer_candidates():
    block = nn.TransformerBlock(DIM, HEADS, causal=True)

    def mg_loss(params, x):
        h = x
        for block_params in params:
            h = block.apply(block_params, h)
        return (h**2).mean()

    params = [block.init(k) for k in mr.split(mr.key(0), LAYERS)]
    x = RNG.standard_normal((BATCH, LENGTH, DIM)).astype(np.float32)
    step, opt_state, value_and_grad = jit_training_step(mg_loss, params)
    reference = value_and_grad(params, x)
    candidates = {"minigrad jit": timed(step, params, opt_state, x)}
    jax, torch = sys.modules.get("jax"), sys.modules.get("torch")
    if jax is not None:
        loss, candidates["jax jit"] = jax_training_step(jax, jax_transformer_loss(jax), params, x)
        check_gradients(reference, loss, "jax jit")
    if torch is not None:
        grads, candidates["pytorch eager"] = torch_transformer(torch, params, x)
        check_gradients(reference, grads, "pytorch eager")
    return candidates


def jax_transformer_loss(jax):
    jnp = sys.modules["jax.numpy"]
    mask = jnp.tril(jnp.ones((LENGTH, LENGTH), bool))

    def layer_norm(p, x):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + 1e-5) * p["scale"] + p["bias"]

    def dense(p, x):
        return x @ p["w"] + p["b"]

    def attention(p, x):
        batch, length, _ = x.shape
        q, k, v = (dense(p[name], x).reshape(batch, length, HEADS, DIM // HEADS) for name in "qkv")
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(DIM // HEADS).astype(np.float32)
        weights = jax.nn.softmax(jnp.where(mask, scores, jnp.finfo(scores.dtype).min), axis=-1)
        heads = jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(batch, length, DIM)
        return dense(p["o"], heads)

    def block(p, x):
        x = x + attention(p["attention"], layer_norm(p["norm1"], x))
        inner = jax.nn.gelu(dense(p["mlp_in"], layer_norm(p["norm2"], x)), approximate=True)
        return x + dense(p["mlp_out"], inner)

    def loss(params, x):
        for p in params:
            x = block(p, x)
        return jnp.mean(x**2)

    return loss


def torch_transformer(torch, params, x):
    """PyTorch: ``nn.TransformerEncoderLayer``s holding minigrad's parameters; grads and a step."""
    functional = sys.modules["torch.nn.functional"]

    def gelu_tanh(h):
        return functional.gelu(h, approximate="tanh")

    layers = torch.nn.ModuleList(
        torch.nn.TransformerEncoderLayer(
            DIM, HEADS, 4 * DIM, dropout=0.0, activation=gelu_tanh, batch_first=True, norm_first=True
        )
        for _ in params
    )
    with torch.no_grad():
        for layer, p in zip(layers, params, strict=True):
            attention = p["attention"]
            layer.self_attn.in_proj_weight.copy_(
                torch.tensor(np.concatenate([attention[n]["w"].T for n in "qkv"]))
            )
            layer.self_attn.in_proj_bias.copy_(
                torch.tensor(np.concatenate([attention[n]["b"] for n in "qkv"]))
            )
            layer.self_attn.out_proj.weight.copy_(torch.tensor(attention["o"]["w"].T))
            layer.self_attn.out_proj.bias.copy_(torch.tensor(attention["o"]["b"]))
            for ours, theirs in (("mlp_in", layer.linear1), ("mlp_out", layer.linear2)):
                theirs.weight.copy_(torch.tensor(p[ours]["w"].T))
                theirs.bias.copy_(torch.tensor(p[ours]["b"]))
            for ours, theirs in (("norm1", layer.norm1), ("norm2", layer.norm2)):
                theirs.weight.copy_(torch.tensor(p[ours]["scale"]))
                theirs.bias.copy_(torch.tensor(p[ours]["bias"]))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(LENGTH)
    inputs = torch.tensor(x)
    optimizer = torch.optim.Adam(layers.parameters(), lr=LEARNING_RATE)

    def loss_fn():
        h = inputs
        for layer in layers:
            h = layer(h, src_mask=mask, is_causal=True)
        return (h**2).mean()

    loss = loss_fn()
    loss.backward()
    grads = [_minigrad_layout(layer) for layer in layers]

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        return loss

    return (loss.item(), grads), step


def _minigrad_layout(layer):
    """A ``TransformerEncoderLayer``'s gradients as ``TransformerBlock`` parameters."""

    def grad(parameter):
        return parameter.grad.numpy()

    q, k, v = np.split(grad(layer.self_attn.in_proj_weight), 3)
    qb, kb, vb = np.split(grad(layer.self_attn.in_proj_bias), 3)
    return {
        "attention": {
            "k": {"b": kb, "w": k.T},
            "o": {"b": grad(layer.self_attn.out_proj.bias), "w": grad(layer.self_attn.out_proj.weight).T},
            "q": {"b": qb, "w": q.T},
            "v": {"b": vb, "w": v.T},
        },
        "mlp_in": {"b": grad(layer.linear1.bias), "w": grad(layer.linear1.weight).T},
        "mlp_out": {"b": grad(layer.linear2.bias), "w": grad(layer.linear2.weight).T},
        "norm1": {"bias": grad(layer.norm1.bias), "scale": grad(layer.norm1.weight)},
        "norm2": {"bias": grad(layer.norm2.bias), "scale": grad(layer.norm2.weight)},
    }


# ---------------------------------------------------------------------------------------
# gru_step


def gru_candidates():
    model = GRUModel(VOCAB)

    def mg_loss(params, inputs, targets):
        return nn.cross_entropy(model.apply(params, inputs), targets)

    params = model.init(mr.key(0))
    inputs = RNG.integers(0, VOCAB, (NAMES, CHARACTERS))
    targets = RNG.integers(0, VOCAB, (NAMES, CHARACTERS))
    step, opt_state, value_and_grad = jit_training_step(mg_loss, params)
    reference = value_and_grad(params, inputs, targets)
    candidates = {"minigrad jit": timed(step, params, opt_state, inputs, targets)}
    jax, torch = sys.modules.get("jax"), sys.modules.get("torch")
    if jax is not None:
        loss, candidates["jax jit"] = jax_training_step(jax, jax_gru_loss(jax), params, inputs, targets)
        check_gradients(reference, loss, "jax jit")
    if torch is not None:
        grads, candidates["pytorch eager"] = torch_gru(torch, model, params, inputs, targets)
        check_gradients(reference, grads, "pytorch eager")
    return candidates


def jax_gru_loss(jax):
    jnp = sys.modules["jax.numpy"]

    def cell(p, h, x):
        # As nn.GRUCell and flax's GRUCell write it: both products inside the step.
        x_r, x_z, x_n = jnp.split(x @ p["wi"] + p["bi"], 3, axis=-1)
        h_r, h_z, h_n = jnp.split(h @ p["wh"] + p["bh"], 3, axis=-1)
        reset = jax.nn.sigmoid(x_r + h_r)
        update = jax.nn.sigmoid(x_z + h_z)
        candidate = jnp.tanh(x_n + reset * h_n)
        h = (1.0 - update) * candidate + update * h
        return h, h

    def loss(params, inputs, targets):
        rnn = params["rnn"]
        vectors = params["embed"]["table"][inputs]
        h0 = jnp.zeros((inputs.shape[0], rnn["wh"].shape[0]), vectors.dtype)
        _, states = jax.lax.scan(lambda h, x: cell(rnn, h, x), h0, jnp.swapaxes(vectors, 0, 1))
        logits = jnp.swapaxes(states, 0, 1) @ params["out"]["w"] + params["out"]["b"]
        log_probs = jax.nn.log_softmax(logits, axis=-1)
        return -jnp.mean(jnp.take_along_axis(log_probs, targets[..., None], axis=-1))

    return loss


def torch_gru(torch, model, params, inputs, targets):
    """PyTorch: ``nn.Embedding``, ``nn.GRU`` and ``nn.Linear`` holding minigrad's parameters."""
    functional = sys.modules["torch.nn.functional"]
    embed = torch.nn.Embedding(VOCAB, model.embed)
    gru = torch.nn.GRU(model.embed, model.hidden, batch_first=True)
    out = torch.nn.Linear(model.hidden, VOCAB)
    modules = torch.nn.ModuleList([embed, gru, out])
    rnn = params["rnn"]
    with torch.no_grad():
        embed.weight.copy_(torch.tensor(params["embed"]["table"]))
        gru.weight_ih_l0.copy_(torch.tensor(rnn["wi"].T))
        gru.weight_hh_l0.copy_(torch.tensor(rnn["wh"].T))
        gru.bias_ih_l0.copy_(torch.tensor(rnn["bi"]))
        gru.bias_hh_l0.copy_(torch.tensor(rnn["bh"]))
        out.weight.copy_(torch.tensor(params["out"]["w"].T))
        out.bias.copy_(torch.tensor(params["out"]["b"]))
    ids, labels = torch.tensor(inputs), torch.tensor(targets)
    optimizer = torch.optim.Adam(modules.parameters(), lr=LEARNING_RATE)

    def loss_fn():
        states, _ = gru(embed(ids))
        return functional.cross_entropy(out(states).reshape(-1, VOCAB), labels.reshape(-1))

    loss = loss_fn()
    loss.backward()
    grads = {
        "embed": {"table": embed.weight.grad.numpy()},
        "out": {"b": out.bias.grad.numpy(), "w": out.weight.grad.numpy().T},
        "rnn": {
            "bh": gru.bias_hh_l0.grad.numpy(),
            "bi": gru.bias_ih_l0.grad.numpy(),
            "wh": gru.weight_hh_l0.grad.numpy().T,
            "wi": gru.weight_ih_l0.grad.numpy().T,
        },
    }

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        return loss

    return (loss.item(), grads), step
