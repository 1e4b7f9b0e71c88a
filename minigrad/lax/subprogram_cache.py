"""Sub-programs interned by structure: why an eager loop compiles its body once.

An eager ``scan`` (or ``fori_loop``, ``while_loop``, ``cond``, ``map``) stages its body
on every call, and it must: only running a Python function says what it computes now.
The body may close over an array that was rebound or written into since, a Python
number, a global, an attribute of a mutable object; a cache keyed on the function
object would replay a stale program for all of those. What is sound to reuse is
everything *after* staging. So each freshly staged program is looked up by its
structure: the types of its inputs, each equation's primitive, which variables it reads,
its params and the user's line it came from, the bytes of every literal written into it,
and which variables it returns. Two programs of equal structure compute the same
function of their inputs, and the arrays a body closes over are inputs (``stage_program``
makes them leading inputs), passed afresh at every call, so they are never stale.

A program met before is replaced by the object staged first. Then every cache keyed by
program object further down finds its entry again: the compiled body
(``subprograms.compiled``), the reverse-mode split of a loop body, its JVP and batched
bodies, its unrolled copies. A closed-over Python *number* is a literal of the program,
so a new value is a new structure and compiles again (still correct); an array operand
does not.

The table is a least-recently-used one of ``MAX_PROGRAMS`` entries. An entry holds a
program (equations and scalar literals, no closed-over array) and, through the caches
keyed by it, its compiled code. A program whose params cannot be compared by value (an
array among them) is not interned: it compiles once per object, as before.

Example:
    >>> import numpy as np
    >>> from minigrad.core.ir import ShapedArray
    >>> from minigrad.lax.subprograms import stage_program
    >>> f64 = ShapedArray((), np.float64)
    >>> def staged(w):
    ...     return stage_program(lambda x: [x * w], [f64])
    >>> staged(np.ones(3)).jaxpr is staged(np.zeros(3)).jaxpr  # an array is an input
    True
    >>> staged(2.0).jaxpr is staged(3.0).jaxpr  # a number is a literal of the program
    False
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import numpy as np

from minigrad.core.ir import Jaxpr, Literal, ShapedArray, Var

__all__ = ["MAX_PROGRAMS", "intern_program", "program_structure", "clear", "size"]

# Eager loops in one program rarely have more distinct bodies than this; an evicted body
# is only staged and compiled again at its next call.
MAX_PROGRAMS = 256


class _NotComparableError(Exception):
    """A program part that cannot be compared by value (the program is not interned)."""


def _aval_key(aval: ShapedArray) -> tuple:
    # Weakness is not part of ShapedArray equality, but transforms that re-stage a
    # program from its variables' types promote by it, so it is part of the structure.
    return (aval.shape, aval.dtype, aval.weak_type)


def _literal_key(literal: Literal) -> tuple:
    value = np.asarray(literal.val)
    if value.dtype.hasobject:
        raise _NotComparableError(literal)
    # Bytes, not ==: -0.0 and 0.0 are different programs, and NaN equals NaN.
    return ("literal", _aval_key(literal.aval), value.dtype, value.shape, value.tobytes())


def _param_key(value):
    """``value`` as a hashable key that is equal only for params that act alike."""
    if type(value) is Jaxpr:
        return ("program", _structure_of(value))
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(_param_key(item) for item in value))
    if isinstance(value, ShapedArray):
        return ("aval", _aval_key(value))
    if isinstance(value, (float, complex, np.generic)):
        # Bit patterns: 1.0 == True == 1 and -0.0 == 0.0 in Python, not in a program.
        return (type(value), np.asarray(value).tobytes())
    if isinstance(value, np.ndarray):
        raise _NotComparableError(value)
    try:
        hash(value)
    except TypeError as error:
        raise _NotComparableError(value) from error
    # The type too: equal values of different types (1 and True) may act differently.
    return (type(value), value)


def _structure_of(jaxpr: Jaxpr) -> tuple:
    known = _STRUCTURE_OF_INTERNED.get(jaxpr)
    if known is not None:
        return known
    numbers: dict[Var, int] = {}

    def bind(var: Var) -> tuple:
        numbers[var] = len(numbers)
        return _aval_key(var.aval)

    def read(atom):
        if type(atom) is Var:
            if atom not in numbers:  # a free variable: its meaning is outside the program
                raise _NotComparableError(atom)
            return numbers[atom]
        return _literal_key(atom)

    inputs = tuple([bind(var) for var in (*jaxpr.constvars, *jaxpr.invars)])
    eqns = []
    for eqn in jaxpr.eqns:
        reads = tuple([read(atom) for atom in eqn.invars])
        # Most equations have no params; sorted by name, since a dict's order is not its meaning.
        params = (
            tuple(sorted([(name, _param_key(value)) for name, value in eqn.params.items()]))
            if eqn.params
            else ()
        )
        results = tuple([bind(var) for var in eqn.outvars])
        # The user's line too: errors raised by the compiled body name it.
        eqns.append((eqn.primitive, reads, params, results, eqn.source))
    return (len(jaxpr.constvars), inputs, tuple(eqns), tuple([read(atom) for atom in jaxpr.outvars]))


def program_structure(jaxpr: Jaxpr) -> tuple | None:
    """A hashable key equal for programs that compute alike, or None if a param of
    ``jaxpr`` cannot be compared by value.

    Variables are numbered in the order they are bound, so two stagings of one function
    (with fresh variables) have the same key.

    Example:
      >>> import numpy as np
      >>> from minigrad.lax.subprograms import stage_program
      >>> f64 = ShapedArray((), np.float64)
      >>> def key(fun):
      ...     return program_structure(stage_program(fun, [f64]).jaxpr)
      >>> key(lambda x: [x + 1.0]) == key(lambda x: [x + 1.0])  # on one line: one key
      True
      >>> key(lambda x: [x + 1.0]) == key(lambda x: [x + 2.0])
      False
    """
    try:
        return _structure_of(jaxpr)
    except _NotComparableError:
        return None


_INTERNED: OrderedDict = OrderedDict()  # structure -> the first program staged with it
# The key of each interned program, so that interning it again (or a program holding it
# as a param) does not walk it again. Weak: an evicted program still in use keeps it.
_STRUCTURE_OF_INTERNED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def intern_program(jaxpr: Jaxpr) -> Jaxpr:
    """The program of ``jaxpr``'s structure met first (``jaxpr`` itself if it is new).

    Example:
      >>> import numpy as np
      >>> f64 = ShapedArray((), np.float64)
      >>> x, y = Var(f64), Var(f64)
      >>> first = intern_program(Jaxpr((), [x], [], [x]))
      >>> intern_program(Jaxpr((), [y], [], [y])) is first
      True
    """
    if jaxpr in _STRUCTURE_OF_INTERNED:
        return jaxpr
    key = program_structure(jaxpr)
    if key is None:
        return jaxpr
    with _LOCK:
        known = _INTERNED.get(key)
        if known is not None:
            _INTERNED.move_to_end(key)
            return known
        _INTERNED[key] = jaxpr
        _STRUCTURE_OF_INTERNED[jaxpr] = key
        while len(_INTERNED) > MAX_PROGRAMS:
            _INTERNED.popitem(last=False)
    return jaxpr


def clear() -> None:
    """Forget every interned program: the next staging of each body compiles afresh.

    For tests that change how bodies compile (``fusion_tier.TIER_UP_CALLS``).

    Example:
      >>> clear()
      >>> size()
      0
    """
    with _LOCK:
        _INTERNED.clear()
        _STRUCTURE_OF_INTERNED.clear()


def size() -> int:
    """How many programs are interned (at most ``MAX_PROGRAMS``).

    Example:
      >>> size() <= MAX_PROGRAMS
      True
    """
    return len(_INTERNED)
