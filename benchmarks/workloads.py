"""The timed workloads of ``run.py``: for each, its implementations as zero-argument callables.

Each ``*_candidates`` function builds one workload's inputs and returns
``{implementation name: callable}``: minigrad eager and jit, the hand-written NumPy
reference, and the peers (JAX, PyTorch, HIPS autograd) that ``import_peers`` found.
Every result is checked against the NumPy one before it is returned. ``WORKLOADS`` maps
each workload's name to its builder. Import this module after ``run.py`` has set the
thread variables (it imports NumPy).
"""

from __future__ import annotations

import importlib
import importlib.util

import numpy as np

import minigrad as mg
import minigrad.numpy as mnp

# The peers are imported by `import_peers`, after the trace-scaling run: their large heaps
# would otherwise make CPython's full garbage collections, and so minigrad's per-equation
# tracing cost, grow with the number of objects *they* hold.
jax = jnp = torch = torch_functional = autograd = anp = None
mg_nn = importlib.import_module("minigrad.nn") if importlib.util.find_spec("minigrad.nn") else None


def import_peers() -> dict:
    """Import whichever of JAX, PyTorch and HIPS autograd are installed; their versions."""
    global jax, jnp, torch, torch_functional, autograd, anp
    try:
        jax = importlib.import_module("jax")
        jnp = importlib.import_module("jax.numpy")
        jax.config.update("jax_enable_x64", True)  # for the float64 workload; float32 stays float32
    except ImportError:
        jax = None
    try:
        torch = importlib.import_module("torch")
        torch_functional = importlib.import_module("torch.nn.functional")
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    try:
        autograd = importlib.import_module("autograd")
        anp = importlib.import_module("autograd.numpy")
    except ImportError:
        autograd = None
    return {
        "jax": getattr(jax, "__version__", None),
        "torch": getattr(torch, "__version__", None),
        "autograd": "installed" if autograd is not None else None,
    }


RNG = np.random.default_rng(0)


# ---------------------------------------------------------------------------------------
# checking results against NumPy


def _leaves(tree):
    if torch is not None and isinstance(tree, torch.Tensor):
        return [tree.detach().numpy()]
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _leaves(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [np.asarray(tree)]


def check_close(reference, other, name, rtol):
    ref_leaves, other_leaves = _leaves(reference), _leaves(other)
    assert len(ref_leaves) == len(other_leaves), name
    for a, b in zip(ref_leaves, other_leaves, strict=True):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol, err_msg=f"{name} disagrees with NumPy")


# ---------------------------------------------------------------------------------------
# MLP step: value_and_grad of softmax cross-entropy, then SGD


def mlp_params(sizes, dtype=np.float32):
    return [
        {
            "w": (RNG.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(dtype),
            "b": np.zeros(b, dtype),
        }
        for a, b in zip(sizes[:-1], sizes[1:], strict=False)
    ]


def mg_mlp_loss(params, x, y):
    h = x
    for i, layer in enumerate(params):
        h = h @ layer["w"] + layer["b"]
        if i < len(params) - 1:
            h = mnp.maximum(h, 0.0)
    return mnp.mean(mnp.logsumexp(h, axis=1) - mnp.sum(h * y, axis=1))


def mg_mlp_step(params, x, y):
    loss, grads = mg.value_and_grad(mg_mlp_loss)(params, x, y)
    return loss, [{k: p[k] - 0.01 * g[k] for k in p} for p, g in zip(params, grads, strict=True)]


def numpy_mlp_step(params, x, y):
    hs, zs = [x], []
    h = x
    for i, layer in enumerate(params):
        z = h @ layer["w"] + layer["b"]
        zs.append(z)
        h = np.maximum(z, 0.0) if i < len(params) - 1 else z
        hs.append(h)
    logits = zs[-1]
    top = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - top)
    s = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) + top[:, 0] - np.sum(logits * y, axis=1))
    g = (e / s - y) / np.float32(x.shape[0])
    new = [None] * len(params)
    for i in reversed(range(len(params))):
        w = params[i]["w"]
        gw = hs[i].T @ g
        gb = g.sum(axis=0)
        if i > 0:
            g = (g @ w.T) * (zs[i - 1] > 0)
        new[i] = {"w": w - np.float32(0.01) * gw, "b": params[i]["b"] - np.float32(0.01) * gb}
    return loss, new


def autograd_mlp_loss(params, x, y):
    h = x
    for i, layer in enumerate(params):
        h = anp.dot(h, layer["w"]) + layer["b"]
        if i < len(params) - 1:
            h = anp.maximum(h, 0.0)
    top = anp.max(h, axis=1, keepdims=True)
    logz = anp.log(anp.sum(anp.exp(h - top), axis=1)) + top[:, 0]
    return anp.mean(logz - anp.sum(h * y, axis=1))


def jax_mlp_loss(params, x, y):
    h = x
    for i, layer in enumerate(params):
        h = h @ layer["w"] + layer["b"]
        if i < len(params) - 1:
            h = jnp.maximum(h, 0.0)
    return jnp.mean(jax.nn.logsumexp(h, axis=1) - jnp.sum(h * y, axis=1))


def mlp_candidates(sizes, batch):
    params = mlp_params(sizes)
    x = RNG.standard_normal((batch, sizes[0])).astype(np.float32)
    y = np.eye(sizes[-1], dtype=np.float32)[RNG.integers(0, sizes[-1], batch)]
    reference = numpy_mlp_step(params, x, y)
    jit_step = mg.jit(mg_mlp_step)
    candidates = {
        "numpy (hand-written)": lambda: numpy_mlp_step(params, x, y),
        "minigrad eager": lambda: mg_mlp_step(params, x, y),
        "minigrad jit": lambda: jit_step(params, x, y),
    }
    if jax is not None:

        @jax.jit
        def jax_step(params, x, y):
            loss, grads = jax.value_and_grad(jax_mlp_loss)(params, x, y)
            return loss, jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads)

        jparams = jax.tree_util.tree_map(jnp.asarray, params)
        jx, jy = jnp.asarray(x), jnp.asarray(y)
        candidates["jax jit"] = lambda: jax.block_until_ready(jax_step(jparams, jx, jy))
    if torch is not None:
        tparams = [{k: torch.tensor(v, requires_grad=True) for k, v in layer.items()} for layer in params]
        tx, ty = torch.tensor(x), torch.tensor(y)

        def torch_step():
            h = tx
            for i, layer in enumerate(tparams):
                h = h @ layer["w"] + layer["b"]
                if i < len(tparams) - 1:
                    h = torch.relu(h)
            loss = (torch.logsumexp(h, dim=1) - (h * ty).sum(dim=1)).mean()
            leaves = [layer[k] for layer in tparams for k in ("b", "w")]
            grads = torch.autograd.grad(loss, leaves)
            with torch.no_grad():
                new = [p - 0.01 * g for p, g in zip(leaves, grads, strict=True)]
            return loss, [{"b": new[2 * i], "w": new[2 * i + 1]} for i in range(len(tparams))]

        candidates["pytorch eager"] = torch_step
    if autograd is not None:
        autograd_vg = autograd.value_and_grad(autograd_mlp_loss)

        def autograd_step():
            loss, grads = autograd_vg(params, x, y)
            return loss, [{k: p[k] - 0.01 * g[k] for k in p} for p, g in zip(params, grads, strict=True)]

        candidates["hips autograd"] = autograd_step
    for name, fn in candidates.items():
        check_close(reference, fn(), name, rtol=2e-3)
    return candidates


# ---------------------------------------------------------------------------------------
# many small ops: grad of a chain of 200 elementwise operations on length-16 vectors


def chain(xp_sin, xp_tanh, y, links=50):
    for _ in range(links):
        y = xp_sin(y)
        y = y * 1.1
        y = y + 0.3
        y = xp_tanh(y)
    return y.sum()


def numpy_chain_grad(x, links=50):
    inputs, outputs = [], []
    y = x
    for _ in range(links):
        inputs.append(y)
        y = np.tanh(np.sin(y) * 1.1 + 0.3)
        outputs.append(y)
    g = np.ones_like(x)
    for y_in, y_out in zip(reversed(inputs), reversed(outputs), strict=True):
        g = g * (1.0 - y_out * y_out) * 1.1 * np.cos(y_in)
    return g


def many_small_ops_candidates():
    x = RNG.standard_normal(16)
    reference = numpy_chain_grad(x)
    mg_grad = mg.grad(lambda v: chain(mnp.sin, mnp.tanh, v))
    jit_grad = mg.jit(mg_grad)
    candidates = {
        "numpy (hand-written)": lambda: numpy_chain_grad(x),
        "minigrad eager": lambda: mg_grad(x),
        "minigrad jit": lambda: jit_grad(x),
    }
    if jax is not None:
        jax_grad = jax.jit(jax.grad(lambda v: chain(jnp.sin, jnp.tanh, v)))
        jx = jnp.asarray(x)
        candidates["jax jit"] = lambda: jax_grad(jx).block_until_ready()
    if torch is not None:
        tx = torch.tensor(x, requires_grad=True)

        def torch_grad():
            return torch.autograd.grad(chain(torch.sin, torch.tanh, tx), tx)[0]

        candidates["pytorch eager"] = torch_grad
    if autograd is not None:
        autograd_grad = autograd.grad(lambda v: chain(anp.sin, anp.tanh, v))
        candidates["hips autograd"] = lambda: autograd_grad(x)
    for name, fn in candidates.items():
        check_close(reference, fn(), name, rtol=1e-9)
    return candidates


# ---------------------------------------------------------------------------------------
# hessian of the 20-dimensional Rosenbrock function (float64)


def rosen(xp_sum, x):
    return xp_sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def numpy_rosen_hessian(x):
    n = x.shape[0]
    hessian = np.zeros((n, n))
    diagonal = np.zeros(n)
    diagonal[:-1] += 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    diagonal[1:] += 200.0
    off = -400.0 * x[:-1]
    hessian[np.arange(n), np.arange(n)] = diagonal
    hessian[np.arange(n - 1), np.arange(1, n)] = off
    hessian[np.arange(1, n), np.arange(n - 1)] = off
    return hessian


def hessian_rosen_candidates():
    if not hasattr(mg, "hessian"):
        print("hessian_rosen: skipped, minigrad has no `hessian` yet (it is being built on another branch).")
        return None
    x = RNG.standard_normal(20)
    reference = numpy_rosen_hessian(x)
    mg_hessian = mg.hessian(lambda v: rosen(mnp.sum, v))
    jit_hessian = mg.jit(mg_hessian)
    candidates = {
        "numpy (hand-written)": lambda: numpy_rosen_hessian(x),
        "minigrad eager": lambda: mg_hessian(x),
        "minigrad jit": lambda: jit_hessian(x),
    }
    if jax is not None:
        jax_hessian = jax.jit(jax.hessian(lambda v: rosen(jnp.sum, v)))
        jx = jnp.asarray(x)
        candidates["jax jit"] = lambda: jax_hessian(jx).block_until_ready()
    if torch is not None:
        tx = torch.tensor(x)
        candidates["pytorch eager"] = lambda: torch.autograd.functional.hessian(
            lambda v: rosen(torch.sum, v), tx
        )
    if autograd is not None:
        autograd_hessian = autograd.hessian(lambda v: rosen(anp.sum, v))
        candidates["hips autograd"] = lambda: autograd_hessian(x)
    for name, fn in candidates.items():
        check_close(reference, fn(), name, rtol=1e-8)
    return candidates


# ---------------------------------------------------------------------------------------
# log-determinant and its gradient of a 300 x 300 matrix (float64): one LAPACK
# factorization and one solve, so the cost is NumPy's and the overhead shows


def numpy_logdet_value_and_grad(a):
    return np.linalg.slogdet(a)[1], np.linalg.inv(a).T


def logdet_grad_candidates():
    a = RNG.standard_normal((300, 300)) + 20.0 * np.eye(300)
    reference = numpy_logdet_value_and_grad(a)
    mg_logdet = mg.value_and_grad(lambda m: mnp.linalg.slogdet(m)[1])
    jit_logdet = mg.jit(mg_logdet)
    candidates = {
        "numpy (hand-written)": lambda: numpy_logdet_value_and_grad(a),
        "minigrad eager": lambda: mg_logdet(a),
        "minigrad jit": lambda: jit_logdet(a),
    }
    if jax is not None:
        jax_logdet = jax.jit(jax.value_and_grad(lambda m: jnp.linalg.slogdet(m)[1]))
        ja = jnp.asarray(a)
        candidates["jax jit"] = lambda: jax.block_until_ready(jax_logdet(ja))
    if torch is not None:
        ta = torch.tensor(a)

        def torch_logdet():
            m = ta.clone().requires_grad_(True)
            value = torch.linalg.slogdet(m)[1]
            value.backward()
            return value, m.grad

        candidates["pytorch eager"] = torch_logdet
    for name, fn in candidates.items():
        check_close(reference, fn(), name, rtol=1e-8)
    return candidates


# ---------------------------------------------------------------------------------------
# conv step: conv2d 1->8 3x3 on 28x28, batch 32, relu, dense to 10, cross-entropy


def im2col_indices(size=28, kernel=3):
    out = size - kernel + 1
    rows = np.arange(out)[:, None, None, None] + np.arange(kernel)[None, None, :, None]
    cols = np.arange(out)[None, :, None, None] + np.arange(kernel)[None, None, None, :]
    rows = np.broadcast_to(rows, (out, out, kernel, kernel)).reshape(out * out, kernel * kernel)
    cols = np.broadcast_to(cols, (out, out, kernel, kernel)).reshape(out * out, kernel * kernel)
    return rows, cols


ROWS, COLS = im2col_indices()


def conv_features(xp, x, w, b):
    """conv2d(1 -> 8 channels, 3x3) + relu via im2col: (batch, 26*26*8)."""
    if xp is mnp and mg_nn is not None and hasattr(mg_nn, "conv2d"):
        out = mg_nn.conv2d(x, w, b)  # (batch, 8, 26, 26)
        out = mnp.transpose(out, (0, 2, 3, 1))
        return mnp.maximum(out, 0.0).reshape(x.shape[0], -1)
    patches = x[:, 0][:, ROWS, COLS]  # (batch, 676, 9)
    out = patches @ w.reshape(8, 9).T + b  # (batch, 676, 8)
    return xp.maximum(out, 0.0).reshape(x.shape[0], -1)


def conv_loss(xp, logsumexp, params, x, y):
    h = conv_features(xp, x, params["conv_w"], params["conv_b"])
    logits = h @ params["dense_w"] + params["dense_b"]
    return xp.mean(logsumexp(logits, axis=1) - xp.sum(logits * y, axis=1))


def numpy_conv_step(params, x, y):
    patches = x[:, 0][:, ROWS, COLS]
    w = params["conv_w"].reshape(8, 9)
    z = patches @ w.T + params["conv_b"]
    h = np.maximum(z, 0.0)
    flat = h.reshape(x.shape[0], -1)
    logits = flat @ params["dense_w"] + params["dense_b"]
    top = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - top)
    s = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) + top[:, 0] - np.sum(logits * y, axis=1))
    g = (e / s - y) / np.float32(x.shape[0])
    grads = {"dense_w": flat.T @ g, "dense_b": g.sum(axis=0)}
    gz = (g @ params["dense_w"].T).reshape(z.shape) * (z > 0)
    grads["conv_b"] = gz.sum(axis=(0, 1))
    grads["conv_w"] = (gz.reshape(-1, 8).T @ patches.reshape(-1, 9)).reshape(params["conv_w"].shape)
    return loss, {k: params[k] - np.float32(0.01) * grads[k] for k in params}


def conv_step_candidates():
    params = {
        "conv_w": (RNG.standard_normal((8, 1, 3, 3)) / 3.0).astype(np.float32),
        "conv_b": np.zeros(8, np.float32),
        "dense_w": (RNG.standard_normal((26 * 26 * 8, 10)) / 73.0).astype(np.float32),
        "dense_b": np.zeros(10, np.float32),
    }
    x = RNG.standard_normal((32, 1, 28, 28)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[RNG.integers(0, 10, 32)]
    reference = numpy_conv_step(params, x, y)

    def mg_step(params, x, y):
        loss, grads = mg.value_and_grad(lambda p: conv_loss(mnp, mnp.logsumexp, p, x, y))(params)
        return loss, {k: params[k] - 0.01 * grads[k] for k in params}

    jit_step = mg.jit(mg_step)
    candidates = {
        "numpy (hand-written)": lambda: numpy_conv_step(params, x, y),
        "minigrad eager": lambda: mg_step(params, x, y),
        "minigrad jit": lambda: jit_step(params, x, y),
    }
    if jax is not None:

        def jax_loss(p, x, y):
            out = (
                jax.lax.conv_general_dilated(x, p["conv_w"], (1, 1), "VALID")
                + p["conv_b"][None, :, None, None]
            )
            h = jnp.maximum(out, 0.0).transpose(0, 2, 3, 1).reshape(x.shape[0], -1)
            logits = h @ p["dense_w"] + p["dense_b"]
            return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.sum(logits * y, axis=1))

        @jax.jit
        def jax_step(p, x, y):
            loss, grads = jax.value_and_grad(jax_loss)(p, x, y)
            return loss, {k: p[k] - 0.01 * grads[k] for k in p}

        jp = {k: jnp.asarray(v) for k, v in params.items()}
        jx, jy = jnp.asarray(x), jnp.asarray(y)
        candidates["jax jit"] = lambda: jax.block_until_ready(jax_step(jp, jx, jy))
    if torch is not None:
        tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
        tx, ty = torch.tensor(x), torch.tensor(y)

        def torch_step():
            out = torch_functional.conv2d(tx, tp["conv_w"], tp["conv_b"])
            h = torch.relu(out).permute(0, 2, 3, 1).reshape(tx.shape[0], -1)
            logits = h @ tp["dense_w"] + tp["dense_b"]
            loss = (torch.logsumexp(logits, dim=1) - (logits * ty).sum(dim=1)).mean()
            keys = sorted(tp)
            grads = torch.autograd.grad(loss, [tp[k] for k in keys])
            with torch.no_grad():
                return loss, {k: tp[k] - 0.01 * g for k, g in zip(keys, grads, strict=True)}

        candidates["pytorch eager"] = torch_step
    if autograd is not None:

        def autograd_logsumexp(v, axis):
            top = anp.max(v, axis=axis, keepdims=True)
            return anp.log(anp.sum(anp.exp(v - top), axis=axis)) + anp.squeeze(top, axis)

        autograd_vg = autograd.value_and_grad(lambda p: conv_loss(anp, autograd_logsumexp, p, x, y))

        def autograd_step():
            loss, grads = autograd_vg(params)
            return loss, {k: params[k] - 0.01 * grads[k] for k in params}

        candidates["hips autograd"] = autograd_step
    for name, fn in candidates.items():
        check_close(reference, fn(), name, rtol=2e-3)
    return candidates


# ---------------------------------------------------------------------------------------
# an RNN (tanh cell, hidden 128, input 64, batch 32, 100 steps): value and gradient
# through lax.scan, against hand-written backpropagation through time


def rnn_params(inputs=64, hidden=128, dtype=np.float32):
    scale = 1.0 / np.sqrt(hidden)
    return (
        (RNG.standard_normal((inputs, hidden)) * scale).astype(dtype),
        (RNG.standard_normal((hidden, hidden)) * scale).astype(dtype),
        np.zeros(hidden, dtype),
    )


def mg_rnn_loss(params, xs):
    wx, wh, b = params

    def cell(h, x):
        return mnp.tanh(x @ wx + h @ wh + b), None

    h, _ = mg.lax.scan(cell, mnp.zeros((xs.shape[1], wh.shape[0]), xs.dtype), xs)
    return 0.5 * mnp.sum(h * h)


def jax_rnn_loss(params, xs):
    wx, wh, b = params

    def cell(h, x):
        return jnp.tanh(x @ wx + h @ wh + b), None

    h, _ = jax.lax.scan(cell, jnp.zeros((xs.shape[1], wh.shape[0]), xs.dtype), xs)
    return 0.5 * jnp.sum(h * h)


def numpy_rnn_value_and_grad(params, xs):
    wx, wh, b = params
    hs = [np.zeros((xs.shape[1], wh.shape[0]), xs.dtype)]
    for x in xs:
        hs.append(np.tanh(x @ wx + hs[-1] @ wh + b))
    loss = 0.5 * np.sum(hs[-1] * hs[-1])
    d_wx, d_wh, d_b = np.zeros_like(wx), np.zeros_like(wh), np.zeros_like(b)
    d_h = hs[-1]
    for t in range(len(xs) - 1, -1, -1):
        d_z = d_h * (1.0 - hs[t + 1] * hs[t + 1])
        d_wx += xs[t].T @ d_z
        d_wh += hs[t].T @ d_z
        d_b += d_z.sum(axis=0)
        d_h = d_z @ wh.T
    return loss, (d_wx, d_wh, d_b)


def rnn_scan_candidates(steps=100, batch=32):
    params = rnn_params()
    xs = RNG.standard_normal((steps, batch, 64)).astype(np.float32)
    reference = numpy_rnn_value_and_grad(params, xs)
    eager = mg.value_and_grad(mg_rnn_loss)
    jitted = mg.jit(eager)
    candidates = {
        "numpy (hand-written)": lambda: numpy_rnn_value_and_grad(params, xs),
        "minigrad eager": lambda: eager(params, xs),
        "minigrad jit": lambda: jitted(params, xs),
    }
    if jax is not None:
        jax_value_and_grad = jax.jit(jax.value_and_grad(jax_rnn_loss))
        jparams, jxs = tuple(jnp.asarray(p) for p in params), jnp.asarray(xs)
        candidates["jax jit"] = lambda: jax.block_until_ready(jax_value_and_grad(jparams, jxs))
    for name, fn in candidates.items():
        check_close(reference, fn(), name, rtol=2e-3)
    return candidates


# ---------------------------------------------------------------------------------------


WORKLOADS = {
    "mlp_step": lambda: mlp_candidates([784, 256, 256, 10], 128),
    "mlp_small": lambda: mlp_candidates([64, 128, 10], 32),
    "many_small_ops": many_small_ops_candidates,
    "hessian_rosen": hessian_rosen_candidates,
    "conv_step": conv_step_candidates,
    "logdet_grad": logdet_grad_candidates,
    "rnn_scan": rnn_scan_candidates,
    # Their modules import this one (for RNG and check_close), so they are imported when run.
    "mnist_vmap": lambda: importlib.import_module("mnist_vmap").mnist_vmap_candidates(),
    "transformer_step": lambda: importlib.import_module("model_steps").transformer_candidates(),
    "gru_step": lambda: importlib.import_module("model_steps").gru_candidates(),
    "selu_1e6": lambda: importlib.import_module("selu").selu_candidates(),
}
