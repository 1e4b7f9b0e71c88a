"""Fuzzing: every transform checked on random programs nobody wrote by hand.

Every check runs on each program from ``program_gen.programs()``. A failure shrinks to
a small program; hypothesis prints the failed check, the program's Python source (with
its arguments) and its jaxpr, ready to paste into a regression test.

The number of programs comes from ``--fuzz-programs`` (see ``conftest.py``
and ``docs/fuzzing.md``): a small, derandomized CI profile by default, as many as you
like locally with ``--fuzz-programs=2000 --fuzz-seed=random``.

Checks on transforms that are not in this build (``vmap``, ``jit``) switch themselves on
when ``minigrad`` grows them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, note, seed, settings

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.interpreter import eval_jaxpr
from minigrad.core.typecheck import typecheck
from minigrad.ops import elementwise as ew
from minigrad.testing import check_grads
from minigrad.transforms import backward_plans
from minigrad.tree import tree_flatten, tree_map
from tests.program_gen import programs

# Finite differences of these programs (values within ~20, kinks kept 1e-2 away) agree
# with exact derivatives to about 1e-7; the tolerances leave room and nothing more.
FD_TOL = {"atol": 1e-4, "rtol": 1e-4}


def _describe(program) -> None:
    """Say which program failed: its source and its jaxpr."""
    note(program.source())
    try:
        note(str(mg.make_jaxpr(program.function())(*program.args)))
    except Exception as error:  # the jaxpr is a courtesy; the check's own error matters
        note(f"(make_jaxpr failed: {type(error).__name__}: {error})")


def _leaves(tree):
    return [np.asarray(leaf) for leaf in tree_flatten(tree)[0]]


def _assert_trees_close(actual, expected, what, rtol=1e-9, atol=1e-11):
    actual, expected = _leaves(actual), _leaves(expected)
    assert len(actual) == len(expected), f"{what}: {len(actual)} outputs, expected {len(expected)}"
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        assert a.shape == e.shape, f"{what}: output {i} has shape {a.shape}, expected {e.shape}"
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"{what}: output {i}")


def _weights(program):
    """Fixed random weights that turn the program's outputs into one scalar."""
    rng = np.random.default_rng(1)
    return [rng.standard_normal(np.shape(out)) for out in program.reference()]


def _scalar_function(program):
    fun = program.function()
    weights = _weights(program)

    def scalar_program(*args):
        outs = fun(*args)
        outs = outs if isinstance(outs, tuple) else (outs,)
        total = 0.0
        for out, weight in zip(outs, weights, strict=True):
            total = total + mnp.sum(out * weight)
        return total

    return scalar_program


# ----------------------------------------------------------------------------------------
# The checks. Each takes a Program and raises AssertionError (or any error) on failure.


def check_forward_matches_numpy(program):
    """minigrad's values equal NumPy's on the same source, shapes and dtypes included."""
    out = program.function()(*program.args)
    out = out if isinstance(out, tuple) else (out,)
    _assert_trees_close(out, program.reference(), "forward values vs NumPy")
    for o in out:
        assert np.asarray(o).dtype == np.float64


def check_make_jaxpr(program):
    """The staged program typechecks and replays to the same values; so does its gradient."""
    fun = program.function()
    closed = mg.make_jaxpr(fun)(*program.args)
    typecheck(closed)
    assert str(closed)  # printing never fails
    replayed = eval_jaxpr(closed.jaxpr, closed.consts, *program.args)
    out = fun(*program.args)
    _assert_trees_close(replayed, _leaves(out), "eval_jaxpr(make_jaxpr(f)) vs f")
    argnums = tuple(range(len(program.args)))
    typecheck(mg.make_jaxpr(mg.grad(_scalar_function(program), argnums))(*program.args))


def check_grads_first_order(program):
    """jvp and vjp against central finite differences."""
    check_grads(program.function(), program.args, order=1, modes=("fwd", "rev"), **FD_TOL)


def check_jvp_vjp_agree(program):
    """<u, J v> from jvp equals <J^T u, v> from vjp, for random u and v."""
    fun = program.function()
    rng = np.random.default_rng(2)
    tangents = tuple(rng.standard_normal(a.shape) for a in program.args)
    out, tangent_out = mg.jvp(fun, program.args, tangents)
    out_again, vjp_fn = mg.vjp(fun, *program.args)
    _assert_trees_close(out_again, out, "vjp's output vs jvp's output")
    cotangent = tree_map(lambda o: rng.standard_normal(np.shape(o)), out)
    cts = vjp_fn(cotangent)
    for ct, arg in zip(cts, program.args, strict=True):
        assert np.shape(ct) == arg.shape and np.asarray(ct).dtype == arg.dtype
    forward = sum(float(np.sum(u * t)) for u, t in zip(_leaves(cotangent), _leaves(tangent_out), strict=True))
    reverse = sum(float(np.sum(c * v)) for c, v in zip(_leaves(cts), tangents, strict=True))
    scale = 1.0 + abs(forward) + abs(reverse)
    assert abs(forward - reverse) <= 1e-9 * scale, f"<u, J v> = {forward} by jvp but {reverse} by vjp"


def check_second_order(program):
    """Derivatives of derivatives against finite differences of the derivative:
    forward and reverse over reverse (of the scalarised program's grad), reverse over
    forward, and forward over forward."""
    argnums = tuple(range(len(program.args)))
    gradient = mg.grad(_scalar_function(program), argnums)
    check_grads(gradient, program.args, order=1, modes=("fwd", "rev"), **FD_TOL)
    fun = program.function()
    rng = np.random.default_rng(4)
    tangents = tuple(rng.standard_normal(a.shape) for a in program.args)

    def directional_derivative(*args):
        return mg.jvp(fun, args, tangents)[1]

    check_grads(directional_derivative, program.args, order=1, modes=("rev",), **FD_TOL)
    check_grads(fun, program.args, order=2, modes=("fwd",), **FD_TOL)


def check_float32_keeps_dtype(program):
    """With float32 arguments, gradients and tangents are float32 and close to float64's."""
    argnums = tuple(range(len(program.args)))
    args32 = tuple(a.astype(np.float32) for a in program.args)
    gradient = mg.grad(_scalar_function(program), argnums)
    grads32, grads64 = gradient(*args32), gradient(*program.args)
    for i, (g32, g64) in enumerate(zip(grads32, grads64, strict=True)):
        assert g32.dtype == np.float32 and g32.shape == g64.shape, f"gradient {i}: {g32.dtype}{g32.shape}"
        scale = 1.0 + np.max(np.abs(g64))
        np.testing.assert_allclose(g32, g64, rtol=2e-3, atol=2e-3 * scale, err_msg=f"float32 gradient {i}")
    tangents = tuple(np.ones_like(a) for a in args32)
    _, tangent_out = mg.jvp(program.function(), args32, tangents)
    out = program.function()(*args32)
    for o, t in zip(_leaves(out), _leaves(tangent_out), strict=True):
        assert t.dtype == o.dtype and t.shape == o.shape


def check_vmap_matches_loop(program):
    """vmap over a batch of arguments equals stacking the program's outputs per example.

    The first argument is batched along a new leading axis, later ones alternately
    unbatched (``in_axes=None``) and batched along a new trailing axis; the gradient's
    batch axis is put last with ``out_axes=-1``."""
    fun = program.function()
    rng = np.random.default_rng(3)
    batch = 3
    in_axes = tuple(0 if i == 0 else (None if i % 2 else a.ndim) for i, a in enumerate(program.args))
    args = [
        a
        if axis is None
        else np.stack([a + 0.1 * rng.standard_normal(a.shape) for _ in range(batch)], axis=axis)
        for a, axis in zip(program.args, in_axes, strict=True)
    ]

    def example(i):
        return [
            a if axis is None else np.take(a, i, axis=axis) for a, axis in zip(args, in_axes, strict=True)
        ]

    got = mg.vmap(fun, in_axes=in_axes)(*args)
    expected = tree_map(lambda *xs: np.stack(xs), *[fun(*example(i)) for i in range(batch)])
    _assert_trees_close(got, expected, "vmap(f) vs a loop over f")
    argnums = tuple(range(len(program.args)))
    per_example_grad = mg.grad(_scalar_function(program), argnums)
    got = mg.vmap(per_example_grad, in_axes=in_axes, out_axes=-1)(*args)
    rows = [per_example_grad(*example(i)) for i in range(batch)]
    expected = tree_map(lambda *xs: np.stack(xs, axis=-1), *rows)
    _assert_trees_close(got, expected, "vmap(grad(f), out_axes=-1) vs a loop over grad(f)")


def check_jit_matches_eager(program):
    """jit(f) and jit(grad(f)) give eager results, on the first call and a cached one."""
    fun = program.function()
    jitted = mg.jit(fun)
    for _ in range(2):
        _assert_trees_close(jitted(*program.args), fun(*program.args), "jit(f) vs f")
    argnums = tuple(range(len(program.args)))
    gradient = mg.grad(_scalar_function(program), argnums)
    _assert_trees_close(mg.jit(gradient)(*program.args), gradient(*program.args), "jit(grad(f)) vs grad(f)")


def check_planned_grad_matches_walk(program):
    """grad's backward plan (the third call) gives the walk's gradient bit for bit, on the
    values it was staged with and on others."""
    argnums = tuple(range(len(program.args)))
    gradient = mg.grad(_scalar_function(program), argnums)
    moved = [a * (1 + 1e-3 * np.cos(np.arange(a.size) + 1.0).reshape(a.shape)) for a in program.args]
    walked = []
    for args in (program.args, moved):
        backward_plans.PLANS.clear()  # a first sighting: walked (and noted)
        walked.append(gradient(*args))
    planned = [gradient(*program.args), gradient(*moved)]  # staged, then planned
    for got, expected in zip(planned, walked, strict=True):
        for a, e in zip(_leaves(got), _leaves(expected), strict=True):
            assert a.dtype == e.dtype and a.shape == e.shape and a.tobytes() == e.tobytes(), (
                "planned grad vs walked grad: bits differ"
            )


def check_jacobians(program):
    """jacfwd and jacrev agree; contracting the Jacobian with v gives jvp's tangent; the
    scalarised program's hessian is symmetric and equals jacfwd of its gradient."""
    fun = program.function()
    argnums = tuple(range(len(program.args)))
    forward = mg.jacfwd(fun, argnums=argnums)(*program.args)
    reverse = mg.jacrev(fun, argnums=argnums)(*program.args)
    _assert_trees_close(reverse, forward, "jacrev vs jacfwd")
    rng = np.random.default_rng(5)
    tangents = tuple(rng.standard_normal(a.shape) for a in program.args)
    _, tangent_out = mg.jvp(fun, program.args, tangents)
    outputs = forward if isinstance(fun(*program.args), tuple) else (forward,)
    contracted = [
        sum(np.tensordot(jac, t, axes=t.ndim) for jac, t in zip(per_arg, tangents, strict=True))
        for per_arg in outputs
    ]
    _assert_trees_close(contracted, _leaves(tangent_out), "Jacobian times v vs jvp", rtol=1e-8, atol=1e-10)
    scalar = _scalar_function(program)
    first = program.args[0]
    hessian = mg.hessian(lambda x: scalar(x, *program.args[1:]))(first)
    flat = hessian.reshape(first.size, first.size)
    np.testing.assert_allclose(flat, flat.T, rtol=1e-8, atol=1e-10, err_msg="hessian is not symmetric")
    expected = mg.jacfwd(mg.grad(lambda x: scalar(x, *program.args[1:])))(first)
    _assert_trees_close(hessian, expected, "hessian vs jacfwd(grad)")


CHECKS = [
    check_forward_matches_numpy,
    check_make_jaxpr,
    check_grads_first_order,
    check_jvp_vjp_agree,
    check_second_order,
    check_float32_keeps_dtype,
    check_planned_grad_matches_walk,
]
if hasattr(mg, "vmap"):
    CHECKS.append(check_vmap_matches_loop)
if hasattr(mg, "jacfwd"):
    CHECKS.append(check_jacobians)
if hasattr(mg, "jit"):
    CHECKS.append(check_jit_matches_eager)


def run_checks(program):
    """Every check on one program; a failure notes which check, the source and the jaxpr."""
    for check in CHECKS:
        try:
            check(program)
        except BaseException:
            note(f"failed check: {check.__name__}")
            _describe(program)
            raise


def test_random_programs(request):
    count = request.config.getoption("--fuzz-programs")
    fuzz_seed = request.config.getoption("--fuzz-seed")

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=False,  # the seed comes from --fuzz-seed, in CI too
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(program=programs())
    def check_random_program(program):
        run_checks(program)

    if fuzz_seed != "random":
        check_random_program = seed(int(fuzz_seed))(check_random_program)
    check_random_program()


def wrong_sin_vjp(argnum, ct, ans, x):
    """sin's VJP, 1% too large: what the meta-tests below plant."""
    return ew.mul(ct, ew.mul(ew.cos(x), 1.01))


def test_the_checks_catch_a_wrong_rule(monkeypatch):
    # Meta-test: a program that uses sin passes every check, and fails them once sin's
    # VJP is wrong; the jvp/vjp agreement check alone sees it too (jvp keeps the right rule).
    program = find(
        programs(),
        lambda p: any(op.expr.startswith("mnp.sin(") for op in p.ops) and p.args[0].size > 1,
        settings=settings(database=None, derandomize=True),
    )
    run_checks(program)
    monkeypatch.setattr(ew.sin_p, "vjp", wrong_sin_vjp)
    with pytest.raises(AssertionError, match="disagrees with finite differences"):
        check_grads_first_order(program)
    with pytest.raises(AssertionError, match="by jvp but"):
        check_jvp_vjp_agree(program)
