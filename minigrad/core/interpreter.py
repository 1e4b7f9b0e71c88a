"""Running a program: bind each equation's primitive in order.

Because evaluation goes through ``bind``, running a program under an active transform
transforms it: ``eval_jaxpr`` is how a staged program is replayed inside ``grad`` or
``vmap``.

Example:
    >>> import numpy as np
    >>> from minigrad.core.ir import ShapedArray
    >>> from minigrad.core.staging import stage_flat
    >>> closed = stage_flat(lambda x: [x], [ShapedArray((), np.float64)])
    >>> eval_jaxpr(closed.jaxpr, closed.consts, np.float64(2.0))
    [np.float64(2.0)]
"""

from __future__ import annotations

from minigrad.core.ir import Jaxpr, Literal
from minigrad.core.trace import bind
from minigrad.core.user_code import reset_equation_source, set_equation_source

__all__ = ["eval_jaxpr"]


def eval_jaxpr(jaxpr: Jaxpr, consts, *args) -> list:
    """Evaluate ``jaxpr`` on ``consts`` and ``args``; returns the list of outputs."""
    env: dict = {}

    def read(atom):
        return atom.val if type(atom) is Literal else env[atom]

    for var, value in zip(jaxpr.constvars, consts, strict=True):
        env[var] = value
    for var, value in zip(jaxpr.invars, args, strict=True):
        env[var] = value
    for eqn in jaxpr.eqns:
        # What the equation does now (a NaN it makes, equations staged from it) is
        # blamed on the user's line that made it, not on the line that replays it.
        token = None if eqn.source is None else set_equation_source(eqn.source)
        try:
            out = bind(eqn.primitive, *(read(atom) for atom in eqn.invars), **eqn.params)
        finally:
            if token is not None:
                reset_equation_source(token)
        if eqn.primitive.multiple_results:
            for var, value in zip(eqn.outvars, out, strict=True):
                env[var] = value
        else:
            env[eqn.outvars[0]] = out
    return [read(atom) for atom in jaxpr.outvars]
