"""``custom_jvp``: a function whose forward-mode derivative is given by the user.

The function is bound as one equation of ``custom_jvp_call``, whose params carry the
function and its rule as Python callables (on flat lists of arrays), so the function
runs on the values whenever they are known: Python control flow in it works under
``grad``, ``vjp`` and ``jvp``, as in JAX. Each transform reads the rule its own way:

- ``jvp``: the user's rule, called on the primals and tangents;
- ``grad``/``vjp``: the rule's tangent map is linear in the tangents, so its transpose
  (computed by ``vjp`` of that map) pulls cotangents back, which is how JAX derives
  reverse mode from a JVP rule. When the rule is itself differentiable, so is that,
  and ``grad(grad(f))`` works;
- ``vmap``: the function and the rule are both mapped, and the rule survives;
- ``jit``/``make_jaxpr``: the equation is staged as it is; its output types come from
  staging the function.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> import minigrad.numpy as mnp
    >>> @custom_jvp
    ... def f(x):
    ...     return mnp.sin(x)
    >>> @f.defjvp
    ... def f_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return f(x), 2.0 * t  # a deliberately different derivative
    >>> mg.grad(f)(0.3), mg.jvp(f, (0.3,), (1.0,))[1]
    (array(2.), array(2.))
"""

from __future__ import annotations

import functools

import numpy as np

from minigrad.core.dtypes import is_float_dtype
from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.staging import stage_flat
from minigrad.core.trace import Tracer, bind, current_depth, get_aval
from minigrad.ops.elementwise import add
from minigrad.transforms.ad import vjp
from minigrad.transforms.api_util import (
    as_array,
    derivative_zeros,
    flatten_arguments,
    flatten_inputs,
    merge_arguments,
)
from minigrad.transforms.batching import vmap
from minigrad.transforms.custom import _resolve_kwargs, nondiff_arguments
from minigrad.tree import tree_flatten, tree_leaves, tree_unflatten

__all__ = ["custom_jvp", "custom_jvp_call_p", "CUSTOM_JVP_CLOSURE_MESSAGE"]

CUSTOM_JVP_CLOSURE_MESSAGE = (
    "custom_jvp: {name} closes over a value traced by the transform that calls it, so it "
    "cannot be run on plain values. Pass that value as an argument of the function instead "
    "(its tangent then reaches the rule)."
)


# The function and its rule are params (hidden from printed programs by their leading
# underscore), called on flat lists of arrays.
custom_jvp_call_p = Primitive("custom_jvp_call", multiple_results=True)
custom_jvp_call_p.def_lowering(lower_by_impl)  # compiled programs call the function


@custom_jvp_call_p.def_impl
def custom_jvp_call_impl(*args, _fun, _rule, name):
    outs = _fun(*args)
    if any(isinstance(out, Tracer) for out in outs):
        raise TypeError(CUSTOM_JVP_CLOSURE_MESSAGE.format(name=name))
    return outs


@custom_jvp_call_p.def_shape_rule
def custom_jvp_call_shape_rule(*avals, _fun, _rule, name):
    return list(stage_flat(_fun, avals).out_avals)


@custom_jvp_call_p.def_jvp
def custom_jvp_call_jvp(primals, tangents, ans, *, _fun, _rule, name):
    filled = [
        derivative_zeros(get_aval(p)) if t is None else t for p, t in zip(primals, tangents, strict=True)
    ]
    _, tangents_out = _rule(list(primals), filled, [t is None for t in tangents])
    return [as_array(t) for t in tangents_out]  # NumPy scalars from `2.0 * t` become arrays


@custom_jvp_call_p.def_vjp_all
def custom_jvp_call_vjp(wanted, cts, ans, *primals, _fun, _rule, name):
    # Reverse mode from the JVP rule: the map from input tangents to output tangents is
    # linear, and vjp of a linear map at any point is its transpose.
    float_positions = [i for i, p in enumerate(primals) if is_float_dtype(get_aval(p).dtype)]
    out_float = [i for i, out in enumerate(ans) if is_float_dtype(get_aval(out).dtype)]

    def tangent_map(*float_tangents):
        tangents = [derivative_zeros(get_aval(p)) for p in primals]
        for position, tangent in zip(float_positions, float_tangents, strict=True):
            tangents[position] = tangent
        symbolic_zeros = [i not in float_positions for i in range(len(primals))]
        _, tangents_out = _rule(list(primals), tangents, symbolic_zeros)
        return [tangents_out[i] for i in out_float]

    zeros = [np.zeros(get_aval(primals[i]).shape, get_aval(primals[i]).dtype) for i in float_positions]
    _, pullback = vjp(tangent_map, *zeros)
    float_cts = pullback([cts[i] for i in out_float])
    cts_in = [None] * len(primals)
    for position, ct in zip(float_positions, float_cts, strict=True):
        cts_in[position] = ct
    return cts_in


@custom_jvp_call_p.def_batch
def custom_jvp_call_batch(args, dims, *, _fun, _rule, name):
    in_axes = tuple(dims)

    def batched_fun(*batched_args):
        return vmap(_fun, in_axes=in_axes)(*batched_args)

    def batched_rule(primals, tangents, symbolic_zeros):
        def one_example(primals, tangents):
            return _rule(primals, tangents, symbolic_zeros)

        return vmap(one_example, in_axes=(list(in_axes), list(in_axes)))(primals, tangents)

    outs = bind(custom_jvp_call_p, *args, _fun=batched_fun, _rule=batched_rule, name=name)
    return outs, [0] * len(outs)


class custom_jvp:  # noqa: N801 - the name users know from JAX
    """A function whose forward-mode derivative is given by the user (as ``jax.custom_jvp``).

    Decorate ``fun``, then give the rule with ``f.defjvp(rule)``:
    ``rule(primals, tangents) -> (primal_out, tangent_out)``, ``primals`` and
    ``tangents`` being tuples with one entry per argument. The tangent output must be
    linear in the tangents: reverse mode (``grad``, ``vjp``, ``jacrev``) transposes it.
    Or give one rule per argument with ``f.defjvps(*rules)``: ``rule_i(t_i, out,
    *primals)`` is argument i's contribution to the output tangent (``None``: no
    derivative); the contributions are added, and a rule whose tangent is zero is not
    called.

    The function runs on values under ``grad``, ``vjp`` and ``jvp`` (so Python control
    flow in it works there); under ``jit``, ``vmap`` and ``make_jaxpr`` it is staged.
    Integer inputs get float0 tangents, as in JAX.

    Args:
      fun: the function, of arrays (pytrees of arrays) and the static arguments below.
      nondiff_argnums: positions of arguments that are not differentiated (numbers,
        strings, functions): the rule receives them first, ``rule(*nondiff_args,
        primals, tangents)``, and ``primals``/``tangents`` hold the other arguments.

    Returns:
      A callable with ``fun``'s signature and values, and ``defjvp``/``defjvps``.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> import minigrad.numpy as mnp
      >>> @custom_jvp
      ... def log1pexp(x):
      ...     return mnp.log(1.0 + mnp.exp(x))
      >>> log1pexp.defjvps(lambda t, ans, x: t * (1.0 - 1.0 / (1.0 + mnp.exp(x))))
      >>> mg.grad(log1pexp)(30.0), mg.jvp(log1pexp, (0.0,), (1.0,))[1]
      (array(1.), array(0.5))
    """

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp = None
        self.symbolic_zeros = False
        self.per_argument = None  # the rules given to defjvps

    def defjvp(self, jvp, symbolic_zeros: bool = False):
        """Set the rule ``jvp(primals, tangents) -> (primal_out, tangent_out)``; returns it.

        With ``symbolic_zeros=True`` a tangent known to be zero reaches the rule as
        ``None`` (the rule may skip its work); otherwise as an array of zeros.
        """
        self.jvp, self.symbolic_zeros, self.per_argument = jvp, symbolic_zeros, None
        return jvp

    def defjvps(self, *per_argument) -> None:
        """One rule per differentiated argument: ``rule(t, primal_out, *primals)`` is its
        contribution to the output tangent; ``None`` for an argument without derivative."""
        self.jvp, self.symbolic_zeros, self.per_argument = None, True, tuple(per_argument)

    def __call__(self, *args, **kwargs):
        args = _resolve_kwargs(self.fun, args, kwargs)
        if self.jvp is None and self.per_argument is None:
            raise TypeError(
                f"custom_jvp: {getattr(self.fun, '__name__', 'the function')} has no JVP rule yet; "
                "call f.defjvp(rule) or f.defjvps(*rules) before calling it."
            )
        if current_depth() == 0:
            return self.fun(*args)  # no transform: no rule is needed
        static = _static_arguments(self.nondiff_argnums, args)
        dynamic = tuple(a for i, a in enumerate(args) if i not in static)
        leaves, _, in_tree = flatten_inputs("custom_jvp", dynamic)
        flat_args = [as_array(leaf) for leaf in leaves]
        trees: dict = {}
        fun = functools.partial(_flat_fun, self.fun, static, in_tree, trees)
        rule = functools.partial(_flat_rule, self, static, in_tree, trees)
        name = getattr(self.fun, "__name__", "custom_jvp function")
        outs = bind(custom_jvp_call_p, *flat_args, _fun=fun, _rule=rule, name=name)
        return tree_unflatten(trees["out"], outs)


def _static_arguments(nondiff_argnums, args) -> dict:
    """The ``nondiff_argnums`` arguments by position, checked not to be traced."""
    static = nondiff_arguments("custom_jvp", nondiff_argnums, args, "pass arrays as ordinary arguments.")
    return dict(sorted(static.items()))


def _flat_fun(fun, static, in_tree, trees, *leaves):
    dynamic = tree_unflatten(in_tree, leaves)
    out = fun(*merge_arguments(static.keys(), static.values(), dynamic))
    out_leaves, trees["out"] = flatten_arguments("custom_jvp output", out, "output")
    return out_leaves


def _flat_rule(wrapper, static, in_tree, trees, primal_leaves, tangent_leaves, zero_mask):
    """The user's rule on flat lists: ``(primal_out_leaves, tangent_out_leaves)``."""
    if wrapper.symbolic_zeros:
        tangent_leaves = [None if zero else t for t, zero in zip(tangent_leaves, zero_mask, strict=True)]
    primals = tuple(tree_unflatten(in_tree, primal_leaves))
    tangents = tuple(tree_unflatten(in_tree, tangent_leaves))
    if wrapper.per_argument is not None:
        result = _sum_of_parts(wrapper, static, primals, tangents)
    else:
        result = wrapper.jvp(*static.values(), primals, tangents)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError(
            "custom_jvp: the JVP rule must return a pair (primal_out, tangent_out), got "
            f"{type(result).__name__}."
        )
    out_leaves, out_tree = tree_flatten(result[0])
    tangent_out, tangent_tree = tree_flatten(result[1])
    trees.setdefault("out", out_tree)
    if tangent_tree != out_tree:
        raise TypeError(
            f"custom_jvp: the rule's tangent output has structure {tangent_tree!r} but its primal "
            f"output has structure {out_tree!r}; they must match."
        )
    return out_leaves, tangent_out


def _sum_of_parts(wrapper, static, primals, tangents):
    """``defjvps``: the output and the sum of each argument's contribution to its tangent."""
    parts = wrapper.per_argument
    if len(parts) != len(primals):
        raise TypeError(
            f"custom_jvp: defjvps got {len(parts)} rules for {len(primals)} differentiated "
            "arguments; give one per argument (None for no derivative)."
        )
    out = wrapper.fun(*merge_arguments(static.keys(), static.values(), primals))
    total = None
    for part, tangent, primal in zip(parts, tangents, primals, strict=True):
        tangent_leaves, tangent_tree = tree_flatten(tangent, is_leaf=lambda leaf: leaf is None)
        if part is None or all(leaf is None for leaf in tangent_leaves):
            continue  # a zero tangent contributes nothing: the rule is not called
        filled = [
            np.zeros(get_aval(p).shape, get_aval(p).dtype) if t is None else t
            for t, p in zip(tangent_leaves, tree_leaves(primal), strict=True)
        ]
        contribution = part(tree_unflatten(tangent_tree, filled), out, *primals)
        total = contribution if total is None else _tree_add(total, contribution)
    return out, _zeros_like_tree(out) if total is None else total


def _tree_add(a, b):
    a_leaves, treedef = tree_flatten(a)
    return tree_unflatten(treedef, [add(x, y) for x, y in zip(a_leaves, tree_leaves(b), strict=True)])


def _zeros_like_tree(tree):
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [np.zeros(get_aval(x).shape, get_aval(x).dtype) for x in leaves])
