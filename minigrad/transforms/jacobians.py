"""Whole Jacobians: ``jacfwd``, ``jacrev`` and ``hessian``.

A Jacobian is a JVP (or VJP) applied to every basis vector. Rather than loop over the
basis in Python, ``jacfwd`` maps ``jvp`` over the rows of an identity matrix with
``vmap``, and ``jacrev`` maps the ``vjp_fn`` of one forward pass over the basis of the
output. Forward mode costs one pass per input element, reverse mode one per output
element; ``hessian`` is forward over reverse.

Inputs and outputs may be pytrees: the result has the output's structure, and each of
its leaves has the structure of the differentiated inputs, with arrays of shape
``out.shape + in.shape``.

Example:
    >>> import numpy as np
    >>> import minigrad.numpy as mnp
    >>> jacfwd(lambda x: x ** 2)(np.array([1.0, 3.0]))
    array([[2., 0.],
           [0., 6.]])
"""

from __future__ import annotations

import functools

import numpy as np

from minigrad.core.dtypes import is_float_dtype
from minigrad.core.trace import get_aval
from minigrad.ops.shape import reshape, slice_axis
from minigrad.transforms.ad import vjp
from minigrad.transforms.api_util import (
    check_argnums_type,
    check_callable,
    differentiated_arguments,
    flatten_arguments,
)
from minigrad.transforms.batching import vmap
from minigrad.transforms.forward import jvp
from minigrad.tree import tree_flatten, tree_unflatten

__all__ = ["jacfwd", "jacrev", "jacobian", "hessian"]


def _differentiated(transform, fun, argnums, args):
    """The flat leaves of the chosen arguments, and ``fun`` as a function of them."""
    picked, fun_of_picked = differentiated_arguments(transform, fun, argnums, args)
    # Python numbers stay numbers, so that jvp and vjp below see them as weakly typed.
    leaves, in_tree = flatten_arguments(transform, picked, "differentiated argument", keep_numbers=True)

    def fun_of_leaves(*new_leaves):
        return fun_of_picked(tree_unflatten(in_tree, new_leaves))

    return leaves, in_tree, fun_of_leaves


def _basis(avals):
    """Rows of one identity matrix, split into one array per leaf: ``(n, *leaf.shape)``."""
    total = sum(aval.size for aval in avals)
    pieces, offset = [], 0
    for aval in avals:
        eye = np.eye(total, aval.size, -offset, dtype=aval.dtype)
        pieces.append(eye.reshape((total, *aval.shape)))
        offset += aval.size
    return pieces


def _split_block(stacked, axis: int, avals, shape_of_block):
    """Cut ``stacked`` along ``axis`` into one block per aval, each reshaped."""
    blocks, offset = [], 0
    for aval in avals:
        block = slice_axis(stacked, axis, offset, offset + aval.size)
        blocks.append(reshape(block, shape_of_block(aval)))
        offset += aval.size
    return blocks


def jacfwd(fun, argnums=0):
    """The Jacobian of ``fun`` by forward mode: ``jvp`` mapped over a basis of the input.

    Args:
      fun: a function of arrays (pytrees of arrays).
      argnums: the argument (int) or arguments (tuple) to differentiate with respect to.

    Returns:
      A function with ``fun``'s arguments returning the Jacobian, of shape
      ``out.shape + in.shape`` for each output leaf and input leaf.

    Example:
      >>> import numpy as np
      >>> import minigrad.numpy as mnp
      >>> jacfwd(lambda x, y: x * y, argnums=1)(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
      array([[1., 0.],
             [0., 2.]])
    """
    check_callable("jacfwd", fun)
    check_argnums_type("jacfwd", argnums)

    @functools.wraps(fun)
    def jacfwd_fun(*args):
        leaves, in_tree, fun_of_leaves = _differentiated("jacfwd", fun, argnums, args)
        in_avals = [get_aval(leaf) for leaf in leaves]
        out_trees = []

        def pushforward(*tangents):
            out, tangent_out = jvp(fun_of_leaves, tuple(leaves), tangents)
            tangent_leaves, out_tree = tree_flatten(tangent_out)
            out_trees.append((out_tree, [get_aval(o) for o in tree_flatten(out)[0]]))
            return tangent_leaves

        # Each output leaf gets the basis axis last: shape out.shape + (n,).
        columns = vmap(pushforward, out_axes=-1)(*_basis(in_avals))
        out_tree, out_avals = out_trees[0]
        jacobian = []
        for stacked, out_aval in zip(columns, out_avals, strict=True):
            blocks = _split_block(stacked, out_aval.ndim, in_avals, lambda a, o=out_aval: o.shape + a.shape)
            jacobian.append(tree_unflatten(in_tree, blocks))
        return tree_unflatten(out_tree, jacobian)

    return jacfwd_fun


def jacrev(fun, argnums=0):
    """The Jacobian of ``fun`` by reverse mode: one ``vjp`` mapped over the output basis.

    Args:
      fun: a function of arrays (pytrees of arrays) with floating-point outputs.
      argnums: the argument (int) or arguments (tuple) to differentiate with respect to.

    Returns:
      A function with ``fun``'s arguments returning the Jacobian, of shape
      ``out.shape + in.shape`` for each output leaf and input leaf.

    Example:
      >>> import numpy as np
      >>> import minigrad.numpy as mnp
      >>> jacrev(lambda x: mnp.sum(x ** 2))(np.array([1.0, 3.0]))
      array([2., 6.])
    """
    check_callable("jacrev", fun)
    check_argnums_type("jacrev", argnums)

    @functools.wraps(fun)
    def jacrev_fun(*args):
        leaves, in_tree, fun_of_leaves = _differentiated("jacrev", fun, argnums, args)
        in_avals = [get_aval(leaf) for leaf in leaves]
        out, vjp_fn = vjp(fun_of_leaves, *leaves)
        out_leaves, out_tree = tree_flatten(out)
        out_avals = [get_aval(o) for o in out_leaves]
        for aval in out_avals:
            if not is_float_dtype(aval.dtype):
                raise TypeError(
                    f"jacrev: the function has an output of dtype {aval.dtype}; reverse mode needs "
                    "floating-point outputs. Cast it, or return it from a separate function."
                )

        def pullback(*cotangent_leaves):
            return vjp_fn(tree_unflatten(out_tree, cotangent_leaves))

        # One row per output element: each input leaf gets shape (m, *in.shape).
        rows = vmap(pullback)(*_basis(out_avals))
        jacobian = []
        per_input = [
            _split_block(stacked, 0, out_avals, lambda o, a=in_aval: o.shape + a.shape)
            for stacked, in_aval in zip(rows, in_avals, strict=True)
        ]
        for j in range(len(out_avals)):
            jacobian.append(tree_unflatten(in_tree, [blocks[j] for blocks in per_input]))
        return tree_unflatten(out_tree, jacobian)

    return jacrev_fun


# JAX's name for the reverse-mode Jacobian.
jacobian = jacrev


def hessian(fun, argnums=0):
    """The Hessian of a scalar ``fun``: ``jacfwd(jacrev(fun))``, forward over reverse.

    Args:
      fun: a function of arrays (pytrees of arrays) returning a scalar.
      argnums: the argument (int) or arguments (tuple) to differentiate with respect to.

    Returns:
      A function with ``fun``'s arguments returning the matrix of second derivatives, of
      shape ``in.shape + in.shape`` (for pytrees: one block per pair of input leaves).

    Example:
      >>> import numpy as np
      >>> import minigrad.numpy as mnp
      >>> hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))
      array([[4., 2.],
             [2., 0.]])
    """
    check_callable("hessian", fun)
    return jacfwd(jacrev(fun, argnums), argnums)
