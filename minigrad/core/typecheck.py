"""A checker for programs: the invariants every transform must preserve.

- every variable is bound exactly once, before it is used;
- every equation's output types are what its primitive's shape rule says;
- the program's outputs are bound;
- programs held by equations (loop bodies, branches) satisfy all of this too.

Tests run it on the programs transforms produce, so a rule that emits a wrongly shaped
equation fails at the equation that is wrong, not three transforms later.

Example:
    >>> import numpy as np
    >>> from minigrad.core.staging import stage_flat
    >>> from minigrad.core.ir import ShapedArray
    >>> typecheck(stage_flat(lambda x: [x], [ShapedArray((), np.float32)]).jaxpr)
"""

from __future__ import annotations

from minigrad.core.ir import ClosedJaxpr, Jaxpr, Literal, Var
from minigrad.core.trace import get_aval

__all__ = ["typecheck", "JaxprTypeError"]


class JaxprTypeError(TypeError):
    """A program broke one of the invariants above."""


def typecheck(jaxpr: Jaxpr | ClosedJaxpr) -> None:
    """Raise ``JaxprTypeError`` naming the first equation that breaks an invariant."""
    if isinstance(jaxpr, ClosedJaxpr):
        for var, const in zip(jaxpr.jaxpr.constvars, jaxpr.consts, strict=True):
            if get_aval(const) != var.aval:
                raise JaxprTypeError(f"constant of type {get_aval(const)} bound to {var.aval}")
        jaxpr = jaxpr.jaxpr
    bound: set[int] = set()

    def bind_var(var, where):
        if not isinstance(var, Var):
            raise JaxprTypeError(f"{where}: expected a variable, got {var!r}")
        if id(var) in bound:
            raise JaxprTypeError(f"{where}: variable {var!r} is bound twice")
        bound.add(id(var))

    def check_atom(atom, where):
        if isinstance(atom, Literal):
            if get_aval(atom.val) != atom.aval:
                raise JaxprTypeError(f"{where}: literal {atom!r} has a value of type {get_aval(atom.val)}")
        elif id(atom) not in bound:
            raise JaxprTypeError(f"{where}: variable {atom!r} is used before it is bound")

    for var in (*jaxpr.constvars, *jaxpr.invars):
        bind_var(var, "inputs")
    for i, eqn in enumerate(jaxpr.eqns):
        where = f"equation {i} ({eqn.primitive.name})"
        for atom in eqn.invars:
            check_atom(atom, where)
        expected = eqn.primitive.shape_rule(*(atom.aval for atom in eqn.invars), **eqn.params)
        expected = list(expected) if eqn.primitive.multiple_results else [expected]
        actual = [v.aval for v in eqn.outvars]
        if expected != actual:
            raise JaxprTypeError(f"{where}: outputs are typed {actual} but the shape rule gives {expected}")
        for var in eqn.outvars:
            bind_var(var, where)
        _check_subprograms(eqn, where)
    for atom in jaxpr.outvars:
        check_atom(atom, "outputs")


def _check_subprograms(eqn, where: str) -> None:
    """Programs an equation holds (a loop body, branches) satisfy the invariants too."""
    for key, value in eqn.params.items():
        for program in value if isinstance(value, tuple) else (value,):
            if isinstance(program, (Jaxpr, ClosedJaxpr)):
                try:
                    typecheck(program)
                except JaxprTypeError as error:
                    raise JaxprTypeError(f"{where}, in its sub-program {key}: {error}") from None
