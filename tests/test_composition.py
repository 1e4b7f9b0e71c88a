"""Every transform composes with every other one.

The matrix: sequences of one, two and three transforms from {grad, jvp, vjp, vmap,
jacfwd, jacrev}, applied to a bank of functions that broadcast, reduce, index, multiply
matrices and branch with ``where``. Each transform is a map from a function of ``x`` to
another function of ``x``, and each has an independent reference: finite differences
(or, for ``vmap``, a Python loop). ``T1(T2(T3(f)))`` is checked against the reference of
``T1`` applied to ``T2(T3(f))``, which the shorter sequences have checked in turn, so
every level is compared with first-order finite differences only, which stay accurate.

Third derivatives of scalar functions are also checked against closed forms.
"""

import itertools

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.typecheck import typecheck
from minigrad.testing import check_grads

EPS = 1e-5
X = np.array([0.3, -0.8, 1.1, 0.5])


def _pattern(shape, phase=1.0):
    """A fixed, irregular array of ``shape`` (cotangents, tangents)."""
    size = int(np.prod(shape, dtype=np.int64))
    return np.cos(np.arange(size) * 1.3 + phase).reshape(shape)


# ---------------------------------------------------------------------------------------
# The transforms, each as a map between functions of x, and their references.


def lift_grad(fun):
    def grad_fun(x):
        return mg.grad(lambda x: mnp.sum(fun(x) * _pattern(mnp.shape(fun(x)))))(x)

    return grad_fun


def lift_jvp(fun):
    return lambda x: mg.jvp(fun, (x,), (_pattern(x.shape, 2.0),))[1]


def lift_vjp(fun):
    def vjp_fun(x):
        out, pullback = mg.vjp(fun, x)
        return pullback(_pattern(out.shape))[0]

    return vjp_fun


def lift_vmap(fun):
    return lambda x: mg.vmap(fun)(mnp.stack([x, 0.5 * x + 0.25]))


TRANSFORMS = {
    "grad": lift_grad,
    "jvp": lift_jvp,
    "vjp": lift_vjp,
    "vmap": lift_vmap,
    "jacfwd": mg.jacfwd,
    "jacrev": mg.jacrev,
}


def numerical_jacobian(fun, x):
    columns = []
    for index in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[index] = EPS
        columns.append((np.asarray(fun(x + step)) - np.asarray(fun(x - step))) / (2 * EPS))
    return np.moveaxis(np.array(columns), 0, -1).reshape(np.shape(fun(x)) + x.shape)


def reference(name, fun, x):
    """What ``TRANSFORMS[name](fun)(x)`` must be, computed without that transform."""
    if name in ("grad", "vjp"):
        out = np.asarray(fun(x))
        return np.tensordot(_pattern(out.shape), numerical_jacobian(fun, x), axes=out.ndim)
    if name == "jvp":
        tangent = _pattern(x.shape, 2.0)
        return (np.asarray(fun(x + EPS * tangent)) - np.asarray(fun(x - EPS * tangent))) / (2 * EPS)
    if name == "vmap":
        return np.stack([fun(x), fun(0.5 * x + 0.25)])
    return numerical_jacobian(fun, x)


def compose(names, fun):
    for name in reversed(names):
        fun = TRANSFORMS[name](fun)
    return fun


# ---------------------------------------------------------------------------------------
# The bank of functions: R^4 -> arrays, smooth near X.


def broadcast_reduce(x):
    return (mnp.sin(x)[:, None] * x[None, :2]).sum(axis=1) + mnp.tanh(x).mean()


def matmul_index(x):
    m = x.reshape(2, 2)
    return (m @ m.T)[np.array([0, 1, 1]), 0] * mnp.exp(x[::-1][:3])


def logsumexp_max(x):
    return mnp.logsumexp(x * np.arange(1.0, 5.0)) - 0.5 * x.max() + mnp.einsum("i,i->", x, x[::-1])


def where_concat(x):
    return mnp.where(x > 0, x**3, mnp.sin(x)) * mnp.concatenate([x[1:], x[:1]])


def pad_prod(x):
    return mnp.pad(x, 1)[1:4] * mnp.prod(mnp.cos(x)) + mnp.sqrt(x**2 + 1.0)[:3]


BANK = [broadcast_reduce, matmul_index, logsumexp_max, where_concat, pad_prod]

SINGLES = [(name,) for name in TRANSFORMS]
PAIRS = list(itertools.product(TRANSFORMS, repeat=2))
TRIPLES = list(itertools.product(TRANSFORMS, repeat=3))


def _check(names, fun):
    inner = compose(names[1:], fun)
    got = compose(names, fun)(X)
    expected = reference(names[0], inner, X)
    assert np.shape(got) == np.shape(expected), f"{names}: shape {np.shape(got)} != {np.shape(expected)}"
    scale = max(1.0, float(np.max(np.abs(expected))) if np.size(expected) else 1.0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * scale, err_msg=" of ".join(names))


@pytest.mark.parametrize("names", SINGLES + PAIRS, ids="-".join)
@pytest.mark.parametrize("fun", BANK, ids=lambda f: f.__name__)
def test_pairs_of_transforms(names, fun):
    _check(names, fun)


@pytest.mark.parametrize("names", TRIPLES, ids="-".join)
def test_triples_of_transforms(names):
    # Each triple on one function of the bank, in turn: every function meets many triples.
    fun = BANK[TRIPLES.index(names) % len(BANK)]
    _check(names, fun)


@pytest.mark.parametrize("names", PAIRS, ids="-".join)
def test_composed_programs_typecheck(names):
    typecheck(mg.make_jaxpr(compose(names, matmul_index))(X))


# ---------------------------------------------------------------------------------------
# Third derivatives in closed form


def _derivative(name):
    """A scalar derivative operator built from one transform."""
    if name == "jvp":
        return lambda f: lambda x: mg.jvp(f, (x,), (np.ones(mnp.shape(x)),))[1]
    if name == "vjp":
        return lambda f: lambda x: mg.vjp(f, x)[1](np.ones(mnp.shape(x)))[0]
    return {"grad": mg.grad, "jacfwd": mg.jacfwd, "jacrev": mg.jacrev}[name]


def _tanh3(x):
    t = np.tanh(x)
    return -2 * (1 - t**2) * (1 - 3 * t**2)


C = np.array([1.0, 2.0, -0.5])
THIRD_DERIVATIVES = {
    "sin": (mnp.sin, lambda x: -np.cos(x)),
    "exp": (mnp.exp, np.exp),
    "x**4": (lambda x: x**4, lambda x: 24 * x),
    "tanh": (mnp.tanh, _tanh3),
    # broadcasting against a vector, then a reduction
    "sum_sin_cx": (lambda x: mnp.sum(mnp.sin(x * C)), lambda x: np.sum(-(C**3) * np.cos(C * x))),
    # stacking and integer-array indexing (a repeated index counts twice)
    "indexed": (
        lambda x: mnp.stack([x, x**2, mnp.exp(x)])[np.array([1, 2, 2])].sum(),
        lambda x: 2 * np.exp(x),
    ),
}

DERIVATIVE_NAMES = ["grad", "jacfwd", "jacrev", "jvp", "vjp"]


@pytest.mark.parametrize("order", list(itertools.product(DERIVATIVE_NAMES, repeat=3)), ids="-".join)
@pytest.mark.parametrize("name", sorted(THIRD_DERIVATIVES))
def test_third_derivatives_in_closed_form(name, order):
    fun, third = THIRD_DERIVATIVES[name]
    for name_ in order:
        fun = _derivative(name_)(fun)
    for x in (-1.3, 0.0, 0.7):
        assert float(fun(np.float64(x))) == pytest.approx(third(x), rel=1e-9, abs=1e-9)


def test_grad_of_grad_of_grad_with_broadcasting_reductions_and_indexing():
    def f(x):
        v = mnp.stack([x, 2.0 * x, x**2])
        return (mnp.sin(v[:, None] * C[None, :]).sum(axis=0) * v[np.array([2, 0, 0])]).max()

    third = mg.grad(mg.grad(mg.grad(f)))
    second = mg.grad(mg.grad(f))
    x = 0.37
    np.testing.assert_allclose(third(x), (second(x + EPS) - second(x - EPS)) / (2 * EPS), rtol=1e-6)


def test_jacfwd_of_jacrev_of_a_vector_function():
    for fun in BANK:
        hess = mg.jacfwd(mg.jacrev(fun))(X)
        np.testing.assert_allclose(hess, numerical_jacobian(mg.jacrev(fun), X), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(hess, mg.jacrev(mg.jacfwd(fun))(X), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("fun", BANK, ids=lambda f: f.__name__)
def test_check_grads_to_second_order(fun):
    check_grads(fun, (X,), order=2, modes=("fwd", "rev"))
