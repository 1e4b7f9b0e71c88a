"""The small-array tier: a hot jitted program is compiled again with its small work fused.

On small arrays a jitted program's time is NumPy's cost per call (about 0.7 us), not
arithmetic: the gradient of 50 links of ``tanh(sin(x) * 1.1 + 0.3)`` on 16 elements
is 500 NumPy calls. One numba loop over such a run, transcendental functions
included, replaces hundreds of calls with one. But numba needs a fraction of a second
per loop (seconds for a loop of hundreds of statements), once per process: a program
called a few times must not pay that. So a program whose small arrays could fuse
starts as the plain NumPy code; after ``TIER_UP_CALLS`` calls it is compiled again
with those runs fused (``fuse_small_runs``), and later calls run that version. Loop
bodies (``lax/subprograms.py``) are compiled the same way, each step a call.

What joins: everything the large-array pass fuses (``fusion.SCALAR_FORMS``),
transcendental functions (``TRANSCENDENTAL_FORMS``), ``logistic`` (the sigmoid of
gates), ``integer_pow`` (squares and reciprocals of gradients), ``isfinite``, and the
reductions and views of ``loop_nest``, on float32 or float64 arrays below
``fusion.MIN_FUSED_SIZE`` elements, operands broadcast. A region of them, of any
shapes, becomes one function of loop nests (``loop_nest.NestKernel``). numba computes
float32 in float32, as NumPy does, but its ``sin``, ``exp``, ``tanh``, ... are libm's
or LLVM's, not NumPy's SIMD code: results may differ in the last bits (up to 3 ulp
measured), as XLA's do. The IEEE operations round as NumPy's, bit for bit; sums add
in another order than NumPy's (``loop_nest``), at least as accurately.

Example:
    >>> import numpy as np
    >>> from minigrad.core.ir import ShapedArray
    >>> from minigrad.core.staging import stage_flat
    >>> import minigrad.numpy as mnp
    >>> program = stage_flat(lambda x: [mnp.tanh(mnp.sin(x) * 1.1 + 0.3)], [ShapedArray((16,), np.float64)])
    >>> count_small_fusable(program) == (4 if fusion_available() else 0)
    True
"""

from __future__ import annotations

import logging
import math
import threading
import time

import attrs
import numpy as np

from minigrad.core.ir import ClosedJaxpr, Var
from minigrad.ops.elementwise import integer_pow_impl, logistic_impl
from minigrad.transforms.jit.compiler import CompiledProgram, compile_jaxpr
from minigrad.transforms.jit.fusion import (
    MIN_FUSED_SIZE,
    SCALAR_FORMS,
    fuse_elementwise,
    fuse_runs,
    fused_p,
    fusion_available,
    scalar_form,
)
from minigrad.transforms.jit.loop_nest import VIEW, NestKernel, nest_form

__all__ = [
    "TIER_UP_CALLS", "TRANSCENDENTAL_FORMS", "TRANSCENDENTAL_SIZE", "MIN_RUN", "LARGE_REGION", "TieredProgram",
    "fuse_small_runs", "count_small_fusable", "small_work", "SmallWork", "calls_to_tier_up", "compile_tiered",
    "with_small_tier",
]  # fmt: skip

logger = logging.getLogger("minigrad.jit")

# Calls of a program before its small-array work is fused. None: as many as it takes for
# the time fusing would have saved to reach the time fusing costs (`calls_to_tier_up`).
# Tests set it to 1 to take the fused path on purpose; benchmarks/run.py too, to time
# the state a hot loop reaches.
TIER_UP_CALLS: int | None = None

# Measured on a shared 2-core x86_64 VM (numba 0.68, NumPy 2.4), once numba is loaded:
# a program's nests compile in about 0.15 s per region, plus 22 ms per array they read
# from outside or write out, plus 1.6 ms per operation (LLVM's work is mostly in the
# loops' loads and stores). Measured: the 499 operations of the gradient of 50 links of
# tanh(sin(x) * 1.1 + 0.3), one region reading and writing one array each, 1.0 s;
# mlp_small's step, 37 operations in 4 regions and 18 arrays, 1.1 s; hessian_rosen, 15
# operations, 1 region, 7 arrays, 0.4 s; an Adam-like update of 100 parameters of up to
# 5 x 5, 900 operations and 500 arrays, 12.3 s. Each operation fused saves about 0.5
# us per call (that gradient on 16 elements: 0.26 ms per call as NumPy calls, 0.03 ms
# fused).
REGION_COMPILE_SECONDS = 0.15
ARRAY_COMPILE_SECONDS = 0.022
OPERATION_COMPILE_SECONDS = 1.6e-3
OPERATION_SAVED_SECONDS = 0.5e-6

# Transcendental functions join loops only on arrays of at most this many elements:
# beyond, NumPy's SIMD versions make up for a call's cost (measured on the gradient
# of 50 links of tanh(sin(x) * 1.1 + 0.3), 30% transcendental: the loop was 10%
# faster at 1024 elements, 40% slower at 4096). Arithmetic joins up to MIN_FUSED_SIZE
# (a loop of 90 arithmetic operations was 4x faster at 1024 elements, even at 16384).
TRANSCENDENTAL_SIZE = 1024

# The shortest run worth a loop: on small arrays a fused call (numba's dispatch, one
# allocation per output) costs about as much as three NumPy calls (0.98 us against
# 1.04 us for three operations on 16 float32 measured; more for 2-d operands, which
# are flattened first).
MIN_RUN = 4

# A region of fewer operations still pays when they read this many elements in all:
# a bias broadcast over a (32, 128) float32 batch and a ReLU took 3.0 us as two NumPy
# calls, 0.75 us as one nest's call (a jitted call of the two: 4.5 us against 2.2).
LARGE_REGION = 2048

# NumPy function -> (the loop's call, as `lower().source` shows it, kind): numba has
# each for float32 and float64, computing in the argument's precision.
_TRANSCENDENTAL_KIND = "transcendental"  # typed as arithmetic: operands and result of one float dtype
_TRANSCENDENTAL = (
    np.sin, np.cos, np.tan, np.arcsin, np.arccos, np.arctan, np.sinh, np.cosh, np.tanh, np.arcsinh,
    np.arccosh, np.arctanh, np.exp, np.exp2, np.expm1, np.log, np.log2, np.log10, np.log1p,
)  # fmt: skip
TRANSCENDENTAL_FORMS = {
    ufunc: (f"np.{ufunc.__name__}({{0}})", f"{ufunc.__name__}({{0}})", _TRANSCENDENTAL_KIND)
    for ufunc in _TRANSCENDENTAL
}
# sqrt is an IEEE operation, rounded exactly by NumPy and by the loop's vector
# instruction alike: it joins loops at any size, as arithmetic does (an Adam update's
# `m / (sqrt(v) + eps)` on a weight of 64 x 192 stays one loop).
_SQRT_FORM = {np.sqrt: ("np.sqrt({0})", "sqrt({0})", "arithmetic")}
# A predicate, typed as comparisons are: float operands, a boolean result (logsumexp
# asks whether its maximum is finite).
_ISFINITE_FORM = {np.isfinite: ("np.isfinite({0})", "isfinite({0})", "comparison")}
_SMALL_FORMS = {**SCALAR_FORMS, **TRANSCENDENTAL_FORMS, **_SQRT_FORM, **_ISFINITE_FORM}

# integer_pow's exponents written in loops: `integer_pow_impl` squares repeatedly, so
# larger ones would need its exact order of products.
_POWERS = {
    -1: ("np.{dtype}(1.0) / {{0}}", "(1 / {{0}})"),  # np.reciprocal is 1 / x, rounded once
    0: ("np.{dtype}(1.0)", "1"),  # typed, so float32 arithmetic stays float32
    1: ("{{0}}", "{{0}}"),
    2: ("{{0}} * {{0}}", "({{0}} * {{0}})"),  # np.square is x * x, rounded once
}


def _small_form(eqn):
    """How a loop nest writes ``eqn``, or None if it stays a NumPy call: elementwise
    equations (operands broadcast), reductions and views (``loop_nest.nest_form``), on
    arrays below ``MIN_FUSED_SIZE`` elements."""
    if not eqn.outvars or len(eqn.outvars) > 1:
        return None
    size = _elements(eqn)
    if size >= MIN_FUSED_SIZE:
        return None
    form = nest_form(eqn)
    if form is not None:
        return form
    if eqn.primitive.impl is integer_pow_impl:
        form = _power_form(eqn)
    elif eqn.primitive.impl is logistic_impl:
        form = _logistic_form(eqn)
    else:
        form = scalar_form(eqn, _SMALL_FORMS)
    if form is None or (size > TRANSCENDENTAL_SIZE and form[2] == _TRANSCENDENTAL_KIND):
        return None
    return form


def _power_form(eqn):
    dtype = eqn.outvars[0].aval.dtype
    written = _POWERS.get(eqn.params.get("y"))
    if written is None or eqn.invars[0].aval.dtype != dtype or dtype.name not in ("float32", "float64"):
        return None
    loop_form, shown_form = (text.format(dtype=dtype.name) for text in written)
    return loop_form, shown_form, "arithmetic"


def _logistic_form(eqn):
    # The sigmoid without any overflow (NumPy's `logistic_impl` lets exp overflow where
    # the result is subnormal; a loop has no warning to silence but gains nothing from
    # the shorter formula), with constants of the operand's dtype so float32 stays
    # float32. A NaN makes the denominator NaN, whichever `min` returns.
    dtype = eqn.outvars[0].aval.dtype
    if eqn.invars[0].aval.dtype != dtype or dtype.name not in ("float32", "float64"):
        return None
    zero, one = f"np.{dtype.name}(0.0)", f"np.{dtype.name}(1.0)"
    loop_form = f"np.exp(min({{0}}, {zero})) / ({one} + np.exp(-abs({{0}})))"
    return loop_form, "logistic({0})", _TRANSCENDENTAL_KIND


def _pays(forms, members) -> bool:
    """Whether a region is worth a loop nest (``_enough_work``). Views do not count as
    operations: inside a nest they only change how indices are read."""
    work = [eqn for eqn, form in zip(members, forms, strict=True) if form[2] != VIEW]
    return _enough_work(len(work), sum(map(_elements, work)))


def _enough_work(operations: int, elements: int) -> bool:
    """``MIN_RUN`` operations, or fewer on arrays large enough that NumPy's passes over
    them cost more than its calls."""
    return operations >= MIN_RUN or (operations >= 2 and elements >= LARGE_REGION)


def _elements(eqn) -> int:
    """The size of ``eqn``'s largest operand or result."""
    return max(math.prod(atom.aval.shape) for atom in (*eqn.invars, *eqn.outvars))


def _small_forms(jaxpr) -> dict:
    """Each equation's form (``_small_form``), by ``id``, with views left out wherever
    something outside a nest reads them: a transpose feeding a product stays the free
    NumPy view it was, rather than a copy the nest would write out."""
    forms = {id(eqn): _small_form(eqn) for eqn in jaxpr.eqns}
    outside = {atom for atom in jaxpr.outvars if type(atom) is Var}
    for eqn in reversed(jaxpr.eqns):
        form = forms[id(eqn)]
        if form is not None and form[2] == VIEW and eqn.outvars[0] in outside:
            forms[id(eqn)] = form = None
        if form is None:
            outside.update(atom for atom in eqn.invars if type(atom) is Var)
    return forms


def fuse_small_runs(program):
    """``program`` with its regions of small-array work made ``fused`` loop nests.

    A region is a run of equations ``_small_form`` accepts, of any shapes, that nothing
    outside it reads until its end (equations that do not read it move before it); it
    becomes one ``loop_nest.NestKernel``.

    Args:
      program: a ``ClosedJaxpr`` or ``Jaxpr`` (optimised, as ``jit`` compiles it).

    Returns:
      The same object when nothing fuses (numba missing, no region that pays, see
      ``_pays``); otherwise an equal program whose regions are ``fused_p`` equations.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.ir import ShapedArray
      >>> from minigrad.core.staging import stage_flat
      >>> import minigrad.numpy as mnp
      >>> program = stage_flat(lambda x: [mnp.exp(x) * 2.0 + 1.0 - x], [ShapedArray((3,), np.float32)])
      >>> names = [eqn.primitive.name for eqn in fuse_small_runs(program).eqns]
      >>> names == (["fused"] if fusion_available() else ["exp", "mul", "add", "sub"])
      True
    """
    jaxpr = program.jaxpr if isinstance(program, ClosedJaxpr) else program
    forms = _small_forms(jaxpr)
    # Loop nests take every shape: one open run (one key), closed by what reads it.
    return fuse_runs(
        program,
        lambda eqn: forms[id(eqn)],
        _pays,
        key_of=_one_region,
        kernel=NestKernel,
    )


def _one_region(eqn) -> None:
    return None


def count_small_fusable(program) -> int:
    """How many equations of ``program`` could join loop nests (0 without numba)."""
    return small_work(program).operations


@attrs.frozen
class SmallWork:
    """What ``small_work`` counts: fusable ``operations`` (views do not count), the
    ``arrays`` they read from outside or write out, an upper bound on the ``regions``
    they make (one, plus one per equation outside that reads a result), and the
    ``elements`` they read in all."""

    operations: int = 0
    arrays: int = 0
    regions: int = 0
    elements: int = 0


def small_work(program) -> SmallWork:
    """How much of ``program`` could join loop nests (all zero without numba).

    Cheaper than fusing: it looks at each equation twice (``_small_forms``), without
    grouping regions or writing loops, so every trace can ask.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.ir import ShapedArray
      >>> from minigrad.core.staging import stage_flat
      >>> import minigrad.numpy as mnp
      >>> program = stage_flat(lambda x: [mnp.sum(mnp.exp(x) * 2.0, axis=1)], [ShapedArray((3, 4), np.float64)])
      >>> work = small_work(program)
      >>> (work.operations, work.arrays, work.regions) == ((3, 2, 1) if fusion_available() else (0, 0, 0))
      True
    """
    if not fusion_available():
        return SmallWork()
    jaxpr = program.jaxpr if isinstance(program, ClosedJaxpr) else program
    forms = _small_forms(jaxpr)
    operations = elements = 0
    regions = 1
    fusable, arrays = set(), set()
    for eqn in jaxpr.eqns:
        form = forms[id(eqn)]
        operands = [atom for atom in eqn.invars if type(atom) is Var and atom.aval.ndim]
        if form is None:
            written = [atom for atom in operands if atom in fusable]
            arrays.update(written)
            regions += bool(written)
            continue
        arrays.update(atom for atom in operands if atom not in fusable)
        fusable.update(eqn.outvars)
        if form[2] != VIEW:
            operations += 1
            elements += _elements(eqn)
    arrays.update(atom for atom in jaxpr.outvars if type(atom) is Var and atom in fusable)
    return SmallWork(operations, len(arrays), regions if operations else 0, elements)


def calls_to_tier_up(operations: int, arrays: int = 2, regions: int = 1) -> int:
    """How many calls a program with ``operations`` fusable equations, in ``regions``
    regions reading and writing ``arrays`` arrays, runs before fusing.

    As many as make the time fusion would have saved (``OPERATION_SAVED_SECONDS`` per
    operation and call) equal to the time it costs to compile: a program that stops
    right after the tier-up has spent at most twice the time it would have without
    the tier (the ski-rental bound), and one that keeps running gains from then on.

    Example:
      >>> calls_to_tier_up(499), calls_to_tier_up(5), calls_to_tier_up(37, arrays=18, regions=6)
      (3978, 80801, 73255)
    """
    compile_seconds = (
        REGION_COMPILE_SECONDS * regions
        + ARRAY_COMPILE_SECONDS * arrays
        + OPERATION_COMPILE_SECONDS * operations
    )
    return math.ceil(compile_seconds / (OPERATION_SAVED_SECONDS * operations))


class TieredProgram:
    """A compiled program that compiles itself again, with small work fused, once hot.

    It has the interface of a ``CompiledProgram``: ``fn`` runs it, ``source`` is the
    code ``fn`` runs. Until ``calls`` calls have been made, ``fn`` counts them and runs
    the plain code; the call that reaches the count compiles the fused version (every
    loop compiled before it is used) and only then replaces ``fn`` and ``source``, so
    no call runs a half-built program. Threads calling meanwhile run the plain code.

    Args:
      program: the optimised program (as the plain code was compiled from it).
      plain: its ``CompiledProgram``.
      calls: how many calls run the plain code before the tier-up.
      name: the generated function's name (``compile_jaxpr``'s).
      label: what the log calls the program (``jit(f)``).
      copied_outputs: output positions the caller copies (``compile_jaxpr``'s): the
        fused code returns them uncopied, as the plain code does.
    """

    def __init__(
        self,
        program,
        plain: CompiledProgram,
        calls: int,
        name: str = "jitted",
        label: str = "jitted",
        copied_outputs=(),
    ):
        self.source = plain.source
        self.compile_seconds = None  # how long the tier-up took, once it has run
        self._program, self._plain, self._name, self._label = program, plain.fn, name, label
        self._copied_outputs = tuple(copied_outputs)
        self._calls_left = calls
        self._lock = threading.Lock()
        self._tried = False
        self.fn = self._counting

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self):
        return f"TieredProgram(\n{self.source})"

    def _counting(self, *args):
        # Threads may miss a decrement of each other's: the count is a heuristic.
        self._calls_left -= 1
        if self._calls_left <= 0:
            self._tier_up()
        fn = self.fn
        return (self._plain if fn == self._counting else fn)(*args)

    def _tier_up(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # another thread is compiling: this call runs the plain code
        try:
            if self._tried:
                return
            self._tried = True
            start = time.perf_counter()
            try:
                compiled = _compile_fused(self._program, self._name, self._copied_outputs)
            except Exception as error:  # numba refused a loop: keep the NumPy code, and say so
                logger.warning(
                    "%s: small-array fusion failed, keeping the NumPy code: %r", self._label, error
                )
                self.fn = self._plain
                return
            self.compile_seconds = time.perf_counter() - start
            if compiled is None:
                # Fusable equations, but no run of MIN_RUN (a backward body's are often
                # cut up by products): the plain code is the code.
                self.fn = self._plain
                return
            # `source` first: a reader sees the fused code no later than it runs.
            self.source = compiled.source
            self.fn = compiled.fn
            logger.info("%s: small-array work fused, compiled in %.2f s", self._label, self.compile_seconds)
        finally:
            self._lock.release()


def _compile_fused(program, name: str, copied_outputs=()) -> CompiledProgram | None:
    """The fused program compiled, every loop compiled; None if no run fused."""
    fused = fuse_small_runs(program)
    if fused is program:
        return None
    jaxpr = fused.jaxpr if isinstance(fused, ClosedJaxpr) else fused
    for eqn in jaxpr.eqns:
        if eqn.primitive is fused_p:
            eqn.params["kernel"].compile()
    return compile_jaxpr(fused, name, copied_outputs=copied_outputs)


def compile_tiered(
    program, name: str = "jitted", *, calls: int | None = None, label: str | None = None, copied_outputs=()
):
    """``program`` compiled for NumPy arrays: large runs fused now (``fuse_elementwise``),
    small ones after ``calls`` calls if any would fuse (by default ``TIER_UP_CALLS``, or
    if that is None, ``calls_to_tier_up``).

    ``name`` is the generated function's (as ``compile_jaxpr``'s) and ``label`` what
    the log calls the program (``jit(f)``; ``name`` by default); ``copied_outputs``
    are ``compile_jaxpr``'s, kept by both versions. A loop that calls a
    compiled body once per step (``lax.scan``, see ``lax/subprograms.py``) counts each
    step as a call, so a body of a long loop tiers up within that loop. It must call
    the result (or its ``fn`` attribute, which changes at the tier-up) at each step,
    not keep the function ``fn`` was at first.

    Returns:
      A ``TieredProgram``, or the plain ``CompiledProgram`` when no small run fuses
      (numba missing, too few fusable equations).

    Example:
      >>> import numpy as np
      >>> from minigrad.core.ir import ShapedArray
      >>> from minigrad.core.staging import stage_flat
      >>> import minigrad.numpy as mnp
      >>> program = stage_flat(lambda x: [mnp.tanh(mnp.sin(x) * 1.1 + 0.3)], [ShapedArray((4,), np.float64)])
      >>> compiled = compile_tiered(program, calls=1)
      >>> np.allclose(compiled.fn(np.zeros(4))[0], np.tanh(0.3), rtol=1e-15)
      True
      >>> ("# fused: " in compiled.source) == fusion_available()
      True
    """
    large = fuse_elementwise(program)
    plain = compile_jaxpr(large, name, copied_outputs=copied_outputs)
    return with_small_tier(large, plain, name, calls=calls, label=label, copied_outputs=copied_outputs)


def with_small_tier(
    program, plain: CompiledProgram, name: str = "jitted", *, calls=None, label=None, copied_outputs=()
):
    """``plain``, the compiled ``program``, as a ``TieredProgram`` if small runs of
    ``program`` would fuse; else ``plain`` itself. ``compile_tiered`` without the
    compiling: ``jit`` and loop bodies compile the plain code themselves. Arguments as
    ``compile_tiered``'s; ``copied_outputs`` must be those ``plain`` was compiled with
    (``compile_jaxpr``'s), and the fused code is compiled with them too.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.ir import ShapedArray
      >>> from minigrad.core.staging import stage_flat
      >>> import minigrad.numpy as mnp
      >>> program = stage_flat(lambda x: [mnp.sum(x)], [ShapedArray((4,), np.float64)])
      >>> plain = compile_jaxpr(program)
      >>> with_small_tier(program, plain) is plain  # nothing to fuse
      True
    """
    work = small_work(program)
    if not _enough_work(work.operations, work.elements):
        return plain
    if calls is None and TIER_UP_CALLS is None:
        calls = calls_to_tier_up(work.operations, work.arrays, work.regions)
    elif calls is None:
        calls = TIER_UP_CALLS
    label = name if label is None else label
    return TieredProgram(program, plain, calls, name, label, copied_outputs)
