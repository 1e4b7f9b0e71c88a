"""``minigrad.tree_util``: the pytree functions under the module name JAX gives them
(``jax.tree_util``), so ``from minigrad.tree_util import register_pytree_node_class``
works as written. Everything here is ``minigrad.tree``'s, re-exported by name.

Example:
    >>> from minigrad.tree_util import tree_map
    >>> tree_map(lambda x: x + 1, {"a": 1})
    {'a': 2}
"""

from minigrad.tree import (
    PyTreeDef,
    keystr,
    register_dataclass,
    register_pytree_node,
    register_pytree_node_class,
    tree_all,
    tree_flatten,
    tree_flatten_with_path,
    tree_leaves,
    tree_leaves_with_path,
    tree_map,
    tree_map_with_path,
    tree_reduce,
    tree_structure,
    tree_transpose,
    tree_unflatten,
)

__all__ = [
    "PyTreeDef",
    "keystr",
    "register_dataclass",
    "register_pytree_node",
    "register_pytree_node_class",
    "tree_all",
    "tree_flatten",
    "tree_flatten_with_path",
    "tree_leaves",
    "tree_leaves_with_path",
    "tree_map",
    "tree_map_with_path",
    "tree_reduce",
    "tree_structure",
    "tree_transpose",
    "tree_unflatten",
]
