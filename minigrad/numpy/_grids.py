"""Coordinate grids and index sets: ``meshgrid``, ``indices``, ``ix_``, the index
expressions ``r_`` and ``c_``, the positions of triangles and diagonals, and the
conversion between flat and multi-dimensional indices.

Positions are integers, so they are constants or carry no gradient; ``meshgrid``,
``ix_``, ``r_`` and ``c_`` rearrange (possibly traced) values and are differentiable.

Example:
    >>> import numpy as np
    >>> [g.tolist() for g in meshgrid(np.array([1, 2]), np.array([3, 4, 5]))]
    [[[1, 2], [1, 2], [1, 2]], [[3, 3], [4, 4], [5, 5]]]
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._creation import arange, linspace
from minigrad.numpy._math import clip, less, where
from minigrad.numpy._modular import floor_divide, mod
from minigrad.numpy._promotion import dtype_of, promote, to_array
from minigrad.numpy._shape import concatenate, reshape, transpose
from minigrad.ops import shape as sh

__all__ = [
    "meshgrid", "indices", "ix_", "r_", "c_", "diag_indices", "diag_indices_from", "tril_indices",
    "triu_indices", "tril_indices_from", "triu_indices_from", "mask_indices", "unravel_index",
    "ravel_multi_index",
]  # fmt: skip


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate arrays from 1-D coordinate vectors (``indexing="xy"``: the first two
    axes swapped, as for images; ``"ij"``: matrix order). ``sparse`` keeps length-1 axes.

    Example:
      >>> [g.shape for g in meshgrid(np.zeros(2), np.zeros(3), indexing="ij")]
      [(2, 3), (2, 3)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}.")
    vectors = [reshape(to_array(x), (-1,)) for x in xi]
    ndim = len(vectors)
    shape = [v.shape[0] for v in vectors]
    if indexing == "xy" and ndim > 1:
        shape[0], shape[1] = shape[1], shape[0]
    grids = []
    for i, v in enumerate(vectors):
        axis = {0: 1, 1: 0}.get(i, i) if indexing == "xy" and ndim > 1 else i
        sparse_shape = [1] * ndim
        sparse_shape[axis] = v.shape[0]
        grid = reshape(v, sparse_shape)
        grids.append(grid if sparse else sh.broadcast_to(grid, tuple(shape)))
    return grids


def indices(dimensions, dtype=int, sparse=False):
    """The index of each position of a grid of shape ``dimensions``, one array per axis
    (stacked, or a tuple of broadcastable arrays when ``sparse``).

    Example:
      >>> indices((2, 2)).tolist()
      [[[0, 0], [1, 1]], [[0, 1], [0, 1]]]
    """
    return np.indices(tuple(operator.index(d) for d in dimensions), dtype=dtype, sparse=sparse)


def ix_(*args):
    """Open-mesh index arrays: the ``i``-th 1-D sequence gets shape ``(1, .., n, .., 1)``,
    so that ``x[ix_(rows, cols)]`` selects a cross product. Boolean masks become the
    positions they select (concrete masks only).

    Example:
      >>> x = np.arange(9).reshape(3, 3)
      >>> x[ix_([0, 2], [1])].tolist()
      [[1], [7]]
    """
    out = []
    for i, seq in enumerate(args):
        seq = to_array(seq)
        if seq.ndim != 1:
            raise ValueError(f"ix_: each argument must be 1-D, argument {i} has shape {seq.shape}.")
        if dtype_of(seq) == np.bool_:
            if isinstance(seq, Tracer):
                raise TypeError(
                    "ix_: a traced boolean mask selects an unknown number of positions; pass integers."
                )
            seq = np.flatnonzero(seq)
        elif seq.size == 0:
            seq = np.zeros(0, np.intp)
        shape = [1] * len(args)
        shape[i] = seq.shape[0]
        out.append(reshape(seq, shape))
    return tuple(out)


def _slice_values(item):
    """The values a slice stands for in ``r_``: a range, or ``linspace`` for a complex
    (imaginary) step, which gives the number of points."""
    start = 0 if item.start is None else item.start
    step = 1 if item.step is None else item.step
    if isinstance(step, complex):
        return linspace(start, item.stop, int(abs(step)))
    return arange(start, item.stop, step)


class _IndexExpression:
    """``r_[...]`` and ``c_[...]``: slices, numbers and arrays joined along an axis.

    A leading string ``"axis[,ndmin[,where]]"`` says along which axis to join, the
    least number of dimensions of each piece, and where a piece's own axes go among them
    (``-1``: last).
    """

    def __init__(self, axis, ndmin, trans1d):
        self._defaults = (axis, ndmin, trans1d)

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d = self._defaults
        if items and isinstance(items[0], str):
            axis, ndmin, trans1d = self._directive(items[0], ndmin, trans1d)
            items = items[1:]
        pieces, scalars = [], []
        for item in items:
            if isinstance(item, str):
                raise ValueError(f"{self}: a directive string may only come first, got {item!r} later.")
            if isinstance(item, slice):
                piece = self._shaped(_slice_values(item), ndmin, trans1d)
            elif np.ndim(item) == 0 and not isinstance(item, (np.ndarray, Tracer)):
                scalars.append(len(pieces))
                piece = item
            else:
                piece = self._shaped(to_array(item), ndmin, trans1d)
            pieces.append(piece)
        if not pieces:
            return np.zeros(0)
        # Numbers promote weakly against the arrays, then become pieces of ndmin axes.
        pieces = promote(repr(self), *pieces) if len(pieces) > 1 else [to_array(pieces[0])]
        pieces = [reshape(p, (1,) * max(ndmin, 1)) if i in scalars else p for i, p in enumerate(pieces)]
        return concatenate(pieces, axis=axis)

    def _directive(self, text, ndmin, trans1d):
        try:
            numbers = [int(part) for part in text.split(",")]
        except ValueError:
            raise ValueError(
                f"{self}: the directive {text!r} must be 'axis', 'axis,ndmin' or 'axis,ndmin,where' "
                "(NumPy's matrix directives 'r' and 'c' are not supported)."
            ) from None
        if not 1 <= len(numbers) <= 3:
            raise ValueError(f"{self}: the directive {text!r} has more than three numbers.")
        numbers += [ndmin, trans1d][len(numbers) - 1 :]
        return numbers[0], numbers[1], numbers[2]

    @staticmethod
    def _shaped(piece, ndmin, trans1d):
        ndim = piece.ndim
        if ndim >= ndmin:
            return piece
        piece = reshape(piece, (1,) * (ndmin - ndim) + tuple(piece.shape))
        if trans1d == -1:
            return piece
        # The piece's own axes move to start at position `trans1d` of the ndmin axes.
        new = ndmin - ndim
        start = trans1d if trans1d >= 0 else trans1d + new + 1
        order = list(range(ndmin))
        return transpose(piece, order[:start] + order[new:] + order[start:new])

    def __repr__(self):
        return "c_" if self._defaults == (-1, 2, 0) else "r_"

    def __len__(self):
        return 0


r_ = _IndexExpression(0, 1, -1)
c_ = _IndexExpression(-1, 2, 0)


def diag_indices(n, ndim=2):
    """The indices of the main diagonal of an ``n`` by ... by ``n`` array (``ndim`` axes).

    Example:
      >>> diag_indices(2)
      (array([0, 1]), array([0, 1]))
    """
    return np.diag_indices(operator.index(n), operator.index(ndim))


def diag_indices_from(arr):
    """``diag_indices`` for ``arr``, whose axes must have one length.

    Example:
      >>> diag_indices_from(np.zeros((2, 2)))
      (array([0, 1]), array([0, 1]))
    """
    shape = np.shape(arr) if not isinstance(arr, Tracer) else arr.shape
    if len(shape) < 2 or len(set(shape)) != 1:
        raise ValueError(
            f"diag_indices_from: needs an array of at least 2 equal axes, got shape {tuple(shape)}."
        )
    return np.diag_indices(shape[0], len(shape))


def tril_indices(n, k=0, m=None):
    """The row and column indices of the lower triangle (diagonal ``k`` and below).

    Example:
      >>> tril_indices(2)
      (array([0, 1, 1]), array([0, 0, 1]))
    """
    return np.tril_indices(operator.index(n), operator.index(k), m)


def triu_indices(n, k=0, m=None):
    """The row and column indices of the upper triangle (diagonal ``k`` and above).

    Example:
      >>> triu_indices(2)
      (array([0, 0, 1]), array([0, 1, 1]))
    """
    return np.triu_indices(operator.index(n), operator.index(k), m)


def _matrix_shape(name, arr):
    shape = tuple(np.shape(arr) if not isinstance(arr, Tracer) else arr.shape)
    if len(shape) != 2:
        raise ValueError(f"{name}: needs a 2-D array, got shape {shape}.")
    return shape


def tril_indices_from(arr, k=0):
    """``tril_indices`` for the shape of the 2-D ``arr``.

    Example:
      >>> tril_indices_from(np.zeros((2, 3)), k=1)
      (array([0, 0, 1, 1, 1]), array([0, 1, 0, 1, 2]))
    """
    rows, cols = _matrix_shape("tril_indices_from", arr)
    return np.tril_indices(rows, operator.index(k), cols)


def triu_indices_from(arr, k=0):
    """``triu_indices`` for the shape of the 2-D ``arr``.

    Example:
      >>> triu_indices_from(np.zeros((2, 2)), k=1)
      (array([0]), array([1]))
    """
    rows, cols = _matrix_shape("triu_indices_from", arr)
    return np.triu_indices(rows, operator.index(k), cols)


def mask_indices(n, mask_func, k=0):
    """The indices where ``mask_func(ones((n, n)), k)`` is non-zero (``mask_func`` is a
    function such as ``mnp.triu``).

    Example:
      >>> import minigrad.numpy as mnp
      >>> mask_indices(2, mnp.triu)
      (array([0, 0, 1]), array([0, 1, 1]))
    """
    mask = np.asarray(mask_func(np.ones((operator.index(n),) * 2, int), k))
    return np.nonzero(mask != 0)


def _index_dtype(name, x):
    if dtype_of(x).kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got {dtype_of(x)}.")


def unravel_index(indices, shape):
    """The multi-dimensional index of each flat index into an array of ``shape``.
    Traced indices are clipped into range (as JAX does); concrete ones out of range
    raise as in NumPy.

    Example:
      >>> unravel_index(np.array([1, 5]), (2, 3))
      (array([0, 1]), array([1, 2]))
    """
    shape = tuple(operator.index(d) for d in shape)
    if not isinstance(indices, Tracer):
        return np.unravel_index(indices, shape)
    _index_dtype("unravel_index", indices)
    size = int(np.prod(shape))
    flat = clip(indices, -size, size - 1)
    flat = where(less(flat, 0), flat + size, flat)
    strides = np.cumprod((1,) + shape[:0:-1])[::-1]
    return tuple(
        mod(floor_divide(flat, int(stride)), size) for stride, size in zip(strides, shape, strict=True)
    )


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """The flat index of each multi-dimensional index into an array of shape ``dims``
    (row-major, or column-major with ``order="F"``). ``mode`` ("raise", "wrap", "clip",
    or one per axis) treats indices out of range as NumPy's; traced indices cannot
    raise, so "raise" clips them, as JAX does.

    Example:
      >>> ravel_multi_index((np.array([0, 1]), np.array([1, 2])), (2, 3))
      array([1, 5])
    """
    dims = tuple(operator.index(d) for d in dims)
    if len(multi_index) != len(dims):
        raise ValueError(
            f"ravel_multi_index: {len(multi_index)} index arrays for {len(dims)} dimensions {dims}."
        )
    if not any(isinstance(i, Tracer) for i in multi_index):
        return np.ravel_multi_index(tuple(np.asarray(i) for i in multi_index), dims, mode, order)
    if order not in ("C", "F"):
        raise ValueError(f"ravel_multi_index: order must be 'C' or 'F', got {order!r}.")
    modes = (mode,) * len(dims) if isinstance(mode, str) else tuple(mode)
    strides = np.cumprod((1,) + dims[:0:-1])[::-1] if order == "C" else np.cumprod((1,) + dims[:-1])
    total = 0
    for index, size, stride, how in zip(multi_index, dims, strides, modes, strict=True):
        index = to_array(index)
        _index_dtype("ravel_multi_index", index)
        index = mod(index, size) if how == "wrap" else clip(index, 0, size - 1)
        total = index * int(stride) + total
    return total
