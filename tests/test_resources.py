"""Resource bounds: long programs must not need a deep Python stack.

Each test runs with the recursion limit set a fixed margin above the current stack
depth, so any recursion whose depth grows with the program (in tracing, the backward
pass, the pretty printer, the typechecker, nested derivatives) fails here, not in a
user's 100k-step simulation. Programs are chains of one cheap primitive so the tests
stay fast.
"""

import sys

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.interpreter import eval_jaxpr
from minigrad.core.typecheck import typecheck

# Frames minigrad itself may use for one call, whatever the program's length.
STACK_MARGIN = 150


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


@pytest.fixture
def shallow_stack():
    """Lower the recursion limit to a fixed margin above where the test runs."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + STACK_MARGIN)
    yield
    sys.setrecursionlimit(limit)


def chain(x, length):
    for _ in range(length):
        x = mnp.sin(x)
    return x.sum()


def test_the_margin_is_tight_enough_to_catch_recursion(shallow_stack):
    def recurse(n):
        return 0 if n == 0 else 1 + recurse(n - 1)

    with pytest.raises(RecursionError):
        recurse(1000)


def test_make_jaxpr_print_typecheck_and_replay_100k_equations(shallow_stack):
    closed = mg.make_jaxpr(lambda x: chain(x, 100_000))(np.ones(2))
    assert len(closed.eqns) == 100_001
    text = str(closed)
    assert text.count("\n") == 100_001 + 1  # a header line, one per equation, the outputs
    typecheck(closed)
    x = np.array([0.5, 1.0])
    (replayed,) = eval_jaxpr(closed.jaxpr, closed.consts, x)
    expected = x
    for _ in range(100_000):
        expected = np.sin(expected)
    np.testing.assert_allclose(replayed, expected.sum())


def test_grad_of_a_100k_equation_program(shallow_stack):
    x = np.array([0.5, 1.0])
    g = mg.grad(lambda x: chain(x, 100_000))(x)
    # d/dx of sin^n(x) is the product of cos over the chain's values
    expected, value = np.ones(2), x.copy()
    for _ in range(100_000):
        expected *= np.cos(value)
        value = np.sin(value)
    np.testing.assert_allclose(g, expected, rtol=1e-9)


def test_nested_derivatives_of_a_10k_deep_chain(shallow_stack):
    f = lambda x: chain(x, 10_000)  # noqa: E731
    second = mg.grad(mg.grad(f))(0.5)
    assert np.isfinite(second)
    _, tangent = mg.jvp(mg.grad(f), (np.ones(2),), (np.ones(2),))
    np.testing.assert_allclose(tangent[0], tangent[1])
    closed = mg.make_jaxpr(mg.grad(f))(np.ones(2))
    typecheck(closed)
    assert len(closed.eqns) > 20_000


def test_a_10k_long_sum_of_reused_values(shallow_stack):
    # Fan-in: one value used 10k times, so its cotangent is a 10k-term accumulation.
    def f(x):
        total = x
        for i in range(10_000):
            total = total + x * (i % 3)
        return total.sum()

    g = mg.grad(f)(np.ones(3))
    np.testing.assert_array_equal(g, np.full(3, 1 + sum(i % 3 for i in range(10_000))))


def test_jit_vmap_jacobians_and_checkpoint_on_10k_deep_chains(shallow_stack):
    f = lambda x: chain(x, 10_000)  # noqa: E731
    x = np.array([0.5, 1.0])
    np.testing.assert_allclose(mg.jit(f)(x), f(x), rtol=1e-12)
    gradient = mg.grad(f)(x)
    batch = np.stack([x, x * 0.5, -x])
    np.testing.assert_allclose(mg.vmap(mg.grad(f))(batch)[0], gradient, rtol=1e-12)
    np.testing.assert_allclose(mg.jacfwd(f)(x), gradient, rtol=1e-12)
    np.testing.assert_allclose(mg.grad(mg.checkpoint(f))(x), gradient, rtol=1e-12)
    hessian = mg.hessian(lambda x: chain(x, 2_000))(x)
    assert hessian.shape == (2, 2) and hessian[0, 1] == 0.0  # the elements never mix
