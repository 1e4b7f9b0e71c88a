"""The second code writer: a program as Array API standard calls, for any array library.

NumPy programs keep ``compiler.py`` (its ``out=`` buffer reuse is faster). For arrays of
another library (``array_api.py`` finds it) this writer emits one statement per equation
calling the library's Array API namespace, bound as ``_xp``: ``_xp.add(a, b)``,
``_xp.reshape(a, (2, 3))``, ``_xp.sum(a, axis=(0,), dtype=_f64)``. Each primitive's
Array API lowering is found by the primitive object (``array_api_lowering``,
(``array_api_rules.py``) and has the form ``rule(ctx, *args, **params) -> str``, the
right-hand side; ``ctx`` offers ``xp`` (the namespace's name in the code),
``constant(value, hint)``, ``dtype(numpy_dtype)``, ``library``, ``in_avals`` and
``out_avals``. A primitive without one is refused when the program is compiled, with
an error naming the primitive and the library: nothing is silently computed in NumPy.

Sub-programs (the branches of ``cond``, the bodies of loops) are compiled by the same
writer for the same library and device (``ctx.subprogram(jaxpr)``), once per program
object and place, and the loops of ``minigrad.lax`` call them from Python.

Constants (closed-over arrays and literals) are moved to the arguments' device when the
program is compiled, with their program dtype. Python numbers passed as arguments
become 0-d arrays of the library on entry. Every result is an array of its own: one
that is an input, a constant or a view of one is copied.

Example (NumPy 2 is itself an Array API namespace; jit uses this writer for other libraries):
    >>> import numpy as np
    >>> from minigrad.core.ir import ShapedArray
    >>> from minigrad.core.staging import stage_flat
    >>> from minigrad.ops.elementwise import exp, mul
    >>> program = stage_flat(lambda x: [mul(exp(x), 2.0)], [ShapedArray((3,), np.float64)])
    >>> compiled = compile_array_api(program, np, "cpu")
    >>> print(compiled.source)
    def jitted(a):
        b = _xp.exp(a)
        c = _xp.multiply(b, _k0)
        del b
        return [c]
    >>> compiled(np.zeros(3))
    [array([2., 2., 2.])]
"""

from __future__ import annotations

import importlib
import keyword
import threading
import weakref

import numpy as np

from minigrad.core.ir import ClosedJaxpr, Jaxpr, Literal, Var
from minigrad.core.lowering import safe_identifier
from minigrad.transforms.jit.array_api import library_dtype, library_name
from minigrad.transforms.jit.array_api_nans import nan_check_source
from minigrad.transforms.jit.array_api_rules import VIEWS, NoArrayApiLoweringError, array_api_lowering
from minigrad.transforms.jit.compiler import (
    CompiledProgram,
    _define_functions,
    _variable_names,
    numbered_name,
)
from minigrad.transforms.jit.passes import optimize

__all__ = ["compile_array_api", "compiled_subprogram", "NoArrayApiLoweringError"]

# Imported for their lowerings (registered by primitive object when they load).
for _rules in ("composed", "linalg", "random", "roots", "scatter", "special"):
    importlib.import_module(f"minigrad.transforms.jit.array_api_{_rules}")


class _ArrayApiWriter:
    """Names, constants and the ``LoweringContext`` of the Array API lowerings."""

    def __init__(self, xp, device, check_nans: bool = False):
        self.xp_module, self.device, self.check_nans = xp, device, check_nans
        self.library = library_name(xp)
        self.xp = "_xp"
        self.namespace = {"_xp": xp}
        self.names: dict = {}
        self.fresh_names = _variable_names()
        self.constants: dict = {}
        self.counters: dict = {}
        self.held: list = []
        self.primitive = None
        self.in_avals: tuple = ()
        self.out_avals: tuple = ()

    def name(self, var) -> str:
        found = self.names.get(var)
        if found is None:
            found = self.names[var] = next(self.fresh_names)
        return found

    def constant(self, value, hint: str = "k") -> str:
        key = id(value)
        found = self.constants.get(key)
        if found is not None:
            return found
        name = numbered_name(safe_identifier(hint), self.namespace, self.counters)
        self.constants[key] = name
        self.held.append(value)
        self.namespace[name] = value
        return name

    def dtype(self, dtype) -> str:
        """The name of the library's dtype for the NumPy dtype ``dtype``."""
        dtype = np.dtype(dtype)
        return self.constant(library_dtype(self.xp_module, dtype), dtype.name)

    def array(self, value, dtype, hint: str = "k") -> str:
        """``value`` (NumPy) as a constant array of the library, on the device, in ``dtype``."""
        host = np.asarray(value, dtype=dtype)
        moved = self.xp_module.asarray(host, dtype=library_dtype(self.xp_module, dtype), device=self.device)
        return self.constant(moved, hint)

    def subprogram(self, jaxpr: Jaxpr):
        """``jaxpr`` (a branch or loop body) compiled for this library and device."""
        return compiled_subprogram(jaxpr, self.xp_module, self.device, self.check_nans)

    def atom(self, atom) -> str:
        if type(atom) is Literal:
            return self.array(atom.val, atom.aval.dtype)
        return self.name(atom)


# Compiled sub-programs, per program object, then per (library, device, NaN checks): a
# loop body is compiled once wherever the loop runs, and the entry goes with the program.
_SUBPROGRAMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SUBPROGRAMS_LOCK = threading.Lock()


def compiled_subprogram(jaxpr: Jaxpr, xp, device, check_nans: bool = False):
    """The sub-program ``jaxpr`` optimised and compiled for ``xp`` on ``device``.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.ir import ShapedArray
      >>> from minigrad.core.staging import stage_flat
      >>> from minigrad.ops.elementwise import neg
      >>> body = stage_flat(lambda x: [neg(x)], [ShapedArray((2,), np.float64)]).jaxpr
      >>> compiled_subprogram(body, np, "cpu")(np.ones(2))
      [array([-1., -1.])]
    """
    key = (library_name(xp), str(device), check_nans)
    places = _SUBPROGRAMS.get(jaxpr)
    fn = None if places is None else places.get(key)
    if fn is None:
        fn = compile_array_api(optimize(ClosedJaxpr(jaxpr, ())), xp, device, "body", check_nans=check_nans).fn
        with _SUBPROGRAMS_LOCK:
            _SUBPROGRAMS.setdefault(jaxpr, {})[key] = fn
    return fn


def compile_array_api(
    program: ClosedJaxpr | Jaxpr,
    xp,
    device,
    name: str = "jitted",
    scalar_inputs=(),
    check_nans: bool = False,
) -> CompiledProgram:
    """Compile ``program`` to a Python function calling the Array API namespace ``xp``.

    Args:
      program: a ``ClosedJaxpr`` (its constants are moved to ``device`` now) or a
        ``Jaxpr`` without constants.
      xp: the Array API namespace (``array_api_compat.array_namespace(x)``).
      device: the device of the arguments; constants are put there.
      name: the generated function's name.
      scalar_inputs: positions of inputs given as Python numbers (made 0-d arrays of
        the library on entry).
      check_nans: after each equation with floating-point results, check them
        (``debug_nans``): the first NaN or infinity made from finite operands raises
        a ``FloatingPointError`` naming the primitive and the user's line.

    Raises:
      NoArrayApiLoweringError: a primitive of the program has no Array API lowering.
    """
    if isinstance(program, ClosedJaxpr):
        jaxpr, consts = program.jaxpr, program.consts
    else:
        jaxpr, consts = program, ()
    name = name if name.isidentifier() and not keyword.iskeyword(name) else safe_identifier(name)
    writer = _ArrayApiWriter(xp, device, check_nans)
    shared = set()  # variables that are (views of) inputs or constants
    for var, value in zip(jaxpr.constvars, consts, strict=True):
        writer.names[var] = writer.array(value, var.aval.dtype, "c")
        shared.add(var)
    params = [writer.name(var) for var in jaxpr.invars]
    shared.update(jaxpr.invars)
    body = []
    for position in scalar_inputs:
        var = jaxpr.invars[position]
        body.append(
            f"{params[position]} = _xp.asarray({params[position]}, dtype={writer.dtype(var.aval.dtype)}, "
            f"device={writer.constant(device, 'device')})"
        )
    last_use = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for atom in eqn.invars:
            if type(atom) is Var:
                last_use[atom] = i
    for atom in jaxpr.outvars:
        if type(atom) is Var:
            last_use[atom] = len(jaxpr.eqns)
    kept = {*jaxpr.invars, *jaxpr.constvars}
    for i, eqn in enumerate(jaxpr.eqns):
        rule = array_api_lowering(eqn.primitive)
        if rule is None:
            raise NoArrayApiLoweringError(
                f"jit: the primitive {eqn.primitive.name!r} has no Array API lowering, so this "
                f"program cannot run on {writer.library} arrays. Compute this part on NumPy "
                "arrays (mg.device_get), or give the primitive an Array API lowering."
            )
        args = [writer.atom(atom) for atom in eqn.invars]
        outs = [writer.name(var) for var in eqn.outvars]
        writer.primitive = eqn.primitive
        writer.in_avals = tuple(atom.aval for atom in eqn.invars)
        writer.out_avals = tuple(var.aval for var in eqn.outvars)
        source = rule(writer, *args, **eqn.params)
        target = "".join(o + ", " for o in outs) if eqn.primitive.multiple_results else outs[0]
        body.append(f"{target} = {source}")
        if check_nans:
            body.extend(nan_check_source(writer, eqn, args, outs))
        if eqn.primitive in VIEWS and eqn.invars and eqn.invars[0] in shared:
            shared.update(eqn.outvars)
        dead = [
            writer.name(var)
            for var in (*dict.fromkeys(a for a in eqn.invars if type(a) is Var), *eqn.outvars)
            if last_use.get(var, -1) <= i and var not in kept
        ]
        if dead:
            body.append(f"del {', '.join(dead)}")
    results, returned = [], set()
    for atom in jaxpr.outvars:
        if type(atom) is Literal:
            results.append(f"_xp.asarray({writer.atom(atom)}, copy=True)")
        elif atom in shared or atom in returned:
            results.append(f"_xp.asarray({writer.name(atom)}, copy=True)")
        else:
            results.append(writer.name(atom))
            returned.add(atom)
    body.append(f"return [{', '.join(results)}]")
    source = f"def {name}({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body)
    return CompiledProgram(_define_functions(name, [source], source, writer.namespace), source)
