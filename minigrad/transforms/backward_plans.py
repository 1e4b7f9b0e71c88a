"""Backward plans: the backward pass of a recording seen before, run as compiled code.

Eager ``grad`` records the function's operations and walks them backwards, calling
each equation's VJP rule, and each operation those rules make, through the machinery
every transform shares. For small arrays that machinery, not NumPy, is most of the
time. But a training loop differentiates the same function on new values step after
step, and its recording comes out the same each time: same operations, same shapes,
only the numbers differ (``RecordTrace.structure`` says exactly that, without values).

So minigrad keeps plans by structure: the first time a structure is seen it is only
noted; the second time the backward pass of that recording is staged (its rules run
once on tracers, as under ``jit``) and written out as straight-line Python that calls
each operation's own NumPy implementation; from then on every recording of that
structure runs it, whichever function made it (``grad(loss)`` made anew in every step of
a loop included). The plan performs the very calls, in the very order, that the walk
would, so its gradients are the walk's to the last bit; it drops each recorded value
after its last use, as the walk does.

What a plan does not take: recordings of an outer transform's values (``grad`` of
``grad``, ``grad`` under ``vmap`` or ``jit``), operations whose parameters hold programs
or functions (control flow and custom rules, which run programs and user functions of
their own), operations whose VJP rule looks at values (``Primitive.vjp_reads_values``:
``eigh``, ``svd``), programs longer than ``recording.STRUCTURE_LIMIT``, and any run under
``debug_nans``, which checks every operation as it runs. A backward pass that cannot be
staged (a rule that needs values, and says so) is noted and walked as before.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> df = mg.grad(lambda x: (mg.numpy.sin(x) * 2.0).sum())
    >>> [bool(np.allclose(df(np.zeros(3)), 2.0)) for _ in range(3)]  # walk, stage, plan
    [True, True, True]
"""

from __future__ import annotations

import collections
import functools
import threading

import numpy as np

from minigrad.core import config as _config
from minigrad.core.ir import Literal, ShapedArray, Var
from minigrad.core.recording import is_plain_param
from minigrad.core.staging import stage_flat
from minigrad.core.trace import as_outputs
from minigrad.core.user_code import mention_user_line, user_source_line

__all__ = ["BackwardPlans", "MAX_PLANS", "PLANS", "shared_plans"]

# Structures remembered (noted or planned), the least recently seen forgotten first.
MAX_PLANS = 64

_UNSTAGEABLE = "unstageable"  # the state of a structure whose backward pass needs values


class _Entry:
    """One recording structure seen, and its plan once it has one."""

    __slots__ = ("key", "summary", "plan")

    def __init__(self, key, summary):
        self.key = key
        self.summary = summary
        self.plan = None  # None: seen once; then a _Plan, or _UNSTAGEABLE


class BackwardPlans:
    """Plans for the last ``MAX_PLANS`` recording structures seen, by structure.

    Whichever function made a recording, its structure alone decides its backward
    program; so ``grad(loss)`` made anew in every step of a loop, or two functions that
    record the same program, share one plan. ``input_cotangents`` runs a recording's
    backward pass by plan when it can and returns the input cotangents by variable;
    None means the caller walks the tape. ``walk`` is the backward walk a plan stages
    (``ad.backward_pass``). A process has one, ``PLANS``.
    """

    def __init__(self):
        # Entries by a summary of their key (hashable, where the key is not): the full
        # comparison is left to the few entries that share one. `_recent` orders all
        # entries from the least to the most recently seen.
        self._by_summary: dict = {}
        self._recent: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()

    def input_cotangents(self, walk, trace, in_vars, out_var, seed) -> dict | None:
        structure = trace.structure
        if not structure:
            return None
        if _config.nan_checks_armed and _config.nan_checks_enabled():
            return None  # the walk checks every operation's results
        # The differentiated inputs are the recording's "input" entries, in order; which
        # arguments were left out (integers), and which value is the output (a function
        # may compute two and return either), complete the description.
        pattern = tuple(var is None for var in in_vars)
        output = _position(trace, out_var)
        key = (structure, pattern, output, seed.dtype)
        # The first entry is the first input and its aval; the last, an equation with
        # its result's aval (or avals): a program at another shape has another summary.
        summary = (
            len(structure),
            pattern,
            output,
            seed.dtype.char,
            structure[0],
            structure[-1][0],
            structure[-1][-1],
        )
        with self._lock:
            entry = self._find(summary, key)
            if entry is None:
                self._remember(_Entry(key, summary))
                return None
        if entry.plan is None:
            entry.plan = _stage_plan(walk, trace, in_vars, out_var, seed)
        if entry.plan is _UNSTAGEABLE:
            return None
        return entry.plan.run(trace, in_vars, seed)

    def _find(self, summary, key) -> _Entry | None:
        for entry in self._by_summary.get(summary, ()):
            try:
                if entry.key == key:
                    self._recent.move_to_end(id(entry))
                    return entry
            except (ValueError, TypeError):
                # Parameters that are arrays compare elementwise: no plan for those.
                continue
        return None

    def _remember(self, entry: _Entry) -> None:
        self._by_summary.setdefault(entry.summary, []).append(entry)
        self._recent[id(entry)] = entry
        while len(self._recent) > MAX_PLANS:
            _, oldest = self._recent.popitem(last=False)
            same = self._by_summary[oldest.summary]
            same.remove(oldest)
            if not same:
                del self._by_summary[oldest.summary]

    def clear(self) -> None:
        """Forget every structure and plan (the next recordings are walked)."""
        with self._lock:
            self._by_summary.clear()
            self._recent.clear()

    def __reduce__(self):
        # A function shipped to another process by value (Dask pickles `grad`'s closure)
        # finds that process's own plans there, not a copy of these.
        return (shared_plans, ())


def _position(trace, var) -> int:
    """``var``'s position in the recording (most often the last value recorded)."""
    last = len(trace.values) - 1
    for back, atom in enumerate(reversed(trace.values)):
        if atom is var:
            return last - back
    raise AssertionError("the output is not a value of the recording")


def shared_plans() -> BackwardPlans:
    """This process's plans (``PLANS``)."""
    return PLANS


PLANS = BackwardPlans()


class _Plan:
    """A compiled backward pass: recorded values and seed in, input cotangents out."""

    __slots__ = ("function", "wanted")

    def __init__(self, function, wanted):
        self.function = function
        self.wanted = wanted  # positions of the inputs that receive a cotangent, in output order

    def run(self, trace, in_vars, seed) -> dict:
        inputs = list(trace.values.values())
        inputs.append(seed)
        # The plan holds the only references, and drops each value after its last use.
        trace.values.clear()
        try:
            cotangents = self.function(inputs)
        except Exception as error:
            # As the walk's errors (a singular matrix, say): the user's line that is running.
            mention_user_line(error, user_source_line())
            raise
        return {in_vars[i]: ct for i, ct in zip(self.wanted, cotangents, strict=True)}


def _stage_plan(walk, trace, in_vars, out_var, seed):
    """Stage ``walk`` over ``trace`` and compile it; ``_UNSTAGEABLE`` if it cannot be staged."""
    # The recording looked into the params of operations with one result only as deep as
    # it cheaply could: a tuple holding a function or a program is caught here, once.
    if not all(is_plain_param(value) for _, _, _, params, _ in trace.tape for value in params.values()):
        return _UNSTAGEABLE
    atoms = list(trace.values)
    # The walk meets plain arrays, never weak ones.
    avals = [ShapedArray(atom.aval.shape, atom.aval.dtype) for atom in atoms]
    avals.append(ShapedArray((), seed.dtype))
    wanted = []

    def backward(*tracers):
        read = dict(zip(atoms, tracers)).__getitem__
        ct_env = walk(trace.tape, read, {out_var: tracers[-1]})
        outs = []
        for i, var in enumerate(in_vars):
            if var is not None and ct_env.get(var) is not None:
                wanted.append(i)
                outs.append(ct_env[var])
        return outs

    try:
        program = stage_flat(backward, avals)
    except Exception:  # a rule that needs values (ConcretizationError) or an unusual one
        return _UNSTAGEABLE
    return _Plan(_compile_replay(program), wanted)


def _compile_replay(program):
    """Straight-line Python calling each equation's ``impl``, as the eager walk does.

    Not ``jit``'s compiler: its lowerings may compute the same result another way (a sum
    as a matrix product, a product over folded rows), which would change the last bits
    between the walked first calls and the planned later ones.
    """
    jaxpr = program.jaxpr
    namespace = {"_as_outputs": as_outputs, "_copy": np.array}
    names: dict = {}

    def name_of(atom) -> str:
        if type(atom) is Literal:
            return _constant(namespace, atom.val)
        return names[atom]

    constvars = set(jaxpr.constvars)
    for var, value in zip(jaxpr.constvars, program.consts, strict=True):
        names[var] = _constant(namespace, value)
    last_use: dict = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for atom in eqn.invars:
            if type(atom) is Var:
                last_use[atom] = i
    returned = {atom for atom in jaxpr.outvars if type(atom) is Var}
    body = []
    for position, var in enumerate(jaxpr.invars):
        if var in last_use or var in returned:
            names[var] = f"v{len(names)}"
            body.append(f"{names[var]} = _inputs[{position}]")
    body.append("_inputs.clear()")
    for i, eqn in enumerate(jaxpr.eqns):
        impl = eqn.primitive.impl
        function = _constant(namespace, functools.partial(impl, **eqn.params) if eqn.params else impl)
        call = f"{function}({', '.join(name_of(atom) for atom in eqn.invars)})"
        for var in eqn.outvars:
            names[var] = f"v{len(names)}"
        # NumPy returns scalars for 0-d results; the walk's `bind_args` makes them arrays.
        if eqn.primitive.multiple_results or not eqn.outvars[0].aval.ndim:
            call = f"_as_outputs({_constant(namespace, eqn.primitive)}, {call})"
        if eqn.primitive.multiple_results:
            targets = "".join(f"{names[var]}, " for var in eqn.outvars)
            line = f"{targets}= {call}" if eqn.outvars else call
        else:
            line = f"{names[eqn.outvars[0]]} = {call}"
        body.append(line)
        dead = [
            names[atom]
            for atom in dict.fromkeys((*eqn.invars, *eqn.outvars))
            if type(atom) is Var
            and last_use.get(atom, -1) <= i
            and atom not in returned
            and atom not in constvars
        ]
        if dead:
            body.append(f"del {', '.join(dead)}")
    # Constants are shared by every run: the caller gets copies it may write into.
    results = [
        f"_copy({name_of(atom)})" if type(atom) is Literal or atom in constvars else names[atom]
        for atom in jaxpr.outvars
    ]
    body.append(f"return [{', '.join(results)}]")
    source = "def backward_plan(_inputs):\n" + "".join(f"    {line}\n" for line in body)
    # Not entered into `linecache`: plans come and go with shapes, and its entries stay.
    exec(compile(source, "<minigrad backward plan>", "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace["backward_plan"]


def _constant(namespace: dict, value) -> str:
    name = f"_c{len(namespace)}"
    namespace[name] = value
    return name
