"""Lowerings: how a primitive says which NumPy code computes it in a compiled program.

``jit`` compiles a program to straight-line Python. Each equation becomes one statement
whose right-hand side the primitive's *lowering rule* writes::

    rule(ctx, *args, **params) -> Code

``args`` are the Python expressions of the operands (names of variables or constants),
``params`` the equation's params, and ``ctx`` the compiler's ``LoweringContext``:
``ctx.constant(value, hint)`` puts a Python object (a function, a dtype, an index) in
the generated code's namespace and returns a safe name for it, and ``ctx.ufunc(...)``
writes a NumPy ufunc call that may reuse a dead operand's buffer (``out=``).

A ``Code`` also says how its result relates to memory, which the compiler needs to
reuse buffers safely and to never return an array that aliases an input:

- ``FRESH``: a new array the program owns (its buffer may be written into later);
- ``VIEW``: may share operand 0's buffer (a reshape, a basic slice);
- ``READ_ONLY_VIEW``: a read-only view of operand 0 (``np.broadcast_to``);
- ``UNKNOWN``: made by code the compiler cannot see into; may be (a view of) any operand.

Primitives without a rule of their own (a user's primitive, say) are lowered by
``lower_by_impl``: their ``impl`` is called with the params bound in advance, so jit
always computes what eager evaluation computes.

Example:
    >>> import numpy as np
    >>> rule = lower_ufunc(np.add, "{0} + {1}")
    >>> rule.__name__
    'add_lowering'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Protocol

import attrs

__all__ = [
    "Code",
    "FRESH",
    "VIEW",
    "READ_ONLY_VIEW",
    "UNKNOWN",
    "LoweringContext",
    "lower_ufunc",
    "lower_by_impl",
    "safe_identifier",
]

FRESH = "fresh"
VIEW = "view"
READ_ONLY_VIEW = "read-only view"
UNKNOWN = "unknown"


@attrs.frozen
class Code:
    """The right-hand side of one compiled statement and what its result's buffer is.

    ``written_operand`` is the position of the operand whose (dead) buffer the code
    writes its result into, if any (a ufunc called with ``out=``).
    """

    source: str
    buffer: str = UNKNOWN
    written_operand: int | None = None


class LoweringContext(Protocol):
    """What the compiler offers a lowering rule (see the module docstring)."""

    primitive: object
    in_avals: tuple
    out_avals: tuple

    def constant(self, value, hint: str = "k") -> str:
        """A name bound to ``value`` in the generated code's namespace."""

    def ufunc(self, ufunc, args, operator: str | None = None) -> Code:
        """A call of ``ufunc`` on ``args``, writing into a dead operand where it may."""

    def reusable_operand(self, count: int) -> int | None:
        """The position, among the first ``count`` operands, of one whose buffer is the
        program's own, dead after this equation and of the result's type (the code may
        write its result there and say so with ``Code.written_operand``), or None."""


_NOT_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]")


def safe_identifier(hint: str) -> str:
    """``hint`` reduced to ASCII letters, digits and ``_``, starting with ``_``.

    Names in generated source come from this, never from a user's string as it is: a
    primitive named ``"add-one"`` or ``"x); import os; ("`` gives a harmless name.

    Example:
      >>> safe_identifier("add-one"), safe_identifier("x); import os; (")
      ('_add_one', '_x___import_os___')
    """
    return "_" + _NOT_IDENTIFIER.sub("_", str(hint))


def lower_ufunc(ufunc, operator: str | None = None) -> Callable:
    """The lowering rule of an elementwise primitive whose impl is the NumPy ``ufunc``.

    ``operator`` (``"{0} + {1}"``) is the faster spelling used when no buffer is reused.

    Example:
      >>> import numpy as np
      >>> lower_ufunc(np.sin).__name__
      'sin_lowering'
    """

    def ufunc_lowering(ctx, *args, **params):
        return ctx.ufunc(ufunc, args, operator)

    ufunc_lowering.__name__ = f"{ufunc.__name__}_lowering"
    ufunc_lowering.__qualname__ = ufunc_lowering.__name__
    return ufunc_lowering


def lower_by_impl(ctx, *args, **params) -> Code:
    """Call the primitive's own ``impl`` with its params bound in advance.

    The result is ``UNKNOWN``: an implementation may return (a view of) an operand.

    Example:
      >>> from minigrad.core.primitive import Primitive
      >>> Primitive("double-it", register=False).lowering is None  # lowered by its impl
      True
    """
    impl = ctx.primitive.impl
    bound = functools.partial(impl, **params) if params else impl
    name = ctx.constant(bound, ctx.primitive.name)
    return Code(f"{name}({', '.join(args)})", UNKNOWN)
