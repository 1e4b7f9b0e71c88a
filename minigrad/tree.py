"""Pytrees: nested containers of arrays, flattened to a list of leaves and a treedef.

Transforms accept and return arbitrary nestings of tuples, lists, dicts, namedtuples,
``None`` and registered types. They flatten those at the boundary, work on flat lists of
arrays, and rebuild the user's structure on the way out. This module depends on nothing
else in minigrad.

Example:
    >>> leaves, treedef = tree_flatten({"b": (1, 2), "a": [3]})
    >>> leaves
    [3, 1, 2]
    >>> tree_unflatten(treedef, [x * 10 for x in leaves])
    {'a': [30], 'b': (10, 20)}
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

import attrs

__all__ = [
    "PyTreeDef",
    "register_pytree_node",
    "tree_flatten",
    "tree_flatten_with_path",
    "tree_leaves",
    "tree_map",
    "tree_structure",
    "tree_unflatten",
    "keystr",
]


class _NodeType(NamedTuple):
    """How to take one container type apart and put it back together."""

    to_children: Callable[[Any], tuple[list, Hashable]]
    from_children: Callable[[Hashable, list], Any]
    child_keys: Callable[[Any, Hashable], list[str]]


_registry: dict[type, _NodeType] = {}


def register_pytree_node(
    nodetype: type,
    flatten: Callable[[Any], tuple[Any, Hashable]],
    unflatten: Callable[[Hashable, Any], Any],
) -> None:
    """Teach the pytree functions to look inside instances of ``nodetype``.

    Args:
      nodetype: the container class.
      flatten: ``obj -> (children, aux_data)``; ``children`` is an iterable of subtrees
        and ``aux_data`` a hashable description of everything else.
      unflatten: ``(aux_data, children) -> obj``.

    Example:
      >>> class Pair:
      ...     def __init__(self, a, b):
      ...         self.a, self.b = a, b
      >>> register_pytree_node(Pair, lambda p: ((p.a, p.b), None),
      ...                      lambda aux, ch: Pair(*ch))
      >>> tree_leaves(Pair(1, (2, 3)))
      [1, 2, 3]

    Raises:
      ValueError: ``nodetype`` is registered already (built-in containers included).
    """
    if nodetype in _registry:
        raise ValueError(
            f"register_pytree_node: {nodetype.__name__} is already registered as a pytree node; "
            "a type can be registered once (registering it again would change how existing "
            "trees of it flatten)."
        )

    def to_children(obj):
        children, aux = flatten(obj)
        return list(children), aux

    def child_keys(obj, aux):
        return [f"<{nodetype.__name__}>[{i}]" for i in range(len(to_children(obj)[0]))]

    _registry[nodetype] = _NodeType(to_children, unflatten, child_keys)


def _flatten_dict(d):
    keys = sorted(d)
    return [d[k] for k in keys], tuple(keys)


def _dict_child_keys(d, keys):
    return [f"[{k!r}]" for k in keys]


def _sequence_child_keys(seq, aux):
    return [f"[{i}]" for i in range(len(seq))]


_registry[tuple] = _NodeType(lambda t: (list(t), None), lambda _, ch: tuple(ch), _sequence_child_keys)
_registry[list] = _NodeType(lambda t: (list(t), None), lambda _, ch: list(ch), _sequence_child_keys)
_registry[dict] = _NodeType(
    _flatten_dict, lambda keys, ch: dict(zip(keys, ch, strict=True)), _dict_child_keys
)
_registry[type(None)] = _NodeType(lambda _: ([], None), lambda _, ch: None, lambda _, aux: [])


# As in JAX: an OrderedDict keeps its keys' order (it is part of the structure); a
# defaultdict sorts them like a dict and keeps its default factory.
def _flatten_ordered_dict(d):
    return list(d.values()), tuple(d)


def _flatten_defaultdict(d):
    keys = sorted(d)
    return [d[k] for k in keys], (d.default_factory, tuple(keys))


def _unflatten_defaultdict(aux, children):
    factory, keys = aux
    return collections.defaultdict(factory, zip(keys, children, strict=True))


_registry[collections.OrderedDict] = _NodeType(
    _flatten_ordered_dict,
    lambda keys, ch: collections.OrderedDict(zip(keys, ch, strict=True)),
    _dict_child_keys,
)
_registry[collections.defaultdict] = _NodeType(
    _flatten_defaultdict, _unflatten_defaultdict, lambda d, aux: _dict_child_keys(d, aux[1])
)

_namedtuple_node = _NodeType(
    lambda t: (list(t), type(t)),
    lambda cls, ch: cls(*ch),
    lambda t, cls: [f".{name}" for name in t._fields],
)


def _node_type(obj) -> _NodeType | None:
    node = _registry.get(type(obj))
    if node is None and isinstance(obj, tuple) and hasattr(type(obj), "_fields"):
        return _namedtuple_node
    return node


@attrs.frozen(cache_hash=True)
class PyTreeDef:
    """The shape of a pytree with its leaves taken out.

    ``node`` is ``None`` for a leaf; otherwise the container's node type, its hashable
    ``aux`` data and the treedefs of its children. Two trees with the same structure have
    equal treedefs, which is what transforms compare and cache on.
    """

    node: _NodeType | None
    aux: Hashable
    children: tuple[PyTreeDef, ...]
    num_leaves: int

    def unflatten(self, leaves):
        return tree_unflatten(self, leaves)

    def __repr__(self):
        if self.node is None:
            return "*"
        inner = ", ".join(map(repr, self.children))
        if self.node is _registry[tuple]:
            return f"({inner})"
        if self.node is _registry[list]:
            return f"[{inner}]"
        if self.node is _registry[type(None)]:
            return "None"
        if self.node is _registry[dict]:
            items = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.aux, self.children, strict=True))
            return "{" + items + "}"
        if self.node is _registry[collections.OrderedDict]:
            items = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.aux, self.children, strict=True))
            return "OrderedDict({" + items + "})"
        if self.node is _registry[collections.defaultdict]:
            items = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.aux[1], self.children, strict=True))
            return "defaultdict({" + items + "})"
        if self.node is _namedtuple_node:
            return f"{self.aux.__name__}({inner})"
        return f"CustomNode({inner})"


_LEAF = PyTreeDef(None, None, (), 1)


def _flatten(tree, leaves: list, is_leaf) -> PyTreeDef:
    # Every transform call flattens its arguments, so this loop is kept tight.
    if is_leaf is not None and is_leaf(tree):
        leaves.append(tree)
        return _LEAF
    node = _registry.get(type(tree))
    if node is None:
        if not (isinstance(tree, tuple) and hasattr(type(tree), "_fields")):
            leaves.append(tree)
            return _LEAF
        node = _namedtuple_node
    children, aux = node.to_children(tree)
    child_defs = []
    num_leaves = 0
    for child in children:
        child_def = _flatten(child, leaves, is_leaf)
        child_defs.append(child_def)
        num_leaves += child_def.num_leaves
    return PyTreeDef(node, aux, tuple(child_defs), num_leaves)


def tree_flatten(tree, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, PyTreeDef]:
    """Split a pytree into its list of leaves and its treedef.

    Dict entries come in sorted key order. ``None`` is an empty container (no leaves).

    Example:
      >>> leaves, treedef = tree_flatten([1, {"x": 2, "y": None}])
      >>> leaves, treedef
      ([1, 2], [*, {'x': *, 'y': None}])
    """
    leaves: list = []
    treedef = _flatten(tree, leaves, is_leaf)
    return leaves, treedef


def tree_unflatten(treedef: PyTreeDef, leaves) -> Any:
    """Rebuild a pytree of the given structure from a sequence of leaves.

    Example:
      >>> _, treedef = tree_flatten((0, [0, 0]))
      >>> tree_unflatten(treedef, ["a", "b", "c"])
      ('a', ['b', 'c'])
    """
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"tree_unflatten: the treedef {treedef!r} has {treedef.num_leaves} leaves "
            f"but {len(leaves)} were given."
        )
    return _build(treedef, iter(leaves))


def _build(treedef: PyTreeDef, leaves):
    if treedef.node is None:
        return next(leaves)
    children = [_build(child, leaves) for child in treedef.children]
    return treedef.node.from_children(treedef.aux, children)


def tree_leaves(tree, is_leaf=None) -> list:
    """The leaves of a pytree, left to right (dicts by sorted key).

    Example:
      >>> tree_leaves({"w": 1, "b": [2, 3]})
      [2, 3, 1]
    """
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None) -> PyTreeDef:
    """The treedef of a pytree.

    Example:
      >>> tree_structure((1, 2)) == tree_structure((3, 4))
      True
    """
    return tree_flatten(tree, is_leaf)[1]


def tree_map(f: Callable, tree, *rest, is_leaf=None):
    """Apply ``f`` leaf-wise to one or more pytrees of the same structure.

    Example:
      >>> tree_map(lambda a, b: a + b, {"w": 1, "b": 2}, {"w": 10, "b": 20})
      {'b': 22, 'w': 11}
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = []
    for i, other in enumerate(rest):
        other_leaves, other_def = tree_flatten(other, is_leaf)
        if other_def != treedef:
            raise ValueError(
                f"tree_map: argument {i + 1} has structure {other_def!r}, which differs "
                f"from the first argument's {treedef!r}."
            )
        others.append(other_leaves)
    return treedef.unflatten(f(*xs) for xs in zip(leaves, *others, strict=True))


def tree_flatten_with_path(tree, is_leaf=None) -> tuple[list[tuple[str, Any]], PyTreeDef]:
    """Like ``tree_flatten`` but each leaf comes with its path, e.g. ``"[0]['w']"``.

    Example:
      >>> tree_flatten_with_path({"w": (1, 2)})[0]
      [("['w'][0]", 1), ("['w'][1]", 2)]
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    paths: list[str] = []
    _collect_paths(tree, "", paths, is_leaf)
    return list(zip(paths, leaves, strict=True)), treedef


def _collect_paths(tree, prefix: str, paths: list, is_leaf) -> None:
    node = None if (is_leaf is not None and is_leaf(tree)) else _node_type(tree)
    if node is None:
        paths.append(prefix)
        return
    children, aux = node.to_children(tree)
    for key, child in zip(node.child_keys(tree, aux), children, strict=True):
        _collect_paths(child, prefix + key, paths, is_leaf)


def keystr(path: str) -> str:
    """A path as printed in error messages (the empty path is the tree itself).

    Example:
      >>> keystr("['w'][0]"), keystr("")
      ("['w'][0]", '<root>')
    """
    return path or "<root>"
