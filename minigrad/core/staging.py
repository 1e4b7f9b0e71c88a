"""The staging trace: run a function on shapes alone and keep the program it makes.

``jit``, ``vmap`` and ``make_jaxpr`` need a function's program for *any* input of given
shapes and dtypes, so the staging trace knows no values: each primitive's shape rule
gives the output's abstract value, and an equation is appended. Python control flow on
a staged value raises ``ConcretizationError``. Values from outside the function (NumPy
arrays it closes over, or tracers of outer transforms) become the program's constants.

Example:
    >>> import numpy as np
    >>> from minigrad.core.ir import ShapedArray
    >>> closed = stage_flat(lambda x: [x], [ShapedArray((2,), np.float32)])
    >>> print(closed)
    { lambda ; a:f32[2]. let  in (a,) }
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import attrs
import numpy as np

from minigrad.core.call_stack import CallRecorder
from minigrad.core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, ShapedArray, Var
from minigrad.core.trace import Trace, Tracer, get_aval, new_trace
from minigrad.core.user_code import (
    equation_source,
    errors_point_at_user_code,
    mention_user_line,
    user_source_line,
)

__all__ = ["StagingTrace", "StagingTracer", "stage_flat"]


class StagingTracer(Tracer):
    """A value of the staging trace: only its variable (shape and dtype) is known."""

    # Not `var`: that name is the variance method every array has (`x.var()`).
    # `source` is the user's line that made it (kept here, not in a table of the trace,
    # so that a long program costs no memory per equation beyond the equation itself).
    # `aval` is the variable's, in a slot for speed (as in ``RecordTracer``).
    __slots__ = ("variable", "source", "aval")

    def __init__(self, trace, variable, source=None):
        self._trace = trace
        self.variable = variable
        self.source = source
        self.aval = variable.aval


class StagingTrace(Trace):
    """Records equations from shape rules; collects constants as it meets them."""

    def __init__(self, level: int):
        super().__init__(level)
        # Set by ``stage_flat``: finds the chain of the user's calls for each equation.
        self.calls: CallRecorder | None = None
        self.eqns: list[Eqn] = []
        self.constvars: list[Var] = []
        self.consts: list = []
        # Array constants are remembered by id(), so one closed-over array is one constvar;
        # holding them keeps those ids from being reused.
        self._const_atoms: dict[int, Var] = {}
        self._held_consts: list = []

    def new_input(self, aval: ShapedArray) -> StagingTracer:
        return StagingTracer(self, Var(aval))

    def atom(self, value) -> Var | Literal:
        """The atom standing for ``value`` in this trace's program."""
        if isinstance(value, StagingTracer) and value._trace is self:
            return value.variable
        known = self._const_atoms.get(id(value))
        if known is not None:
            return known
        aval = get_aval(value)
        if not isinstance(value, Tracer) and aval.shape == ():
            # Scalars (mostly fresh Python numbers) are written into the equation and not
            # remembered: remembering them cost memory for every equation of a program.
            # A copy: a closed-over 0-d array may be written into after tracing.
            return Literal(np.array(value), aval)
        atom = Var(aval)
        self.constvars.append(atom)
        self.consts.append(value)
        self._const_atoms[id(value)] = atom
        self._held_consts.append(value)
        return atom

    def process_primitive(self, primitive, args, params):
        atoms = [self.atom(arg) for arg in args]
        avals = [atom.aval for atom in atoms]
        try:
            out_avals = primitive.shape_rule(*avals, **params)
        except (TypeError, ValueError) as error:
            mention_user_line(error, user_source_line())
            raise
        if not primitive.multiple_results:
            out_avals = [out_avals]
        # Only a transform's inputs are weakly typed: a rule that hands back an input's
        # aval (``x + x`` keeps ``x``'s) must not make its result weak.
        outvars = [Var(attrs.evolve(aval, weak_type=False) if aval.weak_type else aval) for aval in out_avals]
        source = equation_source(self._locate)
        self.eqns.append(Eqn(primitive, tuple(atoms), tuple(outvars), params, source=source))
        tracers = [StagingTracer(self, var, source) for var in outvars]
        return tracers if primitive.multiple_results else tracers[0]

    def _locate(self):
        """The user's line (with its chain of calls, where staged from ``stage_flat``)."""
        return user_source_line() if self.calls is None else self.calls.source_line()

    def source_of(self, tracer):
        return tracer.source if isinstance(tracer, StagingTracer) else None

    def to_closed_jaxpr(self, in_tracers, outs) -> ClosedJaxpr:
        outvars = [self.atom(out) for out in outs]
        jaxpr = Jaxpr(self.constvars, [t.variable for t in in_tracers], self.eqns, outvars)
        return ClosedJaxpr(jaxpr, self.consts)


def stage_flat(fun: Callable, in_avals: Sequence[ShapedArray]) -> ClosedJaxpr:
    """Stage ``fun`` (flat list of tracers in, flat list of outputs) into a program."""
    with new_trace(StagingTrace) as trace:
        trace.calls = CallRecorder(sys._getframe())
        in_tracers = [trace.new_input(aval) for aval in in_avals]
        try:
            with errors_point_at_user_code():
                outs = fun(*in_tracers)
        finally:
            trace.calls.release()
        return trace.to_closed_jaxpr(in_tracers, outs)
