"""Linear maps from functions: ``linearize`` (the JVP at a point, as a reusable program)
and ``linear_transpose`` (the transpose of a linear function).

``linearize`` runs ``jvp`` once while staging only the tangent computation: the primals
are known numbers, so everything that depends on them alone is computed then, and the
program kept holds just the linear operations on the tangents. Calling ``f_jvp`` replays
that program; ``fun`` is not run again.

``linear_transpose`` uses the fact that ``vjp`` of a linear function, at any point, is
its transpose.

Example:
    >>> import numpy as np
    >>> import minigrad.numpy as mnp
    >>> out, f_jvp = linearize(mnp.sin, np.array([0.0, np.pi]))
    >>> f_jvp(np.array([1.0, 1.0]))
    array([ 1., -1.])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.interpreter import eval_jaxpr
from minigrad.core.trace import get_aval
from minigrad.transforms.ad import vjp
from minigrad.transforms.api_util import flatten_arguments
from minigrad.transforms.forward import jvp
from minigrad.transforms.staged_program import stage_pytree
from minigrad.tree import tree_unflatten

__all__ = ["linearize", "linear_transpose"]


def linearize(fun, *primals):
    """``fun``'s value at ``primals`` and its JVP there, as a function of the tangents.

    Args:
      fun: a function of arrays (pytrees of arrays).
      *primals: the point to linearise at.

    Returns:
      ``(out, f_jvp)``: ``out = fun(*primals)`` and ``f_jvp(*tangents)``, the same as
      ``jvp(fun, primals, tangents)[1]``, computed by a stored linear program.

    Example:
      >>> out, f_jvp = linearize(lambda x, y: x * y, 2.0, 3.0)
      >>> out, f_jvp(1.0, 0.0), f_jvp(0.0, 1.0)
      (array(6.), array(3.), array(2.))
    """
    flat_primals, in_tree = flatten_arguments("linearize", primals, "primals")
    results = {}

    def tangent_out(*tangents):
        out, out_tangent = jvp(fun, primals, tangents)
        results["out"] = out
        return out_tangent

    example_tangents = tree_unflatten(in_tree, _zeros_like_leaves(flat_primals))
    closed, out_tree = stage_pytree(tangent_out, example_tangents, "linearize")
    in_avals = closed.in_avals

    def f_jvp(*tangents):
        flat_tangents, _ = flatten_arguments("linearize's f_jvp", tangents, "tangents")
        given = [get_aval(t) for t in flat_tangents]
        if [(a.shape, a.dtype) for a in given] != [(a.shape, a.dtype) for a in in_avals]:
            raise ValueError(
                f"linearize: f_jvp takes tangents typed {[str(a) for a in in_avals]} (those of the "
                f"primals), got {[str(a) for a in given]}."
            )
        return tree_unflatten(out_tree, eval_jaxpr(closed.jaxpr, closed.consts, *flat_tangents))

    return results["out"], f_jvp


def _zeros_like_leaves(leaves):
    return [np.zeros(get_aval(x).shape, get_aval(x).dtype) for x in leaves]


def linear_transpose(fun, *primals):
    """The transpose of the linear function ``fun`` (as ``jax.linear_transpose``).

    Args:
      fun: a function linear in its arguments.
      *primals: example arguments (only their structure, shapes and dtypes are used).

    Returns:
      ``transpose(cotangent)``: a tuple with one cotangent per argument of ``fun``. The
      result is meaningless if ``fun`` is not linear.

    Example:
      >>> A = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
      >>> transpose = linear_transpose(lambda x: A @ x, np.zeros(2))
      >>> transpose(np.array([1.0, 0.0, 0.0]))
      (array([1., 2.]),)
    """
    flat_primals, in_tree = flatten_arguments("linear_transpose", primals, "primals")
    # vjp of a linear map is its transpose at every point; zeros keep NaNs out.
    _, pullback = vjp(fun, *tree_unflatten(in_tree, _zeros_like_leaves(flat_primals)))
    return pullback
