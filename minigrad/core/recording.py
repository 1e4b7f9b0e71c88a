"""The recording trace: compute every operation now, and write it down.

Reverse mode needs the program *and* the value of every variable in it. A recording
trace gets both at once: each primitive is evaluated one level out (with NumPy, or by an
outer transform) and appended as an equation. Because values are known, Python control
flow on them works; the program records the branch taken for these inputs.

Operations whose results cannot carry a derivative (comparisons, integer results) are
not recorded; their plain values flow on as constants.

Example:
    >>> import numpy as np
    >>> from minigrad.core.trace import new_trace
    >>> with new_trace(RecordTrace) as trace:
    ...     x = trace.new_input(np.float64(3.0))
    ...     bool(x.value > 2)
    True
"""

from __future__ import annotations

import numpy as np
from numpy import ndarray  # not `np.name` in hot paths: see core/dtypes.py

from minigrad.core import config as _config
from minigrad.core.dtypes import FLOAT_KINDS, is_float_dtype
from minigrad.core.ir import Literal, ShapedArray, Var
from minigrad.core.trace import (
    INTERNED_AVALS,
    Trace,
    Tracer,
    as_outputs,
    bind_args,
    evaluate,
    explain_failure,
    get_aval,
)

__all__ = ["RecordTrace", "RecordTracer", "STRUCTURE_LIMIT", "is_plain_param"]

_new = object.__new__  # an instance without running its `__init__`

# A longer recording keeps no structure: a backward plan for it would take longer to
# stage than the walks it could spare, and the structure memory (and the collector time).
STRUCTURE_LIMIT = 10_000

# Parameters a structure compares as they are; floats and NumPy scalars by their bits.
_EXACT_PARAMS = frozenset((bool, int, str, type(None)))


def is_plain_param(param) -> bool:
    """Is ``param`` a number, string, dtype or tuple of them: compared by value, no code?

    Example:
      >>> is_plain_param((0, "slice", None)), is_plain_param((0, print))
      (True, False)
    """
    if type(param) is tuple:
        return all(is_plain_param(item) for item in param)
    return type(param) in _EXACT_PARAMS or type(param) is float or isinstance(param, (np.dtype, np.generic))


def _structure_params(params, deep: bool):
    """``params`` as a structure holds them, or None if a parameter is not compared by
    value (an array, a function, a program).

    ``==`` would take -0.0 for 0.0, and a plan staged with one would run with the other:
    floats and NumPy scalars are compared by type and bits. Tuples are looked into only
    if ``deep`` (the built-in single-result primitives hold axes and shapes in them).
    """
    by_bits = False
    for value in params.values():
        kind = type(value)
        if kind in _EXACT_PARAMS or isinstance(value, np.dtype):
            continue
        if kind is float or isinstance(value, np.generic):
            by_bits = True
        elif kind is not tuple or (deep and not is_plain_param(value)):
            return None
    if not by_bits:
        return params
    return tuple(
        (name, type(value), np.asarray(value).tobytes())
        if type(value) is float or isinstance(value, np.generic)
        else (name, value)
        for name, value in params.items()
    )


class RecordTracer(Tracer):
    """A value of the recording trace: its concrete (or outer) value and its variable."""

    # Not `var`: that name is the variance method every array has (`x.var()`).
    # `aval`, `shape` and `dtype` are the variable's, kept in slots: they are read by
    # every operation's promotion and broadcasting, and a slot is much cheaper to read
    # than the base class's properties. `index` is the variable's position in the
    # trace's `values` (see `RecordTrace.structure`).
    __slots__ = ("value", "variable", "aval", "shape", "dtype", "index")

    def __init__(self, trace, value, variable, index):
        # `RecordTrace.process_primitive` sets these fields itself; keep the two in step.
        self._trace = trace
        self.value = value
        self.variable = variable
        aval = self.aval = variable.aval
        self.shape = aval.shape
        self.dtype = aval.dtype
        self.index = index


class RecordTrace(Trace):
    """Evaluates and records; ``tape`` and ``values`` are read by the backward pass.

    ``tape`` lists the recorded equations in order, each as a plain tuple ``(primitive,
    invars, outvars, params, source)`` with the fields of an ``Eqn``: building an attrs
    record per operation cost a fifth of recording it, and only the backward walk,
    which reads each entry once, ever sees them.

    ``structure`` describes the recorded program without its values, one entry per
    variable or literal in the order they enter ``values``: ``("input", aval)``,
    ``("literal", aval)``, or ``(primitive, operand positions, params, aval)`` for an
    equation. Two recordings with equal structures differ only in their values, so one
    backward program serves both (``transforms/backward_plans.py``). It is None once the
    recording holds something such a program could not replay: values of an outer
    transform, an operation whose parameters are not numbers, strings, dtypes and
    tuples (control flow and custom rules carry programs and functions, others arrays),
    or one whose VJP rule reads values (``Primitive.vjp_reads_values``).
    """

    label = "grad"

    def __init__(self, level: int):
        super().__init__(level)
        self.tape: list[tuple] = []
        # The value of every variable and literal of this trace's program: the backward
        # pass reads two or three atoms per equation, each then one dict lookup.
        self.values: dict[Var | Literal, object] = {}
        # read(atom): the value of a variable or literal of this trace's program.
        self.read = self.values.__getitem__
        self._sources: dict[Var, str] = {}
        # One Literal per distinct scalar constant (``x * 1.1`` in a loop reuses one): an
        # equation then costs no new objects for its constants, which keeps the garbage
        # collector's work per equation flat in long programs. Keyed by dtype and bytes,
        # so -0.0 and 0.0, or two NaNs, are told apart exactly.
        # Each literal maps to its position in `values`.
        self._scalar_literals: dict[tuple, tuple[Literal, int]] = {}
        self._literals_by_identity: dict[int, tuple[Literal, int]] = {}
        self.structure: list | None = []

    def new_input(self, value, aval: ShapedArray | None = None) -> RecordTracer:
        """A tracer for an input ``value``; ``aval`` (default: the value's) may be weak."""
        var = Var(get_aval(value) if aval is None else aval)
        index = len(self.values)
        self.values[var] = value
        if self.structure is not None:
            self.structure.append(("input", var.aval))
        return RecordTracer(self, value, var, index)

    def concrete_value(self, tracer, operation):
        value = tracer.value
        if isinstance(value, Tracer):
            return value._concrete(operation)
        return value

    def carries_derivative(self, tracer):
        return is_float_dtype(tracer.aval.dtype)

    def source_of(self, tracer):
        return self._sources.get(tracer.variable) if isinstance(tracer, RecordTracer) else None

    def _literal(self, value) -> tuple[Literal, int]:
        """The literal of a constant operand and its position in ``values``, which it
        enters with its value the first time."""
        if type(value) is not ndarray or value.shape != ():
            return self._new_literal(value)
        # The 0-d arrays of weak Python numbers are shared (`weak_scalar_array`), so most
        # are found by identity; the literal holds its array, so the identity stays its own.
        found = self._literals_by_identity.get(id(value))
        if found is not None:
            return found
        # By the dtype's identity and the bytes (NumPy computes a dtype's hash anew on
        # every call; the literal keeps its dtype alive).
        key = (id(value.dtype), value.tobytes())
        found = self._scalar_literals.get(key)
        if found is None:
            found = self._scalar_literals[key] = self._new_literal(value)
        if found[0].val is value:
            self._literals_by_identity[id(value)] = found
        return found

    def _new_literal(self, value) -> tuple[Literal, int]:
        literal = Literal(value, get_aval(value))
        index = len(self.values)
        self.values[literal] = value
        if self.structure is not None:
            self.structure.append(("literal", literal.aval))
        return literal, index

    def process_primitive(self, primitive, args, params):
        # This runs once per operation of every differentiated function, so it does only
        # what it must: split the arguments, compute, write one equation down.
        operand = args[0] if len(args) == 1 else None
        if type(operand) is RecordTracer and operand._trace is self:
            # One operand, of this trace (`sin(x)`, `x.sum()`): nothing to collect. Its
            # value is an array, or a tracer of an outer transform.
            value = operand.value
            values = (value,)
            atoms = (operand.variable,)
            positions = (operand.index,)
            outer = type(value) is not ndarray
        else:
            values = []
            atoms = []
            positions = []
            outer = False  # does any value belong to an outer transform?
            for arg in args:
                if type(arg) is RecordTracer and arg._trace is self:
                    value = arg.value
                    atoms.append(arg.variable)
                    positions.append(arg.index)
                else:
                    value = arg
                    # A shared scalar (`x * 1.1` in a loop) is found by identity, here.
                    found = self._literals_by_identity.get(id(arg))
                    literal, position = self._literal(arg) if found is None else found
                    atoms.append(literal)
                    positions.append(position)
                values.append(value)
                if type(value) is not ndarray and isinstance(value, Tracer):
                    outer = True
            atoms = tuple(atoms)
            positions = tuple(positions)
        if outer:
            out = bind_args(primitive, values, params)
        elif _config.nan_checks_armed:
            out = evaluate(primitive, values, params)
        else:
            # Plain arrays: `evaluate` spelled out, as in `bind_args`.
            try:
                out = primitive.impl(*values, **params) if params else primitive.impl(*values)
            except Exception as error:
                explain_failure(primitive, values, params, error)
                raise
            if type(out) is not ndarray:
                out = as_outputs(primitive, out)
        if not primitive.differentiable:
            return out
        # Under an outer staging trace, the equation one level out knows the user's line;
        # the backward pass hands it on to the equations it emits for this one.
        source = None
        if outer:
            first = out[0] if primitive.multiple_results and out else out
            if isinstance(first, Tracer):
                source = first._trace.source_of(first)
        if not primitive.multiple_results:
            # The usual case, written out: one output, one variable, its aval looked up
            # as `get_aval` does.
            aval = INTERNED_AVALS.get((out.shape, id(out.dtype))) if type(out) is ndarray else None
            if aval is None:
                aval = get_aval(out)
            # The variable and the tracer are built field by field: calling a class with
            # a Python `__init__` takes CPython's slow path for calling a type (the two
            # cost about 1,100 instructions more per operation).
            var = _new(Var)
            var.aval = aval
            index = len(self.values)
            self.values[var] = out
            self.tape.append((primitive, atoms, (var,), params, source))
            structure = self.structure
            if structure is not None:
                kept = _structure_params(params, deep=False) if params else params
                if outer or kept is None or primitive.vjp_reads_values or len(structure) >= STRUCTURE_LIMIT:
                    self.structure = None
                else:
                    structure.append((primitive, positions, kept, aval))
            if source is not None:
                self._sources[var] = source
            if aval.dtype.kind not in FLOAT_KINDS:
                return out
            tracer = _new(RecordTracer)
            tracer._trace = self
            tracer.value = out
            tracer.variable = var
            tracer.aval = aval
            tracer.shape = aval.shape
            tracer.dtype = aval.dtype
            tracer.index = index
            return tracer
        record_values = self.values
        tracers = []
        outvars = []
        for value in out:
            aval = get_aval(value)
            var = Var(aval)
            outvars.append(var)
            index = len(record_values)
            record_values[var] = value
            if aval.dtype.kind in FLOAT_KINDS:
                tracers.append(RecordTracer(self, value, var, index))
            else:
                tracers.append(value)  # integers and booleans carry no derivative
        self.tape.append((primitive, atoms, tuple(outvars), params, source))
        if self.structure is not None:
            # Control flow and custom rules carry programs and user functions, which a
            # backward plan does not replay; decompositions (qr, eigh, ...) carry flags.
            kept = _structure_params(params, deep=True)
            if outer or kept is None or primitive.vjp_reads_values or len(self.structure) >= STRUCTURE_LIMIT:
                self.structure = None
            else:
                self.structure.append((primitive, positions, kept, tuple(var.aval for var in outvars)))
        if source is not None:
            for var in outvars:
                self._sources[var] = source
        return tracers
