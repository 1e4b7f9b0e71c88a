"""The matrix exponential, ``expm``, with SciPy's Padé approximant for values and the
Fréchet derivative for derivatives.

The derivative of ``expm`` at ``A`` in direction ``E`` is the top-right block of
``expm([[A, E], [0, A]])`` (Mathias's block-matrix identity), computed with ``expm``
itself, so derivatives of every order are again matrix exponentials. Reverse mode
uses that the adjoint of ``E ↦ L(A, E)`` is ``G ↦ L(Aᵀ, G)``.

On another library's arrays (under ``jit``) ``expm`` is Higham's scaling and squaring
with the degree-13 Padé approximant, in Array API calls (``expm_pade``): each matrix is
halved until its 1-norm is at most θ₁₃ and squared back as many times. SciPy picks a
lower degree for small norms and fewer squarings (from norms of powers of ``A``); both
aim at a backward error below the unit roundoff. On random matrices they agree within
1e-15 of the largest entry up to 1-norm 2 and within 1e-12 up to 1-norm 5; at 1-norm 50
they differ by up to 5e-12, mostly SciPy's error (against a 50-digit reference this
one was within 2e-14, SciPy's within 4e-12).

Example:
    >>> import numpy as np
    >>> expm(np.zeros((2, 2)))
    array([[1., 0.],
           [0., 1.]])
"""

from __future__ import annotations

import functools

import numpy as np

from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, get_aval
from minigrad.numpy._promotion import promote_to_inexact
from minigrad.ops.linalg import swap_last_axes
from minigrad.ops.shape import concatenate, slice_axis
from minigrad.ops.solvers import check_square, matrices_batch_rule
from minigrad.scipy._requirement import require_scipy
from minigrad.transforms.jit.array_api_linalg import each_matrix
from minigrad.transforms.jit.array_api_rules import array_api_rule

_linalg = require_scipy("linalg")

__all__ = ["expm", "expm_p", "expm_frechet", "expm_pade"]

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

# Padé(13, 13) coefficients of exp and the largest 1-norm it serves to double precision
# (Higham, "The scaling and squaring method for the matrix exponential revisited", 2005).
_PADE_13 = (
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
    129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
    40840800.0, 960960.0, 16380.0, 182.0, 1.0,
)  # fmt: skip
_THETA_13 = 5.371920351148152


def expm_pade(xp, identity, a):
    """The matrix exponential of each matrix of ``a`` in Array API calls: scaled by a
    power of two to a 1-norm at most θ₁₃, the degree-13 Padé approximant, squared back.
    The largest number of squarings is read back from the device (one number); a matrix
    needing fewer keeps its value through the extra steps.

    Args:
      xp: the Array API namespace of ``a``.
      identity: the ``(n, n)`` identity of ``a``'s library, dtype and device.
      a: ``(..., n, n)`` real matrices, ``n >= 1``.

    Example:
      >>> import numpy as np
      >>> expm_pade(np, np.eye(2), np.array([[0.0, 1.0], [0.0, 0.0]]))
      array([[1., 1.],
             [0., 1.]])
    """
    norm = xp.max(xp.sum(xp.abs(a), axis=-2), axis=-1)[..., None, None]
    scaled_down = xp.isfinite(norm) & (norm > _THETA_13)
    safe_norm = xp.where(scaled_down, norm, 2 * _THETA_13)  # no log of 0 or inf
    squarings = xp.where(scaled_down, xp.ceil(xp.log2(safe_norm / _THETA_13)), 0.0)
    a = a * 0.5**squarings  # powers of two: exact
    b = _PADE_13
    a2 = xp.matmul(a, a)
    a4 = xp.matmul(a2, a2)
    a6 = xp.matmul(a4, a2)
    odd = xp.matmul(a6, b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
    u = xp.matmul(a, odd + b[1] * identity)
    v = (
        xp.matmul(a6, b[12] * a6 + b[10] * a4 + b[8] * a2)
        + b[6] * a6
        + b[4] * a4
        + b[2] * a2
        + b[0] * identity
    )
    result = xp.linalg.solve(v - u, v + u)
    for step in range(int(xp.max(squarings))):
        result = xp.where(squarings > step, xp.matmul(result, result), result)
    return result


@array_api_rule(expm_p)
def expm_array_api(ctx, a):
    aval = ctx.in_avals[0]
    if aval.size == 0:  # no matrix, or 0x0 ones: nothing to compute (nor a norm to take)
        return f"{ctx.xp}.asarray({a}, copy=True)"
    identity = ctx.array(np.eye(aval.shape[-1]), aval.dtype, "identity")
    pade = ctx.constant(functools.partial(expm_pade, ctx.xp_module), "expm_pade")
    if ctx.library == "dask.array" and aval.ndim > 2:
        # Dask's linalg.solve takes single matrices: each matrix of the stack on its own.
        each = ctx.constant(functools.partial(each_matrix, ctx.xp_module), "each_matrix")
        return f"{each}({pade}, {a}, shared=({identity},))"
    return f"{pade}({identity}, {a})"


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
