"""A rewrite for ``jit``: a scan that stacks both its incoming and its outgoing carry copies one.

Reverse mode of a recurrent loop keeps, for every step, the carry the step read (the
previous hidden state, say, that ``z * h`` differentiates against), and the loop's
``ys`` often hold the carry each step made (the hidden states themselves). The two
stacks hold the same rows shifted by one step: row ``t`` of the incoming carries is row
``t - 1`` of the outgoing ones (``t + 1`` in a reverse scan), and the first row (the
last in a reverse scan) is the initial carry. So the loop stacks only the outgoing
carries, and after it the incoming ones are one concatenation of the initial carry and
all but the last row of that stack: one copy of the whole stack instead of one copy
per step, each with its Python call. The values are the same bits.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> def step(h, x):
    ...     new = h * x
    ...     return new, (h, new)  # the carry each step read and the one it made
    >>> def states(xs):
    ...     return mg.lax.scan(step, np.ones(2), xs)[1]
    >>> xs = np.arange(1.0, 7.0).reshape(3, 2)
    >>> program = mg.jit(states).lower(xs).program.jaxpr
    >>> [e.primitive.name for e in program.eqns]  # the stack of incoming carries: made after the loop
    ['scan', 'slice', 'concatenate']
    >>> mg.jit(states)(xs)[0]
    array([[1., 1.],
           [1., 2.],
           [3., 8.]])
"""

from __future__ import annotations

from minigrad.core.ir import Eqn, Jaxpr, Var
from minigrad.lax.scan_invariants import loop_parts, stacked_positions
from minigrad.lax.subprograms import inline_optimized, stage_program
from minigrad.ops.shape import concatenate, reshape, slice_axis

__all__ = ["stack_carries_from_outputs"]


def stack_carries_from_outputs(eqn):
    """The scan ``eqn`` with each stack of incoming carries made after the loop from the
    stack of outgoing ones, or None when no carry is stacked both ways.

    Returns ``(equations, replacements)``: the new scan and the equations after it, and
    for each of ``eqn``'s results the atom that now holds it.
    """
    parts = loop_parts(eqn, min_length=2)
    if parts is None:
        return None
    body, num_consts, num_carry, length = parts
    params = eqn.params
    ys = body.outvars[num_carry:]
    first = stacked_positions(body, num_carry)  # body value -> its first position among the ys
    inputs = set(body.invars)
    shifted = {}  # incoming carry -> its carry index
    for index in range(num_carry):
        incoming, outgoing = body.invars[num_consts + index], body.outvars[index]
        same_type = eqn.invars[num_consts + index].aval == incoming.aval
        if (
            incoming in first
            and type(outgoing) is Var
            and outgoing in first
            and outgoing not in inputs
            and same_type
        ):
            shifted[incoming] = index
    if not shifted:
        return None
    moved = [position for position, atom in enumerate(ys) if atom in shifted]
    kept = [position for position in range(len(ys)) if position not in set(moved)]
    new_body = Jaxpr((), body.invars, body.eqns, (*body.outvars[:num_carry], *(ys[p] for p in kept)))
    outer_ys = eqn.outvars[num_carry:]
    new_scan = Eqn(
        eqn.primitive,
        eqn.invars,
        (*eqn.outvars[:num_carry], *(outer_ys[p] for p in kept)),
        {**params, "jaxpr": new_body, "_residuals": None},
        eqn.source,
    )
    after, made = [], {}
    for incoming, index in shifted.items():
        init = eqn.invars[num_consts + index]
        stack = outer_ys[first[body.outvars[index]]]
        program = stage_program(
            lambda init, stack: [_incoming_stack(init, stack, params["reverse"])], [init.aval, stack.aval]
        )
        equations, (result,) = inline_optimized(program.jaxpr, program.consts, [init, stack])
        after.extend(equations)
        made[incoming] = result
    replacements = list(eqn.outvars)
    for position in moved:
        replacements[num_carry + position] = made[ys[position]]
    return [new_scan, *after], replacements


def _incoming_stack(init, outgoing, reverse):
    """The carries each step read, from the initial carry and the carries each step made."""
    length = outgoing.shape[0]
    first = reshape(init, (1, *outgoing.shape[1:]))
    if reverse:
        return concatenate([slice_axis(outgoing, 0, 1, length), first], 0)
    return concatenate([first, slice_axis(outgoing, 0, 0, length - 1)], 0)
