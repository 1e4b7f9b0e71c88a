"""Triangular solves as SciPy spells them: ``solve_triangular``, composed from minigrad's
``triangular_solve`` primitive (SciPy's LAPACK wrapper computes the solves), so its
derivatives are the closed forms that primitive already has.

Example:
    >>> import numpy as np
    >>> solve_triangular(np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([2.0, 3.0]), lower=True)
    array([1., 2.])
"""

from __future__ import annotations

import numpy as np

import minigrad.numpy as mnp
from minigrad.numpy._promotion import promote_to_inexact
from minigrad.ops.solvers import triangular_solve
from minigrad.scipy._requirement import require_scipy

require_scipy("linalg")  # the solves call scipy.linalg.solve_triangular

__all__ = ["solve_triangular", "matrix_and_rhs"]

_TRANSPOSES = {0: False, "N": False, 1: True, "T": True, 2: True, "C": True}


def matrix_and_rhs(opname, a, b):
    a, b = promote_to_inexact(opname, a, b)
    if a.dtype.kind == "c":
        raise TypeError(f"minigrad.scipy.linalg.{opname}: complex matrices ({a.dtype}) are not supported.")
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(
            f"minigrad.scipy.linalg.{opname}: expected a square matrix (shape (..., n, n)), got shape {a.shape}."
        )
    if b.ndim == 0 or b.shape[0 if b.ndim == 1 else -2] != a.shape[-1]:
        raise ValueError(
            f"minigrad.scipy.linalg.{opname}: the right-hand side of shape {b.shape} does not fit a "
            f"matrix of shape {a.shape}; expected shape ({a.shape[-1]},) or ({a.shape[-1]}, k)."
        )
    return a, b


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, check_finite=True):
    """Solve ``a x = b`` (or ``aᵀ x = b``) reading only one triangle of ``a``.

    Args:
      a: a square matrix ``(n, n)`` (or a stack ``(..., n, n)``); only its lower (or
        upper) triangle is read, and differentiated.
      b: ``(n,)`` or ``(n, k)`` (or a stack matching ``a``'s).
      trans: ``0``/``"N"`` solves ``a x = b``; ``1``/``"T"`` (or ``2``/``"C"`` for real
        matrices) solves ``aᵀ x = b``.
      lower: use the lower triangle (default: the upper, as SciPy).
      unit_diagonal: assume ones on the diagonal without reading it.
      overwrite_b, check_finite: accepted for SciPy compatibility; inputs are never modified.

    Returns:
      ``x`` with the shape of ``b``.

    Example:
      >>> import numpy as np
      >>> solve_triangular(np.array([[2.0, 1.0], [0.0, 4.0]]), np.array([3.0, 4.0]))
      array([1., 1.])
    """
    if trans not in _TRANSPOSES:
        raise ValueError(
            f"minigrad.scipy.linalg.solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}."
        )
    a, b = matrix_and_rhs("solve_triangular", a, b)
    lower = bool(lower)
    if unit_diagonal:
        eye = np.eye(a.shape[-1], dtype=a.dtype)
        a = a * (1.0 - eye) + eye  # the diagonal is not read, so it gets no gradient
    if _TRANSPOSES[trans]:
        a, lower = mnp.swapaxes(a, -1, -2), not lower
    vector = b.ndim == a.ndim - 1
    x = triangular_solve(a, b[..., None] if vector else b, lower=lower)
    return x[..., 0] if vector else x
