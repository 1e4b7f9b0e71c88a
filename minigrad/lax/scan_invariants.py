"""A rewrite for ``jit``: work in a scan body that does not depend on the carry runs before the loop.

A step of a scan reads three kinds of values: the loop's constants, its slice of ``xs``,
and the carry. An equation that reads no carry (directly or through other equations)
computes the same thing whatever the earlier steps did, so it need not wait for them:

- reading constants only (a weight's transpose, a bias broadcast), it is loop-invariant:
  computed once before the loop, it becomes a new constant;
- reading slices of ``xs`` too (the input projection ``x @ wi + bi`` of a recurrent
  cell; in a backward pass, ``1 - h**2`` of the stacked hidden states), it is computed
  for every step at once before the loop, by ``vmap`` of those equations over the
  stacks, and its results become new ``xs``. One matrix product of ``steps * batch``
  rows replaces ``steps`` products of ``batch`` rows, and each elementwise operation is
  one NumPy call on the whole stack instead of one per step.

The body keeps what depends on the carry and reads the hoisted values as its new inputs;
inputs no longer read are dropped from it. Equations with an effect stay in the loop
(a ``debug.callback`` runs once per step, as written), and the rewrite is skipped when
the stacks it makes would take more memory than the loop's own stacks already hold
(plus 16 MiB). Elementwise work computes the same bits as in the loop; a matrix
product of all the steps at once may round differently in the last bits from one
product per step (BLAS picks its kernels by size).

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> import minigrad.numpy as mnp
    >>> def rnn(w, u, xs):
    ...     step = lambda h, x: (mnp.tanh(h @ w + x @ u), None)
    ...     return mg.lax.scan(step, np.zeros(2), xs)[0]
    >>> w, u, xs = np.eye(2) * 0.5, np.ones((3, 2)), np.ones((4, 3)) * 0.1
    >>> print(mg.jit(rnn).lower(w, u, xs).source, end="")  # x @ u: one product, before
    def jitted(a, b, c):
        d = c @ b
        e, = _scan(a, _k0, d)
        del d
        return [_own(e, a)]
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.core.ir import Eqn, Jaxpr, Var
from minigrad.lax.subprograms import batch_program, inline_optimized
from minigrad.transforms.jit.passes import has_effects

__all__ = [
    "hoist_step_independent", "EXTRA_STACK_BYTES", "array_bytes", "read_inputs", "loop_parts", "stacked_positions",
]  # fmt: skip

# A rewrite's new stacks may at most double what the loop already stores, plus this much.
EXTRA_STACK_BYTES = 16 << 20

_CONST, _XS, _CARRY = "const", "xs", "carry"


def array_bytes(aval) -> int:
    """The size in bytes of an array of type ``aval``."""
    return math.prod(aval.shape) * np.dtype(aval.dtype).itemsize


def loop_parts(eqn, min_length: int = 1) -> tuple | None:
    """A scan's ``(body, num_consts, num_carry, length)``, or None when the rewrites leave
    it alone: fewer than ``min_length`` steps, or a body with constants of its own.

    Example:
      >>> from minigrad.core.ir import Eqn, Jaxpr
      >>> body = Jaxpr((), [], [], [])
      >>> params = {"jaxpr": body, "num_consts": 0, "num_carry": 0, "length": 5}
      >>> loop_parts(Eqn(None, [], [], params)) == (body, 0, 0, 5), loop_parts(Eqn(None, [], [], params), 6)
      (True, None)
    """
    params = eqn.params
    body, length = params["jaxpr"], params["length"]
    if length < min_length or body.constvars:
        return None
    return body, params["num_consts"], params["num_carry"], length


def stacked_positions(body, num_carry) -> dict:
    """Each variable the loop ``body`` stacks as a ``y``, with its first position among the ys.

    Example:
      >>> from minigrad.core.ir import Jaxpr, ShapedArray, Var
      >>> h, x = Var(ShapedArray((), np.float64)), Var(ShapedArray((), np.float64))
      >>> stacked_positions(Jaxpr((), [h, x], [], [h, x, h]), num_carry=1) == {x: 0, h: 1}
      True
    """
    first: dict = {}
    for position, atom in enumerate(body.outvars[num_carry:]):
        if type(atom) is Var:
            first.setdefault(atom, position)
    return first


def hoist_step_independent(eqn):
    """``(equations before the loop, the new scan equation)``, or None if nothing moves.

    The new scan has ``eqn``'s results; the equations before it compute its new
    constants and ``xs`` from ``eqn``'s operands.
    """
    parts = loop_parts(eqn)
    if parts is None:
        return None
    body, num_consts, num_carry, length = parts
    params = eqn.params
    kinds = _kinds(body, num_consts, num_carry)
    hoisted = [i for i, e in enumerate(body.eqns) if e.outvars and kinds[e.outvars[0]] != _CARRY]
    if not hoisted:
        return None
    made = {var for i in hoisted for var in body.eqns[i].outvars}
    moved = set(hoisted)
    kept_eqns = [e for i, e in enumerate(body.eqns) if i not in moved]
    # What the loop still reads of the hoisted values: they become its new inputs.
    read = {atom for e in kept_eqns for atom in e.invars if type(atom) is Var} | {
        atom for atom in body.outvars if type(atom) is Var
    }
    crossing = [var for i in hoisted for var in body.eqns[i].outvars if var in read]
    new_consts = [var for var in crossing if kinds[var] == _CONST]
    new_xs = [var for var in crossing if kinds[var] == _XS]
    stacked_work = sum(array_bytes(var.aval) for var in made if kinds[var] == _XS)
    split = num_consts + num_carry
    existing = sum(array_bytes(v.aval) for v in (*eqn.invars[split:], *eqn.outvars[num_carry:]))
    if length * stacked_work > existing + EXTRA_STACK_BYTES:
        return None
    found = _before_loop(eqn, body, hoisted, kinds, new_consts, new_xs)
    if found is None:
        return None
    before, outer_consts, outer_xs = found
    consts, xs = read_inputs(eqn, read)
    consts += zip(new_consts, outer_consts, strict=True)
    xs += zip(new_xs, outer_xs, strict=True)
    carry_vars, carry_atoms = body.invars[num_consts:split], eqn.invars[num_consts:split]
    new_body = Jaxpr((), (*(v for v, _ in consts), *carry_vars, *(v for v, _ in xs)), kept_eqns, body.outvars)
    operands = [*(a for _, a in consts), *carry_atoms, *(a for _, a in xs)]
    new_params = {**params, "jaxpr": new_body, "num_consts": len(consts), "_residuals": None}
    return before, Eqn(eqn.primitive, operands, eqn.outvars, new_params, eqn.source)


def read_inputs(eqn, read) -> tuple[list, list]:
    """The scan ``eqn``'s constants and ``xs`` that its body still reads (``read``), as
    ``(body variable, outer atom)`` pairs: ``(constants, xs)``.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> step = lambda c, x: (c + 2.0 * x, None)
      >>> program = mg.make_jaxpr(lambda w, xs: mg.lax.scan(step, w, xs)[0])(1.0, np.ones(3))
      >>> scan = program.jaxpr.eqns[0]
      >>> body_reads = {a for e in scan.params["jaxpr"].eqns for a in e.invars}
      >>> [len(pairs) for pairs in read_inputs(scan, body_reads)]  # no constants, one xs
      [0, 1]
    """
    body, num_consts = eqn.params["jaxpr"], eqn.params["num_consts"]
    split = num_consts + eqn.params["num_carry"]
    pairs = list(zip(body.invars, eqn.invars, strict=True))
    return [p for p in pairs[:num_consts] if p[0] in read], [p for p in pairs[split:] if p[0] in read]


def _kinds(body, num_consts, num_carry) -> dict:
    """Each body variable's kind: made from constants only, from ``xs`` (and constants),
    or from the carry. An equation with an effect counts as reading the carry: it stays."""
    split = num_consts + num_carry
    kinds = {}
    for position, var in enumerate(body.invars):
        kinds[var] = _CONST if position < num_consts else _CARRY if position < split else _XS
    for e in body.eqns:
        read = {kinds[atom] for atom in e.invars if type(atom) is Var}
        kind = _CARRY if _CARRY in read or has_effects(e) else _XS if _XS in read else _CONST
        for var in e.outvars:
            kinds[var] = kind
    return kinds


def _before_loop(eqn, body, hoisted, kinds, new_consts, new_xs):
    """The hoisted equations as a program of the scan's operands, batched over the steps
    where they read ``xs``, optimised, and inlined: ``(equations, atoms of the new
    constants, atoms of the new stacks)``, or None."""
    num_consts, num_carry = eqn.params["num_consts"], eqn.params["num_carry"]
    split = num_consts + num_carry
    inputs = [(v, a) for v, a in zip(body.invars, eqn.invars, strict=True) if kinds[v] != _CARRY]
    program = Jaxpr((), [v for v, _ in inputs], [body.eqns[i] for i in hoisted], [*new_consts, *new_xs])
    batched = [body.invars.index(v) >= split for v, _ in inputs]
    force = [False] * len(new_consts) + [True] * len(new_xs)
    staged, out_batched = batch_program(program, batched, eqn.params["length"], force)
    if out_batched != force:  # a constant's equations came out batched: leave the loop be
        return None
    eqns, outs = inline_optimized(staged.jaxpr, staged.consts, [a for _, a in inputs])
    return eqns, outs[: len(new_consts)], outs[len(new_consts) :]
