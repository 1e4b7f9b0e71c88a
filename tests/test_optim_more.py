"""The optax-style building blocks and the optimizers built from them, each checked step
by step against its published update equations written here in NumPy (float64)."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import io, nn, optim
from minigrad.tree import tree_leaves, tree_map, tree_structure

RNG = np.random.default_rng(3)
STEPS = 6


def run(opt, params, grads_per_step, jit=False):
    """The updates ``opt`` makes for each step's gradients (parameters moved each step)."""
    state = opt.init(params)
    update = mg.jit(opt.update) if jit else opt.update
    out = []
    for grads in grads_per_step:
        updates, state = update(grads, state, params)
        params = optim.apply_updates(params, updates)
        out.append(updates)
    return out, params


def problem(shape=(3, 4)):
    params = RNG.standard_normal(shape)
    return params, [RNG.standard_normal(shape) for _ in range(STEPS)]


def reference_adam(params, grads_per_step, lr, b1, b2, eps, weight_decay=0.0):
    m = v = np.zeros_like(params)
    out = []
    for t, g in enumerate(grads_per_step, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        u = -lr * ((m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps) + weight_decay * params)
        params = params + u
        out.append(u)
    return out


@pytest.mark.parametrize("jit", [False, True])
def test_adam_and_adamw_against_their_equations(jit):
    params, grads = problem()
    got, _ = run(optim.adam(0.01, b1=0.8, b2=0.95, eps=1e-6), params, grads, jit)
    np.testing.assert_allclose(got, reference_adam(params, grads, 0.01, 0.8, 0.95, 1e-6), rtol=1e-10)
    got, _ = run(optim.adamw(0.01, weight_decay=0.1), params, grads, jit)
    np.testing.assert_allclose(got, reference_adam(params, grads, 0.01, 0.9, 0.999, 1e-8, 0.1), rtol=1e-10)


def test_adam_is_its_building_blocks_chained():
    params, grads = problem()
    chained = optim.chain(
        optim.scale_by_adam(), optim.add_decayed_weights(0.1), optim.scale_by_learning_rate(0.01)
    )
    np.testing.assert_allclose(run(chained, params, grads)[0], run(optim.adamw(0.01, 0.1), params, grads)[0])
    state = optim.adam(0.1).init(params)
    assert type(state[0]) is optim.AdamState and type(state[1]) is optim.EmptyState


def test_sgd_with_momentum_and_a_schedule_against_its_equations():
    params, grads = problem()
    schedule = optim.linear_schedule(0.1, 0.01, 4)
    for nesterov in (False, True):
        got, _ = run(optim.sgd(schedule, momentum=0.9, nesterov=nesterov), params, grads)
        v = np.zeros_like(params)
        for t, (g, u) in enumerate(zip(grads, got, strict=True)):
            v = 0.9 * v + g
            direction = g + 0.9 * v if nesterov else v
            np.testing.assert_allclose(u, -float(schedule(t)) * direction, rtol=1e-12)


def test_rmsprop_and_adagrad_against_their_equations():
    params, grads = problem()
    got, _ = run(optim.rmsprop(0.01, decay=0.8, eps=1e-6), params, grads)
    v = np.zeros_like(params)
    for g, u in zip(grads, got, strict=True):
        v = 0.8 * v + 0.2 * g**2
        np.testing.assert_allclose(u, -0.01 * g / (np.sqrt(v) + 1e-6), rtol=1e-12)
    got, _ = run(optim.adagrad(0.5, initial_accumulator_value=0.1, eps=1e-7), params, grads)
    s = np.full_like(params, 0.1)
    for g, u in zip(grads, got, strict=True):
        s = s + g**2
        np.testing.assert_allclose(u, -0.5 * g / (np.sqrt(s) + 1e-7), rtol=1e-12)


def test_lion_against_its_equations():
    params, grads = problem()
    got, _ = run(optim.lion(1e-3, b1=0.9, b2=0.99, weight_decay=0.5), params, grads)
    m, p = np.zeros_like(params), params
    for g, u in zip(grads, got, strict=True):
        expected = -1e-3 * (np.sign(0.9 * m + 0.1 * g) + 0.5 * p)
        m = 0.99 * m + 0.01 * g
        np.testing.assert_allclose(u, expected, rtol=1e-12)
        p = p + expected


def test_lamb_against_its_equations():
    params = {"w": RNG.standard_normal((3, 4)), "b": np.zeros(4)}  # b: a zero norm, trust ratio 1
    grads = [tree_map(lambda p: RNG.standard_normal(p.shape), params) for _ in range(STEPS)]
    got, _ = run(optim.lamb(0.01, weight_decay=0.1), params, grads)
    moments = {name: (np.zeros_like(p), np.zeros_like(p)) for name, p in params.items()}
    p = dict(params)
    for t, (g, u) in enumerate(zip(grads, got, strict=True), start=1):
        for name in p:
            m, v = moments[name]
            m = 0.9 * m + 0.1 * g[name]
            v = 0.999 * v + 0.001 * g[name] ** 2
            moments[name] = (m, v)
            direction = (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-6) + 0.1 * p[name]
            p_norm, d_norm = np.linalg.norm(p[name]), np.linalg.norm(direction)
            ratio = p_norm / d_norm if p_norm > 0 and d_norm > 0 else 1.0
            np.testing.assert_allclose(u[name], -0.01 * ratio * direction, rtol=1e-10)
            p[name] = p[name] + u[name]


def test_adafactor_against_its_equations():
    params = {"matrix": RNG.standard_normal((3, 5)), "vector": RNG.standard_normal(4)}
    grads = [tree_map(lambda p: RNG.standard_normal(p.shape), params) for _ in range(STEPS)]
    got, _ = run(optim.adafactor(0.01, decay_rate=0.8, eps=1e-30, clipping_threshold=1.0), params, grads)
    r, c, v = np.zeros(3), np.zeros(5), np.zeros(4)
    for t, (g, u) in enumerate(zip(grads, got, strict=True), start=1):
        beta = 1 - t**-0.8
        squared = g["matrix"] ** 2 + 1e-30
        r = beta * r + (1 - beta) * squared.mean(axis=1)
        c = beta * c + (1 - beta) * squared.mean(axis=0)
        direction = g["matrix"] / np.sqrt(np.outer(r, c) / r.mean())
        direction = direction / max(1.0, np.sqrt((direction**2).mean()))
        np.testing.assert_allclose(u["matrix"], -0.01 * direction, rtol=1e-10)
        v = beta * v + (1 - beta) * (g["vector"] ** 2 + 1e-30)
        direction = g["vector"] / np.sqrt(v)
        direction = direction / max(1.0, np.sqrt((direction**2).mean()))
        np.testing.assert_allclose(u["vector"], -0.01 * direction, rtol=1e-10)
    # The state of a matrix is its row and column means: m + n numbers, not m * n.
    state = optim.adafactor(0.01).init(params)[0]
    assert (
        state.rows["matrix"].shape == (3,)
        and state.cols["matrix"].shape == (5,)
        and state.v["matrix"].shape == ()
    )


def test_multi_steps_equals_one_big_batch():
    model = nn.MLP([3, 8, 2])
    params = model.init(mg.random.key(0))
    x, y = RNG.standard_normal((32, 3)).astype(np.float32), RNG.integers(0, 2, 32)

    def loss(params, x, y):
        return nn.cross_entropy(model.apply(params, x), y)

    big = optim.adam(0.05)
    big_params, big_state = params, big.init(params)
    accumulating = optim.multi_steps(optim.adam(0.05), every_k_schedule=4)
    small_params, small_state = params, accumulating.init(params)
    update = mg.jit(accumulating.update)
    for _ in range(3):
        updates, big_state = big.update(mg.grad(loss)(big_params, x, y), big_state, big_params)
        big_params = optim.apply_updates(big_params, updates)
        for k in range(4):
            grads = mg.grad(loss)(small_params, x[8 * k : 8 * k + 8], y[8 * k : 8 * k + 8])
            updates, small_state = update(grads, small_state, small_params)
            if k < 3:
                assert all(not np.any(u) for u in tree_leaves(updates))
            small_params = optim.apply_updates(small_params, updates)
    for a, b in zip(tree_leaves(big_params), tree_leaves(small_params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_masked_applies_the_inner_transformation_to_chosen_leaves_only():
    params = {"w": RNG.standard_normal((2, 2)), "b": RNG.standard_normal(2)}
    grads = tree_map(np.ones_like, params)
    opt = optim.chain(
        optim.masked(optim.add_decayed_weights(0.5), lambda p: tree_map(lambda x: x.ndim > 1, p))
    )
    updates, _ = opt.update(grads, opt.init(params), params)
    np.testing.assert_allclose(updates["w"], 1.0 + 0.5 * params["w"])
    np.testing.assert_array_equal(updates["b"], 1.0)
    adam_on_w = optim.masked(optim.adam(0.1), {"w": True, "b": False})
    state = adam_on_w.init(params)
    assert tree_structure(state.inner_state[0].mu) == tree_structure([params["w"]])
    with pytest.raises(ValueError, match="optim.masked: the mask has structure"):
        optim.masked(optim.sgd(0.1), {"w": True}).init(params)


def test_apply_if_finite_skips_bad_steps_and_keeps_the_inner_state():
    opt = optim.apply_if_finite(optim.adam(0.1), max_consecutive_errors=2)
    params = np.zeros(2)
    state = opt.init(params)
    updates, state = opt.update(np.array([1.0, 2.0]), state, params)
    good_inner = state.inner_state
    for expected_count in (1, 2):
        updates, state = opt.update(np.array([np.inf, 1.0]), state, params)
        np.testing.assert_array_equal(updates, 0.0)
        assert int(state.notfinite_count) == expected_count
        np.testing.assert_array_equal(state.inner_state[0].mu, good_inner[0].mu)
    with np.errstate(invalid="ignore"):
        updates, state = opt.update(np.array([np.nan, 1.0]), state, params)  # the third in a row goes through
    assert np.isnan(updates[0]) and int(state.total_notfinite) == 3
    _, state = opt.update(np.array([1.0, 1.0]), state, params)
    assert int(state.notfinite_count) == 0
    jitted = mg.jit(opt.update)(np.array([np.nan, 0.0]), opt.init(params), params)
    np.testing.assert_array_equal(jitted[0], 0.0)


def test_ema_of_parameters_with_and_without_debiasing():
    values = [RNG.standard_normal(3) for _ in range(5)]
    for debias in (True, False):
        avg = optim.ema(0.9, debias=debias)
        state, a = avg.init(values[0]), np.zeros(3)
        for t, x in enumerate(values, start=1):
            out, state = avg.update(x, state)
            a = 0.9 * a + 0.1 * x
            np.testing.assert_allclose(out, a / (1 - 0.9**t) if debias else a, rtol=1e-12)
    constant = optim.ema(0.99)
    out, _ = constant.update(np.full(2, 5.0), constant.init(np.zeros(2)))
    np.testing.assert_allclose(out, 5.0)  # debiased: a constant averages to itself from step 1


def test_schedules_against_their_formulas():
    linear = optim.linear_schedule(2.0, 0.5, 10, transition_begin=3)
    for step in range(20):
        frac = min(max(step - 3, 0), 10) / 10
        np.testing.assert_allclose(linear(step), 2.0 + (0.5 - 2.0) * frac)
    schedule = optim.warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=5, decay_steps=25, end_value=0.1)
    for step in range(30):
        if step < 5:
            expected = step / 5
        else:
            t = min(step - 5, 20) / 20
            expected = 0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * t))
        np.testing.assert_allclose(schedule(step), expected, atol=1e-12)
    joined = optim.join_schedules(
        [optim.constant_schedule(1.0), optim.constant_schedule(2.0), lambda s: s], [3, 6]
    )
    assert [float(joined(s)) for s in (0, 2, 3, 5, 6, 9)] == [1.0, 1.0, 2.0, 2.0, 0.0, 3.0]
    np.testing.assert_allclose(mg.jit(schedule)(np.int32(15)), schedule(15))
    with pytest.raises(ValueError, match="2 schedules need 1 boundaries"):
        optim.join_schedules([linear, linear], [])


def test_every_optimizer_minimises_a_quadratic_under_jit():
    target = np.array([1.0, -2.0, 3.0, 0.5])

    def loss(params):
        return mnp.sum((params["x"] @ np.eye(4) - target) ** 2) + mnp.sum(params["m"] ** 2)

    optimizers = {
        "sgd": optim.sgd(0.05, momentum=0.9),
        "rmsprop": optim.rmsprop(0.02),
        "adagrad": optim.adagrad(0.5),
        "lion": optim.lion(optim.cosine_decay(0.05, 400)),  # steps of fixed size need a decaying rate
        "lamb": optim.lamb(0.05),
        "adafactor": optim.adafactor(0.05),
        "adamw": optim.adamw(0.05, 1e-4),
    }
    for name, opt in optimizers.items():
        params = {"x": np.zeros(4), "m": np.ones((2, 3))}
        state = opt.init(params)

        @mg.jit
        def step(params, state, opt=opt):
            updates, state = opt.update(mg.grad(loss)(params), state, params)
            return optim.apply_updates(params, updates), state

        for _ in range(400):
            params, state = step(params, state)
        assert float(loss(params)) < 0.05, name


def test_new_optimizer_states_round_trip_through_io(tmp_path):
    params = {"w": np.ones((2, 3)), "b": np.zeros(3)}
    opt = optim.chain(
        optim.apply_if_finite(optim.multi_steps(optim.adafactor(0.01), 2)),
        optim.masked(optim.lion(0.01), {"w": True, "b": False}),
        optim.ema(0.9),
    )
    state = opt.init(params)
    for _ in range(3):
        _, state = opt.update(tree_map(np.ones_like, params), state, params)
    io.save(tmp_path / "state.npz", state)
    loaded = io.load(tmp_path / "state.npz")
    assert tree_structure(loaded) == tree_structure(state)
    assert type(loaded[0].inner_state.inner_state[0]) is optim.FactoredState
    for a, b in zip(tree_leaves(loaded), tree_leaves(state), strict=True):
        np.testing.assert_array_equal(a, b)
