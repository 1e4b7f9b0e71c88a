"""How a fused run is shown in ``lower().source``: each output as an expression of the
call's operands, or a summary of its operations when that would be too long.

Shared by the flat loops of ``fusion.py`` and the loop nests of ``loop_nest.py``, whose
``fused`` statements carry the comment these functions write.

Example:
    >>> _strip_parentheses("((a + b) * c)")
    '(a + b) * c'
"""

from __future__ import annotations

import collections

import numpy as np

from minigrad.core.ir import Literal

__all__ = ["atom_key", "readable_outputs"]

# A run of hundreds of equations that reuse values would be written out as a tree
# exponentially long: past this many characters it is summarised.
_SHOWN_LIMIT = 200


def atom_key(atom):
    """What identifies an operand: the variable, or a scalar literal's dtype and bytes
    (so the constant 2.0 used twice in a run is one input).

    Example:
      >>> import numpy as np
      >>> from minigrad.core.ir import Literal, ShapedArray
      >>> two = ShapedArray((), np.dtype(np.float64))
      >>> atom_key(Literal(2.0, two)) == atom_key(Literal(np.float64(2.0), two))
      True
    """
    if type(atom) is Literal and atom.aval.ndim == 0:
        return (atom.aval.dtype, np.asarray(atom.val).tobytes())
    return atom


def readable_outputs(members, forms, shown: dict, outputs, container: str) -> tuple:
    """Each output of a fused run written as an expression, for ``lower().source``.

    ``shown`` maps the run's inputs (by ``atom_key``) to their text, ``{0}``, ``{1}``,
    ... for the call's operands; ``forms`` give each member's shown form. Past
    ``_SHOWN_LIMIT`` characters (hundreds of equations that reuse values would be written
    out as a tree exponentially long) the run is one summary of its operations instead,
    saying they are in ``container``.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.ir import ShapedArray
      >>> from minigrad.core.staging import stage_flat
      >>> import minigrad.numpy as mnp
      >>> program = stage_flat(lambda x: [mnp.abs(x) * x], [ShapedArray((3,), np.float64)])
      >>> members, outputs = program.jaxpr.eqns, program.jaxpr.outvars
      >>> from minigrad.transforms.jit.fusion import scalar_form
      >>> forms = [scalar_form(eqn) for eqn in members]
      >>> readable_outputs(members, forms, {program.jaxpr.invars[0]: "x"}, outputs, "one loop")
      ('abs(x) * x',)
    """
    shown = dict(shown)
    for eqn, (_, shown_form, _) in zip(members, forms, strict=True):
        parts = [shown.get(atom_key(atom)) for atom in eqn.invars]
        text = None if None in parts else shown_form.format(*parts)
        shown[eqn.outvars[0]] = text if text is not None and len(text) <= _SHOWN_LIMIT else None
    expressions = tuple(None if shown[var] is None else _strip_parentheses(shown[var]) for var in outputs)
    if None not in expressions:
        return expressions
    counts = collections.Counter(eqn.primitive.name for eqn in members)
    listed = ", ".join(f"{name} x{count}" if count > 1 else name for name, count in sorted(counts.items()))
    # Formatted with the operands later: braces in a primitive's name stay braces.
    return (f"{len(members)} operations in {container} ({listed})".replace("{", "{{").replace("}", "}}"),)


def _strip_parentheses(text: str) -> str:
    if text.startswith("(") and text.endswith(")"):
        depth = 0
        for position, char in enumerate(text):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and position < len(text) - 1:
                return text
        return text[1:-1]
    return text
