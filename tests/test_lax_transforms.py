"""``minigrad.lax`` under every transform and their compositions, checked against the
same mathematics written as plain Python control flow.

Each case is a function of a vector written twice: with a ``lax`` construct, and as the
equivalent Python ``if``/``for``/``while`` on concrete values (which eager ``grad`` and
``jvp`` follow, since they know every value). Each composition of transforms is applied
to the ``lax`` version and compared with the reference: the same composition with
``jit`` left out and ``vmap`` replaced by a loop over examples. Nothing here compares
minigrad with its own output.
"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
import minigrad.testing
from minigrad import lax
from minigrad.core.typecheck import typecheck

W = np.array([[0.5, -0.3, 0.2], [0.1, 0.4, -0.6], [-0.2, 0.3, 0.1]])
U = np.array([0.3, -0.5, 0.8])
V = np.array([1.0, -2.0, 0.5])  # a tangent direction
WEIGHTS = np.array([0.7, -1.1, 0.4])  # turns a gradient into a scalar for grad(grad)


# ---------------------------------------------------------------------------------------
# Cases: (lax version, Python reference)


def cond_lax(x):
    return lax.cond(x.sum() > 0, lambda x: (mnp.sin(x) * x).sum(), lambda x: mnp.cos(x).sum() * 2.0, x)


def cond_ref(x):
    return (mnp.sin(x) * x).sum() if x.sum() > 0 else mnp.cos(x).sum() * 2.0


def cond_shared_lax(x):
    # The predicate depends on a constant only: under vmap the index is not batched.
    return lax.cond(W.sum() > 0, lambda x: mnp.tanh(x).sum(), lambda x: (x**2).sum(), x)


def cond_shared_ref(x):
    return mnp.tanh(x).sum() if W.sum() > 0 else (x**2).sum()


def cond_residuals_lax(x):
    # Branches keeping different residuals (none, several), an integer operand, two outputs.
    def heavy(x, n):
        h = mnp.tanh(W @ x) * mnp.exp(x * 0.5)
        return h * n, (h * h).sum()

    def light(x, n):
        return x * 2.0, x.sum() * n

    out, total = lax.cond(x[1] > 0, heavy, light, x, np.int64(3))
    return (out * WEIGHTS).sum() + total


def cond_residuals_ref(x):
    if x[1] > 0:
        h = mnp.tanh(W @ x) * mnp.exp(x * 0.5)
        out, total = h * 3, (h * h).sum()
    else:
        out, total = x * 2.0, x.sum() * 3
    return (out * WEIGHTS).sum() + total


_BRANCHES = [lambda x: (x**3).sum(), lambda x: mnp.exp(x).sum(), lambda x: (mnp.sin(x) * W[0]).sum()]


def switch_lax(x):
    index = (x[0] * 2.0).astype(np.int64)  # out of range on both sides for some rows: clamped
    return lax.switch(index, _BRANCHES, x)


def switch_ref(x):
    index = min(max(int(x[0] * 2.0), 0), 2)  # int() is control flow: allowed under grad
    return _BRANCHES[index](x)


def _cell(h, xi):
    return mnp.tanh(W @ h + xi * U)


def _step(h, xi):
    h = _cell(h, xi)
    return h, h.sum() * xi


def scan_lax(x):
    h, ys = lax.scan(_step, mnp.ones(3) * 0.1, x)
    return (h * h).sum() + (ys * ys).sum()


def scan_ref(x):
    h, ys = mnp.ones(3) * 0.1, []
    for i in range(x.shape[0]):
        h = _cell(h, x[i])
        ys.append(h.sum() * x[i])
    return (h * h).sum() + sum(y * y for y in ys)


def scan_unrolled_lax(x):
    # Two steps per turn over three: one turn and a remainder.
    h, ys = lax.scan(_step, mnp.ones(3) * 0.1, x, unroll=2)
    return (h * h).sum() + (ys * ys).sum()


def scan_reverse_lax(x):
    carry, ys = lax.scan(lambda c, xi: (c * mnp.sin(xi) + xi, c * xi), 1.0, x, reverse=True)
    return carry + (ys * WEIGHTS).sum()


def scan_reverse_ref(x):
    c, ys = 1.0, [None] * x.shape[0]
    for i in reversed(range(x.shape[0])):
        c, ys[i] = c * mnp.sin(x[i]) + x[i], c * x[i]
    return c + sum(y * w for y, w in zip(ys, WEIGHTS, strict=True))


def checkpointed_scan_lax(x):
    step = mg.checkpoint(lambda h, xi: (_cell(h, xi), None))
    return lax.scan(step, x, x)[0].sum()


def checkpointed_scan_ref(x):
    h = x
    for i in range(x.shape[0]):
        h = _cell(h, x[i])
    return h.sum()


def fori_lax(x):
    return lax.fori_loop(0, 4, lambda i, v: mnp.sin(v) * 1.1 + i * 0.1, x).sum()


def fori_unrolled_lax(x):
    return lax.fori_loop(0, 4, lambda i, v: mnp.sin(v) * 1.1 + i * 0.1, x, unroll=3).sum()


def fori_ref(x):
    for i in range(4):
        x = mnp.sin(x) * 1.1 + i * 0.1
    return x.sum()


def while_lax(x):
    def body(state):
        t, v = state
        return t + 0.4 + 0.1 * mnp.tanh(v.sum()), mnp.sin(v) + v * 0.5

    return lax.while_loop(lambda s: s[0] < 2.0, body, (mnp.abs(x[0]), x))[1].sum()


def while_ref(x):
    t, v = mnp.abs(x[0]), x
    while t < 2.0:
        t, v = t + 0.4 + 0.1 * mnp.tanh(v.sum()), mnp.sin(v) + v * 0.5
    return v.sum()


def fori_traced_lax(x):
    upper = (x.sum() > 0).astype(np.int64) + 2  # 2 or 3 steps, known only from x
    return lax.fori_loop(0, upper, lambda i, v: v * mnp.cos(v) + 0.5, x).sum()


def fori_traced_ref(x):
    for _ in range(int(x.sum() > 0) + 2):
        x = x * mnp.cos(x) + 0.5
    return x.sum()


def map_lax(x):
    return (lax.map(lambda xi: mnp.sin(xi) * W[1], x) ** 2).sum()


def map_ref(x):
    return sum(((mnp.sin(x[i]) * W[1]) ** 2).sum() for i in range(x.shape[0]))


def associative_lax(x):
    return (lax.associative_scan(lambda a, b: a * b, x + 2.0) * WEIGHTS).sum()


def associative_ref(x):
    total, prefix = 0.0, 1.0
    for i in range(x.shape[0]):
        prefix = prefix * (x[i] + 2.0)
        total = total + prefix * WEIGHTS[i]
    return total


CASES = {
    "cond": (cond_lax, cond_ref),
    "cond_shared_predicate": (cond_shared_lax, cond_shared_ref),
    "cond_residuals": (cond_residuals_lax, cond_residuals_ref),
    "switch": (switch_lax, switch_ref),
    "scan": (scan_lax, scan_ref),
    "scan_unrolled": (scan_unrolled_lax, scan_ref),
    "scan_reverse": (scan_reverse_lax, scan_reverse_ref),
    "scan_checkpointed_body": (checkpointed_scan_lax, checkpointed_scan_ref),
    "fori_loop": (fori_lax, fori_ref),
    "fori_loop_unrolled": (fori_unrolled_lax, fori_ref),
    "fori_loop_traced_bound": (fori_traced_lax, fori_traced_ref),
    "while_loop": (while_lax, while_ref),
    "map": (map_lax, map_ref),
    "associative_scan": (associative_lax, associative_ref),
}

# Rows with both signs of the sum and of x[0], so batched predicates differ per example.
X = np.array([0.6, -0.2, 0.9])
XS = np.array([[0.6, -0.2, 0.9], [-0.7, 0.3, -0.4], [1.3, 0.8, -0.1], [0.05, -1.2, 0.5]])


def _loop(fun):
    """The reference of vmap: a Python loop over examples."""
    return lambda xs: np.stack([np.asarray(fun(x)) for x in xs])


def _tangent(fun):
    return lambda x: mg.jvp(fun, (x,), (V,))[1]


def _second(fun):
    return mg.grad(lambda x: mnp.dot(mg.grad(fun)(x), WEIGHTS))


# name: (transform of the lax function, the same for the reference, batched input?)
COMPOSITIONS = {
    "eager": (lambda f: f, lambda f: f, False),
    "grad": (mg.grad, mg.grad, False),
    "jvp": (_tangent, _tangent, False),
    "jit": (mg.jit, lambda f: f, False),
    "vmap": (mg.vmap, _loop, True),
    "jit(grad)": (lambda f: mg.jit(mg.grad(f)), mg.grad, False),
    "grad(jit)": (lambda f: mg.grad(mg.jit(f)), mg.grad, False),
    "grad(grad)": (_second, _second, False),
    "jvp(grad)": (lambda f: _tangent(mg.grad(f)), lambda f: _tangent(mg.grad(f)), False),
    "vmap(grad)": (lambda f: mg.vmap(mg.grad(f)), lambda f: _loop(mg.grad(f)), True),
    "vmap(jvp)": (lambda f: mg.vmap(_tangent(f)), lambda f: _loop(_tangent(f)), True),
    "grad(vmap)": (
        lambda f: mg.grad(lambda xs: (mg.vmap(f)(xs) ** 2).sum()),
        lambda f: mg.grad(lambda xs: sum(f(x) ** 2 for x in xs)),
        True,
    ),
    "jit(vmap(grad))": (lambda f: mg.jit(mg.vmap(mg.grad(f))), lambda f: _loop(mg.grad(f)), True),
    "jit(grad(grad))": (lambda f: mg.jit(_second(f)), _second, False),
    "vmap(grad(grad))": (lambda f: mg.vmap(_second(f)), lambda f: _loop(_second(f)), True),
}


@pytest.mark.parametrize("composition", sorted(COMPOSITIONS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_lax_matches_python_control_flow(case, composition):
    lax_fun, ref_fun = CASES[case]
    transform, reference, batched = COMPOSITIONS[composition]
    x = XS if batched else X
    expected = reference(ref_fun)(x)
    np.testing.assert_allclose(transform(lax_fun)(x), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "case",
    [
        "cond",
        "cond_residuals",
        "switch",
        "scan",
        "scan_reverse",
        "fori_loop",
        "while_loop",
        "associative_scan",
    ],
)
def test_derivatives_match_finite_differences(case):
    minigrad.testing.check_grads(CASES[case][0], (X,), order=2)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_transformed_program_typechecks(case):
    fun = CASES[case][0]
    for transformed in (fun, mg.grad(fun), _second(fun), _tangent(fun), mg.jit(mg.grad(fun))):
        typecheck(mg.make_jaxpr(transformed)(X))
    typecheck(mg.make_jaxpr(mg.vmap(fun))(XS))
    typecheck(mg.make_jaxpr(mg.vmap(mg.grad(fun)))(XS))
