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

from collections.abc import Callable, Sequence

import numpy as np

from minigrad.core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, ShapedArray, Var
from minigrad.core.trace import (
    Trace,
    Tracer,
    equation_source,
    errors_point_at_user_code,
    get_aval,
    mention_user_line,
    new_trace,
    user_source_line,
)

__all__ = ["StagingTrace", "StagingTracer", "stage_flat"]


class StagingTracer(Tracer):
    """A value of the staging trace: only its variable (shape and dtype) is known."""

    # Not `var`: that name is the variance method every array has (`x.var()`).
    __slots__ = ("variable",)

    def __init__(self, trace, variable):
        self._trace = trace
        self.variable = variable

    @property
    def aval(self) -> ShapedArray:
        return self.variable.aval


class StagingTrace(Trace):
    """Records equations from shape rules; collects constants as it meets them."""

    def __init__(self, level: int):
        super().__init__(level)
        self.eqns: list[Eqn] = []
        self.constvars: list[Var] = []
        self.consts: list = []
        self._const_atoms: dict[int, Var | Literal] = {}
        # Constants are remembered by id(); holding them keeps those ids from being reused.
        self._held_consts: list = []
        self._sources: dict[Var, str] = {}

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
            atom = Literal(np.asarray(value), aval)
        else:
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
        outvars = [Var(aval) for aval in out_avals]
        source = equation_source()
        self.eqns.append(Eqn(primitive, atoms, outvars, params, source=source))
        if source is not None:
            for var in outvars:
                self._sources[var] = source
        tracers = [StagingTracer(self, var) for var in outvars]
        return tracers if primitive.multiple_results else tracers[0]

    def source_of(self, tracer):
        return self._sources.get(tracer.variable) if isinstance(tracer, StagingTracer) else None

    def to_closed_jaxpr(self, in_tracers, outs) -> ClosedJaxpr:
        outvars = [self.atom(out) for out in outs]
        jaxpr = Jaxpr(self.constvars, [t.variable for t in in_tracers], self.eqns, outvars)
        return ClosedJaxpr(jaxpr, self.consts)


def stage_flat(fun: Callable, in_avals: Sequence[ShapedArray]) -> ClosedJaxpr:
    """Stage ``fun`` (flat list of tracers in, flat list of outputs) into a program."""
    with new_trace(StagingTrace) as trace:
        in_tracers = [trace.new_input(aval) for aval in in_avals]
        with errors_point_at_user_code():
            outs = fun(*in_tracers)
        return trace.to_closed_jaxpr(in_tracers, outs)
