"""SciPy's ``lu_factor`` and ``lu_solve`` in Array API standard calls, for libraries without an LU.

The standard's ``linalg`` has no LU factorization. These are LAPACK's unblocked
algorithms (``getf2``, ``getrs``) written out: a Python loop over the columns, run once
when the program is written, each step vectorised over a stack of matrices. Column
``j`` picks the row of its largest magnitude on or below the diagonal (the first such,
as LAPACK's ``idamax``), swaps it up by ``where`` on row masks, stores the multipliers
below the diagonal and updates the trailing block; a zero column is left as LAPACK
leaves it. Solving applies the row order as a one-hot product and substitutes forward
and backward row by row (the standard has no triangular solver, and Dask's ``solve``
takes single matrices, so substitution serves stacks on every library). The pivots are
SciPy's (0-based, int32); the values agree with SciPy's to the rounding of the
different summation order.

Example:
    >>> import numpy as np
    >>> lu, piv = lu_factor_standard(np, None, np.array([[1.0, 2.0], [3.0, 4.0]]))
    >>> lu, piv
    (array([[3.        , 4.        ],
           [0.33333333, 0.66666667]]), array([1, 1], dtype=int32))
"""

from __future__ import annotations

__all__ = ["lu_factor_standard", "lu_solve_standard"]


def lu_factor_standard(xp, device, a):
    """``(lu, piv)`` of the square matrices ``a`` (``(..., n, n)``) by partial pivoting.

    Example:
      >>> import numpy as np
      >>> lu_factor_standard(np, None, np.array([[0.0, 1.0], [2.0, 0.0]]))[1]
      array([1, 1], dtype=int32)
    """
    n = a.shape[-1]
    rows = xp.reshape(xp.arange(n, device=device), (n, 1))
    columns = xp.reshape(xp.arange(n, device=device), (1, n))
    lu = a
    pivots = []
    for j in range(n):
        below = xp.abs(lu[..., j:, j])
        pivot = xp.argmax(below, axis=-1, keepdims=True) + j  # the first largest, as idamax
        pivots.append(pivot)
        # Swap rows j and pivot: read the pivot row by a masked sum, then place both.
        is_pivot_row = rows == pivot[..., None]
        pivot_row = xp.sum(xp.where(is_pivot_row, lu, 0.0), axis=-2, keepdims=True)
        row_j = lu[..., j : j + 1, :]
        lu = xp.where(rows == j, pivot_row, xp.where(is_pivot_row, row_j, lu))
        # Multipliers below the diagonal; a zero pivot means a zero column, left as is.
        diagonal = lu[..., j : j + 1, j : j + 1]
        multipliers = lu[..., :, j : j + 1] / xp.where(diagonal == 0.0, 1.0, diagonal)
        is_below = rows > j
        update = lu - multipliers * lu[..., j : j + 1, :]
        lu = xp.where(is_below & (columns > j), update, xp.where(is_below & (columns == j), multipliers, lu))
    piv = xp.astype(xp.concat(pivots, axis=-1), xp.int32)
    return lu, piv


def _substitute(xp, triangle, b, *, lower: bool, unit: bool):
    """``triangle⁻¹ b`` row by row (``triangle`` read on and below, or on and above, its
    diagonal; its diagonal taken as ones if ``unit``)."""
    n = triangle.shape[-1]
    order = range(n) if lower else range(n - 1, -1, -1)
    solved: dict = {}
    for i in order:
        known = sorted(solved)
        value = b[..., i : i + 1, :]
        if known:
            start, stop = known[0], known[-1] + 1  # the rows solved so far are contiguous
            done = xp.concat([solved[k] for k in known], axis=-2)
            value = value - xp.matmul(triangle[..., i : i + 1, start:stop], done)
        if not unit:
            value = value / triangle[..., i : i + 1, i : i + 1]
        solved[i] = value
    return xp.concat([solved[i] for i in range(n)], axis=-2)


def lu_solve_standard(xp, device, lu, piv, b, *, transposed: bool):
    """``A⁻¹ b`` (or ``A⁻ᵀ b``) from ``lu_factor``'s ``(lu, piv)``, for ``b`` of shape
    ``(..., n, k)``.

    Example:
      >>> import numpy as np
      >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
      >>> lu, piv = lu_factor_standard(np, None, a)
      >>> lu_solve_standard(np, None, lu, piv, np.array([[5.0], [6.0]]), transposed=False)
      array([[-4. ],
             [ 4.5]])
    """
    n = lu.shape[-1]
    positions = xp.arange(n, dtype=piv.dtype, device=device)
    # The row order: apply the swaps in turn (perm[i] is the row of A that is row i of LU).
    perm = xp.broadcast_to(positions, piv.shape)
    for i in range(n):
        swapped = piv[..., i : i + 1]
        is_swapped = positions == swapped
        at_swapped = xp.sum(xp.where(is_swapped, perm, 0), axis=-1, keepdims=True, dtype=perm.dtype)
        perm = xp.where(positions == i, at_swapped, xp.where(is_swapped, perm[..., i : i + 1], perm))
    # One-hot Q with Q[i, k] = (perm[i] == k): A[perm] = Q A = L U.
    order = xp.astype(perm[..., :, None] == positions, lu.dtype)
    if not transposed:  # L U x = Q b
        y = _substitute(xp, lu, xp.matmul(order, b), lower=True, unit=True)
        return _substitute(xp, lu, y, lower=False, unit=False)
    # Aᵀ = Uᵀ Lᵀ Q: Uᵀ y = b, Lᵀ z = y, x = Qᵀ z.
    lu_t = xp.matrix_transpose(lu)
    y = _substitute(xp, lu_t, b, lower=True, unit=False)
    z = _substitute(xp, lu_t, y, lower=False, unit=True)
    return xp.matmul(xp.matrix_transpose(order), z)
