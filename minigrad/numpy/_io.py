"""Arrays from and to the outside world: Python callables and iterables, bytes and text,
``.npy``/``.npz`` files, DLPack, and printing.

These make or show concrete arrays, so they are NumPy's own functions behind minigrad's
argument checks; a traced array is shown by its ``repr`` and cannot be saved, since its
value may not be known.

Example:
    >>> import numpy as np
    >>> fromfunction(lambda i, j: i + 2 * j, (2, 2))
    array([[0., 2.],
           [1., 3.]])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._promotion import to_array

__all__ = [
    "fromfunction", "fromiter", "frombuffer", "fromstring", "fromfile", "from_dlpack", "load", "save",
    "savez", "array_repr", "array_str", "get_printoptions", "set_printoptions", "printoptions",
]  # fmt: skip


def fromfunction(function, shape, *, dtype=float, **kwargs):
    """``function`` called once with one array of coordinates per axis of ``shape`` (as
    NumPy calls it), so it must work on whole arrays.

    Example:
      >>> fromfunction(lambda i: i ** 2, (3,), dtype=int)
      array([0, 1, 4])
    """
    coordinates = np.indices(tuple(int(d) for d in shape), dtype=dtype)
    return function(*coordinates, **kwargs)


def fromiter(iterable, dtype, count=-1, *, like=None):
    """A 1-D array of the items of ``iterable`` (the first ``count`` when given).

    Example:
      >>> fromiter((i * i for i in range(3)), dtype=float)
      array([0., 1., 4.])
    """
    return np.fromiter(iterable, dtype, count)


def frombuffer(buffer, dtype=float, count=-1, offset=0, *, like=None):
    """A 1-D array of the bytes of ``buffer`` read as ``dtype`` (a copy: it does not
    share the buffer's memory, so later changes to the buffer do not show).

    Example:
      >>> frombuffer(b"\\x01\\x02", dtype=np.uint8)
      array([1, 2], dtype=uint8)
    """
    return np.frombuffer(buffer, dtype, count, offset).copy()


def fromstring(string, dtype=float, count=-1, *, sep, like=None):
    """A 1-D array of the numbers in ``string`` separated by ``sep`` (text only; NumPy's
    binary mode is deprecated there: use ``frombuffer``).

    Example:
      >>> fromstring("1 2 3", dtype=int, sep=" ")
      array([1, 2, 3])
    """
    if not sep:
        raise ValueError("fromstring: pass a separator such as sep=' '; for bytes use mnp.frombuffer.")
    return np.fromstring(string, dtype, count, sep=sep)


def fromfile(file, dtype=float, count=-1, sep="", offset=0, *, like=None):
    """An array of the data of a file (raw bytes, or text numbers with ``sep``), as NumPy.

    Example:
      >>> import os, tempfile
      >>> with tempfile.TemporaryDirectory() as folder:
      ...     path = os.path.join(folder, "values.bin")
      ...     np.arange(3.0).tofile(path)
      ...     fromfile(path)
      array([0., 1., 2.])
    """
    return np.fromfile(file, dtype, count, sep, offset)


def from_dlpack(x, /, *, device=None, copy=None):
    """An array sharing the data of a DLPack-capable object (a CPU array of another library).

    Example:
      >>> from_dlpack(np.arange(2.0))
      array([0., 1.])
    """
    if device not in (None, "cpu"):
        raise ValueError(f"from_dlpack: minigrad arrays live on the CPU, got device={device!r}.")
    return np.from_dlpack(x, copy=copy)


def _known(name, x):
    if isinstance(x, Tracer):
        raise TypeError(
            f"{name}: a traced array's value may not be known inside a transform; save the "
            "transform's result instead (or use mg.debug.callback inside it)."
        )
    return x


def load(file, *args, **kwargs):
    """Arrays from a ``.npy`` or ``.npz`` file, as ``np.load`` (never unpickling objects
    unless ``allow_pickle=True`` is passed).

    Example:
      >>> import io
      >>> buffer = io.BytesIO(); np.save(buffer, np.arange(2)); _ = buffer.seek(0)
      >>> load(buffer)
      array([0, 1])
    """
    return np.load(file, *args, **kwargs)


def save(file, arr, allow_pickle=True, fix_imports=np._NoValue):
    """``arr`` to a ``.npy`` file, as ``np.save``.

    Example:
      >>> import io
      >>> buffer = io.BytesIO(); save(buffer, np.ones(2)); _ = buffer.seek(0)
      >>> load(buffer)
      array([1., 1.])
    """
    np.save(file, to_array(_known("save", arr)), allow_pickle=allow_pickle)


def savez(file, *args, **kwds):
    """Several arrays to one uncompressed ``.npz`` file, as ``np.savez``.

    Example:
      >>> import io
      >>> buffer = io.BytesIO(); savez(buffer, w=np.ones(2)); _ = buffer.seek(0)
      >>> load(buffer)["w"]
      array([1., 1.])
    """
    np.savez(
        file,
        *(to_array(_known("savez", a)) for a in args),
        **{k: to_array(_known("savez", v)) for k, v in kwds.items()},
    )


def array_repr(arr, max_line_width=None, precision=None, suppress_small=None):
    """The ``repr`` of an array, as NumPy; a traced array shows its ``repr``.

    Example:
      >>> array_repr(np.array([1.0, 2.0]))
      'array([1., 2.])'
    """
    if isinstance(arr, Tracer):
        return repr(arr)
    return np.array_repr(np.asarray(arr), max_line_width, precision, suppress_small)


def array_str(a, max_line_width=None, precision=None, suppress_small=None):
    """The ``str`` of an array, as NumPy; a traced array shows its ``str``.

    Example:
      >>> array_str(np.array([1.0, 2.0]))
      '[1. 2.]'
    """
    if isinstance(a, Tracer):
        return str(a)
    return np.array_str(np.asarray(a), max_line_width, precision, suppress_small)


# minigrad's arrays are NumPy arrays, so NumPy's print options are theirs.
get_printoptions = np.get_printoptions
set_printoptions = np.set_printoptions
printoptions = np.printoptions
