"""mg.debug.print and mg.debug.callback show concrete values under every transform, each
time the program runs."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.ir import ShapedArray
from minigrad.core.staging import stage_flat
from minigrad.core.typecheck import typecheck
from minigrad.debug import debug_callback_p
from minigrad.transforms.jit.passes import cse, dce, fold_constants, optimize


def loss(x):
    mg.debug.print("x = {}, sin = {s}", x, s=mnp.sin(x))
    return (x * x).sum()


X = np.array([0.0, 1.0])
SHOWN = "x = [0. 1.], sin = [0.         0.84147098]\n"


def printed(capsys, fun, *args):
    capsys.readouterr()
    fun(*args)
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "transform",
    [
        mg.grad,
        mg.value_and_grad,
        lambda f: lambda x: mg.vjp(f, x)[1](np.array(1.0)),
        lambda f: lambda x: mg.jvp(f, (x,), (x,)),
        mg.jacfwd,
        mg.jacrev,
        mg.hessian,
        mg.jit,
        lambda f: mg.jit(mg.grad(f)),
        lambda f: mg.grad(mg.jit(f)),
        lambda f: mg.grad(lambda x: mg.grad(f)(x).sum()),
    ],
    ids=[
        "grad",
        "value_and_grad",
        "vjp",
        "jvp",
        "jacfwd",
        "jacrev",
        "hessian",
        "jit",
        "jit of grad",
        "grad of jit",
        "grad of grad",
    ],
)
def test_prints_the_values_once_per_call(capsys, transform):
    fun = transform(loss)
    assert printed(capsys, fun, X) == SHOWN
    assert printed(capsys, fun, X) == SHOWN  # again: jit's compiled code prints too


def test_jit_prints_on_every_call_with_that_calls_values(capsys):
    fun = mg.jit(loss)
    assert printed(capsys, fun, X) == SHOWN
    assert printed(capsys, fun, X + 1) == "x = [1. 2.], sin = [0.84147098 0.90929743]\n"
    assert "debug_callback" in fun.lower(X).source or "_debug_callback" in fun.lower(X).source


def test_vmap_prints_each_example(capsys):
    xs = np.stack([X, X + 1])
    expected = SHOWN + "x = [1. 2.], sin = [0.84147098 0.90929743]\n"
    assert printed(capsys, mg.vmap(loss), xs) == expected
    assert printed(capsys, mg.jit(mg.vmap(loss)), xs) == expected
    assert printed(capsys, mg.vmap(mg.grad(loss)), xs) == expected
    # a batch axis other than 0, and a shared argument
    shown = printed(capsys, mg.vmap(lambda x, w: mg.debug.print("{} {}", x, w), in_axes=(1, None)), xs, 7.0)
    assert shown == "[0. 1.] 7.0\n[1. 2.] 7.0\n"


def test_prints_of_constants_run_whenever_the_program_runs(capsys):
    def f(x):
        mg.debug.print("start")
        mg.debug.print("constant {:.1f}", 2.0)
        return x * 2

    for fun, argument in [
        (mg.jit(f), 1.0),
        (mg.jit(mg.grad(f)), 1.0),
        (mg.grad(mg.jit(f)), 1.0),
        (mg.vmap(f), np.ones(2)),
    ]:
        assert printed(capsys, fun, argument) == "start\nconstant 2.0\n"
        assert printed(capsys, fun, argument) == "start\nconstant 2.0\n"


def test_callback_gets_pytrees_and_static_leaves():
    seen = []

    def f(params):
        mg.debug.callback(lambda p, tag: seen.append((tag, p)), params, tag="step")
        return params["w"].sum()

    mg.jit(mg.grad(f))({"w": np.ones(2)})
    (tag, params), *_ = seen
    assert tag == "step" and list(params) == ["w"]
    np.testing.assert_array_equal(params["w"], np.ones(2))


def test_the_program_holds_one_equation_that_the_passes_keep():
    def f(x):
        mg.debug.print("{}", x)
        mg.debug.print("{}", x)  # identical: both print
        mg.debug.print("{}", 3.0)  # all literal: not evaluated in advance
        return x + 1

    closed = stage_flat(lambda x: [f(x)], [ShapedArray((), np.float64)])
    typecheck(closed)
    assert [eqn.primitive for eqn in closed.jaxpr.eqns].count(debug_callback_p) == 3
    for simplified in (
        dce(closed.jaxpr),
        cse(closed.jaxpr),
        fold_constants(closed.jaxpr),
        optimize(closed).jaxpr,
    ):
        assert [eqn.primitive for eqn in simplified.eqns].count(debug_callback_p) == 3
    assert "debug_callback[callback=print('{}')]" in str(mg.make_jaxpr(f)(1.0))


def test_no_derivative_flows_through_a_print():
    assert mg.grad(loss)(X).tolist() == [0.0, 2.0]
    assert mg.jvp(loss, (X,), (np.ones(2),))[1] == pytest.approx(2.0)


def test_outside_transforms_it_prints_at_once(capsys):
    assert printed(capsys, loss, X) == SHOWN
