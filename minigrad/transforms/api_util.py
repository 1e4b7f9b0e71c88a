"""What every transform does at its boundary: flatten pytrees, check the leaves, pick
the arguments named by ``argnums``.

Example:
    >>> import numpy as np
    >>> leaves, treedef = flatten_arguments("grad", ({"w": np.ones(2)},))
    >>> len(leaves)
    1
"""

from __future__ import annotations

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.tree import keystr, tree_flatten, tree_flatten_with_path

__all__ = ["flatten_arguments", "normalize_argnums", "is_array_leaf", "as_array"]

_SCALAR_TYPES = (bool, int, float, complex, np.generic)


def is_array_leaf(x) -> bool:
    return isinstance(x, (np.ndarray, Tracer, *_SCALAR_TYPES))


def as_array(x):
    """Leaves as arrays: Python scalars become 0-d NumPy arrays; tracers stay."""
    if isinstance(x, (np.ndarray, Tracer)):
        return x
    return np.asarray(x)


def flatten_arguments(transform: str, tree, what: str = "args"):
    """Flatten a pytree of arguments, rejecting leaves that are not arrays or scalars."""
    leaves, treedef = tree_flatten(tree)
    if not all(is_array_leaf(leaf) for leaf in leaves):
        for path, leaf in tree_flatten_with_path(tree)[0]:
            if not is_array_leaf(leaf):
                raise TypeError(
                    f"{transform}: {what}{keystr(path)} is of type {type(leaf).__name__}, "
                    "which is not an array. Leaves of the pytrees passed to a transform must be "
                    "arrays or numbers; register other containers with "
                    "minigrad.tree.register_pytree_node, or close over non-array values."
                )
    return [as_array(leaf) for leaf in leaves], treedef


def normalize_argnums(transform: str, argnums, num_args: int) -> tuple[int, ...]:
    single = isinstance(argnums, int)
    argnums_tuple = (argnums,) if single else tuple(argnums)
    for argnum in argnums_tuple:
        if not isinstance(argnum, int) or not -num_args <= argnum < num_args:
            raise ValueError(
                f"{transform}: argnums={argnums!r} does not fit a call with {num_args} positional arguments."
            )
    return tuple(a % num_args for a in argnums_tuple)
