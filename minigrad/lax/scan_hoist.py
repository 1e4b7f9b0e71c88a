"""A rewrite for ``jit``: sums that a scan accumulates step by step are taken out of the loop.

The backward pass of a recurrent network is a reverse scan whose carry holds, besides
the cotangent of the hidden state, one gradient per weight, each step adding its
contribution::

    d_wh_out = d_wh_in + transpose(h_prev) @ d_z

That is one small matrix product and one addition per step and per weight. Summed over
the steps, the same contributions are one matrix product contracting the steps as well:
``stack(h_prev)`` and ``stack(d_z)`` reshaped to ``(steps * batch, ...)``, which BLAS
computes far faster than a hundred products of one step each, with no Python in
between. This rewrite finds such carries, moves the equations that only compute their
contributions out of the body, stacks what those equations read (``d_z`` as a new
``ys``; ``h_prev`` is already a stack the loop reads), and after the loop computes all
the contributions at once by ``vmap`` of the moved equations, summed over the steps.
``reduce_sum``'s own rewrite (``ops/linalg.py``) then turns the summed batched product
into a single product.

A carry qualifies when the body's only use of it is ``carry + v`` (``v`` of the carry's
type) and that sum is the carry's new value and nothing else. The loop is rewritten
when at least one moved contribution holds a matrix product, or when the contributions
are read from the loop's own operands and need no new stack (the cases that pay), and
when the new stacks and the batched work after the loop take no more memory than the
loop's own stacks already hold (plus 16 MiB): a contribution made from a large
per-step value is left in the loop. The sums
are then added in another order, so results agree with the loop's to rounding.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> def total(w, xs):
    ...     return mg.lax.scan(lambda acc, x: (acc + x @ w, None), np.zeros(2), xs)[0]
    >>> w, xs = np.ones((3, 2)), np.arange(12.0).reshape(4, 3)
    >>> print(mg.jit(total).lower(w, xs).source)  # no loop left: one product, one sum
    def jitted(a, b):
        c = b @ a
        d = _add_reduce(c, (0,))
        del c
        return [d]
    <BLANKLINE>
    >>> mg.jit(total)(w, xs)
    array([66., 66.])
"""

from __future__ import annotations

from minigrad.core.ir import Eqn, Jaxpr, ShapedArray, Var
from minigrad.lax.scan import scan_p
from minigrad.lax.scan_carry_stacks import stack_carries_from_outputs
from minigrad.lax.scan_invariants import EXTRA_STACK_BYTES, array_bytes, hoist_step_independent
from minigrad.lax.scan_sink import sink_stacked_work
from minigrad.lax.subprograms import batch_program, inline_optimized
from minigrad.ops.elementwise import add_p
from minigrad.ops.linalg import einsum_p, matmul_p
from minigrad.ops.shape import reduce_sum_p
from minigrad.transforms.jit.passes import has_effects

__all__ = ["hoist_out_of_scan", "hoist_accumulations"]

_CONTRACTIONS = frozenset((matmul_p, einsum_p))


@scan_p.def_simplification
def hoist_out_of_scan(eqn, producers):
    """The scan ``eqn`` with the work that does not depend on the carry done before the
    loop (``scan_invariants.py``), its accumulated sums after it, and the work that only
    makes its ys after it too (``scan_sink.py``), and its stacks of incoming carries
    made from its stacks of outgoing ones (``scan_carry_stacks.py``), or None.

    Returns ``(equations, replacements)``: the equations replacing ``eqn`` and, for each
    of its results, the atom that now holds it.
    """
    before: list = []
    hoisted = hoist_step_independent(eqn)
    if hoisted is not None:
        before, eqn = hoisted
    equations, replacements = [eqn], list(eqn.outvars)
    summed = hoist_accumulations(eqn)
    if summed is not None:
        equations, replacements = summed
    # The sums' rewrite may stack new values that the ys-only work reads (scan_sink.py);
    # that work may read the incoming carries, whose stacks the last rewrite replaces.
    changed = hoisted is not None or summed is not None
    for rewrite in (sink_stacked_work, stack_carries_from_outputs):
        scan_index = next(i for i, e in enumerate(equations) if e.primitive is scan_p)
        rewritten = rewrite(equations[scan_index])
        if rewritten is None:
            continue
        changed = True
        new_equations, new_atoms = rewritten
        renamed = dict(zip(equations[scan_index].outvars, new_atoms, strict=True))
        equations = [*equations[:scan_index], *new_equations, *_renamed(equations[scan_index + 1 :], renamed)]
        replacements = [renamed.get(atom, atom) if type(atom) is Var else atom for atom in replacements]
    if not changed:
        return None
    return before + equations, replacements


def _renamed(eqns, renamed: dict) -> list:
    """``eqns`` reading ``renamed[v]`` wherever they read ``v``."""
    return [
        Eqn(
            e.primitive,
            [renamed.get(a, a) if type(a) is Var else a for a in e.invars],
            e.outvars,
            e.params,
            e.source,
        )
        for e in eqns
    ]


def hoist_accumulations(eqn):
    """The scan ``eqn`` with its accumulated sums computed after the loop, or None.

    Returns ``(equations, replacements)``: the new scan and the equations after it, and
    for each of ``eqn``'s results the atom that now holds it.
    """
    params = eqn.params
    body, num_consts, num_carry = params["jaxpr"], params["num_consts"], params["num_carry"]
    length = params["length"]
    if length < 2 or body.constvars:
        return None
    users = _users(body)
    accumulators = _accumulators(body, num_consts, num_carry, users)
    if not accumulators:
        return None
    adds = {index for index, _ in accumulators.values()}
    moved = _exclusive_cone(body, users, adds)
    frontier = _frontier(body, moved, [v for _, v in accumulators.values()])
    split = num_consts + num_carry
    position = {var: i for i, var in enumerate(body.invars)}
    # Values made in the body, and other carries, are stacked anew; constants and slices
    # of xs are read from the scan's own operands.
    stacked_new = [
        atom
        for atom in frontier
        if not (position.get(atom, split) < num_consts or position.get(atom, -1) >= split)
    ]
    # It pays when the contributions hold a product (one product after the loop replaces
    # one per step), or when they need no new stack (a sum of xs is one reduction).
    if stacked_new and not any(body.eqns[index].primitive in _CONTRACTIONS for index in moved):
        return None
    # What the batched equations after the loop hold at once: the new stacks and every
    # moved result, one per step, except the summed products, which reduce_sum's rewrite
    # computes as one product without the stack of them.
    contributions = {v for _, v in accumulators.values()}
    batched_results = [
        var
        for index in moved
        for var in body.eqns[index].outvars
        if not (var in contributions and body.eqns[index].primitive is matmul_p)
    ]
    new_bytes = length * sum(array_bytes(v.aval) for v in (*stacked_new, *batched_results))
    existing = sum(array_bytes(v.aval) for v in (*eqn.invars[split:], *eqn.outvars[num_carry:]))
    if new_bytes > existing + EXTRA_STACK_BYTES:
        return None
    new_scan, stacks = _rewritten_scan(eqn, body, accumulators, moved, adds, stacked_new)
    after, sums = _sums_after_loop(eqn, body, accumulators, moved, frontier, stacked_new, stacks, position)
    replacements = list(eqn.outvars)
    for k, total in zip(sorted(accumulators), sums, strict=True):
        replacements[k] = total
    return [new_scan, *after], replacements


def _users(body: Jaxpr) -> dict:
    """For each variable, the indices of the equations reading it; ``"out"`` marks a
    variable the body returns."""
    users: dict = {}
    for index, eqn in enumerate(body.eqns):
        for atom in eqn.invars:
            if type(atom) is Var:
                users.setdefault(atom, set()).add(index)
    for atom in body.outvars:
        if type(atom) is Var:
            users.setdefault(atom, set()).add("out")
    return users


def _accumulators(body, num_consts, num_carry, users) -> dict:
    """Carry position -> (index of its ``carry + v`` equation, ``v``) for each carry
    the body only adds to."""
    producer = {var: index for index, eqn in enumerate(body.eqns) for var in eqn.outvars}
    found = {}
    for k in range(num_carry):
        carry_in, carry_out = body.invars[num_consts + k], body.outvars[k]
        index = producer.get(carry_out) if type(carry_out) is Var else None
        if index is None or users.get(carry_in) != {index} or users.get(carry_out) != {"out"}:
            continue
        if sum(atom is carry_out for atom in body.outvars) != 1:
            continue
        add = body.eqns[index]
        if add.primitive is not add_p or len(add.invars) != 2:
            continue
        a, b = add.invars
        v = b if a is carry_in else a if b is carry_in else None
        if type(v) is not Var or v is carry_in or v.aval != carry_in.aval or carry_out.aval != carry_in.aval:
            continue
        found[k] = (index, v)
    return found


def _exclusive_cone(body, users, adds) -> set:
    """Indices of the equations whose every result is read only by the accumulating
    additions or by other such equations: what computes the contributions alone."""
    moved: set = set()
    for index in range(len(body.eqns) - 1, -1, -1):
        eqn = body.eqns[index]
        if index in adds or has_effects(eqn):
            continue
        readers = set().union(*(users.get(var, set()) for var in eqn.outvars))
        if readers and readers <= moved | adds:
            moved.add(index)
    return moved


def _frontier(body, moved, contributions) -> list:
    """What the moved equations (and contributions made outside them) read from the
    rest of the body, in a fixed order, without literals."""
    made = {var for index in moved for var in body.eqns[index].outvars}
    frontier: dict = {}
    for index in sorted(moved):
        for atom in body.eqns[index].invars:
            if type(atom) is Var and atom not in made:
                frontier.setdefault(atom, None)
    for v in contributions:
        if v not in made:
            frontier.setdefault(v, None)
    return list(frontier)


def _rewritten_scan(eqn, body, accumulators, moved, adds, stacked_new):
    """The scan without the accumulating carries, returning ``stacked_new`` as new ys."""
    params = eqn.params
    num_consts, num_carry = params["num_consts"], params["num_carry"]
    kept = [k for k in range(num_carry) if k not in accumulators]
    invars = [
        *body.invars[:num_consts],
        *(body.invars[num_consts + k] for k in kept),
        *body.invars[num_consts + num_carry :],
    ]
    eqns = [e for index, e in enumerate(body.eqns) if index not in moved and index not in adds]
    outvars = [*(body.outvars[k] for k in kept), *body.outvars[num_carry:], *stacked_new]
    new_body = Jaxpr((), invars, eqns, outvars)
    length = params["length"]
    stacks = [Var(ShapedArray((length, *v.aval.shape), v.aval.dtype)) for v in stacked_new]
    outer_in = [
        *eqn.invars[:num_consts],
        *(eqn.invars[num_consts + k] for k in kept),
        *eqn.invars[num_consts + num_carry :],
    ]
    outer_out = [*(eqn.outvars[k] for k in kept), *eqn.outvars[num_carry:], *stacks]
    new_params = {**params, "jaxpr": new_body, "num_carry": len(kept), "_residuals": None}
    return Eqn(scan_p, outer_in, outer_out, new_params, eqn.source), stacks


def _sums_after_loop(eqn, body, accumulators, moved, frontier, stacked_new, stacks, position):
    """Equations computing each accumulated carry after the loop, and the carries' atoms.

    The moved equations become a program of the frontier, batched over the steps (its
    inputs that the loop reads per step, or that are now stacked, carry the step axis),
    whose contributions are summed over the steps and added to the carries' initial
    values. That program is optimised on its own, so the sums of batched products
    become single products before its equations join the outer program.
    """
    num_consts = eqn.params["num_consts"]
    length = eqn.params["length"]
    stack_of = dict(zip(stacked_new, stacks, strict=True))
    outer, batched = [], []
    for atom in frontier:
        if atom in stack_of:
            outer.append(stack_of[atom])
            batched.append(True)
        else:  # a loop constant, or a slice of xs (whose stack is the scan's operand)
            outer.append(eqn.invars[position[atom]])
            batched.append(position[atom] >= num_consts)
    order = sorted(accumulators)
    contributions = [accumulators[k][1] for k in order]
    cone = Jaxpr((), frontier, [body.eqns[index] for index in sorted(moved)], contributions)
    program, _ = batch_program(cone, batched, length, [True] * len(contributions))
    staged = program.jaxpr
    inits = [Var(eqn.invars[num_consts + k].aval) for k in order]
    eqns = list(staged.eqns)
    totals = []
    for init, stacked in zip(inits, staged.outvars[: len(order)], strict=True):
        summed = Var(ShapedArray(init.aval.shape, stacked.aval.dtype))
        eqns.append(Eqn(reduce_sum_p, [stacked], [summed], {"axes": (0,)}, eqn.source))
        total = Var(init.aval)
        eqns.append(Eqn(add_p, [init, summed], [total], {}, eqn.source))
        totals.append(total)
    # Its inputs are the frontier's stacks and the carries' initial values, outside.
    after = Jaxpr((), (*staged.invars, *inits), eqns, totals)
    return inline_optimized(after, program.consts, [*outer, *(eqn.invars[num_consts + k] for k in order)])
