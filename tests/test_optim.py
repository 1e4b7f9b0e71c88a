"""Tests for minigrad.optim: each optimizer against its published update equations.

The references below are written step by step from the papers / framework docs, on
plain NumPy float64 arrays, independently of minigrad.
"""

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import optim
from minigrad.tree import tree_leaves, tree_map

RNG = np.random.default_rng(0)
GRADS = [RNG.standard_normal(3) for _ in range(5)]
PARAMS0 = RNG.standard_normal(3)


def run(optimizer, grads=GRADS, params=PARAMS0, pass_params=False):
    """Apply ``optimizer`` to a sequence of gradients; return the parameters after each step."""
    state = optimizer.init(params)
    history = []
    for g in grads:
        updates, state = optimizer.update(g, state, params if pass_params else None)
        params = optim.apply_updates(params, updates)
        history.append(params)
    return history


def reference_sgd(lr, momentum=0.0, nesterov=False):
    # PyTorch's SGD (also optax's trace): b <- mu * b + g; step along b, or g + mu * b.
    p, b, out = PARAMS0.copy(), np.zeros(3), []
    for t, g in enumerate(GRADS):
        rate = lr(t) if callable(lr) else lr
        b = momentum * b + g
        direction = (g + momentum * b) if nesterov else (b if momentum else g)
        p = p - rate * direction
        out.append(p)
    return out


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_matches_equations(momentum, nesterov):
    got = run(optim.sgd(0.1, momentum=momentum, nesterov=nesterov))
    for g, e in zip(got, reference_sgd(0.1, momentum, nesterov)):
        np.testing.assert_allclose(g, e, rtol=1e-12)


def reference_adam(lr, b1, b2, eps, weight_decay=0.0):
    # Kingma & Ba (2015), Algorithm 1; AdamW adds lr * wd * p (Loshchilov & Hutter, 2019).
    p, m, v, out = PARAMS0.copy(), np.zeros(3), np.zeros(3), []
    for t, g in enumerate(GRADS, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        p = p - lr * (m_hat / (np.sqrt(v_hat) + eps) + weight_decay * p)
        out.append(p)
    return out


def test_adam_matches_equations():
    got = run(optim.adam(0.01, b1=0.8, b2=0.99, eps=1e-6))
    for g, e in zip(got, reference_adam(0.01, 0.8, 0.99, 1e-6)):
        np.testing.assert_allclose(g, e, rtol=1e-12)


def test_adam_first_step_has_size_lr():
    # With bias correction, the first update is lr * g / (|g| + eps) = lr * sign(g).
    updates, _ = optim.adam(0.5).update(np.array([3.0, -0.2]), optim.adam(0.5).init(np.zeros(2)))
    np.testing.assert_allclose(updates, [-0.5, 0.5], rtol=1e-6)


def test_adamw_matches_equations_and_needs_params():
    got = run(optim.adamw(0.01, weight_decay=0.1), pass_params=True)
    for g, e in zip(got, reference_adam(0.01, 0.9, 0.999, 1e-8, weight_decay=0.1)):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    opt = optim.adamw(0.01, weight_decay=0.1)
    with pytest.raises(ValueError, match="params"):
        opt.update(GRADS[0], opt.init(PARAMS0))


def test_clip_by_global_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": [np.array([4.0])]}
    clip = optim.clip_by_global_norm(1.0)
    clipped, _ = clip.update(grads, clip.init(grads))
    norm = math.sqrt(sum(float(np.sum(leaf**2)) for leaf in tree_leaves(clipped)))
    np.testing.assert_allclose(norm, 1.0)
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    unchanged, _ = optim.clip_by_global_norm(10.0).update(grads, ())
    np.testing.assert_array_equal(unchanged["b"][0], [4.0])
    zeros, _ = clip.update({"a": np.zeros(2)}, ())
    np.testing.assert_array_equal(zeros["a"], [0.0, 0.0])


def test_chain_clips_then_steps():
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.sgd(0.5, momentum=0.5))
    state = opt.init(np.zeros(2))
    assert isinstance(state, tuple) and len(state) == 2
    updates, state = opt.update(np.array([30.0, 40.0]), state)
    np.testing.assert_allclose(updates, [-0.3, -0.4])
    updates, state = opt.update(np.array([30.0, 40.0]), state)
    np.testing.assert_allclose(updates, -0.5 * (0.5 * np.array([0.6, 0.8]) + np.array([0.6, 0.8])))
    with pytest.raises(TypeError, match="GradientTransformation"):
        optim.chain(optim.sgd(0.1), lambda g: g)


def test_schedules_match_formulas():
    steps = [0, 1, 7, 50, 100, 130]
    constant = optim.constant_schedule(0.3)
    decay = optim.exponential_decay(0.5, 0.1, 20)
    cosine = optim.cosine_decay(2.0, 100, alpha=0.1)
    warm = optim.warmup(1.0, 10, then=optim.exponential_decay(1.0, 0.5, 10))
    for t in steps:
        assert float(constant(t)) == 0.3
        np.testing.assert_allclose(decay(np.int32(t)), 0.5 * 0.1 ** (t / 20))
        c = min(t, 100) / 100
        np.testing.assert_allclose(cosine(np.int32(t)), 2.0 * (0.9 * 0.5 * (1 + math.cos(math.pi * c)) + 0.1))
        expected = t / 10 if t < 10 else 0.5 ** ((t - 10) / 10)
        np.testing.assert_allclose(warm(np.int32(t)), expected)


def test_schedule_drives_the_learning_rate_by_step():
    schedule = optim.exponential_decay(0.1, 0.5, 1)
    got = run(optim.sgd(schedule, momentum=0.9))
    for g, e in zip(got, reference_sgd(lambda t: 0.1 * 0.5**t, 0.9)):
        np.testing.assert_allclose(g, e, rtol=1e-12)


def test_pytrees_and_dtypes_are_preserved():
    params = {"w": np.ones((2, 2), np.float32), "layers": [np.zeros(3, np.float32)]}
    grads = tree_map(lambda p: np.full_like(p, 0.5), params)
    for opt in (optim.sgd(optim.cosine_decay(0.1, 10)), optim.adam(0.1), optim.adamw(0.1, 0.01)):
        state = opt.init(params)
        updates, state = opt.update(grads, state, params)
        new = optim.apply_updates(params, updates)
        assert [leaf.dtype for leaf in tree_leaves(new)] == [np.float32, np.float32]
        assert isinstance(new, dict) and isinstance(new["layers"], list)
    # adamw is chain(scale_by_adam, add_decayed_weights, scale_by_learning_rate)
    assert int(state[0].count) == 1


def test_adam_minimises_a_quadratic_with_grad():
    target = np.array([1.0, -2.0, 3.0])

    def loss(params):
        return mnp.sum((params["x"] - target) ** 2)

    params = {"x": np.zeros(3)}
    opt = optim.adam(0.1)
    state = opt.init(params)
    for _ in range(300):
        updates, state = opt.update(mg.grad(loss)(params), state)
        params = optim.apply_updates(params, updates)
    np.testing.assert_allclose(params["x"], target, atol=1e-2)


def test_bad_hyper_parameters():
    with pytest.raises(ValueError, match="momentum"):
        optim.sgd(0.1, momentum=1.5)
    with pytest.raises(ValueError, match="nesterov"):
        optim.sgd(0.1, nesterov=True)
    with pytest.raises(TypeError, match="learning rate"):
        optim.adam("fast")
    with pytest.raises(ValueError, match="max_norm"):
        optim.clip_by_global_norm(0.0)


@pytest.mark.parametrize(
    "opt",
    [optim.sgd(0.1), optim.sgd(0.1, 0.9), optim.sgd(0.1, 0.9, nesterov=True), optim.adam(0.1),
     optim.adamw(0.1), optim.clip_by_global_norm(0.1), optim.chain(optim.clip_by_global_norm(1.0), optim.adam(0.1))],
)  # fmt: skip
def test_zero_dimensional_parameters_get_array_updates_and_state(opt):
    params = {"b": np.array(0.5)}
    updates, state = opt.update({"b": np.array(0.2)}, opt.init(params), params)
    assert type(updates["b"]) is np.ndarray and updates["b"].shape == ()
    for leaf in tree_leaves(state):
        assert type(leaf) is np.ndarray
    new = optim.apply_updates(params, updates)
    assert type(new["b"]) is np.ndarray
