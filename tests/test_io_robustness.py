"""io.save and io.load on damaged files, deep trees and awkward strings."""

import collections
import sys

import numpy as np
import pytest

from minigrad import io
from minigrad.tree import tree_leaves, tree_structure

Pair = collections.namedtuple("Pair", ["a", "b"])


def assert_same_tree(a, b):
    assert tree_structure(a) == tree_structure(b)
    for x, y in zip(tree_leaves(a), tree_leaves(b), strict=True):
        assert type(x) is type(y)
        np.testing.assert_array_equal(x, y)


# --- Item 7: every damaged file is a CheckpointError --------------------------------


def test_single_byte_corruptions_load_the_same_tree_or_raise_checkpoint_error(tmp_path):
    tree = {"w": np.arange(3.0), "s": "hi", "n": [1, None, 2.5], "p": Pair(np.array(3, np.int8), True)}
    path = tmp_path / "c.npz"
    io.save(path, tree)
    original = path.read_bytes()
    rng = np.random.default_rng(14)
    outcomes = collections.Counter()
    for position, flip in zip(rng.integers(0, len(original), 600), rng.integers(1, 256, 600), strict=True):
        corrupted = bytearray(original)
        corrupted[position] ^= flip
        path.write_bytes(bytes(corrupted))
        try:
            loaded = io.load(path, namedtuples=[Pair])
        except io.CheckpointError:
            outcomes["refused"] += 1
            continue
        assert_same_tree(loaded, tree)  # only bytes nothing reads (zip timestamps) may change
        outcomes["loaded"] += 1
    assert outcomes["refused"] > 400


# --- Item 8: depth is limited by memory, not by Python's stack ----------------------


def nested_lists(depth: int):
    tree = [np.ones(1)]
    for _ in range(depth):
        tree = [tree, None]
    return tree


def depth_of(tree) -> int:
    depth = 0
    while isinstance(tree, list) and len(tree) == 2:
        tree, depth = tree[0], depth + 1
    assert isinstance(tree, list) and float(tree[0][0]) == 1.0
    return depth


def test_trees_deeper_than_the_recursion_limit_round_trip(tmp_path):
    depth = 3 * sys.getrecursionlimit()
    io.save(tmp_path / "deep.npz", nested_lists(depth))
    assert depth_of(io.load(tmp_path / "deep.npz")) == depth


def test_a_checkpoint_loads_from_a_deep_call_stack(tmp_path):
    io.save(tmp_path / "p.npz", {"layers": [[np.ones(1)], (np.zeros(2),)]})

    def load_at_depth(levels):
        return load_at_depth(levels - 1) if levels else io.load(tmp_path / "p.npz")

    # Leave only a few dozen frames between the call and the recursion limit.
    frames = len(__import__("inspect").stack(0))
    loaded = load_at_depth(sys.getrecursionlimit() - frames - 40)
    assert float(loaded["layers"][0][0][0]) == 1.0


def test_a_tree_that_contains_itself_is_refused(tmp_path):
    loop = [np.ones(1)]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"contains itself at \[1\]"):
        io.save(tmp_path / "loop.npz", loop)
    shared = [np.ones(1)]
    io.save(tmp_path / "shared.npz", [shared, shared])  # the same list twice is a tree
    assert len(io.load(tmp_path / "shared.npz")) == 2


def test_format_1_headers_nested_too_deep_are_refused(tmp_path):
    structure = {"node": "none"}
    for _ in range(400):
        structure = {"node": "list", "children": [structure]}
    header = {"format": "minigrad.io/1", "num_leaves": 0, "structure": structure}
    np.savez(tmp_path / "deep.npz", __minigrad__=np.array(__import__("json").dumps(header)))
    with pytest.raises(io.CheckpointError, match="nests 802 levels deep"):
        io.load(tmp_path / "deep.npz")


# --- Item 9: strings ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "trailing NUL\x00", "\x00\x00", "naïve ✓", "lone \ud800 surrogate"])
def test_python_strings_round_trip_exactly(tmp_path, text):
    io.save(tmp_path / "s.npz", {"name": text, "names": [text, text + "x"]})
    assert io.load(tmp_path / "s.npz") == {"name": text, "names": [text, text + "x"]}


def test_numpy_strings_round_trip_and_string_dtype_is_refused(tmp_path):
    fixed = np.array(["a", "bc"])
    io.save(tmp_path / "u.npz", [fixed, np.array([b"x", b"yz"])])
    loaded = io.load(tmp_path / "u.npz")
    assert loaded[0].dtype == fixed.dtype and loaded[0].tolist() == ["a", "bc"]
    assert loaded[1].tolist() == [b"x", b"yz"]
    variable = np.array(["a\x00", "b"], dtype=np.dtypes.StringDType())
    with pytest.raises(TypeError, match=r"StringDType.*\.astype\(str\)"):
        io.save(tmp_path / "t.npz", [variable])


def test_python_ints_beyond_64_bits_are_refused(tmp_path):
    with pytest.raises(TypeError, match="does not fit in 64 bits"):
        io.save(tmp_path / "i.npz", {"big": 2**64})
    io.save(tmp_path / "i.npz", [2**64 - 1, -(2**63)])
    assert io.load(tmp_path / "i.npz") == [2**64 - 1, -(2**63)]
