"""io.load trusts nothing in the file: names, sizes, structure (minigrad.io.archive, .structure).

The crafted files below each made the former ``load`` import a module, allocate without
limit, accept a lying structure, or raise something other than CheckpointError.
"""

import collections
import contextlib
import io as pyio
import json
import struct
import sys
import types
import zipfile

import numpy as np
import pytest

from minigrad import io, optim

Point = collections.namedtuple("Point", ["x", "y"])


def write_checkpoint(path, header: dict, **leaves):
    """A file shaped like a checkpoint, with whatever header and leaves a test wants."""
    np.savez(path, __minigrad__=np.array(json.dumps(header)), **leaves)


def npy_bytes(array) -> bytes:
    buffer = pyio.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def format_2(nodes, num_leaves=None):
    count = sum(node[0] == "leaf" for node in nodes) if num_leaves is None else num_leaves
    return {"format": io.FORMAT, "num_leaves": count, "nodes": nodes}


# --- Item 5: loading imports nothing and runs no class's code ------------------------


def test_a_namedtuple_naming_a_lazy_submodule_imports_nothing(tmp_path):
    if "numpy.f2py" in sys.modules:
        pytest.skip("numpy.f2py is already imported in this process")
    path = tmp_path / "f2py.npz"
    write_checkpoint(path, format_2([["namedtuple", "numpy", "f2py.Anything", ["a"]], ["none"]]))
    loaded = io.load(path)
    assert "numpy.f2py" not in sys.modules  # numpy's lazy __getattr__ would import it
    assert type(loaded).__name__ == "Anything" and loaded == (None,)


def test_no_attribute_chain_is_followed_and_no_class_code_runs(tmp_path, monkeypatch):
    touched = []

    class Trap(collections.namedtuple("Trap", ["a"])):
        def __new__(cls, *args):
            touched.append("__new__")
            return super().__new__(cls, *args)

    module = types.ModuleType("planted_module")
    module.Trap = Trap
    module.__getattr__ = lambda name: touched.append(name)
    monkeypatch.setitem(sys.modules, "planted_module", module)
    path = tmp_path / "trap.npz"
    for qualname in ("Trap", "anything.deeper"):
        write_checkpoint(path, format_2([["namedtuple", "planted_module", qualname, ["a"]], ["none"]]))
        assert type(io.load(path)) is not Trap
    assert touched == []
    # A class the caller names is used, still without running its __new__.
    assert type(io.load(path, namedtuples=[Trap])) is not Trap  # qualname differs
    write_checkpoint(path, format_2([["namedtuple", Trap.__module__, Trap.__qualname__, ["a"]], ["none"]]))
    assert type(io.load(path, namedtuples=[Trap])) is Trap and touched == []


def test_caller_and_minigrad_namedtuples_come_back_as_themselves(tmp_path):
    path = tmp_path / "nt.npz"
    state = optim.adam(1e-3).init({"w": np.ones(2)})
    io.save(path, [Point(1, 2), state])
    point, loaded_state = io.load(path, namedtuples=[Point])
    assert type(point) is Point and type(loaded_state) is type(state)
    assert type(io.load(path)[0]) is not Point  # not named by the caller: a plain namedtuple
    with pytest.raises(TypeError, match="namedtuples must hold namedtuple classes"):
        io.load(path, namedtuples=[dict])


# --- Item 6: sizes are checked before memory is allocated ----------------------------


def test_a_huge_declared_shape_is_refused_before_allocating(tmp_path):
    path = tmp_path / "bomb.npz"
    header = pyio.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__minigrad__.npy", npy_bytes(np.array(json.dumps(format_2([["leaf", None]])))))
        archive.writestr("leaf_0.npy", header.getvalue() + bytes(32))
    assert path.stat().st_size < 1000
    with pytest.raises(io.CheckpointError, match=r"declares shape \(1000000000000,\) .* but holds 32 bytes"):
        io.load(path)


def test_a_compressed_bomb_is_refused_without_inflating(tmp_path):
    path = tmp_path / "bomb.npz"
    zeros = np.zeros(2**22)  # 32 MiB of zeros deflates to ~32 kB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__minigrad__.npy", npy_bytes(np.array(json.dumps(format_2([["leaf", None]])))))
        archive.writestr("leaf_0.npy", npy_bytes(zeros))
    assert path.stat().st_size < 2**20
    with pytest.raises(io.CheckpointError, match="compressed"):
        io.load(path)


def test_a_member_declaring_more_bytes_than_the_file_holds_is_refused(tmp_path):
    path = tmp_path / "p.npz"
    io.save(path, [np.arange(10.0)])
    data = bytearray(path.read_bytes())
    entries = [i for i in range(len(data)) if data[i : i + 4] == b"PK\x01\x02"]  # central directory
    leaf_entry = next(i for i in entries if data[i + 46 : i + 46 + 10] == b"leaf_0.npy")
    for offset in (20, 24):  # compressed and uncompressed sizes
        struct.pack_into("<I", data, leaf_entry + offset, 10**9)
    path.write_bytes(bytes(data))
    with pytest.raises(io.CheckpointError, match="more than the archive's"):
        io.load(path)


@pytest.mark.parametrize("special", ["fifo", "directory"])
def test_load_refuses_files_that_are_not_regular(tmp_path, special):
    path = tmp_path / "x.npz"
    if special == "fifo":
        __import__("os").mkfifo(path)  # reading it would wait for a writer forever
    else:
        path.mkdir()
    with pytest.raises(io.CheckpointError, match="not a regular file"):
        io.load(path)


# --- Item 7: a structure that lies is refused ---------------------------------------


@pytest.mark.parametrize(
    "header, match",
    [
        (format_2([["list", 2], ["leaf", None], ["leaf", None]], 1), "more leaves"),
        (format_2([["list", 1], ["leaf", None]], 2), "match"),
        (format_2([["list", 3], ["none"]]), "ends inside"),
        (format_2([["none"], ["none"]]), "goes on after"),
        (format_2([["list", -1]]), "not one this format knows"),
        (format_2([["list", True]]), "not one this format knows"),
        (format_2([["dict", [["str", "a"], ["str", "a"]]], ["none"], ["none"]]), "repeats a key"),
        (format_2([["dict", [["float", 1.5]]], ["none"]]), "keys are"),
        (format_2([["dict", [["int", True]]], ["none"]]), "keys are"),
        (format_2([["leaf", "int"]]), "marked as a Python int"),
        (format_2([["leaf", "bytes"]]), "not one this format knows"),
        (format_2([["namedtuple", "m", "P", ["x", "x"]], ["none"], ["none"]]), "cannot be made"),
        (format_2([["namedtuple", "m", "P", ["_x"]], ["none"]]), "cannot be made"),
        (dict(format_2([["none"]]), extra=1), "keys"),
        ({"format": io.FORMAT, "num_leaves": -1, "nodes": [["none"]]}, "num_leaves"),
    ],
)
def test_lying_structures_are_refused(tmp_path, header, match):
    path = tmp_path / "lie.npz"
    write_checkpoint(path, header, leaf_0=np.array(2.7)) if header["num_leaves"] == 1 else write_checkpoint(
        path, header
    )
    with pytest.raises(io.CheckpointError, match=match):
        io.load(path)


def format_1_leaf(index, python=None):
    return {"node": "leaf", "index": index, "python": python}


@pytest.mark.parametrize(
    "structure, match",
    [
        ({"node": "list", "children": [format_1_leaf(0), format_1_leaf(0)]}, "leaf index 0 where leaf 1"),
        ({"node": "list", "children": [format_1_leaf(-1)]}, "leaf index -1"),
        ({"node": "dict", "keys": [["set", 1]], "children": [format_1_leaf(0)]}, "keys are"),
        ({"node": "leaf", "index": 0}, "does not define"),
        ({"node": "module", "children": []}, "does not define"),
    ],
)
def test_lying_format_1_structures_are_refused(tmp_path, structure, match):
    path = tmp_path / "lie.npz"
    header = {"format": "minigrad.io/1", "num_leaves": 2, "structure": structure}
    write_checkpoint(path, header, leaf_0=np.array(1), leaf_1=np.array(2))
    with pytest.raises(io.CheckpointError, match=match):
        io.load(path)


def test_format_1_files_still_load(tmp_path):
    path = tmp_path / "old.npz"
    structure = {
        "node": "dict",
        "keys": [["str", "w"], ["int", 3], ["str", "name"]],
        "children": [
            {"node": "namedtuple", "module": __name__, "qualname": "Point", "fields": ["x", "y"],
             "children": [format_1_leaf(0), {"node": "none"}]},
            {"node": "tuple", "children": [format_1_leaf(1, "int")]},
            format_1_leaf(2, "str"),
        ],
    }  # fmt: skip
    header = {"format": "minigrad.io/1", "num_leaves": 3, "structure": structure}
    write_checkpoint(path, header, leaf_0=np.ones(2), leaf_1=np.array(7), leaf_2=np.array("abc"))
    loaded = io.load(path, namedtuples=[Point])
    assert list(loaded) == ["w", 3, "name"] and loaded[3] == (7,) and loaded["name"] == "abc"
    assert type(loaded["w"]) is Point and loaded["w"].y is None


def test_duplicate_json_keys_and_odd_members_are_refused(tmp_path):
    path = tmp_path / "dup.npz"
    text = '{"format": "FORMAT", "num_leaves": 0, "nodes": [["none"]], "nodes": [["list", 0]]}'
    text = text.replace("FORMAT", io.FORMAT)
    np.savez(path, __minigrad__=np.array(text))
    with pytest.raises(io.CheckpointError, match="repeats a JSON key"):
        io.load(path)
    header = npy_bytes(np.array(json.dumps(format_2([["leaf", None]]))))
    for names, match in [(["leaf_0.npy", "leaf_0.npy"], "two members"), (["leaf_0"], "not a .npy")]:
        with (
            pytest.warns(UserWarning, match="Duplicate")
            if len(set(names)) < len(names)
            else contextlib.nullcontext()
        ):
            with zipfile.ZipFile(path, "w") as archive:
                archive.writestr("__minigrad__.npy", header)
                for name in names:
                    archive.writestr(name, npy_bytes(np.ones(1)))
        with pytest.raises(io.CheckpointError, match=match):
            io.load(path)
