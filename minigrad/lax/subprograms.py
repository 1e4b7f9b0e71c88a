"""Sub-programs: what every higher-order primitive of ``lax`` does with the functions it holds.

A control-flow primitive holds its branches or loop body as programs, staged once at the
shapes of one step. The helpers here stage a user's pytree function into such a program
(its closed-over values becoming leading inputs, so tracers of outer transforms flow in
as ordinary operands; the program interned by structure, so an eager loop that stages
its body again finds what was compiled for it, ``subprogram_cache.py``), give several
branches one list of those inputs, compile a program once for eager loops and ``jit``
alike, re-stage a program over a batch for ``vmap``, and word the ``TypeError`` raised
when two structures that must agree do not.

Example:
    >>> import numpy as np
    >>> import minigrad.numpy as mnp
    >>> from minigrad.core.ir import ShapedArray
    >>> program = stage_program(lambda x: [mnp.sin(x)], [ShapedArray((), np.float64)])
    >>> compiled(program.jaxpr)(np.array(0.0))
    [array(0.)]
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Sequence

import attrs

from minigrad.core.interpreter import eval_jaxpr
from minigrad.core.ir import ClosedJaxpr, Eqn, Jaxpr, ShapedArray, Var
from minigrad.core.recording import RecordTrace
from minigrad.core.staging import stage_flat
from minigrad.core.trace import Tracer
from minigrad.lax.subprogram_cache import intern_program
from minigrad.ops.shape import batch_to_front
from minigrad.transforms.batching import eval_jaxpr_batched
from minigrad.transforms.jit.compiler import CompiledProgram
from minigrad.transforms.jit.fusion_tier import compile_tiered
from minigrad.transforms.jit.passes import optimize

__all__ = [
    "Program",
    "stage_program",
    "join_branches",
    "run",
    "compiled",
    "batch_program",
    "inline_optimized",
    "is_recorded",
    "describe_types",
    "structure_error",
    "check_operand_types",
    "with_unused_inputs",
    "split_groups",
]


@attrs.frozen(eq=False)
class Program:
    """A staged sub-program whose constants are its leading inputs, and their values."""

    jaxpr: Jaxpr
    consts: tuple = attrs.field(converter=tuple)


def stage_program(fun: Callable, in_avals: Sequence[ShapedArray]) -> Program:
    """Stage ``fun`` (flat inputs to a flat list of outputs); constants become inputs.

    ``fun`` runs at every call (only that says what it computes now); the program is
    the one staged first with the same structure (``subprogram_cache.intern_program``),
    so what is cached for it downstream, its compiled code first, is found again.

    Example:
      >>> import numpy as np
      >>> w = np.ones(3)
      >>> program = stage_program(lambda x: [x * w], [ShapedArray((3,), np.float64)])
      >>> len(program.jaxpr.invars), len(program.consts)
      (2, 1)
    """
    closed = stage_flat(fun, in_avals)
    jaxpr = closed.jaxpr
    converted = Jaxpr((), (*jaxpr.constvars, *jaxpr.invars), jaxpr.eqns, jaxpr.outvars)
    return Program(intern_program(converted), closed.consts)


def with_unused_inputs(jaxpr: Jaxpr, before=(), after=()) -> Jaxpr:
    """``jaxpr`` taking extra inputs of types ``before`` and ``after`` that it ignores."""
    head = [Var(aval) for aval in before]
    tail = [Var(aval) for aval in after]
    return intern_program(Jaxpr((), (*head, *jaxpr.invars, *tail), jaxpr.eqns, jaxpr.outvars))


def join_branches(programs: Sequence[Program]) -> tuple[tuple[Jaxpr, ...], list]:
    """Programs that all take every program's constants, in order, before their inputs.

    Branches of a conditional are staged separately, each closing over its own values;
    the one equation that holds them passes one list of constants to whichever runs.
    """
    const_avals = [[var.aval for var in p.jaxpr.invars[: len(p.consts)]] for p in programs]
    joined = []
    for i, program in enumerate(programs):
        before = [aval for avals in const_avals[:i] for aval in avals]
        after_consts = [aval for avals in const_avals[i + 1 :] for aval in avals]
        own = len(program.consts)
        invars = program.jaxpr.invars
        tail_inputs = invars[own:]
        fresh_after = [Var(aval) for aval in after_consts]
        inputs = (*[Var(a) for a in before], *invars[:own], *fresh_after, *tail_inputs)
        joined.append(intern_program(Jaxpr((), inputs, program.jaxpr.eqns, program.jaxpr.outvars)))
    consts = [c for p in programs for c in p.consts]
    return tuple(joined), consts


def split_groups(values, sizes) -> list[list]:
    """``values`` cut into consecutive groups of ``sizes``, then a group of the rest.

    Example:
      >>> split_groups([1, 2, 3, 4, 5], [1, 2])
      [[1], [2, 3], [4, 5]]
    """
    groups, start = [], 0
    for size in sizes:
        groups.append(list(values[start : start + size]))
        start += size
    groups.append(list(values[start:]))
    return groups


def run(jaxpr: Jaxpr, *args) -> list:
    """Replay a sub-program on ``args`` (under whatever transform is active)."""
    return eval_jaxpr(jaxpr, (), *args)


# Compiled sub-programs, per program object (interned, so per structure): an eager loop,
# its later calls and every jit lowering of the same equation share one compilation (and
# so one count of calls towards the small-array tier), and the entry goes when the
# program does.
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_COMPILING = threading.Lock()


def compiled(jaxpr: Jaxpr, stacked_from: int | None = None) -> Callable:
    """The sub-program optimised and compiled to NumPy code (once per program structure).

    Loops call their body once per step: compiled, a step costs the NumPy calls alone,
    not one ``bind`` per equation. It is compiled as ``jit`` compiles a program
    (``fusion_tier.compile_tiered``), each step counting as a call: a body called often
    enough is compiled again with its runs of small elementwise work fused into numba
    loops, and later steps run that. So callers call the returned object at every step,
    never a function taken from it. ``stacked_from`` says that the caller copies the
    outputs from that position on (a scan writes each step's ``ys`` into its stacks), so
    they are returned as they are, even where they share memory with an input or another
    output, instead of being copied once more; the fused version returns them so too.

    Example:
      >>> import numpy as np
      >>> program = stage_program(lambda c, x: [c + x, c], [ShapedArray((2,), np.float64)] * 2)
      >>> c = np.ones(2)
      >>> new_c, y = compiled(program.jaxpr, stacked_from=1)(c, c)
      >>> y is c  # the caller copies it into its stack
      True
    """
    versions = _COMPILED.get(jaxpr)
    if versions is None:  # a program made afresh (a rewrite's, say): one met before?
        jaxpr = intern_program(jaxpr)
        versions = _COMPILED.get(jaxpr)
    fn = None if versions is None else versions.get(stacked_from)
    if fn is None:
        copied = tuple(range(stacked_from, len(jaxpr.outvars))) if stacked_from is not None else ()
        # As a jitted program: large-array runs holding a `where` fused now (1.6-2.4x
        # faster steps measured on such bodies), small-array runs once hot.
        program = optimize(ClosedJaxpr(jaxpr, ()))
        fn = compile_tiered(program, "body", label="sub-program", copied_outputs=copied)
        if isinstance(fn, CompiledProgram):
            fn = fn.fn  # no small run would fuse: no indirection per step
        with _COMPILING:
            # Threads that compiled the same body at once keep one result, so its calls
            # are counted in one place and it tiers up once.
            fn = _COMPILED.setdefault(jaxpr, {}).setdefault(stacked_from, fn)
    return fn


def batch_program(jaxpr: Jaxpr, batched: Sequence[bool], size: int, force: Sequence[bool]):
    """``jaxpr`` re-staged to run on batches: inputs marked ``batched`` carry a leading
    batch axis of ``size``.

    Returns ``(program, out_batched)``: an output gets the leading batch axis when it
    depends on a batched input or when ``force`` asks for it (it is then broadcast).
    """
    program, out_batched = _batched(jaxpr, tuple(batched), size, tuple(force))
    return program, list(out_batched)


# Once per program and batching: vmap of an eager loop asks again at every call, with the
# program found again by structure (a cond's fixed point asks twice per call).
@functools.lru_cache(maxsize=256)
def _batched(jaxpr: Jaxpr, batched: tuple, size: int, force: tuple):
    in_avals = [
        ShapedArray((size, *var.aval.shape), var.aval.dtype) if b else var.aval
        for var, b in zip(jaxpr.invars, batched, strict=True)
    ]
    in_dims = [0 if b else None for b in batched]
    out_batched: list[bool] = []

    def batched_step(*args):
        outs, dims = eval_jaxpr_batched(jaxpr, (), args, in_dims)
        moved = []
        for value, dim, forced in zip(outs, dims, force, strict=True):
            out_batched.append(dim is not None or forced)
            moved.append(value if dim is None and not forced else batch_to_front(value, dim, size))
        return moved

    return stage_program(batched_step, in_avals), tuple(out_batched)


def inline_optimized(jaxpr: Jaxpr, consts: Sequence, operands: Sequence) -> tuple[list, list]:
    """``jaxpr`` optimised with its leading inputs bound to ``consts``, and its equations
    made to read the outer program's ``operands`` for the other inputs: what a loop
    rewrite puts before or after the loop. Returns ``(equations, output atoms)``.

    Example:
      >>> import numpy as np
      >>> x = Var(ShapedArray((), np.float64))
      >>> program = stage_program(lambda x: [x * 2.0 * 1.0], [x.aval])
      >>> eqns, outs = inline_optimized(program.jaxpr, program.consts, [x])
      >>> [e.primitive.name for e in eqns], eqns[0].invars[0] is x  # `* 1.0` optimised away
      (['mul'], True)
    """
    count = len(consts)
    closed = ClosedJaxpr(
        Jaxpr(jaxpr.invars[:count], jaxpr.invars[count:], jaxpr.eqns, jaxpr.outvars), tuple(consts)
    )
    optimized = optimize(closed).jaxpr
    env = dict(zip(optimized.invars, operands, strict=True))

    def read(atom):
        return env.get(atom, atom) if type(atom) is Var else atom

    eqns = [
        Eqn(e.primitive, [read(a) for a in e.invars], e.outvars, e.params, e.source) for e in optimized.eqns
    ]
    return eqns, [read(atom) for atom in optimized.outvars]


def is_recorded(args) -> bool:
    """Whether the innermost transform among ``args`` records for reverse mode.

    A loop bound there keeps what its backward pass will read (see ``residuals.py``).
    """
    top = None
    for arg in args:
        if isinstance(arg, Tracer) and (top is None or arg._trace.level > top.level):
            top = arg._trace
    return isinstance(top, RecordTrace)


def describe_types(treedef, avals) -> str:
    """A structure and its leaves' types, as error messages show them.

    Example:
      >>> import numpy as np
      >>> from minigrad.tree import tree_structure
      >>> describe_types(tree_structure((1, 2)), [ShapedArray((), np.float64)] * 2)
      '(*, *) with leaves [f64[], f64[]]'
    """
    return f"{treedef!r} with leaves [{', '.join(str(a) for a in avals)}]"


def structure_error(construct: str, what: str, first: str, first_types: str, second: str, second_types: str):
    """The ``TypeError`` of two structures that must agree: names both and says why."""
    return TypeError(
        f"{construct}: {what}.\n  {first}: {first_types}\n  {second}: {second_types}\n"
        "They must have the same pytree structure, shapes and dtypes; cast or reshape one of "
        "them (for example x.astype(np.float32)) so that they match."
    )


def check_operand_types(name: str, avals, expected, what: str) -> None:
    """A shape rule's check that the operands fit the sub-program's inputs."""
    if list(avals) != list(expected):
        raise TypeError(
            f"{name}: {what} typed [{', '.join(map(str, avals))}] do not match the "
            f"sub-program's inputs [{', '.join(map(str, expected))}]."
        )
