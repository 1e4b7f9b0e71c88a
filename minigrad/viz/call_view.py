"""The call view: a program drawn as one box per call of the user's code or ``nn`` layer.

A model's program is long, but its author thinks of it as a few calls: ``MLP``, then
``cross_entropy``; inside ``MLP``, ``Linear``, ``relu``, ``Linear``. The call view
draws the boxes of ``calls.call_tree`` down to a chosen ``depth``: a box at that depth
(or a library function such as ``cross_entropy``, at any depth) is drawn closed, as one
node showing its name, the shapes that go in and come out and, for a layer, how many
parameters it reads; a box above that depth is drawn open, as a frame holding the boxes
of its calls and, as operation nodes, the equations it made itself. Edges carry the
values that flow between nodes, labelled by their shapes. ``expand`` opens chosen boxes
(by name, ``"Linear #2"``, or by path, ``"MLP/Linear #2"``) whatever their depth.

The parameters a closed box alone reads (the leaves under ``params[0]``) are counted in
its label rather than drawn as inputs of their own. ``link`` gives the address a click
on a closed box opens (``draw`` writes a picture per box, each with that box open).

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> from minigrad import nn
    >>> import minigrad.random as mr
    >>> from minigrad.viz.graph import default_notes
    >>> model = nn.MLP([3, 4, 2])
    >>> closed = mg.make_jaxpr(model.apply)(model.init(mr.key(0)), np.ones((5, 3)))
    >>> lines = call_view_body(closed, "", default_notes(closed), depth=1)
    >>> [line.split("label=")[1].split("\\\\n")[0] for line in lines if "call_" in line and "->" not in line]
    ['"Linear #1', '"relu', '"Linear #2']
"""

from __future__ import annotations

import collections

import numpy as np

from minigrad.core.ir import ClosedJaxpr, Literal, Var, var_names
from minigrad.viz.calls import Box, boxes_of, call_tree
from minigrad.viz.dot_text import (
    CONST_STYLE,
    INPUT_STYLE,
    OP_STYLE,
    OUTPUT_STYLE,
    format_value,
    params_text,
    quote,
    record,
)
from minigrad.viz.folding import Notes, parameter_group
from minigrad.viz.patterns import steps_of

__all__ = ["call_view_body", "opened_boxes", "check_call_view"]

LAYER_STYLE = 'shape=box, style="rounded,filled,bold", fillcolor="#ede9fe", color="#7c3aed"'
FUNCTION_STYLE = 'shape=box, style="rounded,filled", fillcolor="#ffedd5", color="#c2410c"'
OPEN_STYLE = 'style="rounded"; color="#7c3aed"; fontcolor="#5b21b6"; fontsize=12;'
# A closed box lists at most this many shapes going in or out.
MAX_SHAPES = 3


def _matches(box: Box, wanted: str) -> bool:
    return wanted in (box.path, box.name) or box.name.split(" #")[0] == wanted


def check_call_view(operation: str, programs, depth, expand) -> tuple:
    """``expand`` as a tuple of names, after checking ``depth`` and that each name is a
    box of one of ``programs`` (a clear error otherwise).

    Example:
        >>> import minigrad as mg
        >>> check_call_view("to_dot", [mg.make_jaxpr(lambda x: x * 2.0)(1.0)], 1, ())
        ()
    """
    if isinstance(expand, str):
        expand = (expand,)
    expand = tuple(expand)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(
            f"{operation}: depth must be a whole number >= 1 (1 draws the calls the function "
            f"makes, 2 also the calls those make, ...), got {depth!r}."
        )
    boxes = [box for closed in programs for box in boxes_of(call_tree(closed))]
    for wanted in expand:
        if not any(_matches(box, wanted) for box in boxes):
            known = ", ".join(dict.fromkeys(repr(box.path) for box in boxes)) or "none"
            raise ValueError(
                f"{operation}: expand names {wanted!r}, but no call of the program is called "
                f"that. Its calls are: {known}."
            )
    return expand


def opened_boxes(root: Box, depth: int, expand=()) -> set[str]:
    """The paths of the boxes drawn open: above ``depth`` (but library functions), the
    ones ``expand`` names, and every box holding one of those.

    Example:
        >>> import minigrad as mg
        >>> def inner(x):
        ...     return x * 2.0
        >>> def outer(x):
        ...     return inner(x) + 1.0
        >>> sorted(opened_boxes(call_tree(mg.make_jaxpr(lambda x: outer(x) - 1.0)(1.0)), depth=2))
        ['outer']
    """
    opened = set()
    for box in boxes_of(root):
        by_depth = box.level < depth and box.children and not box.library_function
        if by_depth or any(_matches(box, wanted) for wanted in expand):
            parts = box.path.split("/")
            opened.update("/".join(parts[: k + 1]) for k in range(len(parts)))
    return opened


def _shapes_text(variables) -> str:
    shown = [str(v.aval) for v in variables[:MAX_SHAPES]]
    more = len(variables) - MAX_SHAPES
    return ", ".join(shown) + (f" +{more} more" if more > 0 else "")


class _Layout:
    """Which node draws each equation, and which parameters a closed box alone reads."""

    def __init__(self, closed: ClosedJaxpr, prefix: str, notes: Notes, root: Box, opened: set):
        self.jaxpr = closed.jaxpr
        self.prefix = prefix
        self.notes = notes
        self.steps = {step.first: step for step in steps_of(self.jaxpr, params_text, notes.names.get)}
        self.step_of_eqn = step_of_eqn = {i: step.first for step in self.steps.values() for i in step.eqns}
        self.box_number = {box.path: k for k, box in enumerate(boxes_of(root))}
        self.node_of_eqn: dict[int, str] = {}
        self.closed_boxes: dict[str, Box] = {}
        stack = [root]
        while stack:
            box = stack.pop()
            if box.level == 0 or box.path in opened:
                for i in box.own:
                    self.node_of_eqn[i] = f"{prefix}op_{step_of_eqn[i]}"
                stack += box.children
            else:
                node = f"{prefix}call_{len(self.closed_boxes)}"
                self.closed_boxes[node] = box
                self.node_of_eqn.update((i, node) for i in box.eqns)
        self.producer: dict[Var, str] = {}
        for i, eqn in enumerate(self.jaxpr.eqns):
            self.producer.update((v, self.node_of_eqn[i]) for v in eqn.outvars)
        self.readers: dict[Var, set] = collections.defaultdict(set)
        for i, eqn in enumerate(self.jaxpr.eqns):
            for atom in eqn.invars:
                if isinstance(atom, Var):
                    self.readers[atom].add(self.node_of_eqn[i])
        outputs = {v for v in self.jaxpr.outvars if isinstance(v, Var)}
        # Parameters (leaves under a path such as ``params[0]``) that one closed box alone
        # reads are part of that box, not inputs drawn on their own.
        self.folded_params = {
            v: next(iter(self.readers[v]))
            for v in self.jaxpr.invars
            if parameter_group(notes.names.get(v, "")) is not None
            and v not in outputs
            and len(self.readers[v]) == 1
            and next(iter(self.readers[v])) in self.closed_boxes
        }

    def box_label(self, node: str) -> str:
        box = self.closed_boxes[node]
        inside = {v for i in box.eqns for v in self.jaxpr.eqns[i].outvars}
        params = [v for v, owner in self.folded_params.items() if owner == node]
        reads = dict.fromkeys(
            atom
            for i in box.eqns
            for atom in self.jaxpr.eqns[i].invars
            if isinstance(atom, Var) and atom not in inside and atom not in params
        )
        program_outputs = set(self.jaxpr.outvars)
        made = [v for v in inside if v in program_outputs or any(r != node for r in self.readers.get(v, ()))]
        made.sort(key=lambda v: min(i for i in box.eqns if v in self.jaxpr.eqns[i].outvars))
        lines = [box.name]
        if reads:
            lines.append(f"in: {_shapes_text(list(reads))}")
        if made:
            lines.append(f"out: {_shapes_text(made)}")
        if params:
            count = sum(int(np.prod(v.aval.shape)) for v in params)
            lines.append(f"{count:,} parameters")
        lines.append(f"{len(box.eqns)} equation{'s' if len(box.eqns) != 1 else ''}")
        return "\n".join(lines)


def _edge_label(carried, notes: Notes) -> str:
    if len(carried) > 1:
        return f"{len(carried)} values"
    name = notes.names.get(carried[0])
    return f"{name}: {carried[0].aval}" if name else str(carried[0].aval)


def _var_node(node_id: str, var: Var, style: str, notes: Notes) -> str:
    name = notes.names.get(var)
    label = record(f"{name}: {var.aval}" if name else str(var.aval))
    return f"{node_id} [shape=record, label={label}, {style}];"


def _box_statements(layout: _Layout, box: Box, opened: set, link, node_ids: dict) -> list[str]:
    """The statements drawing ``box``: a node when closed, a frame of its parts when open."""
    if box.level > 0 and box.path not in opened:
        node = node_ids[box.path]
        style = FUNCTION_STYLE if box.library_function else LAYER_STYLE
        attributes = [f"label={quote(layout.box_label(node))}", style]
        tooltip = f"{box.path} (defined at {box.site})" if box.site else box.path
        url = link(box) if link is not None else None
        if url:
            attributes += [f"URL={quote(url)}", f"tooltip={quote(tooltip + ': click to open')}"]
        else:
            attributes.append(f"tooltip={quote(tooltip)}")
        return [f"{node} [{', '.join(attributes)}];"]
    statements = []
    for first in sorted({layout.step_of_eqn[i] for i in box.own}):
        step = layout.steps[first]
        statements.append(f"{layout.prefix}op_{first} [label={quote(step.label)}, {OP_STYLE}];")
    for child in box.children:
        statements += _box_statements(layout, child, opened, link, node_ids)
    if box.level == 0:
        return statements
    cluster = f"{layout.prefix}open_{layout.box_number[box.path]}"
    label = f"{box.name}  ({box.site})" if box.site else box.name
    head = [f"subgraph cluster_{cluster} {{", f"  label={quote(label)}; {OPEN_STYLE}"]
    return [*head, *("  " + line for line in statements), "}"]


def call_view_body(
    closed: ClosedJaxpr, prefix: str, notes: Notes, depth: int = 1, expand=(), link=None
) -> list[str]:
    """The DOT statements drawing ``closed`` as boxes of calls down to ``depth``.

    ``expand`` names boxes to draw open; ``link(box)`` gives the address a click on a
    closed box opens (or ``None``). Node ids start with ``prefix``.
    """
    jaxpr = closed.jaxpr
    root = call_tree(closed)
    opened = opened_boxes(root, depth, expand)
    layout = _Layout(closed, prefix, notes, root, opened)
    node_ids = {box.path: node for node, box in layout.closed_boxes.items()}
    ids = var_names(jaxpr)
    lines = []
    for var, style in [
        *((v, CONST_STYLE) for v in jaxpr.constvars),
        *((v, INPUT_STYLE) for v in jaxpr.invars),
    ]:
        if var not in layout.folded_params:
            layout.producer[var] = f"{prefix}v_{ids[var]}"
            lines.append(_var_node(layout.producer[var], var, style, notes))
    lines += _box_statements(layout, root, opened, link, node_ids)
    flows: dict[tuple[str, str], list[Var]] = collections.defaultdict(list)
    for i, eqn in enumerate(jaxpr.eqns):
        node = layout.node_of_eqn[i]
        for atom in eqn.invars:
            source = layout.producer.get(atom) if isinstance(atom, Var) else None
            if source not in (None, node) and atom not in flows[source, node]:
                flows[source, node].append(atom)
    for k, atom in enumerate(jaxpr.outvars):
        out_id = f"{prefix}out_{k}"
        if isinstance(atom, Literal):
            fields = [f"out: {format_value(atom.val)}", str(atom.aval)]
        else:
            name = notes.names.get(atom, f"out {ids[atom]}")
            fields = [f"{name}: {atom.aval}"]
            if atom in layout.producer:
                flows[layout.producer[atom], out_id].append(atom)
        lines.append(f"{out_id} [shape=record, label={record(*fields)}, {OUTPUT_STYLE}];")
    for (source, target), carried in flows.items():
        lines.append(f"{source} -> {target} [label={quote(_edge_label(carried, notes))}, fontsize=10];")
    return lines
