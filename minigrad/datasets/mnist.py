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
import os
import struct

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

_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def read_idx(source, name: str | None = None) -> np.ndarray:
    """Read one IDX array from a path or a binary file object (gzip is detected).

    Raises a ValueError naming the file when it is not IDX or is truncated.

    Example:
      >>> import io, struct
      >>> raw = struct.pack(">BBBBII", 0, 0, 0x08, 2, 1, 2) + bytes([1, 2])
      >>> read_idx(io.BytesIO(raw)).shape
      (1, 2)
    """
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        with open(source, "rb") as file:
            raw = file.read()
    else:
        raw = source.read()
    name = name or "IDX data"
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise ValueError(f"read_idx: {name} is a damaged or truncated gzip file ({error}).") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(
            f"read_idx: {name} is not an IDX file (its magic number is {raw[:4].hex() or 'missing'})."
        )
    dtype, ndim = _IDX_DTYPES[raw[2]], raw[3]
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"read_idx: {name} is truncated inside its header.")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header_size != expected:
        raise ValueError(
            f"read_idx: {name} declares shape {shape} ({expected} bytes of data) but holds "
            f"{len(raw) - header_size} bytes; the file is truncated or damaged."
        )
    data = np.frombuffer(raw, dtype, offset=header_size).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


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
    return tuple(
        (
            (arrays[f"{part}_images"].astype(np.float32) / np.float32(255.0)).astype(np.float32),
            arrays[f"{part}_labels"].astype(np.int64),
        )
        for part in ("train", "test")
    )
