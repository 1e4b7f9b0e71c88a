"""Tests for minigrad.transforms.jit: equality with eager, the cache, composition."""

import logging
import sys
import threading
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.interpreter import eval_jaxpr
from minigrad.core.trace import bind
from minigrad.core.typecheck import typecheck
from minigrad.transforms.jit import jit_p
from minigrad.transforms.jit.compiler import compile_jaxpr

# ---------------------------------------------------------------------------------------
# jit equals eager on many programs


def _mlp_loss(params, x, y):
    h = x
    for i, layer in enumerate(params):
        h = h @ layer["w"] + layer["b"]
        if i < len(params) - 1:
            h = mnp.maximum(h, 0.0)
    return mnp.mean(mnp.logsumexp(h, axis=1) - mnp.sum(h * y, axis=1))


PROGRAMS = {
    "elementwise": lambda x: mnp.sin(x) * mnp.exp(-x) + x**2 / (1.0 + x * x),
    "tanh_chain": lambda x: mnp.tanh(mnp.tanh(mnp.tanh(x) * 2.0) + x),
    "reductions": lambda x: mnp.sum(x, axis=0) + mnp.max(x, axis=0) - mnp.mean(x) * mnp.min(x),
    "shapes": lambda x: mnp.transpose(mnp.reshape(x, (-1,))[::-1].reshape(x.shape)) @ x,
    "indexing": lambda x: x[1:, ::2] * x[np.array([0, 0, 2])][:, :2].sum(),
    "where": lambda x: mnp.where(x > 0.1, mnp.log(mnp.abs(x) + 1.0), x * 3.0),
    "logsumexp": lambda x: mnp.logsumexp(x, axis=1) - mnp.max(x),
    "concat": lambda x: mnp.concatenate([x, 2.0 * x, x[:1]], axis=0).std(axis=0),
    "pad": lambda x: mnp.pad(x, ((1, 0), (0, 2))) * 2.0,
    "einsum": lambda x: mnp.einsum("ij,kj->ik", x, x + 1.0),
    "outputs_alias": lambda x: (x, x.reshape(-1), 2.0 * x, 1.0),
    "constant_output": lambda x: mnp.ones((2, 2)) * 3.0,
    "grad_inside": mg.grad(lambda x: mnp.sum(mnp.sin(x) * x)),
    "value_and_grad_inside": mg.value_and_grad(lambda x: mnp.sum(mnp.tanh(x @ x.T))),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_jit_equals_eager(name):
    fun = PROGRAMS[name]
    x = np.random.default_rng(0).standard_normal((3, 3))
    expected = mg.tree.tree_leaves(fun(x))
    got = mg.tree.tree_leaves(mg.jit(fun)(x))
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert isinstance(g, np.ndarray)
        assert g.shape == np.shape(e) and g.dtype == np.asarray(e).dtype
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


@given(
    st.lists(st.sampled_from(["sin", "exp", "mul", "add", "tanh", "square", "neg"]), min_size=1, max_size=12),
    st.integers(1, 4),
)
def test_jit_equals_eager_on_random_chains(ops, n):
    def chain(x):
        y = x
        for op in ops:
            if op == "mul":
                y = y * x
            elif op == "add":
                y = y + 1.0
            elif op == "square":
                y = y**2
            elif op == "neg":
                y = -y
            else:
                y = getattr(mnp, op)(y * 0.1)
        return y

    x = np.linspace(-1.0, 1.0, n)
    np.testing.assert_allclose(mg.jit(chain)(x), chain(x), rtol=1e-12)
    np.testing.assert_allclose(
        mg.jit(mg.grad(lambda v: chain(v).sum()))(x), mg.grad(lambda v: chain(v).sum())(x)
    )


def test_training_step_matches_eager_float32():
    rng = np.random.default_rng(1)
    params = [
        {"w": rng.standard_normal((5, 4)).astype(np.float32), "b": np.zeros(4, np.float32)},
        {"w": rng.standard_normal((4, 3)).astype(np.float32), "b": np.zeros(3, np.float32)},
    ]
    x = rng.standard_normal((6, 5)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2]]

    def step(params, x, y, lr):
        loss, grads = mg.value_and_grad(_mlp_loss)(params, x, y)
        return loss, mg.tree.tree_map(lambda p, g: p - lr * g, params, grads)

    eager_loss, eager_params = step(params, x, y, 0.1)
    jit_loss, jit_params = mg.jit(step)(params, x, y, 0.1)
    np.testing.assert_allclose(jit_loss, eager_loss, rtol=1e-6)
    for e, j in zip(mg.tree.tree_leaves(eager_params), mg.tree.tree_leaves(jit_params), strict=True):
        assert j.dtype == np.float32  # the Python float lr is weak, as it is eagerly
        np.testing.assert_allclose(j, e, rtol=1e-5, atol=1e-6)


def test_python_scalars_promote_weakly():
    f = mg.jit(lambda x, s: x * s)
    out = f(np.ones(2, np.float32), 3.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [3.0, 3.0])
    assert f(np.ones(2, np.float32), 2).dtype == np.float32
    assert f(np.ones(2, np.float32), np.float64(2.0)).dtype == np.float64


# ---------------------------------------------------------------------------------------
# the cache


def test_cache_hits_and_misses():
    calls = []

    def f(x):
        calls.append(1)
        return x + 1.0

    jf = mg.jit(f)
    jf(np.ones(3))
    jf(np.zeros(3))
    assert (len(calls), jf.cache_size()) == (1, 1)
    jf(np.ones(4))
    jf(np.ones(3, np.float32))
    assert (len(calls), jf.cache_size()) == (3, 3)
    jf(np.ones(4))
    assert len(calls) == 3
    jf({"a": np.ones(3)}["a"])
    assert len(calls) == 3
    jf.clear_cache()
    assert jf.cache_size() == 0
    jf(np.ones(3))
    assert len(calls) == 4


def test_structure_and_python_scalar_types_key_the_cache():
    jf = mg.jit(lambda tree: mg.tree.tree_leaves(tree)[0] * 2.0)
    jf((np.ones(2),))
    jf([np.ones(2)])
    jf({"a": np.ones(2)})
    assert jf.cache_size() == 3
    g = mg.jit(lambda x: x * 2)
    assert g(2) == 4 and g(2.0) == 4.0 and g(np.float64(2.0)) == 4.0
    assert g.cache_size() == 3


def test_retrace_reasons_name_the_argument():
    jf = mg.jit(lambda params, x: params["w"] * x)
    jf({"w": np.ones(3)}, np.ones(3))
    jf({"w": np.ones(3)}, np.ones(3, np.float32))
    jf({"w": np.ones(1)}, np.ones(3, np.float32))
    log = jf.trace_log()
    assert len(log) == 3
    assert "first call" in log[0]
    assert "args[1] changed from f64[3] to f32[3]" in log[1]
    assert "args[0]['w'] changed from f64[3] to f64[1]" in log[2]


def test_retrace_logging(caplog):
    jf = mg.jit(lambda x: x + 1.0, log_retraces=True)
    with caplog.at_level(logging.WARNING, logger="minigrad.jit"):
        jf(np.ones(2))
        jf(np.ones(5))
    assert len(caplog.records) == 2
    assert "changed from f64[2] to f64[5]" in caplog.records[1].getMessage()


def test_cache_is_bounded_lru():
    jf = mg.jit(lambda x: x * 2.0, cache_limit=2)
    for n in (1, 2, 1, 3):  # 2 is the least recently used when 3 arrives
        jf(np.ones(n))
    assert jf.cache_size() == 2
    before = len(jf.trace_log())
    jf(np.ones(1))
    assert len(jf.trace_log()) == before
    jf(np.ones(2))
    assert len(jf.trace_log()) == before + 1


def test_concurrent_first_calls_trace_once():
    calls = []
    barrier = threading.Barrier(6)

    def slow(x):
        calls.append(1)
        return mnp.sin(x) * 2.0

    jf = mg.jit(slow)
    results = []

    def worker():
        barrier.wait()
        results.append(jf(np.ones(4)))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and jf.cache_size() == 1
    for r in results:
        np.testing.assert_allclose(r, 2.0 * np.sin(np.ones(4)))


def test_a_failing_trace_is_not_cached():
    jf = mg.jit(lambda x: x if x.shape[0] == 2 else x.reshape(5))
    with pytest.raises(ValueError, match="reshape"):
        jf(np.ones(3))
    assert jf.cache_size() == 0
    np.testing.assert_array_equal(jf(np.ones(2)), np.ones(2))


# ---------------------------------------------------------------------------------------
# static arguments


def test_static_argnums():
    calls = []

    def f(x, n, mode):
        calls.append(1)
        for _ in range(n):
            x = mnp.sin(x) if mode == "sin" else mnp.cos(x)
        return x

    jf = mg.jit(f, static_argnums=(1, 2))
    x = np.linspace(0, 1, 3)
    np.testing.assert_allclose(jf(x, 3, "sin"), f(x, 3, "sin"))
    np.testing.assert_allclose(jf(x, 2, "cos"), f(x, 2, "cos"))
    jf(x, 3, "sin")
    assert len(calls) == 4 and jf.cache_size() == 2


def test_static_argument_change_is_explained():
    jf = mg.jit(lambda x, n: x * n, static_argnums=1)
    jf(np.ones(2), 2)
    jf(np.ones(2), 3)
    assert "static argument 1 changed from 2 to 3" in jf.trace_log()[-1]


def test_unhashable_static_argument_is_a_clear_error():
    jf = mg.jit(lambda x, sizes: x, static_argnums=1)
    with pytest.raises(TypeError, match="static argument 1 .*unhashable.*list.*tuple"):
        jf(np.ones(2), [1, 2])


def test_static_argnums_out_of_range():
    with pytest.raises(ValueError, match="static_argnums"):
        mg.jit(lambda x: x, static_argnums=3)(np.ones(2))


def test_control_flow_on_traced_value_raises_concretization_error():
    jf = mg.jit(lambda x: x if x.sum() > 0 else -x)
    with pytest.raises(mg.ConcretizationError, match="static_argnums"):
        jf(np.ones(2))


def test_keyword_arguments_are_traced():
    jf = mg.jit(lambda x, scale=1.0: x * scale)
    np.testing.assert_array_equal(jf(np.ones(2), scale=np.array(3.0)), [3.0, 3.0])


# ---------------------------------------------------------------------------------------
# composition with other transforms


def f_for_grad(x):
    return mnp.sum(mnp.tanh(x) ** 2 * x)


def test_grad_of_jit():
    x = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(mg.grad(mg.jit(f_for_grad))(x), mg.grad(f_for_grad)(x), rtol=1e-12)


def test_jit_of_grad_and_grad_of_grad():
    x = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(mg.jit(mg.grad(f_for_grad))(x), mg.grad(f_for_grad)(x), rtol=1e-12)
    second = mg.grad(lambda v: mg.grad(f_for_grad)(v).sum())
    np.testing.assert_allclose(
        mg.grad(lambda v: mg.jit(mg.grad(f_for_grad))(v).sum())(x), second(x), rtol=1e-10
    )


def test_jvp_of_jit():
    x, t = np.linspace(-1, 1, 4), np.ones(4)
    f = lambda v: mnp.sin(v) * v  # noqa: E731
    out, tangent = mg.jvp(mg.jit(f), (x,), (t,))
    expected_out, expected_tangent = mg.jvp(f, (x,), (t,))
    np.testing.assert_allclose(out, expected_out)
    np.testing.assert_allclose(tangent, expected_tangent)


def test_jit_of_jit_inlines_and_matches():
    inner = mg.jit(lambda x: mnp.exp(x) * 2.0)
    outer = mg.jit(lambda x: inner(x) + inner(x * 3.0))
    x = np.linspace(0, 1, 3)
    np.testing.assert_allclose(outer(x), 2 * np.exp(x) + 2 * np.exp(3 * x))
    program = outer.lower(x).program
    typecheck(program)
    assert all(eqn.primitive is not jit_p for eqn in program.eqns)


def test_make_jaxpr_of_jit_shows_the_inner_program_and_replays_under_grad():
    inner = mg.jit(lambda x: mnp.sin(x))
    closed = mg.make_jaxpr(lambda x: inner(x) * 2.0)(np.ones(3))
    assert [eqn.primitive.name for eqn in closed.eqns] == ["sin", "mul"]
    typecheck(closed)
    g = mg.grad(lambda x: eval_jaxpr(closed.jaxpr, closed.consts, x)[0].sum())(np.zeros(3))
    np.testing.assert_allclose(g, 2.0 * np.ones(3))


def test_jit_primitive_runs_its_compiled_program_when_bound_directly():
    jf = mg.jit(lambda x, y: (x * y, x + y))
    program = jf.lower(np.ones(2), np.ones(2)).program
    outs = bind(
        jit_p, np.ones(2), np.full(2, 3.0), program=program, name="f", _executable=compile_jaxpr(program)
    )
    np.testing.assert_array_equal(outs[0], [3.0, 3.0])
    np.testing.assert_array_equal(outs[1], [4.0, 4.0])


def test_closed_over_tracers_become_inputs_and_are_not_cached():
    def outer(x):
        inner = mg.jit(lambda y: x * y + mnp.sin(x))
        return inner(np.array(2.0))

    # d/dx (2x + sin x) = 2 + cos x
    np.testing.assert_allclose(mg.grad(outer)(np.array(0.5)), 2 + np.cos(0.5))
    shared = {}

    def outer_shared(x):
        jf = shared.setdefault("jf", mg.jit(lambda y: x * y))
        return jf(np.array(3.0))

    assert mg.grad(outer_shared)(np.array(1.0)) == 3.0
    shared.clear()
    jf_holder = {}

    def outer_reused(x):
        jf = jf_holder.setdefault("jf", mg.jit(lambda y: y * 2.0 + x))
        return jf(np.array(3.0))

    mg.grad(outer_reused)(np.array(1.0))
    assert jf_holder["jf"].cache_size() == 0  # a program holding a tracer is not kept
    with pytest.raises(mg.TracerLeakError):
        mg.grad(outer_reused)(np.array(5.0))  # its closure holds the first call's tracer


def test_jit_inside_jit_with_closure():
    def f(x):
        return mg.jit(lambda y: x * y)(np.array(2.0)) + x

    np.testing.assert_allclose(mg.jit(f)(np.array(3.0)), 9.0)


# ---------------------------------------------------------------------------------------
# the compiled code never corrupts inputs or results


def test_inputs_are_not_modified_and_results_do_not_alias_constants():
    w = np.arange(4.0)
    jf = mg.jit(lambda x: (mnp.exp(x) * 2.0 + 1.0, w * 1.0, x))
    x = np.linspace(0, 1, 4)
    x_copy = x.copy()
    out1, out_w, out_x = jf(x)
    np.testing.assert_array_equal(x, x_copy)
    out_w[:] = -1.0  # writing into a result must not change the next call's answer
    np.testing.assert_array_equal(jf(x)[1], np.arange(4.0))
    np.testing.assert_array_equal(w, np.arange(4.0))


def test_lower_shows_programs_and_source():
    lowered = mg.jit(lambda x: mnp.sin(x) * 1.0).lower(np.ones(2))
    assert "mul" in str(lowered.staged) and "mul" not in str(lowered.program)
    assert "def jitted(a):" in lowered.source and "_sin(a)" in lowered.source
    typecheck(lowered.program)


def test_jit_rejects_non_callables_and_non_array_arguments():
    with pytest.raises(TypeError, match="function"):
        mg.jit(3)
    with pytest.raises(TypeError, match="not an array"):
        mg.jit(lambda x: x)("text")


def test_recursion_with_the_same_signature_is_an_error_not_a_hang():
    def f(x):
        return g(x)

    g = mg.jit(f)
    with pytest.raises(RecursionError, match="same argument signature"):
        g(np.ones(2))
    assert g.cache_size() == 0


def test_recursion_on_shrinking_shapes_works():
    def total(x):
        if x.shape[0] == 1:
            return x[0]
        return x[0] + jitted_total(x[1:])

    jitted_total = mg.jit(total)
    assert jitted_total(np.arange(5.0)) == 10.0
    assert jitted_total.cache_size() == 5


def test_ndarray_subclasses_and_numpy_scalars_key_by_shape():
    class Tagged(np.ndarray):
        pass

    jf = mg.jit(lambda x: x * 2.0)
    np.testing.assert_array_equal(jf(np.ones(2).view(Tagged)), [2.0, 2.0])
    np.testing.assert_array_equal(jf(np.ones(3).view(Tagged)), [2.0, 2.0, 2.0])
    assert jf(np.float32(1.5)) == 3.0 and jf(np.float32(1.5)).dtype == np.float32


def test_output_structures_are_rebuilt():
    Pair = namedtuple("Pair", "left right")
    jf = mg.jit(lambda x: {"a": [x, (x * 2.0,)], "b": None, "p": Pair(x, {1: x + 1.0, 2: x})})
    out = jf(np.ones(2))
    assert set(out) == {"a", "b", "p"} and out["b"] is None
    assert isinstance(out["p"], Pair) and isinstance(out["a"][1], tuple)
    np.testing.assert_array_equal(out["a"][1][0], [2.0, 2.0])
    np.testing.assert_array_equal(out["p"].right[1], [2.0, 2.0])
    np.testing.assert_array_equal(out["p"].left, [1.0, 1.0])
    assert mg.jit(lambda x: None)(np.ones(1)) is None
    # Two namedtuple classes of one name, nested: each output is built as its own.
    Other = namedtuple("Pair", "x")
    nested = mg.jit(lambda x: Pair(Other(x), Pair(x, Other(x * 3.0))))(np.ones(1))
    assert type(nested) is Pair and type(nested.left) is Other and type(nested.right.right) is Other
    np.testing.assert_array_equal(nested.right.right.x, [3.0])


def test_vmap_of_jit_and_jit_of_vmap():
    f = lambda v: mnp.sin(v) * v  # noqa: E731
    xs = np.linspace(0, 1, 6).reshape(3, 2)
    np.testing.assert_allclose(mg.vmap(mg.jit(f))(xs), f(xs))
    np.testing.assert_allclose(mg.jit(mg.vmap(f))(xs), f(xs))
    per_row = mg.vmap(mg.grad(lambda v: f(v).sum()))
    np.testing.assert_allclose(mg.jit(per_row)(xs), per_row(xs))


def test_jit_of_hessian_and_hessian_of_jit():
    def rosen(x):
        return mnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    x = np.random.default_rng(3).standard_normal(6)
    expected = mg.hessian(rosen)(x)
    np.testing.assert_allclose(mg.jit(mg.hessian(rosen))(x), expected, rtol=1e-12)
    np.testing.assert_allclose(mg.hessian(mg.jit(rosen))(x), expected, rtol=1e-12)


def test_jit_with_checkpoint_and_custom_vjp():
    layer = mg.checkpoint(lambda v: mnp.tanh(v) ** 2)
    x = np.linspace(-1, 1, 4)
    g = mg.grad(lambda v: layer(v).sum())
    np.testing.assert_allclose(mg.jit(g)(x), g(x))

    @mg.custom_vjp
    def clip_gradient(v):
        return v

    clip_gradient.defvjp(lambda v: (v, None), lambda residuals, ct: (mnp.clip(ct, -1.0, 1.0),))
    clipped = mg.grad(lambda v: mnp.sum(3.0 * clip_gradient(v)))
    np.testing.assert_allclose(mg.jit(clipped)(x), np.ones(4))


def test_jit_on_methods_with_a_static_self():
    class Scaler:
        def __init__(self, factor):
            self.factor = factor

        def __hash__(self):
            return hash(self.factor)

        def __eq__(self, other):
            return isinstance(other, Scaler) and other.factor == self.factor

        @mg.jit
        def dynamic_self(self, x):
            return x * 2.0

        def scale(self, x):
            return x * self.factor

        static_scale = mg.jit(scale, static_argnums=0)

    with pytest.raises(TypeError, match="static_argnums|not an array"):
        Scaler(3.0).dynamic_self(np.ones(2))
    np.testing.assert_array_equal(Scaler(3.0).static_scale(np.ones(2)), [3.0, 3.0])
    np.testing.assert_array_equal(Scaler(4.0).static_scale(np.ones(2)), [4.0, 4.0])


def test_concurrent_calls_with_many_signatures_and_a_small_cache():
    jf = mg.jit(lambda x: mnp.tanh(x) * 2.0, cache_limit=3)
    errors = []

    def worker(offset):
        try:
            for i in range(40):
                n = 1 + (i + offset) % 6
                np.testing.assert_allclose(jf(np.ones(n)), 2.0 * np.tanh(np.ones(n)))
        except Exception as error:  # reported below; a thread's exception would be lost
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert jf.cache_size() <= 3


def test_weak_python_number_input_is_an_aval_flag():
    # jit gives a Python number a weak aval, as every transform does; no special tracer.
    staged = mg.jit(lambda x, s: x * s).lower(np.ones(2, np.float32), 3.0).staged
    assert [a.weak_type for a in staged.in_avals] == [False, True]
    assert staged.out_avals[0].dtype == np.float32
    grad = mg.jit(mg.grad(lambda x, s: (x * s).sum(), argnums=1))(np.ones(2, np.float32), 3.0)
    assert grad.dtype == np.float64 and grad == 2.0


def test_cache_keys_on_weak_type_of_traced_arguments():
    # A weak tracer (a Python number traced by jacfwd/jvp) promotes like a number; a
    # strong one of the same shape and dtype must not reuse its program, or back.
    ones32 = np.ones(2, np.float32)

    def f(a):
        return ones32 * a

    j = mg.jit(f)
    assert mg.jacfwd(j)(2.0).dtype == np.float32
    assert mg.vmap(j)(np.array([1.0, 2.0])).dtype == mg.vmap(f)(np.array([1.0, 2.0])).dtype == np.float64

    k = mg.jit(f)
    _, tangent = mg.jvp(k, (np.array(2.0),), (np.array(1.0),))
    assert tangent.dtype == np.float64
    _, tangent = mg.jvp(k, (2.0,), (1.0,))
    assert tangent.dtype == np.float32
    assert k.lower(np.array(2.0)).program.out_avals[0].dtype == np.float64


def test_static_values_that_compare_equal_but_differ_in_type_stage_apart():
    g = mg.jit(lambda x, n: x * n, static_argnums=1)
    assert g(np.arange(3), 2).dtype == np.int64
    assert g(np.arange(3), 2.0).dtype == np.float64
    assert g(np.arange(3), True).dtype == np.int64
    h = mg.jit(lambda x, flag: x * flag, static_argnums=1)
    assert h(np.array([True]), True).dtype == np.bool_
    assert h(np.array([True]), 1).dtype == np.int64
    t = mg.jit(lambda x, pair: x * pair[0], static_argnums=1)
    assert t(np.arange(2), (2, 0)).dtype == np.int64
    assert t(np.arange(2), (2.0, 0)).dtype == np.float64
    assert "static argument 1 changed from (2, 0) to (2.0, 0)" in t.trace_log()[-1]


def _scaled(x, n=2):
    assert isinstance(n, int)  # static: a Python value, not a tracer
    return x * n


def test_static_argnums_by_keyword_and_default():
    f = mg.jit(_scaled, static_argnums=1)
    np.testing.assert_array_equal(f(np.ones(2), n=3), [3.0, 3.0])
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 2.0])
    np.testing.assert_array_equal(f(np.ones(2), 4), [4.0, 4.0])
    np.testing.assert_array_equal(f(x=np.ones(2), n=5), [5.0, 5.0])
    by_name = mg.jit(_scaled, static_argnames="n")
    np.testing.assert_array_equal(by_name(np.ones(2), 6), [6.0, 6.0])
    np.testing.assert_array_equal(by_name(np.ones(2), n=7), [7.0, 7.0])
    with pytest.raises(ValueError, match="static_argnames.*'m'"):
        mg.jit(_scaled, static_argnames="m")
    with pytest.raises(ValueError, match="static_argnums.*takes 2 positional"):
        mg.jit(_scaled, static_argnums=2)
    with pytest.raises(TypeError, match="static argument 'n' .*unhashable"):
        f(np.ones(2), n=[1])


@pytest.mark.parametrize("shape", [(3,), ()])
def test_closed_over_arrays_are_snapshotted_at_trace_time(shape):
    c = np.arange(3.0).reshape(shape) if shape else np.array(5.0)
    expected = c.copy()
    for fun in (lambda x: x * 0 + c, lambda x: x + c, lambda x: c):
        c[...] = expected
        f = mg.jit(fun)
        first = f(np.zeros(shape))
        c[...] = 99.0
        np.testing.assert_array_equal(f(np.zeros(shape)), first)
        np.testing.assert_array_equal(first, expected)
        # under a transform the program is replayed with the same (snapshotted) constants
        value, _ = mg.value_and_grad(lambda x, f=f: mnp.sum(f(x) * 1.0 + x))(np.zeros(shape))
        assert float(value) == float(np.sum(expected))


def test_python_ints_out_of_range_raise_as_eagerly():
    times = mg.jit(lambda x, s: x * s)
    np.testing.assert_array_equal(times(np.ones(2, np.int8), 3), [3, 3])
    with pytest.raises(OverflowError, match="1000 out of bounds for int8"):
        mnp.multiply(np.ones(2, np.int8), 1000)  # eager NumPy
    with pytest.raises(OverflowError, match="1000 out of bounds for int8"):
        times(np.ones(2, np.int8), 1000)  # a cached program, a new value
    with pytest.raises(OverflowError, match="-1 out of bounds for uint8"):
        mg.jit(lambda x, s: x * s)(np.ones(2, np.uint8), -1)
    np.testing.assert_array_equal(times(np.ones(2, np.float32), 10**6), [1e6, 1e6])
    with pytest.raises(OverflowError, match="does not fit in int64"):
        mg.jit(lambda s: s + 1)(2**70)
    assert mg.jit(lambda s: s + 1)(2**62) == 2**62 + 1


def test_retrace_after_eviction_says_so():
    f = mg.jit(lambda x: x, cache_limit=1)
    f(np.ones(1))
    f(np.ones(2))
    assert "args[0] changed from f64[1] to f64[2]" in f.trace_log()[-1]
    f(np.ones(1))
    assert "evicted" in f.trace_log()[-1] and "cache_limit=1" in f.trace_log()[-1]
    assert "changed" not in f.trace_log()[-1]
    f.clear_cache()
    f(np.ones(2))
    assert "first call" in f.trace_log()[-1]


def test_results_are_distinct_arrays_under_debug_nans_too():
    x = np.ones(3)
    with mg.debug_nans():
        assert mg.jit(lambda v: v)(x) is not x
        a, b = mg.jit(lambda v: (v * 2, v * 2))(x)
        a += 1
        np.testing.assert_array_equal(b, [2.0, 2.0, 2.0])
        g = mg.jit(mg.grad(lambda v: mnp.sum(v)))(x)
        assert g.flags.writeable


# ---------------------------------------------------------------------------------------
# Deep nesting and long programs


def _stack_depth() -> int:
    frame, depth = sys._getframe(1), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def _frames_per_level(nest) -> float:
    """How many Python frames one more level of ``nest(f)`` puts under the innermost ``f``."""
    depths = []

    def innermost(x):
        depths.append(_stack_depth())
        return x * x * 0.5

    def deepest(levels):
        f = innermost
        for _ in range(levels):
            f = nest(f)
        f(np.array(1.0))
        return depths[-1]

    return (deepest(20) - deepest(10)) / 10


def test_nested_jits_cost_no_more_stack_than_nested_grads():
    # 200 nested jits used to hit RecursionError (five frames a level, where grad's
    # limit comes from its own frames per level).
    def jit_level(g):
        return mg.jit(lambda x: g(x) * 1.0)

    def grad_level(g):
        return mg.grad(lambda x: g(x) * 1.0)

    # grad itself takes five frames a level (the function, its argument picking, the trace).
    assert _frames_per_level(jit_level) < _frames_per_level(grad_level)
    assert _frames_per_level(mg.jit) <= 2


def test_two_hundred_nested_jits_compile_and_run():
    f = mnp.sin
    for _ in range(200):
        f = mg.jit(f)
    np.testing.assert_allclose(f(np.ones(2)), np.sin(np.ones(2)))


def _long_chain(length):
    def f(x):
        for _ in range(length // 2):
            x = mnp.sin(x) * 1.0001
        return mnp.sum(x)

    return f


def test_jit_of_a_long_program_is_linear_in_its_length():
    # Counts, not times: the optimised program and the generated source grow in
    # proportion, and the source is split into parts of 1000 equations (each compiled
    # on its own, see test_compile.py).
    x = np.full(3, 0.5)
    short, long = mg.jit(_long_chain(2000)).lower(x), mg.jit(_long_chain(8000)).lower(x)
    assert len(long.program.eqns) == 4 * len(short.program.eqns) - 3  # one reduction each
    assert long.source.count("\n") < 4.2 * short.source.count("\n")
    assert long.source.count("def _part") == -(-len(long.program.eqns) // 1000)


@pytest.mark.slow
def test_a_program_of_200k_equations_compiles_and_runs():
    f = _long_chain(200_000)
    x = np.full(3, 0.5)
    np.testing.assert_allclose(mg.jit(f)(x), f(x), rtol=1e-12)
