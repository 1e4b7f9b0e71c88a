"""Conditionals: ``switch`` and ``cond`` as one equation holding every branch, and ``select``.

``cond_p`` takes an integer index, the branches' joined constants and the operands, and
holds the branches as programs with the same inputs and output types. Eagerly and under
``jit`` only the chosen branch runs. Each transform maps the branches: forward mode takes
the JVP of every branch, ``vmap`` batches every branch. A batched index cannot choose one
branch for the whole batch: then every branch runs on the whole batch and ``select``
picks each example's result, as JAX does.

Reverse mode keeps residuals, as ``scan`` does: when the innermost transform records for
``grad``, the cond is bound with branches that also return what their backward passes
read (``residuals.py``), so the chosen branch runs once; the backward pass is a cond over
the branches' backward programs, fed those residuals.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> mg.grad(lambda x: cond(x > 0, lambda x: x * x, lambda x: -x, x))(3.0)
    array(6.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

import minigrad.numpy as mnp
from minigrad.core.dtypes import is_float_dtype
from minigrad.core.ir import Eqn, Jaxpr, Var
from minigrad.core.lowering import UNKNOWN, Code
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, get_aval
from minigrad.lax.residuals import (
    BranchResiduals,
    backward_step,
    float_positions,
    is_zero_cotangent,
    linearize_branches,
    residual_forms,
)
from minigrad.lax.subprograms import (
    batch_program,
    check_operand_types,
    compiled,
    describe_types,
    is_recorded,
    join_branches,
    run,
    split_groups,
    stage_program,
    structure_error,
)
from minigrad.ops import elementwise as ew
from minigrad.ops.logic import equal, not_equal
from minigrad.ops.shape import batch_size, batch_to_front, reshape
from minigrad.transforms.api_util import as_array, flatten_inputs, instantiate_zeros
from minigrad.transforms.batching import eval_jaxpr_batched
from minigrad.transforms.forward import jvp
from minigrad.tree import tree_flatten, tree_unflatten

__all__ = ["cond_p", "cond", "switch", "select", "bind_cond"]

cond_p = Primitive("cond", multiple_results=True)


def _chosen(index, count: int) -> int:
    return int(np.clip(int(index), 0, count - 1))


@cond_p.def_impl
def cond_impl(index, *args, branches, _residuals):
    return compiled(branches[_chosen(index, len(branches))])(*args)


@cond_p.def_shape_rule
def cond_shape_rule(index, *avals, branches, _residuals):
    if index.shape != () or index.dtype.kind not in "iu":
        raise TypeError(f"cond: the branch index must be an integer scalar, got {index}.")
    for branch in branches:
        check_operand_types("cond", avals, branch.in_avals, "operands")
    return list(branches[0].out_avals)


def _run_chosen(branches, index, *args):
    return branches[_chosen(index, len(branches))](*args)


@cond_p.def_lowering
def cond_lowering(ctx, index, *args, branches, _residuals):
    # Each branch compiled once; the generated code calls the one the index picks.
    chosen = functools.partial(_run_chosen, tuple(compiled(b) for b in branches))
    return Code(f"{ctx.constant(chosen, 'cond')}({', '.join((index, *args))})", UNKNOWN)


def _float_positions(avals) -> list[int]:
    return [i for i, aval in enumerate(avals) if is_float_dtype(aval.dtype)]


def bind_cond(index, operands, branches) -> list:
    """Bind ``cond_p``; under a recording transform, keep the residuals its VJP reads.

    Returns the branches' outputs only.
    """
    if is_recorded([index, *operands]):
        split = linearize_branches(tuple(branches))
        outs = bind(cond_p, index, *operands, branches=split.forward, _residuals=split)
        return outs[: split.num_out]
    return bind(cond_p, index, *operands, branches=tuple(branches), _residuals=None)


@functools.lru_cache(maxsize=256)
def _backward_branches(split: BranchResiduals, residual_cotangents: bool):
    """Each branch's backward program, all with one signature: every residual slot, the
    operands, the cotangents of the floating-point outputs (and, when the backward pass
    is itself differentiated, of the floating-point residual slots) in; the cotangents
    of the floating-point operands out. A branch reads its own slots only."""
    in_avals, out_avals = split.branches[0].in_avals, split.branches[0].out_avals
    res_avals = split.residual_avals()
    res_floats = (
        [i for i, a in enumerate(res_avals) if is_float_dtype(a.dtype)] if residual_cotangents else []
    )
    sizes = [len(res_avals), len(in_avals), len(float_positions(split.branches[0].outvars))]

    def backward(number, *args):
        lin = split.lins[number]
        start, stop = split.slots[number]
        residuals, operands, cts, floats_res_cts = split_groups(args, sizes)
        res_cts = dict(zip(res_floats, floats_res_cts, strict=True))
        step, step_consts = backward_step(lin, residual_cotangents)
        hoisted = run(lin.invariant) if lin.invariant is not None else []
        per_step = [*(operands[i] for i in lin.xs_reads), *residuals[start:stop]]
        own_res_cts = [res_cts[i] for i in range(start, stop) if i in res_cts]
        return run(step, *step_consts, *hoisted, *per_step, *cts, *own_res_cts)

    float_out = float_positions(split.branches[0].outvars)
    avals = [*res_avals, *in_avals, *(out_avals[i] for i in float_out), *(res_avals[i] for i in res_floats)]
    programs = [stage_program(functools.partial(backward, b), avals) for b in range(len(split.branches))]
    joined, consts = join_branches(programs)
    return joined, consts, res_floats


@cond_p.def_vjp_all
def cond_vjp(wanted, cts, ans, index, *args, branches, _residuals):
    split = _residuals
    if split is None:
        # Replayed from a staged program (grad(jit(f))): run the branch again, keeping residuals.
        split = linearize_branches(branches)
        residuals = bind(cond_p, index, *args, branches=split.forward, _residuals=split)[split.num_out :]
        res_cts = []
    else:
        residuals, res_cts = ans[split.num_out :], cts[split.num_out :]
    in_avals = split.branches[0].in_avals
    float_in = _float_positions(in_avals)
    float_out = float_positions(split.branches[0].outvars)
    differentiated = bool(res_cts) and not all(is_zero_cotangent(ct) for ct in res_cts)
    backward, consts, res_floats = _backward_branches(split, differentiated)
    cts_in = bind_cond(
        index,
        [*consts, *residuals, *args, *(cts[i] for i in float_out), *(res_cts[i] for i in res_floats)],
        backward,
    )
    result = [None] * (1 + len(args))
    for position, ct in zip(float_in, cts_in, strict=True):
        result[1 + position] = ct
    return result


def cond_residual_form(eqn: Eqn) -> Eqn:
    """A cond inside a loop body, returning its residuals too: the body's backward pass
    then reads them (the loop stacks them) instead of running the branch again."""
    if eqn.params["_residuals"] is not None:
        return eqn
    split = linearize_branches(eqn.params["branches"])
    residuals = [Var(aval) for aval in split.residual_avals()]
    params = {"branches": split.forward, "_residuals": split}
    return Eqn(cond_p, eqn.invars, (*eqn.outvars, *residuals), params, eqn.source)


residual_forms[cond_p] = cond_residual_form


@functools.lru_cache(maxsize=256)
def _jvp_branches(branches: tuple[Jaxpr, ...]):
    """Each branch's JVP program: operands and their tangents in, outputs and theirs out."""
    in_avals, out_avals = branches[0].in_avals, branches[0].out_avals
    float_in, float_out = _float_positions(in_avals), _float_positions(out_avals)

    def forward(branch, *args):
        operands, tangents = list(args[: len(in_avals)]), args[len(in_avals) :]

        def of_floats(*floats):
            for position, value in zip(float_in, floats, strict=True):
                operands[position] = value
            return run(branch, *operands)

        outs, out_tangents = jvp(of_floats, tuple(operands[i] for i in float_in), tuple(tangents))
        return [*outs, *[out_tangents[i] for i in float_out]]

    tangent_avals = [in_avals[i] for i in float_in]
    programs = [stage_program(functools.partial(forward, b), [*in_avals, *tangent_avals]) for b in branches]
    joined, consts = join_branches(programs)
    return joined, consts, float_in, float_out


@cond_p.def_jvp
def cond_jvp(primals, tangents, ans, *, branches, _residuals):
    forward, consts, float_in, float_out = _jvp_branches(branches)
    args = primals[1:]
    filled = instantiate_zeros([tangents[1 + i] for i in float_in], [get_aval(args[i]) for i in float_in])
    outs = bind_cond(primals[0], [*consts, *args, *filled], forward)
    out_tangents = [None] * len(ans)
    for position, tangent in zip(float_out, outs[len(ans) :], strict=True):
        out_tangents[position] = tangent
    return out_tangents


@cond_p.def_batch
def cond_batch(args, dims, *, branches, _residuals):
    size = batch_size(args, dims)
    index, index_dim = args[0], dims[0]
    operands = [batch_to_front(x, d) if d is not None else x for x, d in zip(args[1:], dims[1:], strict=True)]
    batched = [d is not None for d in dims[1:]]
    if index_dim is not None:
        return _select_every_branch(batch_to_front(index, index_dim), operands, batched, branches, size)
    # One index for the whole batch: each branch batched, every branch's outputs batched
    # alike so that whichever runs returns the same types.
    out_batched = [False] * len(branches[0].outvars)
    for branch in branches:
        _, flags = batch_program(branch, batched, size, out_batched)
        out_batched = [a or b for a, b in zip(out_batched, flags, strict=True)]
    programs = [batch_program(branch, batched, size, out_batched)[0] for branch in branches]
    joined, consts = join_branches(programs)
    outs = bind_cond(index, [*consts, *operands], joined)
    return outs, [0 if b else None for b in out_batched]


def _select_every_branch(index, operands, batched, branches, size):
    """A batched index: every branch runs on the whole batch; each example's result is
    picked from the branch its index names."""
    dims = [0 if b else None for b in batched]
    results = []
    for branch in branches:
        outs, out_dims = eval_jaxpr_batched(branch, (), operands, dims)
        results.append([batch_to_front(o, d, size) for o, d in zip(outs, out_dims, strict=True)])
    chosen = results[0]
    for number in range(1, len(branches)):
        is_this = equal(index, np.asarray(number, get_aval(index).dtype))
        chosen = [
            _select_examples(is_this, new, old) for new, old in zip(results[number], chosen, strict=True)
        ]
    return chosen, [0] * len(chosen)


def _select_examples(pred, on_true, on_false):
    """``on_true`` for the examples (leading axis) where ``pred`` holds."""
    rank = get_aval(on_true).ndim
    shaped = reshape(pred, (get_aval(pred).shape[0], *(1,) * (rank - 1)))
    return ew.select(shaped, on_true, on_false)


# ---------------------------------------------------------------------------------------
# The user's functions


def _branch_names(construct: str, count: int) -> list[str]:
    if construct == "cond":
        return ["false_fun", "true_fun"]
    return [f"branch {i}" for i in range(count)]


def _stage_branches(construct, branches, operands):
    """Each branch staged on the operands; their output structures checked to agree."""
    leaves, in_avals, in_tree = flatten_inputs(construct, operands, "operands")
    names = _branch_names(construct, len(branches))
    programs, out_trees = [], []
    for branch in branches:

        def flat_branch(*flat, branch=branch):
            outs, tree = tree_flatten(branch(*tree_unflatten(in_tree, flat)))
            out_trees.append(tree)
            return outs

        programs.append(stage_program(flat_branch, in_avals))
    first = programs[0].jaxpr.out_avals
    for name, program, tree in zip(names[1:], programs[1:], out_trees[1:], strict=True):
        if tree != out_trees[0] or program.jaxpr.out_avals != first:
            raise structure_error(
                construct,
                "the branches must return the same types",
                f"{names[0]} returns",
                describe_types(out_trees[0], first),
                f"{name} returns",
                describe_types(tree, program.jaxpr.out_avals),
            )
    return programs, [as_array(leaf) for leaf in leaves], out_trees[0]


def _bind_branches(construct, index, branches, operands):
    programs, leaves, out_tree = _stage_branches(construct, branches, operands)
    joined, consts = join_branches(programs)
    return tree_unflatten(out_tree, bind_cond(index, [*consts, *leaves], joined))


def _scalar_index(construct: str, what: str, value):
    value = as_array(value)
    aval = get_aval(value)
    if aval.shape != ():
        raise TypeError(
            f"{construct}: {what} must be a scalar, got an array of shape {aval.shape}. Reduce it "
            "(for example with .all() or .any()), or use lax.select / mnp.where to choose elementwise."
        )
    return value, aval


def switch(index, branches: Sequence[Callable], *operands):
    """Apply ``branches[index]`` to ``operands``, as ``jax.lax.switch``.

    The index is clamped into range. Every branch is staged (so each must return the
    same pytree structure, shapes and dtypes), and the call is one equation holding
    them all: only the chosen branch runs, under ``jit`` too, and with a batched index
    under ``vmap`` every branch runs and each example takes its own.

    Args:
      index: an integer scalar (may be traced).
      branches: a sequence of functions of ``*operands``.
      *operands: the branches' arguments (pytrees of arrays).

    Returns:
      What the chosen branch returns.

    Raises:
      TypeError: the branches return different structures, shapes or dtypes, or
        ``index`` is not an integer scalar.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> branches = [lambda x: x + 1.0, lambda x: x * 10.0, lambda x: -x]
      >>> switch(1, branches, np.array(2.0))
      array(20.)
      >>> mg.vmap(lambda i, x: switch(i, branches, x))(np.array([0, 2, 5]), np.array([1.0, 2.0, 3.0]))
      array([ 2., -2., -3.])
    """
    branches = list(branches)
    if not branches or not all(callable(b) for b in branches):
        raise TypeError(f"switch: branches must be a non-empty sequence of functions, got {branches!r}.")
    index, aval = _scalar_index("switch", "the index", index)
    if aval.dtype.kind not in "iub":
        raise TypeError(f"switch: the index must be an integer scalar, got dtype {aval.dtype}.")
    if aval.dtype.kind != "i":
        index = ew.convert_element_type(index, np.dtype(np.int64))
    index = mnp.clip(index, 0, len(branches) - 1)  # as JAX: out-of-range picks an end
    return _bind_branches("switch", index, branches, operands)


def cond(pred, true_fun: Callable, false_fun: Callable, *operands):
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``, as ``jax.lax.cond``.

    Both functions are staged and must return the same pytree structure, shapes and
    dtypes; only the chosen one runs. Every transform applies, including reverse mode
    and ``vmap`` with a batched ``pred`` (both branches then run, and each example
    takes its own result).

    Args:
      pred: a boolean (or numeric) scalar, possibly traced.
      true_fun, false_fun: functions of ``*operands``.
      *operands: pytrees of arrays.

    Returns:
      The chosen function's result.

    Raises:
      TypeError: the branches return different structures or types, or ``pred`` is
        not a scalar.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> f = lambda x: cond(x.sum() > 0, lambda x: 2.0 * x, lambda x: x - 1.0, x)
      >>> f(np.array([1.0, 2.0]))
      array([2., 4.])
      >>> mg.vmap(f)(np.array([[1.0], [-1.0]]))
      array([[ 2.],
             [-2.]])
    """
    if not (callable(true_fun) and callable(false_fun)):
        raise TypeError("cond: true_fun and false_fun must be functions; pass operands after them.")
    pred, aval = _scalar_index("cond", "the predicate", pred)
    if aval.dtype != np.bool_:
        pred = not_equal(pred, np.zeros((), aval.dtype))
    index = ew.convert_element_type(pred, np.dtype(np.int64))
    return _bind_branches("cond", index, [false_fun, true_fun], operands)


def select(pred, on_true, on_false):
    """``on_true`` where ``pred`` holds, else ``on_false``, elementwise (``jax.lax.select``).

    Unlike ``mnp.where`` there is no broadcasting or promotion: ``pred`` is boolean with
    the operands' shape (or a scalar), and the operands have one shape and dtype.

    Example:
      >>> import numpy as np
      >>> select(np.array([True, False]), np.array([1.0, 2.0]), np.array([3.0, 4.0]))
      array([1., 4.])
    """
    pred, on_true, on_false = (as_array(v) for v in (pred, on_true, on_false))
    p, t, f = (get_aval(v) for v in (pred, on_true, on_false))
    if p.dtype != np.bool_:
        raise TypeError(f"select: pred must be boolean, got {p}; compare first (x > 0).")
    if t != f:
        raise TypeError(f"select: on_true and on_false must have the same shape and dtype, got {t} and {f}.")
    if p.shape not in ((), t.shape):
        raise TypeError(
            f"select: pred must be a scalar or have the operands' shape {t.shape}, got {p.shape}."
        )
    return ew.select(pred, on_true, on_false)
