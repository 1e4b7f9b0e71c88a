"""``mnp.frompyfunc`` and its ``ufunc`` (``minigrad/numpy/_ufuncs.py``).

Values against NumPy's own ufuncs (``np.add.reduceat`` and friends, for the function
``x + y``) and hand-computed folds of a function that is neither commutative nor
associative, so a wrong order shows; everything against ``jax.numpy.frompyfunc`` where
JAX is installed; derivatives by finite differences; ``jit`` against eager and ``vmap``
against a loop; the errors.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.testing import check_grads

X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
ADD = mnp.frompyfunc(lambda x, y: x + y, 2, 1, identity=0.0)
# f(x, y) = x * y + 0.5: a fold of it depends on the order of the elements.
SKEW = mnp.frompyfunc(lambda x, y: x * y + 0.5, 2, 1)
SKEW_ONE = mnp.frompyfunc(lambda x, y: x * y + 0.5, 2, 1, identity=1.0)


def test_calls_broadcast_and_methods_match_numpys_add():
    np.testing.assert_array_equal(ADD(X, np.array([10.0, 20.0, 30.0])), X + [10.0, 20.0, 30.0])
    for axis in (0, 1, -1, None):
        np.testing.assert_array_equal(ADD.reduce(X, axis=axis), np.add.reduce(X, axis=axis))
        np.testing.assert_array_equal(
            ADD.reduce(X, axis=axis, keepdims=True), np.add.reduce(X, axis=axis, keepdims=True)
        )
    np.testing.assert_array_equal(ADD.accumulate(X, axis=1), np.add.accumulate(X, axis=1))
    np.testing.assert_array_equal(ADD.outer(X[0], X), np.add.outer(X[0], X))
    indices = [0, 4, 1, 5]
    np.testing.assert_array_equal(
        ADD.reduceat(np.arange(6.0), indices), np.add.reduceat(np.arange(6.0), indices)
    )
    np.testing.assert_array_equal(ADD.reduceat(X, [0, 2], axis=1), np.add.reduceat(X, [0, 2], axis=1))
    expected = np.zeros(4)
    np.add.at(expected, [0, 0, 3], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ADD.at(np.zeros(4), [0, 0, 3], [1.0, 2.0, 3.0], inplace=False), expected)
    assert ADD.reduce(np.zeros(0)) == 0.0  # the identity


def test_folds_go_in_order():
    # Row [1, 2, 3]: f(f(1, 2), 3) = f(2.5, 3) = 8; from the identity 1: f(f(f(1, 1), 2), 3) = 11.
    np.testing.assert_allclose(SKEW.reduce(X, axis=1), [8.0, 123.5])
    np.testing.assert_allclose(SKEW_ONE.reduce(X, axis=1), [11.0, 138.5])
    np.testing.assert_allclose(SKEW.reduce(X, axis=1, initial=2.0), [17.0, 258.5])
    # where skips the middle column: f(f(1, 1), 3) = 5.
    np.testing.assert_allclose(SKEW_ONE.reduce(X, axis=1, where=np.array([True, False, True])), [5.0, 27.5])
    np.testing.assert_allclose(SKEW.accumulate(X[0]), [1.0, 2.5, 8.0])
    # Repeated indices compound: f(f(1, 2), 2) = 5.5.
    np.testing.assert_allclose(
        SKEW.at(np.array([1.0, 2.0, 3.0]), [0, 0, 2], 2.0, inplace=False), [5.5, 2.0, 6.5]
    )
    two = mnp.frompyfunc(lambda x, y: (x + y, x - y), 2, 2)(X, 1.0)
    np.testing.assert_array_equal(two[0], X + 1.0)
    np.testing.assert_array_equal(two[1], X - 1.0)
    assert (SKEW.nin, SKEW.nout, SKEW.nargs, SKEW_ONE.identity) == (2, 1, 2, 1.0)


def test_results_match_jax():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    theirs = jnp.frompyfunc(lambda x, y: x * y + 0.5, 2, 1)
    theirs_one = jnp.frompyfunc(lambda x, y: x * y + 0.5, 2, 1, identity=1.0)
    mask = np.array([True, False, True])
    cases = [
        (lambda u, a: u.reduce(a), SKEW, theirs),
        (lambda u, a: u.reduce(a, axis=None), SKEW, theirs),
        (lambda u, a: u.reduce(a, axis=1, where=mask), SKEW_ONE, theirs_one),
        (lambda u, a: u.accumulate(a, axis=1), SKEW, theirs),
        (lambda u, a: u.outer(a[0], a), SKEW, theirs),
        (lambda u, a: u.reduceat(a, np.array([0, 2, 1]), axis=1), SKEW, theirs),
        (lambda u, a: u.at(a, (np.array([0, 0, 1]), np.array([1, 1, 2])), 0.5, inplace=False), SKEW, theirs),
    ]
    with jax.enable_x64(True):
        for method, ours, jax_ufunc in cases:
            np.testing.assert_allclose(method(ours, X), np.asarray(method(jax_ufunc, X)), rtol=1e-14)
            ours_grad = mg.grad(lambda a, m=method, u=ours: mnp.sum(m(u, a) ** 2))(X)
            jax_grad = jax.grad(lambda a, m=method, u=jax_ufunc: jnp.sum(m(u, a) ** 2))(X)
            np.testing.assert_allclose(ours_grad, np.asarray(jax_grad), rtol=1e-12)


METHODS = [
    ("call", lambda a: SKEW(a, a[::-1])),
    ("reduce", lambda a: SKEW.reduce(a, axis=1)),
    ("reduce_where", lambda a: SKEW_ONE.reduce(a, axis=0, where=np.array([[True], [False]]))),
    ("accumulate", lambda a: SKEW.accumulate(a, axis=0)),
    ("outer", lambda a: SKEW.outer(a[0], a[1])),
    ("reduceat", lambda a: SKEW.reduceat(a, [0, 2, 1], axis=1)),
    ("at", lambda a: SKEW.at(a, ([0, 0, 1], [1, 1, 2]), a[1, 0], inplace=False)),
]


@pytest.mark.parametrize("name,f", METHODS, ids=[m[0] for m in METHODS])
def test_derivatives_jit_and_vmap(name, f):
    x = X / 3.0
    check_grads(f, (x,), order=2)
    np.testing.assert_allclose(mg.jit(f)(x), f(x), rtol=1e-14)
    stack = np.stack([x, 2.0 * x, -x])
    np.testing.assert_allclose(mg.vmap(f)(stack), np.stack([f(s) for s in stack]), rtol=1e-14)


def test_errors_say_what_to_do():
    with pytest.raises(ValueError, match="inplace=False"):
        SKEW.at(X, 0, 1.0)
    with pytest.raises(ValueError, match="needs a start value: pass initial="):
        SKEW.reduce(X, where=np.array([True, False, True]))
    with pytest.raises(ValueError, match="zero-size axis.*pass initial="):
        SKEW.reduce(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="only binary ufuncs"):
        mnp.frompyfunc(np.negative, 1, 1).reduce(X)
    with pytest.raises(ValueError, match="one output"):
        mnp.frompyfunc(lambda x, y: (x, y), 2, 2).accumulate(X)
    with pytest.raises(ValueError, match="one axis after the other"):
        SKEW.reduce(X, axis=(0, 1))
    with pytest.raises(TypeError, match="expected 2 arguments, got 1"):
        SKEW(X)
    with pytest.raises(TypeError, match="out= is not supported"):
        SKEW(X, X, out=X)
    with pytest.raises(TypeError, match="indices must be known"):
        mg.jit(lambda i: SKEW.at(X, i, 1.0, inplace=False))(np.array([0]))
