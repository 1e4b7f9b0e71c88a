"""Tracers as Python sees them: numbers taken out of them never drop a derivative
silently, and their repr shows the value wherever it is known."""

import math
import math as renamed_math
import re

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.errors import CONCRETIZATION_ADVICE, DROPPED_DERIVATIVE_ADVICE
from minigrad.core.trace import _MATH_COUNTERPARTS


def tanh_by_math(x):
    return math.tanh(2 * x)


def tanh_of_sum_by_math(x):
    return math.tanh(2 * x.sum())


def custom_tanh_by_math():
    fun = mg.custom_vjp(lambda x: mnp.sin(x) * math.tanh(x))
    fun.defvjp(lambda x: (fun(x), x), lambda residual, g: (g,))
    return fun


# Transforms that know the value: a derivative would be lost, so a TypeError names both
# ways out. The issue's first example is the first row: grad of math.tanh gave 0.0.
DIFFERENTIATING = {
    "grad": lambda: mg.grad(tanh_by_math)(0.5),
    "value_and_grad": lambda: mg.value_and_grad(tanh_by_math)(0.5),
    "vjp": lambda: mg.vjp(tanh_by_math, 0.5),
    "jvp": lambda: mg.jvp(tanh_by_math, (0.5,), (1.0,)),
    "jacfwd": lambda: mg.jacfwd(tanh_by_math)(0.5),
    "jacrev": lambda: mg.jacrev(tanh_by_math)(0.5),
    "hessian": lambda: mg.hessian(tanh_by_math)(0.5),
    "grad of grad": lambda: mg.grad(mg.grad(tanh_by_math))(0.5),
    "jvp of grad": lambda: mg.jvp(mg.grad(tanh_by_math), (0.5,), (1.0,)),
}

# Transforms that stage the function: the value is not known at all.
STAGING = {
    "vmap": lambda: mg.vmap(tanh_by_math)(np.ones(2)),
    "jit": lambda: mg.jit(tanh_by_math)(0.5),
    "make_jaxpr": lambda: mg.make_jaxpr(tanh_by_math)(0.5),
    "checkpoint": lambda: mg.grad(mg.checkpoint(tanh_by_math))(0.5),
    "custom_vjp under jit": lambda: mg.jit(mg.grad(custom_tanh_by_math()))(0.5),
    "jit of grad": lambda: mg.jit(mg.grad(tanh_of_sum_by_math))(np.ones(2)),
}


@pytest.mark.parametrize("name", sorted(DIFFERENTIATING))
def test_math_functions_on_a_differentiated_value_raise_and_name_both_ways_out(name):
    with pytest.raises(TypeError) as info:
        DIFFERENTIATING[name]()
    message = str(info.value)
    assert not isinstance(info.value, mg.ConcretizationError)
    assert "math.tanh()" in message and "Use `mnp.tanh(x)` instead of `math.tanh(x)`" in message
    assert "float(mg.stop_gradient(x))" in message and DROPPED_DERIVATIVE_ADVICE in message
    assert "test_trace.py:" in message  # the user's line


def test_custom_vjp_fwd_runs_on_values_under_grad_so_math_functions_work():
    # As in JAX: fwd sees plain values there, and the derivative is bwd's (here g).
    assert mg.grad(custom_tanh_by_math())(0.5) == 1.0


@pytest.mark.parametrize("name", sorted(STAGING))
def test_math_functions_under_staging_raise_concretization_errors_naming_them(name):
    with pytest.raises(TypeError) as info:
        STAGING[name]()
    message = str(info.value)
    if name == "jit of grad":  # grad's tracer knows it carries a derivative
        assert "Use `mnp.tanh(x)`" in message
        return
    assert isinstance(info.value, mg.ConcretizationError)
    assert CONCRETIZATION_ADVICE in message
    assert "float()" in message and "math.tanh() called float(): use mnp.tanh" in message


@pytest.mark.parametrize(
    "take, operation",
    [
        (float, "float()"),
        (complex, "complex()"),
        (lambda x: x.item(), ".item()"),
        (lambda x: x.tolist(), ".tolist()"),
    ],
    ids=["float", "complex", "item", "tolist"],
)
def test_every_way_to_a_python_number_refuses_a_derivative(take, operation):
    with pytest.raises(TypeError, match=re.escape(f"{operation} was applied to a traced value f64[]")):
        mg.grad(lambda x: take(x) * x)(3.0)
    with pytest.raises(TypeError, match=re.escape(operation)):
        mg.jvp(lambda x: take(x) * x, (3.0,), (1.0,))
    with pytest.raises(mg.ConcretizationError, match=re.escape(operation)):
        mg.jit(lambda x: take(x) * x)(3.0)


def test_the_issue_examples_now_raise_instead_of_returning_wrong_numbers():
    with pytest.raises(TypeError, match="mnp.sin"):
        mg.grad(lambda x: x * math.sin(x))(2.0)  # used to return sin(2): a lost term
    with pytest.raises(TypeError, match=re.escape("`mnp.arctan(x)` instead of `math.atan(x)`")):
        mg.grad(lambda x: renamed_math.atan(x))(2.0)  # renamed module, renamed function


def test_values_without_a_derivative_still_become_python_numbers():
    # stop_gradient on purpose, at one level and under grad of grad
    assert mg.grad(lambda x: float(mg.stop_gradient(x)) * x)(3.0) == pytest.approx(3.0)
    assert mg.grad(mg.grad(lambda x: float(mg.stop_gradient(x)) * x**2))(3.0) == pytest.approx(6.0)
    assert mg.jvp(lambda x: mg.stop_gradient(x).item() * x, (3.0,), (1.0,))[1] == pytest.approx(3.0)
    # integer values carry no derivative
    assert mg.grad(lambda x, n: x * float(n))(2.0, 3) == pytest.approx(3.0)
    assert mg.grad(lambda x: x.sum() * float(mnp.argmax(x)))(np.array([1.0, 2.0])).tolist() == [1.0, 1.0]
    # a value the inner transform does not differentiate: a constant to it
    outer = mg.grad(lambda x: mg.grad(lambda y: y * float(mg.stop_gradient(x)))(1.0) * x)
    assert outer(2.0) == pytest.approx(2.0)
    # complex(), .item() and .tolist() outside transforms and on plain values
    assert mg.grad(lambda x: x * complex(mg.stop_gradient(x)).real)(2.0) == pytest.approx(2.0)


def test_bool_int_and_index_keep_working_for_control_flow():
    def f(x):
        n = int(x)
        if x > 1:
            return x * n + mnp.ones(3)[mnp.asarray(n % 3)]
        return x

    assert mg.grad(f)(2.5) == pytest.approx(2.0)
    assert mg.jvp(f, (2.5,), (1.0,))[1] == pytest.approx(2.0)


def test_every_suggested_counterpart_exists():
    assert _MATH_COUNTERPARTS["tanh"] == "mnp.tanh" and _MATH_COUNTERPARTS["atan"] == "mnp.arctan"
    for math_name, suggestion in _MATH_COUNTERPARTS.items():
        assert hasattr(math, math_name)
        assert hasattr(mnp, suggestion.removeprefix("mnp.")), suggestion


def test_an_unknown_math_function_names_the_general_rule():
    with pytest.raises(TypeError) as info:
        mg.grad(lambda x: math.lgamma(x))(2.0)  # no minigrad.numpy counterpart
    assert "math.lgamma()" in str(info.value) and DROPPED_DERIVATIVE_ADVICE in str(info.value)


# ---------------------------------------------------------------------------------------
# repr


def capture_repr(transform, fun, *args):
    seen = []

    def spy(x):
        seen.append((repr(x), str(x)))
        return fun(x)

    transform(spy)(*args)
    return seen[0]


def test_repr_shows_the_value_under_grad_and_vjp():
    shown, printed = capture_repr(mg.grad, lambda x: (x * 2).sum(), np.array([1.0, 2.0, 3.0]))
    assert shown == printed == "Traced<f64[3]>(value=array([1., 2., 3.]), grad)"
    shown, _ = capture_repr(lambda f: lambda x: mg.vjp(f, x), lambda x: x, 0.5)
    assert shown == "Traced<f64[]>(value=array(0.5), grad)"


def test_repr_shows_value_and_tangent_under_jvp():
    shown, _ = capture_repr(lambda f: lambda x: mg.jvp(f, (x,), (np.ones(2),)), lambda x: x, np.zeros(2))
    assert shown == "Traced<f64[2]>(value=array([0., 0.]), tangent=array([1., 1.]), jvp)"


def test_repr_under_nested_differentiation_shows_the_innermost_value():
    shown, _ = capture_repr(lambda f: mg.grad(mg.grad(f)), lambda x: x**3, 2.0)
    assert shown == "Traced<f64[]>(value=array(2.), grad)"


@pytest.mark.parametrize(
    "transform",
    [mg.jit, mg.make_jaxpr, mg.vmap, lambda f: mg.jit(mg.grad(f))],
    ids=["jit", "make_jaxpr", "vmap", "jit of grad"],
)
def test_repr_under_staging_stays_abstract(transform):
    shown, _ = capture_repr(transform, lambda x: (x * 2).sum(), np.ones(3))
    assert "value=" not in shown and "<f64[" in shown
