"""``x[index]`` as NumPy indexes: an index read into one ``gather`` primitive.

NumPy's index forms (ints, slices, ``None``, ``...``, integer arrays and concrete boolean
masks) are normalised to a tuple of indexer entries plus the integer-array operands, so
the primitive sees one regular description whatever the user wrote.

Example:
    >>> import numpy as np
    >>> getitem(np.arange(6.0).reshape(2, 3), (1, slice(None, None, -1)))
    array([5., 4., 3.])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._creation import asarray
from minigrad.numpy._promotion import dtype_of, to_array
from minigrad.ops import index as ix
from minigrad.ops import shape as sh

__all__ = ["getitem"]


class _ScalarMask:
    """A 0-d boolean index: NumPy gives ``x`` a new length-1 axis there and keeps that
    axis's single entry if the boolean is True, none if it is False."""

    def __init__(self, keep: bool):
        self.keep = keep


def _as_index_item(item):
    """NumPy's reading of one index item: lists are arrays (an empty one of integers)
    and boolean scalars are 0-d masks."""
    if isinstance(item, list):
        array = asarray(item)  # a list of traced integers stacks into one traced array
        return array if array.size else array.astype(np.intp)
    if isinstance(item, (bool, np.bool_)):
        return _ScalarMask(bool(item))
    if isinstance(item, np.ndarray) and item.dtype == np.bool_ and item.ndim == 0:
        return _ScalarMask(bool(item))
    return item


def _normalize_index(x, index):
    """Turn a NumPy index into (the array to gather from, indexer entries, integer-array
    operands). The array gains an axis for each 0-d boolean in the index."""
    if not isinstance(index, tuple):
        index = (index,)
    arrays: list = []
    entries: list = []
    consumed = 0
    expanded: list = []
    for item in map(_as_index_item, index):
        if isinstance(item, (np.ndarray, Tracer)) and dtype_of(item) == np.bool_:
            if isinstance(item, Tracer):
                raise TypeError(
                    "index: a boolean mask whose value is not known (under jit, vmap or "
                    "make_jaxpr) would give a result of unknown shape. Use mnp.where(mask, x, 0) "
                    "instead, or compute the mask outside the transform."
                )
            expanded.extend(np.nonzero(item))
            consumed += item.ndim
        else:
            expanded.append(item)
            if item is not None and item is not Ellipsis:
                consumed += 1
    masks = sum(isinstance(item, _ScalarMask) for item in expanded)
    ndim = x.ndim + masks
    ellipses = [i for i, item in enumerate(expanded) if item is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("index: an index can only have a single ellipsis ('...').")
    if consumed > ndim:
        raise IndexError(f"index: too many indices ({consumed - masks}) for an array of shape {x.shape}.")
    if ellipses:
        at = ellipses[0]
        expanded[at : at + 1] = [slice(None)] * (ndim - consumed)
    axis = 0
    for item in expanded:
        if item is None:
            entries.append(("newaxis",))
            continue
        if isinstance(item, _ScalarMask):
            x = sh.expand_dims(x, (axis,))
            item = np.arange(1 if item.keep else 0)
        axis += 1
        if isinstance(item, slice):
            bounds = [None if b is None else int(b) for b in (item.start, item.stop, item.step)]
            entries.append(("slice", *bounds))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            entries.append(("int", int(item)))
        else:
            array = to_array(item)
            if dtype_of(array).kind not in "iu":
                raise IndexError(  # NumPy's class for a float index
                    f"index: arrays used as indices must be integers or booleans, got {dtype_of(array)}; "
                    "convert them with .astype(int)."
                )
            entries.append(("array", len(arrays)))
            arrays.append(array)
    return x, tuple(entries), arrays


def getitem(x, index):
    """``x[index]`` for ints, slices (any step), ``None``, ``...`` and integer or
    (concrete) boolean arrays, as NumPy indexes.

    Example:
      >>> getitem(np.arange(6.0).reshape(2, 3), (slice(None), [2, 0]))
      array([[2., 0.],
             [5., 3.]])
    """
    x, indexer, arrays = _normalize_index(to_array(x), index)
    return ix.gather(x, arrays, indexer)
