"""Traces and tracers: how a call to a primitive reaches the transform that handles it.

While a transform runs a user's function, the arrays the function sees are ``Tracer``
objects. Every operation on them ends in ``bind(primitive, *args)``, which finds the
innermost active trace among the arguments and lets it process the call: a recording
trace computes and records, a staging trace only records shapes, a JVP trace pushes
tangents. Without tracers, ``bind`` simply runs the NumPy implementation.

Traces form a stack whose depth is their level; nested transforms get higher levels, and
values of outer levels are constants to inner ones. The stack lives in a context
variable, so each thread (and each asyncio task) has its own.

Example:
    >>> current_depth()
    0
"""

from __future__ import annotations

import contextvars
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from minigrad.core.errors import CONCRETIZATION_ADVICE, LEAK_ADVICE, ConcretizationError, TracerLeakError
from minigrad.core.ir import ShapedArray

__all__ = [
    "Trace",
    "Tracer",
    "bind",
    "new_trace",
    "current_depth",
    "get_aval",
    "is_tracer",
    "register_tracer_methods",
    "user_source_line",
]

_trace_stack: contextvars.ContextVar[tuple] = contextvars.ContextVar("minigrad_trace_stack", default=())


def current_depth() -> int:
    """How many transforms are active in this context."""
    return len(_trace_stack.get())


class Trace:
    """Base class of the interpreters that process primitives on tracers."""

    def __init__(self, level: int):
        self.level = level
        self.active = True

    def process_primitive(self, primitive, args, params):
        raise NotImplementedError  # every concrete trace overrides this

    def concrete_value(self, tracer: Tracer, operation: str):
        """The value behind ``tracer`` if this trace knows it; else raise."""
        raise ConcretizationError(
            f"{operation} needs a concrete value, but got a traced array {tracer.aval}. "
            + CONCRETIZATION_ADVICE
        )

    def __repr__(self):
        return f"{type(self).__name__}(level={self.level})"


@contextmanager
def new_trace(trace_type, *args, **kwargs) -> Iterator[Trace]:
    """Push a trace one level above the current innermost one; retire it on exit."""
    stack = _trace_stack.get()
    trace = trace_type(len(stack) + 1, *args, **kwargs)
    token = _trace_stack.set((*stack, trace))
    try:
        yield trace
    finally:
        trace.active = False
        _trace_stack.reset(token)


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

    def __float__(self):
        return float(self._concrete("float()"))

    def __complex__(self):
        return complex(self._concrete("complex()"))

    def __index__(self):
        return int(self._concrete("using an array as a Python index"))

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"A traced array {self.aval} cannot be turned into a NumPy array: NumPy would "
            "compute on it without the transform seeing it. Use the functions of "
            "`minigrad.numpy` (import minigrad.numpy as mnp) instead of `numpy` inside "
            "transformed functions."
        )

    def __repr__(self):
        return f"{type(self).__name__}<{self.aval}>"


def register_tracer_methods(methods: dict) -> None:
    """Install operators and methods (``__add__``, ``sum``, ...) on every tracer."""
    for name, method in methods.items():
        setattr(Tracer, name, method)


def is_tracer(x) -> bool:
    return isinstance(x, Tracer)


# Abstract values are immutable and compared by value, so one instance per (shape, dtype)
# serves every array: creating them was a measurable part of each primitive's cost.
_AVALS: dict = {}


def _interned_aval(shape, dtype) -> ShapedArray:
    aval = _AVALS.get((shape, dtype))
    if aval is None:
        if len(_AVALS) > 10_000:
            _AVALS.clear()
        aval = _AVALS[(shape, dtype)] = ShapedArray(shape, dtype)
    return aval


def get_aval(x) -> ShapedArray:
    """The abstract value of a tracer, array or scalar."""
    if type(x) is np.ndarray:
        return _interned_aval(x.shape, x.dtype)
    if isinstance(x, Tracer):
        return x.aval
    x = np.asarray(x)
    return _interned_aval(x.shape, x.dtype)


def bind(primitive, *args, **params):
    """Apply ``primitive`` to ``args``: through the innermost trace, or with NumPy."""
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
        return evaluate(primitive, args, params)
    if primitive.replay is not None:
        # A call primitive (jit) under any transform: its body is transformed instead.
        return primitive.replay(*args, **params)
    return top.process_primitive(primitive, args, params)


def evaluate(primitive, args, params):
    """Run a primitive's NumPy implementation, with clear errors for bad shapes."""
    try:
        out = primitive.impl(*args, **params)
    except Exception:
        # NumPy's messages do not name our operation; the shape rule's do. If the shape
        # rule finds nothing wrong, NumPy's own error stands.
        if primitive.shape_rule is not None:
            primitive.shape_rule(*(get_aval(a) for a in args), **params)
        raise
    if primitive.multiple_results:
        return [o if type(o) is np.ndarray else np.asarray(o) for o in out]
    return out if type(out) is np.ndarray else np.asarray(out)


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def user_source_line(skip_package: str = _PACKAGE_DIR) -> str | None:
    """``file:line`` of the innermost stack frame outside minigrad (the user's code)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(skip_package) or os.sep + "examples" + os.sep in filename:
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return None
