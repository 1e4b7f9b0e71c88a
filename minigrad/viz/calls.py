"""Which call of the user's code (or which ``nn`` layer) made each equation: a tree of boxes.

Staging remembers, for every equation, the chain of calls it was made in (see
``minigrad.core.call_stack``). Equations whose chains start alike belong to the same
box: the tree's root is the staged function itself, its children are the calls it made
(``MLP``, ``cross_entropy``), theirs the calls those made (``Linear``, ``relu``), and so
on. The backward pass of a gradient program is staged under the chain of the equation it
transposes, so a layer's backward equations land in that layer's box.

Boxes are named as the code names them: a method ``Linear.apply`` by its class
(``Linear``), a function by its name, a layer of a ``Sequential`` by its position
(``Sequential[2] Linear``), and siblings of one name are numbered (``Linear #1``,
``Linear #2``). A box's ``path`` joins the names from the root (``MLP/Linear #2``).

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> import minigrad.numpy as mnp
    >>> def inner(x):
    ...     return mnp.sin(x) * 2.0
    >>> def outer(x):
    ...     return inner(x) + inner(x * x)
    >>> tree = call_tree(mg.make_jaxpr(outer)(1.0))
    >>> [box.path for box in tree.children], tree.own
    (['inner #1', 'inner #2'], (2, 5))
"""

from __future__ import annotations

import collections
import os

import attrs

from minigrad.core.call_stack import Call, calls_of
from minigrad.core.ir import ClosedJaxpr

__all__ = ["Box", "call_tree", "boxes_of", "is_layer_call"]


@attrs.frozen
class Box:
    """One call drawn as a box: its ``name`` and ``path``, its depth (``level``, the
    root's is 0), the indices of the equations it made itself (``own``) and of all it
    made (``eqns``), the boxes of the calls it made (``children``), whether it is a
    library function (drawn whole unless expanded by name), and where its function is
    defined (``site``: ``file.py:12``, the file by its base name)."""

    name: str
    path: str
    level: int
    own: tuple = attrs.field(converter=tuple)
    eqns: tuple = attrs.field(converter=tuple)
    children: tuple = attrs.field(converter=tuple)
    library_function: bool = False
    site: str = ""


def is_layer_call(call: Call) -> bool:
    """Whether ``call`` is a layer's method (``Linear.apply``) or a labelled layer slot.

    Example:
        >>> from minigrad.nn import Linear
        >>> is_layer_call(Call(Linear.apply.__code__, 0, 0)), is_layer_call(Call(call_tree.__code__, 0, 0))
        (True, False)
    """
    return call.label is not None or "." in call.code.co_qualname.replace(".<locals>.", "")


def _key(call: Call) -> tuple:
    # One box per call: the same function called twice has two call ids; a Sequential's
    # one frame is one box per layer position, told apart by the label.
    return (call.code, call.call_id, call.label)


class _Node:
    """A box while the tree is being built."""

    def __init__(self, call: Call | None):
        self.call = call
        self.own: list[int] = []
        self.children: dict[tuple, _Node] = {}


def _build(closed: ClosedJaxpr) -> _Node:
    chains = [calls_of(eqn.source) for eqn in closed.eqns]
    # The staged function's own frame starts every chain: its body is the root.
    firsts = {_key(chain[0]) for chain in chains if chain}
    skip = 1 if len(firsts) == 1 else 0
    root = _Node(None)
    for i, chain in enumerate(chains):
        node = root
        for call in chain[skip:]:
            node = node.children.setdefault(_key(call), _Node(call))
        node.own.append(i)
    return root


def _site(call: Call) -> str:
    # By the file's base name, so no picture shows where the code lives on a machine.
    return f"{os.path.basename(call.code.co_filename)}:{call.code.co_firstlineno}"


def _freeze(node: _Node, name: str, path: str, level: int) -> Box:
    children = list(node.children.values())
    # A layer's place in a Sequential holds the one call of the layer: ``Sequential[2] Linear``.
    while node.call is not None and node.call.label is not None and not node.own and len(children) == 1:
        (node,) = children
        name = f"{name} {node.call.name}"
        path = f"{path} {node.call.name}"
        children = list(node.children.values())
    tally = collections.Counter(child.call.name for child in children)
    seen: collections.Counter = collections.Counter()
    boxes = []
    for child in children:
        child_name = child.call.name
        if tally[child_name] > 1:
            seen[child_name] += 1
            child_name = f"{child_name} #{seen[child_name]}"
        child_path = f"{path}/{child_name}" if path else child_name
        boxes.append(_freeze(child, child_name, child_path, level + 1))
    eqns = sorted([*node.own, *(i for box in boxes for i in box.eqns)])
    call = node.call
    return Box(
        name=name,
        path=path,
        level=level,
        own=node.own,
        eqns=eqns,
        children=boxes,
        library_function=call is not None and _is_library(call) and not is_layer_call(call),
        site="" if call is None else _site(call),
    )


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_EXAMPLES = _PACKAGE + "examples" + os.sep  # user code that ships with the package


def _is_library(call: Call) -> bool:
    filename = call.code.co_filename
    return filename.startswith(_PACKAGE) and not filename.startswith(_EXAMPLES)


def call_tree(closed: ClosedJaxpr) -> Box:
    """The boxes of a program: the root (the staged function's body) and its calls.

    Example:
        >>> import minigrad as mg
        >>> def double(x):
        ...     return x * 2.0
        >>> tree = call_tree(mg.make_jaxpr(lambda x: double(x) + 1.0)(1.0))
        >>> tree.own, [(box.name, box.eqns) for box in tree.children]
        ((1,), [('double', (0,))])
    """
    return _freeze(_build(closed), "", "", 0)


def boxes_of(root: Box) -> list[Box]:
    """Every box under ``root``, parents before their children.

    Example:
        >>> import minigrad as mg
        >>> def outer(x):
        ...     return inner(x) * 2.0
        >>> def inner(x):
        ...     return x + 1.0
        >>> [box.path for box in boxes_of(call_tree(mg.make_jaxpr(outer)(1.0)))]
        ['inner']
    """
    found = []
    for child in root.children:
        found.append(child)
        found += boxes_of(child)
    return found
