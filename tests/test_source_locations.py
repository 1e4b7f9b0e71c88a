"""Errors raised while a transform runs a user's function name the user's file:line,
and staged programs remember the line that made each equation."""

import os

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.recording import RecordTrace
from minigrad.core.trace import new_trace

HERE = os.path.basename(__file__)


def line_of(fun, offset):
    """The line ``offset`` lines below the ``def`` of ``fun``."""
    return fun.__code__.co_firstlineno + offset


def bad_matmul(x):
    w = mnp.ones((3, 4))
    return (x @ w).sum()  # x has 2 columns: does not align


def bad_broadcast(x):
    y = mnp.multiply(x, mnp.ones(3))
    return y.sum()


def bad_reshape(x):
    return x.reshape(5).sum()


def branchy(x):
    if x > 0:
        return x
    return -x


def helper(x):
    return x + mnp.ones(7)


def calls_helper(x):
    return helper(x).sum()


X = np.ones((2, 2))


def transform_calls():
    """(name, call) pairs running ``fun`` under every transform, and eagerly."""
    return [
        ("grad", lambda f: mg.grad(f)(X)),
        ("value_and_grad", lambda f: mg.value_and_grad(f)(X)),
        ("vjp", lambda f: mg.vjp(f, X)),
        ("jvp", lambda f: mg.jvp(f, (X,), (X,))),
        ("make_jaxpr", lambda f: mg.make_jaxpr(f)(X)),
        ("grad of grad", lambda f: mg.grad(lambda x: mg.grad(f)(x).sum())(X)),
        ("eager", lambda f: f(X)),
    ]


@pytest.mark.parametrize("name, call", transform_calls(), ids=[n for n, _ in transform_calls()])
@pytest.mark.parametrize(
    "fun, offset, operation",
    [(bad_matmul, 2, "matmul"), (bad_broadcast, 1, "mul"), (bad_reshape, 1, "reshape")],
    ids=["matmul", "broadcast", "reshape"],
)
def test_shape_errors_name_the_users_line(name, call, fun, offset, operation):
    with pytest.raises(ValueError) as info:
        call(fun)
    message = str(info.value)
    where = f"{HERE}:{line_of(fun, offset)}"
    if name == "eager" and operation != "mul":
        # Outside transforms only errors from primitives are annotated; the traceback
        # points at the line anyway.
        return
    assert where in message, message
    assert message.count(f"(at {__file__}") == 1, message
    assert operation in message


@pytest.mark.parametrize("name, call", transform_calls()[:-1], ids=[n for n, _ in transform_calls()[:-1]])
def test_the_innermost_user_line_is_named(name, call):
    with pytest.raises(ValueError, match="cannot be broadcast") as info:
        call(calls_helper)
    assert f"{HERE}:{line_of(helper, 1)}" in str(info.value)


def test_concretization_error_names_the_if():
    with pytest.raises(mg.ConcretizationError) as info:
        mg.make_jaxpr(branchy)(1.0)
    assert f"{HERE}:{line_of(branchy, 1)}" in str(info.value)


def test_the_users_own_errors_are_left_alone():
    def refuses(x):
        raise ValueError("my own message")

    with pytest.raises(ValueError) as info:
        mg.grad(refuses)(1.0)
    assert str(info.value) == "my own message"


def seed(x1, x2):
    product = x1 * x2
    return product + mnp.sin(x1)


def test_make_jaxpr_source_prints_each_equations_line():
    printed = str(mg.make_jaxpr(seed, source=True)(2.0, 3.0))
    lines = printed.splitlines()[1:-1]
    assert [line.split("=")[1].split()[0] for line in lines] == ["mul", "sin", "add"]
    assert lines[0].endswith(f"{HERE}:{line_of(seed, 1)}")
    assert lines[1].endswith(f"{HERE}:{line_of(seed, 2)}")
    assert lines[2].endswith(f"{HERE}:{line_of(seed, 2)}")
    # The plain printout has no comments, and .pretty chooses either way.
    closed = mg.make_jaxpr(seed)(2.0, 3.0)
    assert "#" not in str(closed)
    assert closed.pretty(source=True) == printed


def test_staged_equations_remember_their_source():
    closed = mg.make_jaxpr(seed)(2.0, 3.0)
    for eqn in closed.eqns:
        assert eqn.source is not None and eqn.source.startswith(__file__)


def test_gradient_equations_carry_the_line_they_differentiate():
    seed_lines = {f"{__file__}:{line_of(seed, 1)}", f"{__file__}:{line_of(seed, 2)}"}
    for transform in (mg.grad(seed, argnums=(0, 1)), mg.grad(mg.grad(seed))):
        closed = mg.make_jaxpr(transform)(2.0, 3.0)
        assert len(closed.eqns) > 3
        assert {eqn.source for eqn in closed.eqns} == seed_lines


def test_eager_gradients_record_no_source():
    # Finding lines costs a stack walk; eager reverse mode never pays it.
    with new_trace(RecordTrace) as trace:
        x = trace.new_input(np.float64(2.0))
        seed(x, x)
    assert [source for *_, source in trace.tape] == [None, None, None]


def numpy_on_a_tracer(x):
    return np.sin(x).sum()


def out_of_bounds(x):
    return x[5].sum()


@pytest.mark.parametrize("name, call", transform_calls()[:-1], ids=[n for n, _ in transform_calls()[:-1]])
def test_numpy_on_a_tracer_says_to_use_minigrad_numpy(name, call):
    with pytest.raises(TypeError, match="minigrad.numpy") as info:
        call(numpy_on_a_tracer)
    assert f"{HERE}:{line_of(numpy_on_a_tracer, 1)}" in str(info.value)


@pytest.mark.parametrize("name, call", transform_calls()[:-1], ids=[n for n, _ in transform_calls()[:-1]])
def test_index_errors_name_the_users_line(name, call):
    with pytest.raises(IndexError, match="out of bounds") as info:
        call(out_of_bounds)
    assert f"{HERE}:{line_of(out_of_bounds, 1)}" in str(info.value)
