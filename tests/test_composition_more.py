"""Adversarial composition: ``jit`` inside and outside the other transforms.

``tests/test_composition.py`` checks sequences of the differentiating transforms and
``vmap`` on one array argument. Here the same promise ("every transform composes with
every other one") is pushed along other directions: ``jit`` at every position of a
sequence (and on the innermost function), pytrees with ``None`` leaves and namedtuples,
``has_aux``, ``argnums`` tuples, keywords, static arguments, ``in_axes``/``out_axes``
pytrees, Python numbers, integer and boolean values passed through, closures over the
tracers of every enclosing transform, zero-size batches, threads, and the errors users
see when they compose wrongly. References are independent: closed forms, Python loops,
finite differences in float64, or the same composition without ``jit`` (itself checked
against finite differences by ``test_composition.py``).
"""

import importlib
import itertools
import threading
from collections import namedtuple

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from tests import test_composition as composition

jit_module = importlib.import_module("minigrad.transforms.jit.transform")

X = np.array([0.3, -0.8, 1.1, 0.5])
Pair = namedtuple("Pair", "a b")


def _pattern(shape, dtype=np.float64):
    size = int(np.prod(shape, dtype=np.int64))
    return np.cos(np.arange(size) * 1.3 + 1.0).reshape(shape).astype(dtype)


def where_concat(x):
    return mnp.where(x > 0, x**3, mnp.sin(x)) * mnp.concatenate([x[1:], x[:1]])


# ---------------------------------------------------------------------------------------
# Cotangents whose dtype differs from their output's


def _vjp_with_float64_cotangent(fun):
    return lambda x: mg.vjp(fun, x)[1](_pattern(X.shape))[0]


@pytest.mark.parametrize("wrap", [lambda f: f, mg.jit], ids=["eager", "jit"])
def test_float64_cotangent_for_a_float32_output_is_cast_as_in_eager(wrap):
    # A float64 cotangent for a float32 output used to meet float32 residuals; eager
    # NumPy widened silently, but a staged (jit) program rejected `mul(f64, f32)`.
    x32 = X.astype(np.float32)
    fun = wrap(_vjp_with_float64_cotangent(_vjp_with_float64_cotangent(where_concat)))
    jac = mg.jacrev(fun)(x32)
    assert jac.dtype == np.float32
    expected = mg.jacrev(_vjp_with_float64_cotangent(_vjp_with_float64_cotangent(where_concat)))(X)
    np.testing.assert_allclose(jac, expected, rtol=1e-4, atol=1e-4)
    ct = mg.vjp(wrap(lambda a: a * a), x32)[1](np.ones(4))[0]
    assert ct.dtype == np.float32
    np.testing.assert_allclose(ct, 2 * x32)


# ---------------------------------------------------------------------------------------
# Errors when composing wrongly


def test_a_tracer_passed_as_a_static_argument_is_named_as_such():
    power = mg.jit(lambda b, n: b**n, static_argnums=1)
    with pytest.raises(TypeError, match=r"static argument 1 is a traced array \(f64\[\]\)") as info:
        mg.grad(lambda a: power(a, a))(1.5)
    assert "Pass it as an ordinary (traced) argument" in str(info.value)
    assert "unhashable" not in str(info.value)
    with pytest.raises(TypeError, match=r"static argument 'n' is a traced array \(f64\[\]\)"):
        mg.vmap(lambda a, n: power(a, n=n))(np.ones(2), np.ones(2))


def per_example_double(a):
    return a * 2.0


def test_grad_of_a_non_scalar_under_vmap_and_jit_names_the_function_and_its_line():
    line = f"{__file__}:{per_example_double.__code__.co_firstlineno}"
    for fun in (
        mg.vmap(mg.grad(per_example_double)),
        mg.jit(mg.vmap(mg.grad(per_example_double))),
        mg.vmap(mg.jit(mg.grad(per_example_double))),
        mg.grad(mg.jit(per_example_double)),
    ):
        with pytest.raises(TypeError, match="`vjp`") as info:
            fun(np.ones((2, 3)))
        message = str(info.value)
        assert f"grad: the output of per_example_double (defined at {line}) has shape" in message


def _log_of_doubled(a):
    doubled = a * 2.0
    return mnp.log(doubled)  # the NaN is made here


def test_debug_nans_under_vmap_and_replayed_jit_names_the_line_that_made_the_nan():
    line = f"{__file__}:{_log_of_doubled.__code__.co_firstlineno + 2}"
    bad = np.array([[1.0, -1.0]])
    for fun in (
        mg.vmap(_log_of_doubled),
        mg.vmap(mg.jit(_log_of_doubled)),
    ):
        with mg.debug_nans(), pytest.raises(FloatingPointError, match="log produced nan") as info:
            fun(bad)
        assert f"(at {line})" in str(info.value)
    # jit replayed under jvp, and vmap staged under jit then compiled, name it as well
    with mg.debug_nans(), pytest.raises(FloatingPointError, match="log produced nan") as info:
        mg.jvp(mg.jit(_log_of_doubled), (bad,), (bad,))
    assert f"(at {line})" in str(info.value)
    with mg.debug_nans(), pytest.raises(FloatingPointError, match="log produced nan") as info:
        mg.jit(mg.vmap(_log_of_doubled))(bad)
    assert line in str(info.value)


# ---------------------------------------------------------------------------------------
# jit at every position of sequences of transforms


def _lift_hessian(fun):
    return mg.hessian(lambda x: mnp.sum(fun(x) * _pattern(mnp.shape(fun(x)))))


TRANSFORMS = {**composition.TRANSFORMS, "checkpoint": mg.checkpoint, "hessian": _lift_hessian}
# Every single transform and pair; every other triple (without hessian, for time).
SEQUENCES = [
    names
    for depth in (1, 2, 3)
    for position, names in enumerate(itertools.product(TRANSFORMS, repeat=depth))
    if names.count("hessian") <= 1 and (depth < 3 or ("hessian" not in names and position % 2 == 0))
]


def _build(names, fun, jit_at):
    """``names[0](names[1](...(fun)))`` with ``jit`` around the results at ``jit_at``
    (0 is the innermost transform; -1 jits ``fun`` itself)."""
    if -1 in jit_at:
        fun = mg.jit(fun)
    for level, name in enumerate(reversed(names)):
        fun = TRANSFORMS[name](fun)
        if level in jit_at:
            fun = mg.jit(fun)
    return fun


@pytest.mark.parametrize("names", SEQUENCES, ids="-".join)
def test_jit_anywhere_in_a_sequence_matches_the_sequence_without_it(names):
    # Each sequence on one function of the bank, in turn; the reference (the same
    # sequence without jit) is checked against finite differences by test_composition.
    fun = composition.BANK[SEQUENCES.index(names) % len(composition.BANK)]
    expected = _build(names, fun, ())(X)
    depth = len(names)
    index = SEQUENCES.index(names)
    # One jit at a position that rotates with the sequence, and a jit at every level.
    for jit_at in [((index % (depth + 1)) - 1,), tuple(range(-1, depth))]:
        jitted = _build(names, fun, jit_at)
        for _ in range(2):  # the traced call and the cached one
            got = jitted(X)
            assert np.shape(got) == np.shape(expected) and got.dtype == expected.dtype, (names, jit_at)
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10, err_msg=f"{names} {jit_at}")


# ---------------------------------------------------------------------------------------
# Pytrees, has_aux, argnums, keywords and static arguments through jit and vmap


def _loss(params, batch):
    # params: {"w": array, "extra": (array, None)}; batch: Pair(a=inputs, b=scale)
    w, (v, _) = params["w"], params["extra"]
    return mnp.sum(mnp.sin(batch.a * w) * v) * batch.b


def _loss_grads_closed_form(params, batch):
    w, v = params["w"], params["extra"][0]
    return {"w": batch.a * np.cos(batch.a * w) * v * batch.b, "extra": (np.sin(batch.a * w) * batch.b, None)}


def test_pytrees_with_none_leaves_and_namedtuples_under_vmap_of_jit_of_grad():
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal(3), "extra": (rng.standard_normal(3), None)}
    batch = Pair(rng.standard_normal((4, 3)), 2.0)
    expected = [_loss_grads_closed_form(params, Pair(batch.a[i], 2.0)) for i in range(4)]
    per_example = mg.grad(_loss)
    for fun in (
        mg.vmap(mg.jit(per_example), in_axes=(None, Pair(0, None))),
        mg.jit(mg.vmap(per_example, in_axes=(None, Pair(0, None)))),
        mg.vmap(mg.grad(mg.jit(_loss)), in_axes=(None, Pair(0, None))),
    ):
        for _ in range(2):
            got = fun(params, batch)
            assert got["extra"][1] is None
            for i in range(4):
                np.testing.assert_allclose(got["w"][i], expected[i]["w"], rtol=1e-12)
                np.testing.assert_allclose(got["extra"][0][i], expected[i]["extra"][0], rtol=1e-12)


def test_has_aux_with_integer_aux_and_argnums_tuples_under_jit_and_vmap():
    def loss(a, b, *, scale):
        return mnp.sum(a * b) * scale, {"best": mnp.argmax(a), "flag": a[0] > 0}

    fun = mg.grad(loss, argnums=(0, 1), has_aux=True)
    a = np.array([[0.5, -1.0, 2.0], [3.0, 1.0, -2.0]])
    b = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]])
    for wrapped in (mg.jit(mg.vmap(fun)), mg.vmap(mg.jit(fun))):
        (grad_a, grad_b), aux = wrapped(a, b, scale=np.array([2.0, 3.0]))
        np.testing.assert_array_equal(grad_a, b * np.array([[2.0], [3.0]]))
        np.testing.assert_array_equal(grad_b, a * np.array([[2.0], [3.0]]))
        np.testing.assert_array_equal(aux["best"], [2, 0])
        assert aux["best"].dtype == np.int64 and aux["flag"].dtype == np.bool_
        np.testing.assert_array_equal(aux["flag"], [True, True])


def test_static_arguments_by_position_and_keyword_inside_grad_vmap_and_jvp():
    power = mg.jit(lambda b, n: b**n, static_argnums=1)
    by_name = mg.jit(lambda b, n: b**n, static_argnames="n")
    x = np.array([0.5, -1.5, 2.0])
    np.testing.assert_allclose(mg.grad(lambda a: mnp.sum(power(a, 3)))(x), 3 * x**2)
    np.testing.assert_allclose(mg.vmap(mg.grad(lambda a: power(a, 3)))(x), 3 * x**2)
    np.testing.assert_allclose(mg.jvp(lambda a: by_name(a, n=4), (x,), (np.ones(3),))[1], 4 * x**3)
    np.testing.assert_allclose(mg.jit(mg.vmap(lambda a: by_name(a, n=2)))(x), x**2)
    np.testing.assert_allclose(mg.hessian(lambda a: mnp.sum(power(a, 3)))(x), np.diag(6 * x))
    # power: per-example scalars (under vmap) and vectors; by_name: n=4 and n=2
    assert power.cache_size() == 2 and by_name.cache_size() == 2


def test_in_axes_and_out_axes_pytrees_with_none_around_jit():
    def fun(d, k):
        return Pair(d["x"] * d["y"], d["y"] + k), k

    x = np.arange(12.0).reshape(3, 4)
    y = np.array([1.0, -2.0, 0.5])
    for wrapped in (
        mg.vmap(mg.jit(fun), in_axes=({"x": 1, "y": None}, None), out_axes=(Pair(-1, None), None)),
        mg.jit(mg.vmap(fun, in_axes=({"x": 1, "y": None}, None), out_axes=(Pair(-1, None), None))),
    ):
        (product, shifted), k = wrapped({"x": x, "y": y}, 7.0)
        np.testing.assert_array_equal(product, np.stack([x[:, j] * y for j in range(4)], axis=-1))
        np.testing.assert_array_equal(shifted, y + 7.0)
        assert float(k) == 7.0


# ---------------------------------------------------------------------------------------
# Python numbers, integers and booleans passed through


def test_python_numbers_stay_weak_through_vmap_grad_and_jit():
    x32 = np.array([[0.5, -1.0, 2.0], [1.0, 3.0, -0.5]], np.float32)
    scaled = mg.jit(lambda a, s: mnp.sum(a * s))
    grads = mg.vmap(mg.grad(scaled), in_axes=(0, None))(x32, 2.0)
    assert grads.dtype == np.float32
    np.testing.assert_array_equal(grads, np.full((2, 3), 2.0, np.float32))
    # with respect to the Python number: a float64 gradient, one per example
    wrt_scale = mg.vmap(mg.grad(scaled, argnums=1), in_axes=(0, None))(x32, 2.0)
    np.testing.assert_allclose(wrt_scale, x32.astype(np.float64).sum(axis=1), rtol=1e-7)
    tangent = mg.jvp(lambda s: mg.jit(lambda a, s: a * s)(x32, s), (2.0,), (1.0,))[1]
    assert tangent.dtype == np.float32
    np.testing.assert_array_equal(tangent, x32)
    # the same jitted function called eagerly with a strong float64 scalar widens
    assert mg.jit(lambda a, s: a * s)(x32, np.float64(2.0)).dtype == np.float64


def test_integer_and_boolean_arguments_pass_through_vmap_jit_and_grad():
    def fun(a, i, flag):
        return a * i, mnp.where(flag, a, 0.0), i + 1, flag

    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    i = np.array([2, 3])
    flag = np.array([True, False])
    for wrapped in (mg.vmap(mg.jit(fun)), mg.jit(mg.vmap(fun))):
        scaled, chosen, shifted, same = wrapped(a, i, flag)
        np.testing.assert_array_equal(scaled, [[2.0, 4.0], [9.0, 12.0]])
        np.testing.assert_array_equal(chosen, [[1.0, 2.0], [0.0, 0.0]])
        assert shifted.dtype == np.int64 and same.dtype == np.bool_
        np.testing.assert_array_equal(shifted, [3, 4])
        np.testing.assert_array_equal(same, flag)
    g = mg.grad(mg.jit(lambda a, n: mnp.sum(a**2) * n))(np.array([1.0, 2.0]), 3)
    np.testing.assert_array_equal(g, [6.0, 12.0])


def test_integer_outputs_beside_float_ones_under_forward_and_batched_transforms():
    fun = mg.jit(lambda a: (mnp.argmax(a), a * 2.0, a > 0))
    x = np.array([0.3, -0.8, 1.1])
    (index, doubled, positive), (t_index, t_doubled, t_positive) = mg.jvp(fun, (x,), (np.ones(3),))
    assert int(index) == 2 and t_index.dtype == index.dtype and int(t_index) == 0
    np.testing.assert_array_equal(t_doubled, np.full(3, 2.0))
    assert t_positive.dtype == np.bool_ and not t_positive.any()
    index_jac, doubled_jac, _ = mg.jacfwd(fun)(x)
    assert index_jac.shape == (3,) and not index_jac.any()
    np.testing.assert_array_equal(doubled_jac, 2.0 * np.eye(3))
    indices, maxima = mg.vmap(mg.jit(lambda a: (mnp.argmax(a), a.max())))(np.array([[1.0, 5.0], [7.0, 2.0]]))
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices, [1, 0])
    np.testing.assert_array_equal(maxima, [5.0, 7.0])


# ---------------------------------------------------------------------------------------
# Closures over the tracers of enclosing transforms, constants, inputs returned unchanged


def test_closures_over_tracers_of_every_enclosing_level():
    x = np.array([0.3, -0.8, 1.1])

    def per_scale(c):
        # jit closes over c (a vmap tracer) and a (a grad tracer); the inner jit over both
        def loss(a):
            return mg.jit(lambda b: mnp.sum(mg.jit(lambda d: d * a * c)(b)))(a)

        return mg.grad(loss)(x)

    scales = np.array([1.0, 2.0, -0.5])
    np.testing.assert_allclose(mg.vmap(per_scale)(scales), 2 * scales[:, None] * x, rtol=1e-12)
    np.testing.assert_allclose(mg.jit(mg.vmap(per_scale))(scales), 2 * scales[:, None] * x, rtol=1e-12)
    # d/dc of sum_examples sum(2 c x) = 2 sum(x), by reverse over vmap over jit
    total = mg.grad(lambda s: mnp.sum(mg.vmap(per_scale)(s)))(scales)
    np.testing.assert_allclose(total, np.full(3, 2 * x.sum()), rtol=1e-12)


def test_python_control_flow_on_a_closed_over_grad_tracer_inside_jit_is_concrete():
    # a is a grad tracer, whose value grad knows; only the jit's own inputs are abstract
    fun = mg.grad(lambda a: mg.jit(lambda b: b * (2.0 if a > 0 else 3.0))(a))
    assert float(fun(1.0)) == 2.0 and float(fun(-1.0)) == 3.0


def test_constants_and_unchanged_inputs_as_outputs():
    x = np.array([0.3, -0.8, 1.1])
    xs = np.stack([x, 2 * x])
    out = mg.vmap(mg.jit(lambda a: (mnp.ones(2), 3.0, a)))(xs)
    np.testing.assert_array_equal(out[0], np.ones((2, 2)))
    np.testing.assert_array_equal(out[1], [3.0, 3.0])
    np.testing.assert_array_equal(out[2], xs)
    assert all(type(leaf) is np.ndarray for leaf in out)
    constant = mg.jit(lambda a: np.ones(2))
    np.testing.assert_array_equal(mg.jacfwd(constant)(x), np.zeros((2, 3)))
    np.testing.assert_array_equal(mg.jacrev(constant)(x), np.zeros((2, 3)))
    np.testing.assert_array_equal(mg.grad(lambda a: mnp.sum(a) + mg.jit(lambda b: 3.0)(a))(x), np.ones(3))
    np.testing.assert_array_equal(mg.jacrev(mg.jit(lambda a: a))(x.astype(np.float32)), np.eye(3))
    assert mg.hessian(mg.jit(lambda a: 3.0))(x).shape == (3, 3)


# ---------------------------------------------------------------------------------------
# Zero-size batches


@pytest.mark.parametrize("order", ["vmap-jit", "jit-vmap"])
def test_zero_size_batches(order):
    def wrap(fun):
        return mg.vmap(mg.jit(fun)) if order == "vmap-jit" else mg.jit(mg.vmap(fun))

    empty = np.ones((0, 3))
    assert wrap(mg.grad(lambda a: mnp.sum(a**2)))(empty).shape == (0, 3)
    assert wrap(mg.jacrev(lambda a: a * 2.0))(empty).shape == (0, 3, 3)
    assert wrap(mg.hessian(lambda a: mnp.sum(a**3)))(empty).shape == (0, 3, 3)
    indices, maxima = wrap(lambda a: (mnp.argmax(a), a.max()))(empty)
    assert indices.shape == (0,) and indices.dtype == np.int64 and maxima.shape == (0,)
    assert wrap(lambda a: a * 2.0)(np.ones((0, 2, 3))).shape == (0, 2, 3)
    np.testing.assert_array_equal(wrap(lambda a: a.sum())(np.ones((3, 0))), np.zeros(3))


# ---------------------------------------------------------------------------------------
# The cache under outer tracers, and threads


def test_cache_is_shared_between_eager_and_traced_calls_of_the_same_signature():
    scaled = mg.jit(lambda a, s: a * s)
    x32 = np.array([0.5, -1.0, 2.0], np.float32)
    calls = [
        (lambda: mg.vmap(scaled, in_axes=(0, None))(np.stack([x32, x32]), 2.0)[0], np.float32),
        (lambda: scaled(x32, 2.0), np.float32),
        (lambda: scaled(x32, np.float64(2.0)), np.float64),
        (lambda: mg.grad(lambda s: mnp.sum(scaled(x32, s)))(np.array(2.0)), np.float64),
        (lambda: mg.jvp(lambda s: scaled(x32, s), (2.0,), (1.0,))[0], np.float32),
    ]
    for ordering in (calls, calls[::-1]):
        scaled.clear_cache()
        for call, dtype in ordering:
            assert call().dtype == dtype
        # weak float, strong float64: one program each, whichever transform traced it
        # (values of grad tracers key by shape and dtype too)
        assert scaled.cache_size() <= 3


def test_threads_composing_different_transforms_around_one_jitted_function():
    fun = mg.jit(lambda a, s: mnp.sum(mnp.sin(a) * s))
    failures = []

    def worker(seed):
        try:
            for k in range(8):
                a = np.full((2, 3), 0.1 * (seed + 1))
                kind = (seed + k) % 4
                if kind == 0:
                    got, expected = mg.vmap(mg.grad(fun), in_axes=(0, None))(a, 2.0), 2 * np.cos(a)
                elif kind == 1:
                    got, expected = mg.jacfwd(fun)(a[0], 2.0), 2 * np.cos(a[0])
                elif kind == 2:
                    got, expected = mg.grad(fun, argnums=1)(a[0], 2.0), np.sin(a[0]).sum()
                else:
                    got, expected = mg.jit(mg.vmap(fun, in_axes=(0, None)))(a, 2.0), 2 * np.sin(a).sum(1)
                np.testing.assert_allclose(got, expected, rtol=1e-12)
        except Exception as error:  # collected for the main thread to report
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[0]


# ---------------------------------------------------------------------------------------
# Errors


def _branchy(a):
    if a.sum() > 0:  # Python control flow on a mapped value
        return a
    return -a


@pytest.mark.parametrize(
    "fun",
    [
        mg.jit(mg.vmap(_branchy)),
        mg.vmap(mg.jit(_branchy)),
        mg.jit(mg.vmap(mg.grad(lambda a: mnp.sum(_branchy(a))))),
    ],
    ids=["jit-vmap", "vmap-jit", "jit-vmap-grad"],
)
def test_concretization_error_under_composed_staging_names_the_users_line(fun):
    line = f"{__file__}:{_branchy.__code__.co_firstlineno + 1}"
    with pytest.raises(mg.ConcretizationError, match=r"mnp\.where") as info:
        fun(np.ones((2, 3)))
    assert f"(at {line})" in str(info.value)
    assert "static_argnums" in str(info.value)


def _loss_and_aux(a):
    return mnp.sum(a**2), a


def test_grad_of_a_function_returning_a_tuple_suggests_has_aux():
    for fun in (mg.grad(_loss_and_aux), mg.jit(mg.grad(_loss_and_aux)), mg.vmap(mg.grad(_loss_and_aux))):
        with pytest.raises(TypeError, match="returns a tuple, not a scalar array") as info:
            fun(np.ones((2, 3)))
        assert "pass has_aux=True" in str(info.value)
        assert "_loss_and_aux (defined at" in str(info.value)
    with pytest.raises(TypeError, match=r"the first output of <lambda> \(defined at .*\) is a list"):
        mg.grad(lambda a: ([mnp.sum(a)], a), has_aux=True)(np.ones(2))
    grads, aux = mg.jit(mg.grad(_loss_and_aux, has_aux=True))(np.ones(3))
    np.testing.assert_array_equal(grads, np.full(3, 2.0))


def test_programs_closing_over_tracers_are_compiled_only_when_asked(monkeypatch):
    compiled = []
    original = jit_module.compile_jaxpr
    monkeypatch.setattr(jit_module, "compile_jaxpr", lambda program: compiled.append(1) or original(program))
    x = np.array([0.5, -1.0, 2.0])

    def loss(a):
        inner = mg.jit(lambda b: mnp.sum(mnp.sin(b) * a))  # closes over a grad tracer
        sources.append(inner.lower(a).source)
        return inner(a)

    sources = []
    for _ in range(3):  # a closing program is traced again on every call, never compiled
        np.testing.assert_allclose(mg.grad(loss)(x), np.cos(x) * x + np.sin(x), rtol=1e-12)
    assert len(sources) == 3 and all("def jitted" in source for source in sources)
    assert len(compiled) == 3  # only for lower(): the calls replay the program on tracers
    closed_free = mg.jit(lambda b: mnp.sum(mnp.sin(b)))
    mg.grad(closed_free)(x)
    assert len(compiled) == 4  # a cacheable program is compiled once, when traced


def test_concretization_error_under_vmap_suggests_sharing_the_value():
    def scaled_if_positive(a, n):
        return a * n if n > 0 else a

    x = np.ones((2, 3))
    with pytest.raises(mg.ConcretizationError, match=r"in_axes=None") as info:
        mg.vmap(scaled_if_positive)(x, np.array([2.0, 3.0]))
    assert str(info.value).endswith(f":{scaled_if_positive.__code__.co_firstlineno + 1})")
    # as the advice says: shared, the value is concrete
    np.testing.assert_array_equal(mg.vmap(scaled_if_positive, in_axes=(0, None))(x, 2.0), 2 * x)
    np.testing.assert_array_equal(mg.jit(mg.vmap(lambda a: scaled_if_positive(a, 2.0)))(x), 2 * x)


@pytest.mark.parametrize("wrap", [lambda f: f, mg.jit], ids=["eager", "jit"])
def test_pullbacks_and_pushforwards_under_vmap_jit_and_grad(wrap):
    x = np.array([0.3, -0.8, 1.1])
    _, pullback = mg.vjp(wrap(mnp.sin), x)
    # rows of the Jacobian: the pullback mapped over a basis, and the pullback staged
    np.testing.assert_allclose(mg.vmap(lambda ct: pullback(ct)[0])(np.eye(3)), np.diag(np.cos(x)))
    np.testing.assert_allclose(mg.jit(lambda ct: pullback(ct)[0])(np.ones(3)), np.cos(x))
    columns = mg.vmap(lambda t: mg.jvp(wrap(mnp.sin), (x,), (t,))[1])(np.eye(3))
    np.testing.assert_allclose(columns, np.diag(np.cos(x)))
    # d/dc <cos(c), c> through a pullback taken inside grad
    through = mg.grad(lambda c: mnp.sum(mg.vjp(wrap(mnp.sin), c)[1](c)[0]))(x)
    np.testing.assert_allclose(through, np.cos(x) - x * np.sin(x), rtol=1e-12)
    xs = np.stack([x, 2 * x])
    hess = mg.hessian(lambda c: mnp.sum(wrap(mg.vmap(lambda a: mnp.sum(a * c) ** 2))(xs)))(x)
    np.testing.assert_allclose(hess, 2 * xs.T @ xs, rtol=1e-12)
