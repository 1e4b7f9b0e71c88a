"""MNIST from the standard IDX files in a local directory (gzipped or not).

The IDX format (LeCun et al.) is a 4-byte magic number ``0 0 type ndim``, then ``ndim``
big-endian 32-bit sizes, then the data in big-endian order. Nothing is downloaded here:
get the four files from a mirror of the MNIST database and point ``load_mnist`` at them.

Example:
    >>> import io, struct
    >>> import numpy as np
    >>> raw = struct.pack(">BBBBI", 0, 0, 0x08, 1, 3) + bytes([7, 8, 9])
    >>> read_idx(io.BytesIO(raw))
    array([7, 8, 9], dtype=uint8)
"""

from __future__ import annotations

import gzip
import io
import math
import os
import stat
import struct
import zlib

import numpy as np

__all__ = ["read_idx", "load_mnist"]

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
# Ten times MNIST's largest file: room for larger IDX sets, not for a bomb.
MAX_IDX_BYTES = 2**29

_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def _open_regular(path: str):
    # A FIFO or a device such as /dev/zero would block or be read without end.
    file = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
        file.close()
        raise ValueError(f"read_idx: {path} is not a regular file; point it at an IDX file.")
    return file


def _read_exactly(stream, size: int, name: str, what: str) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise ValueError(f"read_idx: {name} is truncated inside its {what} ({len(data)} of {size} bytes).")
    return data


def _read_idx_stream(stream, name: str) -> np.ndarray:
    """The array in an uncompressed IDX stream, reading no more than its header declares."""
    magic = _read_exactly(stream, 4, name, "header")
    if magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {name} is not an IDX file (its magic number is {magic.hex()}).")
    dtype, ndim = _IDX_DTYPES[magic[2]], magic[3]
    shape = struct.unpack(f">{ndim}I", _read_exactly(stream, 4 * ndim, name, "header"))
    expected = math.prod(shape) * dtype.itemsize
    if expected > MAX_IDX_BYTES:
        raise ValueError(
            f"read_idx: {name} declares shape {shape} ({expected} bytes), more than the "
            f"{MAX_IDX_BYTES} bytes read_idx accepts; the file is damaged or not MNIST."
        )
    data = stream.read(expected + 1)  # one byte more shows trailing data
    if len(data) != expected:
        raise ValueError(
            f"read_idx: {name} declares shape {shape} ({expected} bytes of data) but holds "
            f"{len(data)}{'+' if len(data) > expected else ''} bytes; the file is truncated or damaged."
        )
    return np.frombuffer(data, dtype).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(source, name: str | None = None) -> np.ndarray:
    """Read one IDX array from a path or a binary file object (gzip is detected).

    At most the declared size is read or inflated (and never more than ``MAX_IDX_BYTES``),
    so a gzip bomb or an endless device cannot exhaust memory.

    Raises a ValueError naming the file when it is not IDX, truncated or damaged.

    Example:
      >>> import io, struct
      >>> raw = struct.pack(">BBBBII", 0, 0, 0x08, 2, 1, 2) + bytes([1, 2])
      >>> read_idx(io.BytesIO(raw)).shape
      (1, 2)
    """
    if isinstance(source, (str, os.PathLike)):
        with _open_regular(os.fspath(source)) as file:
            return read_idx(file, os.fspath(source))
    name = name or "IDX data"
    stream = io.BufferedReader(source) if not hasattr(source, "peek") else source
    if stream.peek(2)[:2] != _GZIP_MAGIC:
        return _read_idx_stream(stream, name)
    try:
        with gzip.GzipFile(fileobj=stream) as inflated:
            return _read_idx_stream(inflated, name)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"read_idx: {name} is a damaged or truncated gzip file ({error}).") from None


def _find(directory: str, stem: str) -> str:
    # Mirrors spell the names with "-" or "." before idx, with or without ".gz".
    dotted = stem.replace("-idx", ".idx")
    candidates = [stem, stem + ".gz", dotted, dotted + ".gz"]
    for candidate in candidates:
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(
        f"load_mnist: none of {candidates} is in {directory}. Put the four MNIST IDX files "
        f"({', '.join(_FILES.values())}, gzipped or not) in that directory."
    )


def _check_values(part: str, images: np.ndarray, labels: np.ndarray) -> None:
    """Pixels are bytes (0..255, scaled to [0, 1] below) and labels are digits 0..9."""
    if images.dtype != np.uint8:
        raise ValueError(
            f"load_mnist: the {part} images are {images.dtype}; MNIST pixels are unsigned bytes "
            "(IDX type 0x08). The file is damaged or not MNIST."
        )
    if labels.dtype.kind not in "iu" or (labels.size and not 0 <= labels.min() <= labels.max() <= 9):
        found = f"values {labels.min()}..{labels.max()}" if labels.dtype.kind in "iu" else labels.dtype
        raise ValueError(
            f"load_mnist: the {part} labels hold {found}; MNIST labels are the digits 0..9. "
            "The file is damaged or not MNIST."
        )


def load_mnist(directory):
    """MNIST as ``((x_train, y_train), (x_test, y_test))`` from IDX files in ``directory``.

    Returns:
      Images as float32 in ``[0, 1]`` of shape ``(n, rows, cols)``, labels as int64.

    Example:
      >>> load_mnist("no-such-directory")  # doctest: +ELLIPSIS
      Traceback (most recent call last):
        ...
      FileNotFoundError: load_mnist: none of [...] is in no-such-directory. ...
    """
    directory = os.fspath(directory)
    arrays = {key: read_idx(_find(directory, stem)) for key, stem in _FILES.items()}
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"load_mnist: the {part} images have shape {images.shape} and the labels shape "
                f"{labels.shape}; expected (n, rows, cols) images and n labels."
            )
        _check_values(part, images, labels)
    return tuple(
        (
            (arrays[f"{part}_images"].astype(np.float32) / np.float32(255.0)).astype(np.float32),
            arrays[f"{part}_labels"].astype(np.int64),
        )
        for part in ("train", "test")
    )
