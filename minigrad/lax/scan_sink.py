"""A rewrite for ``jit``: work in a scan body that only makes stacked outputs runs after the loop.

The mirror image of ``scan_invariants.py``. Some of a step's equations feed only its
``ys``, never the carry, and read nothing but the loop's constants, its slices of
``xs`` and values the loop stacks anyway. Nothing in later steps waits for them, and
everything they read is there after the loop, one row per step: so they run once,
after the loop, by ``vmap`` of those equations over the stacks, and their results are
the ``ys`` they made. The backward pass of a recurrent cell is the typical case: the
cotangent of the step's input, ``d_gates @ transpose(wi)``, is a product per step that
nothing in the loop reads, and ``d_gates`` is stacked already (the weight's gradient
is summed from it after the loop, see ``scan_hoist.py``); after the loop it is one
product of ``steps * batch`` rows.

A view of a stacked value (a static slice, a transpose: no copy) whose result the loop
stacks as well, say the halves of a GRU's gates kept for its backward pass beside the
gates themselves, stays in the loop when the carry needs it, but its stack is no longer
copied row by row: after the loop it is the same view of the stack it was taken from.

An equation stays in the loop when it reads a value that is made in the body and not
stacked (stacking it would add a copy per step), when the carry or an effect needs
it, or when it has an effect itself. The rewrite is skipped when the work after the
loop would hold more memory than the loop's own stacks already do (plus 16 MiB).
Elementwise work computes the same bits; a matrix product of all the steps at once
may round differently in the last bits from one product per step.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> import minigrad.numpy as mnp
    >>> def rnn(w, v, xs):
    ...     def step(h, x):
    ...         h = mnp.tanh(h @ w + x)
    ...         return h, (h, h @ v)  # h @ v: read by nothing in the loop
    ...     return mg.lax.scan(step, np.zeros(2), xs)[1]
    >>> w, v, xs = np.eye(2) * 0.5, np.ones((2, 3)), np.ones((4, 2)) * 0.1
    >>> print(mg.jit(rnn).lower(w, v, xs).source, end="")  # one product, after the loop
    def jitted(a, b, c):
        d, e, = _scan(a, _k0, c)
        del d
        f = e @ b
        return [_own(e, a, c), f]
"""

from __future__ import annotations

from minigrad.core.ir import Eqn, Jaxpr, Var
from minigrad.lax.scan_invariants import (
    EXTRA_STACK_BYTES,
    array_bytes,
    loop_parts,
    read_inputs,
    stacked_positions,
)
from minigrad.lax.subprograms import batch_program, inline_optimized
from minigrad.ops.index import gather_p
from minigrad.ops.shape import slice_p, transpose_p
from minigrad.transforms.jit.passes import has_effects

__all__ = ["sink_stacked_work"]


def sink_stacked_work(eqn):
    """The scan ``eqn`` with the work that only makes its ``ys`` done after the loop, or None.

    Returns ``(equations, replacements)``: the new scan and the equations after it, and
    for each of ``eqn``'s results the atom that now holds it.
    """
    parts = loop_parts(eqn)
    if parts is None:
        return None
    body, num_consts, num_carry, length = parts
    split = num_consts + num_carry
    stacked = stacked_positions(body, num_carry)
    outside = {*body.invars[:num_consts], *body.invars[split:]}
    sunk = _sinkable(body, num_carry, outside | set(stacked))
    views = _stacked_views(body, outside | set(stacked), set(stacked), set(sunk))
    if not sunk and not views:
        return None
    made = {var for index in (*sunk, *views) for var in body.eqns[index].outvars}
    moved_ys = [position for position, atom in enumerate(body.outvars[num_carry:]) if atom in made]
    if not moved_ys:
        return None  # the moved work would make nothing the scan returns: leave it to DCE
    # The batched equations hold every moved result for all steps at once; the ys
    # among them the loop would have stacked anyway.
    new_bytes = length * sum(array_bytes(var.aval) for var in made if var not in stacked)
    existing = sum(array_bytes(v.aval) for v in (*eqn.invars[split:], *eqn.outvars[num_carry:]))
    if new_bytes > existing + EXTRA_STACK_BYTES:
        return None
    new_scan = _rewritten_scan(eqn, sunk, set(moved_ys))
    after, results = _after_loop(eqn, sorted((*sunk, *views)), made, stacked, moved_ys)
    replacements = list(eqn.outvars)
    for position, atom in zip(moved_ys, results, strict=True):
        replacements[num_carry + position] = atom
    return [new_scan, *after], replacements


def _sinkable(body, num_carry, available) -> list:
    """Indices of the equations that can run after the loop: without effects, not read
    by the carry or an effect, reading only ``available`` values (constants, slices of
    xs, stacked values) and each other's results, and read by no equation that stays."""
    needed = {atom for atom in body.outvars[:num_carry] if type(atom) is Var}
    for eqn in reversed(body.eqns):
        if has_effects(eqn) or any(var in needed for var in eqn.outvars):
            needed.update(atom for atom in eqn.invars if type(atom) is Var)
    pinned: set = set()
    while True:
        sunk, reachable = [], set(available)
        for index, eqn in enumerate(body.eqns):
            if index in pinned or has_effects(eqn) or any(var in needed for var in eqn.outvars):
                continue
            if all(type(atom) is not Var or atom in reachable for atom in eqn.invars):
                sunk.append(index)
                reachable.update(eqn.outvars)
        # An equation that stays in the loop must find what it reads there: a moved
        # equation it reads stays too, and the search starts again without it.
        made = {var: index for index in sunk for var in body.eqns[index].outvars}
        chosen = set(sunk)
        read_in_loop = {
            made[atom]
            for index, eqn in enumerate(body.eqns)
            if index not in chosen
            for atom in eqn.invars
            if type(atom) is Var and atom in made
        }
        if not read_in_loop:
            return sunk
        pinned |= read_in_loop


def _is_view(eqn) -> bool:
    """An equation whose result shares its operand's buffer: a static slice, a transpose,
    or indexing by slices, integers and new axes alone."""
    if eqn.primitive in (slice_p, transpose_p):
        return True
    return eqn.primitive is gather_p and all(entry[0] in _BASIC_INDEX for entry in eqn.params["indexer"])


_BASIC_INDEX = frozenset(("slice", "int", "newaxis"))


def _stacked_views(body, available, stacked, sunk) -> list:
    """Indices of the view equations that stay in the loop and make (or lead to, through
    other views) values the loop stacks, from values ``available`` after it: those stacks
    are views of the operands' stacks, taken after the loop instead of copied at every
    step."""
    candidates, reachable = [], set(available)
    for index, eqn in enumerate(body.eqns):
        if index not in sunk and _is_view(eqn) and eqn.invars[0] in reachable:
            candidates.append(index)
            reachable.add(eqn.outvars[0])
    views, wanted = [], set(stacked)
    for index in reversed(candidates):  # keep only the views that lead to a stacked value
        eqn = body.eqns[index]
        if eqn.outvars[0] in wanted:
            views.append(index)
            wanted.add(eqn.invars[0])
    return views[::-1]


def _rewritten_scan(eqn, sunk, moved_ys):
    """The scan without the moved equations and the ys they made; constants and xs the
    body no longer reads are no longer passed."""
    params = eqn.params
    body, num_consts, num_carry = params["jaxpr"], params["num_consts"], params["num_carry"]
    split = num_consts + num_carry
    moved = set(sunk)
    eqns = [e for index, e in enumerate(body.eqns) if index not in moved]
    kept_ys = [position for position in range(len(body.outvars) - num_carry) if position not in moved_ys]
    outvars = [*body.outvars[:num_carry], *(body.outvars[num_carry + p] for p in kept_ys)]
    read = {atom for e in eqns for atom in e.invars if type(atom) is Var} | {
        atom for atom in outvars if type(atom) is Var
    }
    consts, xs = read_inputs(eqn, read)
    invars = [*(v for v, _ in consts), *body.invars[num_consts:split], *(v for v, _ in xs)]
    operands = [*(a for _, a in consts), *eqn.invars[num_consts:split], *(a for _, a in xs)]
    outer_out = [*eqn.outvars[:num_carry], *(eqn.outvars[num_carry + p] for p in kept_ys)]
    new_params = {
        **params,
        "jaxpr": Jaxpr((), invars, eqns, outvars),
        "num_consts": len(consts),
        "_residuals": None,
    }
    return Eqn(eqn.primitive, operands, outer_out, new_params, eqn.source)


def _after_loop(eqn, sunk, made, stacked, moved_ys):
    """The moved equations as a program of what they read outside the loop (constants,
    the xs operands, the stacks the scan returns), batched over the steps, optimised and
    inlined: ``(equations, the atoms of the moved ys)``."""
    params = eqn.params
    body, num_consts, num_carry = params["jaxpr"], params["num_consts"], params["num_carry"]
    split = num_consts + num_carry
    position = {var: i for i, var in enumerate(body.invars)}
    frontier: dict = {}  # body value read -> (its atom outside, whether it has the step axis)
    for index in sunk:
        for atom in body.eqns[index].invars:
            if type(atom) is not Var or atom in made or atom in frontier:
                continue
            where = position.get(atom)
            if where is not None and where < num_consts:
                frontier[atom] = (eqn.invars[where], False)
            elif where is not None and where >= split:
                frontier[atom] = (eqn.invars[where], True)
            else:  # a value the loop stacks (a carry it returns as ys, or one made in the body)
                frontier[atom] = (eqn.outvars[num_carry + stacked[atom]], True)
    inputs = list(frontier)
    results = [body.outvars[num_carry + p] for p in moved_ys]
    program = Jaxpr((), inputs, [body.eqns[index] for index in sunk], results)
    staged, _ = batch_program(
        program, [frontier[v][1] for v in inputs], params["length"], [True] * len(results)
    )
    return inline_optimized(staged.jaxpr, staged.consts, [frontier[v][0] for v in inputs])
