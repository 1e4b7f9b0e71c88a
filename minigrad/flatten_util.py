"""``ravel_pytree``: a pytree of arrays as one flat vector, and the way back.

Optimizers from SciPy, line searches and Hessian-vector code want one vector of
parameters; models keep a dict of arrays. ``ravel_pytree`` concatenates the leaves
(raveled, in pytree order, promoted to one dtype) and returns the function that cuts
such a vector back into the original structure, shapes and dtypes. Both are built
from ``minigrad.numpy`` operations, so every transform applies to them.

Example:
    >>> import numpy as np
    >>> flat, unravel = ravel_pytree({"b": 1.0, "w": np.ones((2, 2))})
    >>> flat
    array([1., 1., 1., 1., 1.])
    >>> unravel(flat * 2)["w"]
    array([[2., 2.],
           [2., 2.]])
"""

from __future__ import annotations

import numpy as np

import minigrad.numpy as mnp
from minigrad.tree import tree_flatten, tree_unflatten

__all__ = ["ravel_pytree"]


def ravel_pytree(pytree):
    """Flatten a pytree of arrays into one 1-d array (as ``jax.flatten_util.ravel_pytree``).

    Args:
      pytree: a pytree of arrays or numbers (traced ones too).

    Returns:
      ``(flat, unravel)``: ``flat`` is the leaves raveled and concatenated in pytree
      order, in their common (promoted) dtype; ``unravel(vector)`` rebuilds the pytree,
      each leaf with its original shape and dtype.

    Example:
      >>> import minigrad as mg
      >>> params = (np.array([1.0, 2.0]), np.array(3.0))
      >>> flat, unravel = ravel_pytree(params)
      >>> mg.grad(lambda v: mnp.sum(unravel(v)[0] * unravel(v)[1]))(flat)
      array([3., 3., 3.])
    """
    leaves, treedef = tree_flatten(pytree)
    arrays = [mnp.asarray(leaf) for leaf in leaves]
    shapes = [tuple(a.shape) for a in arrays]
    dtypes = [np.dtype(a.dtype) for a in arrays]
    sizes = [int(np.prod(shape, dtype=int)) for shape in shapes]
    common = np.result_type(*dtypes) if dtypes else np.dtype(np.float64)
    if arrays:
        flat = mnp.concatenate([mnp.ravel(a).astype(common) for a in arrays])
    else:
        flat = np.zeros(0, common)

    def unravel(vector):
        if tuple(mnp.shape(vector)) != (sum(sizes),):
            raise ValueError(
                f"ravel_pytree's unravel: expected a vector of shape ({sum(sizes)},), the size of "
                f"the raveled tree, got shape {tuple(mnp.shape(vector))}."
            )
        pieces, offset = [], 0
        for shape, dtype, size in zip(shapes, dtypes, sizes, strict=True):
            piece = vector[offset : offset + size]
            pieces.append(mnp.reshape(piece, shape).astype(dtype))
            offset += size
        return tree_unflatten(treedef, pieces)

    return flat, unravel
