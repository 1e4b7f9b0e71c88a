"""Pictures of programs: Graphviz DOT for a traced program, rendered by Graphviz's ``dot``.

A program is drawn as a dataflow graph with two kinds of nodes, as micrograd draws its
expression graphs: boxes for variables (named as ``make_jaxpr`` prints them, labelled
with shape and dtype) and rounded boxes for operations. Equations that come from the same
line of the user's code are framed together and the frame shows that line; a long
program (more than ``collapse_above`` equations) is drawn with one node per line of code,
and a block of lines that repeats (the body of a Python loop) becomes one node marked
with its count.

``draw`` stages a function, optionally its gradient program too, and renders through the
``dot`` program (Debian/Ubuntu package ``graphviz``), chosen by the file's suffix. Where
``dot`` is missing it writes the DOT source next to the requested path and says how to
render it.

Example:
    >>> import minigrad as mg
    >>> import minigrad.numpy as mnp
    >>> source = to_dot(mg.make_jaxpr(lambda x: mnp.sin(x) * x)(1.0))
    >>> source.splitlines()[0]
    'digraph program {'
    >>> source.count(" -> ")
    5
"""

from __future__ import annotations

import collections
import linecache
import pathlib
import re
import shutil
import subprocess
import sys

import attrs
import numpy as np

from minigrad.core.dtypes import is_float_dtype
from minigrad.core.interpreter import eval_jaxpr
from minigrad.core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var, short_source, var_names
from minigrad.core.trace import get_aval
from minigrad.ops.elementwise import add_p
from minigrad.transforms.ad import grad
from minigrad.transforms.api_util import flatten_arguments
from minigrad.transforms.staged_program import make_jaxpr

__all__ = ["to_dot", "draw", "Drawing", "DOT_MISSING_ADVICE"]

# Programs longer than this are drawn one node per line of code.
COLLAPSE_ABOVE = 60
# The longest repeating block of code lines looked for when collapsing a program.
_MAX_PERIOD = 8

_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": None, ".gv": None}

DOT_MISSING_ADVICE = (
    "Install Graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: `brew install "
    "graphviz`; conda: `conda install graphviz`) so that `dot` is on PATH, then render the "
    "file with:"
)

_INPUT_STYLE = 'style=filled, fillcolor="#dbeafe"'
_CONST_STYLE = 'style=filled, fillcolor="#fef9c3"'
_OUTPUT_STYLE = 'style=filled, fillcolor="#dcfce7", peripheries=2'
_OP_STYLE = 'shape=box, style="rounded,filled", fillcolor="#f3f4f6"'
_BACKWARD_LABEL = "backward pass"


@attrs.frozen
class Drawing:
    """What ``draw`` wrote: ``path`` (the picture, or the ``.dot`` file when Graphviz
    is missing), the DOT ``source``, whether it was ``rendered``, and ``hint``: how to
    render it yourself (empty once rendered)."""

    path: pathlib.Path
    source: str
    rendered: bool
    hint: str = ""

    def _repr_svg_(self):
        # Jupyter shows rendered SVG drawings inline.
        if self.rendered and self.path.suffix == ".svg":
            return self.path.read_text()
        return None


# ----------------------------------------------------------------------------------------
# Labels


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _record(*fields: str) -> str:
    """A record label: fields side by side, each escaped for Graphviz's record syntax."""
    escaped = [re.sub(r'([{}|<>"\\])', r"\\\1", field) for field in fields]
    return '"{ ' + " | ".join(escaped) + ' }"'


def _format_value(value) -> str:
    array = np.asarray(value)
    if array.dtype == bool:
        items = [str(v) for v in array.ravel()[:4]]
    else:
        items = [f"{v:.4g}" for v in array.ravel()[:4]]
    if array.ndim == 0:
        return items[0]
    if array.size > 4:
        items = items[:3] + ["..."]
    return "[" + ", ".join(items) + "]"


def _params_text(eqn: Eqn) -> str:
    shown = []
    for key, value in sorted(eqn.params.items()):
        if key.startswith("_"):
            continue
        text = "<program>" if isinstance(value, (Jaxpr, ClosedJaxpr)) else str(value)
        shown.append(f"{key}={text if len(text) <= 30 else text[:27] + '...'}")
    return "\n".join(shown)


def _source_label(source: str) -> str:
    """``file.py:12  y = x @ w``: a source location and the code on that line."""
    filename, _, lineno = source.rpartition(":")
    code = linecache.getline(filename, int(lineno)).strip() if lineno.isdigit() else ""
    if len(code) > 60:
        code = code[:57] + "..."
    return f"{short_source(source)}  {code}".rstrip()


# ----------------------------------------------------------------------------------------
# Grouping equations by the line of code that made them


@attrs.frozen
class _Annotations:
    """Optional extras for the nodes of one program: values and gradients by variable,
    and the index of the first equation of the backward pass in a gradient program."""

    values: dict = attrs.field(factory=dict)
    grads: dict = attrs.field(factory=dict)
    backward_from: int | None = None


def _frame_labels(closed: ClosedJaxpr, notes: _Annotations) -> list[str | None]:
    """The frame each equation is drawn in: its line of code, or the backward pass of it."""
    labels = []
    for i, eqn in enumerate(closed.eqns):
        backward = notes.backward_from is not None and i >= notes.backward_from
        if eqn.source is None:
            labels.append(_BACKWARD_LABEL if backward else None)
        else:
            # The backward pass stages each equation's transpose under its source line.
            labels.append(
                f"{_BACKWARD_LABEL} of {_source_label(eqn.source)}" if backward else _source_label(eqn.source)
            )
    return labels


def _frame_groups(labels) -> list[list[int]]:
    """Runs of consecutive equations drawn in the same frame."""
    groups: list[list[int]] = []
    for i, label in enumerate(labels):
        if groups and labels[groups[-1][0]] == label:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _collapse_repeats(eqns, labels, groups) -> list[tuple[list[list[int]], int]]:
    """Blocks of groups; a run of groups repeating ``count`` times becomes one block."""

    def signature(group):
        return labels[group[0]], tuple(eqns[i].primitive for i in group)

    signatures = [signature(g) for g in groups]
    blocks = []
    i = 0
    while i < len(groups):
        best_period, best_count = 1, 1
        for period in range(1, min(_MAX_PERIOD, (len(groups) - i) // 2) + 1):
            pattern = signatures[i : i + period]
            count = 1
            while signatures[i + count * period : i + (count + 1) * period] == pattern:
                count += 1
            if count > 1 and period * count > best_period * best_count:
                best_period, best_count = period, count
        span = best_period * best_count
        blocks.append((groups[i : i + span], best_count))
        i += span
    return blocks


# ----------------------------------------------------------------------------------------
# Graph bodies


def _var_node(node_id: str, name: str, var: Var, style: str, notes: _Annotations) -> str:
    fields = [f"{name}: {var.aval}"]
    if var in notes.values:
        fields.append(f"data {_format_value(notes.values[var])}")
    if var in notes.grads:
        fields.append(f"grad {_format_value(notes.grads[var])}")
    attributes = f"shape=record, label={_record(*fields)}" + (f", {style}" if style else "")
    return f"{node_id} [{attributes}];"


def _expanded_body(closed: ClosedJaxpr, prefix: str, notes: _Annotations) -> list[str]:
    """One node per variable, operation and literal; frames per line of code."""
    jaxpr = closed.jaxpr
    names = var_names(jaxpr)
    outputs = {id(v) for v in jaxpr.outvars if isinstance(v, Var)}

    def var_id(var):
        return f"{prefix}v_{names[var]}"

    def style_of(var, base):
        # An input or constant that is also an output keeps its colour and gains the border.
        if id(var) not in outputs:
            return base
        return f"{base}, peripheries=2" if base else _OUTPUT_STYLE

    # Graphviz stacks what is declared later higher up in a left-to-right drawing, so
    # declarations go out in reverse: the first input and the first line end on top.
    blocks = [[_var_node(var_id(v), names[v], v, style_of(v, _CONST_STYLE), notes)] for v in jaxpr.constvars]
    blocks += [[_var_node(var_id(v), names[v], v, style_of(v, _INPUT_STYLE), notes)] for v in jaxpr.invars]
    labels = _frame_labels(closed, notes)
    for k, group in enumerate(_frame_groups(labels)):
        statements = []
        for i in group:
            eqn = jaxpr.eqns[i]
            op_label = eqn.primitive.name
            params = _params_text(eqn)
            if params:
                op_label += "\n" + params
            statements.append(f"{prefix}op_{i} [label={_quote(op_label)}, {_OP_STYLE}];")
            for j, atom in enumerate(eqn.invars):
                if isinstance(atom, Literal):
                    literal_label = _quote(_format_value(atom.val))
                    statements.append(f"{prefix}lit_{i}_{j} [shape=plaintext, label={literal_label}];")
            for var in eqn.outvars:
                statements.append(_var_node(var_id(var), names[var], var, style_of(var, ""), notes))
        statements.reverse()
        label = labels[group[0]]
        if label is None:
            blocks.append(statements)
        else:
            frame = f'  label={_quote(label)}; style="dashed"; color="#9ca3af"; fontsize=11;'
            inner = ["  " + statement for statement in statements]
            blocks.append([f"subgraph cluster_{prefix}line{k} {{", frame, *inner, "}"])
    lines = [line for block in reversed(blocks) for line in block]
    for i, eqn in enumerate(jaxpr.eqns):
        for j, atom in enumerate(eqn.invars):
            if isinstance(atom, Literal):
                lines.append(f"{prefix}lit_{i}_{j} -> {prefix}op_{i};")
            else:
                lines.append(f"{var_id(atom)} -> {prefix}op_{i};")
        for var in eqn.outvars:
            lines.append(f"{prefix}op_{i} -> {var_id(var)};")
    for k, atom in enumerate(jaxpr.outvars):
        if isinstance(atom, Literal):
            label = _record(f"out: {_format_value(atom.val)}", str(atom.aval))
            lines.append(f"{prefix}out_{k} [shape=record, label={label}, {_OUTPUT_STYLE}];")
    return lines


def _collapsed_body(closed: ClosedJaxpr, prefix: str, notes: _Annotations) -> list[str]:
    """One node per line of code (or repeated block of lines); edges carry the values
    that flow between them."""
    jaxpr = closed.jaxpr
    names = var_names(jaxpr)
    producer: dict[Var, str] = {}
    lines = []
    for var in jaxpr.constvars:
        producer[var] = f"{prefix}v_{names[var]}"
        lines.append(_var_node(producer[var], names[var], var, _CONST_STYLE, notes))
    for var in jaxpr.invars:
        producer[var] = f"{prefix}v_{names[var]}"
        lines.append(_var_node(producer[var], names[var], var, _INPUT_STYLE, notes))
    flows: dict[tuple[str, str], list[Var]] = collections.defaultdict(list)
    labels = _frame_labels(closed, notes)
    blocks = _collapse_repeats(jaxpr.eqns, labels, _frame_groups(labels))
    for k, (groups, count) in enumerate(blocks):
        node_id = f"{prefix}block_{k}"
        indices = [i for group in groups for i in group]
        heading = [label for label in dict.fromkeys(labels[group[0]] for group in groups) if label]
        if count > 1:
            heading.append(f"repeated x{count}")
        tally = collections.Counter(jaxpr.eqns[i].primitive.name for i in indices)
        summary = ", ".join(f"{name} x{n}" if n > 1 else name for name, n in tally.most_common())
        label = "\n".join([*heading, f"{len(indices)} equations: {summary}"])
        lines.append(f"{node_id} [label={_quote(label)}, {_OP_STYLE}];")
        for i in indices:
            for atom in jaxpr.eqns[i].invars:
                source_node = producer.get(atom) if isinstance(atom, Var) else None
                if (
                    source_node is not None
                    and source_node != node_id
                    and atom not in flows[source_node, node_id]
                ):
                    flows[source_node, node_id].append(atom)
            for var in jaxpr.eqns[i].outvars:
                producer[var] = node_id
    for k, atom in enumerate(jaxpr.outvars):
        out_id = f"{prefix}out_{k}"
        shown = f"out: {_format_value(atom.val)}" if isinstance(atom, Literal) else f"out {names[atom]}"
        fields = [shown, str(atom.aval)]
        if isinstance(atom, Var) and atom in notes.values:
            fields.append(f"data {_format_value(notes.values[atom])}")
        lines.append(f"{out_id} [shape=record, label={_record(*fields)}, {_OUTPUT_STYLE}];")
        if isinstance(atom, Var):
            flows[producer[atom], out_id].append(atom)
    for (src, dst), carried in flows.items():
        label = str(carried[0].aval) if len(carried) == 1 else f"{len(carried)} values"
        lines.append(f"{src} -> {dst} [label={_quote(label)}, fontsize=10];")
    return lines


def _program_body(closed, prefix, notes, collapse_above) -> list[str]:
    if collapse_above is not None and len(closed.eqns) > collapse_above:
        return _collapsed_body(closed, prefix, notes)
    return _expanded_body(closed, prefix, notes)


def _header(name: str, title: str | None) -> list[str]:
    lines = [
        f"digraph {name} {{",
        "rankdir=LR;",
        'node [fontname="Helvetica", fontsize=11];',
        'edge [color="#4b5563"];',
    ]
    if title:
        lines.append(f"label={_quote(title)}; labelloc=t; fontsize=14;")
    return lines


def to_dot(closed_jaxpr: ClosedJaxpr, *, title: str | None = None, collapse_above: int | None = None) -> str:
    """Graphviz DOT source drawing a program: inputs, operations, outputs.

    Variables are boxes named as ``make_jaxpr`` prints them and labelled with their
    shape and dtype (inputs blue, constants yellow, outputs green with a double border);
    operations are rounded boxes; literals are plain text. Equations from one line of the
    user's code are framed together, with that line as the frame's label.

    Args:
      closed_jaxpr: a program, for example from ``make_jaxpr(f)(*args)``.
      title: a caption for the picture.
      collapse_above: draw programs with more equations than this one node per line of
        code (repeated blocks of lines, such as loop bodies, become one node marked with
        their count). Default 60; ``None`` never collapses.

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
    limit = COLLAPSE_ABOVE if collapse_above is None else collapse_above
    lines = _header("program", title)
    lines += _program_body(closed_jaxpr, "", _Annotations(), limit)
    lines.append("}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------
# Values and gradients at every variable (micrograd's data | grad)


def _values_of_all_vars(closed: ClosedJaxpr, flat_args) -> dict:
    jaxpr = closed.jaxpr
    every_var = [*jaxpr.constvars, *jaxpr.invars, *(v for eqn in jaxpr.eqns for v in eqn.outvars)]
    everything = Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.eqns, every_var)
    return dict(zip(every_var, eval_jaxpr(everything, closed.consts, *flat_args), strict=True))


def _is_float(aval) -> bool:
    return is_float_dtype(aval.dtype)


def _grads_of_all_vars(closed: ClosedJaxpr, flat_args) -> dict:
    """d output / d v for every floating variable ``v``, at ``flat_args``.

    Each intermediate ``v`` is rewritten as ``v = v' + probe_v`` with a new input
    ``probe_v`` (zero); the gradient with respect to ``probe_v`` is the gradient at ``v``.
    """
    jaxpr = closed.jaxpr
    probes, eqns = [], []
    for eqn in jaxpr.eqns:
        renamed = [Var(v.aval) if _is_float(v.aval) else v for v in eqn.outvars]
        eqns.append(attrs.evolve(eqn, outvars=renamed))
        for original, new in zip(eqn.outvars, renamed, strict=True):
            if new is not original:
                probe = Var(original.aval)
                probes.append((original, probe))
                eqns.append(Eqn(add_p, (new, probe), (original,), source=eqn.source))
    probed = Jaxpr(jaxpr.constvars, (*jaxpr.invars, *(p for _, p in probes)), eqns, jaxpr.outvars)
    float_inputs = [i for i, v in enumerate(jaxpr.invars) if _is_float(v.aval)]

    def output(chosen_inputs, probe_values):
        inputs = list(flat_args)
        for i, value in zip(float_inputs, chosen_inputs, strict=True):
            inputs[i] = value
        return eval_jaxpr(probed, closed.consts, *inputs, *probe_values)[0]

    zeros = [np.zeros(v.aval.shape, v.aval.dtype) for v, _ in probes]
    input_grads, probe_grads = grad(output, argnums=(0, 1))([flat_args[i] for i in float_inputs], zeros)
    grads = {jaxpr.invars[i]: g for i, g in zip(float_inputs, input_grads, strict=True)}
    grads.update({var: g for (var, _), g in zip(probes, probe_grads, strict=True)})
    return grads


def _has_scalar_float_output(closed: ClosedJaxpr) -> bool:
    outs = closed.jaxpr.outvars
    return len(outs) == 1 and outs[0].aval.shape == () and _is_float(outs[0].aval)


# ----------------------------------------------------------------------------------------
# draw


def _float_argnums(args) -> tuple[int, ...]:
    chosen = []
    for i, arg in enumerate(args):
        leaves, _ = flatten_arguments("draw", arg, f"argument {i}")
        if leaves and all(_is_float(get_aval(leaf)) for leaf in leaves):
            chosen.append(i)
    return tuple(chosen)


def _render(source: str, path: pathlib.Path, fmt: str) -> None:
    completed = subprocess.run(
        ["dot", f"-T{fmt}", "-o", str(path)], input=source.encode(), capture_output=True, timeout=120
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"draw: Graphviz's dot failed to render {path} (exit code {completed.returncode}): "
            f"{completed.stderr.decode(errors='replace').strip()}"
        )


def draw(fun, *args, path, grads: bool = False, values: bool = False, collapse_above: int | None = None):
    """Draw the program of ``fun`` at ``args`` (and its gradient program) to a file.

    Args:
      fun: the function to stage, as for ``make_jaxpr``.
      *args: example arguments (only their shapes and dtypes matter, unless ``values``).
      path: where to write; the suffix picks the format: ``.svg``, ``.png``, ``.pdf``
        (rendered by Graphviz's ``dot``) or ``.dot``/``.gv`` (the DOT source).
      grads: also draw the gradient program, ``make_jaxpr(grad(fun, argnums))``, with
        respect to every floating-point argument (``fun`` must return a scalar).
      values: label each variable with its value at ``args`` and, when ``fun`` returns a
        scalar, the gradient of the output with respect to it (micrograd's data | grad).
      collapse_above: as for ``to_dot``.

    Returns:
      A ``Drawing``. If ``dot`` is not on PATH, ``draw`` writes ``path`` with the suffix
      ``.dot`` instead, prints how to render it (to stderr), and returns it with
      ``rendered=False`` and the advice in ``hint``.

    Example:
      >>> import tempfile, pathlib
      >>> import minigrad.numpy as mnp
      >>> folder = pathlib.Path(tempfile.mkdtemp())
      >>> drawing = draw(lambda x: mnp.sin(x) * x, 2.0, path=folder / "f.dot", values=True)
      >>> drawing.rendered, drawing.path.name
      (False, 'f.dot')
      >>> "data 0.9093 | grad 2 " in drawing.source
      True
    """
    path = pathlib.Path(path)
    if path.suffix.lower() not in _FORMATS:
        raise ValueError(
            f"draw: cannot tell the format of {path.name!r} from its suffix; use one of "
            f"{', '.join(_FORMATS)}."
        )
    fmt = _FORMATS[path.suffix.lower()]
    name = getattr(fun, "__name__", "fun")
    forward = make_jaxpr(fun)(*args)
    notes = _Annotations()
    flat_args = None
    if values:
        flat_args, _ = flatten_arguments("draw", args)
        grads_by_var = _grads_of_all_vars(forward, flat_args) if _has_scalar_float_output(forward) else {}
        notes = _Annotations(values=_values_of_all_vars(forward, flat_args), grads=grads_by_var)
    limit = COLLAPSE_ABOVE if collapse_above is None else collapse_above
    if not grads:
        lines = _header("program", f"program of {name}")
        lines += _program_body(forward, "", notes, limit)
    else:
        argnums = _float_argnums(args)
        if not argnums:
            raise TypeError(f"draw(grads=True): {name} has no floating-point argument to differentiate.")
        backward = make_jaxpr(grad(fun, argnums=argnums))(*args)
        # The gradient program starts with the forward program, recorded again.
        prefix = [eqn.primitive for eqn in backward.eqns[: len(forward.eqns)]]
        same_start = prefix == [eqn.primitive for eqn in forward.eqns]
        backward_notes = _Annotations(backward_from=len(forward.eqns) if same_start else None)
        if values:
            backward_notes = attrs.evolve(backward_notes, values=_values_of_all_vars(backward, flat_args))
        lines = _header("programs", None)
        # Declared first, drawn below (see _expanded_body): the forward program ends on top.
        arguments = ", ".join(map(str, argnums))
        title = f"gradient program: grad({name}, argnums=({arguments},))"
        lines.append("subgraph cluster_gradient {")
        lines.append(f'label={_quote(title)}; fontsize=14; color="#6b7280";')
        lines += _program_body(backward, "g_", backward_notes, limit)
        lines.append("}")
        lines.append("subgraph cluster_forward {")
        lines.append(f'label={_quote(f"program of {name}")}; fontsize=14; color="#6b7280";')
        lines += _program_body(forward, "f_", notes, limit)
        lines.append("}")
    lines.append("}")
    source = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt is None:
        path.write_text(source)
        return Drawing(path, source, rendered=False, hint=f"dot -Tsvg {path} -o {path.with_suffix('.svg')}")
    if shutil.which("dot") is None:
        dot_path = path.with_suffix(".dot")
        dot_path.write_text(source)
        hint = f"{DOT_MISSING_ADVICE} dot -T{fmt} {dot_path} -o {path}"
        print(
            f"minigrad.viz.draw: Graphviz's `dot` was not found; wrote {dot_path} instead. {hint}",
            file=sys.stderr,
        )
        return Drawing(dot_path, source, rendered=False, hint=hint)
    _render(source, path, fmt)
    return Drawing(path, source, rendered=True)
