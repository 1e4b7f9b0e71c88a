"""The shape of a saved tree: a flat list of nodes in preorder, stored as JSON.

A tree is saved as its leaves (archive members ``leaf_0``, ``leaf_1``, ... in the order
they are met) and one list of nodes, visited in preorder, each a short JSON array::

    ["none"]                                       None
    ["leaf", python]                               the next leaf; python is null or
                                                   "bool", "int", "float", "complex", "str"
    ["tuple", n], ["list", n]                      a container of the next n subtrees
    ["dict", [[kind, key], ...]]                   kind "str" or "int"; one subtree per key
    ["namedtuple", module, qualname, [field, ...]] one subtree per field

The list is flat, so its JSON is a few levels deep however deep the tree is, and both
directions walk it with explicit stacks: depth is bounded by memory, never by Python's
stack. Leaves are numbered by their place in the list, so no leaf can sit at two places.
Files of format 1 (one nested JSON object per node) are translated into the same list.

Example:
    >>> import numpy as np
    >>> nodes, leaves = encode({"w": np.ones(2), "step": 3, "extra": None})
    >>> nodes
    [['dict', [['str', 'w'], ['str', 'step'], ['str', 'extra']]], ['leaf', None], ['leaf', 'int'], ['none']]
    >>> decode(nodes, leaves, {})
    {'w': array([1., 1.]), 'step': 3, 'extra': None}
"""

from __future__ import annotations

import collections
import functools

import numpy as np

from minigrad.core.trace import is_tracer
from minigrad.io.errors import UnreadableError

__all__ = ["encode", "decode", "nodes_from_format_1", "namedtuple_key"]

# Python scalars stored as leaves, and the NumPy dtype kinds that may hold each of them.
_PYTHON_SCALARS = {"bool": bool, "int": int, "float": float, "complex": complex, "str": str}
_SCALAR_KINDS = {"bool": "b", "int": "iu", "float": "f", "complex": "c"}
_LEAVE = object()  # marks, on the encoder's stack, the end of a container's subtrees


# --- Saving -----------------------------------------------------------------------


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def namedtuple_key(cls) -> tuple[str, str, tuple[str, ...]]:
    """How a namedtuple class is named in a file: its module, qualname and fields."""
    return cls.__module__, cls.__qualname__, tuple(cls._fields)


def _encode_key(key, where: str) -> list:
    if isinstance(key, str):
        return ["str", key]
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return ["int", int(key)]
    raise TypeError(
        f"io.save: dict key {key!r} at {where or 'the root'} has type {type(key).__name__}; "
        "only str and int keys can be stored."
    )


def _container(tree, where: str):
    """``(node, [(child, where), ...])`` for a container, or ``None`` for a leaf."""
    if tree is None:
        return ["none"], []
    if _is_namedtuple(tree):
        cls = type(tree)
        module, qualname, fields = namedtuple_key(cls)
        return ["namedtuple", module, qualname, list(fields)], [
            (child, f"{where}.{field}") for field, child in zip(fields, tree, strict=True)
        ]
    if type(tree) in (tuple, list):
        return [type(tree).__name__, len(tree)], [(c, f"{where}[{i}]") for i, c in enumerate(tree)]
    if type(tree) is dict:
        keys = [_encode_key(k, where) for k in tree]
        return ["dict", keys], [(v, f"{where}[{k!r}]") for k, v in tree.items()]
    return None


def _python_leaf(leaf, where: str) -> np.ndarray:
    if type(leaf) is str:
        # UTF-8 bytes, not a NumPy string: fixed-width strings drop trailing NULs.
        return np.frombuffer(leaf.encode("utf-8", "surrogatepass"), np.uint8).copy()
    if type(leaf) is int and not -(2**63) <= leaf < 2**64:
        raise TypeError(
            f"io.save: the int at {where or 'the root'} ({leaf}) does not fit in 64 bits; "
            "store it as a string or split it into words."
        )
    return np.asarray(leaf)


def _encode_leaf(leaf, where: str) -> tuple[list, np.ndarray]:
    if is_tracer(leaf):
        raise TypeError(
            f"io.save: the leaf at {where or 'the root'} is a traced array {leaf.aval}; save "
            "concrete values, outside any transform."
        )
    if type(leaf) in _PYTHON_SCALARS.values():
        return ["leaf", type(leaf).__name__], _python_leaf(leaf, where)
    if not isinstance(leaf, (np.ndarray, np.generic)):
        raise TypeError(
            f"io.save: cannot store a {type(leaf).__name__} at {where or 'the root'}. Leaves must "
            "be arrays or Python numbers, inside tuples, lists, dicts, namedtuples or None."
        )
    array = np.asarray(leaf)
    if isinstance(array.dtype, np.dtypes.StringDType):
        raise TypeError(
            f"io.save: the array at {where or 'the root'} has dtype StringDType, which .npy files "
            "store only by pickling. Convert it with .astype(str) (fixed-width strings drop "
            "trailing NUL characters), or store each string as a Python str leaf."
        )
    if array.dtype.hasobject:
        raise TypeError(
            f"io.save: the array at {where or 'the root'} has dtype object, which needs pickling."
        )
    return ["leaf", None], array


def encode(tree) -> tuple[list, list[np.ndarray]]:
    """The preorder node list of ``tree`` and its leaves as arrays.

    Example:
      >>> encode([(), None])
      ([['list', 2], ['tuple', 0], ['none']], [])
    """
    nodes: list = []
    leaves: list[np.ndarray] = []
    on_path: set[int] = set()  # containers being walked: a tree that contains itself loops
    stack: list = [(tree, "")]  # (subtree, where it is), or (_LEAVE, id of a container)
    while stack:
        subtree, where = stack.pop()
        if subtree is _LEAVE:
            on_path.discard(where)
            continue
        container = _container(subtree, where)
        if container is None:
            node, array = _encode_leaf(subtree, where)
            nodes.append(node)
            leaves.append(array)
            continue
        if id(subtree) in on_path:
            raise ValueError(
                f"io.save: the tree contains itself at {where}; a checkpoint holds a tree, not a cycle."
            )
        node, children = container
        nodes.append(node)
        if children:
            on_path.add(id(subtree))
            stack.append((_LEAVE, id(subtree)))
            stack.extend(reversed(children))
    return nodes, leaves


# --- Loading ----------------------------------------------------------------------


def _is_int(x) -> bool:
    return type(x) is int  # JSON true/false arrive as bool, a subclass of int


def _decode_keys(keys) -> list:
    if not isinstance(keys, list):
        raise UnreadableError(f"a dict node's keys are a JSON {type(keys).__name__}, not a list")
    decoded = []
    for pair in keys:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise UnreadableError(f"a dict key is {pair!r}, not a [kind, key] pair")
        kind, key = pair
        if not ((kind == "str" and isinstance(key, str)) or (kind == "int" and _is_int(key))):
            raise UnreadableError(f"a dict key is {pair!r}; keys are ['str', text] or ['int', integer]")
        decoded.append(key)
    if len(set(decoded)) != len(decoded):
        raise UnreadableError(f"a dict node repeats a key among {decoded!r}")
    return decoded


def _parse_node(node) -> tuple[str, int, object]:
    """``(kind, number of subtrees, details)`` of one node, checked against the format."""
    if not (isinstance(node, list) and node and isinstance(node[0], str)):
        raise UnreadableError(f"the node {node!r} is not a JSON list starting with its kind")
    kind, *rest = node
    if kind == "none" and not rest:
        return kind, 0, None
    if kind == "leaf" and len(rest) == 1 and (rest[0] is None or rest[0] in _PYTHON_SCALARS):
        return kind, 0, rest[0]
    if kind in ("tuple", "list") and len(rest) == 1 and _is_int(rest[0]) and rest[0] >= 0:
        return kind, rest[0], None
    if kind == "dict" and len(rest) == 1:
        keys = _decode_keys(rest[0])
        return kind, len(keys), keys
    if kind == "namedtuple" and len(rest) == 3:
        module, qualname, fields = rest
        if isinstance(module, str) and isinstance(qualname, str) and isinstance(fields, list):
            if all(isinstance(f, str) for f in fields):
                return kind, len(fields), (module, qualname, tuple(fields))
    raise UnreadableError(f"the node {node!r} is not one this format knows")


def _python_value(array: np.ndarray, python: str, index: int):
    """The Python scalar a leaf marked ``python`` stands for, if the array can hold it."""
    if python == "str":
        if array.dtype == np.uint8 and array.ndim == 1:
            try:
                return array.tobytes().decode("utf-8", "surrogatepass")
            except UnicodeDecodeError as error:
                raise UnreadableError(f"leaf {index} is a str but not UTF-8 ({error})") from None
        if array.dtype.kind == "U" and array.ndim == 0:
            return str(array.item())  # how format 1 stored strings
    elif array.ndim == 0 and array.dtype.kind in _SCALAR_KINDS[python]:
        return _PYTHON_SCALARS[python](array.item())
    raise UnreadableError(
        f"leaf {index} is marked as a Python {python} but holds an array of dtype {array.dtype} "
        f"and shape {array.shape}"
    )


@functools.lru_cache(maxsize=256)
def _plain_namedtuple(name: str, fields: tuple[str, ...]) -> type:
    """A fresh ``collections.namedtuple``: no code from any module runs to make it."""
    try:
        return collections.namedtuple(name, fields)
    except (ValueError, TypeError) as error:
        raise UnreadableError(
            f"a namedtuple named {name!r} with fields {list(fields)} cannot be made ({error})"
        ) from None


def _make(kind: str, details, children: list, namedtuples: dict):
    if kind == "tuple":
        return tuple(children)
    if kind == "list":
        return children
    if kind == "dict":
        return dict(zip(details, children, strict=True))
    module, qualname, fields = details
    cls = namedtuples.get(details) or _plain_namedtuple(qualname.rpartition(".")[2], fields)
    # _make builds the tuple directly: a class's own __new__ never runs.
    return cls._make(children)


def decode(nodes, leaves: list[np.ndarray], namedtuples: dict):
    """The tree that ``nodes`` describe, with ``leaves`` in it.

    Namedtuples use the class that ``namedtuples`` maps ``namedtuple_key(cls)`` to, or else
    a plain namedtuple of the same name and fields.

    Example:
      >>> decode([["tuple", 2], ["none"], ["list", 0]], [], {})
      (None, [])
    """
    if not isinstance(nodes, list) or not nodes:
        raise UnreadableError("the structure's node list is empty or not a list")
    open_containers: list = []  # [kind, details, size, children] of each unfinished container
    used_leaves = 0
    roots: list = []
    for node in nodes:
        if roots:
            raise UnreadableError(f"the node list goes on after the tree is complete ({len(nodes)} nodes)")
        kind, size, details = _parse_node(node)
        if kind == "leaf":
            if used_leaves == len(leaves):
                raise UnreadableError(f"the structure has more leaves than the {len(leaves)} stored")
            value = leaves[used_leaves]
            value = _python_value(value, details, used_leaves) if details else value
            used_leaves += 1
        elif kind == "none":
            value = None
        elif size == 0:
            value = _make(kind, details, [], namedtuples)
        else:
            open_containers.append((kind, details, size, []))
            continue
        # Give the value to its container; a container that is now full is itself a value.
        while open_containers:
            kind, details, size, children = open_containers[-1]
            children.append(value)
            if len(children) < size:
                break
            open_containers.pop()
            value = _make(kind, details, children, namedtuples)
        else:
            roots.append(value)
    if not roots:
        raise UnreadableError("the node list ends inside a container")
    if used_leaves != len(leaves):
        raise UnreadableError(f"the structure places {used_leaves} leaves but {len(leaves)} are stored")
    return roots[0]


# Format 1: one JSON object per node, with exactly these keys.
_FORMAT_1_KEYS = {
    "none": {"node"},
    "leaf": {"node", "index", "python"},
    "tuple": {"node", "children"},
    "list": {"node", "children"},
    "dict": {"node", "keys", "children"},
    "namedtuple": {"node", "module", "qualname", "fields", "children"},
}


def _format_1_node(obj: dict, next_leaf: int) -> list:
    kind = obj["node"]
    if kind == "leaf":
        if not (_is_int(obj["index"]) and obj["index"] == next_leaf):
            # The saver numbered leaves in preorder; any other index repeats or skips a leaf.
            raise UnreadableError(f"leaf index {obj['index']!r} where leaf {next_leaf} comes next")
        return ["leaf", obj["python"]]
    if kind == "none":
        return ["none"]
    if kind == "dict":
        return ["dict", obj["keys"]]
    if kind == "namedtuple":
        return ["namedtuple", obj["module"], obj["qualname"], obj["fields"]]
    return [kind, len(obj["children"])]


def nodes_from_format_1(structure) -> list:
    """The node list of a format-1 structure (nested objects), checked as it is walked.

    Example:
      >>> nodes_from_format_1({"node": "list", "children": [{"node": "none"}]})
      [['list', 1], ['none']]
    """
    nodes: list = []
    next_leaf = 0
    stack = [structure]
    while stack:
        obj = stack.pop()
        if not (isinstance(obj, dict) and set(obj) == _FORMAT_1_KEYS.get(obj.get("node"))):
            raise UnreadableError(
                f"a format-1 node has kind and keys {obj!r:.200}, which the format does not define"
            )
        children = obj.get("children", [])
        if not isinstance(children, list):
            raise UnreadableError(f"a node's children are a JSON {type(children).__name__}, not a list")
        node = _format_1_node(obj, next_leaf)
        next_leaf += node[0] == "leaf"
        _, size, _ = _parse_node(node)
        if size != len(children):
            raise UnreadableError(f"a {node[0]} node has {size} keys or fields but {len(children)} children")
        nodes.append(node)
        stack.extend(reversed(children))
    return nodes
