"""Arrays of other libraries: which library and device a jitted call's leaves live on.

``jit`` follows its arguments' array library. A leaf that is neither a NumPy array nor
a Python number but an Array API array (a ``torch.Tensor``, an ``array_api_strict``
array, ...; found with ``array_api_compat.array_namespace``) gets a ``ForeignSignature``
in the cache key: its shape, its dtype as NumPy's (programs stay library-neutral), and
the library's namespace and device, so a call on another library or device compiles a
program of its own, written by ``array_api_writer.py``.

``device_put(tree, like)`` and ``device_get(tree)`` move a pytree's arrays into a
library (and device) and back to NumPy.

``array_api_compat`` is optional (the ``arrayapi`` extra); without it every leaf is a
NumPy array or a number, as before.

Example:
    >>> import numpy as np
    >>> foreign_signature(np.zeros(2)) is None  # NumPy keeps its own path
    True
"""

from __future__ import annotations

import importlib

import attrs
import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.tree import tree_map

__all__ = [
    "ForeignSignature",
    "foreign_signature",
    "library_name",
    "numpy_dtype",
    "library_dtype",
    "device_put",
    "device_get",
    "call_target",
    "leaf_aval",
]

# The dtypes a program may hold, by the name the Array API standard and NumPy share.
_DTYPE_NAMES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128",
)  # fmt: skip


_COMPAT: list = []  # array_api_compat (or None), once imported


def _compat():
    """``array_api_compat``, or None when it is not installed."""
    if not _COMPAT:
        try:
            _COMPAT.append(importlib.import_module("array_api_compat"))
        except ImportError:  # pragma: no cover - the arrayapi extra is absent
            _COMPAT.append(None)
    return _COMPAT[0]


@attrs.frozen
class ForeignSignature:
    """A jitted call's leaf from another array library: what its program depends on."""

    shape: tuple
    dtype: np.dtype
    xp: object = attrs.field(eq=False, hash=False, repr=False)  # the library's namespace
    library: str = ""
    device: object = None

    @property
    def aval(self) -> ShapedArray:
        return ShapedArray(self.shape, self.dtype)

    def describe(self) -> str:
        return f"{ShapedArray(self.shape, self.dtype)} ({self.library}, device {self.device})"


# type(leaf) -> (namespace, library name) or None; looked up once per array type.
_NAMESPACES: dict = {}
# (namespace name, library dtype) -> NumPy dtype
_DTYPES: dict = {}


def library_name(xp) -> str:
    """The short name of an Array API namespace (``torch``, ``array_api_strict``)."""
    name = getattr(xp, "__name__", type(xp).__name__)
    return name.removeprefix("array_api_compat.")


def _namespace_of(leaf):
    kind = type(leaf)
    found = _NAMESPACES.get(kind, False)
    if found is False:
        compat = _compat()
        found = None
        if (
            compat is not None
            and not isinstance(leaf, (np.ndarray, np.generic))
            and compat.is_array_api_obj(leaf)
        ):
            xp = compat.array_namespace(leaf)
            found = (xp, library_name(xp))
        _NAMESPACES[kind] = found
    return found


def numpy_dtype(xp, dtype) -> np.dtype:
    """The NumPy dtype of the library dtype ``dtype`` (programs hold NumPy's dtypes)."""
    key = (library_name(xp), dtype)
    found = _DTYPES.get(key)
    if found is None:
        for name in _DTYPE_NAMES:
            if getattr(xp, name, None) == dtype:
                found = _DTYPES[key] = np.dtype(name)
                break
        else:
            raise TypeError(f"jit: the {library_name(xp)} dtype {dtype} has no NumPy counterpart.")
    return found


def library_dtype(xp, dtype):
    """The library's dtype for the NumPy dtype ``dtype``."""
    found = getattr(xp, np.dtype(dtype).name, None)
    if found is None:
        raise TypeError(f"jit: {library_name(xp)} has no dtype {np.dtype(dtype).name}.")
    return found


def foreign_signature(leaf) -> ForeignSignature | None:
    """The signature of an Array API array of another library than NumPy, else None.

    Example:
      >>> foreign_signature(3.0) is None
      True
    """
    found = _namespace_of(leaf)
    if found is None:
        return None
    xp, library = found
    device = getattr(leaf, "device", None)  # the standard's attribute; Dask arrays lack it
    if device is None:
        device = _compat().device(leaf)
    return ForeignSignature(
        tuple(int(n) for n in leaf.shape), numpy_dtype(xp, leaf.dtype), xp, library, device
    )


def call_target(name: str, signature) -> tuple | None:
    """``(xp, device, scalar_positions)`` for a call with leaves of another library, else None.

    All such leaves must share one library and device, and NumPy arrays may not be
    mixed in (nothing is moved silently); Python numbers may, and are made arrays of
    the library on entry (``scalar_positions``).
    """
    foreign = [s for s in signature if isinstance(s, ForeignSignature)]
    if not foreign:
        return None
    first = foreign[0]
    places = {(s.library, s.device) for s in foreign}
    if len(places) > 1:
        shown = ", ".join(f"{library} on {device}" for library, device in sorted(places, key=str))
        raise TypeError(
            f"jit({name}): the arguments are arrays of different libraries or devices ({shown}); "
            "move them to one with mg.device_put(tree, like)."
        )
    if any(type(s) is tuple for s in signature):
        raise TypeError(
            f"jit({name}): the arguments mix NumPy arrays with {first.library} arrays; move "
            f"them to one library with mg.device_put(tree, like) (jit converts nothing silently)."
        )
    scalars = tuple(i for i, s in enumerate(signature) if isinstance(s, type))
    return first.xp, first.device, scalars


def leaf_aval(leaf, signature, default):
    """The aval a jitted call traces ``leaf`` with: from its signature if it is another
    library's array, else ``default(leaf)``."""
    return signature.aval if isinstance(signature, ForeignSignature) else default(leaf)


def device_put(tree, like):
    """``tree``'s arrays (and numbers) as arrays of the library and device of ``like``.

    Args:
      tree: a pytree of arrays (of any library) and numbers.
      like: an array of the target library (its device is used too), or a namespace
        module (``array_api_strict``, ``torch``), or ``numpy``.

    Example:
      >>> import numpy as np
      >>> device_put({"w": np.ones(2)}, np)["w"]
      array([1., 1.])
    """
    if like is np:
        return device_get(tree)
    compat = _compat()
    if compat is None:
        raise ImportError("device_put needs array_api_compat: pip install 'minigrad[arrayapi]'.")
    if compat.is_array_api_obj(like) and not isinstance(like, np.ndarray):
        xp, device = compat.array_namespace(like), compat.device(like)
    else:
        xp, device = compat.array_namespace(like.asarray(0)), None

    def put(leaf):
        host = device_get(leaf)
        return xp.asarray(host, device=device) if device is not None else xp.asarray(host)

    return tree_map(put, tree)


def device_get(tree):
    """``tree``'s arrays as NumPy arrays (numbers as 0-d arrays), whatever their library.

    Example:
      >>> device_get((1.0, [2, 3]))
      (array(1.), [array(2), array(3)])
    """

    def get(leaf):
        if isinstance(leaf, np.ndarray):
            return leaf
        found = _namespace_of(leaf)
        if found is not None:
            if found[1] == "torch":
                return np.array(leaf.detach().cpu().numpy())  # a copy, as for every other library
            if hasattr(leaf, "compute"):  # a Dask array: computing it is what was asked
                return np.asarray(leaf.compute())
            if found[1] == "cupy":
                return leaf.get()
        return np.asarray(leaf)

    return tree_map(get, tree)
