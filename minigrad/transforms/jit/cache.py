"""``jit``'s cache: what it keys on, how it keeps programs, and why a call missed it.

A key is ``(in_tree, signature, static_values, has_kwargs)``: the pytree structure of
the dynamic arguments, one signature per leaf (shape and dtype, plus weakness for a
Python number or a weak tracer), the static arguments as ``(position or name, type tag,
value)`` triples, and whether keyword arguments were passed. Static arguments are
matched to parameters through the function's signature, so one made static by position
is static by keyword too, and the other way round.

A ``ProgramCache`` keeps one jitted function's programs by key: bounded, least recently
used first, and safe when threads make their first calls at once (one traces, the
others wait for its program). It remembers the keys it evicted and the key of the
latest trace, so each trace is logged with what made the call miss.

Example:
    >>> import numpy as np
    >>> signature, traced, needs_conversion = leaves_signature("f", [np.zeros((2, 3), np.float32)])
    >>> [describe_signature(leaf) for leaf in signature]
    ['f32[2,3]']
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections import OrderedDict

import attrs
import numpy as np

from minigrad.core.dtypes import PYTHON_SCALARS, plain_array
from minigrad.core.ir import Jaxpr, ShapedArray, Var
from minigrad.core.trace import Tracer
from minigrad.ops.selection import convert_element_type_p
from minigrad.transforms.jit.array_api import ForeignSignature, foreign_signature
from minigrad.transforms.jit.constants import ConstantSnapshots
from minigrad.transforms.jit.pending import PendingSlot, wait_for
from minigrad.tree import tree_flatten_with_path

__all__ = [
    "ProgramCache", "Reservation", "PYTHON_SCALARS", "INT64_MIN", "INT64_MAX", "leaves_signature", "describe_signature",
    "split_static", "resolve_static", "signature_or_none", "signature_changes",
    "check_int_fits", "int_conversions", "shared_program_cache", "number_types", "TypedStructure",
    "unhashable_structure_error",
]  # fmt: skip

INT64_MIN, INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)


def leaves_signature(name, leaves) -> tuple:
    """What a staged program depends on about the argument leaves of one call.

    Every jitted call runs this, so it is one loop over the leaves, the common kinds
    first, rather than a function call per leaf.

    Args:
      name: the jitted function's name, for the error about a too large Python int.
      leaves: the dynamic argument leaves of the call.

    Returns:
      ``(signature, traced, needs_conversion)``: one signature per leaf (shape and dtype,
      plus weakness for a weak tracer; the type of a Python number; a ``ForeignSignature``
      for an array of another library), whether a leaf is a tracer of an enclosing
      transform, and whether a leaf is a Python number or an ndarray subclass
      (``np.matrix``), which the call converts to a plain array, or another library's
      array (which takes the slower path too).

    Example:
      >>> import numpy as np
      >>> leaves_signature("f", [np.zeros(2, np.float32), 3])
      ((((2,), dtype('float32')), <class 'int'>), False, True)
    """
    signature = []
    traced = needs_conversion = False
    for leaf in leaves:
        kind = type(leaf)
        if kind is np.ndarray:
            signature.append((leaf.shape, leaf.dtype))
        elif kind in PYTHON_SCALARS:
            if kind is int and not INT64_MIN <= leaf <= INT64_MAX:
                raise OverflowError(
                    f"jit({name}): the Python integer {leaf} does not fit in int64, the widest "
                    "integer a jitted function takes; pass a smaller number or a float."
                )
            signature.append(kind)
            needs_conversion = True
        elif isinstance(leaf, Tracer):
            traced = True
            aval = leaf.aval
            # A weak tracer (a Python number an outer transform traces) promotes like a
            # number, so it stages a different program from a strong one of the same type.
            signature.append((aval.shape, aval.dtype, True) if aval.weak_type else (aval.shape, aval.dtype))
        elif isinstance(leaf, np.ndarray):
            # A subclass runs as the plain array eager minigrad.numpy would see (the
            # caller converts it with `plain_array`); a masked array is refused here.
            leaf = plain_array(leaf, f"jit({name})")
            signature.append((leaf.shape, leaf.dtype))
            needs_conversion = True
        elif isinstance(leaf, np.generic):
            signature.append((leaf.shape, leaf.dtype))
        else:
            # An array of another library (torch, array-api-strict, ...) keys its library
            # and device too; anything else is no array (tracing raises a clear error).
            foreign = foreign_signature(leaf)
            signature.append(kind if foreign is None else foreign)
            needs_conversion = needs_conversion or foreign is not None
    return tuple(signature), traced, needs_conversion


def describe_signature(signature) -> str:
    if isinstance(signature, ForeignSignature):
        return signature.describe()
    if isinstance(signature, type):
        return f"a Python {signature.__name__}"
    shape, dtype, *weak = signature
    return ("weak " if weak else "") + str(ShapedArray(shape, dtype))


def type_tag(value):
    """What, besides equality, tells static values apart: ``2``, ``2.0`` and ``True``
    compare equal but stage different programs, so the cache keys on their types too."""
    if type(value) is tuple:
        return (tuple, tuple(map(type_tag, value)))
    return type(value)


def _holds_numbers(aux) -> bool:
    if type(aux) is tuple:
        return any(map(_holds_numbers, aux))
    return isinstance(aux, (int, float, complex, np.number))  # bool is an int


def number_types(treedef):
    """The types of the numbers in a pytree structure's aux data (dict keys), or None.

    ``{1: x}``, ``{True: x}`` and ``{1.0: x}`` have equal structures, since their keys
    compare equal, yet a program returning ``dict(arg)`` gives each other keys. jit
    keeps one program per key type; the common case, str keys, gives None.

    Example:
      >>> from minigrad.tree import tree_structure
      >>> number_types(tree_structure({1: 0})), number_types(tree_structure({"a": 0}))
      (((<class 'tuple'>, (<class 'int'>,)),), None)
    """
    found = []
    stack = [treedef]
    while stack:
        node = stack.pop()
        if node.node is not None:
            if _holds_numbers(node.aux):
                found.append(type_tag(node.aux))
            stack.extend(node.children)
    return tuple(found) or None


@attrs.frozen
class TypedStructure:
    """A pytree structure whose aux data holds numbers, told apart by their types too."""

    tree: object
    number_types: tuple

    def __repr__(self):
        return f"{self.tree!r} (keys of types {_type_names(self.number_types)})"


def _type_names(tag) -> str:
    if isinstance(tag, type):
        return tag.__name__
    if tag and tag[0] is tuple:
        return "(" + ", ".join(map(_type_names, tag[1])) + ")"
    return ", ".join(map(_type_names, tag))


def unhashable_structure_error(name, dynamic, in_tree, has_kwargs) -> TypeError:
    """The error for a custom pytree node whose aux data is unhashable (jit keys on it)."""
    found = _unhashable_node(dynamic, in_tree, "")
    where, node_type, aux_type = found if found else ("args", "a pytree node", "unhashable")
    return TypeError(
        f"jit({name}): {readable_path(where, has_kwargs)} is a {node_type} whose flatten "
        f"function returns aux data of the unhashable type {aux_type}. jit keys its cache "
        "on the arguments' pytree structure, aux data included, so aux data must be "
        "hashable: return a tuple (for a dict, tuple(sorted(d.items()))) or a frozen "
        "record, or pass the value as a static argument."
    )


def _unhashable_node(value, treedef, path):
    """``(path, node type, aux type)`` of the first node with unhashable aux data, or None."""
    if treedef.node is None:
        return None
    children, aux = treedef.node.to_children(value)
    try:
        hash(aux)
    except TypeError:
        return path or "", type(value).__name__, type(aux).__name__
    child_paths = treedef.node.child_keys(value, aux)
    for child, child_def, child_path in zip(children, treedef.children, child_paths, strict=True):
        found = _unhashable_node(child, child_def, path + child_path)
        if found is not None:
            return found
    return None


def signature_or_none(fun):
    try:
        return inspect.signature(fun)
    except (TypeError, ValueError):  # some builtins have no signature
        return None


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def resolve_static(name, signature, static_argnums, static_argnames):
    """Static positions and names, each completed from the other through the signature.

    As in JAX, an argument made static by position is static when passed by keyword,
    and one made static by name is static when passed by position.
    """
    positions = set(static_argnums)
    names = set(static_argnames)
    if signature is None:
        return tuple(sorted(positions)), frozenset(names)
    params = list(signature.parameters.values())
    positional = [p for p in params if p.kind in _POSITIONAL]
    var_positional = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)
    var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    resolved = set()
    for position in positions:
        if not var_positional:
            if not -len(positional) <= position < len(positional):
                raise ValueError(
                    f"jit({name}): static_argnums={tuple(static_argnums)!r} names argument "
                    f"{position}, but {name} takes {len(positional)} positional arguments."
                )
            position %= len(positional)
        resolved.add(position)
        if (
            0 <= position < len(positional)
            and positional[position].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        ):
            names.add(positional[position].name)
    for argname in set(names):
        param = signature.parameters.get(argname)
        if param is None:
            if not var_keyword:
                raise ValueError(
                    f"jit({name}): static_argnames names {argname!r}, which is not a parameter "
                    f"of {name}{signature}."
                )
        elif param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            resolved.add(positional.index(param))
    return tuple(sorted(resolved)), frozenset(names)


def readable_path(path: str, has_kwargs: bool) -> str:
    """``[1]['w']`` as ``args[1]['w']``; with kwargs, ``[0][1]`` and ``[1]['k']`` as
    ``args[1]`` and ``kwargs['k']``."""
    if not has_kwargs:
        return "args" + path
    if path.startswith("[0]"):
        return "args" + path[3:]
    if path.startswith("[1]"):
        return "kwargs" + path[3:]
    return path


def split_static(name, signature, static, static_names, args, kwargs):
    """A call's static values, its dynamic pytree, and whether that has keyword arguments.

    The dynamic pytree is ``args``, or ``(args, kwargs)`` with (dynamic) kwargs. The
    static values are ``(position or name, type tag, value)`` triples: positional
    ones in order, then keyword ones by name.
    """
    if not static and not static_names:
        return (), ((args, kwargs) if kwargs else args), bool(kwargs)
    num_args = len(args)
    positions = set()
    for position in static:
        if -num_args <= position < num_args:
            positions.add(position % num_args)
        elif signature is None:
            raise ValueError(
                f"jit({name}): static_argnums={static!r} names argument "
                f"{position}, but the call has {num_args} positional arguments."
            )
        # else: passed by keyword (static_argnames covers it) or left at its default
    static_values = []
    dynamic = []
    for i, arg in enumerate(args):
        if i in positions:
            static_values.append((i, type_tag(_checked_static(name, i, arg)), arg))
        else:
            dynamic.append(arg)
    dynamic_kwargs = {}
    for keyword_name, value in kwargs.items():
        if keyword_name in static_names:
            static_values.append((keyword_name, type_tag(_checked_static(name, keyword_name, value)), value))
        else:
            dynamic_kwargs[keyword_name] = value
    positional_count = len(positions)
    static_values[positional_count:] = sorted(static_values[positional_count:], key=lambda entry: entry[0])
    dynamic = tuple(dynamic)
    has_kwargs = bool(dynamic_kwargs)
    return tuple(static_values), ((dynamic, dynamic_kwargs) if has_kwargs else dynamic), has_kwargs


def _checked_static(name, where, value):
    if isinstance(value, Tracer):
        shown = where if isinstance(where, int) else repr(where)
        raise TypeError(
            f"jit({name}): static argument {shown} is a traced array ({value.aval}) of an "
            "enclosing transform (grad, vmap, jit, ...); a static argument must be a Python "
            "value known before tracing, since it keys the compilation cache. Pass it as an "
            "ordinary (traced) argument, or compute it outside the transform."
        )
    try:
        hash(value)
    except TypeError:
        shown = where if isinstance(where, int) else repr(where)
        raise TypeError(
            f"jit({name}): static argument {shown} has the unhashable type "
            f"{type(value).__name__}. Static arguments key the compilation cache, so "
            "they must be hashable: pass a tuple instead of a list, or pass arrays "
            "as ordinary (traced) arguments."
        ) from None
    return value


def signature_changes(previous, key, dynamic) -> list[str]:
    """What differs between the cache keys ``previous`` and ``key`` (of the call ``dynamic``),
    one readable line each: static values, the argument structure, or leaf types."""
    old_tree, old_signature, old_static, old_has_kwargs = previous
    new_tree, new_signature, new_static, has_kwargs = key
    reasons = []
    if old_static != new_static:
        old_by_position = {where: (tag, value) for where, tag, value in old_static}
        for where, tag, value in new_static:
            old_tag, old_value = old_by_position.get(where, (None, None))
            if (old_tag, old_value) != (tag, value):
                shown = where if isinstance(where, int) else repr(where)
                reasons.append(f"static argument {shown} changed from {old_value!r} to {value!r}")
    if old_tree != new_tree or old_has_kwargs != has_kwargs:
        reasons.append(f"the argument structure changed from {old_tree!r} to {new_tree!r}")
    else:
        new_paths = [readable_path(path, has_kwargs) for path, _ in tree_flatten_with_path(dynamic)[0]]
        for path, old, new in zip(new_paths, old_signature, new_signature, strict=True):
            if old != new:
                reasons.append(f"{path} changed from {describe_signature(old)} to {describe_signature(new)}")
    return reasons


# ---------------------------------------------------------------------------------------
# The cache


_EVICTED_REMEMBERED = 1000  # evicted keys remembered to explain retraces
_TRACES_LOGGED = 100


class Reservation:
    """What ``ProgramCache.reserve`` gives: ``key``'s entry, or the pending slot to fill."""

    def __init__(self, cache: ProgramCache, key, entry, pending: PendingSlot | None):
        self.entry = entry
        self._cache, self._key, self._pending = cache, key, pending

    def fill(self, entry, reusable: bool = True) -> None:
        """Make ``entry`` the key's (kept only if ``reusable``) and wake waiting threads."""
        assert self._pending is not None, "fill() on a key that has its entry"
        self._cache._finish(self._key, self._pending, entry, reusable)
        self.entry, self._pending = entry, None

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if self._pending is not None:  # left without filling: release the key
            self._cache._release(self._key, self._pending)
            self._pending = None


class ProgramCache:
    """One jitted function's programs by key, least recently used dropped first.

    ``get`` is the fast path of every call. On a miss, ``get_or_fill`` reserves the key
    with a pending slot and makes the entry; threads missing the same key meanwhile wait
    for it instead of tracing again. Each trace is logged with why the call missed
    (``record_trace``).

    Args:
      name: the jitted function's name, for messages.
      limit: how many entries to keep.

    Example:
      >>> cache = ProgramCache("f", limit=1)
      >>> def make_entry():
      ...     return "program", True  # the entry, and whether it may be reused
      >>> cache.get_or_fill("key", make_entry), cache.get("key"), cache.size()
      ('program', 'program', 1)
      >>> _ = cache.get_or_fill("other key", make_entry)  # evicts "key"
      >>> cache.get("key"), cache.size()
      (None, 1)
    """

    def __init__(self, name: str, limit: int):
        self.name = name
        self.limit = limit
        self._entries: OrderedDict = OrderedDict()  # key -> entry, or a PendingSlot
        self._lock = threading.Lock()
        self._evicted: OrderedDict = OrderedDict()  # keys dropped by the LRU, to explain retraces
        self._last_traced = None  # the key of the latest trace, to explain the next one
        self._trace_log: list[str] = []
        # Copies of the arrays the function closes over, shared by all its programs.
        self.snapshots = ConstantSnapshots()

    def get(self, key):
        """The entry for ``key``, now the most recently used; None if it has none yet."""
        entries = self._entries
        entry = entries.get(key)
        if entry is None or type(entry) is PendingSlot:
            return None
        if len(entries) > 1:  # one entry is the most recent already
            with self._lock:  # the LRU order is shared with threads that evict
                if key in entries:
                    entries.move_to_end(key)
        return entry

    def get_or_fill(self, key, make_entry):
        """The entry for ``key``, made by ``make_entry()`` if there is none.

        ``make_entry`` returns ``(entry, reusable)``; an entry that is not reusable (its
        program closes over tracers of a transform running now, which the next call will
        not see) is returned but not kept. See ``reserve`` for threads and errors.
        """
        with self.reserve(key) as slot:
            if slot.entry is None:
                slot.fill(*make_entry())
            return slot.entry

    def reserve(self, key) -> Reservation:
        """``key``'s entry if it has one, else the right to make it, as a context manager.

        Use ``with cache.reserve(key) as slot:`` and, if ``slot.entry`` is None, make the
        entry and ``slot.fill(entry, reusable)``. Another thread missing ``key`` meanwhile
        waits for the entry; if the block raises before filling, the key is released and
        the error propagates. A wait that would close a circle (threads tracing
        functions that call each other with the same signatures) raises
        ``RecursionError`` instead, as the same calls do in one thread.
        """
        while True:
            with self._lock:
                slot = self._entries.get(key)
                if slot is None:
                    pending = PendingSlot(self.name)
                    self._entries[key] = pending
                    return Reservation(self, key, None, pending)
                if type(slot) is not PendingSlot:
                    self._entries.move_to_end(key)
                    return Reservation(self, key, slot, None)
            if slot.thread == threading.get_ident():
                raise RecursionError(
                    f"jit({self.name}) called itself with the same argument signature while "
                    "being traced; this recursion would never end. Recurse on a static "
                    "argument (static_argnums) or on shapes that shrink."
                )
            wait_for(slot, self.name)  # another thread is tracing this signature; use its result

    def _finish(self, key, pending: PendingSlot, entry, reusable: bool) -> None:
        """Keep ``entry`` (if reusable) in the slot ``pending`` held, and wake the waiters."""
        with self._lock:
            if reusable:
                self._store(key, entry)
            elif self._entries.get(key) is pending:
                del self._entries[key]
        pending.done.set()

    def _release(self, key, pending: PendingSlot) -> None:
        """Give up the slot ``pending`` held (making the entry failed); wake the waiters."""
        with self._lock:
            if self._entries.get(key) is pending:
                del self._entries[key]
        pending.done.set()

    def _store(self, key, entry) -> None:
        # Called with the lock held.
        self._entries[key] = entry
        self._entries.move_to_end(key)
        # Evict the least recently used entries (never a slot still being filled).
        ready = [k for k, slot in self._entries.items() if type(slot) is not PendingSlot]
        for stale in ready[: max(0, len(ready) - self.limit)]:
            del self._entries[stale]
            self._evicted[stale] = None
            if len(self._evicted) > _EVICTED_REMEMBERED:
                del self._evicted[next(iter(self._evicted))]

    def record_trace(self, key, dynamic) -> str:
        """Log that the call ``dynamic`` with ``key`` is traced, and why; return the line."""
        with self._lock:
            previous = self._last_traced
            was_evicted = self._evicted.pop(key, False) is None
        if was_evicted:
            reason = (
                "this signature was compiled before, but its program was evicted "
                f"(cache_limit={self.limit} reached); raise cache_limit to keep it"
            )
        elif previous is None:
            reason = "first call"
        else:
            reasons = signature_changes(previous, key, dynamic)
            reason = "; ".join(reasons) or "the cache entry was evicted (cache_limit reached)"
        shown = ", ".join(describe_signature(s) for s in key[1])
        message = f"jit({self.name}) traced for ({shown}): {reason}"
        with self._lock:
            self._trace_log.append(message)
            del self._trace_log[:-_TRACES_LOGGED]
            self._last_traced = key
        return message

    def trace_log(self) -> list[str]:
        """Why each trace happened (the latest 100), oldest first."""
        with self._lock:
            return list(self._trace_log)

    def size(self) -> int:
        """How many entries are ready (slots still being filled are not counted)."""
        with self._lock:
            return sum(1 for entry in self._entries.values() if type(entry) is not PendingSlot)

    def clear(self) -> None:
        """Forget every entry and evicted key; the next trace is explained as a first call."""
        with self._lock:
            self._entries.clear()
            self._evicted.clear()
            self._last_traced = None
        self.snapshots.clear()


# ---------------------------------------------------------------------------------------
# Python integers: weakly typed, so they take the dtype of the arrays they meet


def check_int_fits(name, value, dtype) -> None:
    """An OverflowError, like eager NumPy's, if a Python int does not fit ``dtype``."""
    info = np.iinfo(dtype)
    if not info.min <= value <= info.max:
        raise OverflowError(
            f"jit({name}): Python integer {value} out of bounds for {np.dtype(dtype).name} (the "
            "dtype of the array it meets); eagerly NumPy raises the same. Convert the array to "
            "a wider dtype, or pass a number in range."
        )


def int_conversions(jaxpr: Jaxpr) -> tuple:
    """Where the program converts a weakly typed integer input to another integer dtype."""
    weak_ints = {
        var: position
        for position, var in enumerate(jaxpr.invars)
        if var.aval.weak_type and var.aval.dtype.kind in "iu"
    }
    found = []
    for eqn in jaxpr.eqns:
        if eqn.primitive is not convert_element_type_p or type(eqn.invars[0]) is not Var:
            continue
        position = weak_ints.get(eqn.invars[0])
        new_dtype = np.dtype(eqn.params["new_dtype"])
        if position is not None and new_dtype.kind in "iu":
            found.append((position, new_dtype))
    return tuple(dict.fromkeys(found))


# function -> {settings: ProgramCache}. Weak in the function: a cache lives as long as
# the function it compiles (or a jitted wrapper of it) does.
_shared_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_shared_caches_lock = threading.Lock()


def shared_program_cache(fun, settings, name: str, limit: int) -> ProgramCache:
    """The ``ProgramCache`` of ``fun`` with these ``settings`` (hashable: the static
    arguments and the limit), shared by every jit wrapper of ``fun``; a private one if
    ``fun`` cannot be weakly referenced or hashed.

    Example:
      >>> def f(x):
      ...     return x
      >>> shared_program_cache(f, (), "f", 8) is shared_program_cache(f, (), "f", 8)
      True
    """
    try:
        with _shared_caches_lock:
            by_settings = _shared_caches.setdefault(fun, {})
            cache = by_settings.get(settings)
            if cache is None:
                cache = by_settings[settings] = ProgramCache(name, limit)
            return cache
    except TypeError:  # not weakly referenceable, or unhashable
        return ProgramCache(name, limit)
