"""Cholesky factors as SciPy spells them: ``cho_factor`` and ``cho_solve``.

``cho_factor`` is one primitive, ``cho_factor_p``, that reads one triangle of its input,
as LAPACK (and so SciPy and JAX) does: the factored matrix is the symmetric ``S`` whose
lower (or upper) triangle is that of ``a``, and the other triangle of ``a`` gets no
gradient. LAPACK's ``potrf`` computes the factor (through NumPy's ``cholesky``, which
reads the lower triangle; the upper factor is that of the transpose). The derivatives
are those of ``cholesky`` (``dL = L Φ(L⁻¹ dS L⁻ᵀ)``) with ``dS`` built from the read
triangle of ``da``; reverse mode folds the cotangent of ``S`` back onto that triangle,
so an off-diagonal entry collects both of its mirror images.

On another library's arrays (under ``jit``) the factor is the Array API ``cholesky``
(lower; the upper factor is that of the transpose, as here), and ``cho_solve`` is two
triangular solves, which have lowerings of their own.

Example:
    >>> import numpy as np
    >>> cho_factor(np.array([[4.0, 2.0], [2.0, 2.0]]), lower=True)
    (array([[2., 0.],
           [1., 1.]]), True)
"""

from __future__ import annotations

import numpy as np

import minigrad.numpy as mnp
from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind
from minigrad.numpy._promotion import promote_to_inexact
from minigrad.ops.decompositions import cholesky_jvp, cholesky_vjp
from minigrad.ops.elementwise import add
from minigrad.ops.linalg import swap_last_axes
from minigrad.ops.solvers import check_square, matrices_batch_rule, triangle, triangular_solve
from minigrad.scipy.linalg._triangular import matrix_and_rhs
from minigrad.transforms.jit.array_api_linalg import cholesky_array_api
from minigrad.transforms.jit.array_api_rules import array_api_rule

__all__ = ["cho_factor", "cho_solve", "cho_factor_p"]

cho_factor_p = Primitive("cho_factor")


@cho_factor_p.def_impl
def cho_factor_impl(a, *, lower):
    if lower:
        return np.linalg.cholesky(a)
    return np.swapaxes(np.linalg.cholesky(np.swapaxes(a, -1, -2)), -1, -2)  # reads a's upper triangle


@cho_factor_p.def_shape_rule
def cho_factor_shape_rule(a, *, lower):
    check_square("cho_factor", a)
    if a.dtype.kind != "f":
        raise TypeError(f"cho_factor: expected a real floating-point matrix, got {a.dtype}.")
    return a


def _symmetric_from_triangle(x, lower):
    """The symmetric matrix whose lower (or upper) triangle is that of ``x``."""
    return add(triangle(x, lower), swap_last_axes(triangle(x, lower, diagonal_scale=0.0)))


def cho_factor_vjp(ct, ans, a, *, lower):
    factor, factor_ct = (ans, ct) if lower else (swap_last_axes(ans), swap_last_axes(ct))
    s_ct = cholesky_vjp(factor_ct, factor, a)  # right on symmetric directions dS
    return triangle(add(s_ct, swap_last_axes(s_ct)), lower, diagonal_scale=0.5)


cho_factor_p.def_vjp(cho_factor_vjp)


@cho_factor_p.def_jvp
def cho_factor_jvp(primals, tangents, ans, *, lower):
    factor = ans if lower else swap_last_axes(ans)
    d_factor = cholesky_jvp(primals, (_symmetric_from_triangle(tangents[0], lower),), factor)
    return d_factor if lower else swap_last_axes(d_factor)


def _cho_factor(a, lower):
    return bind(cho_factor_p, a, lower=bool(lower))


cho_factor_p.def_batch(matrices_batch_rule(_cho_factor))
cho_factor_p.def_lowering(lower_by_impl)


@array_api_rule(cho_factor_p)
def cho_factor_array_api(ctx, a, *, lower):
    if lower:
        return cholesky_array_api(ctx, a)
    # The library's cholesky reads the lower triangle: that of aᵀ is a's upper one.
    transpose = f"{ctx.xp}.matrix_transpose"
    return f"{transpose}({cholesky_array_api(ctx, f'{transpose}({a})')})"


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor of a symmetric positive-definite matrix, as ``(c, lower)``.

    Only the lower (``lower=True``) or upper triangle of ``a`` is read, as in SciPy.
    Unlike SciPy's, the other triangle of ``c`` holds zeros (not leftovers of ``a``), so
    ``c`` is the factor itself; ``cho_solve`` accepts both.

    Args:
      a: a symmetric positive-definite matrix (or a stack of them).
      lower: return the lower factor ``L`` (``a = L Lᵀ``); default the upper ``Lᵀ``.
      overwrite_a, check_finite: accepted for SciPy compatibility; ``a`` is never modified.

    Returns:
      ``(c, lower)``; ``c`` is differentiable.

    Example:
      >>> import numpy as np
      >>> c, lower = cho_factor(np.array([[4.0, 2.0], [2.0, 2.0]]))
      >>> c, lower
      (array([[2., 1.],
             [0., 1.]]), False)
    """
    (a,) = promote_to_inexact("cho_factor", a)
    if a.dtype.kind == "c":
        raise TypeError(f"minigrad.scipy.linalg.cho_factor: complex matrices ({a.dtype}) are not supported.")
    return _cho_factor(a, lower), bool(lower)


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """Solve ``a x = b`` given ``cho_factor(a)``: two triangular solves.

    Example:
      >>> import numpy as np
      >>> a = np.array([[4.0, 2.0], [2.0, 2.0]])
      >>> cho_solve(cho_factor(a), np.array([6.0, 4.0]))
      array([1., 1.])
    """
    c, lower = c_and_lower
    c, b = matrix_and_rhs("cho_solve", c, b)
    factor = c if lower else mnp.swapaxes(c, -1, -2)  # only the factor's triangle is read
    vector = b.ndim == c.ndim - 1
    rhs = b[..., None] if vector else b
    y = triangular_solve(factor, rhs, lower=True)
    x = triangular_solve(mnp.swapaxes(factor, -1, -2), y, lower=False)
    return x[..., 0] if vector else x
