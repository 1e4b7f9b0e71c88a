"""The intermediate representation: small immutable programs ("jaxprs").

A traced function becomes a ``Jaxpr``: input variables, a list of equations, output
atoms. Each equation applies one primitive to atoms (variables or literals) and binds new
variables. Every variable carries its abstract value (shape and dtype), so a program can
be checked, printed and compiled without running it. The records here only describe
programs; transforms build new ones rather than editing old ones.

Example:
    >>> import numpy as np
    >>> a = Var(ShapedArray((3,), np.dtype("float32")))
    >>> str(a.aval)
    'f32[3]'
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

__all__ = [
    "ShapedArray",
    "Var",
    "Literal",
    "Eqn",
    "Jaxpr",
    "ClosedJaxpr",
    "Params",
    "NO_PARAMS",
    "aval_of",
    "pp_jaxpr",
    "short_source",
    "var_names",
    "fresh_names",
]

_SHORT_DTYPE = {
    "float16": "f16",
    "float32": "f32",
    "float64": "f64",
    "int8": "i8",
    "int16": "i16",
    "int32": "i32",
    "int64": "i64",
    "uint8": "u8",
    "uint16": "u16",
    "uint32": "u32",
    "uint64": "u64",
    "bool": "bool",
    "complex64": "c64",
    "complex128": "c128",
}


@attrs.frozen
class ShapedArray:
    """What a transform knows about an array it cannot see: its shape and dtype.

    ``weak_type`` marks a Python number passed to a transform: like the number itself
    (NumPy 2's weak scalars) it takes the dtype of the arrays it meets, so
    ``float32_array * x`` stays float32 for ``x = 1.0`` under every transform. Only a
    transform's inputs are weak; every operation's result has a definite dtype.
    """

    shape: tuple[int, ...] = attrs.field(converter=tuple)
    dtype: np.dtype = attrs.field(converter=np.dtype)
    # Not part of equality: weakness only steers promotion while a function is traced; a
    # program typed for a weak float64 input runs on any float64 value.
    weak_type: bool = attrs.field(default=False, kw_only=True, eq=False)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(math.prod(self.shape))

    def str_short(self) -> str:
        name = _SHORT_DTYPE.get(self.dtype.name, self.dtype.name)
        return f"{name}[{','.join(map(str, self.shape))}]"

    def __str__(self):
        return self.str_short()


def aval_of(value) -> ShapedArray:
    """The abstract value of a concrete array or Python scalar."""
    value = np.asarray(value)
    return ShapedArray(value.shape, value.dtype)


@attrs.define(eq=False, repr=False)
class Var:
    """A program variable. Compared by identity: two variables are never 'equal'."""

    aval: ShapedArray

    def __repr__(self):
        return f"Var({self.aval})"


@attrs.frozen(eq=False)
class Literal:
    """A constant written directly into an equation (a scalar or small array)."""

    val: Any
    aval: ShapedArray

    def __repr__(self):
        return f"Literal({_format_literal(self.val)}:{self.aval})"


class Params(Mapping):
    """An immutable, hashable mapping of an equation's static parameters."""

    __slots__ = ("_items", "_dict", "_hash")

    def __init__(self, items=()):
        self._dict = dict(items)
        self._items = None  # sorted lazily: most equations are never hashed or compared
        self._hash = None

    def _sorted_items(self):
        if self._items is None:
            self._items = tuple(sorted(self._dict.items()))
        return self._items

    def __getitem__(self, key):
        return self._dict[key]

    # The backward pass and interpreters call rules with ``**eqn.params`` for every
    # equation; Mapping's generic keys() would make that a Python-level iteration.
    def keys(self):
        return self._dict.keys()

    def items(self):
        return self._dict.items()

    def values(self):
        return self._dict.values()

    def __iter__(self):
        return iter(self._dict)

    def __len__(self):
        return len(self._dict)

    def __hash__(self):
        if self._hash is None:
            self._hash = hash(self._sorted_items())
        return self._hash

    def __eq__(self, other):
        return type(other) is Params and self._sorted_items() == other._sorted_items()

    def __repr__(self):
        return f"Params({self._dict!r})"


# The params of every equation without params (most of them), shared.
NO_PARAMS = Params()


def _to_params(value) -> Params:
    # `type(...) is` rather than isinstance: Params is an ABC subclass, and this runs for
    # every recorded equation.
    if type(value) is Params:
        return value
    if not value:
        return NO_PARAMS
    return Params(value)


@attrs.frozen(eq=False)
class Eqn:
    """``outvars = primitive(*invars, **params)``; ``source`` is the user's file:line."""

    primitive: Any
    invars: tuple[Var | Literal, ...] = attrs.field(converter=tuple)
    outvars: tuple[Var, ...] = attrs.field(converter=tuple)
    params: Params = attrs.field(converter=_to_params, factory=Params)
    source: str | None = None


@attrs.frozen(eq=False)
class Jaxpr:
    """A program: ``constvars`` and ``invars`` in, ``eqns`` in order, ``outvars`` out."""

    constvars: tuple[Var, ...] = attrs.field(converter=tuple)
    invars: tuple[Var, ...] = attrs.field(converter=tuple)
    eqns: tuple[Eqn, ...] = attrs.field(converter=tuple)
    outvars: tuple[Var | Literal, ...] = attrs.field(converter=tuple)

    def __str__(self):
        return pp_jaxpr(self)

    @property
    def in_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.invars]

    @property
    def out_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.outvars]


@attrs.frozen(eq=False)
class ClosedJaxpr:
    """A program together with the values of its constant variables."""

    jaxpr: Jaxpr
    consts: tuple = attrs.field(converter=tuple)
    # How str() prints it: with each equation's source line (make_jaxpr(f, source=True)).
    show_source: bool = attrs.field(default=False, kw_only=True)

    def __str__(self):
        return pp_jaxpr(self.jaxpr, source=self.show_source)

    def __repr__(self):
        return str(self)

    def pretty(self, source: bool | None = None) -> str:
        """The program as text; with ``source=True`` each line ends with the user's line."""
        return pp_jaxpr(self.jaxpr, source=self.show_source if source is None else source)

    @property
    def in_avals(self) -> list[ShapedArray]:
        return self.jaxpr.in_avals

    @property
    def out_avals(self) -> list[ShapedArray]:
        return self.jaxpr.out_avals

    @property
    def eqns(self):
        return self.jaxpr.eqns


# ----------------------------------------------------------------------------------------
# Pretty printing, in the style of JAX: `c:f32[3] = mul a b`.


def fresh_names():
    """An endless stream of variable names: a, b, ..., z, ba, bb, ... as JAX names them.

    Example:
      >>> import itertools
      >>> list(itertools.islice(fresh_names(), 25, 28))
      ['z', 'ba', 'bb']
    """
    letters = "abcdefghijklmnopqrstuvwxyz"
    i = 0
    while True:
        n, name = i, ""
        while True:
            name = letters[n % 26] + name
            n //= 26
            if n == 0:
                break
        yield name
        i += 1


def _format_literal(val) -> str:
    arr = np.asarray(val)
    if arr.ndim == 0:
        item = arr.item()
        if isinstance(item, float):
            return repr(float(item))
        return str(item)
    return np.array2string(arr, separator=",", threshold=8).replace("\n", "")


def _subprograms(value) -> list | None:
    """The programs a parameter holds (one, or a tuple of branches), else None."""
    items = value if isinstance(value, tuple) and value else (value,)
    if all(isinstance(item, (Jaxpr, ClosedJaxpr)) for item in items):
        return [item.jaxpr if isinstance(item, ClosedJaxpr) else item for item in items]
    return None


def _format_param(value, names, indent: int = 4) -> str:
    programs = _subprograms(value)
    if programs is not None:
        # Sub-programs (a loop body, branches) print below their equation, indented.
        if len(programs) == 1:
            return pp_jaxpr(programs[0], indent=indent).lstrip()
        bodies = [pp_jaxpr(program, indent=indent + 2) for program in programs]
        return "(\n" + ",\n".join(bodies) + "\n" + " " * indent + ")"
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    return repr(value) if isinstance(value, str) else str(value)


def _format_params(shown: dict, names, pad: str) -> str:
    """``[k=v, ...]`` on one line, or one parameter per line when some hold programs."""
    if not any(_subprograms(v) is not None for v in shown.values()):
        return "[" + ", ".join(f"{k}={_format_param(v, names)}" for k, v in sorted(shown.items())) + "]"
    inner = pad + " " * 6
    lines = [f"{inner}{k}={_format_param(v, names, len(inner))}" for k, v in sorted(shown.items())]
    return "[\n" + "\n".join(lines) + f"\n{pad}    ]"


def var_names(jaxpr: Jaxpr) -> dict[Var, str]:
    """The names the printer gives a program's variables: a, b, c, ... in binding order.

    Example:
      >>> import numpy as np
      >>> x = Var(ShapedArray((), np.dtype("float32")))
      >>> list(var_names(Jaxpr((), (x,), (), (x,))).values())
      ['a']
    """
    fresh = fresh_names()
    bound = (*jaxpr.constvars, *jaxpr.invars, *(v for eqn in jaxpr.eqns for v in eqn.outvars))
    return {var: next(fresh) for var in bound}


def short_source(source: str) -> str:
    """A source location as printed: relative to the working directory when inside it.

    Example:
      >>> import os
      >>> short_source(os.path.join(os.getcwd(), "model.py") + ":3")
      'model.py:3'
    """
    here = os.getcwd() + os.sep
    return source[len(here) :] if source.startswith(here) else source


def pp_jaxpr(jaxpr: Jaxpr, source: bool = False, indent: int = 0) -> str:
    """Print a program one equation per line, naming variables a, b, c, ...

    Example:
      >>> import numpy as np
      >>> x = Var(ShapedArray((), np.dtype("float32")))
      >>> print(pp_jaxpr(Jaxpr((), (x,), (), (x,))))
      { lambda ; a:f32[]. let  in (a,) }
    """
    fresh = fresh_names()
    names: dict[int, str] = {}

    def name(atom, with_type: bool = False) -> str:
        if isinstance(atom, Literal):
            return f"{_format_literal(atom.val)}:{atom.aval}"
        key = id(atom)
        if key not in names:
            names[key] = next(fresh)
        return f"{names[key]}:{atom.aval}" if with_type else names[key]

    pad = " " * indent
    consts = " ".join(name(v, True) for v in jaxpr.constvars)
    inputs = " ".join(name(v, True) for v in jaxpr.invars)
    lines = []
    for eqn in jaxpr.eqns:
        outs = " ".join(name(v, True) for v in eqn.outvars)
        prim = eqn.primitive.name
        shown = {k: v for k, v in eqn.params.items() if not k.startswith("_")}
        if shown:
            prim = f"{prim}{_format_params(shown, names, pad)}"
        args = " ".join(name(v) for v in eqn.invars)
        line = f"{pad}    {outs} = {prim} {args}".rstrip()
        if source and eqn.source:
            line = f"{line}  # {short_source(eqn.source)}"
        lines.append(line)
    outputs = ", ".join(name(v) for v in jaxpr.outvars)
    if len(jaxpr.outvars) == 1:
        outputs += ","
    head = f"{pad}{{ lambda {consts}; {inputs}. let"
    if not lines:
        return f"{head}  in ({outputs}) }}"
    return "\n".join([head, *lines, f"{pad}  in ({outputs}) }}"])
