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
import dataclasses
import functools
import itertools
import operator
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

import attrs

# ``mg.tree.map`` is ``tree_map`` and so on, as ``jax.tree`` names them. They are looked up
# through the module's ``__getattr__`` rather than bound here, so that ``map``, ``all``
# and friends never shadow the builtins inside this module.
NEW_STYLE_NAMES = (
    "map", "leaves", "structure", "flatten", "unflatten", "reduce", "all",
    "leaves_with_path", "map_with_path", "flatten_with_path", "transpose",
)  # fmt: skip

__all__ = [
    "PyTreeDef",
    "register_pytree_node",
    "tree_flatten",
    "tree_flatten_with_path",
    "tree_leaves",
    "tree_map",
    "tree_structure",
    "tree_unflatten",
    "tree_reduce",
    "tree_all",
    "tree_leaves_with_path",
    "tree_map_with_path",
    "tree_transpose",
    "register_pytree_node_class",
    "register_dataclass",
    "keystr",
    # JAX's new-style names (``jax.tree.map``), served by ``__getattr__`` below
    *NEW_STYLE_NAMES,
]


_NO_INITIALIZER = object()  # tree_reduce without an initializer, as functools.reduce


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

    def to_children(obj):
        children, aux = flatten(obj)
        return list(children), aux

    def child_keys(obj, aux):
        return [f"<{nodetype.__name__}>[{i}]" for i in range(len(to_children(obj)[0]))]

    _register("register_pytree_node", nodetype, _NodeType(to_children, unflatten, child_keys))


def _register(caller: str, nodetype: type, node: _NodeType) -> None:
    if nodetype in _registry:
        raise ValueError(
            f"{caller}: {nodetype.__name__} is already registered as a pytree node; "
            "a type can be registered once (registering it again would change how existing "
            "trees of it flatten)."
        )
    _registry[nodetype] = node


def register_pytree_node_class(cls: type) -> type:
    """Class decorator: register ``cls`` through its own ``tree_flatten`` method and
    ``tree_unflatten`` classmethod (as ``jax.tree_util.register_pytree_node_class``).

    Args:
      cls: a class with ``tree_flatten(self) -> (children, aux_data)`` and
        ``tree_unflatten(cls, aux_data, children)`` (a classmethod).

    Returns:
      ``cls`` itself, now a pytree node.

    Example:
      >>> @register_pytree_node_class
      ... class Scaled:
      ...     def __init__(self, value, scale):
      ...         self.value, self.scale = value, scale
      ...     def tree_flatten(self):
      ...         return (self.value,), self.scale  # the scale is static data
      ...     @classmethod
      ...     def tree_unflatten(cls, scale, children):
      ...         return cls(children[0], scale)
      >>> tree_map(lambda v: v * 10, Scaled(1.5, "x")).value
      15.0
    """
    for method in ("tree_flatten", "tree_unflatten"):
        if not callable(getattr(cls, method, None)):
            raise TypeError(
                f"register_pytree_node_class: {cls.__name__} has no {method} method; define "
                "tree_flatten(self) -> (children, aux_data) and the classmethod "
                "tree_unflatten(cls, aux_data, children)."
            )
    register_pytree_node(cls, lambda obj: obj.tree_flatten(), cls.tree_unflatten)
    return cls


def register_dataclass(nodetype: type | None = None, data_fields=None, meta_fields=None):
    """Register a dataclass as a pytree node: its data fields are children, its meta
    fields static data (hashable, part of the structure, as a jit static argument).

    As ``jax.tree_util.register_dataclass``: usable as a decorator. Without
    ``data_fields``/``meta_fields``, a field is meta when declared with
    ``dataclasses.field(metadata={"static": True})``, data otherwise.

    Args:
      nodetype: a class made with ``@dataclasses.dataclass``.
      data_fields: names of the fields holding arrays (the children).
      meta_fields: names of the other fields.

    Returns:
      ``nodetype``, now a pytree node (or a decorator, when called without it).

    Example:
      >>> import dataclasses
      >>> @register_dataclass
      ... @dataclasses.dataclass
      ... class Params:
      ...     w: float
      ...     b: float
      ...     name: str = dataclasses.field(default="lin", metadata={"static": True})
      >>> tree_leaves(Params(1.0, 2.0)), tree_map(lambda v: -v, Params(1.0, 2.0))
      ([1.0, 2.0], Params(w=-1.0, b=-2.0, name='lin'))
      >>> tree_flatten_with_path(Params(1.0, 2.0))[0]
      [('.w', 1.0), ('.b', 2.0)]
    """
    if nodetype is None:
        return functools.partial(register_dataclass, data_fields=data_fields, meta_fields=meta_fields)
    data, meta = _dataclass_fields(nodetype, data_fields, meta_fields)

    def to_children(obj):
        return [getattr(obj, name) for name in data], tuple(getattr(obj, name) for name in meta)

    def from_children(aux, children):
        return nodetype(**dict(zip(data, children, strict=True)), **dict(zip(meta, aux, strict=True)))

    def child_keys(obj, aux):
        return [f".{name}" for name in data]

    _register("register_dataclass", nodetype, _NodeType(to_children, from_children, child_keys))
    return nodetype


def _dataclass_fields(nodetype, data_fields, meta_fields) -> tuple[tuple, tuple]:
    """The data and meta field names of a dataclass, checked to cover its init fields."""
    if not dataclasses.is_dataclass(nodetype):
        raise TypeError(
            f"register_dataclass: {nodetype.__name__} is not a dataclass; decorate it with "
            "@dataclasses.dataclass first (below @register_dataclass), or use register_pytree_node."
        )
    fields = [f for f in dataclasses.fields(nodetype) if f.init]
    if data_fields is None and meta_fields is None:
        meta = tuple(f.name for f in fields if f.metadata.get("static", False))
        data = tuple(f.name for f in fields if f.name not in meta)
        return data, meta
    data, meta = tuple(data_fields or ()), tuple(meta_fields or ())
    expected = {f.name for f in fields}
    if set(data) | set(meta) != expected or set(data) & set(meta):
        raise ValueError(
            f"register_dataclass: data_fields {list(data)} and meta_fields {list(meta)} of "
            f"{nodetype.__name__} must split its init fields {sorted(expected)}, each exactly once."
        )
    return data, meta


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
    # Whether this is the treedef `tree_flatten` keeps for its structure (not compared).
    kept: bool = attrs.field(default=False, eq=False, repr=False)

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


_LEAF = PyTreeDef(None, None, (), 1, kept=True)


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
    children_kept = True
    for child in children:
        kind = type(child)
        if is_leaf is None and kind not in _registry and not issubclass(kind, tuple):
            leaves.append(child)  # a leaf (an array, a number), without a call
            child_defs.append(_LEAF)
            num_leaves += 1
            continue
        child_def = _flatten(child, leaves, is_leaf)
        child_defs.append(child_def)
        num_leaves += child_def.num_leaves
        children_kept = children_kept and child_def.kept
    child_defs = tuple(child_defs)
    # A training loop flattens the same parameters at every step: one treedef per
    # structure is kept and returned again, so it is not built, hashed and compared
    # anew (a jitted call finds its program by identity). Kept only for small nodes
    # of kept children whose aux is None, a class (a namedtuple's) or str keys: equal
    # only when interchangeable (dict keys 1, 1.0 and True are equal, yet unflattening
    # must give back the caller's own), and cheap to hold.
    if children_kept and len(child_defs) <= 64 and _plain_aux(aux):
        key = (node, aux, child_defs)
        treedef = _KEPT.get(key)
        if treedef is None:
            if len(_KEPT) >= 4096:  # a bound: the table starts again
                _KEPT.clear()
            treedef = _KEPT[key] = PyTreeDef(node, aux, child_defs, num_leaves, kept=True)
        return treedef
    return PyTreeDef(node, aux, child_defs, num_leaves)


def _plain_aux(aux) -> bool:
    """Whether ``aux`` is None, a class, or a tuple of ``str`` (exactly: no subclass)."""
    if aux is None or type(aux) is type:
        return True
    return type(aux) is tuple and all(map(operator.is_, map(type, aux), itertools.repeat(str)))


_KEPT: dict = {}  # (node type, aux, child treedefs) -> the kept treedef


def tree_flatten(tree, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, PyTreeDef]:
    """Split a pytree into its list of leaves and its treedef.

    Dict entries come in sorted key order. ``None`` is an empty container (no leaves).

    Example:
      >>> leaves, treedef = tree_flatten([1, {"x": 2, "y": None}])
      >>> leaves, treedef
      ([1, 2], [*, {'x': *, 'y': None}])
    """
    if type(tree) is tuple and is_leaf is None:
        # Every jitted call flattens its arguments, most often a tuple of arrays: a tuple
        # of leaves, whose treedef depends on their count alone (made once per count).
        for item in tree:
            kind = type(item)
            if kind in _registry or issubclass(kind, tuple):
                break
        else:
            treedef = _LEAF_TUPLES.get(len(tree))
            if treedef is None:
                treedef = _flatten(tree, [], None)
                if treedef.kept:
                    _LEAF_TUPLES[len(tree)] = treedef
            return list(tree), treedef
    leaves: list = []
    treedef = _flatten(tree, leaves, is_leaf)
    return leaves, treedef


_LEAF_TUPLES: dict[int, PyTreeDef] = {}  # count -> the kept treedef of that many leaves


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


def tree_reduce(function: Callable, tree, initializer: Any = _NO_INITIALIZER, is_leaf=None):
    """Fold ``function`` over the leaves, left to right (as ``functools.reduce``).

    Example:
      >>> tree_reduce(lambda a, b: a + b, {"x": 1, "y": [2, 3]}, 10)
      16
    """
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _NO_INITIALIZER:
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_all(tree, is_leaf=None) -> bool:
    """Whether every leaf is true (an empty tree is).

    Example:
      >>> tree_all({"a": True, "b": (1, 2)}), tree_all([True, 0])
      (True, False)
    """
    return all(bool(leaf) for leaf in tree_leaves(tree, is_leaf))


def tree_leaves_with_path(tree, is_leaf=None) -> list[tuple[str, Any]]:
    """``(path, leaf)`` pairs, as ``tree_flatten_with_path`` without the treedef.

    Example:
      >>> tree_leaves_with_path({"w": [5]})
      [("['w'][0]", 5)]
    """
    return tree_flatten_with_path(tree, is_leaf)[0]


def tree_map_with_path(f: Callable, tree, *rest, is_leaf=None):
    """Like ``tree_map``, but ``f`` receives each leaf's path first: ``f(path, x, *xs)``.

    Example:
      >>> tree_map_with_path(lambda path, x: f"{path}={x}", {"a": 1, "b": (2,)})
      {'a': "['a']=1", 'b': ("['b'][0]=2",)}
    """
    # tree_map calls f leaf by leaf in flattening order, the order of the paths.
    paths = iter([path for path, _ in tree_leaves_with_path(tree, is_leaf)])
    return tree_map(lambda *xs: f(next(paths), *xs), tree, *rest, is_leaf=is_leaf)


def tree_transpose(outer_treedef: PyTreeDef, inner_treedef: PyTreeDef, pytree_to_transpose):
    """Turn a tree of structure ``outer`` of trees of structure ``inner`` into an
    ``inner`` tree of ``outer`` trees (as ``jax.tree_util.tree_transpose``).

    Example:
      >>> outer, inner = tree_structure([0, 0]), tree_structure({"a": 0, "b": 0})
      >>> tree_transpose(outer, inner, [{"a": 1, "b": 2}, {"a": 3, "b": 4}])
      {'a': [1, 3], 'b': [2, 4]}
    """
    leaves, treedef = tree_flatten(pytree_to_transpose)
    inner_size, outer_size = inner_treedef.num_leaves, outer_treedef.num_leaves
    if treedef.num_leaves != inner_size * outer_size:
        raise TypeError(
            f"tree_transpose: the tree has structure {treedef!r} ({treedef.num_leaves} leaves), "
            f"which is not the outer structure {outer_treedef!r} of inner structures {inner_treedef!r}."
        )
    by_outer = [leaves[i * inner_size : (i + 1) * inner_size] for i in range(outer_size)]
    by_inner = [[group[j] for group in by_outer] for j in range(inner_size)]
    return tree_unflatten(inner_treedef, [tree_unflatten(outer_treedef, group) for group in by_inner])


_NEW_STYLE = {
    "map": tree_map,
    "leaves": tree_leaves,
    "structure": tree_structure,
    "flatten": tree_flatten,
    "unflatten": tree_unflatten,
    "reduce": tree_reduce,
    "all": tree_all,
    "leaves_with_path": tree_leaves_with_path,
    "map_with_path": tree_map_with_path,
    "flatten_with_path": tree_flatten_with_path,
    "transpose": tree_transpose,
}
assert set(_NEW_STYLE) == set(NEW_STYLE_NAMES)


def __getattr__(name: str):
    try:
        return _NEW_STYLE[name]
    except KeyError:
        raise AttributeError(f"module 'minigrad.tree' has no attribute {name!r}") from None


def __dir__():
    return sorted({*globals(), *_NEW_STYLE})
