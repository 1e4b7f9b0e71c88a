"""``make_jaxpr``: show the program a function stages to.

Example:
    >>> import numpy as np
    >>> import minigrad.numpy as mnp
    >>> print(make_jaxpr(lambda x: mnp.sin(x) * 2.0)(np.ones(3, np.float32)))
    { lambda ; a:f32[3]. let
        b:f32[3] = sin a
        c:f32[3] = mul b 2.0:f32[]
      in (c,) }
"""

from __future__ import annotations

import functools

import attrs

from minigrad.core.ir import ClosedJaxpr
from minigrad.core.staging import stage_flat
from minigrad.transforms.api_util import check_callable, flatten_inputs, merge_arguments, static_argnums_tuple
from minigrad.tree import tree_flatten, tree_unflatten

__all__ = ["make_jaxpr", "stage_pytree"]


def stage_pytree(fun, args, transform: str = "make_jaxpr"):
    """Stage ``fun(*args)`` at the shapes and dtypes of ``args``.

    Returns ``(closed_jaxpr, out_tree)`` with the outputs flattened in the program.
    """
    _, in_avals, in_tree = flatten_inputs(transform, args)
    out_trees = []

    def flat_fun(*flat_tracers):
        out = fun(*tree_unflatten(in_tree, flat_tracers))
        out_leaves, out_tree = tree_flatten(out)
        out_trees.append(out_tree)
        return out_leaves

    closed = stage_flat(flat_fun, in_avals)
    return closed, out_trees[0]


def make_jaxpr(fun, static_argnums=(), *, source: bool = False):
    """A function that returns the program (``ClosedJaxpr``) ``fun`` stages to.

    Args:
      fun: the function to stage.
      static_argnums: positions of arguments that are passed through as Python values
        (so Python control flow may depend on them) instead of being traced.
      source: print each equation with the file:line of the user's code that made it
        (``.pretty(source=True)`` does the same for any program).

    Returns:
      ``make_jaxpr(fun)(*args)`` gives a ``ClosedJaxpr``; ``str()`` prints it one equation
      per line.

    Example:
      >>> import numpy as np
      >>> print(make_jaxpr(lambda x, y: x @ y)(np.ones((2, 3)), np.ones(3)))
      { lambda ; a:f64[2,3] b:f64[3]. let
          c:f64[3,1] = reshape[new_sizes=(3, 1)] b
          d:f64[2,1] = matmul a c
          e:f64[2] = reshape[new_sizes=(2,)] d
        in (e,) }
      >>> print(make_jaxpr(lambda x: x * 2.0, source=True)(1.0))  # doctest: +ELLIPSIS
      { lambda ; a:f64[]. let
          b:f64[] = mul a 2.0:f64[]  # <doctest ...>:1
        in (b,) }
    """
    check_callable("make_jaxpr", fun)
    static = static_argnums_tuple("make_jaxpr", static_argnums)

    @functools.wraps(fun)
    def make_jaxpr_fun(*args, **kwargs) -> ClosedJaxpr:
        dynamic_positions = [i for i in range(len(args)) if i not in static]
        static_args = [arg for i, arg in enumerate(args) if i in static]

        # Keyword arguments are traced, as in JAX: their leaves follow the positional ones.
        def fun_of_dynamic(*dynamic_then_kwargs):
            *dynamic, traced_kwargs = dynamic_then_kwargs
            return fun(*merge_arguments(dynamic_positions, dynamic, static_args), **traced_kwargs)

        closed, _ = stage_pytree(fun_of_dynamic, (*(args[i] for i in dynamic_positions), kwargs))
        return attrs.evolve(closed, show_source=True) if source else closed

    return make_jaxpr_fun
