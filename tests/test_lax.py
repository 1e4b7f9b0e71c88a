"""``minigrad.lax``: values against NumPy loops, hand derivatives, program sizes, what
reverse mode keeps, compiled loops, and the errors of mismatched structures."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import lax
from minigrad.core.typecheck import typecheck
from minigrad.lax.scan import scan_p


def _eqns(fun, *args):
    return mg.make_jaxpr(fun)(*args).eqns


# ---------------------------------------------------------------------------------------
# Values and hand derivatives


def test_scan_computes_the_python_loop():
    xs = np.arange(1.0, 6.0)
    carry, ys = lax.scan(lambda c, x: (c * 0.5 + x, c), 2.0, xs)
    c, expected = 2.0, []
    for x in xs:
        expected.append(c)
        c = c * 0.5 + x
    np.testing.assert_allclose(carry, c)
    np.testing.assert_allclose(ys, expected)


def test_scan_over_pytrees_with_length_and_no_xs():
    carry, ys = lax.scan(lambda c, _: ({"a": c["a"] + 1.0}, (c["a"], None)), {"a": np.zeros(2)}, length=3)
    np.testing.assert_allclose(carry["a"], [3.0, 3.0])
    np.testing.assert_allclose(ys[0], [[0, 0], [1, 1], [2, 2]])
    assert ys[1] is None


def test_grad_of_a_product_loop_by_hand():
    # f(x) = x * x^2 * x^3 = x^6, so f'(2) = 6 * 2^5 = 192.
    def f(x):
        return lax.fori_loop(1, 4, lambda i, acc: acc * x**i, 1.0)

    np.testing.assert_allclose(mg.grad(f)(2.0), 192.0)
    np.testing.assert_allclose(mg.grad(mg.grad(f))(2.0), 30.0 * 2.0**4)


def test_grad_of_while_loop_by_hand():
    # Newton's iteration for sqrt(a) from x0 = a; d/da of the result is 1 / (2 sqrt(a)).
    def sqrt(a):
        def body(state):
            x, steps = state
            return 0.5 * (x + a / x), steps + 1

        return lax.while_loop(lambda s: s[1] < 30, body, (a, 0))[0]

    np.testing.assert_allclose(sqrt(9.0), 3.0)
    np.testing.assert_allclose(mg.grad(sqrt)(9.0), 1.0 / 6.0)
    np.testing.assert_allclose(mg.jit(mg.grad(sqrt))(9.0), 1.0 / 6.0)


def test_cond_takes_only_the_chosen_branch_and_its_gradient():
    f = lambda x: lax.cond(x > 0, lambda x: 3.0 * x, lambda x: x**2, x)  # noqa: E731
    assert mg.grad(f)(2.0) == 3.0 and mg.grad(f)(-2.0) == -4.0
    np.testing.assert_allclose(mg.vmap(mg.grad(f))(np.array([2.0, -2.0])), [3.0, -4.0])


def test_switch_clamps_the_index_like_jax():
    branches = [lambda: np.array(0.0), lambda: np.array(1.0)]
    assert lax.switch(-3, branches) == 0.0 and lax.switch(7, branches) == 1.0


def test_batched_while_loop_freezes_finished_examples():
    def count_doublings(x):
        return lax.while_loop(lambda c: c[0] < 10.0, lambda c: (c[0] * 2.0, c[1] + 1), (x, 0))

    values, counts = mg.vmap(count_doublings)(np.array([1.0, 5.0, 20.0]))
    np.testing.assert_array_equal(counts, [4, 1, 0])
    np.testing.assert_allclose(values, [16.0, 10.0, 20.0])


def test_select_is_strict_about_shapes():
    np.testing.assert_allclose(lax.select(np.array([True, False]), np.ones(2), np.zeros(2)), [1.0, 0.0])
    with pytest.raises(TypeError, match="select: on_true and on_false"):
        lax.select(np.array(True), np.ones(2), np.zeros(3))


def test_associative_scan_of_a_non_commutative_operation():
    # 2x2 matrix products: prefixes in order, reverse means suffixes.
    rng = np.random.default_rng(0)
    mats = rng.normal(size=(6, 2, 2))
    prefixes = lax.associative_scan(lambda a, b: mnp.matmul(a, b), mats)
    expected = [mats[0]]
    for m in mats[1:]:
        expected.append(expected[-1] @ m)
    np.testing.assert_allclose(prefixes, expected)
    suffixes = lax.associative_scan(lambda a, b: mnp.matmul(b, a), mats, reverse=True)
    expected = [mats[-1]]
    for m in mats[-2::-1]:
        expected.append(m @ expected[-1])
    np.testing.assert_allclose(suffixes, expected[::-1])


# ---------------------------------------------------------------------------------------
# Program size and what reverse mode keeps


def _cumulative(length):
    return lambda x: lax.scan(lambda c, _: (mnp.sin(c) * 1.01, c), x, length=length)[0]


def test_program_size_does_not_grow_with_the_trip_count():
    short, long = _eqns(_cumulative(10), 1.0), _eqns(_cumulative(10_000), 1.0)
    assert len(short) == len(long) == 1
    assert len(_eqns(mg.grad(_cumulative(10)), 1.0)) == len(_eqns(mg.grad(_cumulative(10_000)), 1.0))


def test_reverse_mode_keeps_residuals_instead_of_running_forward_again():
    jaxpr = mg.make_jaxpr(mg.grad(lambda x: lax.scan(lambda c, x: (mnp.sin(c) * x, None), 1.0, x)[0]))(
        np.ones(5)
    )
    scans = [e for e in jaxpr.eqns if e.primitive is scan_p]
    assert len(scans) == 2  # the forward scan (which stacks residuals) and the backward one
    forward, backward = scans
    assert len(forward.outvars) > 1 and backward.params["reverse"] is True
    assert any(v in backward.invars for v in forward.outvars[1:])  # it reads the stacks


def test_checkpoint_inside_a_body_keeps_fewer_residuals():
    def body(c, x):
        return mnp.tanh(mnp.sin(mnp.exp(c * x))), None

    def stacked(step):
        jaxpr = mg.make_jaxpr(mg.grad(lambda x: lax.scan(step, 1.0, x)[0]))(np.ones(5))
        return len([e for e in jaxpr.eqns if e.primitive is scan_p][0].outvars)

    assert stacked(mg.checkpoint(body)) < stacked(body)


def test_loop_invariant_values_are_not_stacked():
    w = np.ones((3, 3))

    def f(x, w):
        return lax.scan(lambda h, _: (mnp.tanh(h @ w.T), None), x, length=4)[0].sum()

    jaxpr = mg.make_jaxpr(mg.grad(f, argnums=(0, 1)))(np.ones(3), w)
    forward = [e for e in jaxpr.eqns if e.primitive is scan_p][0]
    stacked_shapes = [v.aval.shape for v in forward.outvars[1:]]
    assert (4, 3, 3) not in stacked_shapes  # w.T is computed once, not kept per step


# ---------------------------------------------------------------------------------------
# jit: real loops over compiled bodies


def test_jit_compiles_a_loop_not_an_unrolled_program():
    f = mg.jit(lambda x: lax.fori_loop(0, 1000, lambda i, v: v * 0.999 + 1.0, x))
    source = f.lower(np.float64(0.0)).source
    assert "_scan(" in source and len(source.splitlines()) < 10
    expected = 0.0
    for _ in range(1000):
        expected = expected * 0.999 + 1.0
    np.testing.assert_allclose(f(0.0), expected)


def test_jit_of_cond_and_while_call_compiled_branches():
    f = mg.jit(lambda x: lax.cond(x > 0, lambda x: x * 2.0, lambda x: -x, x))
    assert "_cond(" in f.lower(1.0).source
    assert f(3.0) == 6.0 and f(-3.0) == 3.0
    g = mg.jit(lambda x: lax.while_loop(lambda x: x < 100.0, lambda x: x * 3.0, x))
    assert "_while_loop(" in g.lower(1.0).source and g(1.0) == 243.0


# ---------------------------------------------------------------------------------------
# Errors name the construct, the branch or body, and both structures


def test_cond_branches_of_different_types():
    with pytest.raises(TypeError, match=r"cond: the branches must return the same types") as info:
        lax.cond(True, lambda x: x, lambda x: (x, x), 1.0)
    assert "true_fun returns" in str(info.value) and "false_fun returns" in str(info.value)
    with pytest.raises(TypeError, match=r"f32\[\]"):
        lax.cond(True, lambda x: x.astype(np.float32), lambda x: x, np.float64(1.0))


def test_switch_names_the_branch_that_differs():
    with pytest.raises(TypeError, match="branch 2 returns"):
        lax.switch(0, [lambda x: x, lambda x: x, lambda x: x[:1]], np.ones(2))


def test_scan_carry_that_changes_type():
    with pytest.raises(TypeError, match="scan: the body function must return a carry") as info:
        lax.scan(lambda c, x: (c[:1], x), np.ones(2), np.ones(3))
    assert "f64[2]" in str(info.value) and "f64[1]" in str(info.value)
    with pytest.raises(TypeError, match=r"must return a pair \(carry, y\)"):
        lax.scan(lambda c, x: c, 0.0, np.ones(3))


def test_while_loop_body_and_predicate_errors():
    with pytest.raises(TypeError, match="while_loop: the body function must return a carry"):
        lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1,), (0, 1.0))
    with pytest.raises(TypeError, match="cond_fun must return a boolean scalar"):
        lax.while_loop(lambda c: c, lambda c: c, np.ones(2))


def test_weak_python_number_carry_takes_the_body_dtype():
    carry, _ = lax.scan(lambda c, x: (c + x, None), 0.0, np.ones(3, np.float32))
    assert carry.dtype == np.float32 and carry == 3.0


def test_programs_with_nested_sub_programs_typecheck_and_print_indented():
    def f(x):
        inner = lambda c, _: (lax.cond(c > 0, lambda c: c * 0.5, lambda c: c + 1.0, c), None)  # noqa: E731
        return lax.scan(inner, x, length=3)[0]

    closed = mg.make_jaxpr(mg.grad(f))(2.0)
    typecheck(closed)
    text = str(mg.make_jaxpr(f)(2.0))
    assert "scan[\n      jaxpr={ lambda" in text and "cond[\n" in text
