"""Primitives: the named operations a program is made of, each with its table of rules.

A ``Primitive`` is a name plus the rules that say how each interpreter handles it:

- ``impl(*arrays, **params)``: compute the result with NumPy;
- ``shape_rule(*avals, **params)``: the output's ``ShapedArray`` (checking the inputs);
- ``vjp(argnum, ct, ans, *primals, **params)``: the cotangent of input ``argnum``;
- ``vjp_all(wanted, ct, ans, *primals, **params)`` (optional): the cotangents of every
  input at once, for rules that share work between inputs (a user's custom VJP);
- ``jvp(primals, tangents, ans, **params)``: the output tangent;
- ``batch(args, dims, **params)``: the result and its batch axis under ``vmap``;
- ``lowering(ctx, *arg_sources, **params)``: the NumPy code ``jit`` compiles it to (see
  ``lowering.py``; without one, the compiled code calls ``impl``);
- ``effectful``: the primitive does something besides computing its result (prints), so
  the passes keep it although nothing uses its result (``def_effectful``);
- ``simplifications``: rules ``rule(eqn, producers)`` that rewrite an equation of this
  primitive into something cheaper (see ``rewrite.py``; a primitive of several results
  returns the new equations and an atom for each result), and ``neutral_operands``, the
  value that makes an operand pass the other through (``x + 0``, ``x * 1``).

Everything is found through the object: the compiler, the passes and the caches never
look a primitive up by its name, which is only for printing (and need not be unique
among unregistered primitives).

Rules are written with traceable operations, so the programs a transform emits can be
transformed again. ``bind`` is defined in ``trace.py``: it hands the call to the right
trace.

Example:
    >>> import numpy as np
    >>> twice_p = Primitive("twice_example", register=False)
    >>> @twice_p.def_impl
    ... def twice_impl(x):
    ...     return 2 * x
    >>> twice_p.impl(np.ones(2))
    array([2., 2.])
"""

from __future__ import annotations

import pickle
from collections.abc import Callable

__all__ = ["Primitive", "all_primitives", "registered_primitive"]

_PRIMITIVES: dict[str, Primitive] = {}


class Primitive:
    """A named operation and its rules (see the module docstring)."""

    def __init__(self, name: str, multiple_results: bool = False, register: bool = True):
        self.name = name
        self.multiple_results = multiple_results
        self.impl: Callable | None = None
        self.shape_rule: Callable | None = None
        self.vjp: Callable | None = None  # also sets vjp_rules (the property below)
        self.vjp_all: Callable | None = None
        self.jvp: Callable | None = None
        self.batch: Callable | None = None
        self.lowering: Callable | None = None
        self.simplifications: list[Callable] = []
        # neutral_operands[i]: the number that, as operand i, leaves the other operand
        # unchanged (add: (0, 0); sub: (None, 0)); the passes drop such operations.
        self.neutral_operands: tuple = ()
        # A call primitive (``jit``) replays its body under every transform, so grad, jvp,
        # vmap and staging of it need no rules of their own.
        self.replay: Callable | None = None
        # Operations such as comparisons have no derivative; their VJP and JVP are zero.
        self.differentiable = True
        # A printing callback must run although no output uses its result.
        self.effectful = False
        # A VJP rule that looks at values, not only shapes (eigh's skips the terms of an
        # eigenvector cotangent that is all zeros): a backward plan, which stages the
        # rules once, would not follow it (see transforms/backward_plans.py).
        self.vjp_reads_values = False
        if register:
            if name in _PRIMITIVES:
                raise ValueError(f"a primitive named {name!r} is already registered")
            _PRIMITIVES[name] = self

    def __repr__(self):
        return self.name

    def __reduce__(self):
        # Pickled by name, so a worker process that unpickles a program or a function
        # closing over a primitive gets its own registered object: the compiler and the
        # passes compare primitives by identity, and a copy would silently miss them.
        if _PRIMITIVES.get(self.name) is not self:
            raise pickle.PicklingError(
                f"the primitive {self.name!r} is not registered, so another process could not "
                "find it by name; create it with Primitive(name) (register=True, the default) "
                "in a module the other process imports."
            )
        return (registered_primitive, (self.name,))

    def __copy__(self):
        return self  # an operation, not a value: copies of programs share it

    def __deepcopy__(self, memo):
        return self

    @property
    def vjp(self) -> Callable | None:
        return self._vjp

    @vjp.setter
    def vjp(self, rule: Callable | None) -> None:
        # `vjp_rules` holds the per-input rules that `def_vjp` wrapped into `rule`, so the
        # backward pass can call them without the wrapper; any other rule (set by
        # `def_vjp_argnum`, or by a test that swaps in a wrong one) clears it, so the
        # backward pass then calls `rule` itself.
        self._vjp = rule
        self.vjp_rules: tuple | None = getattr(rule, "per_argument", None)

    def def_impl(self, impl: Callable) -> Callable:
        self.impl = impl
        return impl

    def def_shape_rule(self, rule: Callable) -> Callable:
        self.shape_rule = rule
        return rule

    def def_vjp(self, *per_argument: Callable | None) -> None:
        """Give one cotangent rule per input: ``rule(ct, ans, *primals, **params)``.

        ``None`` marks an input with no gradient (an index array, say).
        """
        rules = tuple(per_argument)

        def vjp_by_argnum(argnum, ct, ans, *primals, **params):
            rule = rules[argnum]
            return None if rule is None else rule(ct, ans, *primals, **params)

        vjp_by_argnum.__name__ = f"{self.name}_vjp"
        vjp_by_argnum.__qualname__ = vjp_by_argnum.__name__
        vjp_by_argnum.per_argument = rules
        self.vjp = vjp_by_argnum

    def def_vjp_argnum(self, rule: Callable) -> Callable:
        """Give one rule for all inputs: ``rule(argnum, ct, ans, *primals, **params)``."""
        self.vjp = rule
        return rule

    def def_vjp_all(self, rule: Callable) -> Callable:
        """One rule for every input at once: ``rule(wanted, ct, ans, *primals, **params)``.

        ``wanted[i]`` says whether input i needs a cotangent; the rule returns one
        cotangent (or ``None``) per input. The backward pass prefers this rule.
        """
        self.vjp_all = rule

        def vjp_by_argnum(argnum, ct, ans, *primals, **params):
            wanted = tuple(i == argnum for i in range(len(primals)))
            return rule(wanted, ct, ans, *primals, **params)[argnum]

        vjp_by_argnum.__name__ = f"{self.name}_vjp"
        vjp_by_argnum.__qualname__ = vjp_by_argnum.__name__
        self.vjp = vjp_by_argnum
        return rule

    def def_jvp(self, rule: Callable) -> Callable:
        self.jvp = rule
        return rule

    def def_batch(self, rule: Callable) -> Callable:
        self.batch = rule
        return rule

    def def_lowering(self, rule: Callable) -> Callable:
        """``rule(ctx, *arg_sources, **params) -> Code``: the compiled code (``lowering.py``)."""
        self.lowering = rule
        return rule

    def def_simplification(self, rule: Callable) -> Callable:
        """Add ``rule(eqn, producers)``, an algebraic rewrite (see ``rewrite.py``)."""
        self.simplifications.append(rule)
        return rule

    def def_neutral_operands(self, *numbers) -> None:
        """Say which literal leaves the other operand unchanged, per position (or None)."""
        self.neutral_operands = tuple(numbers)

    def def_replay(self, rule: Callable) -> Callable:
        """``rule(*args, **params)`` re-expresses the call with other primitives."""
        self.replay = rule
        return rule

    def def_effectful(self) -> None:
        """Declare that running the primitive matters beyond its result (a callback).

        The program passes neither drop, merge nor evaluate such an equation in advance.
        """
        self.effectful = True

    def def_nondifferentiable(self) -> None:
        """Declare that the output carries no derivative (integers, booleans).

        The explicit mark matters: the coverage test requires every registered
        primitive to have derivative rules or this mark.
        """
        self.differentiable = False


def all_primitives() -> dict[str, Primitive]:
    """Every registered primitive by name (the coverage tests walk this table)."""
    return dict(_PRIMITIVES)


def registered_primitive(name: str) -> Primitive:
    """The registered primitive called ``name`` (how primitives unpickle).

    Example:
      >>> import pickle
      >>> import minigrad.numpy as mnp  # registers the primitives of the NumPy API
      >>> sin_p = all_primitives()["sin"]
      >>> pickle.loads(pickle.dumps(sin_p)) is sin_p
      True
    """
    try:
        return _PRIMITIVES[name]
    except KeyError:
        raise LookupError(
            f"no primitive named {name!r} is registered in this process; import the module "
            "that defines it before unpickling (a Dask worker imports what the function "
            "it runs imports)."
        ) from None
