"""How a loop or branch is drawn: its sub-programs as labelled frames, wired to the outside.

A ``lax`` construct is one equation holding programs (a loop body, the branches of a
``cond``). A picture draws it as a frame labelled with the construct (``scan × 100``)
holding one inner frame per sub-program (``body``, ``branch 0``, ``branch 1``). Each
sub-program's inputs are fed by operands of the equation and its outputs become results
of the equation; ``Frame`` records which, by position. Operands that steer the
construct rather than feed a program (a branch index) go to a small control node, as do
results no sub-program makes (a ``while_loop``'s trip count).

Example:
    >>> import minigrad as mg
    >>> from minigrad import lax
    >>> closed = mg.make_jaxpr(lambda x: lax.scan(lambda c, _: (c * 2.0, c), x, length=5))(1.0)
    >>> construct = construct_of(closed.eqns[0])
    >>> construct.label, [frame.label for frame in construct.frames]
    ('scan × 5', ['body'])
    >>> construct.frames[0].inputs, construct.frames[0].outputs
    ((0,), (0, 1))
"""

from __future__ import annotations

import attrs

from minigrad.core.ir import Eqn, Jaxpr, Literal
from minigrad.lax.conditionals import cond_p
from minigrad.lax.loops import while_p
from minigrad.lax.scan import scan_p
from minigrad.ops.elementwise import add_p

__all__ = ["Frame", "Construct", "construct_of"]


@attrs.frozen
class Frame:
    """One sub-program as drawn: its ``label``, and for each of its inputs the position
    of the operand that feeds it (``inputs``), for each output the position of the
    equation's result it becomes (``outputs``); ``None`` where there is none."""

    label: str
    jaxpr: Jaxpr
    inputs: tuple = attrs.field(converter=tuple)
    outputs: tuple = attrs.field(converter=tuple)


@attrs.frozen
class Construct:
    """A higher-order equation as drawn: the outer frame's ``label``, its ``frames``, the
    operands read by its control node (``control_inputs``) and the results that node
    makes (``control_outputs``); ``control`` labels that node."""

    label: str
    frames: tuple = attrs.field(converter=tuple)
    control: str = ""
    control_inputs: tuple = attrs.field(default=(), converter=tuple)
    control_outputs: tuple = attrs.field(default=(), converter=tuple)


def _is_fori_loop(eqn: Eqn) -> bool:
    """Whether a scan is what ``fori_loop`` stages with static bounds: no xs and no ys,
    and a leading integer carry that the body counts up by one."""
    params, body = eqn.params, eqn.params["jaxpr"]
    counter = params["num_consts"]
    if len(eqn.invars) != counter + params["num_carry"] or len(eqn.outvars) != params["num_carry"]:
        return False
    if counter >= len(body.invars) or body.invars[counter].aval.dtype.kind not in "iu":
        return False
    step = next((e for e in body.eqns if body.outvars[0] in e.outvars), None)
    return (
        step is not None
        and step.primitive is add_p
        and step.invars[0] is body.invars[counter]
        and isinstance(step.invars[1], Literal)
        and step.invars[1].val == 1
    )


def _scan_construct(eqn: Eqn) -> Construct:
    params = eqn.params
    body = params["jaxpr"]
    name = "fori_loop" if _is_fori_loop(eqn) else "scan"
    label = f"{'reverse ' if params['reverse'] else ''}{name} × {params['length']}"
    frame = Frame("body", body, range(len(body.invars)), range(len(body.outvars)))
    return Construct(label, (frame,))


def _cond_construct(eqn: Eqn) -> Construct:
    branches = eqn.params["branches"]
    operands = range(1, len(eqn.invars))  # operand 0 is the branch index
    frames = [
        Frame(f"branch {k}", branch, operands, range(len(branch.outvars)))
        for k, branch in enumerate(branches)
    ]
    name = "cond" if len(branches) == 2 else f"switch, {len(branches)} branches"
    return Construct(name, frames, control="branch index", control_inputs=(0,))


def _while_construct(eqn: Eqn) -> Construct:
    params = eqn.params
    cond_consts, body_consts = params["cond_nconsts"], params["body_nconsts"]
    carry = range(cond_consts + body_consts, len(eqn.invars))
    condition = Frame("condition", params["cond_jaxpr"], [*range(cond_consts), *carry], [None])
    body_inputs = [*range(cond_consts, cond_consts + body_consts), *carry]
    body = Frame("body", params["body_jaxpr"], body_inputs, range(len(carry)))
    trip_count = len(eqn.outvars) - 1
    return Construct(
        "while_loop", (condition, body), control="repeat while true", control_outputs=(trip_count,)
    )


_CONSTRUCTS = {scan_p: _scan_construct, cond_p: _cond_construct, while_p: _while_construct}


def construct_of(eqn: Eqn) -> Construct | None:
    """How ``eqn`` is drawn as frames, or ``None`` when it holds no sub-programs."""
    describe = _CONSTRUCTS.get(eqn.primitive)
    return describe(eqn) if describe is not None else None
