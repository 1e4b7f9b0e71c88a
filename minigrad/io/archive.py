"""Reading a checkpoint's ``.npz`` archive without trusting anything in it.

A checkpoint is a zip archive of ``.npy`` members, as ``numpy.savez`` writes it. Every
size the file declares is checked against the bytes it really holds before memory is
allocated: members must be stored uncompressed (``numpy.savez`` never compresses), so a
member cannot inflate beyond the file, and an array header's shape must account for its
member's size exactly. Arrays of objects (which only pickling can read) are refused, the
JSON header may neither repeat a key nor nest deeper than a fixed limit, and every failure
is an ``UnreadableError`` naming what is wrong.

Example:
    >>> import io
    >>> import numpy as np
    >>> buffer = io.BytesIO()
    >>> np.savez(buffer, leaf_0=np.arange(3))
    >>> with ArchiveReader(buffer) as archive:
    ...     archive.array("leaf_0.npy")
    array([0, 1, 2])
"""

from __future__ import annotations

import json
import math
import os
import re
import zipfile

import numpy as np

from minigrad.io.errors import UnreadableError

__all__ = ["ArchiveReader", "parse_json", "MAX_JSON_NESTING"]

# Deep enough for every tree that format 1 could save (255 levels); shallow enough that
# json.loads, which recurses, parses it from any ordinary call stack. Format 2 nests 5.
MAX_JSON_NESTING = 512
_NPY_MAGIC = b"\x93NUMPY"
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


class ArchiveReader:
    """The members of an ``.npz`` archive, checked, and their arrays read on request."""

    def __init__(self, file):
        size = file.seek(0, os.SEEK_END)
        file.seek(0)
        if file.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
            raise UnreadableError("holds a single .npy array, not a minigrad checkpoint (.npz)", foreign=True)
        file.seek(0)
        try:
            self._zip = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as error:
            raise UnreadableError(
                "is not a minigrad checkpoint (.npz): it is truncated, corrupted or of another "
                f"format ({type(error).__name__}: {error})",
                foreign=True,
            ) from None
        self.members = _checked_members(self._zip.infolist(), size)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._zip.close()

    def array(self, name: str) -> np.ndarray:
        """The array stored in member ``name``, read into memory sized from the file."""
        info = self.members[name]
        with self._zip.open(info) as member:
            shape, fortran_order, dtype = _read_npy_header(member, name)
            count = math.prod(shape)
            data_size = info.file_size - member.tell()
            if count * dtype.itemsize != data_size:
                raise UnreadableError(
                    f"member {name} declares shape {shape} of {dtype} ({count * dtype.itemsize} "
                    f"bytes) but holds {data_size} bytes of data"
                )
            flat = np.empty(count, dtype)
            if data_size and member.readinto(flat.view(np.uint8)) != data_size:
                raise UnreadableError(f"member {name} ends before its data does")
            member.read(1)  # reaching the end makes zipfile compare the CRC-32
        return flat.reshape(shape, order="F" if fortran_order else "C")


def _checked_members(infos: list, archive_size: int) -> dict:
    """Member name -> ZipInfo, once each checked against the archive's real size."""
    members = {}
    for info in infos:
        name = info.filename
        if name in members:
            raise UnreadableError(f"has two members named {name!r}")
        if not name.endswith(".npy"):
            raise UnreadableError(f"has a member {name!r} that is not a .npy array")
        if info.flag_bits & 0x1:
            raise UnreadableError(f"member {name} is encrypted")
        if info.compress_type != zipfile.ZIP_STORED:
            # numpy.savez never compresses; a compressed member could inflate without end.
            raise UnreadableError(
                f"member {name} is compressed (zip method {info.compress_type}); minigrad "
                "checkpoints store members uncompressed. Load it with numpy and save it again "
                "with minigrad.io.save"
            )
        if info.file_size != info.compress_size or info.header_offset + info.compress_size > archive_size:
            raise UnreadableError(
                f"member {name} declares {info.file_size} bytes, more than the archive's "
                f"{archive_size} bytes can hold"
            )
        members[name] = info
    return members


def _read_npy_header(member, name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, TypeError, SyntaxError, UnicodeError) as error:
        raise UnreadableError(f"member {name} has a damaged .npy header ({error})") from None
    if dtype.hasobject:
        raise UnreadableError(
            f"member {name} holds Python objects (dtype {dtype}), which only unpickling could read"
        )
    if any(d < 0 for d in shape):
        raise UnreadableError(f"member {name} declares the negative shape {shape}")
    return shape, fortran_order, dtype


def _refuse_duplicate_keys(pairs: list) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise UnreadableError(f"the header repeats a JSON key among {keys}")
    return dict(pairs)


def _refuse_constant(name: str):
    raise UnreadableError(f"the header holds the non-JSON constant {name}")


def _nesting(text: str) -> int:
    """How deep JSON ``text`` nests, counted without recursing."""
    skeleton = np.frombuffer(_JSON_STRING.sub("", text).encode("utf-8"), np.uint8)
    opening = (skeleton == ord("[")) | (skeleton == ord("{"))
    closing = (skeleton == ord("]")) | (skeleton == ord("}"))
    return int(np.cumsum(opening.astype(np.int64) - closing).max(initial=0))


def parse_json(text: str):
    """``text`` parsed as JSON, refusing repeated keys, NaN and deep nesting.

    Example:
      >>> parse_json('{"a": [1, 2]}')
      {'a': [1, 2]}
    """
    depth = _nesting(text)
    if depth > MAX_JSON_NESTING:
        raise UnreadableError(
            f"the header nests {depth} levels deep, more than the {MAX_JSON_NESTING} allowed"
        )
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise UnreadableError(f"the header is not valid JSON ({error})") from None
