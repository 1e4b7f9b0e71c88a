"""``draw``: stage a function (and its gradient), name what the user named, render.

Rendering runs Graphviz's ``dot`` program on the DOT text and writes what it prints,
so no path is ever passed to ``dot`` (a file named ``-x.svg`` is not an option). Where
``dot`` is missing, the DOT text is written instead, with a shell-quoted command that
renders it.

Example:
    >>> render_command("svg", "my picture.dot", "-x.svg")
    "dot -Tsvg 'my picture.dot' -o ./-x.svg"
"""

from __future__ import annotations

import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

import attrs

from minigrad.core.ir import ClosedJaxpr, Var, var_names
from minigrad.core.trace import get_aval
from minigrad.transforms.ad import grad
from minigrad.transforms.api_util import flatten_arguments
from minigrad.transforms.staged_program import make_jaxpr
from minigrad.viz.call_view import call_view_body, check_call_view
from minigrad.viz.calls import boxes_of, call_tree
from minigrad.viz.dot_text import header, quote
from minigrad.viz.folding import Notes, parameter_group
from minigrad.viz.graph import COLLAPSE_ABOVE, folds, program_body
from minigrad.viz.names import (
    constant_names,
    gradient_title,
    leaf_names_by_argument,
    local_names,
    output_name,
)
from minigrad.viz.values import grads_of_all_vars, has_scalar_float_output, is_float, values_of_all_vars

__all__ = ["draw", "Drawing", "DOT_MISSING_ADVICE", "render_command"]

_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": None, ".gv": None}

DOT_MISSING_ADVICE = (
    "Install Graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: `brew install "
    "graphviz`; conda: `conda install graphviz`) so that `dot` is on PATH, then render the "
    "file with:"
)


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


def _shell_path(path) -> str:
    # A file name starting with "-" would be read as an option; "./-x.svg" is the same file.
    text = os.fspath(path)
    return shlex.quote(os.path.join(".", text) if text.startswith("-") else text)


def render_command(fmt: str, dot_path, out_path) -> str:
    """The shell command that renders ``dot_path`` to ``out_path``, safely quoted."""
    return f"dot -T{fmt} {_shell_path(dot_path)} -o {_shell_path(out_path)}"


def _render(source: str, path: pathlib.Path, fmt: str) -> None:
    completed = subprocess.run(["dot", f"-T{fmt}"], input=source.encode(), capture_output=True, timeout=120)
    if completed.returncode != 0:
        raise RuntimeError(
            f"draw: Graphviz's dot failed to render {path} (exit code {completed.returncode}): "
            f"{completed.stderr.decode(errors='replace').strip()}"
        )
    path.write_bytes(completed.stdout)


def _float_argnums(args) -> tuple[int, ...]:
    chosen = []
    for i, arg in enumerate(args):
        leaves, _ = flatten_arguments("draw", arg, f"argument {i}")
        if leaves and all(is_float(get_aval(leaf)) for leaf in leaves):
            chosen.append(i)
    return tuple(chosen)


def _output_names(closed: ClosedJaxpr, name: str) -> dict:
    outs = closed.jaxpr.outvars
    if len(outs) == 1:
        return {outs[0]: name}
    return {atom: f"{name}[{k}]" for k, atom in enumerate(outs) if isinstance(atom, Var)}


def _input_names(fun, closed: ClosedJaxpr, leaf_names) -> dict:
    """Parameter names for the inputs and global names for the constants, where known."""
    jaxpr = closed.jaxpr
    names = {}
    if len(leaf_names) == len(jaxpr.invars):
        names.update(zip(jaxpr.invars, leaf_names, strict=True))
    else:  # the program's inputs are not the arguments' leaves (an unusual ``fun``)
        printed = var_names(jaxpr)
        names.update({v: printed[v] for v in jaxpr.invars})
    for var, name in zip(jaxpr.constvars, constant_names(fun, closed.consts), strict=True):
        if name is not None:
            names[var] = name
    return names


def _forward_notes(fun, closed: ClosedJaxpr, leaf_names) -> Notes:
    names = {**_output_names(closed, output_name(fun)), **local_names(closed.jaxpr)}
    names.update(_input_names(fun, closed, leaf_names))
    groups = {var: parameter_group(names[var]) for var in closed.jaxpr.invars if var in names}
    return Notes(names=names, input_groups={v: g for v, g in groups.items() if g})


def _gradient_notes(fun, closed: ClosedJaxpr, forward: ClosedJaxpr, leaf_names, differentiated) -> Notes:
    """Names for a gradient program: ``dz/dx1`` for its outputs, and where its backward
    pass begins (it starts with the forward program, recorded again)."""
    prefix = [eqn.primitive for eqn in closed.eqns[: len(forward.eqns)]]
    backward_from = len(forward.eqns) if prefix == [eqn.primitive for eqn in forward.eqns] else None
    out = output_name(fun)
    names = dict(local_names(closed.jaxpr, backward_from if backward_from is not None else 0))
    names.update(_input_names(fun, closed, leaf_names))
    output_groups = {}
    if len(differentiated) == len(closed.jaxpr.outvars):
        for k, (atom, leaf) in enumerate(zip(closed.jaxpr.outvars, differentiated, strict=True)):
            names[atom] = f"d{out}/d{leaf}"
            output_groups[k] = parameter_group(leaf)
    groups = {var: parameter_group(names[var]) for var in closed.jaxpr.invars if var in names}
    return Notes(
        names=names,
        backward_from=backward_from,
        input_groups={v: g for v, g in groups.items() if g},
        output_groups={k: g for k, g in output_groups.items() if g},
    )


def _cluster(name: str, title: str, body: list[str]) -> list[str]:
    return [f"subgraph cluster_{name} {{", f'label={quote(title)}; fontsize=14; color="#6b7280";', *body, "}"]


def _write(source: str, path: pathlib.Path, fmt: str | None) -> Drawing:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt is None:
        path.write_text(source)
        return Drawing(
            path, source, rendered=False, hint=render_command("svg", path, path.with_suffix(".svg"))
        )
    if shutil.which("dot") is None:
        dot_path = path.with_suffix(".dot")
        dot_path.write_text(source)
        hint = f"{DOT_MISSING_ADVICE} {render_command(fmt, dot_path, path)}"
        print(
            f"minigrad.viz.draw: Graphviz's `dot` was not found; wrote {dot_path} instead. {hint}",
            file=sys.stderr,
        )
        return Drawing(dot_path, source, rendered=False, hint=hint)
    _render(source, path, fmt)
    return Drawing(path, source, rendered=True)


# Pictures of one box each that a call view links to, at most (a big model has many).
MAX_LINKED_PAGES = 60


def _page_name(box_path: str, number: int) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", box_path).strip("-").lower()
    return f"{number}-{slug}.svg"


def _write_linked_pages(picture, programs, path: pathlib.Path, expand) -> Drawing:
    """An SVG call view, and beside it (in ``<name>.calls/``) one picture per box with
    that box open; each box links to its picture, so a browser opens it on a click."""
    paths = list(dict.fromkeys(box.path for closed in programs for box in boxes_of(call_tree(closed))))
    pages = {box_path: _page_name(box_path, k) for k, box_path in enumerate(paths[:MAX_LINKED_PAGES])}
    folder = path.with_name(path.stem + ".calls")
    drawing = _write(picture(expand, lambda box: _link(pages, box, f"{folder.name}/")), path, "svg")
    for box_path, page in pages.items():
        source = picture([*expand, box_path], lambda box: _link(pages, box, ""))
        _write(source, folder / page, "svg")
    return drawing


def _link(pages: dict, box, folder: str) -> str | None:
    page = pages.get(box.path)
    return None if page is None else folder + page


def draw(
    fun,
    *args,
    path,
    grads: bool = False,
    values: bool = False,
    collapse_above: int | None = COLLAPSE_ABOVE,
    depth: int | None = None,
    expand=(),
):
    """Draw the program of ``fun`` at ``args`` (and its gradient program) to a file.

    Inputs are named after ``fun``'s parameters (a pytree argument's leaves by their
    path, ``params[0]['w']``), values that a line of code binds after the variable it
    binds, the result after ``fun``, and the gradient program's outputs ``dz/dx1``.

    Args:
      fun: the function to stage, as for ``make_jaxpr``.
      *args: example arguments (only their shapes and dtypes matter, unless ``values``).
      path: where to write; the suffix picks the format: ``.svg``, ``.png``, ``.pdf``
        (rendered by Graphviz's ``dot``) or ``.dot``/``.gv`` (the DOT source).
      grads: also draw the gradient program, ``make_jaxpr(grad(fun, argnums))``, with
        respect to every floating-point argument (``fun`` must return a scalar).
      values: label each variable with its value at ``args`` and, when ``fun`` returns a
        scalar, the gradient of the output with respect to it (micrograd's data | grad).
      collapse_above: as for ``to_dot``: longer programs are drawn folded, one node per
        line of code or layer of a model, top to bottom; when the gradient program is
        folded, the program beside it is too.
      depth: draw one box per call of the user's code or ``nn`` layer instead (the call
        view, see ``to_dot``): ``1`` the calls ``fun`` makes, ``2`` also the calls those
        make, and so on. In a gradient program each layer's backward equations are in
        its box. An SVG picture links each box to a picture with that box open, written
        beside it in the folder ``<name>.calls/``: a click in a browser opens it.
      expand: names (``"Linear #2"``, or ``"Linear"`` for every one) or paths
        (``"MLP/Linear #2"``) of boxes to draw open, showing their calls and equations.

    Returns:
      A ``Drawing``. If ``dot`` is not on PATH, ``draw`` writes ``path`` with the suffix
      ``.dot`` instead, prints how to render it (to stderr), and returns it with
      ``rendered=False`` and the advice in ``hint``.

    Example:
      >>> import tempfile, pathlib
      >>> import minigrad.numpy as mnp
      >>> def f(x):
      ...     return mnp.sin(x) * x
      >>> folder = pathlib.Path(tempfile.mkdtemp())
      >>> drawing = draw(f, 2.0, path=folder / "f.dot", values=True)
      >>> drawing.rendered, drawing.path.name
      (False, 'f.dot')
      >>> "x: f64[] | data 2 | grad 0.077 " in drawing.source  # d/dx sin(x)*x = x cos x + sin x
      True
      >>> "f: f64[] | data 1.819" in drawing.source  # the result, named after the function
      True
    """
    path = pathlib.Path(path)
    if path.suffix.lower() not in _FORMATS:
        raise ValueError(
            f"draw: cannot tell the format of {path.name!r} from its suffix; use one of "
            f"{', '.join(_FORMATS)}."
        )
    name = output_name(fun)
    forward = make_jaxpr(fun)(*args)
    leaf_names = leaf_names_by_argument(fun, args)
    flat_names = [leaf for names in leaf_names for leaf in names]
    notes = _forward_notes(fun, forward, flat_names)
    flat_args = None
    if values:
        flat_args, _ = flatten_arguments("draw", args)
        grads_by_var = grads_of_all_vars(forward, flat_args) if has_scalar_float_output(forward) else {}
        notes = attrs.evolve(notes, values=values_of_all_vars(forward, flat_args), grads=grads_by_var)
    if expand and depth is None:
        depth = 1  # naming boxes to open asks for the call view
    backward = backward_notes = argnums = None
    if grads:
        argnums = _float_argnums(args)
        if not argnums:
            raise TypeError(
                f"draw(grads=True): {name} has no floating-point argument to differentiate; "
                "pass at least one float array or number."
            )
        backward = make_jaxpr(grad(fun, argnums=argnums))(*args)
        differentiated = [leaf for i in argnums for leaf in leaf_names[i]]
        backward_notes = _gradient_notes(fun, backward, forward, flat_names, differentiated)
        if values:
            backward_notes = attrs.evolve(backward_notes, values=values_of_all_vars(backward, flat_args))

    if depth is not None:
        expand = check_call_view(
            "draw", [forward] if backward is None else [forward, backward], depth, expand
        )

    def picture(expanded, link) -> str:
        def body(closed, prefix, program_notes, folded):
            if depth is None:
                return program_body(closed, prefix, program_notes, folded)
            return call_view_body(closed, prefix, program_notes, depth, expanded, link)

        if backward is None:
            folded = depth is not None or folds(forward, collapse_above)
            lines = header("program", f"program of {name}", "TB" if folded else "LR")
            lines += body(forward, "", notes, folded)
        else:
            folded = depth is not None or folds(forward, collapse_above) or folds(backward, collapse_above)
            lines = header("programs", None, "TB" if folded else "LR")
            # Declared first, drawn below in a left-to-right picture: the forward program
            # ends on top. Top to bottom, the two stand side by side, forward on the left.
            gradient = _cluster(
                "gradient",
                f"gradient program: {gradient_title(name, argnums)}",
                body(backward, "g_", backward_notes, folded),
            )
            program = _cluster("forward", f"program of {name}", body(forward, "f_", notes, folded))
            lines += program + gradient if folded else gradient + program
        lines.append("}")
        return "\n".join(lines) + "\n"

    fmt = _FORMATS[path.suffix.lower()]
    if depth is None or fmt != "svg" or shutil.which("dot") is None:
        return _write(picture(expand, None), path, fmt)
    programs = [forward] if backward is None else [forward, backward]
    return _write_linked_pages(picture, programs, path, expand)
