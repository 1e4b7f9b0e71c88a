"""Save and load pytrees of arrays (parameters, optimizer states) as one ``.npz`` file.

The file is an ordinary NumPy ``.npz`` archive: one entry per leaf (``leaf_0``,
``leaf_1``, ...) and a ``__minigrad__`` entry holding a JSON description of the tree's
structure (tuples, lists, dicts, namedtuples, ``None``). Loading never unpickles
anything (``allow_pickle=False``), and the structure is rebuilt from that JSON, so a file
from an untrusted source cannot run code. Writing goes to a temporary file in the same
directory that is then renamed over the target (``os.replace``), so a crash or error
while saving leaves any previous file intact.

Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "params.npz")
    >>> save(path, {"w": np.eye(2), "layers": [np.zeros(3), None], "step": 7})
    >>> tree = load(path)
    >>> tree["w"], tree["step"]
    (array([[1., 0.],
           [0., 1.]]), 7)
"""

from __future__ import annotations

import collections
import json
import os
import sys
import tempfile
import zipfile
import zlib

import numpy as np

from minigrad.core.trace import is_tracer

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "minigrad.io/1"
_HEADER = "__minigrad__"
_PYTHON_SCALARS = {"bool": bool, "int": int, "float": float, "complex": complex, "str": str}


class CheckpointError(ValueError):
    """A file that is not a minigrad checkpoint, or one that is truncated or corrupted."""


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _encode_key(key, where):
    if isinstance(key, str):
        return ["str", key]
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return ["int", int(key)]
    raise TypeError(
        f"io.save: dict key {key!r} at {where or 'the root'} has type {type(key).__name__}; "
        "only str and int keys can be stored."
    )


def _encode(tree, leaves: list, where: str):
    """A JSON-able description of ``tree``; its leaves are appended to ``leaves``."""
    if tree is None:
        return {"node": "none"}
    if _is_namedtuple(tree):
        cls = type(tree)
        return {
            "node": "namedtuple",
            "module": cls.__module__,
            "qualname": cls.__qualname__,
            "fields": list(cls._fields),
            "children": [_encode(c, leaves, f"{where}.{f}") for f, c in zip(cls._fields, tree, strict=True)],
        }
    if type(tree) in (tuple, list):
        return {
            "node": type(tree).__name__,
            "children": [_encode(c, leaves, f"{where}[{i}]") for i, c in enumerate(tree)],
        }
    if type(tree) is dict:
        return {
            "node": "dict",
            "keys": [_encode_key(k, where) for k in tree],
            "children": [_encode(v, leaves, f"{where}[{k!r}]") for k, v in tree.items()],
        }
    return _encode_leaf(tree, leaves, where)


def _encode_leaf(leaf, leaves: list, where: str):
    if is_tracer(leaf):
        raise TypeError(
            f"io.save: the leaf at {where or 'the root'} is a traced array {leaf.aval}; save "
            "concrete values, outside any transform."
        )
    python_type = type(leaf).__name__ if type(leaf) in _PYTHON_SCALARS.values() else None
    if python_type is None and not isinstance(leaf, (np.ndarray, np.generic)):
        raise TypeError(
            f"io.save: cannot store a {type(leaf).__name__} at {where or 'the root'}. Leaves must "
            "be arrays or Python numbers, inside tuples, lists, dicts, namedtuples or None."
        )
    array = np.asarray(leaf)
    if array.dtype.hasobject:
        raise TypeError(
            f"io.save: the array at {where or 'the root'} has dtype object, which needs pickling."
        )
    leaves.append(array)
    return {"node": "leaf", "index": len(leaves) - 1, "python": python_type}


def save(path, tree) -> None:
    """Write ``tree`` to ``path`` (one ``.npz`` file), atomically.

    Args:
      path: the file to write (written exactly at this path; no suffix is added).
      tree: a pytree of arrays and Python numbers in tuples, lists, dicts (str or int
        keys), namedtuples and ``None``.

    Example:
      >>> import os, tempfile
      >>> import numpy as np
      >>> path = os.path.join(tempfile.mkdtemp(), "state.npz")
      >>> save(path, (np.zeros(2), {"count": np.int32(3)}))
      >>> load(path)
      (array([0., 0.]), {'count': array(3, dtype=int32)})
    """
    leaves: list = []
    structure = _encode(tree, leaves, "")
    header = json.dumps({"format": FORMAT, "num_leaves": len(leaves), "structure": structure})
    entries = {f"leaf_{i}": leaf for i, leaf in enumerate(leaves)}
    entries[_HEADER] = np.array(header)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp_path = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **entries)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp makes the file private (0600); give it the mode open() would have.
        os.chmod(temp_path, 0o666 & ~_current_umask())
        os.replace(temp_path, path)
    except BaseException:
        try:
            os.unlink(temp_path)
        except FileNotFoundError:
            pass
        raise


def _current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _find_namedtuple(module: str, qualname: str, fields: list):
    """The namedtuple class if its module is already imported; else an equivalent one.

    Nothing is imported: a file cannot make loading run a module's code.
    """
    found = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None) if found is not None else None
    if isinstance(found, type) and issubclass(found, tuple) and list(getattr(found, "_fields", ())) == fields:
        return found
    return collections.namedtuple(qualname.rsplit(".", 1)[-1], fields)


def _decode(structure, leaves: list):
    if not isinstance(structure, dict):
        raise TypeError(f"a structure node is a JSON {type(structure).__name__}, not an object")
    node = structure["node"]
    if node == "none":
        return None
    if node == "leaf":
        leaf = leaves[structure["index"]]
        python = structure.get("python")
        return _PYTHON_SCALARS[python](leaf.item()) if python else leaf
    children = [_decode(c, leaves) for c in structure["children"]]
    if node == "tuple":
        return tuple(children)
    if node == "list":
        return children
    if node == "dict":
        keys = [int(k) if kind == "int" else str(k) for kind, k in structure["keys"]]
        return dict(zip(keys, children, strict=True))
    if node == "namedtuple":
        return _find_namedtuple(structure["module"], structure["qualname"], structure["fields"])(*children)
    raise KeyError(node)


def load(path):
    """Read a pytree written by ``save``.

    Raises:
      FileNotFoundError: no file at ``path``.
      CheckpointError (a ValueError): the file is not a minigrad checkpoint, or it is
        truncated or corrupted.

    Example:
      >>> import os, tempfile
      >>> import numpy as np
      >>> path = os.path.join(tempfile.mkdtemp(), "p.npz")
      >>> save(path, [np.arange(3)])
      >>> load(path)
      [array([0, 1, 2])]
    """
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise CheckpointError(
            f"io.load: {path} is not a minigrad checkpoint (.npz): it is truncated, corrupted or "
            f"of another format ({type(error).__name__}: {error})."
        ) from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise CheckpointError(f"io.load: {path} holds a single .npy array, not a minigrad checkpoint (.npz).")
    with archive:
        if _HEADER not in archive.files:
            raise CheckpointError(
                f"io.load: {path} is a NumPy .npz file but not a minigrad checkpoint (it has no "
                f"{_HEADER!r} entry); read it with numpy.load instead."
            )
        try:
            header = json.loads(str(archive[_HEADER]))
            if not isinstance(header, dict):
                raise TypeError(f"the header is a JSON {type(header).__name__}, not an object")
            if header.get("format") != FORMAT:
                raise CheckpointError(
                    f"io.load: {path} has format {header.get('format')!r}; this version of "
                    f"minigrad reads {FORMAT!r}."
                )
            leaves = [archive[f"leaf_{i}"] for i in range(header["num_leaves"])]
            return _decode(header["structure"], leaves)
        except CheckpointError:
            raise
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            OSError,
            KeyError,
            IndexError,
            ValueError,
            TypeError,
            AttributeError,
            RecursionError,
        ) as error:
            raise CheckpointError(
                f"io.load: {path} is a damaged minigrad checkpoint: it is truncated or corrupted "
                f"({type(error).__name__}: {error})."
            ) from error
