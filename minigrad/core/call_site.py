"""Which function a Python frame is calling right now, read from its source.

``math.tanh(x)`` calls ``x.__float__()`` from C, so inside ``__float__`` nothing says
which function asked. The caller's frame knows: its current instruction is the call,
and the code object maps each instruction to the source columns of its expression.
This is read only when an error is about to be raised, so it costs nothing otherwise.

Example:
    >>> import math, sys
    >>> class Number:
    ...     def __float__(self):
    ...         return float(callee_of_current_call(sys._getframe(1)) is math.tanh)
    >>> math.tanh(Number()) == math.tanh(1.0)
    True
"""

from __future__ import annotations

import ast
import linecache
import types

__all__ = ["callee_of_current_call", "resolve_dotted"]


def callee_of_current_call(frame):
    """The object the frame is calling at its current instruction, or None."""
    try:
        positions = list(frame.f_code.co_positions())[frame.f_lasti // 2]
        first, last, start, end = positions
        lines = [linecache.getline(frame.f_code.co_filename, n) for n in range(first, last + 1)]
        lines[-1] = lines[-1].encode()[:end].decode()  # column offsets count UTF-8 bytes
        lines[0] = lines[0].encode()[start:].decode()
        call = ast.parse("".join(lines).strip(), mode="eval").body
    except (IndexError, TypeError, ValueError, SyntaxError):
        return None  # no position or no source (an interactive session, compiled code)
    if not isinstance(call, ast.Call):
        return None
    return resolve_dotted(call.func, frame)


def resolve_dotted(node, frame):
    """The object a name or dotted name through modules (``m.tanh``) stands for, or None."""
    if isinstance(node, ast.Name):
        for namespace in (frame.f_locals, frame.f_globals, frame.f_builtins):
            if node.id in namespace:
                return namespace[node.id]
        return None
    if isinstance(node, ast.Attribute):
        owner = resolve_dotted(node.value, frame)
        # Only modules: reading an attribute of another object could run its code.
        if isinstance(owner, types.ModuleType):
            return getattr(owner, node.attr, None)
    return None
