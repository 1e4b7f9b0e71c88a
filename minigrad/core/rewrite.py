"""Algebraic simplifications: what a primitive's rewrite rules receive and may return.

A primitive lists its rewrites in ``primitive.simplifications``; ``jit``'s ``simplify``
pass tries them on each of its equations, in order. A rule is::

    rule(eqn, producers) -> None | atom | Eqn | (eqns, atom)

``producers`` maps each variable defined so far to the (already simplified) equation
that made it, so a rule can look through its operands (``neg(neg(x))``). It returns
``None`` (no rewrite), an atom that replaces the equation's one result (``x * 1`` is
``x``), one equation computing the same result more cheaply, or new equations together
with the atom that then holds the result. A rewrite must keep the result's shape and
dtype, and must hold for every value (``x * 0`` is not ``0`` for ``inf``).

The helpers below are what rules are written with.

Example:
    >>> import numpy as np
    >>> from minigrad.core.ir import ShapedArray
    >>> one = literal(1.0, ShapedArray((), np.dtype("float32")))
    >>> is_uniform_literal(one, 1), str(one.aval)
    (True, 'f32[]')
"""

from __future__ import annotations

import numpy as np

from minigrad.core.dtypes import is_float_dtype
from minigrad.core.ir import Literal, ShapedArray, Var

__all__ = [
    "literal",
    "uniform_value",
    "is_uniform_literal",
    "is_scalar_literal",
    "passes_through",
    "operand_producer",
    "same_aval_operand",
]


def literal(value, aval: ShapedArray) -> Literal:
    """A literal holding ``value`` as an array of ``aval``'s dtype."""
    value = np.asarray(value, aval.dtype)
    return Literal(value, ShapedArray(value.shape, value.dtype))


def uniform_value(atom):
    """The single value every element of a literal holds, or None (also for NaN)."""
    if type(atom) is not Literal:
        return None
    value = np.asarray(atom.val)
    if value.size == 0:
        return None
    first = value.flat[0]
    if is_float_dtype(value.dtype) and np.isnan(first):
        return None
    if value.size > 1 and not np.all(value == first):
        return None
    return first


def is_uniform_literal(atom, number) -> bool:
    """Whether ``atom`` is a literal all of whose elements equal ``number``."""
    value = uniform_value(atom)
    return value is not None and bool(value == number)


def is_scalar_literal(atom, number) -> bool:
    """Whether ``atom`` is a one-element literal equal to ``number``."""
    value = uniform_value(atom)
    return value is not None and atom.aval.size == 1 and bool(value == number)


def passes_through(eqn, operand) -> bool:
    """Whether replacing ``eqn``'s result by ``operand`` keeps its shape and dtype."""
    return type(operand) is Var and operand.aval == eqn.outvars[0].aval


def operand_producer(eqn, producers, position: int = 0):
    """The equation that made operand ``position`` of ``eqn``, or None."""
    atom = eqn.invars[position]
    return producers.get(atom) if type(atom) is Var else None


def same_aval_operand(eqn, producers):
    """A rewrite rule: the operand itself when the result has its shape and dtype.

    For primitives that are the identity then (reshape to the same shape, a cast to the
    same dtype).
    """
    (x,) = eqn.invars
    return x if passes_through(eqn, x) else None
