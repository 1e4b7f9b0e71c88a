"""Residuals: what a scan or a cond keeps for its backward pass, found by staging that pass once.

Reverse mode of a loop needs, at every step, the values the step's backward pass reads.
``linearize`` finds them by staging the backward pass of one step (``backward_pass``
over the body's equations) with every primal value it asks for made an input, then
keeping the inputs the staged program really uses. They fall into four kinds:

- constants of the body, read as they are (passed to the backward loop once);
- values computed from constants alone (``w.T``): computed once, before the backward
  loop, rather than stored per step;
- slices of the scanned-over ``xs``: the backward loop scans over the same ``xs``;
- everything else (carries, intermediates): *residuals*, added to the body's outputs so
  that the forward scan stacks them, one slice per step.

Values nobody reads are not kept; a ``checkpoint`` inside the body keeps only its
inputs and outputs (its own backward recomputes the rest), as everywhere else.

A branch of a ``cond`` is linearized as a body with no constants and no carry (its
operands are what it reads directly). Branches keep different residuals, while one
equation needs one list of output types: ``linearize_branches`` gives every branch one
output slot per residual of every branch, its own values in its slots and zeros in the
others, as JAX does. Under ``vmap`` with a batched predicate, whose ``select`` picks each
example's outputs, each example thereby gets the residuals of its own branch.

Example:
    >>> import numpy as np
    >>> import minigrad.numpy as mnp
    >>> from minigrad.core.ir import ShapedArray
    >>> from minigrad.lax.subprograms import stage_program
    >>> f64 = ShapedArray((), np.float64)
    >>> body = stage_program(lambda c, x: [mnp.sin(c) * x, c], [f64, f64]).jaxpr
    >>> lin = linearize(body, 0, 1)
    >>> len(lin.residuals), lin.xs_reads  # sin(c) and cos's input c are stored; x is read from xs
    (2, (0,))
"""

from __future__ import annotations

import functools

import attrs
import numpy as np

from minigrad.core.dtypes import is_float_dtype
from minigrad.core.ir import Eqn, Jaxpr, Literal, ShapedArray, Var
from minigrad.core.staging import StagingTrace
from minigrad.core.trace import new_trace
from minigrad.ops.elementwise import add
from minigrad.ops.shape import broadcast_to_p
from minigrad.transforms.ad import backward_pass, equation_tape

__all__ = [
    "Linearized",
    "linearize",
    "backward_step",
    "BranchResiduals",
    "linearize_branches",
    "float_positions",
    "is_zero_cotangent",
    "residual_forms",
]


@attrs.frozen(eq=False)
class Linearized:
    """A scan body split for reverse mode (see the module docstring).

    ``forward`` is the body with ``residuals`` appended to its outputs; ``invariant``
    computes the ``hoisted`` values from the body's constants; ``const_reads`` and
    ``xs_reads`` are positions among the body's constants and ``xs`` inputs.
    """

    body: Jaxpr
    num_consts: int
    num_carry: int
    forward: Jaxpr
    residuals: tuple = attrs.field(converter=tuple)
    const_reads: tuple = attrs.field(converter=tuple)
    hoisted: tuple = attrs.field(converter=tuple)
    invariant: Jaxpr | None
    xs_reads: tuple = attrs.field(converter=tuple)

    @property
    def num_out(self) -> int:
        return len(self.body.outvars)

    def loop_constants(self) -> list[Var]:
        """The body variables the backward step reads that do not change between steps."""
        consts = self.body.invars[: self.num_consts]
        return [*(consts[i] for i in self.const_reads), *self.hoisted]

    def per_step(self) -> list[Var]:
        """The body variables the backward step reads that change at every step."""
        xs = self.body.invars[self.num_consts + self.num_carry :]
        return [*(xs[i] for i in self.xs_reads), *self.residuals]


def float_positions(atoms) -> list[int]:
    return [i for i, atom in enumerate(atoms) if is_float_dtype(atom.aval.dtype)]


def is_zero_cotangent(ct) -> bool:
    """A cotangent known to be zero (the backward pass fills unused outputs with zeros):
    a residual output nobody differentiated."""
    return isinstance(ct, np.ndarray) and not ct.any()


def _stage_transpose(body: Jaxpr, seed_vars):
    """One step's backward pass, staged: returns the program and the body variables whose
    values it reads, in the order of its leading inputs.

    Its other inputs are the cotangents of the body's floating-point outputs, then of
    ``seed_vars``; its outputs the cotangents of the body's floating-point inputs.
    """
    float_out = float_positions(body.outvars)
    with new_trace(StagingTrace) as trace:
        ct_inputs = [trace.new_input(body.outvars[i].aval) for i in float_out]
        seed_inputs = [trace.new_input(var.aval) for var in seed_vars]
        reads: dict = {}

        def read(atom):
            if type(atom) is Literal:
                return atom.val
            tracer = reads.get(atom)
            if tracer is None:
                tracer = reads[atom] = trace.new_input(atom.aval)
            return tracer

        cts: dict = {}
        seeds = [*zip((body.outvars[i] for i in float_out), ct_inputs), *zip(seed_vars, seed_inputs)]
        for atom, ct in seeds:
            if type(atom) is Var:
                cts[atom] = ct if atom not in cts else add(cts[atom], ct)
        ct_env = backward_pass(equation_tape(body.eqns), read, cts)
        outs = []
        for i in float_positions(body.invars):
            var = body.invars[i]
            ct = ct_env.get(var)
            outs.append(np.zeros(var.aval.shape, var.aval.dtype) if ct is None else ct)
        closed = trace.to_closed_jaxpr([*reads.values(), *ct_inputs, *seed_inputs], outs)
    return closed, list(reads)


def _used_vars(jaxpr: Jaxpr) -> set:
    used = {atom for eqn in jaxpr.eqns for atom in eqn.invars if type(atom) is Var}
    return used | {atom for atom in jaxpr.outvars if type(atom) is Var}


def _loop_invariant(body: Jaxpr, num_consts: int) -> set:
    """Body variables computed from the body's constants (and literals) alone."""
    invariant = set(body.invars[:num_consts])
    for eqn in body.eqns:
        if all(type(a) is Literal or a in invariant for a in eqn.invars):
            invariant.update(eqn.outvars)
    return invariant


def _invariant_program(body: Jaxpr, num_consts: int, wanted) -> Jaxpr:
    """The equations computing ``wanted`` (loop-invariant variables) from the constants."""
    live = set(wanted)
    kept = []
    for eqn in reversed(body.eqns):
        if any(var in live for var in eqn.outvars):
            kept.append(eqn)
            live.update(a for a in eqn.invars if type(a) is Var)
    return Jaxpr((), body.invars[:num_consts], tuple(reversed(kept)), tuple(wanted))


@functools.lru_cache(maxsize=256)
def linearize(body: Jaxpr, num_consts: int, num_carry: int) -> Linearized:
    """Find what the backward pass of ``body`` (a scan body) reads; see the module docstring.

    ``Linearized.body`` is ``body`` with its inner equations in their residual forms.
    """
    body = _with_inner_residuals(body)
    closed, read_vars = _stage_transpose(body, ())
    used = _used_vars(closed.jaxpr)
    read = [var for var, staged in zip(read_vars, closed.jaxpr.invars, strict=False) if staged in used]
    consts = body.invars[:num_consts]
    xs = body.invars[num_consts + num_carry :]
    invariant = _loop_invariant(body, num_consts)
    const_reads = [consts.index(v) for v in read if v in consts]
    xs_reads = [xs.index(v) for v in read if v in xs]
    hoisted = [v for v in read if v in invariant and v not in consts]
    residuals = [v for v in read if v not in invariant and v not in xs]
    forward = Jaxpr((), body.invars, body.eqns, (*body.outvars, *residuals))
    invariant_program = _invariant_program(body, num_consts, hoisted) if hoisted else None
    return Linearized(
        body, num_consts, num_carry, forward, residuals, const_reads, hoisted, invariant_program, xs_reads
    )


@functools.lru_cache(maxsize=256)
def backward_step(lin: Linearized, residual_cotangents: bool) -> tuple[Jaxpr, tuple]:
    """One step's backward program, with its constants (zeros it made) as leading inputs.

    Inputs: the constants, then ``lin.loop_constants()``, ``lin.per_step()``, the
    cotangents of the body's floating-point outputs, and (with ``residual_cotangents``:
    when the backward pass is itself differentiated) of its floating-point residuals.
    Outputs: the cotangents of the body's floating-point inputs.
    """
    seeds = [lin.residuals[i] for i in float_positions(lin.residuals)] if residual_cotangents else []
    closed, read_vars = _stage_transpose(lin.body, seeds)
    jaxpr = closed.jaxpr
    staged_of = dict(zip(read_vars, jaxpr.invars, strict=False))
    layout = [*lin.loop_constants(), *lin.per_step()]
    missing = _used_vars(jaxpr) & {staged_of[v] for v in read_vars if v not in set(layout)}
    assert not missing, "the backward step reads a value the forward scan did not keep"
    inputs = [staged_of.get(var) or Var(var.aval) for var in layout]
    rest = jaxpr.invars[len(read_vars) :]
    program = Jaxpr((), (*jaxpr.constvars, *inputs, *rest), jaxpr.eqns, jaxpr.outvars)
    return program, tuple(closed.consts)


@attrs.frozen(eq=False)
class BranchResiduals:
    """The branches of a ``cond`` split for reverse mode (see the module docstring).

    ``forward`` are the branches returning their outputs, then every branch's residual
    slots; branch ``b``'s own residuals are slots ``slots[b][0]`` to ``slots[b][1]``.
    """

    branches: tuple = attrs.field(converter=tuple)
    lins: tuple = attrs.field(converter=tuple)
    forward: tuple = attrs.field(converter=tuple)
    slots: tuple = attrs.field(converter=tuple)

    @property
    def num_out(self) -> int:
        return len(self.branches[0].outvars)

    def residual_avals(self) -> list:
        return [var.aval for lin in self.lins for var in lin.residuals]


def _zeros_equation(aval) -> Eqn:
    """An equation making zeros of ``aval`` from a scalar literal (no constant array)."""
    zero = Literal(np.zeros((), aval.dtype), ShapedArray((), aval.dtype))
    return Eqn(broadcast_to_p, (zero,), (Var(aval),), {"shape": aval.shape})


@functools.lru_cache(maxsize=256)
def linearize_branches(branches: tuple[Jaxpr, ...]) -> BranchResiduals:
    """What each branch's backward pass reads, and the branches returning it."""
    lins = [linearize(branch, 0, 0) for branch in branches]
    avals = [[var.aval for var in lin.residuals] for lin in lins]
    slots, start = [], 0
    for own in avals:
        slots.append((start, start + len(own)))
        start += len(own)
    forward = []
    for number, lin in enumerate(lins):
        zeros = [_zeros_equation(aval) for other, own in enumerate(avals) if other != number for aval in own]
        fill = iter(eqn.outvars[0] for eqn in zeros)
        slots_out = [
            var
            for other, own in enumerate(avals)
            for var in (lin.residuals if other == number else [next(fill) for _ in own])
        ]
        body = lin.body
        forward.append(Jaxpr((), body.invars, (*body.eqns, *zeros), (*body.outvars, *slots_out)))
    return BranchResiduals(branches, lins, forward, slots)


# How an equation holding sub-programs keeps its own residuals when a body around it is
# linearized: ``rule(eqn)`` returns the equation with its residuals appended to its
# outputs. Registered beside the primitive (``conditionals.py`` for ``cond``). Without
# it, such an equation's backward pass runs its sub-program again.
residual_forms: dict = {}


def _with_inner_residuals(body: Jaxpr) -> Jaxpr:
    eqns = [residual_forms[e.primitive](e) if e.primitive in residual_forms else e for e in body.eqns]
    if all(new is old for new, old in zip(eqns, body.eqns, strict=True)):
        return body
    return Jaxpr(body.constvars, body.invars, eqns, body.outvars)
