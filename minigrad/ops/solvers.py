"""Linear solves: ``inv``, ``solve`` and ``triangular_solve``, on stacks of matrices.

Each primitive calls NumPy's LAPACK-backed routine (or SciPy's triangular solver when
SciPy is installed), and its derivatives are the closed forms of matrix calculus, written
with traceable operations so they can be differentiated again: for ``X = A⁻¹B``,
``dX = A⁻¹(dB - dA X)``, and the cotangent of ``B`` is ``A⁻ᵀ X̄`` (one more solve, never an
inverse). Every operand is a stack of matrices with the same leading (batch) axes;
``minigrad.numpy.linalg`` broadcasts them and adds the axis NumPy adds for vectors.
Leading axes are batch axes to NumPy's ``linalg`` functions already, so under ``vmap``
the mapped axis simply moves to the front.

The small helpers below (identity, diagonal, triangles) build the matrices the rules
of this module and of ``decompositions`` and ``spectral`` need.

Example:
    >>> import numpy as np
    >>> solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([[2.0], [2.0]]))
    array([[1. ],
           [0.5]])
"""

from __future__ import annotations

import functools
import importlib

import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, get_aval
from minigrad.ops import complex_parts as cp
from minigrad.ops.elementwise import add, mul, neg, sub
from minigrad.ops.linalg import matmul, swap_last_axes
from minigrad.ops.shape import batch_size, batch_to_front, expand_dims, reduce_sum

__all__ = [
    "inv", "solve", "triangular_solve", "pinv", "inv_p", "solve_p", "triangular_solve_p", "pinv_p",
    "identity_like", "diagonal_part", "diagonal_matrix", "triangle", "hermitian_part",
    "adjoint", "imaginary_diagonal", "conj_if_complex", "check_square", "matrices_batch_rule",
]  # fmt: skip


# ---------------------------------------------------------------------------------------
# Matrix helpers: constants of the operand's dtype, so float32 stays float32.


def identity_like(x):
    """The identity matrix of the size of ``x``'s last axis, in ``x``'s dtype."""
    aval = get_aval(x)
    return np.eye(aval.shape[-1], dtype=aval.dtype)


def diagonal_part(x):
    """The diagonals of a stack of square matrices: shape ``(..., n)``."""
    return reduce_sum(mul(x, identity_like(x)), (get_aval(x).ndim - 1,))


def diagonal_matrix(v):
    """Square matrices with the vectors ``v`` (shape ``(..., n)``) on their diagonals."""
    return mul(expand_dims(v, (get_aval(v).ndim,)), identity_like(v))


def triangle(x, lower: bool, diagonal_scale: float = 1.0):
    """The lower (or upper) triangle of square matrices, the diagonal scaled."""
    n, dtype = get_aval(x).shape[-1], get_aval(x).dtype
    mask = np.tril(np.ones((n, n), dtype), -1) if lower else np.triu(np.ones((n, n), dtype), 1)
    return mul(x, (mask + diagonal_scale * np.eye(n, dtype=dtype)).astype(dtype))


def conj_if_complex(x):
    """``conj(x)`` for a complex ``x``; a real ``x`` itself (no equation for nothing)."""
    return cp.conj(x) if get_aval(x).dtype.kind == "c" else x


def adjoint(x):
    """The conjugate transpose ``xᴴ`` over the last two axes (``xᵀ`` for real ``x``)."""
    return conj_if_complex(swap_last_axes(x))


def imaginary_diagonal(x):
    """The square matrices ``diag(1j · Im x_ii)`` of complex square matrices ``x``."""
    return mul(sub(x, cp.conj(x)), 0.5 * identity_like(x))


def hermitian_part(x):
    """``(x + xᴴ) / 2`` over the last two axes (the symmetric part of a real ``x``)."""
    return mul(add(x, adjoint(x)), 0.5)


def check_square(opname: str, a: ShapedArray) -> None:
    """Raise the ValueError NumPy users expect for a stack of non-square matrices."""
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(
            f"{opname}: expected a square matrix or a stack of them (shape (..., n, n)), got shape {a.shape}."
        )


def _check_inexact(opname: str, *avals) -> None:
    for aval in avals:
        if aval.dtype.kind not in "fc":
            raise TypeError(
                f"{opname}: expected a floating-point or complex array, got {aval.dtype}; "
                "minigrad.numpy.linalg converts integers to float64 for you."
            )


def _check_rhs(opname: str, a: ShapedArray, b: ShapedArray) -> None:
    check_square(opname, a)
    _check_inexact(opname, a, b)
    if b.ndim != a.ndim or b.shape[:-2] != a.shape[:-2] or b.shape[-2] != a.shape[-1]:
        raise ValueError(
            f"{opname}: the right-hand side of shape {b.shape} does not fit matrices of shape "
            f"{a.shape}; expected shape {(*a.shape[:-1], 'k')}."
        )
    if a.dtype != b.dtype:
        raise TypeError(f"{opname}: operands have different dtypes {a.dtype} and {b.dtype}.")


def matrices_batch_rule(bind_primitive):
    """The batching rule of a primitive on stacks of matrices: batch axes to the front.

    NumPy's linalg routines treat leading axes as batch axes, so the mapped axis is one
    more; an unbatched operand is broadcast along it (the shape rules want one batch
    shape).
    """

    def matrices_batch(args, dims, **params):
        size = batch_size(args, dims)
        moved = [batch_to_front(x, d, size) for x, d in zip(args, dims)]
        out = bind_primitive(*moved, **params)
        return out, ([0] * len(out) if isinstance(out, (list, tuple)) else 0)

    matrices_batch.__name__ = f"{bind_primitive.__name__}_batch"
    return matrices_batch


# ---------------------------------------------------------------------------------------
# inv


inv_p = Primitive("inv")


@inv_p.def_impl
def inv_impl(a):
    return np.linalg.inv(a)


@inv_p.def_shape_rule
def inv_shape_rule(a):
    check_square("inv", a)
    _check_inexact("inv", a)  # holomorphic: its rules transpose, never conjugate
    return a


def inv_vjp(ct, ans, a):
    # d(A⁻¹) = -A⁻¹ dA A⁻¹, whose transpose is -A⁻ᵀ C A⁻ᵀ.
    ans_t = swap_last_axes(ans)
    return neg(matmul(ans_t, matmul(ct, ans_t)))


inv_p.def_vjp(inv_vjp)


@inv_p.def_jvp
def inv_jvp(primals, tangents, ans):
    return neg(matmul(ans, matmul(tangents[0], ans)))


def inv(a):
    """The inverses of a stack of square matrices (NumPy raises LinAlgError if singular)."""
    return bind(inv_p, a)


inv_p.def_batch(matrices_batch_rule(inv))
inv_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# solve


solve_p = Primitive("solve")


@solve_p.def_impl
def solve_impl(a, b):
    return np.linalg.solve(a, b)


@solve_p.def_shape_rule
def solve_shape_rule(a, b):
    _check_rhs("solve", a, b)  # holomorphic, as inv
    return b


@solve_p.def_vjp_all
def solve_vjp(wanted, ct, ans, a, b):
    # B̄ = A⁻ᵀ X̄ and Ā = -B̄ Xᵀ share the transposed solve.
    b_ct = solve(swap_last_axes(a), ct)
    a_ct = neg(matmul(b_ct, swap_last_axes(ans))) if wanted[0] else None
    return a_ct, b_ct if wanted[1] else None


@solve_p.def_jvp
def solve_jvp(primals, tangents, ans):
    (a, _), (da, db) = primals, tangents
    rhs = db
    if da is not None:
        rhs = neg(matmul(da, ans)) if rhs is None else sub(rhs, matmul(da, ans))
    return solve(a, rhs)


def solve(a, b):
    """``X`` with ``A X = B`` for stacks of square ``A`` and right-hand sides ``B`` (..., n, k)."""
    return bind(solve_p, a, b)


solve_p.def_batch(matrices_batch_rule(solve))
solve_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# triangular_solve: reads only the lower (or upper) triangle of A.


@functools.cache
def _scipy_solve_triangular():
    """SciPy's triangular solver if SciPy is installed (an optional extra), else None."""
    try:
        return importlib.import_module("scipy.linalg").solve_triangular
    except ImportError:
        return None


triangular_solve_p = Primitive("triangular_solve")


@triangular_solve_p.def_impl
def triangular_solve_impl(a, b, *, lower):
    scipy_solve = _scipy_solve_triangular()
    if scipy_solve is None:
        # NumPy has no triangular solver; an LU solve of the triangle gives the same X.
        return np.linalg.solve(np.tril(a) if lower else np.triu(a), b)
    out = np.empty(b.shape, b.dtype)
    for index in np.ndindex(a.shape[:-2]):
        out[index] = scipy_solve(a[index], b[index], lower=lower, check_finite=False)
    return out


@triangular_solve_p.def_shape_rule
def triangular_solve_shape_rule(a, b, *, lower):
    _check_rhs("triangular_solve", a, b)  # holomorphic, as solve
    return b


@triangular_solve_p.def_vjp_all
def triangular_solve_vjp(wanted, ct, ans, a, b, *, lower):
    # As for solve, with Aᵀ triangular the other way; only A's triangle gets a cotangent.
    b_ct = triangular_solve(swap_last_axes(a), ct, lower=not lower)
    a_ct = triangle(neg(matmul(b_ct, swap_last_axes(ans))), lower) if wanted[0] else None
    return a_ct, b_ct if wanted[1] else None


@triangular_solve_p.def_jvp
def triangular_solve_jvp(primals, tangents, ans, *, lower):
    (a, _), (da, db) = primals, tangents
    rhs = db
    if da is not None:
        change = matmul(triangle(da, lower), ans)
        rhs = neg(change) if rhs is None else sub(rhs, change)
    return triangular_solve(a, rhs, lower=lower)


def triangular_solve(a, b, lower: bool = True):
    """``X`` with ``T X = B``, ``T`` the lower (or upper) triangle of each ``A``."""
    return bind(triangular_solve_p, a, b, lower=bool(lower))


triangular_solve_p.def_batch(matrices_batch_rule(triangular_solve))
triangular_solve_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# pinv: its own derivative (Golub and Pereyra's), not that of an SVD, so equal singular
# values (the identity, say) are no special case; valid where the rank does not change.
# For complex matrices the closed form has conjugate transposes, and so is not complex
# linear: the rule below is its adjoint under Re tr(Xᴴ Y), and JAX's cotangent (the
# transpose under Re(x y), docs/complex.md) is conj(adjoint(conj(c))).


pinv_p = Primitive("pinv")


@pinv_p.def_impl
def pinv_impl(a, *, rtol):
    return np.linalg.pinv(a, rtol=rtol)


@pinv_p.def_shape_rule
def pinv_shape_rule(a, *, rtol):
    if a.ndim < 2:
        raise ValueError(f"pinv: expected a matrix or a stack of them, got shape {a.shape}.")
    _check_inexact("pinv", a)
    return ShapedArray((*a.shape[:-2], a.shape[-1], a.shape[-2]), a.dtype)


def _residual_projector(x, y):
    """``I - X Y``: the projector onto what ``X Y`` leaves out."""
    product = matmul(x, y)
    return sub(identity_like(product), product)


def pinv_vjp(ct, ans, a, *, rtol):
    # The adjoint of dP = -P dA P + (I - P A) dAᴴ Pᴴ P + P Pᴴ dAᴴ (I - A P).
    p, p_h, ct_h = ans, adjoint(ans), swap_last_axes(ct)  # ct_h = (conj ct)ᴴ
    inner = neg(matmul(p_h, matmul(conj_if_complex(ct), p_h)))
    row_space = matmul(matmul(p_h, p), matmul(ct_h, _residual_projector(p, a)))
    column_space = matmul(_residual_projector(a, p), matmul(ct_h, matmul(p, p_h)))
    return conj_if_complex(add(add(inner, row_space), column_space))


pinv_p.def_vjp(pinv_vjp)


@pinv_p.def_jvp
def pinv_jvp(primals, tangents, ans, *, rtol):
    (a,), (da,), p = primals, tangents, ans
    da_h, p_h = adjoint(da), adjoint(ans)
    inner = neg(matmul(p, matmul(da, p)))
    row_space = matmul(_residual_projector(p, a), matmul(da_h, matmul(p_h, p)))
    column_space = matmul(matmul(p, p_h), matmul(da_h, _residual_projector(a, p)))
    return add(add(inner, row_space), column_space)


def pinv(a, rtol: float):
    """The Moore-Penrose pseudo-inverses of a stack of matrices; singular values at or
    below ``rtol`` times the largest count as zero."""
    return bind(pinv_p, a, rtol=float(rtol))


pinv_p.def_batch(matrices_batch_rule(pinv))
pinv_p.def_lowering(lower_by_impl)
