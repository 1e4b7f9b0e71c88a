"""DOT bodies for one program: expanded (a node per variable and operation) or folded.

Expanded, the program is drawn as micrograd draws expression graphs: a box per variable
(with the user's name for it where there is one, its type, and optionally its value and
gradient), a rounded box per operation, plain text for literals. Folded, it is one node
per line of code or per layer of a model (see ``folding``), with the values that flow
between them on the edges; long programs are folded and laid out top to bottom.

Expanded, a loop or branch of ``minigrad.lax`` is a frame labelled with the construct
(``scan × 100``, ``cond``) holding one frame per sub-program (``body``, ``branch 0``),
each drawn as a program of its own (so nested loops nest frames), with edges from the
operands into the sub-programs' inputs and from their outputs to the results (see
``frames``). Folded, it is one equation of the node it belongs to.

Example:
    >>> import minigrad as mg
    >>> lines = program_body(mg.make_jaxpr(lambda x: x * 2.0)(1.0), "", Notes(), folded=False)
    >>> [line for line in lines if "->" in line]
    ['v_a -> op_0;', 'lit_0_1 -> op_0;', 'op_0 -> v_b;']
"""

from __future__ import annotations

import collections

from minigrad.core.ir import ClosedJaxpr, Eqn, Literal, Var, var_names
from minigrad.viz.call_view import call_view_body, check_call_view
from minigrad.viz.dot_text import (
    CONST_STYLE,
    INPUT_STYLE,
    OP_STYLE,
    OUTPUT_STYLE,
    format_value,
    header,
    params_text,
    quote,
    record,
)
from minigrad.viz.folding import Notes, collapse_repeats, eqn_layers, frame_groups, frame_labels
from minigrad.viz.frames import Construct, construct_of
from minigrad.viz.names import local_names
from minigrad.viz.patterns import steps_of

__all__ = ["to_dot", "program_body", "COLLAPSE_ABOVE"]

# Programs longer than this are drawn folded, one node per line of code or layer.
COLLAPSE_ABOVE = 40


def _var_fields(name: str | None, var: Var, notes: Notes) -> list[str]:
    fields = [f"{name}: {var.aval}" if name else str(var.aval)]
    if var in notes.values:
        fields.append(f"data {format_value(notes.values[var])}")
    if var in notes.grads:
        fields.append(f"grad {format_value(notes.grads[var])}")
    return fields


def _var_node(node_id: str, var: Var, style: str, notes: Notes) -> str:
    label = record(*_var_fields(notes.names.get(var), var, notes))
    return f"{node_id} [shape=record, label={label}" + (f", {style}" if style else "") + "];"


def _expanded_body(closed: ClosedJaxpr, prefix: str, notes: Notes) -> list[str]:
    """One node per variable, operation and literal; frames per line of code."""
    jaxpr = closed.jaxpr
    ids = var_names(jaxpr)  # node ids follow the names make_jaxpr prints
    outputs = {id(v) for v in jaxpr.outvars if isinstance(v, Var)}

    def var_id(var):
        return f"{prefix}v_{ids[var]}"

    def style_of(var, base):
        # An input or constant that is also an output keeps its colour and gains the border.
        if id(var) not in outputs:
            return base
        return f"{base}, peripheries=2" if base else OUTPUT_STYLE

    # Graphviz stacks what is declared later higher up in a left-to-right drawing, so
    # declarations go out in reverse: the first input and the first line end on top.
    blocks = [[_var_node(var_id(v), v, style_of(v, CONST_STYLE), notes)] for v in jaxpr.constvars]
    blocks += [[_var_node(var_id(v), v, style_of(v, INPUT_STYLE), notes)] for v in jaxpr.invars]
    labels = frame_labels(closed, notes)
    steps = steps_of(jaxpr, params_text, notes.names.get)
    edges = []
    for k, group in enumerate(frame_groups([labels[step.first] for step in steps])):
        statements = []
        for step in (steps[i] for i in group):
            op_id = f"{prefix}op_{step.first}"
            construct = construct_of(jaxpr.eqns[step.first]) if len(step.eqns) == 1 else None
            if construct is not None:
                frame, wiring = _construct_lines(construct, jaxpr.eqns[step.first], op_id, var_id)
                statements.append("\n".join(frame))
                statements += [_var_node(var_id(v), v, style_of(v, ""), notes) for v in step.outputs]
                edges += wiring
                continue
            literal_id = f"{prefix}lit_{step.first}"
            label = step.label + ("\n" + step.detail if step.detail else "")
            statements.append(f"{op_id} [label={quote(label)}, {OP_STYLE}];")
            for j, atom in enumerate(step.inputs):
                if isinstance(atom, Literal):
                    text = quote(format_value(atom.val))
                    statements.append(f"{literal_id}_{j} [shape=plaintext, label={text}];")
                    edges.append(f"{literal_id}_{j} -> {op_id};")
                else:
                    edges.append(f"{var_id(atom)} -> {op_id};")
            for var in step.outputs:
                statements.append(_var_node(var_id(var), var, style_of(var, ""), notes))
                edges.append(f"{op_id} -> {var_id(var)};")
        statements.reverse()
        label = labels[steps[group[0]].first]
        if label is None:
            blocks.append(statements)
        else:
            frame = f'  label={quote(label)}; style="dashed"; color="#9ca3af"; fontsize=11;'
            inner = ["  " + statement.replace("\n", "\n  ") for statement in statements]
            blocks.append([f"subgraph cluster_{prefix}line{k} {{", frame, *inner, "}"])
    lines = [line for block in reversed(blocks) for line in block] + edges
    for k, atom in enumerate(jaxpr.outvars):
        if isinstance(atom, Literal):
            label = record(f"out: {format_value(atom.val)}", str(atom.aval))
            lines.append(f"{prefix}out_{k} [shape=record, label={label}, {OUTPUT_STYLE}];")
    return lines


CONSTRUCT_STYLE = 'style="rounded,bold"; color="#7c3aed"; fontcolor="#5b21b6"; fontsize=12;'
SUBPROGRAM_STYLE = 'style="rounded"; color="#a78bfa"; fontcolor="#5b21b6"; fontsize=11;'


def _operand_source(eqn: Eqn, position: int, node_id: str, var_id, declared: list[str]) -> str:
    """The node an operand of ``eqn`` is drawn as (a literal gets a node of its own)."""
    atom = eqn.invars[position]
    if not isinstance(atom, Literal):
        return var_id(atom)
    literal_id = f"{node_id}_lit_{position}"
    statement = f"{literal_id} [shape=plaintext, label={quote(format_value(atom.val))}];"
    if statement not in declared:
        declared.append(statement)
    return literal_id


def _subprogram_lines(frame, frame_id: str, eqn: Eqn, node_id: str, var_id, *, control: bool, declared):
    """One sub-program as a labelled frame, and the edges that wire it to ``eqn`` (nodes
    for literal operands join ``declared``, shared by the construct's frames)."""
    closed = ClosedJaxpr(frame.jaxpr, ())
    ids = var_names(frame.jaxpr)
    edges = []
    for var, position in zip(frame.jaxpr.invars, frame.inputs, strict=True):
        if position is not None:
            source = _operand_source(eqn, position, node_id, var_id, declared)
            edges.append(f"{source} -> {frame_id}_v_{ids[var]};")
    for k, (atom, position) in enumerate(zip(frame.jaxpr.outvars, frame.outputs, strict=True)):
        inner = f"{frame_id}_v_{ids[atom]}" if isinstance(atom, Var) else f"{frame_id}_out_{k}"
        if position is not None:
            edges.append(f"{inner} -> {var_id(eqn.outvars[position])};")
        elif control:  # a result no equation output takes, such as a while_loop's predicate
            edges.append(f"{inner} -> {node_id};")
    body = _expanded_body(closed, f"{frame_id}_", default_notes(closed))
    head = [f"subgraph cluster_{frame_id} {{", f"  label={quote(frame.label)}; {SUBPROGRAM_STYLE}"]
    lines = [*head, *("  " + line.replace("\n", "\n  ") for line in body), "}"]
    return lines, edges


def _construct_lines(construct: Construct, eqn: Eqn, node_id: str, var_id) -> tuple[list[str], list[str]]:
    """A loop or branch as a frame of frames (``cluster_<node_id>``), and its edges."""
    inner, edges = [], []
    if construct.control:
        inner.append(f"{node_id} [label={quote(construct.control)}, {OP_STYLE}];")
        for position in construct.control_inputs:
            edges.append(f"{_operand_source(eqn, position, node_id, var_id, inner)} -> {node_id};")
        edges += [f"{node_id} -> {var_id(eqn.outvars[position])};" for position in construct.control_outputs]
    # Declared last, drawn on top: the first sub-program (branch 0, the condition) leads.
    for k, frame in reversed(list(enumerate(construct.frames))):
        lines, wiring = _subprogram_lines(
            frame,
            f"{node_id}_frame{k}",
            eqn,
            node_id,
            var_id,
            control=bool(construct.control),
            declared=inner,
        )
        inner += lines
        edges += wiring
    head = [f"subgraph cluster_{node_id} {{", f"  label={quote(construct.label)}; {CONSTRUCT_STYLE}"]
    return [*head, *("  " + line.replace("\n", "\n  ") for line in inner), "}"], edges


def _summary(step_labels) -> str:
    tally = collections.Counter(step_labels)
    return ", ".join(f"{name} x{n}" if n > 1 else name for name, n in tally.items())


def _is_acyclic(jaxpr, units) -> bool:
    """Whether the flow between groups of equations has no cycle (Kahn's algorithm)."""
    unit_of = {v: k for k, indices in enumerate(units) for i in indices for v in jaxpr.eqns[i].outvars}
    after = collections.defaultdict(set)
    for k, indices in enumerate(units):
        for i in indices:
            for atom in jaxpr.eqns[i].invars:
                if isinstance(atom, Var) and unit_of.get(atom, k) != k:
                    after[unit_of[atom]].add(k)
    waiting = collections.Counter(k for targets in after.values() for k in targets)
    ready = [k for k in range(len(units)) if not waiting[k]]
    done = 0
    while ready:
        done += 1
        for k in after[ready.pop()]:
            waiting[k] -= 1
            if not waiting[k]:
                ready.append(k)
    return done == len(units)


def _merge_alike(jaxpr, units):
    """Join nodes with the same heading (one layer's equations that the program
    interleaves with others) where the picture stays a flow without cycles."""
    merged: list[tuple[list[int], list[str]]] = []
    for indices, heading in units:
        same = next(
            (k for k, (_, other) in enumerate(merged) if other == heading and "repeated" not in heading[-1]),
            None,
        )
        if same is not None:
            candidate = [*merged[:same], (merged[same][0] + indices, heading), *merged[same + 1 :]]
            if _is_acyclic(jaxpr, [unit for unit, _ in candidate]):
                merged = candidate
                continue
        merged.append((list(indices), heading))
    return merged


def _fold_units(closed: ClosedJaxpr, notes: Notes):
    """Nodes of a folded picture: ``(equations, heading lines)``, in program order."""
    jaxpr = closed.jaxpr
    labels = frame_labels(closed, notes)
    layers = eqn_layers(closed, labels, notes)
    keys = [(label, layer) for label, layer in zip(labels, layers, strict=True)]
    runs = frame_groups(keys)
    signatures = [(keys[run[0]], tuple(jaxpr.eqns[i].primitive for i in run)) for run in runs]
    units = []
    for start, period, count in collapse_repeats(signatures):
        chosen = runs[start : start + period * count]
        heading = [label for label in dict.fromkeys(keys[run[0]][0] for run in chosen) if label]
        heading += [f"layer {layer}" for layer in dict.fromkeys(keys[run[0]][1] for run in chosen) if layer]
        if count > 1:
            heading.append(f"repeated x{count}")
        units.append(([i for run in chosen for i in run], heading))
    step_label = {step.eqns[0]: step.label for step in steps_of(jaxpr)}
    return [
        (
            indices,
            [
                *heading,
                f"{len(indices)} equations: {_summary(step_label[i] for i in sorted(indices) if i in step_label)}",
            ],
        )
        for indices, heading in _merge_alike(jaxpr, units)
    ]


def _edge_label(carried, notes: Notes) -> str:
    if len(carried) > 1:
        return f"{len(carried)} values"
    name = notes.names.get(carried[0])
    return f"{name}: {carried[0].aval}" if name else str(carried[0].aval)


def _folded_body(closed: ClosedJaxpr, prefix: str, notes: Notes) -> list[str]:
    """One node per line of code or layer (or repeated block); edges carry the values
    that flow between them."""
    jaxpr = closed.jaxpr
    ids = var_names(jaxpr)
    producer: dict[Var, str] = {}
    lines = []
    for var, style in [
        *((v, CONST_STYLE) for v in jaxpr.constvars),
        *((v, INPUT_STYLE) for v in jaxpr.invars),
    ]:
        producer[var] = f"{prefix}v_{ids[var]}"
        lines.append(_var_node(producer[var], var, style, notes))
    units = _fold_units(closed, notes)
    # Producers first: a merged node may read what a node listed after it makes.
    for k, (indices, _) in enumerate(units):
        producer.update({v: f"{prefix}block_{k}" for i in indices for v in jaxpr.eqns[i].outvars})
    flows: dict[tuple[str, str], list[Var]] = collections.defaultdict(list)
    for k, (indices, heading) in enumerate(units):
        node_id = f"{prefix}block_{k}"
        lines.append(f"{node_id} [label={quote(chr(10).join(heading))}, {OP_STYLE}];")
        for atom in (a for i in sorted(indices) for a in jaxpr.eqns[i].invars):
            source_node = producer.get(atom) if isinstance(atom, Var) else None
            if source_node not in (None, node_id) and atom not in flows[source_node, node_id]:
                flows[source_node, node_id].append(atom)
    for k, atom in enumerate(jaxpr.outvars):
        out_id = f"{prefix}out_{k}"
        if isinstance(atom, Literal):
            fields = [f"out: {format_value(atom.val)}", str(atom.aval)]
        else:
            fields = _var_fields(notes.names.get(atom, f"out {ids[atom]}"), atom, notes)
            flows[producer[atom], out_id].append(atom)
        lines.append(f"{out_id} [shape=record, label={record(*fields)}, {OUTPUT_STYLE}];")
    for (src, dst), carried in flows.items():
        lines.append(f"{src} -> {dst} [label={quote(_edge_label(carried, notes))}, fontsize=10];")
    return lines


def folds(closed: ClosedJaxpr, collapse_above: int | None = COLLAPSE_ABOVE) -> bool:
    """Whether a program is drawn folded."""
    return collapse_above is not None and len(closed.eqns) > collapse_above


def program_body(closed: ClosedJaxpr, prefix: str, notes: Notes, folded: bool) -> list[str]:
    """The DOT statements drawing one program; node ids start with ``prefix``."""
    if folded:
        return _folded_body(closed, prefix, notes)
    return _expanded_body(closed, prefix, notes)


def default_notes(closed: ClosedJaxpr) -> Notes:
    """Names for a program drawn without its function: printed names for inputs and
    constants, the user's names for the values lines of code bind."""
    ids = var_names(closed.jaxpr)
    names = {v: ids[v] for v in (*closed.jaxpr.constvars, *closed.jaxpr.invars)}
    return Notes(names={**names, **local_names(closed.jaxpr)})


def to_dot(
    closed_jaxpr: ClosedJaxpr,
    *,
    title: str | None = None,
    collapse_above: int | None = COLLAPSE_ABOVE,
    depth: int | None = None,
    expand=(),
) -> str:
    """Graphviz DOT source drawing a program: inputs, operations, outputs.

    Variables are boxes labelled with their shape and dtype (inputs blue, constants
    yellow, outputs green with a double border); inputs are named as ``make_jaxpr``
    prints them and a value a line of code binds (``h = ...``) by that name. Operations
    are rounded boxes, known compositions drawn as the function the user called
    (``relu``, ``log_softmax``, ``x[:, None]``); literals are plain text. Equations from
    one line of the user's code are framed together, with that line as the frame's label.

    Args:
      closed_jaxpr: a program, for example from ``make_jaxpr(f)(*args)``.
      title: a caption for the picture.
      collapse_above: draw programs with more equations than this folded, top to
        bottom: one node per line of code (or per layer, where one line applies several)
        and repeated blocks of lines, such as loop bodies, as one node marked with their
        count. Default 40; ``None`` never folds.
      depth: draw the call view instead: one box per call of the user's code or ``nn``
        layer (``Linear``, ``cross_entropy``), ``depth`` calls deep (``1``: the calls
        the staged function makes), edges labelled with the shapes that flow between
        boxes; boxes above ``depth`` are frames holding their calls and equations.
      expand: names or paths of boxes to draw open (``"Linear #2"``, ``"MLP/Linear #2"``,
        ``"Linear"`` for all of them); without ``depth``, the call view at depth 1.

    Returns:
      The DOT source; render it with ``dot -Tsvg file.dot -o file.svg``, or use ``draw``.

    Example:
      >>> import minigrad as mg
      >>> closed = mg.make_jaxpr(lambda x, y: x * y + 1.0)(2.0, 3.0)
      >>> print(closed)
      { lambda ; a:f64[] b:f64[]. let
          c:f64[] = mul a b
          d:f64[] = add c 1.0:f64[]
        in (d,) }
      >>> dot = to_dot(closed)
      >>> [line.strip() for line in dot.splitlines() if "->" in line]
      ['v_a -> op_0;', 'v_b -> op_0;', 'op_0 -> v_c;', 'v_c -> op_1;', 'lit_1_1 -> op_1;', 'op_1 -> v_d;']
    """
    if not isinstance(closed_jaxpr, ClosedJaxpr):
        raise TypeError(
            f"to_dot expects a ClosedJaxpr, got {type(closed_jaxpr).__name__}; make one with "
            "minigrad.make_jaxpr(fun)(*args), or call minigrad.viz.draw(fun, *args, path=...)."
        )
    if expand and depth is None:
        depth = 1  # naming boxes to open asks for the call view
    if depth is not None:
        expand = check_call_view("to_dot", [closed_jaxpr], depth, expand)
        lines = header("program", title, "TB")
        lines += call_view_body(closed_jaxpr, "", default_notes(closed_jaxpr), depth, expand)
        lines.append("}")
        return "\n".join(lines) + "\n"
    folded = folds(closed_jaxpr, collapse_above)
    lines = header("program", title, "TB" if folded else "LR")
    lines += program_body(closed_jaxpr, "", default_notes(closed_jaxpr), folded)
    lines.append("}")
    return "\n".join(lines) + "\n"
