"""The calls that made an equation: the user's frames from the staged function inward.

A picture of a model reads best layer by layer: one box per function the user called
(or per ``nn`` layer), holding the equations that call made. So while staging, each
equation remembers the chain of calls it was made in, outermost first: the user's own
frames, and the frames of library functions that count as calls of their own (the
layers and functions of ``minigrad.nn``, which register here). Everything else of the
library is left out, as is everything outside the staged function.

A chain is a tuple of ``Call`` records holding a code object, a line number, a number
that tells two calls of one function apart, and a label (or ``None``: the function's
name). Nothing is formatted while tracing; the chain rides on the equation's source
line (``SourceLine``), so every interpreter that hands a source line on (the backward
pass, ``vmap``) hands the chain on too.

Example:
    >>> import sys
    >>> def helper():
    ...     return recorder.chain()
    >>> def staged():
    ...     return helper()
    >>> def stage(fun):  # as staging does: the walk stops at this frame
    ...     global recorder
    ...     recorder = CallRecorder(sys._getframe())
    ...     return fun()
    >>> [call.name for call in stage(staged)]
    ['staged', 'helper']
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Callable

import attrs

from minigrad.core.trace import user_source_line

__all__ = ["Call", "CallRecorder", "SourceLine", "count_calls_into", "label_calls_of", "calls_of"]


@attrs.frozen
class Call:
    """One frame of a chain: its function's ``code``, the ``line`` it was at, a
    ``call_id`` that differs between two calls of the same function, and a ``label``
    that replaces the function's name where a library gives one (``Sequential[2]``)."""

    code: types.CodeType
    line: int
    call_id: int
    label: str | None = None

    @property
    def name(self) -> str:
        """What the call is drawn as: the label, or ``Class`` for a method ``Class.apply``."""
        if self.label is not None:
            return self.label
        # A function defined inside another is named as it is written, without its host.
        qualname = self.code.co_qualname.rpartition("<locals>.")[2]
        owner, _, method = qualname.rpartition(".")
        if owner and method in ("apply", "__call__"):
            return owner
        return qualname


class SourceLine(str):
    """A ``file:line`` string that also carries the chain of calls (``calls``) that made
    the equation.

    Example:
        >>> line = SourceLine("model.py:3", ())
        >>> line == "model.py:3", line.calls
        (True, ())
    """

    def __new__(cls, line: str, calls: tuple):
        text = super().__new__(cls, line)
        text.calls = calls
        return text

    def __reduce__(self):
        # Code objects do not pickle; a pickled program keeps the plain line.
        return (str, (str(self),))


def calls_of(source) -> tuple:
    """The chain of calls an equation's ``source`` carries (``()`` when it has none).

    Example:
        >>> calls_of("model.py:3"), calls_of(None)
        ((), ())
    """
    return getattr(source, "calls", ())


# Library modules whose public functions count as calls (``minigrad.nn.``).
_CALL_PACKAGES: list[str] = []
# Code of these modules is the library's own: minigrad's (but for the bundled examples,
# which are user code that ships with it) and NumPy's (``np.sum(tracer)`` runs NumPy's
# Python code, which calls the tracer's method).
_LIBRARY_MODULES = ("minigrad.", "numpy.")
_USER_MODULES_INSIDE = ("minigrad.examples.",)


def _is_library_code(code: types.CodeType, module: str) -> bool:
    # Code without a file of its own (a doctest's, an interactive session's) is the user's.
    return (
        module.startswith(_LIBRARY_MODULES)
        and not module.startswith(_USER_MODULES_INSIDE)
        and not code.co_filename.startswith("<")
    )


# Per code object: how a frame of it counts: a call of the user's, a call into a library,
# hidden (the library's own workings), or a comprehension of the user's (its line is the
# user's line, but it is no call of its own).
_USER, _LIBRARY_CALL, _HIDDEN, _USER_COMPREHENSION = 0, 1, 2, 3
_COMPREHENSIONS = frozenset({"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>"})
# Keyed by id(): a code object computes its hash from all its contents on every call,
# which cost more than the rest of the walk. The codes are held, so no id is reused.
_KIND_OF_CODE: dict[int, int] = {}
_CODES_HELD: list[types.CodeType] = []
# Code objects (by id, and held) whose frames are labelled by a function of the frame
# (``Sequential.apply``).
_LABELERS: dict[int, Callable] = {}
# Code objects (by id, and held) whose frames' chains are not remembered by instruction:
# a labelled frame changes its label at one instruction, and a generator is resumed by
# whichever caller asks for its next item.
_NOT_REMEMBERED: set[int] = set()
_GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
# Code objects of plumbing that is never a call of its own (``apply_layer``).
_PLUMBING: set[types.CodeType] = set()
# The ``__call__`` code of the public classes of those packages: an instance called as a
# function is a public call, although its method's name is a private-looking one.
_PUBLIC_CALL_METHODS: set[types.CodeType] = set()


def count_calls_into(package: str, plumbing=()) -> None:
    """Make calls of the public functions of ``package`` and its modules count as calls
    of their own (boxes in a picture), except the ``plumbing`` functions given.

    Example:
        >>> count_calls_into("minigrad.nn")  # what the layer library does
    """
    _CALL_PACKAGES.append(package + ".")
    _PLUMBING.update(function.__code__ for function in plumbing)
    _PUBLIC_CALL_METHODS.update(_call_methods_of_public_classes(sys.modules[package]))
    _KIND_OF_CODE.clear()


def _call_methods_of_public_classes(module) -> list[types.CodeType]:
    public = getattr(module, "__all__", [name for name in vars(module) if not name.startswith("_")])
    classes = [value for value in map(vars(module).get, public) if isinstance(value, type)]
    # The classes' own `__call__` only: one inherited from outside the package is not theirs.
    calls = [vars(cls).get("__call__") for cls in classes]
    return [call.__code__ for call in calls if isinstance(call, types.FunctionType)]


def label_calls_of(function, labeler: Callable) -> None:
    """Label each call in ``function`` by ``labeler(frame)``, read while it runs.

    Example:
        >>> def run_layers():
        ...     pass
        >>> label_calls_of(run_layers, lambda frame: "layers")
    """
    _LABELERS[id(function.__code__)] = labeler
    _NOT_REMEMBERED.add(id(function.__code__))
    _CODES_HELD.append(function.__code__)
    _KIND_OF_CODE.pop(id(function.__code__), None)


def _kind(code: types.CodeType, module: str) -> int:
    if code.co_flags & _GENERATOR_FLAGS:
        _NOT_REMEMBERED.add(id(code))
    if not _is_library_code(code, module):
        return _USER_COMPREHENSION if code.co_name in _COMPREHENSIONS else _USER
    if id(code) in _LABELERS:
        return _LIBRARY_CALL
    public = code.co_name[0] not in "_<" or code in _PUBLIC_CALL_METHODS
    if public and code not in _PLUMBING and module.startswith(tuple(_CALL_PACKAGES)):
        return _LIBRARY_CALL
    return _HIDDEN


class CallRecorder:
    """Reads the chain of calls at each new equation of one staging run.

    ``entry`` is the frame that started the staging: the walk stops there, so the calls
    that led to ``make_jaxpr`` or ``jit`` are not part of the program's chains. The
    frames met are held until the run ends, so that no frame's ``id`` is reused by a
    later call while the run lasts: that is what tells two calls of one function apart.

    The walk is paid for once per call site, not once per equation: a frame suspended
    at one instruction has the same chain around it every time (its callers are
    suspended too), so the chain up to each held frame is remembered by the frame and
    its instruction, and the walk stops at the first frame it knows.
    """

    def __init__(self, entry):
        self._entry = entry
        self._call_ids: dict[int, int] = {}
        self._held: list = []
        # (id(frame), instruction) -> [chain up to that frame, innermost user (code, line),
        # the source line made there, once made]
        self._known: dict[tuple, list] = {}

    def _walk(self) -> tuple[tuple, tuple | None, list | None]:
        """The chain of ``Call`` records, the innermost user frame's (code, line), and
        the remembered entry of the innermost frame (``[chain, user, source line]``),
        where that frame is remembered."""
        pending = []  # frames not known yet, innermost first
        prefix, user, innermost = (), None, None
        frame = sys._getframe(2)
        entry, kinds, known = self._entry, _KIND_OF_CODE, self._known
        while frame is not entry:
            if frame is None:  # not below the entry (a tracer used after its run): no chain
                return (), None, None
            code = frame.f_code
            kind = kinds.get(id(code))
            if kind is None:
                kind = kinds[id(code)] = _kind(code, frame.f_globals.get("__name__") or "")
                _CODES_HELD.append(code)
            if kind != _HIDDEN:
                if kind != _USER_COMPREHENSION and id(code) not in _NOT_REMEMBERED:
                    hit = known.get((id(frame), frame.f_lasti))
                    if hit is not None:
                        prefix, user = hit[0], hit[1]
                        innermost = hit if not pending else None
                        break
                pending.append((frame, kind))
            frame = frame.f_back
        for frame, kind in reversed(pending):
            code = frame.f_code
            innermost = None
            if kind == _USER_COMPREHENSION:
                user = (code, frame.f_lineno)
                continue
            call_id = self._call_ids.get(id(frame))
            if call_id is None:
                call_id = self._call_ids[id(frame)] = len(self._held)
                self._held.append(frame)
            labeler = _LABELERS.get(id(code))
            prefix = (
                *prefix,
                Call(code, frame.f_lineno, call_id, None if labeler is None else labeler(frame)),
            )
            if kind == _USER:
                user = (code, frame.f_lineno)
            if id(code) not in _NOT_REMEMBERED:
                innermost = known[id(frame), frame.f_lasti] = [prefix, user, None]
        return prefix, user, innermost

    def chain(self) -> tuple:
        """The chain of calls at the caller's point of execution, outermost first."""
        return self._walk()[0]

    def source_line(self) -> str | None:
        """The user's ``file:line`` that makes an equation now, carrying the chain of
        calls. Where no user frame lies inside the staged function (``make_jaxpr`` of a
        library function), the line is the one that called it. The equations made at
        one point of the program share one object."""
        calls, user, innermost = self._walk()
        if innermost is not None and innermost[2] is not None:
            return innermost[2]
        if user is None:
            line = user_source_line()
            return SourceLine(line, calls) if line is not None and calls else line
        code, line = user
        source = SourceLine(f"{code.co_filename}:{line}", calls)
        if innermost is not None:
            innermost[2] = source
        return source

    def release(self) -> None:
        """Let go of the frames (the run has ended)."""
        self._held.clear()
        self._call_ids.clear()
        self._known.clear()
