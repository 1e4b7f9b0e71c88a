"""``jit``: stage a function once per input signature, optimise it, compile it, reuse it.

A jitted function flattens its arguments and looks up a cache keyed by everything the
staged program depends on: the pytree structure, each leaf's shape and dtype, whether a
leaf is a Python number (a weakly typed scalar), and the values of static arguments
(``cache.py`` builds that key, keeps the programs, and explains what changed when a
call misses). On a miss it stages the function (``core/staging.py``), runs the passes of ``passes.py`` and
compiles the result to straight-line NumPy (``compiler.py``).

The compiled program is wrapped in one call primitive, ``jit_p``. Its implementation
runs the compiled code; under any transform (``grad``, ``jvp``, ``vmap``, or staging for
an outer ``jit`` or ``make_jaxpr``) ``bind`` replays its optimised program with
``eval_jaxpr`` on the transform's tracers, so no transform needs a rule for it and an
outer ``jit`` simply sees the inner program's equations.

Example:
    >>> import numpy as np
    >>> import minigrad.numpy as mnp
    >>> f = jit(lambda x: mnp.sin(x) * 2.0)
    >>> f(np.zeros(3))
    array([0., 0., 0.])
    >>> f.cache_size()
    1
"""

from __future__ import annotations

import functools
import logging
import sys
import warnings

import attrs
import numpy as np

from minigrad.core import config as _config
from minigrad.core.call_stack import CallRecorder
from minigrad.core.interpreter import eval_jaxpr
from minigrad.core.ir import ClosedJaxpr, Jaxpr, Literal
from minigrad.core.primitive import Primitive
from minigrad.core.staging import StagingTrace
from minigrad.core.trace import Tracer, bind, new_trace
from minigrad.transforms.api_util import (
    argument_aval,
    check_callable,
    flatten_arguments,
    merge_arguments,
    static_argnames_tuple,
    static_argnums_tuple,
)
from minigrad.transforms.jit.array_api import call_target, leaf_aval
from minigrad.transforms.jit.array_api_writer import compile_array_api
from minigrad.transforms.jit.cache import (
    PYTHON_SCALARS,
    TypedStructure,
    check_int_fits,
    int_conversions,
    leaves_signature,
    number_types,
    resolve_static,
    shared_program_cache,
    signature_or_none,
    split_static,
    unhashable_structure_error,
)
from minigrad.transforms.jit.compiler import CompiledProgram, compile_jaxpr
from minigrad.transforms.jit.constants import ConstantSnapshots
from minigrad.transforms.jit.fusion import fuse_elementwise
from minigrad.transforms.jit.fusion_tier import with_small_tier
from minigrad.transforms.jit.passes import optimize
from minigrad.transforms.jit.tree_code import argument_reader, output_builder
from minigrad.tree import tree_flatten, tree_unflatten

__all__ = ["jit", "jit_p", "JittedFunction", "Lowered"]

logger = logging.getLogger("minigrad.jit")


# ---------------------------------------------------------------------------------------
# The call primitive


jit_p = Primitive("jit", multiple_results=True)


@jit_p.def_impl
def jit_impl(*args, program, name, _executable):
    return _executable(*args)


@jit_p.def_shape_rule
def jit_shape_rule(*avals, program, name, _executable):
    expected = program.in_avals
    if list(avals) != list(expected):
        raise TypeError(
            f"jit({name}): called with arguments of types {[str(a) for a in avals]}, but the "
            f"program was compiled for {[str(a) for a in expected]}."
        )
    for position, (aval, want) in enumerate(zip(avals, expected, strict=True)):
        # A weak value promotes like a Python number: a program staged for a strong
        # input of the same type computes other dtypes (the cache keys on weakness).
        if aval.weak_type and not want.weak_type:
            raise TypeError(
                f"jit({name}): argument {position} is weakly typed ({aval}), but the program "
                "was compiled for a strongly typed one; stage it again for this input."
            )
    return program.out_avals


@jit_p.def_replay
def jit_replay(*args, program, name, _executable):
    # Under grad, jvp or vmap the program is interpreted on the tracers, one bind per
    # equation, so each transform sees only primitives it already knows.
    return eval_jaxpr(program.jaxpr, program.consts, *args)


@attrs.frozen
class _CacheEntry:
    """One staged and optimised program and what is needed to call it."""

    program: ClosedJaxpr  # optimised, constants inlined; inputs: traced constants, then leaves
    staged: ClosedJaxpr  # as traced, before the passes
    out_tree: object
    build_output: object  # flat outputs -> output pytree
    const_tracers: tuple  # closed-over tracers of outer transforms (never cached)
    executable: CompiledProgram  # or _CompiledOnDemand, for programs closing over tracers
    # (leaf position, dtype) for each Python int argument the program converts to a
    # narrower integer dtype: checked on every call, as eager NumPy would
    int_conversions: tuple = ()
    # the types of the numbers (dict keys) in the argument structure; None for none
    number_types: tuple | None = None


@attrs.frozen
class Lowered:
    """What ``jit`` makes of a function for given arguments.

    ``staged`` is the program as traced, ``program`` the optimised one, and ``source`` the
    Python that runs (print it to see the NumPy calls).
    """

    staged: ClosedJaxpr
    program: ClosedJaxpr
    source: str


def _leaf_as_array(leaf):
    """Python numbers and ndarray subclasses (``np.matrix``) as the plain arrays the
    compiled code expects; eager ``minigrad.numpy`` computes on them as plain arrays too."""
    if type(leaf) in PYTHON_SCALARS or (type(leaf) is not np.ndarray and isinstance(leaf, np.ndarray)):
        return np.asarray(leaf)
    return leaf


class JittedFunction:
    """The callable ``jit`` returns. See ``jit`` for what it does."""

    def __init__(self, fun, static_argnums, cache_limit: int, log_retraces: bool, static_argnames=()):
        functools.update_wrapper(self, fun)
        self._fun = fun
        self._name = getattr(fun, "__name__", type(fun).__name__)
        self._signature = signature_or_none(fun)
        self._static, self._static_names = resolve_static(
            self._name, self._signature, static_argnums, static_argnames
        )
        self._log_retraces = log_retraces
        # The recipe: pickling ships the function and these settings, not compiled
        # programs, and the process that unpickles shares the cache of its own jit of the
        # same (importable) function, so it traces at most once per signature.
        self._recipe = (fun, static_argnums, cache_limit, log_retraces, static_argnames)
        # Shared by every jit wrapper of the same function with the same settings, so
        # `jit(f)(x)` in a loop traces once, as in JAX.
        self._cache = shared_program_cache(
            fun, (self._static, self._static_names, cache_limit), self._name, cache_limit
        )
        # A reader of the arguments' leaves and the structure it reads (one tuple, so
        # threads see a matching pair), and the structure the last call flattened.
        self._last_structure: tuple | None = None
        self._last_flattened = None

    def __repr__(self):
        return f"jit({self._name})"

    def __reduce__(self):
        return (JittedFunction, self._recipe)

    def __get__(self, instance, owner=None):
        # As a method, the instance is the first argument (make it static if it is not a
        # pytree of arrays: `jit(method, static_argnums=0)`).
        return self if instance is None else functools.partial(self, instance)

    # -- the call path ------------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        if _config.jit_disable_armed and _config.jit_disabled():
            return self._fun(*args, **kwargs)
        static_values, dynamic, has_kwargs = split_static(
            self._name, self._signature, self._static, self._static_names, args, kwargs
        )
        last = self._last_structure
        leaves = None if last is None else last[1](dynamic)
        read = leaves is not None
        if read:
            in_tree = last[0]
            self._last_flattened = None
        else:
            leaves, in_tree = tree_flatten(dynamic)
            self._remember_structure(in_tree)
        signature, traced, needs_conversion = leaves_signature(self._name, leaves)
        entry, key = self._cached((in_tree, signature, static_values, has_kwargs), dynamic)
        if entry is None and read:
            # A miss: trace with what tree_flatten gives, the caller's own containers (the
            # reader's treedef is only equal to theirs, and their keys may sort otherwise).
            leaves, in_tree = tree_flatten(dynamic)
            signature, traced, needs_conversion = leaves_signature(self._name, leaves)
            entry, key = self._cached((in_tree, signature, static_values, has_kwargs), dynamic)
        if entry is None:
            entry = self._trace_and_cache(key, in_tree, static_values, dynamic, leaves)
        if needs_conversion:
            for position, dtype in entry.int_conversions:
                check_int_fits(self._name, leaves[position], dtype)
            leaves = list(map(_leaf_as_array, leaves))
        if traced or entry.const_tracers:
            outs = bind(
                jit_p,
                *entry.const_tracers,
                *leaves,
                program=entry.program,
                name=self._name,
                _executable=entry.executable,
            )
        elif _config.nan_checks_armed and _config.nan_checks_enabled():
            target = call_target(self._name, signature)
            if target is None:
                outs = _run_checking_nans(entry.program, leaves)
            else:  # another library's arrays: a version checking after each primitive
                checking = compile_array_api(
                    entry.program, target[0], target[1], scalar_inputs=target[2], check_nans=True
                )
                # The library's warnings would only repeat, less precisely, the error
                # raised; Dask computes on other threads, so the filter, not errstate.
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    outs = checking.fn(*leaves)
        else:
            outs = entry.executable.fn(*leaves)
        return entry.build_output(outs)

    def _remember_structure(self, in_tree) -> None:
        """Read the next calls' arguments with a reader of ``in_tree`` (``tree_code``)
        once two calls in a row flattened it: a training loop passes the same structure
        at every step, while a wrapper made afresh for each call (``jit(f)(x)`` in a
        loop) or calls alternating structures would pay for generating code they do not
        reuse. Only kept treedefs (``tree_flatten``'s own, at most 64 children a node,
        no aux data but classes and ``str`` keys) get one: nothing else is held."""
        previous, self._last_flattened = self._last_flattened, in_tree
        if previous is in_tree and in_tree.kept:
            reader = argument_reader(in_tree)
            self._last_structure = None if reader is None else (in_tree, reader)

    def _cached(self, key, dynamic) -> tuple[_CacheEntry | None, tuple]:
        """The cached entry for a call (None on a miss) and the key to cache it under.

        Dict keys 1, True and 1.0 compare equal, so their structures do; where the
        structure holds numbers, their types pick the program too (a second key).
        """
        try:
            entry = self._cache.get(key)
        except TypeError:  # hashing the structure: a custom node's aux data is unhashable
            raise unhashable_structure_error(self._name, dynamic, key[0], key[3]) from None
        if entry is None or entry.number_types is None:
            return entry, key
        types = number_types(key[0])
        if types == entry.number_types:
            return entry, key
        typed_key = (TypedStructure(key[0], types), *key[1:])
        return self._cache.get(typed_key), typed_key

    # -- tracing --------------------------------------------------------------------------

    def _trace_and_cache(self, key, in_tree, static_values, dynamic, leaves) -> _CacheEntry:
        """The entry for ``key``: made by tracing ``fun`` and kept, unless another thread
        made it meanwhile.

        Nested jitted functions trace inside one another, so this is the only frame a
        level of nesting adds besides ``__call__`` (the Python stack bounds how deep
        jits nest): it calls ``fun`` itself, and its helpers return before that call.
        """
        with self._cache.reserve(key) as slot:
            if slot.entry is not None:
                return slot.entry  # another thread traced it while this one waited
            self._log_trace(key, dynamic)
            with new_trace(StagingTrace) as trace:
                trace.calls = CallRecorder(sys._getframe())  # the user's calls, for pictures
                # Python numbers are weakly typed inputs, as under every transform.
                in_tracers = [
                    trace.new_input(leaf_aval(leaf, sig, argument_aval)) for leaf, sig in zip(leaves, key[1])
                ]
                args, kwargs = _call_arguments(in_tree, key[3], static_values, in_tracers)
                out = self._fun(*args, **kwargs)
                out_leaves, out_tree = flatten_arguments(f"jit({self._name}) output", out, "output")
                staged = trace.to_closed_jaxpr(in_tracers, out_leaves)
                trace.calls.release()
            target = call_target(self._name, key[1])
            entry = _make_entry(
                staged, out_tree, self._cache.snapshots, number_types(in_tree), target, self._name
            )
            # A program closing over tracers of a transform running now must not be
            # reused: the next call sees other tracers.
            slot.fill(entry, reusable=not entry.const_tracers)
            return entry

    def _log_trace(self, key, dynamic) -> None:
        if call_target(self._name, key[1]) is None:
            flatten_arguments(f"jit({self._name})", dynamic)  # a clear error for a leaf that is no array
        message = self._cache.record_trace(key, dynamic)
        if self._log_retraces:
            logger.warning(message)

    # -- introspection --------------------------------------------------------------------

    def cache_size(self) -> int:
        """How many compiled programs are cached (one per distinct input signature)."""
        return self._cache.size()

    def clear_cache(self) -> None:
        """Forget every compiled program; the next call traces again."""
        self._cache.clear()
        self._last_structure = self._last_flattened = None

    def trace_log(self) -> list[str]:
        """Why each trace happened (the latest 100), e.g. which argument's shape changed."""
        return self._cache.trace_log()

    def lower(self, *args, **kwargs) -> Lowered:
        """The staged program, the optimised one and the generated source for ``args``.

        Example:
          >>> import numpy as np
          >>> print(jit(lambda x: x * 1.0 + 2.0).lower(np.ones(2)).source)
          def jitted(a):
              b = a + _k0
              return [b]
        """
        static_values, dynamic, has_kwargs = split_static(
            self._name, self._signature, self._static, self._static_names, args, kwargs
        )
        leaves, in_tree = tree_flatten(dynamic)
        signature, _, _ = leaves_signature(self._name, leaves)
        entry, key = self._cached((in_tree, signature, static_values, has_kwargs), dynamic)
        if entry is None:
            entry = self._trace_and_cache(key, in_tree, static_values, dynamic, leaves)
        return Lowered(entry.staged, entry.program, entry.executable.source)


def _run_checking_nans(program: ClosedJaxpr, args) -> list:
    """``debug_nans`` under jit: run the program one primitive at a time instead of the
    compiled code, so the first NaN or inf is blamed on its primitive and on the line
    that staged it."""
    env = dict(zip(program.jaxpr.constvars, program.consts, strict=True))
    env.update(zip(program.jaxpr.invars, args, strict=True))

    def read(atom):
        return atom.val if type(atom) is Literal else env[atom]

    for eqn in program.jaxpr.eqns:
        try:
            out = bind(eqn.primitive, *map(read, eqn.invars), **eqn.params)
        except FloatingPointError as error:
            if eqn.source:
                error.args = (f"{error.args[0]} The operation was staged by jit at {eqn.source}.",)
            raise
        env.update(zip(eqn.outvars, out if eqn.primitive.multiple_results else [out], strict=True))
    # As the compiled code does: results are writable arrays of their own.
    given = [*program.consts, *args]
    results = []
    for atom in program.jaxpr.outvars:
        value = np.asarray(read(atom))
        if (
            not value.flags.writeable
            or any(np.may_share_memory(value, other) for other in given if isinstance(other, np.ndarray))
            or any(np.may_share_memory(value, other) for other in results)
        ):
            value = value.copy()
        results.append(value)
    return results


def _call_arguments(in_tree, has_kwargs, static_values, flat_tracers) -> tuple[list, dict]:
    """The positional and keyword arguments ``fun`` is traced with: the dynamic ones
    rebuilt from ``flat_tracers``, the static ones put back at their places."""
    rebuilt = tree_unflatten(in_tree, flat_tracers)
    dynamic_args, kwargs = rebuilt if has_kwargs else (rebuilt, {})
    static_positions = [where for where, _, _ in static_values if isinstance(where, int)]
    static_args = [value for where, _, value in static_values if isinstance(where, int)]
    static_kwargs = {where: value for where, _, value in static_values if isinstance(where, str)}
    return merge_arguments(static_positions, static_args, dynamic_args), {**kwargs, **static_kwargs}


def _make_entry(
    staged: ClosedJaxpr, out_tree, snapshots: ConstantSnapshots, types=None, target=None, name: str = "jitted"
) -> _CacheEntry:
    """Split off closed-over tracers as inputs, optimise, and prepare the compiled code.

    ``target`` is ``(xp, device, scalar_positions)`` for arguments of another array
    library (``array_api.call_target``): the program is then written in Array API calls.
    """
    jaxpr = staged.jaxpr
    traced_vars, traced_values, concrete_vars, concrete_values = [], [], [], []
    for var, value in zip(jaxpr.constvars, staged.consts, strict=True):
        if isinstance(value, Tracer):
            traced_vars.append(var)
            traced_values.append(value)
        else:
            concrete_vars.append(var)
            # Closed-over arrays are constants captured at trace time (as in JAX): a
            # snapshot, so later writes into the caller's array do not reach the program.
            # One copy per function, shared by every signature's program.
            concrete_values.append(snapshots.snapshot(value) if isinstance(value, np.ndarray) else value)
    lifted = ClosedJaxpr(
        Jaxpr(concrete_vars, (*traced_vars, *jaxpr.invars), jaxpr.eqns, jaxpr.outvars), concrete_values
    )
    program = optimize(lifted)
    # A program closing over tracers is replayed on them (never run) and never cached:
    # compiling it would only cost time on every call of the enclosing transform.
    if traced_values:
        executable = _CompiledOnDemand(program)
    elif target is not None:
        executable = compile_array_api(program, target[0], target[1], scalar_inputs=target[2])
    else:
        # Runs of cheap elementwise work on large arrays become one loop each (fusion.py);
        # on small arrays, once the program is hot (fusion_tier.py).
        large = fuse_elementwise(program)
        executable = with_small_tier(large, compile_jaxpr(large), label=f"jit({name})")
    return _CacheEntry(
        program,
        staged,
        out_tree,
        output_builder(out_tree),
        tuple(traced_values),
        executable,
        int_conversions(jaxpr),
        types,
    )


class _CompiledOnDemand:
    """A ``CompiledProgram`` made from ``program`` when first called or read."""

    def __init__(self, program: ClosedJaxpr):
        self._program = program
        self._compiled = None

    def _get(self) -> CompiledProgram:
        if self._compiled is None:
            self._compiled = compile_jaxpr(self._program)
        return self._compiled

    @property
    def fn(self):
        return self._get().fn

    @property
    def source(self) -> str:
        return self._get().source

    def __call__(self, *args):
        return self._get()(*args)


def jit(
    fun=None, static_argnums=(), *, static_argnames=(), cache_limit: int = 64, log_retraces: bool = False
) -> JittedFunction:
    """Compile ``fun``: stage it once per input signature and reuse the optimised program.

    The signature is the pytree structure of the arguments, each leaf's shape and dtype,
    which leaves are Python numbers, and the values of the static arguments. Inside,
    values are known only by shape and dtype, so Python control flow on them raises
    ``ConcretizationError``: use ``mnp.where`` or make the argument static.

    Arrays ``fun`` closes over are constants of the program, copied when it is traced:
    changing such an array afterwards does not change what a cached program computes
    (pass it as an argument, or ``clear_cache()``, to use new values).

    Args:
      fun: a function of arrays (pytrees of arrays) returning arrays. Without it,
        ``jit(static_argnames=...)`` returns a decorator.
      static_argnums: positions of arguments passed to ``fun`` as Python values (they must
        be hashable; each new value, or a value of a new type such as ``2.0`` after
        ``2``, compiles a new program). Matched to parameter names through ``fun``'s
        signature, so such an argument is static also when passed by keyword; one left
        at its default is simply not passed.
      static_argnames: names of parameters that are static (by keyword or position).
      cache_limit: how many programs to keep; the least recently used is dropped first.
      log_retraces: log (logger ``minigrad.jit``, level WARNING) why each trace happened.

    Every ``jit`` wrapper of the same function with the same static arguments and
    ``cache_limit`` shares one cache, so ``jit(f)(x)`` inside a loop traces only once.
    Inside ``mg.disable_jit()`` the function runs eagerly instead.

    Returns:
      A ``JittedFunction``: call it like ``fun``. ``f.cache_size()`` counts compiled
      programs, ``f.trace_log()`` says why each was traced, ``f.lower(*args)`` gives the
      programs and the generated source.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> import minigrad.numpy as mnp
      >>> step = jit(mg.value_and_grad(lambda w, x: mnp.sum((x @ w) ** 2)))
      >>> loss, g = step(np.ones(2), np.eye(2))
      >>> float(loss), g
      (2.0, array([2., 2.]))
      >>> _ = step(np.ones(3), np.eye(3))
      >>> print(step.trace_log()[-1])
      jit(<lambda>) traced for (f64[3], f64[3,3]): args[0] changed from f64[2] to f64[3]; args[1] changed from f64[2,2] to f64[3,3]
    """
    if fun is None:
        # `@jit(static_argnames=...)`: called without the function, jit is a decorator.
        return functools.partial(
            jit,
            static_argnums=static_argnums,
            static_argnames=static_argnames,
            cache_limit=cache_limit,
            log_retraces=log_retraces,
        )
    check_callable("jit", fun)
    static = static_argnums_tuple("jit", static_argnums)
    names = static_argnames_tuple("jit", static_argnames)
    if cache_limit < 1:
        raise ValueError(f"jit: cache_limit must be at least 1, got {cache_limit}.")
    return JittedFunction(fun, static, cache_limit, log_retraces, names)
