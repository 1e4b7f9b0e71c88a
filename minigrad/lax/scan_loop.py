"""The loop that runs a ``scan``: its body compiled once and called step by step.

Eagerly and under ``jit`` alike, a scan is a Python loop calling the compiled body,
writing each step's ``ys`` into preallocated stacks. With ``unroll=1`` the loop is
written out for the scan's numbers of constants, carries, ``xs`` and ``ys``
(``step_loop``): each step is one call of the body with named arguments, unpacked into
named results, with no lists, generators or ``zip`` in between (1.2 to 1.5 us a step
less than the general loop on a GRU's scans, of 5 ``ys`` and of 7 ``xs``;
``benchmarks/call_overhead.py`` times the loops alone). With
``unroll=k`` each turn of the loop calls one compiled function holding ``k`` copies of
the body (staged once by ``unrolled_body``), and the ``length % k`` steps left over run
the single-step body: the Python call, argument passing and result unpacking are paid
once per ``k`` steps, and the NumPy calls, hence the results, are those of ``unroll=1``.

Example:
    >>> import numpy as np
    >>> from minigrad.core.ir import ShapedArray
    >>> def body(carry, x):
    ...     return [carry + x, carry]
    >>> run_scan(body, None, 1, 0, 1, 3, False, [ShapedArray((), np.float64)], 0.0, np.arange(3.0))
    [np.float64(3.0), array([0., 0., 1.])]
"""

from __future__ import annotations

import functools

import attrs
import numpy as np

from minigrad.core.ir import Jaxpr, Var
from minigrad.lax.subprograms import compiled

__all__ = ["run_scan", "step_loop", "unrolled_body", "scan_loop"]


def run_scan(body, unrolled, unroll, num_consts, num_carry, length, reverse, y_avals, *args):
    """The loop: call the compiled ``body`` once per step, stacking its ``ys``.

    ``unrolled`` (with ``unroll > 1``) runs ``unroll`` steps per call: it takes the
    constants, the carry, then each step's slices of ``xs`` in turn, and returns the
    carry, then each step's ``ys`` in turn. The steps it does not cover run ``body``.
    """
    consts = args[:num_consts]
    carry = list(args[num_consts : num_consts + num_carry])
    xs = args[num_consts + num_carry :]
    ys = [np.empty((length, *aval.shape), aval.dtype) for aval in y_avals]
    order = range(length - 1, -1, -1) if reverse else range(length)
    covered = length - length % unroll if unroll > 1 else 0
    num_ys = len(ys)
    for start in range(0, covered, unroll):
        steps = order[start : start + unroll]
        outs = unrolled(*consts, *carry, *(x[i, ...] for i in steps for x in xs))
        carry = outs[:num_carry]
        for k, i in enumerate(steps):
            first = num_carry + k * num_ys
            for stack, y in zip(ys, outs[first : first + num_ys], strict=True):
                stack[i] = y
    for i in order[covered:]:
        outs = body(*consts, *carry, *(x[i, ...] for x in xs))
        carry = outs[:num_carry]
        for stack, y in zip(ys, outs[num_carry:], strict=True):
            stack[i] = y
    if length == 0:  # the inputs themselves come back: the caller may write into results
        carry = [np.array(c) for c in carry]
    return [*carry, *ys]


@functools.lru_cache(maxsize=256)
def step_loop(num_consts: int, num_carry: int, scalar_xs: tuple[bool, ...], num_ys: int):
    """``run_scan`` for ``unroll=1``, written out for these counts: a function
    ``loop(body, order, y_avals, *args)`` with the same arguments and result.

    ``scalar_xs`` says which ``xs`` are 1-d: their slices are taken as ``x[i, ...]``, a
    0-d array as the general loop passes, where ``x[i]`` would be a NumPy scalar. The
    source is made of numbered names only, so nothing from a program reaches it.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.ir import ShapedArray
      >>> loop = step_loop(0, 1, (True,), 1)
      >>> loop(lambda c, x: [c + x, c], range(3), [ShapedArray((), np.float64)], 0.0, np.arange(3.0))
      [np.float64(3.0), array([0., 0., 1.])]
    """
    consts = [f"a{k}" for k in range(num_consts)]
    carry = [f"c{k}" for k in range(num_carry)]
    xs = [f"x{k}" for k in range(len(scalar_xs))]
    stacks = [f"y{k}" for k in range(num_ys)]
    results = [f"r{k}" for k in range(num_ys)]
    slices = [f"{x}[i, ...]" if scalar else f"{x}[i]" for x, scalar in zip(xs, scalar_xs, strict=True)]
    call = f"body({', '.join((*consts, *carry, *slices))})"
    lines = [f"def loop({', '.join(('body', 'order', 'y_avals', *consts, *carry, *xs))}):"]
    if stacks:
        lines.append(f"    {', '.join(stacks)}, = [_empty((len(order), *a.shape), a.dtype) for a in y_avals]")
    lines.append("    for i in order:")
    lines.append(
        f"        {', '.join((*carry, *results))}, = {call}" if carry or results else f"        {call}"
    )
    lines.extend(f"        {stack}[i] = {result}" for stack, result in zip(stacks, results, strict=True))
    lines.append(f"    return [{', '.join((*carry, *stacks))}]")
    namespace = {"_empty": np.empty}
    exec(compile("\n".join(lines), "<minigrad scan loop>", "exec"), namespace)  # noqa: S102 - numbered names only
    return namespace["loop"]


@functools.lru_cache(maxsize=256)
def unrolled_body(jaxpr: Jaxpr, num_consts: int, num_carry: int, steps: int) -> Jaxpr:
    """``steps`` copies of a scan body in a row, as one program.

    Inputs: the constants, the carry, then each step's slices of ``xs`` in turn.
    Outputs: the final carry, then each step's ``ys`` in turn. The equations are copied
    with fresh variables rather than replayed, so every equation is kept as it is (an
    effect with no inputs, such as a debug callback, included).

    Example:
      >>> import numpy as np
      >>> import minigrad.numpy as mnp
      >>> from minigrad.core.ir import ShapedArray
      >>> from minigrad.lax.subprograms import stage_program
      >>> f64 = ShapedArray((), np.float64)
      >>> body = stage_program(lambda c, x: [c * x, mnp.sin(c)], [f64, f64]).jaxpr
      >>> [eqn.primitive.name for eqn in unrolled_body(body, 0, 1, 2).eqns]
      ['mul', 'sin', 'mul', 'sin']
    """
    consts = [Var(v.aval) for v in jaxpr.invars[:num_consts]]
    carry_in = [Var(v.aval) for v in jaxpr.invars[num_consts : num_consts + num_carry]]
    xs_in = [[Var(v.aval) for v in jaxpr.invars[num_consts + num_carry :]] for _ in range(steps)]
    carry, ys, eqns = carry_in, [], []
    for step_xs in xs_in:
        env = dict(zip(jaxpr.invars, [*consts, *carry, *step_xs], strict=True))

        def read(atom, env=env):
            return env[atom] if type(atom) is Var else atom

        for eqn in jaxpr.eqns:
            outvars = [Var(v.aval) for v in eqn.outvars]
            eqns.append(attrs.evolve(eqn, invars=[read(a) for a in eqn.invars], outvars=outvars))
            env.update(zip(eqn.outvars, outvars, strict=True))
        outs = [read(atom) for atom in jaxpr.outvars]
        carry = outs[:num_carry]
        ys.extend(outs[num_carry:])
    invars = (*consts, *carry_in, *(v for step_xs in xs_in for v in step_xs))
    return Jaxpr((), invars, eqns, (*carry, *ys))


def scan_loop(jaxpr, num_consts, num_carry, length, reverse, unroll, y_avals):
    """``run_scan`` with everything but the operands bound: the compiled body and, when
    unrolling, the compiled body of ``unroll`` steps (``step_loop``'s loop when not)."""
    if unroll == 1 and length > 0:  # an empty scan returns copies of its carry: run_scan's
        scalar_xs = tuple(var.aval.ndim == 0 for var in jaxpr.invars[num_consts + num_carry :])
        order = range(length - 1, -1, -1) if reverse else range(length)
        loop = step_loop(num_consts, num_carry, scalar_xs, len(y_avals))
        return functools.partial(loop, compiled(jaxpr, num_carry), order, tuple(y_avals))
    # Both return the carry, then the ys that `run_scan` copies into its stacks.
    unrolled = (
        compiled(unrolled_body(jaxpr, num_consts, num_carry, unroll), num_carry) if unroll > 1 else None
    )
    return functools.partial(
        run_scan,
        compiled(jaxpr, num_carry),
        unrolled,
        unroll,
        num_consts,
        num_carry,
        length,
        reverse,
        y_avals,
    )
