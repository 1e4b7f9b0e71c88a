"""``save`` and ``load``: a pytree to one ``.npz`` file and back, never unpickling.

``save`` encodes the tree's shape as a node list (``minigrad.io.structure``), stores it as
JSON beside one ``.npy`` member per leaf, and writes the archive atomically
(``minigrad.io.atomic_write``). ``load`` reads the archive without trusting it
(``minigrad.io.archive``) and rebuilds the tree from containers it knows: tuples, lists,
dicts, ``None``, and namedtuple classes the caller names (plus minigrad's own optimizer
states); any other namedtuple comes back as a plain namedtuple of the same name and fields.

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

import json
import os
import zipfile

import numpy as np

from minigrad.io import structure
from minigrad.io.archive import ArchiveReader, parse_json
from minigrad.io.atomic_write import write_atomically
from minigrad.io.errors import CheckpointError, UnreadableError
from minigrad.io.files import open_regular_file
from minigrad.optim import STATE_TYPES

__all__ = ["save", "load", "FORMAT"]

FORMAT = "minigrad.io/2"
_FORMAT_1 = "minigrad.io/1"
_HEADER = "__minigrad__"
_HEADER_KEYS = {FORMAT: {"format", "num_leaves", "nodes"}, _FORMAT_1: {"format", "num_leaves", "structure"}}
# minigrad's own state records load as themselves; other classes must be named by the caller.
TRUSTED_NAMEDTUPLES = STATE_TYPES
# What a damaged archive can make zipfile raise while members are read.
_ARCHIVE_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError)


def save(path, tree) -> None:
    """Write ``tree`` to ``path`` (one ``.npz`` file), atomically.

    Args:
      path: the file to write (written exactly at this path; no suffix is added). A regular
        file there is replaced and keeps its permissions; a symbolic link, directory, FIFO
        or device there is refused with ``FileExistsError``.
      tree: a pytree of arrays, Python numbers and strings in tuples, lists, dicts (str or
        int keys), namedtuples and ``None``, of any depth.

    Example:
      >>> import os, tempfile
      >>> import numpy as np
      >>> path = os.path.join(tempfile.mkdtemp(), "state.npz")
      >>> save(path, (np.zeros(2), {"count": np.int32(3)}))
      >>> load(path)
      (array([0., 0.]), {'count': array(3, dtype=int32)})
    """
    nodes, leaves = structure.encode(tree)
    header = json.dumps({"format": FORMAT, "num_leaves": len(leaves), "nodes": nodes})
    entries = {f"leaf_{i}": leaf for i, leaf in enumerate(leaves)}
    entries[_HEADER] = np.array(header)
    write_atomically(path, lambda file: np.savez(file, **entries))


def _namedtuple_table(namedtuples) -> dict:
    table = {}
    for cls in (*TRUSTED_NAMEDTUPLES, *namedtuples):
        if not (isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")):
            raise TypeError(f"io.load: namedtuples must hold namedtuple classes, got {cls!r}.")
        table[structure.namedtuple_key(cls)] = cls
    return table


def _read_header(archive: ArchiveReader) -> dict:
    if f"{_HEADER}.npy" not in archive.members:
        raise UnreadableError(
            f"is a NumPy .npz file but not a minigrad checkpoint (it has no {_HEADER!r} entry); "
            "read it with numpy.load instead",
            foreign=True,
        )
    text = archive.array(f"{_HEADER}.npy")
    if text.dtype.kind != "U" or text.ndim != 0:
        raise UnreadableError(
            f"its {_HEADER!r} entry is a {text.dtype} array of shape {text.shape}, not text"
        )
    header = parse_json(str(text))
    if not isinstance(header, dict):
        raise UnreadableError(f"the header is a JSON {type(header).__name__}, not an object")
    if header.get("format") not in _HEADER_KEYS:
        raise UnreadableError(
            f"has format {header.get('format')!r}; this version of minigrad reads {FORMAT!r} and {_FORMAT_1!r}",
            foreign=True,
        )
    if set(header) != _HEADER_KEYS[header["format"]]:
        raise UnreadableError(
            f"the header has keys {sorted(header)}, not {sorted(_HEADER_KEYS[header['format']])}"
        )
    if type(header["num_leaves"]) is not int or header["num_leaves"] < 0:
        raise UnreadableError(f"the header's num_leaves is {header['num_leaves']!r}, not a count")
    return header


def _read_tree(archive: ArchiveReader, namedtuples: dict):
    header = _read_header(archive)
    leaf_names = [f"leaf_{i}.npy" for i in range(header["num_leaves"])]
    if set(archive.members) != {f"{_HEADER}.npy", *leaf_names}:
        unexpected = sorted(set(archive.members) - {f"{_HEADER}.npy", *leaf_names})
        missing = sorted({*leaf_names} - set(archive.members))
        raise UnreadableError(
            f"its members do not match its {len(leaf_names)} leaves (missing {missing}, unexpected {unexpected})"
        )
    leaves = [archive.array(name) for name in leaf_names]
    is_format_1 = header["format"] == _FORMAT_1
    nodes = structure.nodes_from_format_1(header["structure"]) if is_format_1 else header["nodes"]
    return structure.decode(nodes, leaves, namedtuples)


def load(path, *, namedtuples=()):
    """Read a pytree written by ``save``, building only containers the caller allows.

    Args:
      path: the file to read.
      namedtuples: namedtuple classes to rebuild as themselves, matched by module,
        qualified name and fields. minigrad's optimizer states are always allowed; any
        other namedtuple comes back as a plain ``collections.namedtuple`` with the stored
        name and fields. Nothing is imported and no class's code runs.

    Raises:
      FileNotFoundError: no file at ``path``.
      CheckpointError (a ValueError): the file is not a minigrad checkpoint (or not a regular
        file), or it is truncated, corrupted or refused by a check.

    Example:
      >>> import collections, os, tempfile
      >>> import numpy as np
      >>> Pair = collections.namedtuple("Pair", ["a", "b"])
      >>> path = os.path.join(tempfile.mkdtemp(), "p.npz")
      >>> save(path, [np.arange(3), Pair(1, 2)])
      >>> load(path, namedtuples=[Pair])
      [array([0, 1, 2]), Pair(a=1, b=2)]
    """
    path = os.fspath(path)
    table = _namedtuple_table(namedtuples)
    try:
        with open_regular_file(path) as file, ArchiveReader(file) as archive:
            return _read_tree(archive, table)
    except UnreadableError as error:
        reason = str(error) if error.foreign else f"is a damaged minigrad checkpoint: {error}"
        raise CheckpointError(f"io.load: {path} {reason}.") from None
    except _ARCHIVE_ERRORS as error:
        if isinstance(error, (FileNotFoundError, PermissionError)):
            raise
        raise CheckpointError(
            f"io.load: {path} is a damaged minigrad checkpoint: it is truncated or corrupted "
            f"({type(error).__name__}: {error})."
        ) from error
