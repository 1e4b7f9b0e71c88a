"""The loop that runs a ``scan``: its body compiled once and called step by step.

Eagerly and under ``jit`` alike, a scan is a Python loop calling the compiled body,
writing each step's ``ys`` into preallocated stacks. With ``unroll=k`` each turn of the
loop calls one compiled function holding ``k`` copies of the body (staged once by
``unrolled_body``), and the ``length % k`` steps left over run the single-step body: the
Python call, argument passing and result unpacking are paid once per ``k`` steps, and
the NumPy calls, hence the results, are those of ``unroll=1``.

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

__all__ = ["run_scan", "unrolled_body", "scan_loop"]


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
    unrolling, the compiled body of ``unroll`` steps."""
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
