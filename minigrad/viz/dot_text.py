"""Graphviz text: quoting, record labels, values and source lines as they are printed.

Example:
    >>> format_value([1.0, 2.5, 3.0, 4.0, 5.0])
    '[1, 2.5, 3, ...]'
"""

from __future__ import annotations

import linecache
import re

import numpy as np

from minigrad.core.ir import ClosedJaxpr, Eqn, Jaxpr, short_source

INPUT_STYLE = 'style=filled, fillcolor="#dbeafe"'
CONST_STYLE = 'style=filled, fillcolor="#fef9c3"'
OUTPUT_STYLE = 'style=filled, fillcolor="#dcfce7", peripheries=2'
OP_STYLE = 'shape=box, style="rounded,filled", fillcolor="#f3f4f6"'


def quote(text: str) -> str:
    """A Graphviz string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def record(*fields: str) -> str:
    """A record label: fields side by side, each escaped for Graphviz's record syntax."""
    escaped = [re.sub(r'([{}|<>"\\])', r"\\\1", field) for field in fields]
    return '"{ ' + " | ".join(escaped) + ' }"'


def format_value(value) -> str:
    """A value as a label shows it: a number, or the first few elements."""
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


def params_text(eqn: Eqn) -> str:
    """An equation's parameters, one per line, long ones shortened."""
    shown = []
    for key, value in sorted(eqn.params.items()):
        if key.startswith("_"):
            continue
        text = "<program>" if isinstance(value, (Jaxpr, ClosedJaxpr)) else str(value)
        shown.append(f"{key}={text if len(text) <= 30 else text[:27] + '...'}")
    return "\n".join(shown)


def source_code(source: str) -> str:
    """The text of the line ``file:line`` points at, stripped ('' when it cannot be read)."""
    filename, _, lineno = source.rpartition(":")
    return linecache.getline(filename, int(lineno)).strip() if lineno.isdigit() else ""


def source_label(source: str) -> str:
    """``file.py:12  y = x @ w``: a source location and the code on that line."""
    code = source_code(source)
    if len(code) > 60:
        code = code[:57] + "..."
    return f"{short_source(source)}  {code}".rstrip()


def header(name: str, title: str | None, rankdir: str = "LR") -> list[str]:
    """The opening lines of a DOT graph."""
    lines = [
        f"digraph {name} {{",
        f"rankdir={rankdir};",
        'node [fontname="Helvetica", fontsize=11];',
        'edge [color="#4b5563"];',
    ]
    if title:
        lines.append(f"label={quote(title)}; labelloc=t; fontsize=14;")
    return lines
