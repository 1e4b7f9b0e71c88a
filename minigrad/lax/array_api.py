"""Control flow on other array libraries: ``cond``, ``while_loop``, ``scan`` under jit.

As on NumPy, a compiled program runs a loop in Python over its body compiled once; on
another library's arrays the branches and bodies are compiled by the Array API writer
for the arguments' library and device (``ctx.subprogram``). A branch index or a loop
predicate is one number read back from the device per step (for a Dask array, its
graph is computed up to there), and the stacked outputs of ``scan`` are one
``stack`` of the steps' results.

A while loop's gradient under ``jit`` calls back into Python with the trip count
(``trip_count_call``) and stays NumPy only: it is refused on other libraries with the
error that names the primitive.

Example:
    >>> from minigrad.transforms.jit.array_api_rules import array_api_lowering
    >>> array_api_lowering(scan_p).__name__
    'scan_array_api'
"""

from __future__ import annotations

import functools

from minigrad.lax.conditionals import cond_p
from minigrad.lax.loops import TRIP_COUNT_DTYPE, while_p
from minigrad.lax.scan import scan_p
from minigrad.transforms.jit.array_api_rules import array_api_rule

__all__ = ["run_chosen", "run_while_loop", "run_scan_loop"]


def run_chosen(branches, index, *args):
    """Call the branch that ``index`` (clamped into range, as ``lax.switch``) picks."""
    chosen = min(max(int(index), 0), len(branches) - 1)
    return branches[chosen](*args)


def _copies(xp, values) -> list:
    # A loop of no steps returns its inputs: the caller may write into results.
    return [xp.asarray(value, copy=True) for value in values]


def run_while_loop(xp, device, cond_fn, body_fn, cond_nconsts, body_nconsts, *args):
    """The loop of ``while_p`` on ``xp`` arrays; the trip count comes last."""
    cond_consts = args[:cond_nconsts]
    body_consts = args[cond_nconsts : cond_nconsts + body_nconsts]
    carry = list(args[cond_nconsts + body_nconsts :])
    steps = 0
    while bool(cond_fn(*cond_consts, *carry)[0]):
        carry = body_fn(*body_consts, *carry)
        steps += 1
    if steps == 0:
        carry = _copies(xp, carry)
    trip_count = xp.asarray(steps, dtype=getattr(xp, TRIP_COUNT_DTYPE.name), device=device)
    return [*carry, trip_count]


def run_scan_loop(xp, device, body, num_consts, num_carry, length, reverse, y_avals, *args):
    """The loop of ``scan_p`` on ``xp`` arrays: the final carry, then the stacked ``ys``."""
    consts = args[:num_consts]
    carry = list(args[num_consts : num_consts + num_carry])
    xs = args[num_consts + num_carry :]
    steps = range(length - 1, -1, -1) if reverse else range(length)
    per_step = [[] for _ in y_avals]
    for i in steps:
        outs = body(*consts, *carry, *(x[i, ...] for x in xs))
        carry = outs[:num_carry]
        for stack, y in zip(per_step, outs[num_carry:], strict=True):
            stack.append(y)
    if length == 0:
        carry = _copies(xp, carry)
        ys = [
            xp.zeros((0, *aval.shape), dtype=getattr(xp, aval.dtype.name), device=device) for aval in y_avals
        ]
    else:
        ys = [xp.stack(stack[::-1] if reverse else stack, axis=0) for stack in per_step]
    return [*carry, *ys]


@array_api_rule(cond_p)
def cond_array_api(ctx, index, *args, branches, _residuals):
    # Under grad the branches already return their residuals (``_residuals`` says how the
    # backward pass reads them), so running the chosen branch is all that is needed here.
    chosen = functools.partial(run_chosen, tuple(ctx.subprogram(branch) for branch in branches))
    return f"{ctx.constant(chosen, 'cond')}({', '.join((index, *args))})"


@array_api_rule(while_p)
def while_array_api(ctx, *args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    loop = functools.partial(
        run_while_loop, ctx.xp_module, ctx.device, ctx.subprogram(cond_jaxpr),
        ctx.subprogram(body_jaxpr), cond_nconsts, body_nconsts,
    )  # fmt: skip
    return f"{ctx.constant(loop, 'while_loop')}({', '.join(args)})"


@array_api_rule(scan_p)
def scan_array_api(ctx, *args, jaxpr, num_consts, num_carry, length, reverse, unroll, _residuals):
    # ``unroll`` only changes how many steps one turn of NumPy's compiled loop runs; here
    # each step is one call of the compiled body, with the same results.
    y_avals = tuple(jaxpr.out_avals[num_carry:])
    loop = functools.partial(
        run_scan_loop, ctx.xp_module, ctx.device, ctx.subprogram(jaxpr), num_consts, num_carry,
        length, reverse, y_avals,
    )  # fmt: skip
    return f"{ctx.constant(loop, 'scan')}({', '.join(args)})"
