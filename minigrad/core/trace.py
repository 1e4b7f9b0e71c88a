"""Traces and tracers: how a call to a primitive reaches the transform that handles it.

While a transform runs a user's function, the arrays the function sees are ``Tracer``
objects. Every operation on them ends in ``bind(primitive, *args)``, which finds the
innermost active trace among the arguments and lets it process the call: a recording
trace computes and records, a staging trace only records shapes, a JVP trace pushes
tangents. Without tracers, ``bind`` simply runs the NumPy implementation.

Traces form a stack; a trace's level is higher than that of every trace made before it,
so nested transforms get higher levels, and values of outer levels are constants to
inner ones. The stack lives in a context variable, so each thread (and each asyncio task)
has its own. Levels come from one process-wide counter rather than from the stack's
depth: a transform started in a new thread, inside a transform of another thread whose
tracers it closes over, must still count as the inner one.

Example:
    >>> current_depth()
    0
"""

from __future__ import annotations

import contextvars
import itertools

import numpy as np
from numpy import asarray, ndarray  # not `np.name` in hot paths: see core/dtypes.py

from minigrad.core import config as _config
from minigrad.core.dtypes import is_float_dtype
from minigrad.core.errors import (
    CONCRETIZATION_ADVICE,
    DEBUG_NANS_ADVICE,
    DROPPED_DERIVATIVE_ADVICE,
    FUNCTIONAL_GRADIENT_ADVICE,
    IMPERATIVE_ATTRIBUTES,
    LEAK_ADVICE,
    TRACED_INDEX_ADVICE,
    ConcretizationError,
    TracerLeakError,
)
from minigrad.core.ir import ShapedArray
from minigrad.core.user_code import (
    USER_ERRORS,
    equation_source,
    math_function_called,
    mention_user_line,
    user_source_line,
)

__all__ = [
    "Trace",
    "Tracer",
    "bind",
    "bind_args",
    "evaluate",
    "explain_failure",
    "as_outputs",
    "new_trace",
    "TraceScope",
    "current_depth",
    "get_aval",
    "is_tracer",
    "register_tracer_methods",
    "register_math_counterparts",
    "innermost_staging_trace",
    "INTERNED_AVALS",
]

_trace_stack: contextvars.ContextVar[tuple] = contextvars.ContextVar("minigrad_trace_stack", default=())
# next() on a count is atomic under the GIL, so threads never share a level.
_trace_levels = itertools.count(1)


def current_depth() -> int:
    """How many transforms are active in this context."""
    return len(_trace_stack.get())


def innermost_staging_trace() -> Trace | None:
    """The innermost active trace that only records (jit, make_jaxpr, vmap), or None.

    A callback with no traced argument goes there, so that it runs whenever the staged
    program runs rather than once while it is staged.

    Example:
        >>> innermost_staging_trace() is None
        True
    """
    for trace in reversed(_trace_stack.get()):
        if trace.label is None:
            return trace
    return None


class Trace:
    """Base class of the interpreters that process primitives on tracers."""

    # The transform a tracer's repr names when its value is known ("grad", "jvp");
    # None for traces that know only shapes (staging traces).
    label: str | None = None

    def __init__(self, level: int):
        self.level = level
        self.active = True

    def process_primitive(self, primitive, args, params):
        raise NotImplementedError  # every concrete trace overrides this

    def source_of(self, tracer: Tracer) -> str | None:
        """The user's ``file:line`` that made ``tracer``, if this trace wrote it down."""
        return None

    def concrete_value(self, tracer: Tracer, operation: str):
        """The value behind ``tracer`` if this trace knows it; else raise."""
        raise ConcretizationError(
            f"{operation} needs a concrete value, but got a traced array {tracer.aval}. "
            + CONCRETIZATION_ADVICE
        )

    def carries_derivative(self, tracer: Tracer) -> bool:
        """Whether turning ``tracer`` into a Python number would drop a derivative."""
        return False

    def describe(self, tracer: Tracer) -> str:
        """What a tracer's repr says after its value: the transform, and more if known."""
        return self.label or ""

    def __repr__(self):
        return f"{type(self).__name__}(level={self.level})"


def new_trace(trace_type, *args, **kwargs) -> TraceScope:
    """Push a trace above every trace made so far; retire it on exit.

    Used as ``with new_trace(RecordTrace) as trace:``; extra arguments go to the trace.
    """
    return TraceScope(trace_type(next(_trace_levels), *args, **kwargs))


class TraceScope:
    """The ``with`` block of one trace: on the stack inside, retired after.

    A class rather than a ``contextlib.contextmanager`` generator, which costs every
    transform call about three times the Python calls to enter and leave.
    """

    __slots__ = ("trace", "_token")

    def __init__(self, trace: Trace):
        self.trace = trace

    def __enter__(self) -> Trace:
        self._token = _trace_stack.set((*_trace_stack.get(), self.trace))
        return self.trace

    def __exit__(self, *exc_info) -> None:
        self.trace.active = False
        _trace_stack.reset(self._token)


class Tracer:
    """An array as seen inside a transform. Subclasses say what they carry.

    Arithmetic operators and NumPy-style methods are installed by ``minigrad.numpy``
    through ``register_tracer_methods``, so this layer stays free of NumPy semantics.
    """

    __slots__ = ("_trace",)
    # NumPy must defer to our reflected operators: `np_array * tracer` calls __rmul__.
    __array_ufunc__ = None
    __array_priority__ = 1000
    __hash__ = None  # like numpy arrays, tracers are not hashable

    @property
    def aval(self) -> ShapedArray:
        raise NotImplementedError  # every concrete tracer overrides this

    @property
    def weak_type(self) -> bool:
        """Whether this is a Python number passed to a transform (see ``ShapedArray``)."""
        return self.aval.weak_type

    @property
    def shape(self) -> tuple[int, ...]:
        return self.aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self.aval.dtype

    @property
    def ndim(self) -> int:
        return len(self.aval.shape)

    @property
    def size(self) -> int:
        return self.aval.size

    def __len__(self):
        if not self.aval.shape:
            raise TypeError("len() of a 0-d array")
        return self.aval.shape[0]

    def __iter__(self):
        if not self.aval.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.aval.shape[0]))

    def _concrete(self, operation: str):
        trace = self._trace
        if not trace.active:
            raise TracerLeakError(f"{operation} on a tracer of {trace}, which has ended. {LEAK_ADVICE}")
        return trace.concrete_value(self, operation)

    def __bool__(self):
        return bool(self._concrete("bool() (an `if`, `while`, `and`, `or` or `not`)"))

    def __int__(self):
        return int(self._concrete("int()"))

    def _python_value(self, operation: str):
        """The value for ``float()``, ``.item()`` ...: refused while it carries a derivative.

        ``bool()`` and ``int()`` do not come here: control flow needs no derivative.
        """
        trace = self._trace
        if trace.active and trace.carries_derivative(self):
            raise TypeError(_dropped_derivative_message(self, operation))
        try:
            return self._concrete(operation)
        except ConcretizationError as error:
            mention_math_function(error)
            raise

    def __float__(self):
        return float(self._python_value("float()"))

    def __complex__(self):
        return complex(self._python_value("complex()"))

    def item(self, *args):
        return np.asarray(self._python_value(".item()")).item(*args)

    def tolist(self):
        return np.asarray(self._python_value(".tolist()")).tolist()

    def __index__(self):
        if self.aval.dtype.kind not in "iu":
            raise TypeError(
                f"only integer arrays can be used as a Python index, got {self.aval}; "
                "cast it with .astype(int) if truncation is meant."
            )
        try:
            return int(self._concrete("using an array as a Python index"))
        except ConcretizationError as error:
            error.args = (f"{error.args[0]} {TRACED_INDEX_ADVICE}", *error.args[1:])
            raise

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"A traced array {self.aval} cannot be turned into a NumPy array: NumPy would "
            "compute on it without the transform seeing it. Use the functions of "
            "`minigrad.numpy` (import minigrad.numpy as mnp) instead of `numpy` inside "
            f"transformed functions. {TRACED_INDEX_ADVICE}"
        )

    def __repr__(self):
        # Under grad, vjp and jvp the value is known, so it is shown; under staging
        # (jit, make_jaxpr, vmap) only the shape and dtype are.
        trace = self._trace
        if trace.label is not None and trace.active:
            try:
                value = self._concrete("repr()")
            except ConcretizationError:
                pass
            else:
                return f"Traced<{self.aval}>(value={np.asarray(value)!r}, {trace.describe(self)})"
        return f"{type(self).__name__}<{self.aval}>"


def _refused_habit(name: str, habit: str) -> property:
    """A property that explains why a traced array lacks PyTorch's or micrograd's ``name``."""

    def refuse(self):
        raise AttributeError(f"{habit} {FUNCTIONAL_GRADIENT_ADVICE}", name=name, obj=self)

    refuse.__name__ = refuse.__qualname__ = name
    return property(refuse)


# Autograd attributes get an explanation; any other missing name (hasattr probes by
# pickle, copy or NumPy included) gets the usual AttributeError. They are properties
# rather than a `__getattr__`: a class with `__getattr__` makes every attribute read of
# every tracer take CPython's slow, unspecialised path.
for _name, _habit in IMPERATIVE_ATTRIBUTES.items():
    setattr(Tracer, _name, _refused_habit(_name, _habit))


def register_tracer_methods(methods: dict) -> None:
    """Install operators and methods (``__add__``, ``sum``, ...) on every tracer."""
    for name, method in methods.items():
        setattr(Tracer, name, method)


# `math.tanh(x)` calls `x.__float__()`: the name of the `minigrad.numpy` function to
# suggest instead, per `math` function, given by the layer that defines them.
_MATH_COUNTERPARTS: dict[str, str] = {}


def register_math_counterparts(counterparts: dict[str, str]) -> None:
    """Say which function replaces each `math` function (``{"tanh": "mnp.tanh"}``)."""
    _MATH_COUNTERPARTS.update(counterparts)


def _dropped_derivative_message(tracer: Tracer, operation: str) -> str:
    called = math_function_called()
    if called is not None:
        operation = f"math.{called}() (which calls float() on its argument)"
    message = (
        f"{operation} was applied to a traced value {tracer.aval} that carries a derivative "
        f"under {tracer._trace.label}; the result would be a plain Python number and the "
        "derivative would be lost."
    )
    counterpart = _MATH_COUNTERPARTS.get(called) if called is not None else None
    if counterpart is not None:
        message += f" Use `{counterpart}(x)` instead of `math.{called}(x)`."
    message += " " + DROPPED_DERIVATIVE_ADVICE
    line = user_source_line()
    return f"{message} (at {line})" if line else message


def mention_math_function(error: BaseException) -> None:
    """Add to ``error`` which `math` function asked for a float, and what replaces it."""
    called = math_function_called()
    if called is None or not error.args or not isinstance(error.args[0], str):
        return
    counterpart = _MATH_COUNTERPARTS.get(called, "the `minigrad.numpy` function")
    error.args = (
        f"{error.args[0]} (math.{called}() called float(): use {counterpart} instead.)",
        *error.args[1:],
    )


def is_tracer(x) -> bool:
    return isinstance(x, Tracer)


# Abstract values are immutable and compared by value, so one instance per (shape, dtype)
# serves every array: creating them was a measurable part of each primitive's cost. The
# key holds the dtype's identity, not the dtype: NumPy computes a dtype's hash anew on
# every call (about 2,300 instructions, a tenth of recording one operation). The cached
# aval keeps its dtype alive, so the identity cannot pass to another dtype meanwhile.
# The recording trace reads this table inline (a Python call to `get_aval` costs more
# than the lookup).
INTERNED_AVALS: dict = {}


def _interned_aval(shape, dtype) -> ShapedArray:
    key = (shape, id(dtype))
    aval = INTERNED_AVALS.get(key)
    if aval is None:
        if len(INTERNED_AVALS) > 10_000:
            INTERNED_AVALS.clear()
        aval = ShapedArray(shape, dtype)
        if aval.dtype is dtype:  # (np.dtype(dtype) is dtype for every dtype object)
            INTERNED_AVALS[key] = aval
    return aval


def get_aval(x) -> ShapedArray:
    """The abstract value of a tracer, array or scalar."""
    if type(x) is ndarray:
        aval = INTERNED_AVALS.get((x.shape, id(x.dtype)))  # the usual case, looked up inline
        return _interned_aval(x.shape, x.dtype) if aval is None else aval
    if isinstance(x, Tracer):
        return x.aval
    x = asarray(x)
    return _interned_aval(x.shape, x.dtype)


def bind(primitive, *args, **params):
    """Apply ``primitive`` to ``args``: through the innermost trace, or with NumPy."""
    return bind_args(primitive, args, params)


def bind_args(primitive, args: tuple, params: dict):
    """``bind(primitive, *args, **params)`` for a caller that holds ``args`` and ``params``.

    Re-spreading them (``bind(primitive, *args)``) would cost a star call, four times a
    plain one in CPython 3.11, on every operation.

    Example:
      >>> from minigrad.core.primitive import Primitive
      >>> double_p = Primitive("double_example", register=False)
      >>> double_p.impl = lambda x: 2 * x
      >>> bind_args(double_p, (np.ones(2),), {})
      array([2., 2.])
    """
    top = None
    for arg in args:
        if isinstance(arg, Tracer):
            trace = arg._trace
            if not trace.active:
                raise TracerLeakError(
                    f"{primitive.name} was applied to a tracer of {trace}, which has ended. " + LEAK_ADVICE
                )
            if top is None or trace.level > top.level:
                top = trace
    if top is None:
        # Plain arrays only. `evaluate` is spelled out for the usual call, without NaN
        # checks: about half of an eager step's operations (the backward walk's, all of
        # them) come here, and a Python call costs as much as this whole block.
        if _config.nan_checks_armed:
            return evaluate(primitive, args, params)
        try:
            out = primitive.impl(*args, **params) if params else primitive.impl(*args)
        except Exception as error:
            explain_failure(primitive, args, params, error)
            raise
        return out if type(out) is ndarray else as_outputs(primitive, out)
    if primitive.replay is not None:
        # A call primitive (jit) under any transform: its body is transformed instead.
        return primitive.replay(*args, **params)
    return top.process_primitive(primitive, args, params)


def evaluate(primitive, args, params):
    """Run a primitive's NumPy implementation, with clear errors for bad shapes."""
    if _config.nan_checks_armed and _config.nan_checks_enabled():
        return _evaluate_checking_nans(primitive, args, params)
    try:
        # Most primitives take no params; a call without `**{}` is measurably cheaper.
        out = primitive.impl(*args, **params) if params else primitive.impl(*args)
    except Exception as error:
        explain_failure(primitive, args, params, error)
        raise
    return out if type(out) is ndarray else as_outputs(primitive, out)


def explain_failure(primitive, args, params, error: Exception) -> None:
    """Give ``error``, raised by ``primitive``'s implementation, our message and the user's line.

    NumPy's messages do not name our operation; the shape rule's do, so a complaint of
    the shape rule is raised instead. If the shape rule finds nothing wrong, NumPy's own
    error stands (the caller re-raises it). Either way the message gains the user's line,
    found only now, so the fast path pays nothing.

    Example:
      >>> from minigrad.core.primitive import Primitive
      >>> halve_p = Primitive("halve_example", register=False)
      >>> halve_p.impl = lambda x: x.halve()
      >>> try:
      ...     halve_p.impl(np.ones(2))
      ... except AttributeError as error:
      ...     explain_failure(halve_p, (np.ones(2),), {}, error)
      ...     "halve_example" in str(error)
      False
    """
    line = user_source_line()
    if primitive.shape_rule is not None:
        try:
            primitive.shape_rule(*(get_aval(a) for a in args), **params)
        except USER_ERRORS as rule_error:
            mention_user_line(rule_error, line)
            raise
    mention_user_line(error, line)


def as_outputs(primitive, out):
    """An implementation's result as NumPy arrays (NumPy returns scalars for 0-d results).

    Example:
      >>> from minigrad.core.primitive import Primitive
      >>> as_outputs(Primitive("sum_example", register=False), np.float64(2.0))
      array(2.)
    """
    if primitive.multiple_results:
        return [o if type(o) is ndarray else asarray(o) for o in out]
    return out if type(out) is ndarray else asarray(out)


def _evaluate_checking_nans(primitive, args, params):
    # NumPy's warnings would only repeat, less precisely, the error raised below.
    with np.errstate(all="ignore"), _config.debug_nans(False):
        out = evaluate(primitive, args, params)
    _check_finite(primitive, args, out)
    return out


def _nonfinite(value) -> bool:
    return is_float_dtype(value.dtype) and not np.isfinite(value).all()


def _check_finite(primitive, args, out) -> None:
    """``debug_nans``: blame the primitive that turned finite inputs into NaN or inf."""
    outs = out if primitive.multiple_results else (out,)
    bad = [o for o in outs if _nonfinite(o)]
    if not bad or any(_nonfinite(np.asarray(a)) for a in args):
        return
    produced = sorted(
        {"nan" if np.isnan(v) else ("inf" if v > 0 else "-inf") for o in bad for v in o[~np.isfinite(o)].flat}
    )
    inputs = ", ".join(str(get_aval(a)) for a in args)
    line = equation_source()  # the line that made the equation vmap or jit replays, or the caller
    where = f" (at {line})" if line else ""
    raise FloatingPointError(
        f"debug_nans: {primitive.name} produced {'/'.join(produced)} from finite inputs "
        f"({inputs}){where}. {DEBUG_NANS_ADVICE}"
    )
