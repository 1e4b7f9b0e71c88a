"""jit's generated readers of argument pytrees and builders of output pytrees
(``minigrad/transforms/jit/tree_code.py``): the same leaves and trees as the general
``tree_flatten``/``tree_unflatten``, and no tree of another structure accepted."""

import collections
import copy
import enum
import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import optim
from minigrad.transforms.jit import transform as transform_module
from minigrad.transforms.jit.tree_code import argument_reader, output_builder
from minigrad.tree import register_pytree_node_class, tree_flatten

Pair = collections.namedtuple("Pair", "first second")
Other = collections.namedtuple("Other", "first second")


class Key(str, enum.Enum):  # a str subclass whose members equal plain strings
    A = "a"
    B = "b"


@register_pytree_node_class
class Box:  # a registered container: one child, the settings as aux data
    def __init__(self, value, settings=None):
        self.value, self.settings = value, settings

    def tree_flatten(self):
        return (self.value,), self.settings

    @classmethod
    def tree_unflatten(cls, settings, children):
        return cls(children[0], settings)


leaves = st.one_of(
    st.floats(allow_nan=False, width=32),
    st.integers(-5, 5),
    st.builds(np.full, st.integers(0, 3), st.floats(-1, 1)),
)
keys = st.text("abcxyz_", min_size=1, max_size=3)
trees = st.recursive(
    leaves | st.none(),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
        st.builds(Pair, inner, inner),
    ),
    max_leaves=12,
)


@given(trees)
@settings(deadline=None)
def test_reader_returns_tree_flattens_leaves(tree):
    expected, treedef = tree_flatten(tree)
    read = argument_reader(treedef)
    assert read is not None
    got = read(tree)
    assert got is not None and len(got) == len(expected)
    assert all(a is b for a, b in zip(got, expected, strict=True))
    assert read(copy.deepcopy(tree)) is not None  # equal containers, not the same objects


@given(trees)
@settings(deadline=None)
def test_builder_rebuilds_the_tree(tree):
    flat, treedef = tree_flatten(tree)
    rebuilt = output_builder(treedef)(flat)
    assert tree_flatten(rebuilt)[1] == treedef
    assert all(a is b for a, b in zip(tree_flatten(rebuilt)[0], flat, strict=True))


BASE = {"w": np.ones(2), "b": [np.zeros(1), Pair(1.0, None)], "t": (2.0,)}


@pytest.mark.parametrize(
    "changed",
    [
        {"w": np.ones(2), "b": [np.zeros(1), Pair(1.0, None)]},  # a key missing
        {**BASE, "z": 1.0},  # a key more
        {"w": np.ones(2), "c": [np.zeros(1), Pair(1.0, None)], "t": (2.0,)},  # a key renamed
        {**BASE, "b": (np.zeros(1), Pair(1.0, None))},  # a tuple for the list
        {**BASE, "b": [np.zeros(1), Pair(1.0, None), 3.0]},  # a longer list
        {**BASE, "b": [np.zeros(1), Other(1.0, None)]},  # another namedtuple class
        {**BASE, "b": [np.zeros(1), Pair(1.0, 2.0)]},  # a leaf where None was
        {**BASE, "w": (np.ones(2),)},  # a container where a leaf was
        {**BASE, "w": None},  # None where a leaf was
        {**BASE, "w": Box(1.0)},  # a registered container where a leaf was
        collections.OrderedDict(BASE),  # a dict subclass
        [BASE],
    ],
)
def test_reader_refuses_any_other_structure(changed):
    _, treedef = tree_flatten(BASE)
    read = argument_reader(treedef)
    assert read(BASE) is not None
    assert read(changed) is None


@pytest.mark.parametrize("tree", [collections.OrderedDict(a=1.0), Box(1.0), {1: 2.0}, [{"a": Box(0.0)}]])
def test_no_reader_for_other_containers(tree):
    assert argument_reader(tree_flatten(tree)[1]) is None


def test_jitted_call_follows_the_arguments_structure_as_it_changes():
    f = mg.jit(lambda d: sum(mnp.sum(v) for v in d.values()))
    d = {"a": np.ones(2)}
    assert f(d) == 2.0
    assert f(d) == 2.0  # read by the generated reader
    d["b"] = np.full(3, 2.0)  # the same dict object, one key more
    assert f(d) == 8.0
    del d["a"]
    assert f(d) == 6.0
    assert f({"b": np.full(3, 2.0)}) == 6.0
    assert f.cache_size() == 3  # {a}, {a, b}, {b}


def test_a_call_tracing_anew_sees_the_callers_own_keys():
    seen = []

    def fun(d):
        seen.append(sorted(type(key).__name__ for key in d))
        return d["a"] * 2.0

    f = mg.jit(fun)
    f({"a": np.ones(2), "b": np.ones(1)})
    f({Key.A: np.ones(3), Key.B: np.ones(1)})  # equal keys, a new shape: traced again
    assert seen == [["str", "str"], ["Key", "Key"]]
    np.testing.assert_array_equal(f({Key.A: np.ones(3), Key.B: np.ones(1)}), np.full(3, 2.0))


def test_training_step_structures_read_and_rebuilt():
    params = {"layer": {"w": np.ones((2, 2)), "b": np.zeros(2)}, "scale": np.ones(1)}
    optimizer = optim.adam(0.1)
    state = optimizer.init(params)

    @mg.jit
    def step(params, state, x):
        grads = mg.grad(lambda p: mnp.sum((x @ p["layer"]["w"] + p["layer"]["b"]) * p["scale"]))(params)
        updates, state = optimizer.update(grads, state, params)
        return optim.apply_updates(params, updates), state

    x = np.ones((3, 2))
    eager_params, eager_state = params, state
    for _ in range(3):
        params, state = step(params, state, x)
        grads = mg.grad(lambda p: mnp.sum((x @ p["layer"]["w"] + p["layer"]["b"]) * p["scale"]))(eager_params)
        updates, eager_state = optimizer.update(grads, eager_state, eager_params)
        eager_params = optim.apply_updates(eager_params, updates)
    for a, b in zip(tree_flatten(params)[0], tree_flatten(eager_params)[0], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert tree_flatten(state)[1] == tree_flatten(eager_state)[1]


def read_twice(f, *args):
    """Call ``f`` until its arguments' reader is built (two calls of a structure in a row)."""
    for _ in range(3):
        f(*args)


class FieldTuple(tuple):  # a tuple subclass with _fields: a node, taken apart by iterating
    _fields = ("a", "b")

    def __new__(cls, *items):
        return tuple.__new__(cls, items)


def test_a_node_with_fields_read_as_tree_flatten_does():
    f = mg.jit(lambda r: sum(mnp.sum(v) for v in r))
    read_twice(f, FieldTuple(np.ones(2), np.ones(2)))
    assert f(FieldTuple(np.ones(2), np.ones(2), np.full(2, 100.0))) == 204.0  # one more item
    assert f(FieldTuple(np.ones(2))) == 2.0


ByName = collections.namedtuple("ByName", "x y")


class IndexedByName(ByName):
    def __getitem__(self, name):  # a namedtuple indexed by field name: iterating still works
        return getattr(self, name)


def test_a_namedtuple_indexing_otherwise_is_read_by_iterating():
    f = mg.jit(lambda r: r.x + r.y)
    value = IndexedByName(np.ones(2), np.ones(2))
    read_twice(f, value)
    np.testing.assert_array_equal(f(value), np.full(2, 2.0))


def test_a_namedtuple_registered_after_its_reader_was_made():
    Scaled = collections.namedtuple("Scaled", "x scale")
    f = mg.jit(lambda p: p.x * p.scale)
    read_twice(f, Scaled(np.ones(2), 3.0))
    mg.tree_util.register_pytree_node(Scaled, lambda p: ((p.x,), p.scale), lambda s, ch: Scaled(ch[0], s))
    np.testing.assert_array_equal(f(Scaled(np.ones(2), 5.0)), np.full(2, 5.0))
    np.testing.assert_array_equal(f(Scaled(np.ones(3), 5.0)), np.full(3, 5.0))


class Reversed(str):  # equal to the plain string, sorting the other way round
    __hash__ = str.__hash__

    def __lt__(self, other):
        return str.__gt__(self, other)

    def __gt__(self, other):
        return str.__lt__(self, other)


def test_a_retrace_after_the_reader_pairs_each_key_with_its_own_value():
    f = mg.jit(lambda d: {key: value * 1.0 for key, value in d.items()})
    read_twice(f, {"a": np.zeros(1), "b": np.ones(2)})
    out = f({Reversed("a"): np.zeros(3), Reversed("b"): np.ones(4)})
    np.testing.assert_array_equal(out["a"], np.zeros(3))
    np.testing.assert_array_equal(out["b"], np.ones(4))


def test_readers_are_made_only_for_structures_met_twice_in_a_row(monkeypatch):
    made = []
    real = transform_module.argument_reader
    monkeypatch.setattr(transform_module, "argument_reader", lambda tree: made.append(tree) or real(tree))

    def loss(params, x):
        return mnp.sum(params["w"] * x)

    params, x = {"w": np.ones(2)}, np.ones(2)
    for _ in range(5):
        mg.jit(loss)(params, x)  # a wrapper made afresh at each call
    assert made == []
    f = mg.jit(loss)
    for _ in range(5):  # alternating structures
        f(params, x)
        f({"w": np.ones(2), "b": np.ones(1)}, x)
    assert made == []
    for _ in range(5):
        f(params, x)
    assert len(made) == 1


class Settings:  # hashable aux data of a registered node, held only by the caller
    pass


def test_a_cleared_function_holds_no_aux_data_of_its_arguments():
    f = mg.jit(lambda box: box.value * 2.0)
    settings = Settings()
    alive = weakref.ref(settings)
    read_twice(f, Box(np.ones(2), settings))
    f.clear_cache()
    del settings
    gc.collect()
    assert alive() is None
