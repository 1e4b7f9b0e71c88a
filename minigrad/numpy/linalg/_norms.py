"""Norms and condition numbers: ``norm``, ``vector_norm``, ``matrix_norm``, ``cond``.

Every ``ord``, ``axis`` and ``keepdims`` form of NumPy's ``norm``. Derivatives come from
the operations the norms are made of: sums, ``abs`` (whose derivative at 0 is 0), ``max``
and ``min`` (ties share the gradient), and singular values for the spectral and nuclear
norms. The 2-norm and Frobenius norm have gradient 0 at the zero vector, not NaN: the
square root is taken of a sum that is replaced by 1 where it is 0, and the result by 0
there, so neither branch divides by zero (the convention of ``abs'(0) = 0``).

Example:
    >>> import numpy as np
    >>> norm(np.array([3.0, 4.0]))
    array(5.)
"""

from __future__ import annotations

import numpy as np

from minigrad.numpy._creation import astype
from minigrad.numpy._indexing import getitem
from minigrad.numpy._math import abs as absolute
from minigrad.numpy._math import divide, multiply, where
from minigrad.numpy._promotion import normalize_axes, normalize_axis
from minigrad.numpy._reductions import max as reduce_max
from minigrad.numpy._reductions import min as reduce_min
from minigrad.numpy._reductions import sum as reduce_sum
from minigrad.numpy._shape import expand_dims, moveaxis
from minigrad.numpy.linalg._factorizations import svdvals
from minigrad.numpy.linalg._operands import float_operands, require_matrices, require_square
from minigrad.numpy.linalg._solvers import inv
from minigrad.ops import reduce as red

__all__ = ["norm", "vector_norm", "matrix_norm", "cond"]


def _root_of_sum(x, axes, keepdims, power=2):
    """``sum(|x|^power)^(1/power)``, with the value and gradient 0 where the sum is 0."""
    if x.dtype.kind == "c":
        x = absolute(x)  # |x| is real: the sum of squares of moduli
    if power == 2:  # one primitive: NumPy's one pass, not five operations on large arrays
        axes = normalize_axes("norm", axes, x.ndim)
        result = red.root_sum_squares(x, axes)
        return expand_dims(result, axes) if keepdims else result
    total = reduce_sum(absolute(x) ** power, axis=axes, keepdims=keepdims)
    empty = total == 0
    safe = where(empty, 1.0, total)
    return where(empty, 0.0, safe ** (1.0 / power))


def _vector_norm(x, ord, axes, keepdims):  # noqa: A002 - NumPy's name
    if ord is None or ord == 2:
        return _root_of_sum(x, axes, keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors.")
    if ord == np.inf:
        return reduce_max(absolute(x), axis=axes, keepdims=keepdims)
    if ord == -np.inf:
        return reduce_min(absolute(x), axis=axes, keepdims=keepdims)
    if ord == 0:
        return astype(reduce_sum(x != 0, axis=axes, keepdims=keepdims), x.dtype)  # a count: no gradient
    if ord == 1:
        return reduce_sum(absolute(x), axis=axes, keepdims=keepdims)
    return _root_of_sum(x, axes, keepdims, power=float(ord))


def _singular_values_norm(x, reduce, row, column):
    return reduce(svdvals(moveaxis(x, (row, column), (-2, -1))), axis=-1)


def _matrix_norm(x, ord, row, column, keepdims):  # noqa: A002 - NumPy's name
    if row == column:
        raise ValueError(f"norm: the two axes of a matrix norm must differ, got {(row, column)}.")
    if ord is None or ord == "fro":
        result = _root_of_sum(x, (row, column), False)
    elif ord == "nuc":
        result = _singular_values_norm(x, reduce_sum, row, column)
    elif ord in (2, -2):
        result = _singular_values_norm(x, reduce_max if ord == 2 else reduce_min, row, column)
    elif ord in (1, -1, np.inf, -np.inf):
        # 1: the largest column sum of |x| (summed over rows); inf: the largest row sum.
        summed, other = (row, column) if ord in (1, -1) else (column, row)
        sums = reduce_sum(absolute(x), axis=summed)
        reduce = reduce_max if ord in (1, np.inf) else reduce_min
        result = reduce(sums, axis=other - (other > summed))
    else:
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices.")
    return expand_dims(result, sorted((row, column))) if keepdims else result


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's names
    """A vector or matrix norm, as NumPy's ``norm``.

    With ``axis=None`` and ``ord=None``: the 2-norm of all elements. An int axis (or a
    1-tuple) gives vector norms (``ord``: ``None``/2, 1, ``inf``, ``-inf``, 0, any real
    p); a pair of axes gives matrix norms (``None``/``"fro"``, ``"nuc"``, 1, -1, 2, -2,
    ``inf``, ``-inf``); ``axis=None`` with an ``ord`` means the whole 1-D or 2-D array.

    Args:
      x: an array.
      ord: the order of the norm.
      axis: None, an int, or a pair of ints.
      keepdims: keep the reduced axes with size 1.

    Returns:
      The norms.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> norm(np.array([[1.0, -2.0], [3.0, 4.0]]), ord=1), mg.grad(norm)(np.zeros(2))
      (array(6.), array([0., 0.]))
    """
    (x,) = float_operands("norm", x)
    if axis is None:
        if ord is None:
            return _root_of_sum(x, None, keepdims)
        if x.ndim not in (1, 2):
            raise ValueError(
                f"norm: ord={ord!r} with axis=None needs a 1-D or 2-D array, got shape {x.shape}; pass axis."
            )
        axis = tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(axes) == 1:
        return _vector_norm(x, ord, normalize_axes("norm", axes, x.ndim), keepdims)
    if len(axes) == 2:
        row, column = (normalize_axis("norm", a, x.ndim) for a in axes)
        return _matrix_norm(x, ord, row, column, keepdims)
    raise ValueError(f"norm: axis must name one or two axes, got {axis!r}.")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002 - NumPy's names
    """The vector norm over ``axis`` (None: all elements; a tuple: those axes together).

    Args:
      x: an array.
      axis: None, an int or a tuple of ints.
      keepdims: keep the reduced axes with size 1.
      ord: ``2``, 1, ``inf``, ``-inf``, 0 or any real p.

    Returns:
      The norms.

    Example:
      >>> import numpy as np
      >>> vector_norm(np.array([[3.0], [4.0]]))
      array(5.)
    """
    (x,) = float_operands("vector_norm", x)
    return _vector_norm(x, ord, normalize_axes("vector_norm", axis, x.ndim), keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):  # noqa: A002 - NumPy's names
    """The matrix norm over the last two axes.

    Args:
      x: a matrix or a stack of them.
      keepdims: keep the reduced axes with size 1.
      ord: ``"fro"``, ``"nuc"``, 1, -1, 2, -2, ``inf`` or ``-inf``.

    Returns:
      The norms, of shape ``x.shape[:-2]``.

    Example:
      >>> import numpy as np
      >>> matrix_norm(np.diag([3.0, 4.0]), ord="nuc")
      array(7.)
    """
    (x,) = float_operands("matrix_norm", x)
    require_matrices("matrix_norm", x)
    return _matrix_norm(x, ord, x.ndim - 2, x.ndim - 1, keepdims)


def cond(x, p=None):
    """The condition number of matrices in the norm ``p`` (default: the 2-norm, the
    ratio of the largest to the smallest singular value).

    Args:
      x: a matrix or a stack of them (square unless ``p`` is None, 2 or -2).
      p: None, 2, -2, ``"fro"``, ``"nuc"``, 1, -1, ``inf`` or ``-inf``.

    Returns:
      The condition numbers, of shape ``x.shape[:-2]``.

    Example:
      >>> import numpy as np
      >>> cond(np.diag([1.0, 4.0]))
      array(4.)
    """
    (x,) = float_operands("cond", x)
    require_matrices("cond", x)
    if p is None or p in (2, -2):
        s = svdvals(x)
        largest, smallest = getitem(s, (Ellipsis, 0)), getitem(s, (Ellipsis, -1))
        return divide(smallest, largest) if p == -2 else divide(largest, smallest)
    require_square("cond", x)
    row, column = x.ndim - 2, x.ndim - 1
    return multiply(_matrix_norm(x, p, row, column, False), _matrix_norm(inv(x), p, row, column, False))
