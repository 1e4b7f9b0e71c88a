"""The ``mnist_vmap`` workload: JAX's MNIST tutorial, a per-example ``predict`` vmapped.

``predict(params, image)`` is written for one image (``W @ x``), batched with
``vmap(predict, in_axes=(None, 0))``, and a jitted step takes the gradient of the mean
loss and updates the weights (784-512-512-10, batch 128, float32). Baselines: the same
network written for a batch by hand (``x @ W.T``) in minigrad, and in NumPy with a
hand-written backward pass; JAX's jit of the tutorial code when ``import_peers`` has
imported JAX. A second minigrad row takes per-example gradients (``vmap(grad)``) and sums
them, the pattern that built a (batch x out x in) tensor per layer (issue 17).
"""

from __future__ import annotations

import sys

import numpy as np
from workloads import RNG, check_close

import minigrad as mg
import minigrad.numpy as mnp

SIZES = (784, 512, 512, 10)
BATCH = 128
STEP = 0.01


def init_params(sizes=SIZES):
    return [
        (
            (RNG.standard_normal((n, m)) * 0.01).astype(np.float32),
            (RNG.standard_normal(n) * 0.01).astype(np.float32),
        )
        for m, n in zip(sizes[:-1], sizes[1:], strict=False)
    ]


def predict(xp, params, image):
    activations = image
    for w, b in params[:-1]:
        activations = xp.maximum(xp.dot(w, activations) + b, 0.0)
    w, b = params[-1]
    logits = xp.dot(w, activations) + b
    return logits - xp.log(xp.sum(xp.exp(logits - xp.max(logits)))) - xp.max(logits)


def mg_predict(params, image):
    return predict(mnp, params, image)


def mg_vmap_loss(params, images, targets):
    preds = mg.vmap(mg_predict, in_axes=(None, 0))(params, images)
    return -mnp.mean(preds * targets)


def mg_example_loss(params, image, target):
    return -mnp.mean(mg_predict(params, image) * target) / BATCH


def mg_batched_loss(params, images, targets):
    # The same network written for a batch by hand: rows are examples.
    activations = images
    for w, b in params[:-1]:
        activations = mnp.maximum(activations @ w.T + b, 0.0)
    w, b = params[-1]
    logits = activations @ w.T + b
    top = mnp.max(logits, axis=1, keepdims=True)
    preds = logits - mnp.log(mnp.sum(mnp.exp(logits - top), axis=1, keepdims=True)) - top
    return -mnp.mean(preds * targets)


def sgd(params, grads):
    return [(w - STEP * gw, b - STEP * gb) for (w, b), (gw, gb) in zip(params, grads, strict=True)]


def mg_vmap_step(params, images, targets):
    return sgd(params, mg.grad(mg_vmap_loss)(params, images, targets))


def mg_per_example_step(params, images, targets):
    grads = mg.vmap(mg.grad(mg_example_loss), in_axes=(None, 0, 0))(params, images, targets)
    return sgd(params, mg.tree_util.tree_map(lambda g: g.sum(0), grads))


def mg_batched_step(params, images, targets):
    return sgd(params, mg.grad(mg_batched_loss)(params, images, targets))


def numpy_step(params, images, targets):
    inputs, pre = [images], []
    for w, b in params:
        pre.append(inputs[-1] @ w.T + b)
        inputs.append(np.maximum(pre[-1], 0.0))
    logits = pre[-1]
    top = logits.max(axis=1, keepdims=True)
    softmax = np.exp(logits - top)
    softmax /= softmax.sum(axis=1, keepdims=True)
    scale = np.float32(1.0 / targets.size)
    # d(-mean(preds * t))/d logits, with preds = logits - logsumexp(logits)
    ct = -scale * (targets - softmax * targets.sum(axis=1, keepdims=True))
    grads = [None] * len(params)
    for i in reversed(range(len(params))):
        grads[i] = (ct.T @ inputs[i], ct.sum(axis=0))
        if i:
            ct = (ct @ params[i][0]) * (pre[i - 1] > 0)
    return sgd(params, grads)


def mnist_vmap_candidates():
    params = init_params()
    images = RNG.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    targets = np.eye(SIZES[-1], dtype=np.float32)[RNG.integers(0, SIZES[-1], BATCH)]
    reference = numpy_step(params, images, targets)
    vmap_step, per_example_step, batched_step = (
        mg.jit(step) for step in (mg_vmap_step, mg_per_example_step, mg_batched_step)
    )
    candidates = {
        "numpy (hand-written)": lambda: numpy_step(params, images, targets),
        "minigrad jit batched": lambda: batched_step(params, images, targets),
        "minigrad jit": lambda: vmap_step(params, images, targets),
        "minigrad jit vmap(grad)": lambda: per_example_step(params, images, targets),
    }
    jax = sys.modules.get("jax")  # imported by import_peers, when installed
    if jax is not None:
        jnp = sys.modules["jax.numpy"]

        def jax_loss(params, images, targets):
            preds = jax.vmap(lambda p, x: predict(jnp, p, x), in_axes=(None, 0))(params, images)
            return -jnp.mean(preds * targets)

        @jax.jit
        def jax_step(params, images, targets):
            return sgd(params, jax.grad(jax_loss)(params, images, targets))

        jargs = jax.tree_util.tree_map(jnp.asarray, (params, images, targets))
        candidates["jax jit"] = lambda: jax.block_until_ready(jax_step(*jargs))
    # Compare the gradients (the steps), not the weights, which a step barely moves.
    for name, fn in candidates.items():
        check_close(steps(params, reference), steps(params, fn()), name, rtol=2e-3)
    return candidates


def steps(params, updated):
    return [
        np.asarray(p) - np.asarray(q)
        for p, q in zip(mg.tree_util.tree_leaves(params), mg.tree_util.tree_leaves(updated), strict=True)
    ]
