"""Inverses and solutions: ``inv solve lstsq pinv matrix_power multi_dot tensorsolve
tensorinv matrix_rank``.

``inv``, ``solve`` and ``pinv`` bind primitives of ``minigrad.ops.solvers`` with
closed-form derivatives; the others are built from them (``lstsq`` is the pseudo-inverse
solution, negative matrix powers go through ``inv``, ``multi_dot`` multiplies in the
cheapest order). Defaults follow NumPy 2: ``pinv``'s ``rtol`` and ``lstsq``'s ``rcond``
are ``max(m, n)`` times the machine epsilon of the dtype.

Example:
    >>> import numpy as np
    >>> solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 2.0]))
    array([1. , 0.5])
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.numpy._creation import astype
from minigrad.numpy._linalg import matmul
from minigrad.numpy._math import abs as absolute
from minigrad.numpy._math import greater, not_equal
from minigrad.numpy._promotion import promote, to_array
from minigrad.numpy._reductions import max as reduce_max
from minigrad.numpy._reductions import sum as reduce_sum
from minigrad.numpy._shape import reshape, transpose
from minigrad.numpy.linalg._factorizations import svdvals
from minigrad.numpy.linalg._operands import float_operands, require_matrices, require_square
from minigrad.ops import solvers as sol
from minigrad.ops.shape import broadcast_to

__all__ = [
    "inv", "solve", "lstsq", "pinv", "matrix_power", "multi_dot", "tensorsolve",
    "tensorinv", "matrix_rank",
]  # fmt: skip

_NO_VALUE = object()


def inv(a):
    """The inverse of each square matrix in ``a``.

    Its derivative is ``-a⁻¹ da a⁻¹``. NumPy raises ``LinAlgError`` for a singular matrix.

    Args:
      a: a square matrix or a stack of them.

    Returns:
      The inverses, shaped like ``a``.

    Example:
      >>> import numpy as np
      >>> inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
      array([[0.5 , 0.  ],
             [0.  , 0.25]])
    """
    (a,) = float_operands("inv", a)
    require_square("inv", a)
    return sol.inv(a)


def _broadcast_batches(opname, a, b):
    """``a`` and ``b`` (stacks of matrices) with their leading axes broadcast together."""
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"{opname}: the leading (batch) axes of shapes {a.shape} and {b.shape} do not broadcast."
        ) from None
    a = a if a.shape[:-2] == batch else broadcast_to(a, (*batch, *a.shape[-2:]))
    b = b if b.shape[:-2] == batch else broadcast_to(b, (*batch, *b.shape[-2:]))
    return a, b


def solve(a, b):
    """The solution ``x`` of ``a @ x = b``, by an LU factorization (never an inverse).

    As in NumPy 2, ``b`` is a vector only if it is 1-D; otherwise it is a stack of
    ``n × k`` matrices. Leading axes broadcast. The cotangent of ``b`` is one more solve
    with ``aᵀ``; that of ``a`` is ``-b̄ xᵀ``.

    Args:
      a: square matrices, shape ``(..., n, n)``.
      b: shape ``(n,)`` or ``(..., n, k)``.

    Returns:
      ``x``, of ``b``'s shape (with the broadcast leading axes).

    Example:
      >>> import numpy as np
      >>> solve(np.eye(2) * 2.0, np.array([[2.0], [4.0]]))
      array([[1.],
             [2.]])
    """
    a, b = float_operands("solve", a, b)
    require_square("solve", a)
    vector = b.ndim == 1
    if vector:
        b = reshape(b, (b.shape[0], 1))
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(
            f"solve: b of shape {b.shape if not vector else b.shape[:1]} does not fit a of shape {a.shape}: "
            f"expected shape ({a.shape[-1]},) or (..., {a.shape[-1]}, k)."
        )
    a, b = _broadcast_batches("solve", a, b)
    x = sol.solve(a, b)
    return reshape(x, x.shape[:-1]) if vector else x


def _default_rtol(a):
    return max(a.shape[-2:]) * np.finfo(a.dtype).eps


def pinv(a, rcond=None, hermitian=False, *, rtol=_NO_VALUE):
    """The Moore-Penrose pseudo-inverse of a matrix or a stack of them.

    Singular values at or below ``rtol`` (or ``rcond``) times the largest count as
    zero; the default (NumPy 2's) is ``max(m, n)`` times the dtype's epsilon. The
    derivative is Golub and Pereyra's closed form, valid where the rank does not change
    (it needs no distinct singular values). ``hermitian`` is accepted and ignored.

    Args:
      a: a matrix or a stack of matrices.
      rcond: the relative cutoff (NumPy's older name).
      hermitian: ignored (the result is the same).
      rtol: the relative cutoff.

    Returns:
      The pseudo-inverses, of shape ``(..., n, m)``.

    Example:
      >>> import numpy as np
      >>> pinv(np.array([[2.0, 0.0]]))
      array([[0.5],
             [0. ]])
    """
    (a,) = float_operands("pinv", a)
    require_matrices("pinv", a)
    if rcond is not None and rtol is not _NO_VALUE and rtol is not None:
        raise ValueError("pinv: give rcond or rtol, not both.")
    cutoff = rcond if rcond is not None else (None if rtol is _NO_VALUE else rtol)
    if cutoff is None:
        cutoff = _default_rtol(a)
    if np.ndim(cutoff) != 0:
        raise TypeError(f"pinv: the cutoff must be a number, got {cutoff!r}.")
    return sol.pinv(a, float(cutoff))


def lstsq(a, b, rcond=None):
    """The least-squares solution of ``a @ x = b``: ``(x, residuals, rank, s)``.

    ``x`` is the pseudo-inverse solution (singular values below ``rcond`` times the
    largest count as zero; NumPy 2's default ``max(m, n)`` times epsilon), so its
    gradient is ``pinv``'s. ``residuals`` are the squared residual norms per column of
    ``b`` when ``a`` has more rows than columns, and empty otherwise (JAX's rule: NumPy
    also returns them empty when ``a`` is rank deficient). ``rank`` has no gradient.

    Args:
      a: an ``m × n`` matrix.
      b: shape ``(m,)`` or ``(m, k)``.
      rcond: the relative cutoff for small singular values.

    Returns:
      ``(x, residuals, rank, s)`` as NumPy's ``lstsq``.

    Example:
      >>> import numpy as np
      >>> x, residuals, rank, s = lstsq(np.array([[1.0], [1.0]]), np.array([1.0, 3.0]))
      >>> x, residuals, rank
      (array([2.]), array([2.]), array(1))
    """
    a, b = float_operands("lstsq", a, b)
    if a.ndim != 2 or b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise ValueError(
            f"lstsq: expected a matrix a of shape (m, n) and b of shape (m,) or (m, k), got "
            f"shapes {a.shape} and {b.shape}."
        )
    m, n = a.shape
    cutoff = _default_rtol(a) if rcond is None else float(rcond)
    x = matmul(sol.pinv(a, cutoff), b)
    s = svdvals(a)
    rank = reduce_sum(s > cutoff * reduce_max(s, initial=0.0))
    if m > n:
        residuals = reduce_sum(absolute(b - matmul(a, x)) ** 2, axis=0)
        residuals = reshape(residuals, (1,)) if b.ndim == 1 else residuals
    else:
        residuals = np.zeros((0,), np.finfo(a.dtype).dtype)  # real, as the norms are
    return x, residuals, rank, s


def matrix_power(a, n):
    """The integer power ``n`` of square matrices: repeated squaring, through ``inv``
    for negative ``n``; ``n = 0`` gives identity matrices (with no gradient).

    Args:
      a: a square matrix or a stack of them.
      n: an integer exponent.

    Returns:
      ``a`` multiplied by itself ``n`` times.

    Example:
      >>> import numpy as np
      >>> matrix_power(np.array([[1.0, 1.0], [0.0, 1.0]]), 3)
      array([[1., 3.],
             [0., 1.]])
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power: the exponent must be an integer, got {n!r}.")
    (a,) = float_operands("matrix_power", a) if n < 0 else promote("matrix_power", to_array(a))
    require_square("matrix_power", a)
    if n == 0:
        return np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape).copy()
    base, n = (sol.inv(a), -int(n)) if n < 0 else (a, int(n))
    result = None
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def _chain_order(dims):
    """The cheapest parenthesization of a chain of matrices with sizes ``dims``:
    ``split[i][j]``, where the product of matrices ``i..j`` is split."""
    count = len(dims) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                total = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if total < cost[i][j]:
                    cost[i][j], split[i][j] = total, k
    return split


def _multiply_chain(arrays, split, i, j):
    if i == j:
        return arrays[i]
    k = split[i][j]
    return matmul(_multiply_chain(arrays, split, i, k), _multiply_chain(arrays, split, k + 1, j))


def multi_dot(arrays, *, out=None):
    """The product of two or more matrices, in the order with the fewest operations.

    The first array may be a 1-D row vector and the last a 1-D column vector; the
    others are 2-D, as in NumPy.

    Args:
      arrays: a sequence of arrays.
      out: must be None (minigrad's arrays are immutable).

    Returns:
      The product.

    Example:
      >>> import numpy as np
      >>> multi_dot([np.ones(3), np.ones((3, 2)), np.ones(2)])
      array(6.)
    """
    if out is not None:
        raise TypeError("multi_dot: out= is not supported, since minigrad's arrays are immutable.")
    if len(arrays) < 2:
        raise ValueError(f"multi_dot: expected at least two arrays, got {len(arrays)}.")
    arrays = list(promote("multi_dot", *(to_array(x) for x in arrays)))
    first_vector, last_vector = arrays[0].ndim == 1, arrays[-1].ndim == 1
    if first_vector:
        arrays[0] = reshape(arrays[0], (1, arrays[0].shape[0]))
    if last_vector:
        arrays[-1] = reshape(arrays[-1], (arrays[-1].shape[0], 1))
    if any(x.ndim != 2 for x in arrays):
        raise ValueError(
            f"multi_dot: expected 2-D arrays (1-D allowed first and last), got shapes {[x.shape for x in arrays]}."
        )
    for left, right in zip(arrays, arrays[1:]):
        if left.shape[1] != right.shape[0]:
            raise ValueError(f"multi_dot: shapes {[x.shape for x in arrays]} do not align.")
    split = _chain_order([arrays[0].shape[0], *(x.shape[1] for x in arrays)])
    result = _multiply_chain(arrays, split, 0, len(arrays) - 1)
    keep = (() if first_vector else result.shape[:1]) + (() if last_vector else result.shape[1:])
    return reshape(result, keep)


def tensorsolve(a, b, axes=None):
    """The ``x`` with ``tensordot(a, x, axes=x.ndim) = b``, as NumPy's ``tensorsolve``.

    Args:
      a: shape ``b.shape + Q`` with ``prod(Q) = b.size`` (after moving ``axes`` last).
      b: the right-hand side.
      axes: axes of ``a`` to move to the end first.

    Returns:
      ``x``, of shape ``Q``.

    Example:
      >>> import numpy as np
      >>> tensorsolve(np.eye(4).reshape(2, 2, 2, 2) * 2.0, np.ones((2, 2)))
      array([[0.5, 0.5],
             [0.5, 0.5]])
    """
    a, b = float_operands("tensorsolve", a, b)
    if axes is not None:
        order = [k for k in range(a.ndim) if k not in [axis % a.ndim for axis in axes]]
        for axis in axes:
            order.append(axis % a.ndim)
        a = transpose(a, order)
    solution_shape = a.shape[b.ndim :]
    size = math.prod(solution_shape)
    if math.prod(a.shape[: b.ndim]) != size:
        raise ValueError(
            f"tensorsolve: a of shape {a.shape} and b of shape {b.shape} do not fit: a's shape must "
            "be b's shape followed by a shape of the same size."
        )
    x = sol.solve(reshape(a, (size, size)), reshape(b, (size, 1)))
    return reshape(x, solution_shape)


def tensorinv(a, ind=2):
    """The inverse of ``a`` as a map from its last axes to its first ``ind`` axes.

    Args:
      a: an array with ``prod(a.shape[:ind]) == prod(a.shape[ind:])``.
      ind: how many leading axes form the output index.

    Returns:
      An array of shape ``a.shape[ind:] + a.shape[:ind]``.

    Example:
      >>> import numpy as np
      >>> tensorinv(np.eye(4).reshape(4, 2, 2) * 2.0, ind=1).shape
      (2, 2, 4)
    """
    if not isinstance(ind, (int, np.integer)) or ind <= 0:
        raise ValueError(f"tensorinv: ind must be a positive integer, got {ind!r}.")
    (a,) = float_operands("tensorinv", a)
    rows, columns = math.prod(a.shape[:ind]), math.prod(a.shape[ind:])
    if rows != columns:
        raise ValueError(
            f"tensorinv: the first {ind} axes of shape {a.shape} must have as many elements as the rest."
        )
    return reshape(sol.inv(reshape(a, (rows, columns))), (*a.shape[ind:], *a.shape[:ind]))


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):  # noqa: N803 - NumPy's name
    """The number of singular values above a tolerance (no gradient: an integer).

    The default tolerance is NumPy 2's: ``max(m, n)`` times epsilon times the largest
    singular value. A 1-D array has rank 1 unless it is all zeros.

    Args:
      A: a matrix or a stack of them.
      tol: an absolute tolerance.
      hermitian: ignored (the result is the same).
      rtol: a relative tolerance.

    Returns:
      The ranks, of shape ``A.shape[:-2]``.

    Example:
      >>> import numpy as np
      >>> matrix_rank(np.array([[1.0, 2.0], [2.0, 4.0]]))
      array(1)
    """
    (a,) = float_operands("matrix_rank", A)
    if a.ndim < 2:
        return astype(greater(reduce_sum(not_equal(a, 0)), 0), np.int64)
    s = svdvals(a)
    if tol is None:
        relative = _default_rtol(a) if rtol is None else to_array(rtol)[..., None]
        threshold = reduce_max(s, axis=-1, keepdims=True, initial=0.0) * relative
    else:
        threshold = to_array(tol)[..., None]
    return reduce_sum(s > threshold, axis=-1)
