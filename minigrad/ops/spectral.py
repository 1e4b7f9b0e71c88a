"""Spectral decompositions: ``eigh`` and ``eigvalsh`` (symmetric eigenproblems), ``svd``
and ``svdvals`` (singular values).

The impls call NumPy's LAPACK routines; the derivatives are JAX's closed forms. With
``A = V diag(w) Vᴴ`` and ``D = Vᴴ dA V``: ``dw = Re diag(D)`` and ``dV = V (F ∘ D)``, where
``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal and 0 on it. With the reduced SVD
``A = U diag(s) Vᴴ`` and ``D = Uᴴ dA V``: ``ds = Re diag(D)``, and ``dU``, ``dV`` use
``F[i, j] = 1 / (s[j]² - s[i]²)`` (0 where two singular values are equal), plus the
components of ``dA`` outside the span of ``U`` (tall ``A``) or ``V`` (wide ``A``),
divided by ``s``. For real matrices ``ᴴ`` is ``ᵀ``; eigenvalues and singular values are
real also for complex matrices.

Complex eigenvectors and singular vectors are defined up to a phase each. The gauge is
JAX's: ``Vᴴ dV`` has a zero diagonal for ``eigh``; for ``svd`` ``Vᴴ dV`` does, and ``Uᴴ dU``
carries the imaginary diagonal ``1j Im(D_ii) / s_i``. Differentiate functions that do
not depend on the phases (``abs(V) ** 2``, ``U diag(s) Vh``...).

Reverse mode: the maps above have conjugates in them, so each rule is written as the
adjoint under ``Re tr(Xᴴ Y)`` and gives JAX's cotangent (the transpose under ``Re(x y)``,
docs/complex.md) as ``conj(adjoint(conj(c)))``; for real matrices both are the transpose.

Degenerate points, as in JAX: eigenvectors of a repeated eigenvalue are not unique and
have no derivative, so ``F`` holds ``inf`` there and gradients through the eigenvectors
are not finite; eigenvalues alone stay differentiable to first order (``eigvalsh``, or
``eigh`` whose eigenvectors' cotangent is a known zero: that term is skipped).
For ``svd``, equal singular values get ``F = 0`` (a finite but arbitrary choice) and the
tall/wide correction divides by zero singular values. ``full_matrices=True`` has a
derivative only for square matrices, where it is the reduced factorization.

The eigh rules treat the matrix as Hermitian (its tangent is assumed Hermitian);
``minigrad.numpy.linalg.eigh`` takes the Hermitian part of its input, as JAX does.

Example:
    >>> import numpy as np
    >>> eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]]))
    array([1., 3.])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, get_aval
from minigrad.ops import complex_parts as cp
from minigrad.ops.elementwise import add, convert_element_type, div, mul, neg, reciprocal, select, sub
from minigrad.ops.linalg import matmul, swap_last_axes
from minigrad.ops.logic import equal
from minigrad.ops.shape import batch_to_front, concatenate, expand_dims, reduce_sum, slice_axis
from minigrad.ops.solvers import (
    adjoint,
    check_square,
    conj_if_complex,
    diagonal_matrix,
    diagonal_part,
    identity_like,
    imaginary_diagonal,
    matrices_batch_rule,
)

__all__ = [
    "eigh", "eigvalsh", "svd", "svdvals", "roots", "eigh_p", "eigvalsh_p", "svd_p", "svdvals_p", "roots_p",
]  # fmt: skip


def _column(v):
    """``v[..., :, None]``."""
    return expand_dims(v, (get_aval(v).ndim,))


def _row(v):
    """``v[..., None, :]``."""
    return expand_dims(v, (get_aval(v).ndim - 1,))


def _sandwich(left, x, right):
    """``leftᴴ x right``."""
    return matmul(adjoint(left), matmul(x, right))


def _real_diagonal(x):
    """``Re diag(x)``: the diagonals of square matrices, real."""
    diagonal = diagonal_part(x)
    return cp.real(diagonal) if get_aval(diagonal).dtype.kind == "c" else diagonal


def _as_dtype_of(x, like):
    """``x`` (real) converted to the dtype of ``like`` (perhaps complex)."""
    dtype = get_aval(like).dtype
    return x if get_aval(x).dtype == dtype else convert_element_type(x, dtype)


def _known_zero(ct) -> bool:
    """A cotangent the backward pass filled with zeros (an output nobody used).

    Skipping its terms is what symbolic zeros do in JAX: the ``1 / (w[j] - w[i])`` factors
    of unused eigenvectors must not turn a finite gradient into ``0 · inf = nan``.
    """
    return type(ct) is np.ndarray and not ct.any()


def _check_inexact(opname, a):
    if a.dtype.kind not in "fc":
        raise TypeError(f"{opname}: expected a floating-point or complex array, got {a.dtype}.")


# ---------------------------------------------------------------------------------------
# eigh and eigvalsh


def _eigenvalue_gaps(w):
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it (``inf`` for repeats)."""
    eye = identity_like(w)
    return sub(reciprocal(add(eye, sub(_row(w), _column(w)))), eye)


eigh_p = Primitive("eigh", multiple_results=True)


@eigh_p.def_impl
def eigh_impl(a):
    w, v = np.linalg.eigh(a)
    return [w, v]


def _eigh_shape(opname, a):
    check_square(opname, a)
    _check_inexact(opname, a)
    return ShapedArray(a.shape[:-1], cp.real_dtype(a.dtype))


@eigh_p.def_shape_rule
def eigh_shape_rule(a):
    return [_eigh_shape("eigh", a), a]


def eigh_vjp(cts, ans, a):
    # The adjoint of dA ↦ (Re diag(D), V (F ∘ D)), D = Vᴴ dA V: V (diag(w̄) + F ∘ Vᴴ V̄) Vᴴ.
    (w_ct, v_ct), (w, v) = cts, ans
    inner = _as_dtype_of(diagonal_matrix(w_ct), v)
    if not _known_zero(v_ct):
        gaps = _as_dtype_of(_eigenvalue_gaps(w), v)
        inner = add(inner, mul(gaps, matmul(adjoint(v), conj_if_complex(v_ct))))
    return conj_if_complex(matmul(v, matmul(inner, adjoint(v))))


eigh_p.def_vjp(eigh_vjp)
eigh_p.vjp_reads_values = True  # _known_zero


@eigh_p.def_jvp
def eigh_jvp(primals, tangents, ans):
    w, v = ans
    projected = _sandwich(v, tangents[0], v)
    return [_real_diagonal(projected), matmul(v, mul(_as_dtype_of(_eigenvalue_gaps(w), v), projected))]


def eigh(a):
    """``[w, V]``: ascending eigenvalues and eigenvectors of symmetric matrices."""
    return bind(eigh_p, a)


eigh_p.def_batch(matrices_batch_rule(eigh))
eigh_p.def_lowering(lower_by_impl)


eigvalsh_p = Primitive("eigvalsh")


@eigvalsh_p.def_impl
def eigvalsh_impl(a):
    return np.linalg.eigvalsh(a)


@eigvalsh_p.def_shape_rule
def eigvalsh_shape_rule(a):
    return _eigh_shape("eigvalsh", a)


def eigvalsh_vjp(ct, ans, a):
    # Ā = conj(V diag(w̄) Vᴴ); no 1/(w_j - w_i) term, so repeated eigenvalues are fine here.
    _, v = eigh(a)
    return conj_if_complex(matmul(v, matmul(_as_dtype_of(diagonal_matrix(ct), v), adjoint(v))))


eigvalsh_p.def_vjp(eigvalsh_vjp)


@eigvalsh_p.def_jvp
def eigvalsh_jvp(primals, tangents, ans):
    _, v = eigh(primals[0])
    return _real_diagonal(_sandwich(v, tangents[0], v))


def eigvalsh(a):
    """The ascending eigenvalues of symmetric matrices."""
    return bind(eigvalsh_p, a)


eigvalsh_p.def_batch(matrices_batch_rule(eigvalsh))
eigvalsh_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# svd and svdvals


def _singular_value_gaps(s):
    """``F[i, j] = 1 / (s[j]² - s[i]²)``, and 0 where that difference is 0 (JAX's choice)."""
    gaps = mul(add(_row(s), _column(s)), sub(_row(s), _column(s)))
    is_zero = equal(gaps, 0.0)
    safe = select(is_zero, 1.0, gaps)
    return select(is_zero, 0.0, reciprocal(safe))


def _check_reduced(a, full_matrices):
    m, n = get_aval(a).shape[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            f"svd: the derivative with full_matrices=True is defined only for square matrices "
            f"(as in JAX), got shape {get_aval(a).shape}; use full_matrices=False."
        )


svd_p = Primitive("svd", multiple_results=True)


@svd_p.def_impl
def svd_impl(a, *, full_matrices):
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return [u, s, vh]


@svd_p.def_shape_rule
def svd_shape_rule(a, *, full_matrices):
    if a.ndim < 2:
        raise ValueError(f"svd: expected a matrix or a stack of them, got shape {a.shape}.")
    _check_inexact("svd", a)
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    k = min(m, n)
    u_cols, vh_rows = (m, n) if full_matrices else (k, k)
    return [
        ShapedArray((*batch, m, u_cols), a.dtype),
        ShapedArray((*batch, k), cp.real_dtype(a.dtype)),
        ShapedArray((*batch, vh_rows, n), a.dtype),
    ]


def _outside(basis, x):
    """``x - B Bᴴ x``: the part of ``x`` outside the span of the columns of ``B``."""
    return sub(x, matmul(basis, matmul(adjoint(basis), x)))


def _phase_term(x, s):
    """``diag(1j Im(X_ii) / s_i)`` (0 where ``s_i = 0``): JAX's gauge for ``U``'s phases.
    ``None`` for real ``X``, which has no phases."""
    if get_aval(x).dtype.kind != "c":
        return None
    is_zero = equal(s, 0.0)
    inverse = select(is_zero, 0.0, reciprocal(select(is_zero, 1.0, s)))
    return mul(imaginary_diagonal(x), _row(_as_dtype_of(inverse, x)))


def svd_vjp(cts, ans, a, *, full_matrices):
    # The adjoint of svd_jvp's map, with U's cotangent Ū and V's cotangent V̄ = Vh̄ᴴ.
    _check_reduced(a, full_matrices)
    (u_ct, s_ct, vh_ct), (u, s, vh) = cts, ans
    v = adjoint(vh)
    gaps, s_c = _as_dtype_of(_singular_value_gaps(s), a), _as_dtype_of(s, a)
    m, n = get_aval(a).shape[-2:]
    inner, a_ct = _as_dtype_of(diagonal_matrix(s_ct), a), None
    if not _known_zero(u_ct):
        u_ct = conj_if_complex(u_ct)
        projected = matmul(adjoint(u), u_ct)
        j = mul(gaps, projected)
        inner = add(inner, mul(add(j, adjoint(j)), _row(s_c)))
        phase = _phase_term(projected, s)
        inner = inner if phase is None else add(inner, phase)
        if m > n:
            a_ct = matmul(div(_outside(u, u_ct), _row(s_c)), vh)
    if not _known_zero(vh_ct):
        v_ct = swap_last_axes(vh_ct)  # (conj Vh̄)ᴴ
        k = mul(gaps, matmul(vh, v_ct))
        inner = add(inner, mul(_column(s_c), add(k, adjoint(k))))
        if n > m:
            a_ct = matmul(u, adjoint(div(_outside(v, v_ct), _row(s_c))))
    through_s = matmul(u, matmul(inner, vh))
    return conj_if_complex(through_s if a_ct is None else add(through_s, a_ct))


svd_p.def_vjp(svd_vjp)
svd_p.vjp_reads_values = True  # _known_zero


@svd_p.def_jvp
def svd_jvp(primals, tangents, ans, *, full_matrices):
    (a,), (da,), (u, s, vh) = primals, tangents, ans
    _check_reduced(a, full_matrices)
    v = adjoint(vh)
    projected = _sandwich(u, da, v)
    gaps, s_c = _as_dtype_of(_singular_value_gaps(s), a), _as_dtype_of(s, a)
    scaled_right, scaled_left = mul(projected, _row(s_c)), mul(_column(s_c), projected)
    du_rotation = mul(gaps, add(scaled_right, adjoint(scaled_right)))
    phase = _phase_term(projected, s)
    du = matmul(u, du_rotation if phase is None else add(du_rotation, phase))
    dv = matmul(v, mul(gaps, add(scaled_left, adjoint(scaled_left))))
    m, n = get_aval(a).shape[-2:]
    if m > n:
        du = add(du, div(_outside(u, matmul(da, v)), _row(s_c)))
    if n > m:
        dv = add(dv, div(_outside(v, matmul(adjoint(da), u)), _row(s_c)))
    return [du, _real_diagonal(projected), adjoint(dv)]


def svd(a, full_matrices: bool = False):
    """``[U, s, Vh]``: the singular value decomposition of a stack of matrices."""
    return bind(svd_p, a, full_matrices=bool(full_matrices))


svd_p.def_batch(matrices_batch_rule(svd))
svd_p.def_lowering(lower_by_impl)


svdvals_p = Primitive("svdvals")


@svdvals_p.def_impl
def svdvals_impl(a):
    return np.linalg.svd(a, compute_uv=False)


@svdvals_p.def_shape_rule
def svdvals_shape_rule(a):
    return svd_shape_rule(a, full_matrices=False)[1]


def svdvals_vjp(ct, ans, a):
    # Ā = conj(U diag(s̄) Vh): the adjoint of Re diag(Uᴴ dA V), conjugated (JAX's convention).
    u, _, vh = svd(a)
    return conj_if_complex(matmul(u, matmul(_as_dtype_of(diagonal_matrix(ct), a), vh)))


svdvals_p.def_vjp(svdvals_vjp)


@svdvals_p.def_jvp
def svdvals_jvp(primals, tangents, ans):
    u, _, vh = svd(primals[0])
    return _real_diagonal(_sandwich(u, tangents[0], adjoint(vh)))


def svdvals(a):
    """The singular values of a stack of matrices, in descending order."""
    return bind(svdvals_p, a)


svdvals_p.def_batch(matrices_batch_rule(svdvals))
svdvals_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# roots: the eigenvalues of a polynomial's companion matrix, as NumPy and JAX find them.
# Their derivative is the implicit function theorem's rather than an eigenvalue rule: a
# simple root r of p moves by dr = -(dp)(r) / p'(r), holomorphic in the coefficients.

roots_p = Primitive("roots")


def _complex_dtype(dtype) -> np.dtype:
    return np.result_type(dtype, np.complex64)


@roots_p.def_impl
def roots_impl(p):
    n = p.shape[-1]
    if n < 2:
        return np.zeros((*p.shape[:-1], 0), _complex_dtype(p.dtype))
    companion = np.zeros((*p.shape[:-1], n - 1, n - 1), p.dtype)
    companion[..., 0, :] = -p[..., 1:] / p[..., :1]
    below = np.arange(n - 2)
    companion[..., below + 1, below] = 1
    return np.linalg.eigvals(companion).astype(_complex_dtype(p.dtype), copy=False)


@roots_p.def_shape_rule
def roots_shape_rule(p):
    if p.dtype.kind not in "fc" or p.ndim < 1:
        raise TypeError(
            f"roots: expected coefficients of a floating-point dtype, got {p.dtype}{list(p.shape)}."
        )
    return ShapedArray((*p.shape[:-1], max(p.shape[-1] - 1, 0)), _complex_dtype(p.dtype))


def _powers_and_sensitivity(p, r):
    """``(V, -1 / p'(r))`` with ``V[..., i, k] = r_i ** (n - 1 - k)``, so that ``V @ q`` is
    the polynomial ``q`` (n coefficients, highest power first) at every root."""
    n = get_aval(p).shape[-1]
    dtype = get_aval(r).dtype
    column = expand_dims(r, (get_aval(r).ndim,))
    powers = [np.ones(get_aval(column).shape, dtype)]
    for _ in range(n - 1):
        powers.append(mul(powers[-1], column))
    last_axis = get_aval(r).ndim
    vandermonde = concatenate(powers[::-1], last_axis)
    # p'(r) = sum over k < n-1 of (n-1-k) p_k r^(n-2-k): powers r^(n-2) .. 1.
    slopes = mul(
        convert_element_type(slice_axis(p, last_axis - 1, 0, n - 1), dtype),
        np.arange(n - 1, 0, -1).astype(dtype),
    )
    derivative = reduce_sum(mul(concatenate(powers[n - 2 :: -1], last_axis), _row(slopes)), (last_axis,))
    return vandermonde, neg(reciprocal(derivative))


def roots_vjp(ct, ans, p):
    vandermonde, sensitivity = _powers_and_sensitivity(p, ans)
    ct_p = reduce_sum(mul(vandermonde, _column(mul(ct, sensitivity))), (get_aval(ans).ndim - 1,))
    return ct_p if get_aval(p).dtype.kind == "c" else convert_element_type(ct_p, get_aval(p).dtype)


roots_p.def_vjp(roots_vjp)


@roots_p.def_jvp
def roots_jvp(primals, tangents, ans):
    (p,), (tangent,) = primals, tangents
    vandermonde, sensitivity = _powers_and_sensitivity(p, ans)
    moved = reduce_sum(
        mul(vandermonde, _row(convert_element_type(tangent, get_aval(ans).dtype))), (get_aval(ans).ndim,)
    )
    return mul(moved, sensitivity)


def roots(p):
    """The n - 1 complex roots of polynomials with n coefficients (highest power first,
    the first one non-zero) along the last axis."""
    return bind(roots_p, p)


@roots_p.def_batch
def roots_batch(args, dims):
    (p,), (dim,) = args, dims
    return roots(batch_to_front(p, dim)), 0


roots_p.def_lowering(lower_by_impl)
