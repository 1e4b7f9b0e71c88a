"""The matrix exponential, ``expm``, with SciPy's Padé approximant for values and the
Fréchet derivative for derivatives.

The derivative of ``expm`` at ``A`` in direction ``E`` is the top-right block of
``expm([[A, E], [0, A]])`` (Mathias's block-matrix identity), computed with ``expm``
itself, so derivatives of every order are again matrix exponentials. Reverse mode
uses that the adjoint of ``E ↦ L(A, E)`` is ``G ↦ L(Aᵀ, G)``.

Example:
    >>> import numpy as np
    >>> expm(np.zeros((2, 2)))
    array([[1., 0.],
           [0., 1.]])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, get_aval
from minigrad.numpy._promotion import promote_to_inexact
from minigrad.ops.linalg import swap_last_axes
from minigrad.ops.shape import concatenate, slice_axis
from minigrad.ops.solvers import check_square, matrices_batch_rule
from minigrad.scipy._requirement import require_scipy

_linalg = require_scipy("linalg")

__all__ = ["expm", "expm_p", "expm_frechet"]

expm_p = Primitive("expm")


@expm_p.def_impl
def expm_impl(a):
    return np.asarray(_linalg.expm(a), dtype=a.dtype)


@expm_p.def_shape_rule
def expm_shape_rule(a):
    check_square("expm", a)
    if a.dtype.kind != "f":
        raise TypeError(f"expm: expected a real floating-point matrix, got {a.dtype}.")
    return a


def expm_frechet(a, e):
    """``L(A, E)``, the derivative of ``expm`` at ``A`` in direction ``E`` (traceable)."""
    aval = get_aval(a)
    n, rows, columns = aval.shape[-1], aval.ndim - 2, aval.ndim - 1  # concatenate wants axes >= 0
    zeros = np.zeros(aval.shape, aval.dtype)
    block = concatenate([concatenate([a, e], columns), concatenate([zeros, a], columns)], rows)
    return slice_axis(slice_axis(_expm(block), rows, 0, n), columns, n, 2 * n)


def expm_vjp(ct, ans, a):
    return expm_frechet(swap_last_axes(a), ct)


expm_p.def_vjp(expm_vjp)


@expm_p.def_jvp
def expm_jvp(primals, tangents, ans):
    return expm_frechet(primals[0], tangents[0])


def _expm(a):
    return bind(expm_p, a)


expm_p.def_batch(matrices_batch_rule(_expm))
expm_p.def_lowering(lower_by_impl)


def expm(A):  # noqa: N803 - SciPy's name
    """The matrix exponential ``Σ Aᵏ/k!`` of a square matrix (or a stack of them).

    Example:
      >>> import numpy as np
      >>> expm(np.array([[0.0, 1.0], [0.0, 0.0]]))
      array([[1., 1.],
             [0., 1.]])
    """
    (a,) = promote_to_inexact("expm", A)
    if a.dtype.kind == "c":
        raise TypeError(f"minigrad.scipy.linalg.expm: complex matrices ({a.dtype}) are not supported.")
    return _expm(a)
