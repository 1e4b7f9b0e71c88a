"""The compiled executor: a program becomes straight-line Python that calls NumPy directly.

``compile_jaxpr`` writes one Python statement per equation: from the primitive's own
``emit`` rule if it has one, else from this module's table of source templates
(primitive -> NumPy call, operator or method); a primitive without either is called
through its NumPy implementation with its params bound in advance. There is no
per-equation dispatch at run time: the generated function is just the NumPy calls.

Memory: after the last use of an intermediate the function ``del``s it, so peak memory
is the live set, not the whole program. Where an elementwise result has the shape and
dtype of an operand whose buffer is dead after this equation, the ufunc writes into that
buffer (``out=``). A buffer is only reused when the executor made it (never an input, a
constant or a literal), no view of it is alive (outputs of reshape, transpose,
broadcast_to, slicing and basic indexing share their operand's buffer), and it is not
returned.

Results: every returned array is a writable array of its own, as eager calls return.
An output that is an input, a constant or a view of one, that shares its buffer with an
earlier output, or that is a (read-only) broadcast is copied. What an implementation the
compiler cannot see into returns is checked when it runs (``np.may_share_memory`` with
the inputs it might be a view of) and copied only if it shares or is read-only.

Example:
    >>> import numpy as np
    >>> from minigrad.core.ir import ShapedArray
    >>> from minigrad.core.staging import stage_flat
    >>> from minigrad.ops.elementwise import exp, mul
    >>> program = stage_flat(lambda x: [mul(exp(x), 2.0)], [ShapedArray((3,), np.float32)])
    >>> compiled = compile_jaxpr(program)
    >>> print(compiled.source)
    def jitted(a):
        b = _exp(a)
        c = _multiply(b, _k0, out=b)
        del b
        return [c]
    >>> compiled(np.zeros(3, np.float32))
    [array([2., 2., 2.], dtype=float32)]
"""

from __future__ import annotations

import functools
import keyword
import linecache
import weakref

import numpy as np

from minigrad.core.dtypes import is_float_dtype
from minigrad.core.ir import ClosedJaxpr, Jaxpr, Literal, Var, fresh_names

__all__ = ["compile_jaxpr", "CompiledProgram"]

# Elementwise primitives whose NumPy ufunc takes `out=`.
_UFUNCS = {
    "add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide", "neg": "negative",
    "pow": "power", "max": "maximum", "min": "minimum", "exp": "exp", "log": "log",
    "log1p": "log1p", "expm1": "expm1", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan",
    "tanh": "tanh", "atan": "arctan", "abs": "absolute", "sign": "sign", "eq": "equal",
    "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
    "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor", "not": "invert",
    "is_finite": "isfinite", "cbrt": "cbrt", "exp2": "exp2", "log2": "log2", "log10": "log10",
}  # fmt: skip

# Binary operators are the fastest spelling of a ufunc call when no `out=` is wanted.
_OPERATORS = {"add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}", "neg": "-{0}"}

# Results that may share their operand's buffer (NumPy returns a view).
_VIEWS = frozenset(["reshape", "transpose", "broadcast_to", "slice", "stop_gradient"])


def _writable(x):
    """``x`` as an array the caller may write into (a copy only if it is read-only)."""
    x = np.asarray(x)
    return x if x.flags.writeable else x.copy()


def _own(x, *others):
    """``x`` as a writable array sharing no memory with ``others`` (copied only if needed)."""
    x = np.asarray(x)
    if not x.flags.writeable or any(np.may_share_memory(x, other) for other in others):
        return x.copy()
    return x


_NAMESPACE = {
    "_own": _own,
    "_writable": _writable,
    "_array": np.array,
    **{f"_{ufunc}": getattr(np, ufunc) for ufunc in _UFUNCS.values()},
    "_square": np.square,
    "_reciprocal": np.reciprocal,
    "_where": np.where,
    "_broadcast_to": np.broadcast_to,
    "_add_reduce": np.add.reduce,
    "_maximum_reduce": np.maximum.reduce,
    "_minimum_reduce": np.minimum.reduce,
    "_concatenate": np.concatenate,
    "_asarray": np.asarray,
    "_np": np,  # for the expressions of primitives' own `emit` rules
}


class CompiledProgram:
    """A compiled program: call it with the program's inputs; ``source`` is its code."""

    __slots__ = ("fn", "source")

    def __init__(self, fn, source: str):
        self.fn = fn
        self.source = source

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self):
        return f"CompiledProgram(\n{self.source})"


def _names():
    """The program printer's names (``fresh_names``), with ``_`` after a Python keyword."""
    for name in fresh_names():
        yield name + "_" if keyword.iskeyword(name) else name


class _Writer:
    """Builds the source and its namespace; tracks buffers for in-place reuse."""

    def __init__(self, jaxpr: Jaxpr):
        self.jaxpr = jaxpr
        self.namespace = dict(_NAMESPACE)
        self.names: dict = {}
        self.fresh_names = _names()
        self.constants: dict[int, str] = {}
        self.held: list = []
        # Buffer bookkeeping: every variable maps to the buffer (root) it reads from.
        self.root: dict = {}
        self.owned: set = set()  # roots the executor allocated and may overwrite
        self.holders: dict = {}  # root -> variables bound to it and still alive
        self.direct: set = set()  # variables that are their whole buffer (not a view of it)
        # root -> the roots its buffer may be (an implementation may return an operand)
        self.may_be: dict = {}
        self.broadcast: set = set()  # variables that are (views of) broadcasts: read-only
        self.foreign: set = set()  # variables an implementation we cannot see into made
        self.last_use = self._last_uses()
        self.inplace_source = None  # the operand the latest in-place equation wrote into

    def _last_uses(self) -> dict:
        last: dict = {}
        end = len(self.jaxpr.eqns)
        for i, eqn in enumerate(self.jaxpr.eqns):
            for atom in eqn.invars:
                if type(atom) is Var:
                    last[atom] = i
        for atom in self.jaxpr.outvars:
            if type(atom) is Var:
                last[atom] = end
        return last

    def name(self, var) -> str:
        found = self.names.get(var)
        if found is None:
            found = self.names[var] = next(self.fresh_names)
        return found

    def constant(self, value, prefix: str = "_k") -> str:
        key = id(value)
        found = self.constants.get(key)
        if found is None:
            found = f"{prefix}{len(self.constants)}"
            self.constants[key] = found
            self.held.append(value)
            self.namespace[found] = value
        return found

    def atom(self, atom) -> str:
        if type(atom) is Literal:
            value = atom.val
            if isinstance(value, np.ndarray) and value.ndim == 0:
                value = value[()]  # a NumPy scalar: cheaper to compute with
            return self.constant(value)
        return self.name(atom)

    def bind_root(self, var, root, owned: bool = False):
        self.root[var] = root
        if owned:
            self.owned.add(root)
        self.holders.setdefault(root, set()).add(var)

    def release(self, var):
        root = self.root.get(var)
        if root is not None:
            self.holders[root].discard(var)

    def reusable_operand(self, i, eqn) -> int | None:
        """The position of an operand whose buffer this equation may write into."""
        out_aval = eqn.outvars[0].aval
        if out_aval.ndim == 0:
            return None
        for position, atom in enumerate(eqn.invars):
            if type(atom) is not Var or atom.aval != out_aval or atom not in self.direct:
                continue
            root = self.root[atom]
            if root not in self.owned:
                continue
            if all(self.last_use.get(holder, -1) <= i for holder in self.holders[root]):
                return position
        return None


def _fallback(writer, eqn, args) -> str:
    bound = functools.partial(eqn.primitive.impl, **eqn.params) if eqn.params else eqn.primitive.impl
    name = writer.constant(bound, prefix=f"_{eqn.primitive.name}_")
    return f"{name}({', '.join(args)})"


def _index_source(writer, indexer, arrays) -> tuple[str, bool]:
    """Source for a NumPy index tuple, and whether it is basic indexing (a view)."""
    parts = []
    basic = True
    for entry in indexer:
        kind = entry[0]
        if kind == "slice":
            parts.append(writer.constant(slice(entry[1], entry[2], entry[3]), prefix="_s"))
        elif kind == "int":
            parts.append(repr(int(entry[1])))
        elif kind == "newaxis":
            parts.append("None")
        else:
            parts.append(arrays[entry[1]])
            basic = False
    return "(" + "".join(part + ", " for part in parts) + ")", basic


def _expression(writer, i, eqn, args) -> tuple[str, str]:
    """The right-hand side for ``eqn`` and how its result relates to buffers.

    The second item is ``"fresh"`` (a new array the executor owns), ``"view"`` (shares
    operand 0's buffer) or ``"foreign"`` (made by an implementation we cannot see into).
    """
    name = eqn.primitive.name
    params = eqn.params
    out_aval = eqn.outvars[0].aval if eqn.outvars else None
    if eqn.primitive.emit is not None:
        # The primitive's own template; what it returns is not ours to overwrite.
        return eqn.primitive.emit(*args, **params), "foreign"
    if name in _UFUNCS or (
        name == "integer_pow" and params["y"] in (2, -1) and is_float_dtype(out_aval.dtype)
    ):
        ufunc = _UFUNCS.get(name) or ("square" if params["y"] == 2 else "reciprocal")
        if name == "integer_pow":
            args = args[:1]
        position = writer.reusable_operand(i, eqn)
        if position is not None:
            writer.inplace_source = eqn.invars[position]
            return f"_{ufunc}({', '.join(args)}, out={args[position]})", "inplace"
        if name in _OPERATORS:
            return _OPERATORS[name].format(*args), "fresh"
        return f"_{ufunc}({', '.join(args)})", "fresh"
    if name == "matmul":
        return f"{args[0]} @ {args[1]}", "fresh"
    if name == "select":
        return f"_where({', '.join(args)})", "fresh"
    if name == "convert_element_type":
        return f"{args[0]}.astype({writer.constant(params['new_dtype'], prefix='_dtype')})", "fresh"
    if name == "stop_gradient":
        return args[0], "view"
    if name == "reshape":
        return f"{args[0]}.reshape({tuple(params['new_sizes'])!r})", "view"
    if name == "transpose":
        return f"{args[0]}.transpose({tuple(params['permutation'])!r})", "view"
    if name == "broadcast_to":
        return f"_broadcast_to({args[0]}, {tuple(params['shape'])!r})", "view"
    if name == "reduce_sum" and is_float_dtype(out_aval.dtype):
        return f"_add_reduce({args[0]}, {tuple(params['axes'])!r})", "fresh"
    if name in ("reduce_max", "reduce_min"):
        reducer = "_maximum_reduce" if name == "reduce_max" else "_minimum_reduce"
        return f"{reducer}({args[0]}, {tuple(params['axes'])!r})", "fresh"
    if name == "concatenate":
        return f"_concatenate(({''.join(a + ', ' for a in args)}), {params['axis']})", "fresh"
    if name == "slice":
        index = tuple(slice(a, b) for a, b in zip(params["starts"], params["stops"], strict=True))
        return f"{args[0]}[{writer.constant(index, prefix='_ix')}]", "view"
    if name == "gather":
        index, basic = _index_source(writer, params["indexer"], args[1:])
        return f"{args[0]}[{index}]", "view" if basic else "fresh"
    return _fallback(writer, eqn, args), "foreign"


def _split_into_parts(jaxpr, writer, blocks, block_size) -> tuple[list[str], list[str]]:
    """Put each run of ``block_size`` equations in a function of its own.

    CPython compiles one very long function more slowly per line than several short
    ones, so large programs become a chain of parts. The variables still needed travel
    from part to part in one list, which each part empties as it unpacks it, so a part
    holds the only reference to what it receives and its ``del``s still free memory.
    Returns the parts' source lines and the main body's lines.
    """
    defined_at = {var: -1 for var in jaxpr.invars}
    for i, eqn in enumerate(jaxpr.eqns):
        for var in eqn.outvars:
            defined_at[var] = i
    end = len(jaxpr.eqns)
    count = -(-end // block_size)  # part k starts at equation k * block_size
    # live[k]: variables defined before boundary k and read at or after it (outputs are
    # read last); filled per variable, so the cost is the size of what is passed.
    live: list[list[str]] = [[] for _ in range(count + 1)]
    for var, defined in defined_at.items():
        last = writer.last_use.get(var, -1)
        first_boundary = defined // block_size + 1
        last_boundary = count if last >= end else last // block_size
        for k in range(first_boundary, last_boundary + 1):
            live[k].append(writer.name(var))

    def live_at(k):
        return "".join(name + ", " for name in live[k])

    parts = []
    body = [f"live = [{live_at(0)}]"]
    for number, start in enumerate(range(0, end, block_size)):
        stop = min(start + block_size, end)
        parts.append(f"def _part{number}(live):")
        received = live_at(number)
        if received:
            parts.append(f"    {received}= live")
        parts.append("    live.clear()")
        parts.extend(f"    {line}" for block in blocks[start:stop] for line in block)
        parts.append(f"    return [{live_at(number + 1)}]")
        body.append(f"live = _part{number}(live)")
    if live_at(count):
        body.append(f"{live_at(count)}= live")
    return parts, body


def compile_jaxpr(
    program: ClosedJaxpr | Jaxpr, name: str = "jitted", block_size: int = 1000
) -> CompiledProgram:
    """Compile a program to a Python function of its inputs returning its output list.

    Args:
      program: a ``ClosedJaxpr`` (its constants are baked into the code) or a ``Jaxpr``
        without constant variables.
      name: the name of the generated function.
      block_size: programs with more equations are split into helper functions of this
        many equations each (CPython compiles long functions slowly).

    Returns:
      A ``CompiledProgram``; ``.source`` is the generated Python.

    Example:
      >>> import numpy as np
      >>> from minigrad.core.ir import ShapedArray
      >>> from minigrad.core.staging import stage_flat
      >>> from minigrad.ops.shape import reduce_sum
      >>> compiled = compile_jaxpr(stage_flat(lambda x: [reduce_sum(x, (0,))], [ShapedArray((2, 2), np.float64)]))
      >>> compiled(np.ones((2, 2)))
      [array([2., 2.])]
    """
    if isinstance(program, ClosedJaxpr):
        jaxpr, consts = program.jaxpr, program.consts
    else:
        jaxpr, consts = program, ()
    writer = _Writer(jaxpr)
    for var, value in zip(jaxpr.constvars, consts, strict=True):
        writer.names[var] = writer.constant(value, prefix="_c")
        writer.bind_root(var, ("constant", var))
    params = []
    for var in jaxpr.invars:
        params.append(writer.name(var))
        writer.bind_root(var, ("input", var))
    blocks: list[list[str]] = []  # the statements of each equation
    # Inputs and constants are never deleted: the caller (or the namespace) owns them.
    never_deleted = {id(var) for var in (*jaxpr.constvars, *jaxpr.invars)}
    for i, eqn in enumerate(jaxpr.eqns):
        outs = [writer.name(var) for var in eqn.outvars]
        args = [writer.atom(atom) for atom in eqn.invars]
        rhs, kind = _expression(writer, i, eqn, args)
        block = [
            f"{''.join(o + ', ' for o in outs)}= {rhs}"
            if eqn.primitive.multiple_results
            else f"{outs[0]} = {rhs}"
        ]
        blocks.append(block)
        for position, var in enumerate(eqn.outvars):
            if kind == "view" and type(eqn.invars[0]) is Var:
                writer.bind_root(var, writer.root[eqn.invars[0]])
                if eqn.primitive.name == "broadcast_to" or eqn.invars[0] in writer.broadcast:
                    writer.broadcast.add(var)
            elif kind == "inplace":
                writer.bind_root(var, writer.root[writer.inplace_source])
                writer.direct.add(var)
            else:
                owned = kind == "fresh" and var.aval.ndim > 0
                writer.bind_root(var, ("eqn", i, position), owned=owned)
                if owned:
                    writer.direct.add(var)
        if kind == "foreign":
            # The implementation may return (a view of) an operand: never reuse those buffers.
            operand_roots = set()
            for atom in eqn.invars:
                if type(atom) is Var:
                    writer.owned.discard(writer.root[atom])
                    operand_roots |= writer.may_be.get(writer.root[atom], {writer.root[atom]})
            for var in eqn.outvars:
                writer.may_be[writer.root[var]] = {writer.root[var], *operand_roots}
                writer.foreign.add(var)
        dead = []
        for var in (*dict.fromkeys(a for a in eqn.invars if type(a) is Var), *eqn.outvars):
            if writer.last_use.get(var, -1) <= i and id(var) not in never_deleted:
                writer.release(var)
                dead.append(writer.name(var))
        if dead:
            block.append(f"del {', '.join(dead)}")
    if len(blocks) > block_size:
        parts, body = _split_into_parts(jaxpr, writer, blocks, block_size)
    else:
        parts, body = [], [line for block in blocks for line in block]
    results = []
    returned_roots: set = set()
    returned_names: list = []  # results returned without a copy, which later ones must not share
    for atom in jaxpr.outvars:
        if type(atom) is Literal:
            results.append(f"_asarray({writer.atom(atom)}).copy()")
            continue
        out_name = writer.name(atom)
        root = writer.root[atom]
        possible = writer.may_be.get(root, {root})
        # Callers may write into results: none may be (a view of) an input, a constant or
        # another result, and none may be a read-only broadcast. What an implementation we
        # cannot see into returned is only possibly shared: that is checked when it runs.
        shared = root[0] in ("input", "constant") or root in returned_roots
        maybe = [r for r in possible - {root} if r[0] in ("input", "constant") or r in returned_roots]
        returned_roots |= possible
        if shared or atom in writer.broadcast:
            results.append(f"_array({out_name})")
            continue
        if atom in writer.foreign:
            others = [writer.name(r[1]) for r in maybe if r[0] in ("input", "constant")]
            if any(r[0] not in ("input", "constant") for r in maybe):
                others += returned_names
            if others:
                results.append(f"_own({', '.join([out_name, *dict.fromkeys(others)])})")
            else:
                results.append(f"_writable({out_name})")
        elif maybe:
            results.append(f"_array({out_name})")
        elif atom.aval.ndim == 0:
            results.append(f"_asarray({out_name})")
        else:
            results.append(out_name)
        returned_names.append(out_name)
    body.append(f"return [{', '.join(results)}]")
    source = "".join(line + "\n" for line in parts)
    source += f"def {name}({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body)
    filename = f"<minigrad.jit {name} {id(writer):x}>"
    # Registered with linecache so tracebacks through the generated code show its lines,
    # for as long as the function lives.
    _forget_dead_sources()
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), writer.namespace)  # noqa: S102 - our own generated code
    fn = writer.namespace[name]
    weakref.finalize(fn, _dead_sources.append, filename)
    return CompiledProgram(fn, source)


# Filenames of generated functions that have been freed. The finalizer only records them:
# it runs whenever the garbage collector does, possibly in the middle of
# `linecache.checkcache()` (pdb, doctest), which fails if an entry vanishes under it. The
# entries are removed at the next compilation instead.
_dead_sources: list[str] = []


def _forget_dead_sources() -> None:
    # Threads compile concurrently: test-then-pop would race, a bare pop (atomic) does not.
    while True:
        try:
            filename = _dead_sources.pop()
        except IndexError:
            return
        linecache.cache.pop(filename, None)
