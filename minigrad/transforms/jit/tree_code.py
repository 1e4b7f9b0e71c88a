"""Generated code for the pytrees a jitted call takes apart and puts together.

Every call of a jitted function flattens its arguments and rebuilds its outputs, and a
training step's arguments are nested containers (parameters in dicts, an optimizer's
state in namedtuples). ``tree_flatten`` walks them generically, a few function calls
per container, and for the 24 arrays of a GRU's parameters and Adam state that was most
of what a call added to its program (``benchmarks/call_overhead.py``). Once a structure
is known, a function written for it does the same work as straight-line code:

- ``argument_reader(treedef)`` checks that a tree has exactly that structure (each
  container's exact type and length, a dict's keys, each leaf not a container) and
  returns its leaves in ``tree_flatten``'s order, or None for any other tree, which the
  caller then flattens as usual;
- ``output_builder(treedef)`` rebuilds a tree of that structure from flat outputs.

Both handle tuples, lists, None, namedtuples and dicts with ``str`` keys; other
containers (an ``OrderedDict``, a registered class) leave the reader out and the
builder to ``tree_unflatten``.

Example:
    >>> import numpy as np
    >>> from minigrad.tree import tree_flatten
    >>> tree = ({"w": np.ones(2), "b": 0.0}, [np.zeros(3)])
    >>> leaves, treedef = tree_flatten(tree)
    >>> read = argument_reader(treedef)
    >>> [np.shape(leaf) for leaf in read(tree)]
    [(), (2,), (3,)]
    >>> read(({"w": np.ones(2)}, [np.zeros(3)])) is None  # a key missing: not this structure
    True
    >>> output_builder(treedef)(leaves)[0]["w"]
    array([1., 1.])
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from minigrad.tree import _namedtuple_node, _registry, tree_unflatten

__all__ = ["argument_reader", "output_builder"]

_TUPLE_NODE = _registry[tuple]
_LIST_NODE = _registry[list]
_DICT_NODE = _registry[dict]
_NONE_NODE = _registry[type(None)]


# ---------------------------------------------------------------------------------------
# Reading arguments


def argument_reader(treedef):
    """A function ``tree -> leaves or None`` for trees of exactly ``treedef``'s structure
    (see the module docstring), or None where the structure holds other containers.

    The reader accepts what ``tree_flatten`` would give an equal treedef for: a dict
    whose keys equal the structure's (a ``str`` subclass's equal key included, as the
    cache compares keys by equality); it never accepts a tree of another structure.

    Example:
      >>> from minigrad.tree import tree_flatten
      >>> read = argument_reader(tree_flatten([1.0, (2.0, None)])[1])
      >>> read([3.0, (4.0, None)]), read([3.0, [4.0, None]])
      ([3.0, 4.0], None)
    """
    namespace = {"_ndarray": np.ndarray, "_registry": _registry, "_tuple": tuple, "_list": list}
    lines: list = []
    leaves: list = []
    if not _reader_lines(treedef, "t", lines, leaves, namespace, itertools.count()):
        return None
    body = "".join(f"        {line}\n" for line in lines)
    source = (
        "def read(t):\n"
        "    try:\n"
        f"{body}"
        "    except KeyError:\n"  # a dict without one of the keys
        "        return None\n"
        f"    return [{', '.join(leaves)}]\n"
    )
    # Names only: the dict keys and namedtuple classes are bound in the namespace.
    exec(compile(source, "<minigrad argument reader>", "exec"), namespace)  # noqa: S102 - generated above
    return namespace["read"]


def _reader_lines(treedef, expression: str, lines: list, leaves: list, namespace: dict, numbers) -> bool:
    """Append the checks and reads of the subtree at ``expression``; False if unsupported."""
    node = treedef.node
    if node is None:
        name = f"v{len(leaves)}"
        leaves.append(name)
        lines.append(f"{name} = {expression}")
        # A leaf is anything tree_flatten does not take apart: no registered container
        # and no tuple (a namedtuple is a node; other tuple subclasses send the call to
        # the general path, which decides).
        lines.append(
            f"if type({name}) is not _ndarray and (type({name}) in _registry or isinstance({name}, _tuple)): "
            "return None"
        )
        return True
    if node is _NONE_NODE:
        lines.append(f"if {expression} is not None: return None")
        return True
    name = f"c{next(numbers)}"
    lines.append(f"{name} = {expression}")
    count = len(treedef.children)
    if node is _TUPLE_NODE or node is _LIST_NODE:
        container = "_tuple" if node is _TUPLE_NODE else "_list"
        lines.append(f"if type({name}) is not {container} or len({name}) != {count}: return None")
        children = [f"{name}[{position}]" for position in range(count)]
    elif node is _namedtuple_node:
        cls = f"_cls{len(namespace)}"
        namespace[cls] = treedef.aux
        # As tree_flatten: not once the class is registered as a node of its own, and
        # the children as iterating gives them (a class may index otherwise).
        lines.append(f"if type({name}) is not {cls} or {cls} in _registry: return None")
        lines.append(f"{name} = list({name})")
        lines.append(f"if len({name}) != {count}: return None")
        children = [f"{name}[{position}]" for position in range(count)]
    elif node is _DICT_NODE and all(type(key) is str for key in treedef.aux):
        lines.append(f"if type({name}) is not dict or len({name}) != {count}: return None")
        children = []
        for key in treedef.aux:
            constant = f"_key{len(namespace)}"
            namespace[constant] = key
            children.append(f"{name}[{constant}]")
    else:
        return False
    return all(
        _reader_lines(child, child_expression, lines, leaves, namespace, numbers)
        for child, child_expression in zip(treedef.children, children, strict=True)
    )


# ---------------------------------------------------------------------------------------
# Building outputs


def _builder_source(treedef, positions, classes: dict) -> str | None:
    """A Python expression rebuilding ``treedef`` from the flat list ``o``, or None.

    Namedtuple classes (an optimizer's state) are called by the names ``classes`` gives them.
    """
    node = treedef.node
    if node is None:
        return f"o[{next(positions)}]"
    parts = [_builder_source(child, positions, classes) for child in treedef.children]
    if any(part is None for part in parts):
        return None
    if node is _namedtuple_node:
        name = f"_c{len(classes)}"
        classes[name] = treedef.aux
        return f"{name}({', '.join(parts)})"
    if node is _TUPLE_NODE:
        return "(" + "".join(part + ", " for part in parts) + ")"
    if node is _LIST_NODE:
        return "[" + ", ".join(parts) + "]"
    if node is _NONE_NODE:
        return "None"
    if node is _DICT_NODE and all(type(key) in (str, int) for key in treedef.aux):
        return "{" + ", ".join(f"{key!r}: {part}" for key, part in zip(treedef.aux, parts, strict=True)) + "}"
    return None  # registered types: the general tree_unflatten


def output_builder(out_tree):
    """A function from the flat outputs to the output pytree, specialised to its structure.

    Rebuilding the outputs runs on every call, so common containers get a generated
    one-line function; other containers use ``tree_unflatten``.

    Example:
      >>> from minigrad.tree import tree_structure
      >>> output_builder(tree_structure({"loss": 0, "grads": [0, 0]}))([1.0, 2.0, 3.0])
      {'grads': [1.0, 2.0], 'loss': 3.0}
    """
    classes: dict = {}
    source = _builder_source(out_tree, itertools.count(), classes)
    if source is None:
        return functools.partial(tree_unflatten, out_tree)
    return eval(f"lambda o: {source}", classes)  # noqa: S307 - an expression we generated from a treedef
