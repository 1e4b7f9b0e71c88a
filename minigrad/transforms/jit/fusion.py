"""Fusion: runs of cheap elementwise equations on large arrays become one compiled loop.

NumPy runs a chain such as ``1.05 * where(x > 0, x, 1.67 * exp(x) - 1.67)`` one
ufunc at a time, each a full pass over memory. Measured on one CPU (see
``benchmarks/fusion_engines.py``), the costs are not where one might guess: NumPy's
transcendental functions (``exp``, ``sin``, ``tanh``, ...) are SIMD code that neither
numexpr (without Intel's VML) nor a numba loop (without SVML) matches, while
``np.where`` on an unpredictable mask costs ten times an addition, because it
branches per element. So this pass leaves transcendental functions to NumPy and fuses
the rest, arithmetic, comparisons, ``where``, ``maximum``/``minimum``, ``abs`` and
casts of booleans to floats, into one numba-compiled loop per run, whose ``where`` is a
branch-free select.

Which primitives fuse is derived from their implementation: a primitive whose
``impl`` is one of the NumPy functions in ``SCALAR_FORMS`` computes exactly that
function element by element, so the loop writes the same operation on scalars (the
IEEE operations and comparisons round identically; ``maximum``/``minimum`` are
written to propagate NaN and order signed zeros as NumPy does). Only floating-point
arithmetic fuses (integer division and overflow follow other rules in numba), and
only where every operand has the run's shape or is a scalar, so no broadcasting
happens inside a loop.

A run is fused only where it pays: numba is installed (the ``fast`` extra), the
arrays have at least ``MIN_FUSED_SIZE`` elements (each loop costs about 0.1 s to
compile, once per process), and the run holds a ``where`` (or a cast of booleans, a
``where`` of 1 and 0): a loop of arithmetic alone measured no faster than NumPy's SIMD
calls, and slower on (128, 512) arrays.
Otherwise the program is compiled exactly as without this pass (where ``select``'s
own lowering already avoids ``np.where``'s branches on large arrays, by bits).

Small arrays are the opposite case, NumPy's cost per call outweighing everything:
``fusion_tier.py`` fuses their runs, transcendental functions included, once a
program is hot. Both use this module's grouping (``fuse_runs``) and loops.

Example:
    >>> import numpy as np
    >>> from minigrad.core.ir import ShapedArray
    >>> from minigrad.core.staging import stage_flat
    >>> from minigrad.ops.elementwise import add, mul
    >>> program = stage_flat(lambda x: [add(mul(x, 2.0), 1.0)], [ShapedArray((4,), np.float64)])
    >>> fuse_elementwise(program, min_size=10**6) is program  # too small to pay
    True
    >>> fuse_elementwise(program, min_size=0) is program  # no `where`: NumPy is as fast
    True
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import itertools
import math
import sys
import threading

import numpy as np

from minigrad.core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var
from minigrad.core.lowering import FRESH, Code
from minigrad.core.primitive import Primitive
from minigrad.ops.selection import convert_impl
from minigrad.ops.shape import transpose_p
from minigrad.transforms.jit.fusion_text import atom_key, readable_outputs

__all__ = [
    "fuse_elementwise", "fuse_runs", "fused_p", "FusedKernel", "SCALAR_FORMS", "MIN_FUSED_SIZE", "fusion_available",
    "scalar_form", "fits_shape", "is_select", "compile_loop",
]  # fmt: skip

# Below this many elements a fused loop saves microseconds per call but costs about
# 0.1 s to compile (benchmarks/fusion_engines.py): the plain NumPy code is kept.
MIN_FUSED_SIZE = 1 << 16

# NumPy function -> (how the loop writes it on scalars, how `lower().source` shows it,
# what it operates on). Operands are plain local names, so each is evaluated once.
_ARITHMETIC, _COMPARISON, _SELECT, _BLEND = "arithmetic", "comparison", "select", "blend"
SCALAR_FORMS = {
    np.add: ("{0} + {1}", "({0} + {1})", _ARITHMETIC),
    np.subtract: ("{0} - {1}", "({0} - {1})", _ARITHMETIC),
    np.multiply: ("{0} * {1}", "({0} * {1})", _ARITHMETIC),
    np.true_divide: ("{0} / {1}", "({0} / {1})", _ARITHMETIC),
    np.negative: ("-{0}", "(-{0})", _ARITHMETIC),
    np.absolute: ("abs({0})", "abs({0})", _ARITHMETIC),
    # NumPy's maximum(a, b) is a when a > b or a is NaN, else b: NaN propagates from
    # either side and maximum(0.0, -0.0) is -0.0, the second operand.
    np.maximum: ("{0} if ({0} > {1} or {0} != {0}) else {1}", "maximum({0}, {1})", _ARITHMETIC),
    np.minimum: ("{0} if ({0} < {1} or {0} != {0}) else {1}", "minimum({0}, {1})", _ARITHMETIC),
    np.greater: ("{0} > {1}", "({0} > {1})", _COMPARISON),
    np.greater_equal: ("{0} >= {1}", "({0} >= {1})", _COMPARISON),
    np.less: ("{0} < {1}", "({0} < {1})", _COMPARISON),
    np.less_equal: ("{0} <= {1}", "({0} <= {1})", _COMPARISON),
    np.equal: ("{0} == {1}", "({0} == {1})", _COMPARISON),
    np.not_equal: ("{0} != {1}", "({0} != {1})", _COMPARISON),
    np.where: ("{1} if {0} else {2}", "where({0}, {1}, {2})", _SELECT),
}

_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))
_BOOL = np.dtype(np.bool_)


def fusion_available() -> bool:
    """Whether numba (the ``fast`` extra) is installed, so runs can be fused.

    A ``None`` in ``sys.modules`` (how tests and users block an import) counts as absent.
    """
    if "numba" in sys.modules:
        return sys.modules["numba"] is not None
    return _numba_installed()


@functools.cache
def _numba_installed() -> bool:
    return importlib.util.find_spec("numba") is not None


def scalar_form(eqn, forms=None):
    """The entry of ``forms`` (``SCALAR_FORMS`` by default) for ``eqn`` if it may join a
    fused loop, else None: found by the primitive's implementation, with dtypes that fit.
    A cast of booleans to a float (``_bool_to_float_form``) joins whatever ``forms`` is."""
    impl = eqn.primitive.impl
    if impl is convert_impl:
        return _bool_to_float_form(eqn)
    if eqn.primitive.multiple_results or eqn.params or not _hashable_key(impl):
        return None
    form = (SCALAR_FORMS if forms is None else forms).get(impl)
    if form is None:
        return None
    kind = form[2]
    operands = [atom.aval.dtype for atom in eqn.invars]
    result = eqn.outvars[0].aval.dtype
    if kind == _SELECT:
        fits = operands[0] == _BOOL and result in _FLOATS and operands[1:] == [result, result]
    elif kind == _COMPARISON:
        fits = result == _BOOL and operands[0] in _FLOATS and all(d == operands[0] for d in operands)
    else:
        fits = result in _FLOATS and all(d == result for d in operands)
    return form if fits else None


def _bool_to_float_form(eqn):
    """``convert_element_type`` of booleans to float32 or float64, written as a choice of
    two typed constants (so float32 arithmetic after it stays float32), else None.

    Gradients are full of it: ``maximum``'s (a ReLU's) weighs its cotangent by
    ``wins + 0.5 * ties``, two comparisons cast to floats. NumPy spends a pass over
    memory on each step; in a loop the comparisons never leave registers. Like
    ``where``, it is a blend by a condition, so a run holding one pays for its loop.
    """
    result = eqn.outvars[0].aval.dtype
    if eqn.invars[0].aval.dtype != _BOOL or result not in _FLOATS:
        return None
    one, zero = f"np.{result.name}(1.0)", f"np.{result.name}(0.0)"
    return f"{one} if {{0}} else {zero}", f"{result.name}({{0}})", _BLEND


def _hashable_key(impl) -> bool:
    try:
        hash(impl)
    except TypeError:
        return False
    return True


def fits_shape(eqn) -> bool:
    """Whether every operand of ``eqn`` has its result's shape or is a scalar (a loop
    over the result's elements then reads each operand without broadcasting)."""
    shape = eqn.outvars[0].aval.shape
    return all(atom.aval.shape == shape or atom.aval.ndim == 0 for atom in eqn.invars)


def is_select(form) -> bool:
    """Whether ``form`` (a ``SCALAR_FORMS`` entry) chooses by a condition: ``where``'s,
    or a cast of booleans to floats (a choice of 1 or 0)."""
    return form[2] in (_SELECT, _BLEND)


# ---------------------------------------------------------------------------------------
# Grouping


def fuse_elementwise(program, min_size: int = MIN_FUSED_SIZE):
    """``program`` with each worthwhile run of fusable equations made one ``fused`` call.

    A run collects fusable equations of one shape (at least ``min_size`` elements) in
    program order; an equation outside the run that does not read it is moved before
    it, so ``exp`` between two halves of a chain does not split the chain. The run is
    emitted where something outside it first needs one of its values (or at the end).

    Args:
      program: a ``ClosedJaxpr`` or ``Jaxpr`` (optimised, as ``jit`` compiles it).
      min_size: the smallest number of elements worth a compiled loop.

    Returns:
      The same program object when nothing is fused (numba missing, arrays too small);
      otherwise an equal program of the same kind whose runs are ``fused_p`` equations.
    """

    def large_form(eqn):
        # The size first: it rules out nearly every equation of a program of small
        # arrays, whose compilation this pass must not slow down.
        if not eqn.outvars or math.prod(eqn.outvars[0].aval.shape) < min_size:
            return None
        form = scalar_form(eqn)
        return form if form is not None and fits_shape(eqn) else None

    # Measured (module docstring): a loop of arithmetic alone is no faster than NumPy's
    # SIMD calls on data in cache, and a little slower on the (128, 512) arrays of an
    # MLP's backward pass; it pays through a `where`, which NumPy computes by branching.
    return fuse_runs(program, large_form, _holds_select, skip_transposed=True)


def _holds_select(forms, members) -> bool:
    return any(map(is_select, forms))


def fuse_runs(program, form_of, pays, skip_transposed=False, across_shapes=False, key_of=None, kernel=None):
    """``program`` with runs of equations that ``form_of`` accepts made ``fused`` calls.

    The grouping shared by the large-array pass (``fuse_elementwise``) and the
    small-array tier (``fusion_tier``): they differ in which equations may join a loop
    and which runs pay for one.

    Args:
      program: a ``ClosedJaxpr`` or ``Jaxpr``.
      form_of: ``eqn -> form or None``: how the loop writes ``eqn`` on scalars, a
        ``SCALAR_FORMS``-like entry (loop form, shown form, kind), or None for an
        equation that stays outside loops. For the default kernel it must accept only
        equations of float32 or float64 whose operands have its result's shape or are
        scalars.
      pays: ``(forms, members) -> bool``: whether a run of these equations, with these
        forms, is fused.
      skip_transposed: keep equations that read a transposed array (or elementwise
        results of one) out of loops (see ``_forms_outside_transposes``): the large-array
        pass's choice, where the copy and the changed memory order cost; on small
        arrays the copy is a few elements and the loop still pays.
      across_shapes: keep one run open per shape, so equations of other shapes in
        between do not cut a run (an optimizer's update goes parameter by parameter
        through each formula: every step of it alternates shapes). A run is emitted
        where something outside it first needs one of its values. Without it a run
        ends at the first equation of another shape: the large-array pass's choice,
        where holding a run back would keep large operands alive longer.
      key_of: ``eqn -> key``: which open run an accepted equation joins; by default
        its result's shape. The small-array tier gives every equation one key: its
        loop nests take any shapes, so a run is a whole region of small work.
      kernel: the class that compiles a run, called as ``FusedKernel`` is (by default,
        one loop over one shape); the small-array tier's is ``loop_nest.NestKernel``.

    Returns:
      The same program object when nothing is fused (numba missing, no run pays);
      otherwise an equal program of the same kind whose runs are ``fused_p`` equations.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.ir import ShapedArray
      >>> from minigrad.core.staging import stage_flat
      >>> import minigrad.numpy as mnp
      >>> program = stage_flat(lambda x: [mnp.where(x > 0, x, -x)], [ShapedArray((4,), np.float64)])
      >>> fused = fuse_runs(program, scalar_form, lambda forms, members: True)
      >>> [eqn.primitive.name for eqn in fused.eqns] == (["fused"] if fusion_available() else ["gt", "neg", "select"])
      True
    """
    closed = isinstance(program, ClosedJaxpr)
    jaxpr = program.jaxpr if closed else program
    forms = (
        _forms_outside_transposes(jaxpr, form_of) if skip_transposed else [form_of(eqn) for eqn in jaxpr.eqns]
    )
    if all(form is None for form in forms) or not fusion_available():
        return program
    users = _users(jaxpr)
    eqns: list = []
    runs: dict = {}  # key (a shape, by default) -> its open run of (index, eqn, form), in opening order
    run_of: dict = {}  # variable -> the key of the open run defining it

    def close_runs(keys):
        for key in [key for key in runs if key in keys]:
            run = runs.pop(key)
            for _, member, _ in run:
                for var in member.outvars:
                    del run_of[var]
            eqns.extend(_fused_or_plain(run, users, pays, kernel or FusedKernel))

    for index, (eqn, form) in enumerate(zip(jaxpr.eqns, forms, strict=True)):
        # The open runs this equation reads must be emitted before it (or before the
        # run it joins, which is emitted later).
        read = {run_of[atom] for atom in eqn.invars if type(atom) is Var and atom in run_of}
        if form is None:
            close_runs(read)
            eqns.append(eqn)
            continue
        key = eqn.outvars[0].aval.shape if key_of is None else key_of(eqn)
        read.discard(key)
        close_runs(read if across_shapes else set(runs) - {key})
        runs.setdefault(key, []).append((index, eqn, form))
        run_of.update(dict.fromkeys(eqn.outvars, key))
    close_runs(set(runs))
    if len(eqns) == len(jaxpr.eqns):
        return program
    fused = Jaxpr(jaxpr.constvars, jaxpr.invars, eqns, jaxpr.outvars)
    return ClosedJaxpr(fused, program.consts) if closed else fused


def _forms_outside_transposes(jaxpr, form_of) -> list:
    """``form_of`` of each equation, but None for those reading a transposed array.

    A loop runs over its operands in C order: a transposed view would be copied first,
    and the loop's result would come out in C order where NumPy's elementwise calls
    keep the view's memory order, which the code after it (a convolution's backward
    pass, transposing back) then reads across the grain: measured 7-18% slower on
    ``conv_step``. Elementwise results of a transposed array share its memory order, so
    they count as transposed too.
    """
    transposed: set = set()
    forms = []
    for eqn in jaxpr.eqns:
        form = form_of(eqn)
        if eqn.primitive is transpose_p or (
            form is not None and any(type(atom) is Var and atom in transposed for atom in eqn.invars)
        ):
            transposed.update(eqn.outvars)
            form = None
        forms.append(form)
    return forms


def _users(jaxpr) -> dict:
    """For each variable, the indices of the equations reading it (the program's outputs
    count as index ``len(eqns)``)."""
    users: dict = {}
    for index, eqn in enumerate(jaxpr.eqns):
        for atom in eqn.invars:
            if type(atom) is Var:
                users.setdefault(atom, set()).add(index)
    for atom in jaxpr.outvars:
        if type(atom) is Var:
            users.setdefault(atom, set()).add(len(jaxpr.eqns))
    return users


def _fused_or_plain(run, users, pays, kernel_class) -> list:
    """The run as one ``fused_p`` equation, or its equations unchanged if one would not pay."""
    if not run:
        return []
    members = [eqn for _, eqn, _ in run]
    forms = [form for _, _, form in run]
    if not pays(forms, members):
        return members
    indices = {index for index, _, _ in run}
    inputs: list = []
    seen: set = set()
    produced = {var for eqn in members for var in eqn.outvars}
    for eqn in members:
        for atom in eqn.invars:
            # Equal scalar literals (a constant used twice) are one input.
            key = atom_key(atom)
            if key not in seen and (type(atom) is Literal or atom not in produced):
                inputs.append(atom)
                seen.add(key)
    outputs = [var for var in produced if users.get(var, set()) - indices]
    if not outputs:  # nothing reads the run (a program not yet through dead-code removal)
        return members
    order = {var: position for position, var in enumerate(v for eqn in members for v in eqn.outvars)}
    outputs.sort(key=order.__getitem__)
    kernel = kernel_class(members, forms, inputs, outputs)
    return [Eqn(fused_p, list(kernel.inputs), outputs, {"kernel": kernel}, members[-1].source)]


# ---------------------------------------------------------------------------------------
# The compiled loop


class FusedKernel:
    """One fused run: the numba loop, its Python source, and the readable expressions.

    Called with the run's inputs (arrays of the run's shape, or scalars), it returns
    one new array per output. ``source`` is the loop numba compiles (on the first call,
    for the argument types of that call, or ahead of it by ``compile``);
    ``expressions`` are the outputs written with ``{0}``, ``{1}``, ... for the inputs,
    as ``lower().source`` shows them.
    """

    def __init__(self, members, forms, inputs, outputs):
        self.inputs = tuple(inputs)
        self.shape = outputs[0].aval.shape
        self.size = int(np.prod(self.shape))
        self.in_dtypes = tuple(atom.aval.dtype for atom in inputs)
        self.out_dtypes = tuple(var.aval.dtype for var in outputs)
        self.scalar_inputs = tuple(atom.aval.ndim == 0 and self.shape != () for atom in inputs)
        self.source, self.expressions = _loop_source(members, forms, inputs, outputs, self.scalar_inputs)
        self._call = self._first_call

    def __call__(self, *args):
        return self._call(*args)

    def compile(self) -> None:
        """Compile the loop now, for the argument types the run's avals give, rather
        than in the first call (which would then pause for it)."""
        if self._call == self._first_call:
            loop = compile_loop(self.source)
            numba = sys.modules["numba"]
            arrays = [numba.from_dtype(dtype)[::1] for dtype in (*self.in_dtypes, *self.out_dtypes)]
            scalars = [numba.from_dtype(dtype) for dtype in self.in_dtypes]
            types = [
                scalar if is_scalar else array
                for scalar, array, is_scalar in zip(scalars, arrays, self.scalar_inputs)
            ]
            loop.compile((*types, *arrays[len(self.in_dtypes) :]))
            self._call = _call_glue(loop, self)

    def _first_call(self, *args):
        self._call = _call_glue(compile_loop(self.source), self)
        return self._call(*args)


def _call_glue(loop, kernel):
    """A function from the run's inputs to its outputs around the compiled ``loop``,
    generated for the kernel's shape, so each call does only the conversions it needs
    (on small arrays they cost as much as the loop)."""
    one_d = len(kernel.shape) == 1
    params, passed = [], []
    for position, scalar in enumerate(kernel.scalar_inputs):
        params.append(f"a{position}")
        if scalar:
            passed.append(f"_asarray(a{position})[()]")
        else:  # an operand of the run's shape: an array for a 1-d run
            passed.append(f"a{position}" if one_d else f"_asarray(a{position}).reshape(-1)")
    # Always new arrays, never a dead operand's buffer: the loop is vectorised only
    # when its output overlaps no input (LLVM checks at run time and otherwise runs
    # a scalar loop, measured 4x slower: 0.61 ms against 0.15 ms for selu's 10^6).
    lines = [
        f"    o{position} = _empty({kernel.size}, _d{position})" for position in range(len(kernel.out_dtypes))
    ]
    outs = [f"o{position}" for position in range(len(kernel.out_dtypes))]
    lines.append(f"    _loop({', '.join(passed + outs)})")
    shown = outs if one_d else [f"{out}.reshape({kernel.shape!r})" for out in outs]
    lines.append(f"    return [{', '.join(shown)}]")
    source = f"def call({', '.join(params)}):\n" + "\n".join(lines) + "\n"
    namespace = {"_asarray": np.asarray, "_empty": np.empty, "_loop": loop}
    namespace.update((f"_d{position}", dtype) for position, dtype in enumerate(kernel.out_dtypes))
    exec(compile(source, "<minigrad fused call>", "exec"), namespace)  # noqa: S102 - generated above
    return namespace["call"]


def _loop_source(members, forms, inputs, outputs, scalar_inputs) -> tuple[str, tuple]:
    """The loop's Python source and each output's readable expression (or, for a run
    too long to write out, one summary of its operations)."""
    local: dict = {}  # atom -> its local name in the loop
    params, body = [], []
    for position, (atom, scalar) in enumerate(zip(inputs, scalar_inputs, strict=True)):
        params.append(f"in{position}")
        local[atom_key(atom)] = f"in{position}" if scalar else f"x{position}"
        if not scalar:
            body.append(f"        x{position} = in{position}[i]")
    names = (f"v{number}" for number in itertools.count())
    for eqn, (loop_form, _, _) in zip(members, forms, strict=True):
        operands = [local[atom_key(atom)] for atom in eqn.invars]
        var = eqn.outvars[0]
        local[var] = next(names)
        body.append(f"        {local[var]} = {loop_form.format(*operands)}")
    for position, var in enumerate(outputs):
        params.append(f"out{position}")
        body.append(f"        out{position}[i] = {local[var]}")
    header = f"def fused_loop({', '.join(params)}):\n    for i in range(out0.size):\n"
    shown = {atom_key(atom): "{" + str(position) + "}" for position, atom in enumerate(inputs)}
    expressions = readable_outputs(members, forms, shown, outputs, "one loop")
    return header + "".join(line + "\n" for line in body), expressions


# (loop source, argument types) -> numba's dispatcher. The source depends on the
# operations only, not on shapes or dtypes, so a retrace for a new batch size, or another
# program with the same run, reuses the compiled loop (numba compiles once per argument
# types).
_LOOPS: dict = {}
_LOOPS_LOCK = threading.Lock()


def compile_loop(source: str, argument_types=None):
    """numba's dispatcher for the function ``fused_loop`` that ``source`` defines.

    Without ``argument_types`` numba compiles it for the types of each new call. With
    them, a tuple of ``(dtype, ndim, writable)`` per argument (``ndim`` None for a
    scalar), it is compiled for exactly those now: C-contiguous arrays, read-only
    unless ``writable`` (a writable array converts to them at a call for free).

    Example:
      >>> source = "def fused_loop(x, out): out[0] = x[0] * 2.0"
      >>> types = ((np.float64, 1, False), (np.float64, 1, True))
      >>> out = np.zeros(1)
      >>> if fusion_available():
      ...     compile_loop(source, types)(np.array([1.5]), out)
      ... else:
      ...     out[0] = 3.0
      >>> out
      array([3.])
    """
    # numba is imported only when a program has a run worth fusing, so `import
    # minigrad` and programs of small arrays never pay for it. `error_model="numpy"`:
    # division by zero gives inf or nan, as NumPy's, rather than raising.
    with _LOOPS_LOCK:
        key = (source, argument_types)
        loop = _LOOPS.get(key)
        if loop is None:
            numba = importlib.import_module("numba")
            namespace: dict = {"np": np}  # the small-array tier's loops call np.sin, ...
            exec(compile(source, "<minigrad fused loop>", "exec"), namespace)  # noqa: S102 - generated above
            options = {"error_model": "numpy", "cache": False}
            if argument_types is None:
                loop = numba.njit(**options)(namespace["fused_loop"])
            else:
                signature = numba.types.void(*map(_numba_type, argument_types))
                loop = numba.njit(signature, **options)(namespace["fused_loop"])
            _LOOPS[key] = loop
        return loop


def _numba_type(argument):
    numba = sys.modules["numba"]
    dtype, ndim, writable = argument
    scalar = numba.from_dtype(np.dtype(dtype))
    if ndim is None:
        return scalar
    return numba.types.Array(scalar, ndim, "C", readonly=not writable)


# ---------------------------------------------------------------------------------------
# The primitive the compiler sees


fused_p = Primitive("fused", multiple_results=True, register=False)


@fused_p.def_impl
def fused_impl(*args, kernel):
    return kernel(*args)


@fused_p.def_shape_rule
def fused_shape_rule(*avals, kernel):
    raise TypeError("fused: a compiler-internal equation; it is never staged or transformed")


@fused_p.def_lowering
def fused_lowering(ctx, *args, kernel):
    name = ctx.constant(kernel, "fused")
    shown = ", ".join(expression.format(*args) for expression in kernel.expressions)
    # The comment shows what the loop computes, in terms of the statement's operands.
    return Code(f"{name}({', '.join(args)})  # fused: {shown}", FRESH)
