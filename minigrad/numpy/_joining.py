"""Joining, splitting and broadcasting arrays together: ``array_split``, ``column_stack``,
``dstack``, ``block``, ``broadcast_arrays``, ``unstack``, ...

Every one is a rearrangement of its operands by slices, reshapes, transposes, broadcasts
and one ``concatenate``, so gradients come from those primitives' rules.

Example:
    >>> import numpy as np
    >>> column_stack([np.array([1, 2]), np.array([3, 4])])
    array([[1, 3],
           [2, 4]])
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.numpy._building import atleast_3d
from minigrad.numpy._promotion import normalize_axis, to_array
from minigrad.numpy._shape import atleast_1d, concatenate, moveaxis, reshape, split, swapaxes, transpose
from minigrad.ops import shape as sh

__all__ = [
    "array_split", "hsplit", "vsplit", "dsplit", "column_stack", "dstack", "block",
    "broadcast_arrays", "broadcast_shapes", "concat", "unstack", "permute_dims",
    "matrix_transpose", "rollaxis",
]  # fmt: skip


def array_split(ary, indices_or_sections, axis=0):
    """Like ``split``, but ``n`` sections need not divide the axis: the first
    ``length % n`` sections are one longer.

    Example:
      >>> [p.tolist() for p in array_split(np.arange(5), 3)]
      [[0, 1], [2, 3], [4]]
    """
    ary = to_array(ary)
    if np.ndim(indices_or_sections) != 0:
        return split(ary, indices_or_sections, axis)
    sections = operator.index(indices_or_sections)
    if sections <= 0:
        raise ValueError(f"array_split: the number of sections must be positive, got {sections}.")
    length = ary.shape[normalize_axis("array_split", axis, ary.ndim)]
    base, longer = divmod(length, sections)
    sizes = [base + 1] * longer + [base] * (sections - longer)
    return split(ary, list(np.cumsum(sizes)[:-1]), axis)


def _split_along(name, ary, indices_or_sections, axis, min_ndim):
    ary = to_array(ary)
    if ary.ndim < min_ndim:
        raise ValueError(f"{name}: needs an array of at least {min_ndim} dimensions, got shape {ary.shape}.")
    return split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    """``split`` along the second axis (the first for 1-D arrays).

    Example:
      >>> [p.shape for p in hsplit(np.zeros((2, 4)), 2)]
      [(2, 2), (2, 2)]
    """
    ary = to_array(ary)
    return _split_along("hsplit", ary, indices_or_sections, 1 if ary.ndim > 1 else 0, 1)


def vsplit(ary, indices_or_sections):
    """``split`` along the first axis of an array of 2 or more dimensions.

    Example:
      >>> [p.shape for p in vsplit(np.zeros((4, 2)), [1])]
      [(1, 2), (3, 2)]
    """
    return _split_along("vsplit", ary, indices_or_sections, 0, 2)


def dsplit(ary, indices_or_sections):
    """``split`` along the third axis of an array of 3 or more dimensions.

    Example:
      >>> [p.shape for p in dsplit(np.zeros((1, 1, 4)), 2)]
      [(1, 1, 2), (1, 1, 2)]
    """
    return _split_along("dsplit", ary, indices_or_sections, 2, 3)


def column_stack(tup):
    """Stack 1-D arrays as the columns of a 2-D array (others are joined along axis 1).

    Example:
      >>> column_stack([np.array([1.0, 2.0]), np.ones((2, 2))])
      array([[1., 1., 1.],
             [2., 1., 1.]])
    """
    columns = [to_array(a) for a in tup]
    columns = [reshape(a, (-1, 1)) if a.ndim < 2 else a for a in columns]
    return concatenate(columns, axis=1)


def dstack(tup):
    """Join arrays along the third axis (1-D and 2-D arrays gain axes first, as in
    ``atleast_3d``).

    Example:
      >>> dstack([np.array([1, 2]), np.array([3, 4])]).shape
      (1, 2, 2)
    """
    arrays = [atleast_3d(a) for a in tup]
    return concatenate(arrays, axis=2)


def _nesting_depth(arrays, where):
    if isinstance(arrays, tuple):
        raise TypeError(f"block: {where} is a tuple; block takes nested lists of arrays.")
    if not isinstance(arrays, list):
        return 0
    if not arrays:
        raise ValueError(f"block: {where} is an empty list.")
    depths = {_nesting_depth(item, f"{where}[{i}]") for i, item in enumerate(arrays)}
    if len(depths) != 1:
        raise ValueError(f"block: the lists in {where} are nested to different depths {sorted(depths)}.")
    return 1 + depths.pop()


def _block(arrays, depth, ndim):
    if depth == 0:
        array = to_array(arrays)
        return reshape(array, (1,) * (ndim - array.ndim) + array.shape)
    # The innermost lists are joined along the last axis, the outermost along axis -depth.
    return concatenate([_block(item, depth - 1, ndim) for item in arrays], axis=-depth)


def _max_ndim(arrays):
    if isinstance(arrays, list):
        return max(_max_ndim(item) for item in arrays)
    return np.ndim(arrays)


def block(arrays):
    """Assemble an array from nested lists of blocks: the innermost lists are joined
    along the last axis, the next ones out along the one before, and so on.

    Example:
      >>> block([[np.eye(2), np.zeros((2, 1))], [np.ones((1, 3))]])
      array([[1., 0., 0.],
             [0., 1., 0.],
             [1., 1., 1.]])
    """
    depth = _nesting_depth(arrays, "arrays")
    return _block(arrays, depth, max(depth, _max_ndim(arrays)))


def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to, as NumPy.

    Example:
      >>> broadcast_shapes((2, 1), (3,))
      (2, 3)
    """
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"broadcast_shapes: shapes {list(shapes)} do not broadcast together.") from None


def broadcast_arrays(*args):
    """The arguments broadcast to their common shape (a list, as JAX returns).

    Example:
      >>> [a.shape for a in broadcast_arrays(np.ones((2, 1)), np.ones(3))]
      [(2, 3), (2, 3)]
    """
    arrays = [to_array(a) for a in args]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        raise ValueError(
            f"broadcast_arrays: shapes {[a.shape for a in arrays]} do not broadcast together."
        ) from None
    return [a if a.shape == shape else sh.broadcast_to(a, shape) for a in arrays]


def concat(arrays, /, *, axis=0):
    """The Array API's name for ``concatenate`` (``axis=None`` joins flattened arrays).

    Example:
      >>> concat([np.array([1.0]), np.array([2.0])])
      array([1., 2.])
    """
    return concatenate(arrays, axis=axis)


def unstack(x, /, *, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple (the inverse of ``stack``).

    Example:
      >>> unstack(np.array([[1, 2], [3, 4]]), axis=1)
      (array([1, 3]), array([2, 4]))
    """
    x = atleast_1d(x)
    axis = normalize_axis("unstack", axis, x.ndim)
    return tuple(sh.squeeze(sh.slice_axis(x, axis, i, i + 1), (axis,)) for i in range(x.shape[axis]))


def permute_dims(a, /, axes):
    """The Array API's name for ``transpose`` with explicit ``axes``.

    Example:
      >>> permute_dims(np.zeros((1, 2, 3)), (2, 0, 1)).shape
      (3, 1, 2)
    """
    return transpose(a, axes)


def matrix_transpose(x, /):
    """Swap the last two axes (a stack of matrices transposed).

    Example:
      >>> matrix_transpose(np.zeros((4, 2, 3))).shape
      (4, 3, 2)
    """
    x = to_array(x)
    if x.ndim < 2:
        raise ValueError(
            f"matrix_transpose: needs at least 2 dimensions, got shape {x.shape}; use .T for 1-D."
        )
    return swapaxes(x, -1, -2)


def rollaxis(a, axis, start=0):
    """Move ``axis`` to sit before position ``start`` (NumPy's older ``moveaxis``).

    Example:
      >>> rollaxis(np.zeros((3, 4, 5)), 2).shape
      (5, 3, 4)
    """
    a = to_array(a)
    axis = normalize_axis("rollaxis", axis, a.ndim)
    start = operator.index(start)
    if not -a.ndim <= start <= a.ndim:
        raise ValueError(f"rollaxis: start={start} is out of range for an array of {a.ndim} dimensions.")
    if start < 0:
        start += a.ndim
    if axis < start:
        start -= 1  # removing `axis` shifts the later positions down by one
    return moveaxis(a, axis, start)
