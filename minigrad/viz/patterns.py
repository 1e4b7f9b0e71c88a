"""The steps a picture shows: equations, with known compositions drawn as one step.

The library spells some functions as several primitives: ``nn.relu(x)`` is
``select(x > 0, x, 0)`` and ``log_softmax`` nine equations. A picture that teaches shows
what the user wrote, so a run of equations that matches such a composition, and whose
intermediate values nothing else reads, becomes one step labelled with the function's
name. Indexing is printed in Python's syntax (``[:, None]``). The program is unchanged;
this is only how it is drawn.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> from minigrad import nn
    >>> closed = mg.make_jaxpr(lambda x: nn.relu(x)[:, None])(np.ones(3))
    >>> [step.label for step in steps_of(closed.jaxpr)]
    ['relu', '[:, None]']
"""

from __future__ import annotations

import collections

import attrs

from minigrad.core.ir import Jaxpr, Literal, Var
from minigrad.ops.elementwise import exp_p, log_p, maximum_p, sub_p
from minigrad.ops.index import gather_p
from minigrad.ops.logic import gt_p
from minigrad.ops.reduce import reduce_max_p
from minigrad.ops.selection import select_p, stop_gradient_p
from minigrad.ops.shape import reduce_sum_p, reshape_p

__all__ = ["Step", "steps_of"]


@attrs.frozen
class Step:
    """One operation node: the equations it stands for (``first`` is the first one's
    index), its label, the atoms it reads and the variables it makes."""

    first: int
    eqns: tuple[int, ...] = attrs.field(converter=tuple)
    label: str
    inputs: tuple = attrs.field(converter=tuple)
    outputs: tuple = attrs.field(converter=tuple)
    # The parameters worth printing under the label (an equation's own, or none).
    detail: str = ""


# Compositions the library emits, by the primitives of their equations in order.
_COMPOSITIONS = {
    "relu": (gt_p, select_p),
    "log_softmax": (
        reduce_max_p,
        reshape_p,
        stop_gradient_p,
        sub_p,
        exp_p,
        reduce_sum_p,
        reshape_p,
        log_p,
        sub_p,
    ),
}

# Primitives whose printed name is not the NumPy name a user wrote.
_NUMPY_NAMES = {maximum_p: "maximum"}


def _uses(jaxpr: Jaxpr) -> collections.Counter:
    counts = collections.Counter(a for eqn in jaxpr.eqns for a in eqn.invars if isinstance(a, Var))
    counts.update(a for a in jaxpr.outvars if isinstance(a, Var))
    return counts


def _composition_at(jaxpr: Jaxpr, i: int, primitives, uses) -> tuple[Var, Var] | None:
    """``(input, output)`` if equations ``i, i+1, ...`` compute ``primitives`` from one
    variable, with every intermediate value read only inside the run."""
    eqns = jaxpr.eqns[i : i + len(primitives)]
    if [eqn.primitive for eqn in eqns] != list(primitives) or any(len(e.outvars) != 1 for e in eqns):
        return None
    made = {eqn.outvars[0] for eqn in eqns}
    read_inside = collections.Counter(a for eqn in eqns for a in eqn.invars if isinstance(a, Var))
    if any(uses[var] != read_inside[var] for var in made if var is not eqns[-1].outvars[0]):
        return None
    external = {a for eqn in eqns for a in eqn.invars if isinstance(a, Var) and a not in made}
    if len(external) != 1:
        return None
    if any(isinstance(a, Literal) and not _is_zero(a) for eqn in eqns for a in eqn.invars):
        return None  # relu compares and selects with 0; another constant is another function
    return external.pop(), eqns[-1].outvars[0]


def _is_zero(literal: Literal) -> bool:
    return literal.aval.shape == () and literal.val == 0


def index_text(indexer, operand_names) -> str:
    """A gather's indexer as Python writes it: ``[1:, None, ::-1]``.

    Example:
      >>> index_text((("slice", None, None, None), ("newaxis",), ("array", 0)), ["i"])
      '[:, None, i]'
    """
    parts = []
    for entry in indexer:
        kind = entry[0]
        if kind == "slice":
            start, stop, step = ("" if v is None else str(v) for v in entry[1:])
            parts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        elif kind == "int":
            parts.append(str(entry[1]))
        elif kind == "newaxis":
            parts.append("None")
        else:
            parts.append(operand_names[entry[1]])
    return "[" + ", ".join(parts) + "]"


def _plain_step(jaxpr: Jaxpr, i: int, detail: str, name_of) -> Step:
    eqn = jaxpr.eqns[i]
    if eqn.primitive is gather_p:
        operands = [name_of(atom) or "index" for atom in eqn.invars[1:]]
        label = index_text(eqn.params["indexer"], operands)
        return Step(i, (i,), label, eqn.invars, eqn.outvars)
    label = _NUMPY_NAMES.get(eqn.primitive, eqn.primitive.name)
    return Step(i, (i,), label, eqn.invars, eqn.outvars, detail)


def _no_detail(eqn) -> str:
    return ""


def _no_name(atom) -> None:
    return None


def steps_of(jaxpr: Jaxpr, params_text=_no_detail, name_of=_no_name) -> list[Step]:
    """The program's equations as drawn: compositions folded, names as NumPy's.

    ``params_text(eqn)`` says what to print under an equation's label; ``name_of(var)``
    names the index arrays printed inside ``x[...]``.
    """
    uses = _uses(jaxpr)
    steps, i = [], 0
    while i < len(jaxpr.eqns):
        for name, primitives in _COMPOSITIONS.items():
            found = _composition_at(jaxpr, i, primitives, uses)
            if found is not None:
                steps.append(Step(i, range(i, i + len(primitives)), name, (found[0],), (found[1],)))
                i += len(primitives)
                break
        else:
            steps.append(_plain_step(jaxpr, i, params_text(jaxpr.eqns[i]), name_of))
            i += 1
    return steps
