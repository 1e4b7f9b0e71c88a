"""Program passes: each takes a ``Jaxpr`` and returns an equivalent, smaller one.

- ``fold_constants``: evaluate equations whose inputs are all literals;
- ``simplify``: operations that leave an operand unchanged (``x*1``, ``x+0``: each
  primitive's ``neutral_operands``), each primitive's own rewrite rules
  (``primitive.simplifications``, declared beside it in ``ops/``: integer ``x*0``,
  double transpose or negation, reshape or cast to the same type, a scalar broadcast
  and then summed), and an explicit broadcast feeding an operation that broadcasts
  anyway;
- ``drop_zero_cotangent_work``: what reverse mode emits around its seeds (multiplying by
  arrays of ones, adding arrays of zeros, full constant arrays where a scalar would do);
- ``cse``: reuse the result of an identical earlier equation;
- ``dce``: drop equations whose results nobody uses.

A pass never changes the program's inputs or output types. Substitutions are recorded
in a map from variables to atoms and applied as later equations are rewritten, so each
pass is one walk over the program. ``optimize`` runs them all on a ``ClosedJaxpr``, after
turning its constants into literals so that folding can see them.

Floating-point care: ``x*0`` is not ``0`` when ``x`` may be ``inf`` or ``nan``, so it is
only rewritten for integers and booleans. ``x*1``, ``x/1`` and ``x+0`` are exact for
every value (``x+0`` may turn ``-0.0`` into ``0.0``, which compares equal).

Example:
    >>> import numpy as np
    >>> from minigrad.core.staging import stage_flat
    >>> from minigrad.ops.elementwise import mul, sin
    >>> closed = stage_flat(lambda x: [mul(sin(x), 1.0)], [ShapedArray((3,), np.float32)])
    >>> print(dce(simplify(closed.jaxpr)))
    { lambda ; a:f32[3]. let
        b:f32[3] = sin a
      in (b,) }
"""

from __future__ import annotations

import operator
import weakref

import numpy as np

from minigrad.core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, ShapedArray, Var
from minigrad.core.rewrite import (
    is_scalar_literal,
    is_uniform_literal,
    literal,
    passes_through,
    uniform_value,
)
from minigrad.ops.elementwise import ELEMENTWISE_PRIMITIVES, add_p, broadcast_shapes
from minigrad.ops.shape import broadcast_to_p

__all__ = [
    "has_effects",
    "dce",
    "cse",
    "fold_constants",
    "simplify",
    "drop_zero_cotangent_work",
    "inline_consts",
    "optimize",
]

_ELEMENTWISE = frozenset(ELEMENTWISE_PRIMITIVES)


def _substitute(atom, env):
    if type(atom) is Var:
        return env.get(atom, atom)
    return atom


def _rewrite_invars(eqn, env):
    if not env:
        return eqn
    invars = tuple(_substitute(atom, env) for atom in eqn.invars)
    if all(a is b for a, b in zip(invars, eqn.invars, strict=True)):
        return eqn
    return Eqn(eqn.primitive, invars, eqn.outvars, eqn.params, eqn.source)


def _finish(jaxpr, eqns, env) -> Jaxpr:
    """The rewritten program, or ``jaxpr`` itself if the pass changed nothing (which is
    how ``optimize`` knows to stop)."""
    if not env and len(eqns) == len(jaxpr.eqns) and all(map(operator.is_, eqns, jaxpr.eqns)):
        return jaxpr
    outvars = [_substitute(atom, env) for atom in jaxpr.outvars]
    return Jaxpr(jaxpr.constvars, jaxpr.invars, eqns, outvars)


# ---------------------------------------------------------------------------------------
# effects


def has_effects(eqn) -> bool:
    """Whether ``eqn`` does something besides computing its results: its primitive is
    effectful (a debug print), or a sub-program it holds (a loop body, a branch) has
    such an equation. The passes keep, repeat and run such equations as written.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> def body(carry, x):
      ...     mg.debug.callback(print, x)
      ...     return carry, None
      >>> program = mg.make_jaxpr(lambda xs: mg.lax.scan(body, 0.0, xs)[0])(np.zeros(2))
      >>> [has_effects(eqn) for eqn in program.eqns]
      [True]
    """
    if eqn.primitive.effectful:
        return True
    return bool(eqn.params) and any(_program_has_effects(p) for p in _subprograms(eqn.params.values()))


def _subprograms(values):
    for value in values:
        if type(value) is Jaxpr:
            yield value
        elif type(value) is ClosedJaxpr:
            yield value.jaxpr
        elif type(value) is tuple:
            yield from _subprograms(value)


# Sub-program -> whether it has an effect (programs are immutable; the entry goes with them).
_EFFECTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _program_has_effects(jaxpr: Jaxpr) -> bool:
    found = _EFFECTS.get(jaxpr)
    if found is None:
        found = _EFFECTS[jaxpr] = any(has_effects(eqn) for eqn in jaxpr.eqns)
    return found


# ---------------------------------------------------------------------------------------
# dead code


def dce(jaxpr: Jaxpr) -> Jaxpr:
    """Drop equations none of whose results reach an output.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.staging import stage_flat
      >>> from minigrad.ops.elementwise import sin, cos
      >>> closed = stage_flat(lambda x: [sin(x), cos(x)][:1], [ShapedArray((), np.float64)])
      >>> len(dce(closed.jaxpr).eqns)
      1
    """
    live = {atom for atom in jaxpr.outvars if type(atom) is Var}
    kept = []
    for eqn in reversed(jaxpr.eqns):
        if any(var in live for var in eqn.outvars) or has_effects(eqn):
            kept.append(eqn)
            live.update(atom for atom in eqn.invars if type(atom) is Var)
    kept.reverse()
    if len(kept) == len(jaxpr.eqns):
        return jaxpr
    return Jaxpr(jaxpr.constvars, jaxpr.invars, kept, jaxpr.outvars)


# ---------------------------------------------------------------------------------------
# common subexpressions


def _literal_key(atom):
    # Shape and dtype rather than the aval itself: they are what avals compare by, and
    # hashing them needs no Python-level __hash__ (this runs for most equations).
    value = np.asarray(atom.val)
    aval = atom.aval
    if value.size <= 256:
        return ("literal", aval.shape, aval.dtype, value.tobytes())
    return ("literal", aval.shape, aval.dtype, id(atom.val))


def _remember(seen: dict, eqn):
    """The first equation ``seen`` that is identical to ``eqn`` (``eqn`` itself if none)."""
    key = (eqn.primitive, tuple(a if type(a) is Var else _literal_key(a) for a in eqn.invars), eqn.params)
    try:
        return seen.setdefault(key, eqn)  # one hash of the key, not three
    except TypeError:
        return eqn  # unhashable params: the equation stays as it is


def cse(jaxpr: Jaxpr) -> Jaxpr:
    """Replace an equation identical to an earlier one (same primitive, inputs, params).

    Example:
      >>> import numpy as np
      >>> from minigrad.core.staging import stage_flat
      >>> from minigrad.ops.elementwise import sin, add
      >>> closed = stage_flat(lambda x: [add(sin(x), sin(x))], [ShapedArray((), np.float64)])
      >>> print(cse(closed.jaxpr))
      { lambda ; a:f64[]. let
          b:f64[] = sin a
          c:f64[] = add b b
        in (c,) }
    """
    # An equation can only repeat one that reads the same variables, so one reading a
    # variable nothing else reads is not keyed: in a long chain that is every equation,
    # and the keys were most of this pass's time (and, through the garbage collector's
    # walks of them, more). It waits under that variable instead, and is keyed after all
    # if a repeated equation turns out to make the variable (its readers then add up).
    readers: dict = {}
    for eqn in jaxpr.eqns:
        for atom in eqn.invars:
            if type(atom) is Var:
                readers[atom] = readers.get(atom, 0) + 1
    env: dict = {}
    seen: dict = {}
    waiting: dict = {}
    eqns = []
    for eqn in jaxpr.eqns:
        eqn = _rewrite_invars(eqn, env)
        if has_effects(eqn):  # two identical prints both print
            eqns.append(eqn)
            continue
        lone = next((atom for atom in eqn.invars if type(atom) is Var and readers.get(atom) == 1), None)
        if lone is not None:
            waiting[lone] = eqn
            eqns.append(eqn)
            continue
        earlier = _remember(seen, eqn)
        if earlier is not eqn:
            for var, previous in zip(eqn.outvars, earlier.outvars, strict=True):
                env[var] = previous
                readers[previous] = readers.get(previous, 0) + readers.get(var, 0)
                late = waiting.pop(previous, None)
                if late is not None:
                    _remember(seen, late)
            continue
        eqns.append(eqn)
    return _finish(jaxpr, eqns, env)


# ---------------------------------------------------------------------------------------
# constants


def inline_consts(closed: ClosedJaxpr) -> Jaxpr:
    """A program whose constant variables are replaced by literals holding their values.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.staging import stage_flat
      >>> from minigrad.ops.elementwise import mul
      >>> w = np.arange(3.0)
      >>> closed = stage_flat(lambda x: [mul(x, w)], [ShapedArray((3,), np.float64)])
      >>> print(inline_consts(closed))
      { lambda ; a:f64[3]. let
          b:f64[3] = mul a [0.,1.,2.]:f64[3]
        in (b,) }
    """
    jaxpr = closed.jaxpr
    env = {var: Literal(value, var.aval) for var, value in zip(jaxpr.constvars, closed.consts, strict=True)}
    eqns = [_rewrite_invars(eqn, env) for eqn in jaxpr.eqns]
    return Jaxpr((), jaxpr.invars, eqns, [_substitute(atom, env) for atom in jaxpr.outvars])


def fold_constants(jaxpr: Jaxpr) -> Jaxpr:
    """Evaluate every equation whose inputs are all literals; its results become literals.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.ir import Eqn
      >>> from minigrad.ops.elementwise import add_p, mul_p
      >>> x, y, z = (Var(ShapedArray((), np.float64)) for _ in range(3))
      >>> two = Literal(np.float64(2.0), ShapedArray((), np.float64))
      >>> program = Jaxpr((), [x], [Eqn(add_p, [two, two], [y]), Eqn(mul_p, [x, y], [z])], [z])
      >>> print(fold_constants(program))
      { lambda ; a:f64[]. let
          b:f64[] = mul a 4.0:f64[]
        in (b,) }
    """
    env: dict = {}
    eqns = []
    for eqn in jaxpr.eqns:
        eqn = _rewrite_invars(eqn, env)
        if eqn.invars and all(type(atom) is Literal for atom in eqn.invars) and not has_effects(eqn):
            out = eqn.primitive.impl(*(atom.val for atom in eqn.invars), **eqn.params)
            outs = out if eqn.primitive.multiple_results else [out]
            for var, value in zip(eqn.outvars, outs, strict=True):
                env[var] = literal(value, var.aval)
            continue
        eqns.append(eqn)
    return _finish(jaxpr, eqns, env)


# ---------------------------------------------------------------------------------------
# algebraic simplification


def _identity_operand(eqn, uniform: bool):
    """The operand ``eqn`` returns unchanged (``x*1``, ``x+0``, ...), or None.

    Operand ``i`` is neutral when it is a literal equal to ``neutral_operands[i]`` of
    the primitive; ``uniform`` accepts whole arrays of that value, not just scalars.
    """
    neutral = eqn.primitive.neutral_operands
    if not neutral:
        return None
    invars = eqn.invars
    if len(invars) != 2:
        return None
    check = is_uniform_literal if uniform else is_scalar_literal
    for position in (1, 0):
        atom = invars[position]
        number = neutral[position]
        if number is None or type(atom) is not Literal:
            continue
        # A 0-d literal (the usual `x * 2.0`) is compared as a Python number, before
        # the operand's type: this runs for nearly every equation, twice per round.
        if atom.aval.ndim == 0:
            value = atom.val.item() if hasattr(atom.val, "item") else atom.val
            if value != number:
                continue
        elif not check(atom, number):
            continue
        kept = invars[1 - position]
        if passes_through(eqn, kept):
            return kept
    return None


def _simplify_eqn(eqn, producers):
    """A replacement for ``eqn``'s single result (an atom), new equations, or None."""
    operand = _identity_operand(eqn, uniform=False)
    if operand is not None:
        return operand
    for rule in eqn.primitive.simplifications:
        result = rule(eqn, producers)
        if result is not None:
            return result
    return None


def _simplify_multiple(eqn, producers):
    """For a primitive of several results: ``(new equations, an atom for each result)``
    from the first of its rules that applies, or None."""
    for rule in eqn.primitive.simplifications:
        result = rule(eqn, producers)
        if result is not None:
            return result
    return None


def _elide_broadcasts(eqn, producers):
    """Elementwise operations broadcast by themselves: read a broadcast's operand directly."""
    if eqn.primitive not in _ELEMENTWISE or len(eqn.invars) < 2:
        return eqn
    invars = list(eqn.invars)
    changed = False
    for i, atom in enumerate(invars):
        source = producers.get(atom) if type(atom) is Var else None
        if source is None or source.primitive is not broadcast_to_p:
            continue
        candidate = [*invars[:i], source.invars[0], *invars[i + 1 :]]
        if (
            broadcast_shapes(eqn.primitive.name, *(a.aval.shape for a in candidate))
            == eqn.outvars[0].aval.shape
        ):
            invars = candidate
            changed = True
    if not changed:
        return eqn
    return Eqn(eqn.primitive, invars, eqn.outvars, eqn.params, eqn.source)


def simplify(jaxpr: Jaxpr) -> Jaxpr:
    """Apply algebraic identities that remove or shrink equations.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.staging import stage_flat
      >>> from minigrad.ops.shape import transpose
      >>> closed = stage_flat(lambda x: [transpose(transpose(x, (1, 0)), (1, 0))],
      ...                     [ShapedArray((2, 3), np.float32)])
      >>> print(dce(simplify(closed.jaxpr)))
      { lambda ; a:f32[2,3]. let  in (a,) }
    """
    env: dict = {}
    producers: dict = {}
    eqns = []
    for eqn in jaxpr.eqns:
        eqn = _rewrite_invars(eqn, env)
        if eqn.primitive.multiple_results:
            result = _simplify_multiple(eqn, producers)
            if result is not None:
                new_eqns, replacements = result
                eqns.extend(new_eqns)
                producers.update((var, new_eqn) for new_eqn in new_eqns for var in new_eqn.outvars)
                env.update(
                    (old, new) for old, new in zip(eqn.outvars, replacements, strict=True) if new is not old
                )
                continue
        result = None if eqn.primitive.multiple_results else _simplify_eqn(eqn, producers)
        if result is None:
            eqn = _elide_broadcasts(eqn, producers)
            eqns.append(eqn)
            for var in eqn.outvars:
                producers[var] = eqn
        elif isinstance(result, Eqn):
            eqns.append(result)
            producers[result.outvars[0]] = result
        elif isinstance(result, tuple):
            new_eqns, replacement = result
            eqns.extend(new_eqns)
            for new_eqn in new_eqns:
                producers[new_eqn.outvars[0]] = new_eqn
            if replacement is not eqn.outvars[0]:
                env[eqn.outvars[0]] = replacement
        else:
            env[eqn.outvars[0]] = result
    return _finish(jaxpr, eqns, env)


# ---------------------------------------------------------------------------------------
# the zero-cotangent work of reverse mode


def _shrink_uniform_literal(eqn):
    """Replace a full constant array operand by a 0-d one when the result is unchanged."""
    if eqn.primitive not in _ELEMENTWISE or len(eqn.invars) < 2:
        return eqn
    out_shape = eqn.outvars[0].aval.shape
    invars = list(eqn.invars)
    changed = False
    for i, atom in enumerate(invars):
        if type(atom) is not Literal or atom.aval.ndim == 0:
            continue
        value = uniform_value(atom)
        if value is None:
            continue
        others = [a.aval.shape for j, a in enumerate(invars) if j != i]
        if broadcast_shapes(eqn.primitive.name, *others) != out_shape:
            continue
        invars[i] = literal(np.asarray(value), ShapedArray((), atom.aval.dtype))
        changed = True
    if not changed:
        return eqn
    return Eqn(eqn.primitive, invars, eqn.outvars, eqn.params, eqn.source)


def drop_zero_cotangent_work(jaxpr: Jaxpr) -> Jaxpr:
    """Remove what reverse mode emits around constant seeds and zero cotangents.

    Multiplying by an array of ones or adding an array of zeros (when the other operand
    already has the result's shape) is dropped; an operand that is a full array of one
    repeated value (a broadcast seed such as ``1/n``) becomes a scalar, so no large
    constant is read; an addition of zeros that only broadcasts becomes a broadcast.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.ir import Eqn
      >>> from minigrad.ops.elementwise import mul_p
      >>> x, y = Var(ShapedArray((3,), np.float32)), Var(ShapedArray((3,), np.float32))
      >>> ones = Literal(np.ones(3, np.float32), ShapedArray((3,), np.float32))
      >>> print(drop_zero_cotangent_work(Jaxpr((), [x], [Eqn(mul_p, [ones, x], [y])], [y])))
      { lambda ; a:f32[3]. let  in (a,) }
    """
    env: dict = {}
    eqns = []
    for eqn in jaxpr.eqns:
        eqn = _rewrite_invars(eqn, env)
        if eqn.primitive.multiple_results:
            eqns.append(eqn)
            continue
        operand = _identity_operand(eqn, uniform=True)
        if operand is not None:
            env[eqn.outvars[0]] = operand
            continue
        out_aval = eqn.outvars[0].aval
        if eqn.primitive is add_p:
            a, b = eqn.invars
            for zero, other in ((a, b), (b, a)):
                if is_uniform_literal(zero, 0) and type(other) is Var and other.aval.dtype == out_aval.dtype:
                    eqn = Eqn(broadcast_to_p, [other], eqn.outvars, {"shape": out_aval.shape}, eqn.source)
                    break
        eqns.append(_shrink_uniform_literal(eqn))
    return _finish(jaxpr, eqns, env)


def optimize(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Run every pass until the program stops shrinking; constants become literals.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.staging import stage_flat
      >>> from minigrad.ops.elementwise import add, mul
      >>> closed = stage_flat(lambda x: [add(mul(x, 1.0), 0.0)], [ShapedArray((2,), np.float32)])
      >>> print(optimize(closed))
      { lambda ; a:f32[2]. let  in (a,) }
    """
    jaxpr = inline_consts(closed)
    size = None
    for _ in range(4):
        before = jaxpr
        jaxpr = fold_constants(jaxpr)
        jaxpr = simplify(jaxpr)
        jaxpr = drop_zero_cotangent_work(jaxpr)
        jaxpr = cse(jaxpr)
        jaxpr = dce(jaxpr)
        # A round that changed nothing would change nothing again: a program that
        # needs no rewriting is walked once, not twice.
        if jaxpr is before or len(jaxpr.eqns) == size:
            break
        size = len(jaxpr.eqns)
    return ClosedJaxpr(jaxpr, ())
