"""Pytrees: flatten/unflatten round trips, ordering, registration, paths."""

import collections
import gc
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad import tree

Point = collections.namedtuple("Point", ["x", "y"])

leaves = st.integers() | st.floats(allow_nan=False) | st.text(max_size=3)
pytrees = st.recursive(
    leaves | st.none(),
    lambda children: (
        st.lists(children, max_size=3)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=2), children, max_size=3)
        | st.tuples(children, children).map(lambda t: Point(*t))
    ),
    max_leaves=10,
)


@given(pytrees)
def test_flatten_unflatten_round_trip(value):
    flat, treedef = tree.tree_flatten(value)
    assert tree.tree_unflatten(treedef, flat) == value
    assert treedef.num_leaves == len(flat)
    assert tree.tree_structure(value) == treedef


@given(pytrees)
def test_tree_map_identity_and_counting(value):
    assert tree.tree_map(lambda x: x, value) == value
    assert len(tree.tree_leaves(value)) == len(tree.tree_flatten(value)[0])


def test_dict_keys_are_sorted_and_none_has_no_leaves():
    assert tree.tree_leaves({"b": 1, "a": 2, "c": None}) == [2, 1]
    assert tree.tree_leaves(None) == []
    assert tree.tree_leaves([None, (None,)]) == []


def test_namedtuples_keep_their_type():
    result = tree.tree_map(lambda v: v * 2, {"p": Point(1, 2)})
    assert result == {"p": Point(2, 4)} and isinstance(result["p"], Point)


def test_tree_map_over_several_trees_and_structure_mismatch():
    assert tree.tree_map(lambda a, b: a - b, [3, (5,)], [1, (2,)]) == [2, (3,)]
    with pytest.raises(ValueError, match="structure"):
        tree.tree_map(lambda a, b: a, [1, 2], (1, 2))


def test_registered_node_types():
    class Box:
        def __init__(self, content, label):
            self.content, self.label = content, label

    tree.register_pytree_node(Box, lambda b: ((b.content,), b.label), lambda label, ch: Box(ch[0], label))
    flat, treedef = tree.tree_flatten([Box({"w": 1, "b": 2}, "layer")])
    assert flat == [2, 1]
    rebuilt = tree.tree_unflatten(treedef, [20, 10])
    assert rebuilt[0].label == "layer" and rebuilt[0].content == {"w": 10, "b": 20}


def test_paths_name_where_each_leaf_sits():
    paths = [p for p, _ in tree.tree_flatten_with_path({"a": [1, Point(2, 3)], "b": (4,)})[0]]
    assert paths == ["['a'][0]", "['a'][1].x", "['a'][1].y", "['b'][0]"]


def test_unflatten_with_the_wrong_number_of_leaves():
    _, treedef = tree.tree_flatten((1, 2))
    with pytest.raises(ValueError, match="2 leaves"):
        tree.tree_unflatten(treedef, [1])


def test_deep_trees_do_not_hit_the_recursion_limit_for_typical_depths():
    value = 0
    for _ in range(200):
        value = [value]
    flat, treedef = tree.tree_flatten(value)
    assert flat == [0] and tree.tree_unflatten(treedef, flat) == value


def test_ordered_dict_keeps_its_order_and_defaultdict_its_factory():
    ordered = collections.OrderedDict([("b", 1), ("a", 2)])
    leaves, treedef = tree.tree_flatten(ordered)
    assert leaves == [1, 2]  # insertion order, which is part of the structure
    rebuilt = tree.tree_unflatten(treedef, [10, 20])
    assert type(rebuilt) is collections.OrderedDict and list(rebuilt.items()) == [("b", 10), ("a", 20)]
    assert tree.tree_structure(collections.OrderedDict([("a", 0), ("b", 0)])) != treedef

    counts = collections.defaultdict(list, {"b": 1, "a": 2})
    leaves, treedef = tree.tree_flatten(counts)
    assert leaves == [2, 1]  # sorted keys, like a dict
    rebuilt = tree.tree_map(lambda x: x * 10, counts)
    assert type(rebuilt) is collections.defaultdict and rebuilt.default_factory is list
    assert dict(rebuilt) == {"a": 20, "b": 10}
    assert [path for path, _ in tree.tree_flatten_with_path(counts)[0]] == ["['a']", "['b']"]


def test_registering_a_type_twice_is_an_error():
    class Twice:
        pass

    tree.register_pytree_node(Twice, lambda t: ((), None), lambda aux, ch: Twice())
    with pytest.raises(ValueError, match="already registered"):
        tree.register_pytree_node(Twice, lambda t: ((), None), lambda aux, ch: Twice())
    with pytest.raises(ValueError, match="already registered"):
        tree.register_pytree_node(dict, lambda d: ((), None), lambda aux, ch: {})


def test_a_tuple_of_leaves_flattens_as_any_tree_does_and_shares_its_treedef():
    # tree_flatten's shortcut for a tuple of leaves (a jitted call's arguments) gives
    # what the general walk gives; a tuple holding a container still walks into it.
    arrays = (np.zeros(2), np.ones(3), 4.0, "leaf")
    leaves, treedef = tree.tree_flatten(arrays)
    general_leaves: list = []
    general = tree._flatten(arrays, general_leaves, None)
    assert all(a is b is c for a, b, c in zip(leaves, general_leaves, arrays, strict=True))
    assert treedef == general and repr(treedef) == "(*, *, *, *)"
    assert tree.tree_flatten(arrays[::-1])[1] is treedef  # made once per count
    for nested in [(np.zeros(2), None), (np.zeros(2), [1.0, 2.0]), (Point(1.0, 2.0), 3.0), ((1.0,), 2.0)]:
        leaves, treedef = tree.tree_flatten(nested)
        expected_leaves: list = []
        assert treedef == tree._flatten(nested, expected_leaves, None)
        assert len(leaves) == len(expected_leaves) == treedef.num_leaves
        assert tree.tree_unflatten(treedef, leaves).__class__ is nested.__class__
    assert tree.tree_flatten((1.0, 2.0), is_leaf=lambda t: isinstance(t, tuple))[1].num_leaves == 1


def test_a_structure_seen_again_gives_the_same_treedef_and_back_the_callers_own_keys():
    params = {"w": np.zeros(2), "layers": [{"b": 1.0}, {"b": 2.0}]}
    first = tree.tree_structure(params)
    again = tree.tree_structure({"w": np.ones(2), "layers": [{"b": 3.0}, {"b": 4.0}]})
    assert again is first
    # Equal keys of other types (1, 1.0, True) are equal structures, yet each tree
    # comes back with its own keys.
    for keys in ([1, 2], [1.0, 2.0], [True, 2]):
        mapped = tree.tree_map(lambda v: v * 2, dict.fromkeys(keys, 1.0))
        assert [type(k) for k in mapped] == [type(k) for k in keys]
        (inner,) = tree.tree_map(lambda v: v * 2, (dict.fromkeys(keys, 1.0),))  # and nested
        assert [type(k) for k in inner] == [type(k) for k in keys]
    # An aux that cannot be hashed is a structure all the same.
    tree.register_pytree_node(
        _Unhashable, lambda u: ([u.value], [u.tag]), lambda aux, children: _Unhashable(children[0], aux[0])
    )
    leaves, treedef = tree.tree_flatten(_Unhashable(3.0, "t"))
    assert leaves == [3.0] and tree.tree_unflatten(treedef, [4.0]).value == 4.0


class _Unhashable:
    def __init__(self, value, tag):
        self.value, self.tag = value, tag


class _ArrayTag:
    """Aux data hashed by value whose ``==`` compares arrays elementwise."""

    def __init__(self, values):
        self.values = np.asarray(values)

    def __hash__(self):
        return hash(self.values.tobytes())

    def __eq__(self, other):
        return self.values == other.values


class _Layer:
    def __init__(self, weight, tag):
        self.weight, self.tag = weight, tag


tree.register_pytree_node(
    _Layer, lambda layer: ([layer.weight], layer.tag), lambda tag, ch: _Layer(ch[0], tag)
)


def test_only_small_plain_structures_are_kept_and_nothing_else_stays_alive():
    # Kept: containers of leaves or kept containers, with None, a class or str keys.
    assert tree.tree_structure({"w": 1.0, "b": [1.0, (2.0,)]}).kept
    # Not kept, nor anything above them: keys of other types (their equality is not
    # interchangeability), aux data of registered types, nodes of many children. So a
    # key object, aux data or a long list is not held after its tree is gone.
    key = _ArrayTag([1, 2])
    watched = weakref.ref(key)
    assert not tree.tree_structure([{key: 1.0}]).kept
    long = [0.0] * 100
    assert not tree.tree_structure({"x": long}).kept
    assert not tree.tree_structure([{0.5: 1.0}, 2.0]).kept
    del key
    gc.collect()
    assert watched() is None
    # Aux data whose == gives arrays is never compared: mapping it twice works.
    for _ in range(2):
        mapped = tree.tree_map(lambda v: v * 2.0, _Layer(1.0, _ArrayTag([1, 2])))
        assert mapped.weight == 2.0
