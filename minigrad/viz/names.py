"""Names the user would recognise: parameters for inputs, local variables for results.

A staged equation remembers the user's line that made it (``eqn.source``). Where that
line is an assignment such as ``h = mnp.tanh(x @ w)``, the last value the line computes
is the user's ``h``. Inputs are named after the function's parameters, and a pytree
argument's leaves by their path in it (``params[0]['w']``).

Example:
    >>> def loss(params, x):
    ...     return params["w"] * x
    >>> parameter_names(loss, ({"w": 1.0, "b": 2.0}, 3.0))
    ["params['b']", "params['w']", 'x']
"""

from __future__ import annotations

import ast
import functools
import inspect
import linecache

from minigrad.transforms.api_util import flatten_arguments

__all__ = [
    "leaf_names_by_argument",
    "local_names",
    "parameter_names",
    "bound_name",
    "output_name",
    "constant_names",
    "gradient_title",
]


def _argument_names(fun, count: int) -> list[str]:
    """The name of each positional argument: its parameter, or ``args[i]`` for ``*args``."""
    try:
        parameters = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        parameters = []  # a builtin or a callable without a signature
    names = []
    for i in range(count):
        if i < len(parameters) and parameters[i].kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            names.append(parameters[i].name)
        else:
            varargs = [p for p in parameters if p.kind is inspect.Parameter.VAR_POSITIONAL]
            positional = sum(p.kind is not inspect.Parameter.VAR_POSITIONAL for p in parameters[:i])
            names.append(f"{varargs[0].name}[{i - positional}]" if varargs else f"args[{i}]")
    return names


def leaf_names_by_argument(fun, args) -> list[list[str]]:
    """For each argument, the names of its leaves: the parameter name and the leaf's path.

    Example:
      >>> leaf_names_by_argument(lambda w, x: x, ([1.0, 2.0], 3.0))
      [['w[0]', 'w[1]'], ['x']]
    """
    return [
        [name + path for path, _ in flatten_arguments("draw", arg, name, with_paths=True)]
        for name, arg in zip(_argument_names(fun, len(args)), args, strict=True)
    ]


def parameter_names(fun, args) -> list[str]:
    """One name per leaf of ``args``, in the order ``make_jaxpr`` makes its inputs.

    Example:
      >>> parameter_names(lambda x1, x2: x1 * x2, (2.0, 3.0))
      ['x1', 'x2']
    """
    return [name for names in leaf_names_by_argument(fun, args) for name in names]


@functools.lru_cache(maxsize=64)
def _statements(filename: str, text: str) -> tuple[ast.stmt, ...]:
    """Every simple statement of a file (the text is part of the key: files change)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return ()
    return tuple(
        node for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign))
    )


def bound_name(source: str | None) -> str | None:
    """The variable an assignment at ``file:line`` binds, if it binds exactly one name.

    Example:
      >>> import linecache
      >>> linecache.cache["model.py"] = (0, None, ["h = x @ w\\n", "a, b = h\\n"], "model.py")
      >>> bound_name("model.py:1"), bound_name("model.py:2")
      ('h', None)
    """
    if source is None:
        return None
    filename, _, lineno = source.rpartition(":")
    if not lineno.isdigit():
        return None
    line = int(lineno)
    for node in _statements(filename, "".join(linecache.getlines(filename))):
        if node.lineno <= line <= (node.end_lineno or node.lineno):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                return targets[0].id
            return None
    return None


def output_name(fun) -> str:
    """What the drawn function's result is called: its name, or ``out`` for a lambda.

    Example:
      >>> output_name(lambda x: x), output_name(output_name)
      ('out', 'output_name')
    """
    name = getattr(fun, "__name__", "")
    return name if name.isidentifier() else "out"


def constant_names(fun, consts) -> list[str | None]:
    """The global or closed-over name of each constant ``fun`` captured, where one is found.

    Example:
      >>> import numpy as np
      >>> table = np.ones(3)
      >>> constant_names(lambda x: x * table, [table, np.zeros(2)])
      ['table', None]
    """
    known = dict(getattr(fun, "__globals__", {}))
    code = getattr(fun, "__code__", None)
    for name, cell in zip(
        code.co_freevars if code else (), getattr(fun, "__closure__", None) or (), strict=False
    ):
        try:
            known[name] = cell.cell_contents
        except ValueError:  # an empty cell
            continue
    by_identity = {id(value): name for name, value in known.items()}
    return [by_identity.get(id(const)) for const in consts]


def gradient_title(name: str, argnums: tuple[int, ...]) -> str:
    """``grad(z, argnums=(0, 1))`` as a person would write it.

    Example:
      >>> gradient_title("z", (0, 1)), gradient_title("loss", (0,))
      ('grad(z, argnums=(0, 1))', 'grad(loss)')
    """
    if argnums == (0,):
        return f"grad({name})"
    shown = str(argnums[0]) if len(argnums) == 1 else "(" + ", ".join(map(str, argnums)) + ")"
    return f"grad({name}, argnums={shown})"


def local_names(jaxpr, forward_eqns: int | None = None) -> dict:
    """The user's name for each value a line of code binds, by variable.

    The value a line ``h = ...`` binds is the last one its run of equations computes.
    Only the first ``forward_eqns`` equations are read (the forward part of a gradient
    program; the backward pass is staged under the same lines).

    Example:
      >>> import minigrad as mg, minigrad.numpy as mnp
      >>> def f(x):
      ...     h = mnp.sin(x) * 2.0
      ...     return h + 1.0
      >>> closed = mg.make_jaxpr(f)(1.0)
      >>> sorted(local_names(closed.jaxpr).values())
      ['h']
    """
    eqns = jaxpr.eqns[: len(jaxpr.eqns) if forward_eqns is None else forward_eqns]
    names = {}
    for i, eqn in enumerate(eqns):
        run_ends = i + 1 == len(eqns) or eqns[i + 1].source != eqn.source
        name = bound_name(eqn.source) if run_ends and len(eqn.outvars) == 1 else None
        if name is not None:
            names[eqn.outvars[0]] = name
    return names
