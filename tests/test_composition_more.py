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

from collections import namedtuple

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp

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
