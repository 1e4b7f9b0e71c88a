"""Loop nests: a region of small-array work, across shapes, compiled as one function.

A loss on a small batch is a few dozen NumPy calls on arrays of a few hundred elements:
a bias broadcast over rows, a row maximum, ``exp`` of the logits less that maximum
reshaped to a column, row sums, a mean. Each call costs about a microsecond however small
its array, and the flat loops of ``fusion.py`` cannot take them: their operands must
have one shape. A loop nest can. It takes a region of the program (elementwise
equations with NumPy's broadcasting, sums, maxima and minima over axes, and the views
``reshape``, ``transpose``, ``broadcast_to`` and ``stop_gradient``) and writes it as one
numba function of nested loops:

- Elementwise equations of one shape form a *stage*: one nest of loops over that shape,
  whose body computes each equation's element in a local, as the flat loop does.
  Operands of other shapes are read broadcast (a size-1 axis reads index 0).
- A reduction joins the stage of its operand's shape, accumulating as the nest runs,
  so the row maximum of a stage's values never leaves registers either. Float32 sums
  accumulate in float64, float64 sums with Neumaier's compensation: at least as
  accurate as NumPy's pairwise sums, and so different from them in the last bits.
  Maxima propagate NaN as NumPy's.
- A view is no loop at all: reading through it maps the indices (a reshape that only
  adds or drops size-1 axes, a transpose, a broadcast).
- A value that another stage reads, or that leaves the region, is written to an array;
  the others stay locals. An equation that needs a stage's work complete (the
  reduction's result, or a value read across its axes through a view) closes that
  stage, so the nest of the row maximum comes before the nest subtracting it.

For ``max(exp(x + b) * 2.0, axis=1)`` on a (4, 3) ``x``, the nest is (the example below)::

    def fused_loop(in0, in1, out0):
        for j0 in range(4):
            out0[j0] = -np.inf
        for i0 in range(4):
            for i1 in range(3):
                r1 = in0[i0, i1]
                r2 = in1[i1]
                v0 = r1 + r2
                v3 = np.exp(v0)
                v4 = v3 * np.float64(2.0)
                c5 = out0[i0]
                out0[i0] = c5 if (c5 > v4 or c5 != c5) else v4

Values enter as C-contiguous arrays (a view is copied first) and leave as new arrays,
one per output, so the compiled code is typed once, for the avals, and never again.

Example:
    >>> import numpy as np
    >>> from minigrad.core.ir import ShapedArray
    >>> from minigrad.core.staging import stage_flat
    >>> import minigrad.numpy as mnp
    >>> from minigrad.transforms.jit.fusion_tier import fuse_small_runs
    >>> from minigrad.transforms.jit.fusion import fusion_available
    >>> program = stage_flat(lambda x, b: [mnp.max(mnp.exp(x + b) * 2.0, axis=1)],
    ...                      [ShapedArray((4, 3), np.float64), ShapedArray((3,), np.float64)])
    >>> fused = fuse_small_runs(program)
    >>> names = ["fused"] if fusion_available() else ["add", "exp", "mul", "reduce_max"]
    >>> [eqn.primitive.name for eqn in fused.eqns] == names
    True
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from minigrad.core.ir import Literal, Var
from minigrad.ops.reduce import reduce_max_p, reduce_min_p
from minigrad.ops.selection import stop_gradient_p
from minigrad.ops.shape import broadcast_to_p, reduce_sum_p, reshape_p, transpose_p
from minigrad.transforms.jit.fusion import compile_loop
from minigrad.transforms.jit.fusion_text import atom_key, readable_outputs

__all__ = ["NestKernel", "nest_form", "REDUCTION", "VIEW"]

# The kinds of form this module adds to those of fusion.SCALAR_FORMS.
REDUCTION, VIEW = "reduction", "view"
# What each reduction accumulates. (The jit compiler identifies primitives by object,
# never by name: these words are this module's own.)
_REDUCTIONS = {reduce_sum_p: "total", reduce_max_p: "largest", reduce_min_p: "smallest"}
_VIEWS = (reshape_p, transpose_p, broadcast_to_p, stop_gradient_p)
_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


def nest_form(eqn):
    """The form of a reduction or a view that may join a loop nest, else None.

    Forms are ``SCALAR_FORMS``-like triples: (what the nest writes, how ``lower().source``
    shows it, kind), of kind ``REDUCTION`` or ``VIEW`` here.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.ir import ShapedArray
      >>> from minigrad.core.staging import stage_flat
      >>> import minigrad.numpy as mnp
      >>> program = stage_flat(lambda x: [mnp.max(x, axis=1), mnp.reshape(x, (2, 6))],
      ...                      [ShapedArray((3, 4), np.float32)])
      >>> [nest_form(eqn) for eqn in program.eqns]
      [('largest', 'reduce_max({0}, axes=(1,))', 'reduction'), None]
    """
    primitive = eqn.primitive
    if primitive in _REDUCTIONS:
        (x,) = eqn.invars
        if x.aval.dtype not in _FLOATS or x.aval.ndim == 0:
            return None
        shown = f"{primitive.name}({{0}}, axes={tuple(eqn.params['axes'])!r})"
        return _REDUCTIONS[primitive], shown, REDUCTION
    if primitive in _VIEWS:
        shape = eqn.outvars[0].aval.shape
        regroups = _unit_axes_dropped(eqn.invars[0].aval.shape) != _unit_axes_dropped(shape)
        if primitive is reshape_p and regroups:
            return None  # a reshape that regroups elements would need divisions in indices
        if primitive is stop_gradient_p:
            return primitive.name, "{0}", VIEW
        argument = eqn.params["permutation"] if primitive is transpose_p else shape
        return primitive.name, f"{primitive.name}({{0}}, {tuple(argument)!r})", VIEW
    return None


def _unit_axes_dropped(shape) -> tuple:
    return tuple(size for size in shape if size != 1)


# ---------------------------------------------------------------------------------------
# Stages


class _Stage:
    """One nest of loops over ``shape``: its equations, and which results are reductions."""

    def __init__(self, shape):
        self.shape = shape
        self.members: list = []
        self.reduced: set = set()


def _group_stages(members, forms, view_of) -> tuple[list, dict]:
    """The region's equations as stages in an order that computes every value before a
    stage reads it, and each result's stage. Views are recorded in ``view_of``."""
    open_stages: dict = {}  # shape -> its open stage
    stage_of: dict = {}  # variable -> the stage computing it
    ordered: list = []

    def close(stage):
        del open_stages[stage.shape]
        ordered.append(stage)

    for eqn, form in zip(members, forms, strict=True):
        if form[2] == VIEW:
            view_of[eqn.outvars[0]] = eqn
            continue
        shape = eqn.invars[0].aval.shape if form[2] == REDUCTION else eqn.outvars[0].aval.shape
        for atom in eqn.invars:
            root, mapped = _root(atom, view_of)
            stage = stage_of.get(root)
            if stage is None or open_stages.get(stage.shape) is not stage:
                continue  # an input, or a stage already written out
            # Elementwise values of this very nest are read in place; anything else
            # needs the stage complete first.
            if stage.shape != shape or mapped or root in stage.reduced:
                close(stage)
        stage = open_stages.get(shape)
        if stage is None:
            stage = open_stages[shape] = _Stage(shape)
        stage.members.append(eqn)
        if form[2] == REDUCTION:
            stage.reduced.add(eqn.outvars[0])
        stage_of[eqn.outvars[0]] = stage
    ordered.extend(open_stages.values())  # independent of each other: reads closed them
    return ordered, stage_of


def _root(atom, view_of) -> tuple:
    """The value ``atom`` is a view of, and whether the view moves elements (a
    ``stop_gradient`` or a reshape to the same shape does not)."""
    mapped = False
    while type(atom) is Var and atom in view_of:
        eqn = view_of[atom]
        parent = eqn.invars[0]
        mapped = mapped or parent.aval.shape != atom.aval.shape or eqn.primitive is transpose_p
        atom = parent
    return atom, mapped


def _parent_indices(eqn, indices: list) -> list:
    """The indices into a view's operand that read the view at ``indices``."""
    parent_shape, shape = eqn.invars[0].aval.shape, eqn.outvars[0].aval.shape
    if eqn.primitive is transpose_p:
        parent = [""] * len(indices)
        for axis, source in enumerate(eqn.params["permutation"]):
            parent[source] = indices[axis]
        return parent
    if eqn.primitive is broadcast_to_p:
        return _broadcast_indices(parent_shape, shape, indices)
    if eqn.primitive is reshape_p:  # only size-1 axes come or go (nest_form)
        kept = iter([index for index, size in zip(indices, shape, strict=True) if size != 1])
        return ["0" if size == 1 else next(kept) for size in parent_shape]
    return indices  # stop_gradient


# ---------------------------------------------------------------------------------------
# Writing the function


def _subscript(indices) -> str:
    return f"[{', '.join(indices)}]" if indices else "[()]"


def _loops(shape, body, index: str) -> list:
    """``body`` inside one loop per axis of ``shape`` longer than 1 (a size-1 axis is read
    at index 0, so an array of any number of axes nests at most as deep as its size
    allows)."""
    lines, indent = [], "    "
    for axis, size in enumerate(shape):
        if size != 1:
            lines.append(f"{indent}for {index}{axis} in range({size}):")
            indent += "    "
    return lines + [indent + line for line in body]


def _loop_indices(shape, index: str) -> list:
    """The index of each axis of ``shape`` in ``_loops``: its loop's variable, or 0."""
    return ["0" if size == 1 else f"{index}{axis}" for axis, size in enumerate(shape)]


def _dtype_text(dtype) -> str:
    return "np.bool_" if dtype == np.bool_ else f"np.{dtype.name}"


def _literal_text(atom):
    """How the nest writes a scalar literal inline, or None if it is passed in (a NaN,
    whose payload only a passed value keeps; an integer)."""
    if type(atom) is not Literal or atom.aval.ndim != 0:
        return None
    dtype = atom.aval.dtype
    value = np.asarray(atom.val).item()
    if dtype == np.bool_:
        return repr(bool(value))
    if dtype not in _FLOATS or math.isnan(value):
        return None
    text = repr(float(value)) if math.isfinite(value) else ("np.inf" if value > 0 else "-np.inf")
    return f"np.{dtype.name}({text})"


_INITIAL = {"total": "0.0", "largest": "-np.inf", "smallest": "np.inf"}
_COMPARE = {"largest": ">", "smallest": "<"}


class _NestWriter:
    """Writes the numba source of one region (see the module docstring)."""

    def __init__(self, members, forms, inputs, outputs):
        self.forms = dict(zip(map(id, members), forms, strict=True))
        self.view_of: dict = {}
        self.stages, self.stage_of = _group_stages(members, forms, self.view_of)
        self.names = (f"{number}" for number in itertools.count())
        self.text: dict = {}  # atom key -> an inline literal, a scalar parameter, or an array
        self.scalars: set = set()  # the keys of the first two, read without subscripts
        self.params, self.passed = [], []
        for atom in inputs:
            key = atom_key(atom)
            literal = _literal_text(atom)
            if literal is None:
                literal = f"in{len(self.passed)}"
                self.params.append(literal)
                self.passed.append(atom)
            self.text[key] = literal
            if atom.aval.ndim == 0:
                self.scalars.add(key)
        self.outputs = {var: f"out{position}" for position, var in enumerate(outputs)}
        self.params.extend(self.outputs.values())
        self.written = self._values_to_write()

    def _values_to_write(self) -> set:
        """Elementwise results that must be arrays: read by another stage or through a
        view that moves elements, or the root of an output."""
        written = set()
        for stage in self.stages:
            for eqn in stage.members:
                for atom in eqn.invars:
                    root, mapped = _root(atom, self.view_of)
                    if root in self.stage_of and (self.stage_of[root] is not stage or mapped):
                        written.add(root)
        written.update(_root(var, self.view_of)[0] for var in self.outputs)
        return written - {var for stage in self.stages for var in stage.reduced}

    def source(self) -> str:
        lines = []
        for stage in self.stages:
            lines.extend(self._stage_lines(stage))
        for var, name in self.outputs.items():  # outputs that are views: copied out
            if var in self.view_of:
                indices = _loop_indices(var.aval.shape, "j")
                lines.extend(
                    _loops(var.aval.shape, [f"{name}{_subscript(indices)} = {self._read(var, indices)}"], "j")
                )
        header = f"def fused_loop({', '.join(self.params)}):\n"
        return header + "".join(line + "\n" for line in lines or ["    pass"])

    def _new_array(self, shape, dtype) -> tuple[str, list]:
        """A new array's name and the line making it."""
        name = f"a{next(self.names)}"
        return name, [f"    {name} = np.empty({tuple(shape)!r}, {_dtype_text(np.dtype(dtype))})"]

    def _result_array(self, var) -> tuple[str, list]:
        """The array ``var`` is written to (its output's, or a new one), recorded as where
        later nests read it, and the lines making it."""
        name, made = (
            (self.outputs[var], [])
            if var in self.outputs
            else self._new_array(var.aval.shape, var.aval.dtype)
        )
        self.text[var] = name
        return name, made

    def _stage_lines(self, stage) -> list:
        before, body, after = [], [], []
        local: dict = {}  # this nest's elementwise results -> their locals
        loaded: dict = {}  # an operand's subscripted read -> the local holding it
        indices = _loop_indices(stage.shape, "i")

        def operand(atom) -> str:
            root, mapped = _root(atom, self.view_of)
            if not mapped and root in local:
                return local[root]
            read = self._read(atom, _broadcast_indices(atom.aval.shape, stage.shape, indices))
            if "[" not in read:
                return read  # a literal or a scalar parameter
            if read not in loaded:
                loaded[read] = f"r{next(self.names)}"
                body.append(f"{loaded[read]} = {read}")
            return loaded[read]

        for eqn in stage.members:
            loop_form, _, kind = self.forms[id(eqn)]
            var = eqn.outvars[0]
            if kind == REDUCTION:
                lines = self._reduction_lines(eqn, loop_form, operand(eqn.invars[0]), indices)
                before.extend(lines[0])
                body.extend(lines[1])
                after.extend(lines[2])
                continue
            value = local[var] = f"v{next(self.names)}"
            body.append(f"{value} = {loop_form.format(*map(operand, eqn.invars))}")
            if var in self.written:
                array, made = self._result_array(var)
                before.extend(made)
                body.append(f"{array}{_subscript(indices)} = {value}")
        return before + _loops(stage.shape, body, "i") + after

    def _reduction_lines(self, eqn, kind: str, value: str, indices) -> tuple[list, list, list]:
        """Lines before the stage's nest (accumulators set to the identity), in its body
        (accumulating ``value``) and after it (sums rounded into the result)."""
        var = eqn.outvars[0]
        shape = var.aval.shape
        axes = eqn.params["axes"]
        slot = _subscript([index for axis, index in enumerate(indices) if axis not in axes])
        filled = _subscript(_loop_indices(shape, "j"))
        if kind != "total":  # NumPy's maximum(a, b) is a when a > b or a is NaN, else b
            result, before = self._result_array(var)
            before += _loops(shape, [f"{result}{filled} = {_INITIAL[kind]}"], "j")
            held = f"c{next(self.names)}"
            compare = _COMPARE[kind]
            update = f"{result}{slot} = {held} if ({held} {compare} {value} or {held} != {held}) else {value}"
            return before, [f"{held} = {result}{slot}", update], []
        # Float32 sums accumulate in float64, which rounds each term's float32 bits
        # exactly for any array this small. Float64 sums carry Neumaier's compensation,
        # the rounding error of each addition, so they are no less accurate than NumPy's
        # pairwise sums (one after another, their error would grow with the count).
        total, before = self._new_array(shape, np.float64)
        initial = [f"{total}{filled} = 0.0"]
        if var.aval.dtype == np.float32:
            body = [f"{total}{slot} += np.float64({value})"]
            rounded = f"np.float32({total}{filled})"
        else:
            error, made = self._new_array(shape, np.float64)
            before += made
            initial.append(f"{error}{filled} = 0.0")
            held, summed = f"c{next(self.names)}", f"t{next(self.names)}"
            body = [
                f"{held} = {total}{slot}",
                f"{summed} = {held} + {value}",
                f"{error}{slot} += (({held} - {summed}) + {value}) if abs({held}) >= abs({value}) "
                f"else (({value} - {summed}) + {held})",
                f"{total}{slot} = {summed}",
            ]
            # An infinite or NaN total is the sum (the compensation would be NaN).
            sum_text = f"{total}{filled}"
            rounded = f"({sum_text} + {error}{filled}) if np.isfinite({sum_text}) else {sum_text}"
        before += _loops(shape, initial, "j")
        result, made = self._result_array(var)
        return before, body, made + _loops(shape, [f"{result}{filled} = {rounded}"], "j")

    def _read(self, atom, indices) -> str:
        """The expression reading ``atom`` at ``indices`` (one per axis of its shape)."""
        while type(atom) is Var and atom in self.view_of:
            eqn = self.view_of[atom]
            indices = _parent_indices(eqn, indices)
            atom = eqn.invars[0]
        key = atom_key(atom)
        return self.text[key] if key in self.scalars else f"{self.text[key]}{_subscript(indices)}"


def _broadcast_indices(shape, broadcast_shape, indices) -> list:
    """The indices reading an array of ``shape`` broadcast to ``broadcast_shape`` (an
    operand to its nest's shape, or ``broadcast_to``'s operand to its result's)."""
    offset = len(broadcast_shape) - len(shape)
    return ["0" if size == 1 else indices[axis + offset] for axis, size in enumerate(shape)]


# ---------------------------------------------------------------------------------------
# The kernel


class NestKernel:
    """One region as a compiled loop nest: ``FusedKernel``'s interface for ``fused_p``.

    ``inputs`` are the operands the call takes (scalar literals are written into the
    source instead); ``source`` is the numba function; ``expressions`` what the
    compiled program's comment shows for each output.
    """

    def __init__(self, members, forms, inputs, outputs):
        writer = _NestWriter(members, forms, inputs, outputs)
        self.source = writer.source()
        self.inputs = tuple(writer.passed)
        self.out_avals = tuple(var.aval for var in outputs)
        self.stages = len(writer.stages)
        self.expressions = _expressions(members, forms, inputs, self.inputs, outputs, self.stages)
        self._call = self._first_call

    def __call__(self, *args):
        return self._call(*args)

    def compile(self) -> None:
        """Compile the nest now, for the avals' types, rather than in the first call."""
        if self._call == self._first_call:
            types = [(atom.aval.dtype.str, atom.aval.ndim or None, False) for atom in self.inputs]
            types += [(aval.dtype.str, aval.ndim, True) for aval in self.out_avals]
            self._call = _nest_glue(compile_loop(self.source, tuple(types)), self)

    def _first_call(self, *args):
        self.compile()
        return self._call(*args)


def _nest_glue(loop, kernel):
    """The function from the region's inputs to its outputs around the compiled ``loop``:
    arrays made C-contiguous (a no-op for most), 0-d inputs as scalars of their dtype,
    one new array per output."""
    params, passed, lines = [], [], []
    namespace = {"_contiguous": np.ascontiguousarray, "_empty": np.empty, "_loop": loop}
    for position, atom in enumerate(kernel.inputs):
        params.append(f"a{position}")
        if atom.aval.ndim:
            passed.append(f"_contiguous(a{position})")
        else:
            namespace[f"_t{position}"] = atom.aval.dtype.type
            passed.append(f"_t{position}(a{position})")
    outs = []
    for position, aval in enumerate(kernel.out_avals):
        namespace[f"_d{position}"] = aval.dtype
        lines.append(f"    o{position} = _empty({tuple(aval.shape)!r}, _d{position})")
        outs.append(f"o{position}")
    lines.append(f"    _loop({', '.join(passed + outs)})")
    lines.append(f"    return [{', '.join(outs)}]")
    source = f"def call({', '.join(params)}):\n" + "\n".join(lines) + "\n"
    exec(compile(source, "<minigrad loop nest call>", "exec"), namespace)  # noqa: S102 - generated above
    return namespace["call"]


def _expressions(members, forms, inputs, passed, outputs, stages) -> tuple:
    """Each output written in terms of the inputs passed (``{0}``, ``{1}``, ...) and the
    literals written in (``fusion_text.readable_outputs``)."""
    shown = {atom_key(atom): "{" + str(position) + "}" for position, atom in enumerate(passed)}
    for atom in inputs:
        if atom_key(atom) not in shown:  # a scalar literal, written in
            shown[atom_key(atom)] = repr(np.asarray(atom.val).item())
    nests = "one loop nest" if stages == 1 else f"{stages} loop nests"
    return readable_outputs(members, forms, shown, outputs, nests)
