"""Which equations a picture draws together: frames per line of code, and folds.

Every equation remembers the user's line that made it. Consecutive equations of one
line share a frame. A folded picture draws one node per frame instead, and splits
further where one line applies a whole model: when a line reads parameters of several
layers (the leaves under ``params[0]``, ``params[1]``, ...), each equation belongs to
the latest layer whose parameters it depends on, and in the backward pass to the
latest layer whose gradient it feeds. A run of nodes that repeats (a Python loop's
body) becomes one node with a count.

Example:
    >>> parameter_group("params[0]['w']"), parameter_group("x")
    ('params[0]', None)
"""

from __future__ import annotations

import re

import attrs

from minigrad.core.ir import ClosedJaxpr, Var
from minigrad.viz.dot_text import source_label

__all__ = ["Notes", "frame_labels", "frame_groups", "collapse_repeats", "parameter_group", "eqn_layers"]

BACKWARD_LABEL = "backward pass"
# The longest repeating block of code lines looked for when folding a program.
MAX_PERIOD = 8


@attrs.frozen
class Notes:
    """What a picture knows beyond the program: display ``names`` by variable, values
    and gradients by variable, where the backward pass begins in a gradient program, and
    the parameter group (``params[0]``) of each input and each gradient output."""

    names: dict = attrs.field(factory=dict)
    values: dict = attrs.field(factory=dict)
    grads: dict = attrs.field(factory=dict)
    backward_from: int | None = None
    input_groups: dict = attrs.field(factory=dict)
    output_groups: dict = attrs.field(factory=dict)


def frame_labels(closed: ClosedJaxpr, notes: Notes) -> list[str | None]:
    """The frame each equation is drawn in: its line of code, or the backward pass of it."""
    labels = []
    for i, eqn in enumerate(closed.eqns):
        backward = notes.backward_from is not None and i >= notes.backward_from
        if eqn.source is None:
            labels.append(BACKWARD_LABEL if backward else None)
        else:
            # The backward pass stages each equation's transpose under its source line.
            line = source_label(eqn.source)
            labels.append(f"{BACKWARD_LABEL} of {line}" if backward else line)
    return labels


def frame_groups(labels) -> list[list[int]]:
    """Runs of consecutive equations drawn in the same frame."""
    groups: list[list[int]] = []
    for i, label in enumerate(labels):
        if groups and labels[groups[-1][0]] == label:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def collapse_repeats(signatures) -> list[tuple[int, int, int]]:
    """``(start, period, count)`` blocks covering ``signatures``: a run of ``period``
    items repeating ``count`` times is one block.

    Example:
      >>> collapse_repeats(["a", "b", "a", "b", "a", "b", "c"])
      [(0, 2, 3), (6, 1, 1)]
    """
    blocks = []
    i = 0
    while i < len(signatures):
        best_period, best_count = 1, 1
        for period in range(1, min(MAX_PERIOD, (len(signatures) - i) // 2) + 1):
            pattern = signatures[i : i + period]
            count = 1
            while signatures[i + count * period : i + (count + 1) * period] == pattern:
                count += 1
            if count > 1 and period * count > best_period * best_count:
                best_period, best_count = period, count
        blocks.append((i, best_period, best_count))
        i += best_period * best_count
    return blocks


_LAST_ACCESSOR = re.compile(r"(\[[^\[\]]*\]|\.\w+)$")


def parameter_group(name: str) -> str | None:
    """The layer an input leaf belongs to: its path without the last key, if nested."""
    group = _LAST_ACCESSOR.sub("", name)
    return group if group != name and _LAST_ACCESSOR.search(group) else None


def _forward_layers(eqns, order, notes: Notes) -> list[int | None]:
    layer_of: dict[Var, int] = {v: order[g] for v, g in notes.input_groups.items() if g in order}
    layers = []
    for eqn in eqns:
        known = [layer_of[a] for a in eqn.invars if isinstance(a, Var) and a in layer_of]
        layer = max(known) if known else None
        layers.append(layer)
        if layer is not None:
            layer_of.update({v: layer for v in eqn.outvars})
    return layers


def _backward_layers(jaxpr, start: int, order, notes: Notes) -> list[int | None]:
    """For each equation from ``start``, the latest layer whose gradient it feeds."""
    reaches: dict[Var, int] = {}
    for k, atom in enumerate(jaxpr.outvars):
        group = notes.output_groups.get(k)
        if isinstance(atom, Var) and group in order:
            reaches[atom] = max(reaches.get(atom, -1), order[group])
    layers: list[int | None] = []
    for eqn in reversed(jaxpr.eqns[start:]):
        known = [reaches[v] for v in eqn.outvars if v in reaches]
        layer = max(known) if known else None
        layers.append(layer)
        if layer is not None:
            for atom in eqn.invars:
                if isinstance(atom, Var):
                    reaches[atom] = max(reaches.get(atom, -1), layer)
    return layers[::-1]


def eqn_layers(closed: ClosedJaxpr, labels, notes: Notes) -> list[str | None]:
    """The parameter group each equation is drawn under, where its line spans several."""
    jaxpr = closed.jaxpr
    groups = list(dict.fromkeys(notes.input_groups.values()))
    order = {group: k for k, group in enumerate(groups)}
    start = len(jaxpr.eqns) if notes.backward_from is None else notes.backward_from
    layers = _forward_layers(jaxpr.eqns[:start], order, notes) + _backward_layers(jaxpr, start, order, notes)
    # Only a line that spans several layers is split; other lines stay whole.
    spanned: dict[str | None, set] = {}
    for label, layer in zip(labels, layers, strict=True):
        spanned.setdefault(label, set()).add(layer)
    return [
        groups[layer] if layer is not None and len(spanned[label] - {None}) > 1 else None
        for label, layer in zip(labels, layers, strict=True)
    ]
