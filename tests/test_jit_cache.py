"""Tests for minigrad.transforms.jit.cache: the program cache and the call signature.

The cache is tested directly, with strings for programs, so each property (LRU order,
eviction, pending slots, the recursion error) is seen without tracing anything.
"""

import threading

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.ir import Literal
from minigrad.transforms.jit.cache import ProgramCache, describe_signature, leaves_signature
from minigrad.tree import tree_flatten


def key_for(*args):
    """The key jit makes for a call with positional arrays ``args`` (no static values)."""
    leaves, in_tree = tree_flatten(args)
    signature, _, _ = leaves_signature("f", leaves)
    return (in_tree, signature, (), False)


def fill(cache, key, entry, reusable=True):
    """``get_or_fill`` with a maker that records that it ran."""
    made = []

    def make_entry():
        made.append(key)
        return entry, reusable

    return cache.get_or_fill(key, make_entry), made


# ---------------------------------------------------------------------------------------
# Least recently used first


def test_the_least_recently_used_entry_is_evicted_first():
    cache = ProgramCache("f", limit=2)
    fill(cache, "a", "A")
    fill(cache, "b", "B")
    assert cache.get("a") == "A"  # "a" is now more recent than "b"
    fill(cache, "c", "C")
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c"), cache.size()) == ("A", "C", 2)


def test_a_hit_in_get_or_fill_refreshes_without_making_an_entry():
    cache = ProgramCache("f", limit=2)
    fill(cache, "a", "A")
    fill(cache, "b", "B")
    entry, made = fill(cache, "a", "other")
    assert (entry, made) == ("A", [])
    fill(cache, "c", "C")
    assert cache.get("b") is None and cache.get("a") == "A"


def test_the_cache_never_holds_more_than_its_limit():
    cache = ProgramCache("f", limit=3)
    for i in range(10):
        fill(cache, i, str(i))
        assert cache.size() == min(i + 1, 3)
    assert [cache.get(i) for i in range(10)] == [None] * 7 + ["7", "8", "9"]


def test_an_entry_that_is_not_reusable_is_returned_but_not_kept():
    cache = ProgramCache("f", limit=4)
    entry, made = fill(cache, "a", "A", reusable=False)
    assert entry == "A" and made == ["a"] and cache.size() == 0
    _, made_again = fill(cache, "a", "A", reusable=False)
    assert made_again == ["a"]


def test_clear_forgets_entries_but_keeps_the_log():
    cache = ProgramCache("f", limit=4)
    cache.record_trace(key_for(np.ones(1)), (np.ones(1),))
    fill(cache, "a", "A")
    cache.clear()
    assert cache.size() == 0 and cache.get("a") is None
    assert len(cache.trace_log()) == 1


# ---------------------------------------------------------------------------------------
# Why a call was traced


def test_a_retrace_after_eviction_is_explained_by_the_eviction():
    cache = ProgramCache("f", limit=1)
    one, two = key_for(np.ones(1)), key_for(np.ones(2))
    assert cache.record_trace(one, (np.ones(1),)).endswith("first call")
    fill(cache, one, "one")
    assert "args[0] changed from f64[1] to f64[2]" in cache.record_trace(two, (np.ones(2),))
    fill(cache, two, "two")  # evicts one
    line = cache.record_trace(one, (np.ones(1),))
    assert line.startswith("jit(f) traced for (f64[1]): ")
    assert "evicted (cache_limit=1 reached)" in line and "changed" not in line
    # The eviction explains one retrace, then is forgotten.
    assert "compiled before" not in cache.record_trace(one, (np.ones(1),))


def test_only_the_latest_evictions_are_remembered():
    cache = ProgramCache("f", limit=1)
    keys = [key_for(np.ones(n)) for n in range(1, 1004)]
    for key in keys:
        fill(cache, key, "program")
    cache.record_trace(keys[-1], (np.ones(1003),))
    # 1002 keys were evicted; the memory keeps the latest 1000.
    assert "compiled before" not in cache.record_trace(keys[0], (np.ones(1),))
    assert "compiled before" in cache.record_trace(keys[2], (np.ones(3),))


def test_the_trace_log_keeps_the_latest_hundred_lines():
    cache = ProgramCache("f", limit=1)
    for n in range(1, 106):
        cache.record_trace(key_for(np.ones(n)), (np.ones(n),))
    log = cache.trace_log()
    assert len(log) == 100
    assert log[0].startswith("jit(f) traced for (f64[6]): ")
    assert log[-1].startswith("jit(f) traced for (f64[105]): ")


# ---------------------------------------------------------------------------------------
# Pending slots: one thread traces a key, the others wait for it


def test_a_failing_fill_releases_its_slot():
    cache = ProgramCache("f", limit=2)

    def failing():
        raise ValueError("tracing failed")

    with pytest.raises(ValueError, match="tracing failed"):
        cache.get_or_fill("a", failing)
    assert cache.size() == 0 and cache.get("a") is None
    # Were the slot still pending, this thread would be taken for a recursive call.
    assert fill(cache, "a", "A") == ("A", ["a"])


def test_a_waiting_thread_fills_the_key_itself_after_a_failure():
    cache = ProgramCache("f", limit=2)
    started, release = threading.Event(), threading.Event()

    def failing():
        started.set()
        release.wait(timeout=10)
        raise ValueError("tracing failed")

    def fill_failing():
        with pytest.raises(ValueError):
            cache.get_or_fill("a", failing)

    results = []

    def fill_succeeding():
        results.append(fill(cache, "a", "A"))

    first = threading.Thread(target=fill_failing, daemon=True)  # a bug fails, not hangs
    first.start()
    assert started.wait(timeout=10)
    second = threading.Thread(target=fill_succeeding, daemon=True)
    second.start()
    second.join(timeout=0.2)
    assert second.is_alive()  # waiting on the pending slot, not tracing
    release.set()
    first.join(timeout=10)
    second.join(timeout=10)
    assert not first.is_alive() and not second.is_alive()
    assert results == [("A", ["a"])]


def test_threads_missing_the_same_key_make_one_entry():
    cache = ProgramCache("f", limit=2)
    barrier = threading.Barrier(6)
    made = []

    def make_entry():
        made.append(1)
        return "A", True

    def worker(results):
        barrier.wait(timeout=10)
        results.append(cache.get_or_fill("a", make_entry))

    results = []
    threads = [threading.Thread(target=worker, args=(results,), daemon=True) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == ["A"] * 6 and made == [1]


def test_filling_a_key_while_filling_it_is_a_recursion_error():
    cache = ProgramCache("g", limit=2)

    def recursive():
        return cache.get_or_fill("a", recursive)

    with pytest.raises(RecursionError, match=r"jit\(g\) called itself with the same argument signature"):
        cache.get_or_fill("a", recursive)
    assert cache.size() == 0
    assert fill(cache, "a", "A") == ("A", ["a"])


def test_pending_slots_are_not_counted_or_returned():
    cache = ProgramCache("f", limit=2)
    seen = []

    def make_entry():
        seen.append((cache.size(), cache.get("a")))
        return "A", True

    cache.get_or_fill("a", make_entry)
    assert seen == [(0, None)]


# ---------------------------------------------------------------------------------------
# The signature of a call's leaves


def test_leaves_signature_by_kind_of_leaf():
    leaves = [np.zeros((2, 3), np.float32), 1.0, True, np.float32(2.0), np.ones(2).view(np.matrix)]
    signature, traced, python_scalars = leaves_signature("f", leaves)
    assert [describe_signature(s) for s in signature] == [
        "f32[2,3]",
        "a Python float",
        "a Python bool",
        "f32[]",
        "f64[1,2]",
    ]
    assert (traced, python_scalars) == (False, True)
    assert leaves_signature("f", [np.ones(2)])[1:] == (False, False)


def test_leaves_signature_sees_tracers_and_their_weakness():
    seen = []

    def record(x, s):
        seen.append(leaves_signature("f", [x, s]))
        return x * s

    mg.grad(lambda x, s: mnp.sum(record(x, s)), argnums=(0, 1))(np.ones(2, np.float32), 2.0)
    ((signature, traced, python_scalars),) = seen
    assert [describe_signature(s) for s in signature] == ["f32[2]", "weak f64[]"]
    assert (traced, python_scalars) == (True, False)


def test_a_python_int_beyond_int64_is_an_overflow_error():
    with pytest.raises(OverflowError, match=r"jit\(f\): the Python integer 9223372036854775808"):
        leaves_signature("f", [np.ones(1), 2**63])
    assert leaves_signature("f", [2**63 - 1, -(2**63)])[0] == (int, int)


# ---------------------------------------------------------------------------------------
# Closed-over arrays: one copy per function


def _copies_of(table, programs):
    """The distinct arrays of ``table``'s shape among the programs' constants and literals."""
    values = [c for program in programs for c in program.consts]
    values += [
        atom.val
        for program in programs
        for eqn in program.eqns
        for atom in eqn.invars
        if type(atom) is Literal
    ]
    consts = [c for c in values if getattr(c, "shape", None) == table.shape]
    assert all(c is not table for c in consts)  # each is a snapshot, not the caller's array
    return {id(c) for c in consts}


def test_every_signature_shares_one_copy_of_a_closed_over_array():
    table = np.arange(1000.0)
    f = mg.jit(lambda x: mnp.sum(table * mnp.sum(x)))
    programs = [f.lower(np.ones(n)).program for n in range(1, 6)]
    assert f.cache_size() == 5
    assert len(_copies_of(table, programs)) == 1


def test_a_closed_over_array_written_between_traces_gets_a_new_copy():
    table = np.arange(4.0)
    f = mg.jit(lambda x: mnp.sum(table * mnp.sum(x)))
    assert f(np.ones(1)) == 6.0
    table[0] = 10.0
    first = f.lower(np.ones(1)).program
    second = f.lower(np.ones(2)).program  # traced after the write: sees it
    assert len(_copies_of(table, [first, second])) == 2
    assert f(np.ones(1)) == 6.0  # the program traced before the write keeps its snapshot
    assert f(np.ones(2)) == 32.0


# ---------------------------------------------------------------------------------------
# Structures the cache keys on


def test_dict_keys_that_compare_equal_but_differ_in_type_get_their_own_programs():
    f = mg.jit(lambda d: {key: value * 2.0 for key, value in d.items()})
    for key in (1, True, 1.0, 1):
        (out_key,) = f({key: np.ones(1)})
        assert type(out_key) is type(key), (key, out_key)
    assert f.cache_size() == 3
    assert "keys of types (bool)" in f.trace_log()[1]


class _Tagged:
    """A pytree node whose aux data is a dict (unhashable)."""

    def __init__(self, x, meta):
        self.x, self.meta = x, meta


mg.tree.register_pytree_node(
    _Tagged, lambda t: ([t.x], t.meta), lambda meta, children: _Tagged(children[0], meta)
)


@pytest.mark.parametrize("how", ["call", "lower"])
def test_unhashable_aux_data_is_explained_with_its_place_and_the_fix(how):
    f = mg.jit(lambda scale, items: items[0].x * scale)
    args = (2.0, [_Tagged(np.ones(2), {"units": "m"})])
    with pytest.raises(
        TypeError, match=r"args\[1\]\[0\] is a _Tagged .* unhashable type dict.*hashable: return a tuple"
    ):
        f(*args) if how == "call" else f.lower(*args)
