"""LU factorization with partial pivoting, ``lu_factor`` and ``lu_solve``, as SciPy
spells them: ``A = P L U`` packed into one matrix ``lu`` (``L`` below the diagonal, its
unit diagonal implied, ``U`` on and above) plus LAPACK's pivot indices ``piv`` (row
``i`` was swapped with row ``piv[i]``).

SciPy's LAPACK wrapper computes the factors. The derivative is the closed form: with
``F = L⁻¹ Pᵀ dA U⁻¹``, ``dL = L·strictly_lower(F)`` and ``dU = upper(F)·U``; reverse mode
is its transpose, ``Ā = P L⁻ᵀ (strictly_lower(Lᵀ L̄) + upper(Ū Uᵀ)) U⁻ᵀ``. Pivots are
integers without a derivative; ``lu_pivots_to_permutation`` turns them into the
permutation that the rules apply with a gather. ``lu_solve`` is one primitive on SciPy's
``lu_solve`` (LAPACK's ``getrs``), differentiable in ``lu`` and ``b``.

Under ``jit`` on torch tensors both are torch's LAPACK calls; on any other library
(array-api-strict, Dask) LAPACK's unblocked algorithms in standard calls
(``_lu_standard``), since the standard has no LU.

Example:
    >>> import numpy as np
    >>> lu, piv = lu_factor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    >>> piv
    array([1, 1], dtype=int32)
"""

from __future__ import annotations

import functools
import importlib

import numpy as np

import minigrad.numpy as mnp
from minigrad.core.ir import ShapedArray
from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind
from minigrad.numpy._promotion import promote_to_inexact
from minigrad.ops.elementwise import add, neg, sub
from minigrad.ops.linalg import matmul, swap_last_axes
from minigrad.ops.solvers import check_square, identity_like, matrices_batch_rule, triangle, triangular_solve
from minigrad.scipy._requirement import require_scipy
from minigrad.scipy.linalg._lu_standard import lu_factor_standard, lu_solve_standard
from minigrad.transforms.jit.array_api_rules import array_api_rule

_linalg = require_scipy("linalg")

__all__ = [
    "lu_factor",
    "lu_solve",
    "lu_pivots_to_permutation",
    "lu_p",
    "lu_solve_p",
    "lu_pivots_to_permutation_p",
    "permutation_from_pivots",
]


# ---------------------------------------------------------------------------------------
# Pivots to permutation: the row swaps applied in order, for every matrix of a stack.

lu_pivots_to_permutation_p = Primitive("lu_pivots_to_permutation")
lu_pivots_to_permutation_p.def_nondifferentiable()


@lu_pivots_to_permutation_p.def_impl
def lu_pivots_to_permutation_impl(piv):
    rows = np.arange(piv.shape[-1])
    perm = np.broadcast_to(rows, piv.shape).copy()
    flat_perm, flat_piv = perm.reshape(-1, piv.shape[-1]), piv.reshape(-1, piv.shape[-1])
    matrices = np.arange(flat_perm.shape[0])
    for i in range(piv.shape[-1]):  # n swaps, each vectorized over the stack
        j = flat_piv[:, i]
        flat_perm[matrices, i], flat_perm[matrices, j] = flat_perm[matrices, j], flat_perm[matrices, i].copy()
    return flat_perm.reshape(piv.shape).astype(piv.dtype)


@lu_pivots_to_permutation_p.def_shape_rule
def lu_pivots_to_permutation_shape_rule(piv):
    if piv.dtype.kind not in "iu" or piv.ndim < 1:
        raise TypeError(f"lu_pivots_to_permutation: expected integer pivots (..., n), got {piv}.")
    return piv


def lu_pivots_to_permutation(piv):
    """The permutation ``perm`` with ``(Pᵀ A)[i] = A[perm[i]]``, from LAPACK's pivots.

    Example:
      >>> import numpy as np
      >>> lu_pivots_to_permutation(np.array([2, 2, 2], dtype=np.int32))
      array([2, 0, 1], dtype=int32)
    """
    return bind(lu_pivots_to_permutation_p, piv)


lu_pivots_to_permutation_p.def_batch(matrices_batch_rule(lu_pivots_to_permutation))
lu_pivots_to_permutation_p.def_lowering(lower_by_impl)


def permutation_from_pivots(xp, rows, piv):
    """``lu_pivots_to_permutation`` in Array API calls: each swap is a few ``where`` calls.

    Args:
      xp: the Array API namespace of ``piv``.
      rows: ``arange(n)`` in ``piv``'s dtype, on its device.
      piv: LAPACK's 0-based pivots, ``(..., n)``.

    Example:
      >>> import numpy as np
      >>> piv = np.array([2, 2, 2], dtype=np.int32)
      >>> permutation_from_pivots(np, np.arange(3, dtype=np.int32), piv)
      array([2, 0, 1], dtype=int32)
    """
    perm = xp.broadcast_to(rows, piv.shape)
    for i in range(piv.shape[-1]):
        swapped = piv[..., i : i + 1]  # the row that row i traded places with
        is_swapped = rows == swapped
        # Read perm at `swapped` by a masked sum: torch's take_along_axis wants int64 indices.
        at_swapped = xp.sum(xp.where(is_swapped, perm, 0), axis=-1, keepdims=True, dtype=perm.dtype)
        perm = xp.where(rows == i, at_swapped, xp.where(is_swapped, perm[..., i : i + 1], perm))
    return perm


@array_api_rule(lu_pivots_to_permutation_p)
def lu_pivots_to_permutation_array_api(ctx, piv):
    aval = ctx.in_avals[0]
    rows = ctx.array(np.arange(aval.shape[-1]), aval.dtype, "rows")
    permute = ctx.constant(
        functools.partial(permutation_from_pivots, ctx.xp_module), "permutation_from_pivots"
    )
    return f"{permute}({rows}, {piv})"


# ---------------------------------------------------------------------------------------
# lu: (packed factors, pivots)

lu_p = Primitive("lu", multiple_results=True)


@lu_p.def_impl
def lu_impl(a):
    lu, piv = _linalg.lu_factor(a, check_finite=False)
    return [np.asarray(lu, dtype=a.dtype), np.asarray(piv, dtype=np.int32)]


@lu_p.def_shape_rule
def lu_shape_rule(a):
    check_square("lu_factor", a)
    if a.dtype.kind != "f":
        raise TypeError(f"lu_factor: expected a real floating-point matrix, got {a.dtype}.")
    return [a, ShapedArray(a.shape[:-1], np.dtype(np.int32))]


def _unpack(lu):
    """``(L, U)`` from the packed factors."""
    return add(triangle(lu, lower=True, diagonal_scale=0.0), identity_like(lu)), triangle(lu, lower=False)


def _rows(x, perm):
    """``x[..., perm, :]``: rows of each matrix of a stack, in the order ``perm``."""
    return mnp.take_along_axis(x, perm[..., :, None], axis=-2)


def lu_vjp(cts, ans, a):
    ct = cts[0]
    if ct is None:
        return None
    lu, piv = ans
    lower, upper = _unpack(lu)
    inner = add(
        triangle(matmul(swap_last_axes(lower), ct), lower=True, diagonal_scale=0.0),
        triangle(matmul(triangle(ct, lower=False), swap_last_axes(upper)), lower=False),
    )
    left = triangular_solve(swap_last_axes(lower), inner, lower=False)  # L⁻ᵀ · inner
    permuted = swap_last_axes(triangular_solve(upper, swap_last_axes(left), lower=False))  # · U⁻ᵀ
    inverse = mnp.argsort(lu_pivots_to_permutation(piv), axis=-1)
    return _rows(permuted, inverse)  # P · (...)


lu_p.def_vjp(lu_vjp)


@lu_p.def_jvp
def lu_jvp(primals, tangents, ans):
    lu, piv = ans
    lower, upper = _unpack(lu)
    permuted = _rows(tangents[0], lu_pivots_to_permutation(piv))  # Pᵀ dA
    left = triangular_solve(lower, permuted, lower=True)  # L⁻¹ Pᵀ dA
    f = swap_last_axes(triangular_solve(swap_last_axes(upper), swap_last_axes(left), lower=True))  # · U⁻¹
    d_lower = matmul(lower, triangle(f, lower=True, diagonal_scale=0.0))
    d_upper = matmul(triangle(f, lower=False), upper)
    return [add(d_lower, d_upper), None]


def _lu(a):
    return bind(lu_p, a)


lu_p.def_batch(matrices_batch_rule(_lu))
lu_p.def_lowering(lower_by_impl)


def torch_lu_factor(a):
    """SciPy's ``lu_factor`` of a torch tensor: torch's (LAPACK's ``getrf``, as SciPy's),
    its 1-based pivots made 0-based. A singular matrix is factored, as by SciPy."""
    lu, pivots, _ = importlib.import_module("torch.linalg").lu_factor_ex(a)
    return lu, pivots - 1


@array_api_rule(lu_p)
def lu_array_api(ctx, a):
    if ctx.library == "torch":
        return f"{ctx.constant(torch_lu_factor, 'torch_lu_factor')}({a})"
    # The standard has no LU: LAPACK's getf2 in standard calls (_lu_standard).
    factor = functools.partial(lu_factor_standard, ctx.xp_module, ctx.device)
    return f"{ctx.constant(factor, 'lu_factor_standard')}({a})"


# ---------------------------------------------------------------------------------------
# lu_solve: x = A⁻¹ b (or A⁻ᵀ b) from the packed factors, by SciPy's LAPACK getrs.
#
# With A = P L U, a change of the factors is dA = P (dL U + L dU), so the rules are those
# of solve (dx = -A⁻¹ dA x; Ā = -b̄ xᵀ) carried through that product:
# L̄U = strictly_lower(M Uᵀ) + upper(Lᵀ M) with M = Pᵀ Ā.

lu_solve_p = Primitive("lu_solve")


@lu_solve_p.def_impl
def lu_solve_impl(lu, piv, b, *, transposed):
    out = np.empty(b.shape, np.result_type(lu.dtype, b.dtype))
    for index in np.ndindex(lu.shape[:-2]):
        out[index] = _linalg.lu_solve(
            (lu[index], piv[index]), b[index], trans=int(transposed), check_finite=False
        )
    return out


@lu_solve_p.def_shape_rule
def lu_solve_shape_rule(lu, piv, b, *, transposed):
    check_square("lu_solve", lu)
    if lu.dtype.kind != "f" or lu.dtype != b.dtype:
        raise TypeError(
            f"lu_solve: expected real floating-point factors and right-hand side of one dtype, got {lu} and {b}."
        )
    if piv.dtype.kind not in "iu" or piv.shape != lu.shape[:-1]:
        raise TypeError(f"lu_solve: expected integer pivots of shape {lu.shape[:-1]}, got {piv}.")
    if b.ndim != lu.ndim or b.shape[:-2] != lu.shape[:-2] or b.shape[-2] != lu.shape[-1]:
        raise ValueError(
            f"lu_solve: the right-hand side of shape {b.shape} does not fit factors of shape "
            f"{lu.shape}; expected shape {(*lu.shape[:-1], 'k')}."
        )
    return b


def _factors_ct(lu, piv, x, b_ct, transposed):
    """The cotangent of the packed factors, from the solution and ``b``'s cotangent."""
    lower, upper = _unpack(lu)
    perm = lu_pivots_to_permutation(piv)
    if transposed:  # Ā = -x b̄ᵀ
        m = neg(matmul(_rows(x, perm), swap_last_axes(b_ct)))
    else:  # Ā = -b̄ xᵀ
        m = neg(matmul(_rows(b_ct, perm), swap_last_axes(x)))
    return add(
        triangle(matmul(m, swap_last_axes(upper)), lower=True, diagonal_scale=0.0),
        triangle(matmul(swap_last_axes(lower), m), lower=False),
    )


@lu_solve_p.def_vjp_all
def lu_solve_vjp(wanted, ct, ans, lu, piv, b, *, transposed):
    b_ct = _lu_solve(lu, piv, ct, not transposed)
    lu_ct = _factors_ct(lu, piv, ans, b_ct, transposed) if wanted[0] else None
    return lu_ct, None, b_ct if wanted[2] else None


@lu_solve_p.def_jvp
def lu_solve_jvp(primals, tangents, ans, *, transposed):
    (lu, piv, _), (d_lu, _, d_b) = primals, tangents
    if d_lu is None:
        return _lu_solve(lu, piv, d_b, transposed)
    lower, upper = _unpack(lu)
    d_lower, d_upper = triangle(d_lu, lower=True, diagonal_scale=0.0), triangle(d_lu, lower=False)
    perm = lu_pivots_to_permutation(piv)
    if transposed:  # dAᵀ x = (Uᵀ dLᵀ + dUᵀ Lᵀ) Pᵀ x
        w = _rows(ans, perm)
        change = add(
            matmul(swap_last_axes(upper), matmul(swap_last_axes(d_lower), w)),
            matmul(swap_last_axes(d_upper), matmul(swap_last_axes(lower), w)),
        )
        return _lu_solve(lu, piv, neg(change) if d_b is None else sub(d_b, change), True)
    # dx = U⁻¹ L⁻¹ (Pᵀ db - (dL U + L dU) x)
    change = add(matmul(d_lower, matmul(upper, ans)), matmul(lower, matmul(d_upper, ans)))
    rhs = neg(change) if d_b is None else sub(_rows(d_b, perm), change)
    return triangular_solve(upper, triangular_solve(lower, rhs, lower=True), lower=False)


def _lu_solve(lu, piv, b, transposed):
    return bind(lu_solve_p, lu, piv, b, transposed=bool(transposed))


lu_solve_p.def_batch(matrices_batch_rule(_lu_solve))
lu_solve_p.def_lowering(lower_by_impl)


def torch_lu_solve(lu, piv, b, *, transposed):
    """SciPy's ``lu_solve`` of torch tensors by torch's (LAPACK's ``getrs``); ``piv`` 0-based."""
    torch = importlib.import_module("torch")
    # Of real matrices the adjoint is the transpose.
    return torch.linalg.lu_solve(lu, (piv + 1).to(torch.int32), b, adjoint=transposed)


@array_api_rule(lu_solve_p)
def lu_solve_array_api(ctx, lu, piv, b, *, transposed):
    if ctx.library == "torch":
        solve = ctx.constant(torch_lu_solve, "torch_lu_solve")
    else:  # LAPACK's getrs in standard calls (_lu_standard)
        solve = ctx.constant(
            functools.partial(lu_solve_standard, ctx.xp_module, ctx.device), "lu_solve_standard"
        )
    return f"{solve}({lu}, {piv}, {b}, transposed={bool(transposed)})"


def lu_factor(a, overwrite_a=False, check_finite=True):
    """The pivoted LU factorization ``A = P L U`` of a square matrix, as ``(lu, piv)``.

    Args:
      a: a square matrix (or a stack of them).
      overwrite_a, check_finite: accepted for SciPy compatibility.

    Returns:
      ``lu`` (``L`` strictly below the diagonal, ``U`` on and above) and the int32
      pivots ``piv``, as SciPy returns them; ``lu`` is differentiable.

    Example:
      >>> import numpy as np
      >>> lu, piv = lu_factor(np.array([[2.0, 1.0], [4.0, 3.0]]))
      >>> lu
      array([[ 4. ,  3. ],
             [ 0.5, -0.5]])
    """
    (a,) = promote_to_inexact("lu_factor", a)
    if a.dtype.kind == "c":
        raise TypeError(f"minigrad.scipy.linalg.lu_factor: complex matrices ({a.dtype}) are not supported.")
    lu, piv = _lu(a)
    return lu, piv


_TRANSPOSED = {0: False, "N": False, 1: True, "T": True, 2: True, "C": True}


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """Solve ``a x = b`` (``trans=1``: ``aᵀ x = b``) given ``lu_factor(a)``.

    Args:
      lu_and_piv: ``(lu, piv)`` from ``lu_factor`` (or SciPy's); ``lu`` is differentiable.
      b: ``(n,)`` or ``(n, k)`` (or a stack matching ``lu``'s).
      trans: ``0``/``"N"`` solves ``a x = b``; ``1``/``"T"`` (or ``2``/``"C"`` for real
        matrices) solves ``aᵀ x = b``.
      overwrite_b, check_finite: accepted for SciPy compatibility; ``b`` is never modified.

    Returns:
      ``x`` with the shape of ``b``.

    Example:
      >>> import numpy as np
      >>> a = np.array([[2.0, 1.0], [4.0, 3.0]])
      >>> lu_solve(lu_factor(a), np.array([3.0, 7.0]))
      array([1., 1.])
    """
    if trans not in _TRANSPOSED:
        raise ValueError(
            f"minigrad.scipy.linalg.lu_solve: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}."
        )
    lu, piv = lu_and_piv
    lu, b = promote_to_inexact("lu_solve", lu, b)
    vector = b.ndim == lu.ndim - 1
    x = _lu_solve(lu, piv, b[..., None] if vector else b, _TRANSPOSED[trans])
    return x[..., 0] if vector else x
