"""The compiled executor: a program becomes straight-line Python that calls NumPy directly.

``compile_jaxpr`` writes one Python statement per equation, whose right-hand side the
primitive's own lowering rule writes (``core/lowering.py``; each primitive declares it
beside its other rules, and one without a rule is called through its ``impl`` with its
params bound in advance). The compiler knows no primitive by name. There is no
per-equation dispatch at run time: the generated function is just the NumPy calls.
Everything the generated code names is either a program variable (``a``, ``b``, ...,
never starting with ``_``) or one of the executor's own names, which all start with
``_`` (``_exp``, ``_k0``, ``_part1``): no program can shadow them, and no name comes
from a user's string unsanitised.

Memory: after the last use of an intermediate the function ``del``s it, so peak memory
is the live set, not the whole program. Where an elementwise result has the shape and
dtype of an operand whose buffer is dead after this equation, the ufunc writes into that
buffer (``out``, passed after the operands) and takes over the operand's name. A
buffer is only reused when the executor made it (never an input, a constant or a
literal), no view of it is alive (outputs of reshape, transpose, broadcast_to, slicing
and basic indexing share their operand's buffer), and it is not returned.

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
        b = _multiply(b, _k0, b)
        return [b]
    >>> compiled(np.zeros(3, np.float32))
    [array([2., 2., 2.], dtype=float32)]
"""

from __future__ import annotations

import collections.abc
import keyword
import linecache
import weakref

import numpy as np

from minigrad.core.ir import ClosedJaxpr, Jaxpr, Literal, Var, fresh_names
from minigrad.core.lowering import FRESH, READ_ONLY_VIEW, VIEW, Code, lower_by_impl, safe_identifier
from minigrad.ops.linalg import matmul_p
from minigrad.transforms.jit.gemm import lower_matmul
from minigrad.transforms.jit.heap import tune_malloc

__all__ = ["compile_jaxpr", "CompiledProgram"]


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


# Every name the executor itself uses starts with "_"; program variables never do (see
# `_variable_names`), so no program, however long, can shadow one.
_NAMESPACE = {"_own": _own, "_writable": _writable, "_array": np.array, "_asarray": np.asarray}
_PASSED_VALUES = "_live"  # the list that carries variables from one part to the next


# Ufuncs whose `out` must be passed by keyword (a positional one is deprecated).
_KEYWORD_OUT_UFUNCS = frozenset((np.maximum, np.minimum))


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


def numbered_name(base: str, namespace: dict, counters: dict) -> str:
    """``base`` with the next number that no name in ``namespace`` has (``_k0``, ``_k1``).

    Example:
      >>> numbered_name("_k", {"_k0": 1}, {})
      '_k1'
    """
    while True:
        number = counters.get(base, 0)
        counters[base] = number + 1
        name = f"{base}{number}"
        if name not in namespace:
            return name


def _variable_names():
    """The program printer's names (``fresh_names``), with ``_`` after a Python keyword.

    They start with a letter, so they never meet the executor's ``_``-names.
    """
    for name in fresh_names():
        yield name + "_" if keyword.iskeyword(name) else name


class _Writer:
    """Writes the statements of one program: names, constants, and buffer bookkeeping.

    While an equation is lowered, the writer is its rule's ``LoweringContext``
    (``core/lowering.py``): ``primitive``, ``in_avals`` and ``out_avals`` describe that
    equation, ``constant`` and ``ufunc`` help write its code.
    """

    def __init__(self, jaxpr: Jaxpr, names=None):
        self.jaxpr = jaxpr
        self.namespace = dict(_NAMESPACE)
        self.names: dict = {}
        self.fresh_names = _variable_names() if names is None else names
        self.constants: dict[int, str] = {}
        self.counters: dict[str, int] = {}
        self.held: list = []  # keeps constants alive, so their ids stay theirs
        self.scalars: dict = {}  # (dtype, bytes) of a 0-d literal -> its name
        # Buffer bookkeeping: every variable maps to the buffer (root) it reads from.
        # Roots of inputs and constants are ("input" | "constant", their name).
        self.root: dict = {}
        self.owned: set = set()  # roots the executor allocated and may overwrite
        self.holders: dict = {}  # root -> variables bound to it and still alive
        self.direct: set = set()  # variables that are their whole buffer (not a view of it)
        # root -> the roots its buffer may be (an implementation may return an operand)
        self.may_be: dict = {}
        self.broadcast: set = set()  # variables that are (views of) broadcasts: read-only
        self.foreign: set = set()  # variables an implementation we cannot see into made
        self.last_use = self._last_uses()
        # The equation being lowered; the LoweringContext's view of it (`primitive`,
        # `in_avals`, `out_avals`) is derived on demand, since few rules ask for it.
        self.index = -1
        self.eqn = None

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

    # -- names ------------------------------------------------------------------------------

    def name(self, var) -> str:
        found = self.names.get(var)
        if found is None:
            found = self.names[var] = next(self.fresh_names)
            if found.startswith("_"):
                raise AssertionError(f"program variable name {found!r} could meet the executor's names")
        return found

    def constant(self, value, hint: str = "k") -> str:
        """A name bound to ``value`` in the generated code's namespace (``hint``: sanitised).

        Functions keep their plain name (``_exp``) unless another object has it; data
        constants are numbered (``_k0``, ``_s1``).
        """
        key = id(value)
        found = self.constants.get(key)
        if found is not None:
            return found
        base = safe_identifier(hint)
        plain = callable(value) and base not in self.namespace
        name = base if plain else numbered_name(base, self.namespace, self.counters)
        self.constants[key] = name
        self.held.append(value)
        self.namespace[name] = value
        return name

    def atom(self, atom) -> str:
        if type(atom) is Literal:
            value = atom.val
            if isinstance(value, np.ndarray) and value.ndim == 0:
                # Equal scalars share one name (a long program made by a loop has one
                # literal per equation), told apart by dtype and bytes, so -0.0 and
                # 0.0, or two NaNs, stay what they were.
                key = (value.dtype, value.tobytes())
                found = self.scalars.get(key)
                if found is None:
                    found = self.scalars[key] = self.constant(value[()])  # cheaper to compute with
                return found
            return self.constant(value)
        return self.name(atom)

    # -- the LoweringContext of the equation being lowered -----------------------------

    @property
    def primitive(self):
        return self.eqn.primitive

    @property
    def in_avals(self) -> tuple:
        return tuple(atom.aval for atom in self.eqn.invars)

    @property
    def out_avals(self) -> tuple:
        return tuple(var.aval for var in self.eqn.outvars)

    def ufunc(self, ufunc, args, operator: str | None = None) -> Code:
        """A call of ``ufunc``, written into a dead operand's buffer when one fits."""
        function = self.constant(ufunc, ufunc.__name__)
        position = self.reusable_operand(len(args))
        if position is not None:
            # `out` passed by position (the argument after the operands): CPython
            # compiles a call without keywords about a quarter faster, which counts in a
            # program of 200,000 statements. NumPy 2.4 deprecates a positional `out` for
            # maximum and minimum only, so those two name it.
            out = f"out={args[position]}" if ufunc in _KEYWORD_OUT_UFUNCS else args[position]
            return Code(f"{function}({', '.join(args)}, {out})", FRESH, written_operand=position)
        if operator is not None:
            return Code(operator.format(*args), FRESH)
        return Code(f"{function}({', '.join(args)})", FRESH)

    def reusable_operand(self, count: int) -> int | None:
        """The position (below ``count``) of an operand whose buffer the result may take."""
        i, eqn = self.index, self.eqn
        out_aval = eqn.outvars[0].aval
        if out_aval.ndim == 0:
            return None
        for position, atom in enumerate(eqn.invars[:count]):
            if type(atom) is not Var or atom.aval != out_aval or atom not in self.direct:
                continue
            root = self.root[atom]
            if root not in self.owned:
                continue
            if all(self.last_use.get(holder, -1) <= i for holder in self.holders[root]):
                return position
        return None

    # -- buffers ------------------------------------------------------------------------

    def bind_root(self, var, root, owned: bool = False):
        self.root[var] = root
        if owned:
            self.owned.add(root)
        self.holders.setdefault(root, set()).add(var)

    def release(self, var) -> bool:
        """Forget ``var`` as a holder of its buffer; False if it was already released
        (an operand read twice by one equation)."""
        root = self.root.get(var)
        if root is None:
            return True
        holders = self.holders[root]
        if var not in holders:
            return False
        holders.remove(var)
        return True

    def record_result(self, i, eqn, code: Code) -> None:
        """Note which buffer each result of equation ``i`` lives in."""
        operand = eqn.invars[0] if eqn.invars else None
        for position, var in enumerate(eqn.outvars):
            if code.written_operand is not None:
                self.bind_root(var, self.root[eqn.invars[code.written_operand]])
                self.direct.add(var)
            elif code.buffer in (VIEW, READ_ONLY_VIEW) and operand is not None:
                if type(operand) is Var:
                    self.bind_root(var, self.root[operand])
                    if code.buffer == READ_ONLY_VIEW or operand in self.broadcast:
                        self.broadcast.add(var)
                else:  # a view of a literal: a constant of the namespace
                    self.bind_root(var, ("constant", self.atom(operand)))
            else:
                owned = code.buffer == FRESH and var.aval.ndim > 0
                self.bind_root(var, ("eqn", i, position), owned=owned)
                if owned:
                    self.direct.add(var)
        if code.buffer not in (FRESH, VIEW, READ_ONLY_VIEW):
            # The implementation may return (a view of) an operand: never reuse those buffers.
            operand_roots = set()
            for atom in eqn.invars:
                if type(atom) is Var:
                    self.owned.discard(self.root[atom])
                    operand_roots |= self.may_be.get(self.root[atom], {self.root[atom]})
            for var in eqn.outvars:
                self.may_be[self.root[var]] = {self.root[var], *operand_roots}
                self.foreign.add(var)


# Primitives jit writes otherwise than their own lowering says: matrix products as
# calls of a kernel compiled for this CPU, when they fit (gemm.py).
_HOST_LOWERINGS = {matmul_p: lower_matmul}


def _statements(writer: _Writer, i: int, eqn, never_deleted) -> list[str]:
    """The statement computing equation ``i``, then a ``del`` of what dies with it.

    A result written into a dead operand's buffer also takes that operand's name
    (``b = _sin(b, b)``): the name needs no ``del``, and every statement fewer makes
    CPython's ``compile()`` of a long program faster.
    """
    args = [writer.atom(atom) for atom in eqn.invars]
    writer.index, writer.eqn = i, eqn
    primitive = eqn.primitive
    lowering = _HOST_LOWERINGS.get(primitive) or primitive.lowering or lower_by_impl
    code = lowering(writer, *args, **eqn.params)
    names = writer.names
    taken_over = None
    if code.written_operand is not None and not primitive.multiple_results:
        operand = eqn.invars[code.written_operand]
        if eqn.outvars[0] not in names and id(operand) not in never_deleted:
            taken_over = operand
            names[eqn.outvars[0]] = names[operand]
    if primitive.multiple_results and not eqn.outvars:  # kept for its effects alone
        block = [code.source]
    elif primitive.multiple_results:
        block = [f"{''.join(writer.name(var) + ', ' for var in eqn.outvars)}= {code.source}"]
    else:
        block = [f"{writer.name(eqn.outvars[0])} = {code.source}"]
    writer.record_result(i, eqn, code)
    last_use = writer.last_use
    dead = []
    for var in (*eqn.invars, *eqn.outvars):
        if type(var) is Var and last_use.get(var, -1) <= i and id(var) not in never_deleted:
            if writer.release(var) and var is not taken_over:
                dead.append(names[var])
    if dead:
        block.append(f"del {', '.join(dead)}")
    return block


def _split_into_parts(jaxpr, writer, block_size, never_deleted) -> tuple[list[str], list[str]]:
    """Put each run of ``block_size`` equations in a function of its own.

    CPython compiles one very long function more slowly per line than several short
    ones, so large programs become a chain of parts. The variables still needed travel
    from part to part in one list, which each part empties as it unpacks it, so a part
    holds the only reference to what it receives and its ``del``s still free memory.
    Each part's statements are written and joined into its source before the next
    part's, so only one part's lines exist at a time. Returns each part's source and
    the main body's lines.
    """
    defined_at = {var: -1 for var in jaxpr.invars}
    for i, eqn in enumerate(jaxpr.eqns):
        for var in eqn.outvars:
            defined_at[var] = i
    end = len(jaxpr.eqns)
    count = -(-end // block_size)  # part k starts at equation k * block_size
    # passed[k]: variables defined before boundary k and read at or after it (outputs
    # are read last); filled per variable, so the cost is the size of what is passed.
    # Names are looked up when a boundary is written, since a result may take over the
    # name of the operand it was written into (see `_statements`).
    passed: list[list] = [[] for _ in range(count + 1)]
    for var, defined in defined_at.items():
        last = writer.last_use.get(var, -1)
        first_boundary = defined // block_size + 1
        last_boundary = count if last >= end else last // block_size
        for k in range(first_boundary, last_boundary + 1):
            passed[k].append(var)

    def passed_at(k):
        return "".join(writer.name(var) + ", " for var in passed[k])

    carrier = _PASSED_VALUES
    parts = []
    body = [f"{carrier} = [{passed_at(0)}]"]
    for number, start in enumerate(range(0, end, block_size)):
        stop = min(start + block_size, end)
        part = [f"def _part{number}({carrier}):"]
        received = passed_at(number)
        if received:
            part.append(f"    {received}= {carrier}")
        part.append(f"    {carrier}.clear()")
        for i in range(start, stop):
            part.extend(f"    {line}" for line in _statements(writer, i, jaxpr.eqns[i], never_deleted))
        part.append(f"    return [{passed_at(number + 1)}]")
        parts.append("".join(line + "\n" for line in part))
        body.append(f"{carrier} = _part{number}({carrier})")
    if passed_at(count):
        body.append(f"{passed_at(count)}= {carrier}")
    return parts, body


_SHARED_ROOTS = ("input", "constant")


def _return_statement(jaxpr, writer, copied_outputs=()) -> str:
    """``return [...]``: every result a writable array sharing memory with nothing else.

    Callers may write into results: none may be (a view of) an input, a constant or
    another result, and none may be a read-only broadcast. What an implementation we
    cannot see into returned is only possibly shared: that is checked when it runs.
    The results at ``copied_outputs`` are the exception: the caller copies them before
    anything can write into what they share, so they are returned as they are.
    """
    results = []
    returned_roots: set = set()
    returned_names: list = []  # results returned without a copy, which later ones must not share
    for position, atom in enumerate(jaxpr.outvars):
        if position in copied_outputs:
            results.append(writer.atom(atom))
            continue
        if type(atom) is Literal:
            results.append(f"_asarray({writer.atom(atom)}).copy()")
            continue
        out_name = writer.name(atom)
        root = writer.root[atom]
        possible = writer.may_be.get(root, {root})
        shared = root[0] in _SHARED_ROOTS or root in returned_roots
        # Sorted: a set's order follows string hashes, which differ between processes, and
        # the generated source must not.
        maybe = sorted(r for r in possible - {root} if r[0] in _SHARED_ROOTS or r in returned_roots)
        returned_roots |= possible
        if shared or atom in writer.broadcast:
            results.append(f"_array({out_name})")
            continue
        if atom in writer.foreign:
            others = [r[1] for r in maybe if r[0] in _SHARED_ROOTS]
            if any(r[0] not in _SHARED_ROOTS for r in maybe):
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
    return f"return [{', '.join(results)}]"


def _define_functions(name: str, functions: list[str], source: str, namespace: dict):
    """Execute each generated function's source in ``namespace``; return the function ``name``.

    The functions are compiled one at a time: CPython's ``compile`` of one module of a
    few hundred thousand lines takes far more time and memory per line (1.5 GB for 200k
    equations) than of many small ones. Each is compiled at its line in the whole
    source, so tracebacks show the right lines.
    """
    filename = f"<minigrad.jit {name} {id(namespace):x}>"
    # Registered with linecache so tracebacks through the generated code show its lines,
    # for as long as the function lives; split into lines only when one is asked for.
    _forget_dead_sources()
    linecache.cache[filename] = (len(source), None, _SourceLines(source), filename)
    first_line = 0
    for function_source in functions:
        code = compile(function_source, filename, "exec")
        if first_line:
            code = _shift_lines(code, first_line)
        exec(code, namespace)  # noqa: S102 - our own generated code
        first_line += function_source.count("\n")
    fn = namespace[name]
    weakref.finalize(fn, _dead_sources.append, filename)
    return fn


class _SourceLines(collections.abc.Sequence):
    """The lines of ``source`` for ``linecache``, split on first use (tracebacks through
    the generated code are rare; the lines of a long program take as much memory as
    its code)."""

    def __init__(self, source: str):
        self._source = source
        self._count = source.count("\n")
        self._lines = None

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        if self._lines is None:
            self._lines = self._source.splitlines(True)
        return self._lines[index]


def _shift_lines(code, offset: int):
    """``code`` (and the code objects inside it) as if it started ``offset`` lines later."""
    consts = tuple(_shift_lines(c, offset) if isinstance(c, type(code)) else c for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + offset, co_consts=consts)


def compile_jaxpr(
    program: ClosedJaxpr | Jaxpr,
    name: str = "jitted",
    block_size: int = 1000,
    *,
    variable_names=None,
    copied_outputs=(),
) -> CompiledProgram:
    """Compile a program to a Python function of its inputs returning its output list.

    Args:
      program: a ``ClosedJaxpr`` (its constants are baked into the code) or a ``Jaxpr``
        without constant variables.
      name: the name of the generated function (reduced to a safe identifier).
      block_size: programs with more equations are split into helper functions of this
        many equations each (CPython compiles long functions slowly).
      variable_names: an iterator of names for the program's variables (by default the
        printer's ``a, b, c, ...``); the tests use it to try names the executor uses.
      copied_outputs: positions of outputs the caller copies before anything can write
        into them (a scan's stacked ``ys``): returned without a defensive copy.

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
    tune_malloc()  # once per process: the program's temporaries come from the heap
    if isinstance(program, ClosedJaxpr):
        jaxpr, consts = program.jaxpr, program.consts
    else:
        jaxpr, consts = program, ()
    name = name if name.isidentifier() and not keyword.iskeyword(name) else safe_identifier(name)
    writer = _Writer(jaxpr, variable_names)
    for var, value in zip(jaxpr.constvars, consts, strict=True):
        writer.names[var] = writer.constant(value, "c")
        writer.bind_root(var, ("constant", writer.names[var]))
    params = []
    for var in jaxpr.invars:
        params.append(writer.name(var))
        writer.bind_root(var, ("input", writer.names[var]))
    # Inputs and constants are never deleted: the caller (or the namespace) owns them.
    never_deleted = {id(var) for var in (*jaxpr.constvars, *jaxpr.invars)}
    if len(jaxpr.eqns) > block_size:
        functions, body = _split_into_parts(jaxpr, writer, block_size, never_deleted)
    else:
        functions = []
        body = [
            line for i, eqn in enumerate(jaxpr.eqns) for line in _statements(writer, i, eqn, never_deleted)
        ]
    body.append(_return_statement(jaxpr, writer, copied_outputs))
    functions.append(f"def {name}({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in body))
    source = "".join(functions)
    return CompiledProgram(_define_functions(name, functions, source, writer.namespace), source)


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
