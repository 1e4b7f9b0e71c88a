"""Matrix structure: diagonals, triangles, ``trace``, ``kron``, ``vander``, ``cross``.

Diagonals are gathers (and ``diag`` of a vector the matching scatter), triangles are
``where`` with a constant mask, and products are broadcasts and multiplications, so
every derivative comes from existing rules. ``vander`` takes powers by running
products, so its gradient is right at zero too.

Example:
    >>> import numpy as np
    >>> trace(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array(5.)
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.numpy._cumulative import cumprod
from minigrad.numpy._indexing import getitem
from minigrad.numpy._promotion import dtype_of, normalize_axis, promote, to_array
from minigrad.numpy._reductions import sum as _sum
from minigrad.numpy._shape import flip, moveaxis, ravel
from minigrad.ops import elementwise as ew
from minigrad.ops import index as ix
from minigrad.ops import shape as sh

__all__ = ["diagonal", "trace", "diag", "diagflat", "tri", "tril", "triu", "kron", "vander", "cross"]


def _diagonal_positions(n_rows, n_cols, offset):
    """Row and column positions of diagonal ``offset`` of an ``n_rows`` x ``n_cols`` matrix."""
    start_row, start_col = max(0, -offset), max(0, offset)
    length = max(0, min(n_rows - start_row, n_cols - start_col))
    return np.arange(length) + start_row, np.arange(length) + start_col


def diagonal(a, offset=0, axis1=0, axis2=1):
    """Diagonal ``offset`` of the matrices on ``axis1`` and ``axis2``, as a last axis.

    Example:
      >>> diagonal(np.arange(6.0).reshape(2, 3), offset=1)
      array([1., 5.])
    """
    a = to_array(a)
    if a.ndim < 2:
        raise ValueError(f"diagonal: needs an array of at least two dimensions, got shape {a.shape}.")
    axis1, axis2 = normalize_axis("diagonal", axis1, a.ndim), normalize_axis("diagonal", axis2, a.ndim)
    if axis1 == axis2:
        raise ValueError(f"diagonal: axis1 and axis2 must differ, got {axis1} twice.")
    rest = [i for i in range(a.ndim) if i not in (axis1, axis2)]
    moved = sh.transpose(a, (*rest, axis1, axis2))
    rows, cols = _diagonal_positions(a.shape[axis1], a.shape[axis2], operator.index(offset))
    return getitem(moved, (Ellipsis, rows, cols))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """The sum along diagonal ``offset`` (NumPy's dtypes: small integers sum as int64).

    Example:
      >>> trace(np.ones((2, 3, 3)), axis1=1, axis2=2)
      array([3., 3.])
    """
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype, out=out)


def diag(v, k=0):
    """The diagonal ``k`` of a matrix, or a square matrix with the vector ``v`` on it.

    Example:
      >>> diag(np.array([1.0, 2.0]), k=1)
      array([[0., 1., 0.],
             [0., 0., 2.],
             [0., 0., 0.]])
    """
    v = to_array(v)
    k = operator.index(k)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag: needs a 1-D or 2-D array, got shape {v.shape}.")
    n = v.shape[0] + abs(k)
    rows, cols = _diagonal_positions(n, n, k)
    return ix.scatter_add(v, [rows, cols], (("array", 0), ("array", 1)), (n, n))


def diagflat(v, k=0):
    """A square matrix with the flattened ``v`` on diagonal ``k``.

    Example:
      >>> diagflat(np.array([[1.0, 2.0]]))
      array([[1., 0.],
             [0., 2.]])
    """
    return diag(ravel(v), k)


def tri(N, M=None, k=0, dtype=float, *, like=None):  # noqa: N803 - NumPy's names
    """Ones at and below diagonal ``k``, zeros above.

    Example:
      >>> tri(2, 3, dtype=int)
      array([[1, 0, 0],
             [1, 1, 0]])
    """
    return np.tri(N, M, k, dtype)


def _triangle(name, m, keep):
    m = to_array(m)
    if m.ndim < 2:
        raise ValueError(f"{name}: needs an array of at least two dimensions, got shape {m.shape}.")
    mask = np.broadcast_to(keep(*m.shape[-2:]), m.shape)
    return ew.select(mask, m, np.zeros((), dtype_of(m)))


def tril(m, k=0):
    """The lower triangle (at and below diagonal ``k``) of the last two axes; zeros above.

    Example:
      >>> tril(np.ones((2, 2)))
      array([[1., 0.],
             [1., 1.]])
    """
    return _triangle("tril", m, lambda n, cols: np.tri(n, cols, k, bool))


def triu(m, k=0):
    """The upper triangle (at and above diagonal ``k``) of the last two axes; zeros below.

    Example:
      >>> triu(np.ones((2, 2)))
      array([[1., 1.],
             [0., 1.]])
    """
    return _triangle("triu", m, lambda n, cols: ~np.tri(n, cols, k - 1, bool))


def kron(a, b):
    """The Kronecker product: blocks of ``b`` scaled by each element of ``a``.

    Example:
      >>> kron(np.array([1.0, 2.0]), np.array([1.0, 10.0]))
      array([ 1., 10.,  2., 20.])
    """
    a, b = promote("kron", a, b)
    ndim = max(a.ndim, b.ndim)
    a = sh.reshape(a, (1,) * (ndim - a.ndim) + a.shape)
    b = sh.reshape(b, (1,) * (ndim - b.ndim) + b.shape)
    # Interleave the axes, (a0, 1, a1, 1, ...) times (1, b0, 1, b1, ...), then merge pairs.
    a_wide = sh.reshape(a, [d for size in a.shape for d in (size, 1)])
    b_wide = sh.reshape(b, [d for size in b.shape for d in (1, size)])
    return sh.reshape(ew.mul(a_wide, b_wide), [p * q for p, q in zip(a.shape, b.shape, strict=True)])


def vander(x, N=None, increasing=False):  # noqa: N803 - NumPy's name
    """The Vandermonde matrix: columns are powers of ``x`` (decreasing unless ``increasing``).

    Example:
      >>> vander(np.array([2, 3]), 3)
      array([[4, 2, 1],
             [9, 3, 1]])
    """
    x = to_array(x)
    if x.ndim != 1:
        raise ValueError(f"vander: x must be 1-D, got shape {x.shape}.")
    n = x.shape[0] if N is None else operator.index(N)
    if n == 0:
        return np.zeros((x.shape[0], 0), dtype_of(x))
    repeated = sh.broadcast_to(sh.expand_dims(x, (1,)), (x.shape[0], n - 1))
    powers = cumprod(sh.concatenate([np.ones((x.shape[0], 1), dtype_of(x)), repeated], 1), axis=1)
    return powers if increasing else flip(powers, 1)


def _component(v, i):
    return sh.squeeze(sh.slice_axis(v, v.ndim - 1, i, i + 1), (v.ndim - 1,))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (or the z-component for 2-vectors) along the given
    axes, broadcast over the others.

    Example:
      >>> cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
      array([0., 0., 1.])
    """
    a, b = promote("cross", a, b)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(a, axisa, -1)
    b = moveaxis(b, axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError(
            f"cross: vectors must have 2 or 3 components, got shapes {a.shape} and {b.shape} "
            "(with the vector axis last)."
        )
    shape = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])

    def parts(v):
        comps = [_component(v, i) for i in range(v.shape[-1])]
        return comps + [np.zeros((), dtype_of(v))] * (3 - len(comps))

    (a0, a1, a2), (b0, b1, b2) = parts(a), parts(b)
    z = ew.sub(ew.mul(a0, b1), ew.mul(a1, b0))
    if a.shape[-1] == 2 and b.shape[-1] == 2:
        return sh.broadcast_to(z, shape)
    x = ew.sub(ew.mul(a1, b2), ew.mul(a2, b1))
    y = ew.sub(ew.mul(a2, b0), ew.mul(a0, b2))
    result = sh.concatenate(
        [sh.expand_dims(sh.broadcast_to(c, shape), (len(shape),)) for c in (x, y, z)], len(shape)
    )
    return moveaxis(result, -1, axisc)
