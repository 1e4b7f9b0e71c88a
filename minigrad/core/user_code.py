"""Which frames of the stack are the user's, and errors that name the user's line.

Shape and dtype errors end with the ``file:line`` of the user's code that made the
failing call. Finding that line means walking the stack (or a traceback) past
minigrad's own frames and NumPy's, so it is done only when an error is raised, or when a
staging trace writes an equation's source down. While a backward pass transposes an
equation, the equations it emits belong to the line that made that equation
(``set_equation_source``).

Example:
    >>> error = ValueError("add: shapes (2,) and (3,) cannot be broadcast")
    >>> mention_user_line(error, "model.py:7")
    >>> str(error)
    'add: shapes (2,) and (3,) cannot be broadcast (at model.py:7)'
"""

from __future__ import annotations

import contextvars
import math
import os
import sys

import numpy as np

from minigrad.core.call_site import callee_of_current_call
from minigrad.core.errors import NUMPY_ON_TRACER_ADVICE

__all__ = [
    "USER_ERRORS",
    "user_source_line",
    "equation_source",
    "set_equation_source",
    "reset_equation_source",
    "mention_user_line",
    "errors_point_at_user_code",
    "math_function_called",
]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


_EXAMPLES_PART = os.sep + "examples" + os.sep

# The errors that mean "this call does not fit these shapes or types".
USER_ERRORS = (TypeError, ValueError, IndexError)


# NumPy's own Python code is not the user's either: `np.sum(tracer)` runs NumPy's
# fromnumeric.py, which calls the tracer's method; the user's line is the one above.
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__)) + os.sep


def _inside_minigrad(filename: str, package: str = _PACKAGE_DIR) -> bool:
    # The bundled examples are user code that happens to ship with the package.
    return (filename.startswith(package) and _EXAMPLES_PART not in filename) or filename.startswith(
        _NUMPY_DIR
    )


# Staging asks for the user's line once per equation, walking several frames each time:
# the answer for each file name is remembered.
_FILE_IS_INSIDE: dict[str, bool] = {}


def user_source_line(skip_package: str = _PACKAGE_DIR) -> str | None:
    """``file:line`` of the innermost stack frame outside minigrad (the user's code)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if skip_package is _PACKAGE_DIR:
            inside = _FILE_IS_INSIDE.get(filename)
            if inside is None:
                if len(_FILE_IS_INSIDE) > 10_000:
                    _FILE_IS_INSIDE.clear()
                inside = _FILE_IS_INSIDE[filename] = _inside_minigrad(filename)
        else:
            inside = _inside_minigrad(filename, skip_package)
        if not inside:
            # Interned: a long program made by one loop shares a few strings.
            return sys.intern(f"{filename}:{frame.f_lineno}")
        frame = frame.f_back
    return None


# While a backward pass transposes an equation, the equations it emits belong to the
# user's line that made the original one, not to the line that called `grad`.
_equation_source: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "minigrad_equation_source", default=None
)


def set_equation_source(source: str) -> contextvars.Token:
    """Attribute equations made from now on to ``source``; undo with ``reset_equation_source``."""
    return _equation_source.set(source)


def reset_equation_source(token: contextvars.Token) -> None:
    _equation_source.reset(token)


def equation_source(locate=user_source_line) -> str | None:
    """Where a new equation comes from: the equation being transposed, or the user's line
    (found by ``locate``: staging's also finds the chain of calls that made it).

    Example:
        >>> token = set_equation_source("model.py:3")
        >>> equation_source()
        'model.py:3'
        >>> reset_equation_source(token)
    """
    return _equation_source.get() or locate()


def _user_call_site(error: BaseException) -> str | None:
    """``file:line`` of the innermost call from user code into minigrad in a traceback.

    None when the error never entered minigrad from user code (the user's own ``raise``).
    """
    site = None
    previous = None
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        inside = _inside_minigrad(filename)
        if inside and previous is not None:
            site = previous
        previous = None if inside else f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return site


def mention_user_line(error: BaseException, line: str | None) -> None:
    """Append ``(at file:line)`` to ``error``'s message, once.

    Example:
        >>> error = ValueError("mul: shapes (2,) and (3,) cannot be broadcast")
        >>> mention_user_line(error, "model.py:7")
        >>> mention_user_line(error, "model.py:7")
        >>> str(error)
        'mul: shapes (2,) and (3,) cannot be broadcast (at model.py:7)'
    """
    if line is None or not error.args or not isinstance(error.args[0], str):
        return
    if line in error.args[0]:
        return
    error.args = (f"{error.args[0]} (at {line})", *error.args[1:])


def errors_point_at_user_code() -> _ErrorsPointAtUserCode:
    """Transforms run user functions inside this: shape and type errors raised by
    minigrad while the function runs name the user's line that made the failing call.

    Example:
        >>> import numpy as np
        >>> from minigrad.ops.elementwise import add
        >>> try:
        ...     with errors_point_at_user_code():
        ...         add(np.ones(2), np.ones(3))
        ... except ValueError as error:
        ...     print("(at <doctest" in str(error))
        True
    """
    return _ERRORS_POINT_AT_USER_CODE


class _ErrorsPointAtUserCode:
    """The ``with`` block of ``errors_point_at_user_code``. A class rather than a
    ``contextlib.contextmanager`` generator, which costs every transform call about three
    times the Python calls; it holds no state, so one instance serves every block."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, error_type, error, traceback) -> bool:
        if isinstance(error, USER_ERRORS):
            site = _user_call_site(error)
            if site is None and _is_numpy_refusing_a_tracer(error):
                error.args = (f"{error.args[0]}. {NUMPY_ON_TRACER_ADVICE}", *error.args[1:])
                site = _innermost_user_frame(error)
            mention_user_line(error, site)
        return False  # the error, if any, propagates


_ERRORS_POINT_AT_USER_CODE = _ErrorsPointAtUserCode()


def _is_numpy_refusing_a_tracer(error: BaseException) -> bool:
    # NumPy's ufuncs refuse tracers (they set __array_ufunc__ = None so that NumPy defers
    # to their operators); its message names the tracer's class but not the remedy.
    message = error.args[0] if error.args and isinstance(error.args[0], str) else ""
    return isinstance(error, TypeError) and "does not support ufuncs" in message and "Tracer" in message


def _innermost_user_frame(error: BaseException) -> str | None:
    site = None
    tb = error.__traceback__
    while tb is not None:
        if not _inside_minigrad(tb.tb_frame.f_code.co_filename):
            site = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return site


def math_function_called() -> str | None:
    """The name of the `math` function the user's code is calling right now, if any.

    Asked only when an error is about to be raised: it reads the call expression at the
    user's frame's current instruction and resolves its callee (a name, or a dotted
    name through modules), so `import math as m; m.tanh(x)` is recognised too.
    """
    frame = _user_frame()
    if frame is None:
        return None
    callee = callee_of_current_call(frame)
    if callee is None:
        return None
    if getattr(math, getattr(callee, "__name__", ""), None) is callee:
        return callee.__name__
    return None


def _user_frame():
    frame = sys._getframe(1)
    while frame is not None and _inside_minigrad(frame.f_code.co_filename):
        frame = frame.f_back
    return frame
