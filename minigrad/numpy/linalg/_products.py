"""NumPy 2's array-API products in ``numpy.linalg``: ``matmul vecdot matrix_transpose
outer trace diagonal tensordot cross``.

They act on the last axes (``diagonal`` and ``trace`` on the last two, ``vecdot`` and
``cross`` on ``axis``), unlike the main namespace's ``diagonal``/``trace``, which take
the first two. All are made of differentiable operations (products, sums, indexing).

Example:
    >>> import numpy as np
    >>> trace(np.arange(8.0).reshape(2, 2, 2))
    array([ 3., 11.])
"""

from __future__ import annotations

import numpy as np

from minigrad.numpy import _linalg
from minigrad.numpy._indexing import getitem
from minigrad.numpy._math import multiply, subtract
from minigrad.numpy._promotion import normalize_axis, promote, to_array
from minigrad.numpy._reductions import sum as reduce_sum
from minigrad.numpy._shape import moveaxis, stack, swapaxes

__all__ = ["matmul", "vecdot", "matrix_transpose", "outer", "trace", "diagonal", "tensordot", "cross"]


def matmul(x1, x2, /):
    """The matrix product (``minigrad.numpy.matmul``).

    Example:
      >>> import numpy as np
      >>> matmul(np.eye(2), np.array([1.0, 2.0]))
      array([1., 2.])
    """
    return _linalg.matmul(x1, x2)


def tensordot(x1, x2, /, *, axes=2):
    """Sums of products over ``axes`` (``minigrad.numpy.tensordot``).

    Example:
      >>> import numpy as np
      >>> tensordot(np.ones((2, 3)), np.ones(3), axes=1)
      array([3., 3.])
    """
    return _linalg.tensordot(x1, x2, axes=axes)


def vecdot(x1, x2, /, *, axis=-1):
    """The dot product of vectors along ``axis``, other axes broadcast.

    Example:
      >>> import numpy as np
      >>> vecdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
      array([3., 7.])
    """
    x1, x2 = promote("vecdot", to_array(x1), to_array(x2))
    if x1.ndim == 0 or x2.ndim == 0 or x1.shape[axis] != x2.shape[axis]:
        raise ValueError(
            f"vecdot: shapes {x1.shape} and {x2.shape} must have the same size along axis {axis}."
        )
    return reduce_sum(multiply(x1, x2), axis=axis)


def matrix_transpose(x, /):
    """Swap the last two axes.

    Example:
      >>> import numpy as np
      >>> matrix_transpose(np.zeros((4, 2, 3))).shape
      (4, 3, 2)
    """
    x = to_array(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: expected at least 2 dimensions, got shape {x.shape}.")
    return swapaxes(x, -1, -2)


def outer(x1, x2, /):
    """The outer product of two vectors (1-D only, as NumPy 2's ``linalg.outer``).

    Example:
      >>> import numpy as np
      >>> outer(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
      array([[3., 4.],
             [6., 8.]])
    """
    x1, x2 = to_array(x1), to_array(x2)
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(f"outer: expected two 1-D arrays, got shapes {x1.shape} and {x2.shape}.")
    return _linalg.outer(x1, x2)


def diagonal(x, /, *, offset=0):
    """The diagonals of the last two axes (``offset`` > 0: above the main diagonal).

    Example:
      >>> import numpy as np
      >>> diagonal(np.arange(6.0).reshape(2, 3), offset=1)
      array([1., 5.])
    """
    x = to_array(x)
    if x.ndim < 2:
        raise ValueError(f"diagonal: expected at least 2 dimensions, got shape {x.shape}.")
    rows, columns = x.shape[-2:]
    start_row, start_column = max(-offset, 0), max(offset, 0)
    size = max(min(rows - start_row, columns - start_column), 0)
    square = getitem(
        x, (Ellipsis, slice(start_row, start_row + size), slice(start_column, start_column + size))
    )
    return reduce_sum(multiply(square, np.eye(size, dtype=bool)), axis=-1, dtype=x.dtype)


def trace(x, /, *, offset=0, dtype=None):
    """The sums of the diagonals of the last two axes.

    Example:
      >>> import numpy as np
      >>> trace(np.eye(3), offset=1)
      array(0.)
    """
    return reduce_sum(diagonal(x, offset=offset), axis=-1, dtype=dtype)


def cross(x1, x2, /, *, axis=-1):
    """The cross product of 3-vectors along ``axis``; other axes broadcast.

    Example:
      >>> import numpy as np
      >>> cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
      array([0., 0., 1.])
    """
    x1, x2 = promote("cross", to_array(x1), to_array(x2))
    if x1.ndim == 0 or x2.ndim == 0 or x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise ValueError(
            f"cross: both arrays need size 3 along axis {axis}, got shapes {x1.shape} and {x2.shape}."
        )
    a, b = moveaxis(x1, axis, -1), moveaxis(x2, axis, -1)
    component = [(getitem(a, (Ellipsis, i)), getitem(b, (Ellipsis, i))) for i in range(3)]

    def twisted(i, j):
        return subtract(
            multiply(component[i][0], component[j][1]), multiply(component[j][0], component[i][1])
        )

    out = stack([twisted(1, 2), twisted(2, 0), twisted(0, 1)], axis=-1)
    return moveaxis(out, -1, normalize_axis("cross", axis, out.ndim))
