"""Tests for minigrad.io: round trips, damaged and foreign files, atomic writes."""

import collections
import json
import os

import numpy as np
import pytest

import minigrad.random as mr
from minigrad import io, nn, optim
from minigrad.tree import register_pytree_node, tree_leaves, tree_structure

Point = collections.namedtuple("Point", ["x", "y"])


def assert_same_tree(a, b):
    assert tree_structure(a) == tree_structure(b)
    for x, y in zip(tree_leaves(a), tree_leaves(b), strict=True):
        assert type(x) is type(y)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


def test_round_trip_of_a_mixed_tree(tmp_path):
    tree = {
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "i8": np.array([-1, 2], np.int8),
        "flags": np.array([True, False]),
        "c": np.array(1 + 2j),
        "scalar": np.float64(2.5),
        "python": [1, 2.5, True, None, ()],
        "nested": (Point(np.zeros(1), [np.ones(2)]), {}),
        "int_keys": {3: np.uint32([7]), 1: np.zeros(0)},
    }
    path = tmp_path / "tree.npz"
    io.save(path, tree)
    loaded = io.load(path, namedtuples=[Point])
    assert list(loaded) == list(tree) and list(loaded["int_keys"]) == [3, 1]
    assert isinstance(loaded["nested"][0], Point)
    assert loaded["python"] == [1, 2.5, True, None, ()]
    assert_same_tree(
        {k: v for k, v in loaded.items() if k != "scalar"}, {k: v for k, v in tree.items() if k != "scalar"}
    )
    np.testing.assert_array_equal(loaded["scalar"], 2.5)


def test_params_and_optimizer_state_round_trip(tmp_path):
    model = nn.MLP([3, 4, 2])
    params = model.init(mr.key(0))
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.adam(1e-3))
    state = opt.init(params)
    io.save(tmp_path / "ckpt.npz", {"params": params, "opt_state": state})
    loaded = io.load(tmp_path / "ckpt.npz")
    assert_same_tree(loaded["params"], params)
    assert_same_tree(loaded["opt_state"], state)
    assert type(loaded["opt_state"][1][0]) is optim.AdamState
    # The loaded state drives the optimizer as the original would.
    grads = [{"w": np.ones_like(p["w"]), "b": np.ones_like(p["b"])} for p in params]
    expected, _ = opt.update(grads, state, params)
    got, _ = opt.update(grads, loaded["opt_state"], loaded["params"])
    assert_same_tree(got, expected)


def _old_sgd_state_record():
    # sgd's state before the optimizers became chains: one record, saved under this name.
    record = collections.namedtuple("SgdState", ["count", "velocity"])
    record.__module__ = "minigrad.optim"
    return record


def test_adam_state_of_the_older_single_record_layout(tmp_path):
    params = nn.MLP([3, 4, 2]).init(mr.key(0))
    grads = [{"w": np.ones_like(p["w"]), "b": np.full_like(p["b"], -2.0)} for p in params]
    opt = optim.adam(1e-2)
    state = opt.init(params)
    for _ in range(2):
        _, state = opt.update(grads, state, params)
    adam_state, learning_rate_state = state
    assert learning_rate_state == optim.EmptyState()
    # Older minigrad saved adam's state as the AdamState record alone.
    io.save(tmp_path / "old.npz", {"params": params, "opt_state": adam_state})
    loaded = io.load(tmp_path / "old.npz")
    assert_same_tree(loaded["params"], params)  # the parameters load as ever
    with pytest.raises(ValueError, match=r"single AdamState.*\(AdamState, EmptyState\(\)\)") as error:
        opt.update(grads, loaded["opt_state"], loaded["params"])
    assert "optim.AdamState(*old), optim.EmptyState()" in str(error.value)
    # Following the advice continues exactly where the saved run stopped.
    rebuilt = (optim.AdamState(*loaded["opt_state"]), optim.EmptyState())
    assert_same_tree(opt.update(grads, rebuilt, params), opt.update(grads, state, params))


def test_sgd_state_of_the_older_single_record_layout(tmp_path):
    params = {"w": np.array([1.0, -2.0], np.float32)}
    velocity = {"w": np.array([0.5, 0.25], np.float32)}
    io.save(tmp_path / "old.npz", _old_sgd_state_record()(np.int32(3), velocity))
    old = io.load(tmp_path / "old.npz")
    # Its fields are not today's SgdState's, so it comes back as a plain record of that name.
    assert type(old) is not optim.SgdState and old._fields == ("count", "velocity")
    opt = optim.sgd(0.1, momentum=0.9)
    grads = {"w": np.array([1.0, 1.0], np.float32)}
    with pytest.raises(ValueError, match=r"single SgdState.*chain of 2"):
        opt.update(grads, old, params)
    updates, _ = opt.update(grads, (optim.SgdState(old.velocity), optim.EmptyState()), params)
    np.testing.assert_allclose(updates["w"], -0.1 * (0.9 * velocity["w"] + 1.0), rtol=1e-6)


def test_path_is_used_exactly(tmp_path):
    io.save(tmp_path / "weights.bin", [np.zeros(1)])
    assert os.listdir(tmp_path) == ["weights.bin"]


def test_unknown_namedtuple_class_is_rebuilt_without_importing(tmp_path):
    path = tmp_path / "nt.npz"
    io.save(path, Point(np.zeros(1), np.ones(1)))
    with np.load(path) as archive:
        header = json.loads(str(archive["__minigrad__"]))
        leaves = {name: archive[name] for name in archive.files if name.startswith("leaf_")}
    header["nodes"][0][1] = "some_module_that_does_not_exist"
    np.savez(path, __minigrad__=np.array(json.dumps(header)), **leaves)
    loaded = io.load(path, namedtuples=[Point])
    assert loaded._fields == ("x", "y") and type(loaded).__name__ == "Point" and type(loaded) is not Point
    assert "some_module_that_does_not_exist" not in __import__("sys").modules


@pytest.mark.parametrize("cut", [0, 10, 100, 0.5, -30])
def test_truncated_files_give_a_clear_error(tmp_path, cut):
    path = tmp_path / "p.npz"
    io.save(path, {"w": np.arange(100.0), "b": np.zeros(3)})
    data = path.read_bytes()
    size = int(len(data) * cut) if isinstance(cut, float) else (cut if cut >= 0 else len(data) + cut)
    path.write_bytes(data[:size])
    with pytest.raises(io.CheckpointError, match="checkpoint"):
        io.load(path)


def test_corrupted_leaf_data_is_detected(tmp_path):
    path = tmp_path / "p.npz"
    io.save(path, [np.arange(50.0)])
    data = bytearray(path.read_bytes())
    at = data.index(np.arange(50.0).tobytes()[8:16])
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="damaged|corrupted"):
        io.load(path)


def test_foreign_files_give_a_clear_error(tmp_path):
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(io.CheckpointError, match="not a minigrad checkpoint"):
        io.load(tmp_path / "plain.npz")
    np.save(tmp_path / "array.npy", np.ones(2))
    with pytest.raises(io.CheckpointError, match="single .npy array"):
        io.load(tmp_path / "array.npy")
    (tmp_path / "text.npz").write_text("hello, world\n" * 10)
    with pytest.raises(io.CheckpointError):
        io.load(tmp_path / "text.npz")
    with pytest.raises(FileNotFoundError):
        io.load(tmp_path / "missing.npz")


def test_pickled_content_is_never_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    header = json.dumps(
        {"format": io.FORMAT, "num_leaves": 1, "structure": {"node": "leaf", "index": 0, "python": None}}
    )
    np.savez(path, __minigrad__=np.array(header), leaf_0=np.array([{"a": 1}], dtype=object))
    with pytest.raises(io.CheckpointError):
        io.load(path)


def test_unsupported_contents_are_refused_before_writing(tmp_path):
    path = tmp_path / "x.npz"

    class Box:
        def __init__(self, value):
            self.value = value

    register_pytree_node(Box, lambda b: ((b.value,), None), lambda aux, ch: Box(*ch))
    for bad, message in [
        ({"a": object()}, "cannot store a object"),
        ([np.array([None], dtype=object)], "dtype object"),
        ({(1, 2): np.zeros(1)}, "dict key"),
        (Box(np.zeros(1)), "cannot store a Box"),
    ]:
        with pytest.raises(TypeError, match=message):
            io.save(path, bad)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_a_failure_while_writing_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "params.npz"
    io.save(path, {"version": np.array(1)})
    before = path.read_bytes()

    def failing_savez(file, **entries):
        file.write(b"PK\x03\x04 partial data")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        io.save(path, {"version": np.array(2)})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["params.npz"]  # no temporary file left behind
    assert int(io.load(path)["version"]) == 1


def test_saving_replaces_the_old_file(tmp_path):
    path = tmp_path / "params.npz"
    io.save(path, [np.array(1)])
    io.save(path, [np.array(2), np.array(3)])
    assert [int(x) for x in io.load(path)] == [2, 3]


def test_saved_file_has_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        io.save(tmp_path / "p.npz", {"a": np.ones(1)})
        assert os.stat(tmp_path / "p.npz").st_mode & 0o777 == 0o644
        os.umask(0o002)
        io.save(tmp_path / "q.npz", {"a": np.ones(1)})
        assert os.stat(tmp_path / "q.npz").st_mode & 0o777 == 0o664
    finally:
        os.umask(old)


@pytest.mark.parametrize(
    "header",
    [[], "x", 3, {"format": "minigrad-checkpoint-1", "num_leaves": 0, "structure": []}],
)
def test_crafted_headers_of_other_json_types_are_checkpoint_errors(tmp_path, header):
    path = tmp_path / "crafted.npz"
    io.save(path, [])
    real = json.loads(str(np.load(path)["__minigrad__"]))
    if isinstance(header, dict):
        header = dict(header, format=real["format"])
    np.savez(path, __minigrad__=np.array(json.dumps(header)))
    with pytest.raises(io.CheckpointError):
        io.load(path)
