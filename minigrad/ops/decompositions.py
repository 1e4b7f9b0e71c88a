"""Determinants and factorizations: ``slogdet``, ``det``, ``cholesky``, ``qr``.

Each primitive calls NumPy's LAPACK-backed routine; its derivatives are the closed forms
(never a derivative of the factorization algorithm), written with the solves of
``solvers`` so they can be differentiated again:

- ``log|det A|``: ``d = tr(A⁻¹ dA)``, so its cotangent is ``A⁻ᵀ`` times the output's,
  found by a solve; ``det`` is the same times ``det A``.
- ``cholesky`` (``A = L Lᴴ``, ``A`` Hermitian): ``dL = L Φ(L⁻¹ dA L⁻ᴴ)``, ``Φ`` taking the
  lower triangle with its diagonal halved; by triangular solves.
- ``qr`` (reduced, ``m >= n``): ``dQ`` and ``dR`` from ``Qᴴ dA R⁻¹`` split into its
  anti-Hermitian and upper-triangular parts; for complex matrices the anti-Hermitian
  part also takes the imaginary diagonal, so that ``R`` keeps a real diagonal (JAX's
  gauge).

For real matrices ``ᴴ`` is ``ᵀ``. With conjugates in them these maps are not complex
linear, so each reverse rule is written as the map's adjoint under ``Re tr(Xᴴ Y)`` and
turned into JAX's cotangent (the transpose under ``Re(x y)``, docs/complex.md) as
``conj(adjoint(conj(c)))``; for real matrices both are the transpose.

``cholesky`` treats its input as Hermitian: the tangent it is given is assumed
Hermitian, which ``minigrad.numpy.linalg.cholesky`` ensures by taking the Hermitian
part of its input, as JAX does.

Example:
    >>> import numpy as np
    >>> slogdet(np.diag([2.0, -3.0]))
    [array(-1.), array(1.79175947)]
"""

from __future__ import annotations

import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, get_aval
from minigrad.ops import complex_parts as cp
from minigrad.ops.elementwise import add, convert_element_type, mul, sub
from minigrad.ops.linalg import matmul, swap_last_axes
from minigrad.ops.shape import expand_dims, reduce_sum
from minigrad.ops.solvers import (
    adjoint,
    check_square,
    conj_if_complex,
    diagonal_part,
    identity_like,
    imaginary_diagonal,
    matrices_batch_rule,
    solve,
    triangle,
    triangular_solve,
)

__all__ = ["slogdet", "det", "cholesky", "qr", "slogdet_p", "det_p", "cholesky_p", "qr_p"]


def _trace_of_solve(a, da):
    """``tr(A⁻¹ dA)`` for stacks of matrices: the derivative of ``log|det A|``."""
    return reduce_sum(diagonal_part(solve(a, da)), (get_aval(a).ndim - 2,))


def _scaled_inverse_transpose(a, scale):
    """``scale · A⁻ᵀ`` (``scale`` of shape ``(...)``), by one solve with ``Aᵀ``."""
    scale = expand_dims(scale, (get_aval(scale).ndim, get_aval(scale).ndim + 1))
    return solve(swap_last_axes(a), mul(scale, identity_like(a)))


def _batch_shape_rule(opname):
    def matrices_to_numbers_shape_rule(a):
        check_square(opname, a)
        return ShapedArray(a.shape[:-2], a.dtype)

    return matrices_to_numbers_shape_rule


# ---------------------------------------------------------------------------------------
# slogdet: (sign, log|det|). With t = tr(A⁻¹ dA), d log|det| = Re t. A real sign has no
# derivative; a complex one turns: d sign = sign · 1j · Im t (as in JAX).


slogdet_p = Primitive("slogdet", multiple_results=True)


@slogdet_p.def_impl
def slogdet_impl(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return [np.asarray(sign), np.asarray(logabsdet)]


@slogdet_p.def_shape_rule
def slogdet_shape_rule(a):
    out = _batch_shape_rule("slogdet")(a)
    return [out, ShapedArray(out.shape, cp.real_dtype(out.dtype))]


def slogdet_vjp(cts, ans, a):
    sign_ct, logabsdet_ct = cts
    if get_aval(a).dtype.kind != "c":
        return _scaled_inverse_transpose(a, logabsdet_ct)
    # The transpose of t ↦ (sign · 1j · Im t, Re t), read as Re(c · out) (docs/complex.md).
    dtype = get_aval(a).dtype
    trace_ct = convert_element_type(logabsdet_ct, dtype)
    turn = cp.real(mul(mul(sign_ct, ans[0]), 1j))
    trace_ct = add(trace_ct, mul(convert_element_type(turn, dtype), -1j))
    return _scaled_inverse_transpose(a, trace_ct)


slogdet_p.def_vjp(slogdet_vjp)


@slogdet_p.def_jvp
def slogdet_jvp(primals, tangents, ans):
    trace = _trace_of_solve(primals[0], tangents[0])
    if get_aval(trace).dtype.kind != "c":
        return [None, trace]
    turn = convert_element_type(cp.imag(trace), get_aval(trace).dtype)
    return [mul(mul(ans[0], turn), 1j), cp.real(trace)]


def slogdet(a):
    """``[sign, log|det A|]`` of a stack of square matrices."""
    return bind(slogdet_p, a)


slogdet_p.def_batch(matrices_batch_rule(slogdet))
slogdet_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# det


det_p = Primitive("det")


@det_p.def_impl
def det_impl(a):
    return np.asarray(np.linalg.det(a))


det_p.def_shape_rule(_batch_shape_rule("det"))


def det_vjp(ct, ans, a):
    # d det A = det A · tr(A⁻¹ dA) (Jacobi's formula).
    return _scaled_inverse_transpose(a, mul(ct, ans))


det_p.def_vjp(det_vjp)


@det_p.def_jvp
def det_jvp(primals, tangents, ans):
    return mul(ans, _trace_of_solve(primals[0], tangents[0]))


def det(a):
    """The determinants of a stack of square matrices."""
    return bind(det_p, a)


det_p.def_batch(matrices_batch_rule(det))
det_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# cholesky


cholesky_p = Primitive("cholesky")


@cholesky_p.def_impl
def cholesky_impl(a):
    return np.linalg.cholesky(a)


@cholesky_p.def_shape_rule
def cholesky_shape_rule(a):
    check_square("cholesky", a)
    return a


def _lower_half(x):
    """Φ: the lower triangle with its diagonal halved."""
    return triangle(x, lower=True, diagonal_scale=0.5)


def _conjugate_by_inverse(lower, x):
    """``L⁻¹ X L⁻ᴴ`` by two triangular solves."""
    left = triangular_solve(lower, x, lower=True)
    return adjoint(triangular_solve(lower, adjoint(left), lower=True))


def cholesky_vjp(ct, ans, a):
    # The adjoint of dA ↦ L Φ(L⁻¹ dA L⁻ᴴ) is Ā = L⁻ᴴ Φ(Lᴴ L̄) L⁻¹ (Φ is its own adjoint).
    upper = adjoint(ans)
    middle = _lower_half(matmul(upper, conj_if_complex(ct)))
    left = triangular_solve(upper, middle, lower=False)
    return conj_if_complex(adjoint(triangular_solve(upper, adjoint(left), lower=False)))


cholesky_p.def_vjp(cholesky_vjp)


@cholesky_p.def_jvp
def cholesky_jvp(primals, tangents, ans):
    return matmul(ans, _lower_half(_conjugate_by_inverse(ans, tangents[0])))


def cholesky(a):
    """The lower Cholesky factors of a stack of Hermitian positive-definite matrices."""
    return bind(cholesky_p, a)


cholesky_p.def_batch(matrices_batch_rule(cholesky))
cholesky_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# qr: the reduced factorization; derivatives for m >= n.


qr_p = Primitive("qr", multiple_results=True)


@qr_p.def_impl
def qr_impl(a):
    q, r = np.linalg.qr(a, mode="reduced")
    return [q, r]


@qr_p.def_shape_rule
def qr_shape_rule(a):
    if a.ndim < 2:
        raise ValueError(f"qr: expected a matrix or a stack of them, got shape {a.shape}.")
    m, n = a.shape[-2:]
    k = min(m, n)
    return [ShapedArray((*a.shape[:-2], m, k), a.dtype), ShapedArray((*a.shape[:-2], k, n), a.dtype)]


def _check_tall(a):
    m, n = get_aval(a).shape[-2:]
    if m < n:
        raise NotImplementedError(
            f"qr: the derivative is implemented for matrices with at least as many rows as "
            f"columns (m >= n), as in JAX; got shape {get_aval(a).shape}. Differentiate the "
            "factorization of the transpose, or of the leading square block, instead."
        )


def _anti_hermitian(x):
    """Ω(X): ``L - Lᴴ`` for ``L`` the strict lower triangle of ``X``, plus ``X``'s
    imaginary diagonal (``1j · Im X_ii``; nothing for real ``X``)."""
    below = triangle(x, lower=True, diagonal_scale=0.0)
    result = sub(below, adjoint(below))
    if get_aval(x).dtype.kind != "c":
        return result
    return add(result, imaginary_diagonal(x))


def _anti_hermitian_adjoint(x):
    """Ω's adjoint under ``Re tr(Xᴴ Y)``: ``L(X) - L(Xᴴ)`` plus ``X``'s imaginary diagonal."""
    result = sub(
        triangle(x, lower=True, diagonal_scale=0.0), triangle(adjoint(x), lower=True, diagonal_scale=0.0)
    )
    if get_aval(x).dtype.kind != "c":
        return result
    return add(result, imaginary_diagonal(x))


def _times_inverse(x, upper):
    """``X R⁻¹`` for upper-triangular ``R``: ``(R⁻ᵀ Xᵀ)ᵀ`` (plain transposes: linear)."""
    return swap_last_axes(triangular_solve(swap_last_axes(upper), swap_last_axes(x), lower=True))


def _times_inverse_adjoint(x, upper):
    """``X R⁻ᴴ`` for upper-triangular ``R``: ``(conj(R)⁻¹ Xᵀ)ᵀ``."""
    return swap_last_axes(triangular_solve(conj_if_complex(upper), swap_last_axes(x), lower=False))


def qr_vjp(cts, ans, a):
    # With X = Qᴴ dA R⁻¹, dQ = Q (Ω(X) - X) + dA R⁻¹ and dR = (X - Ω(X)) R. Their adjoint:
    # Ā = (Q̄ + Q (Ω*(B) - B)) R⁻ᴴ, B = Qᴴ Q̄ - R̄ Rᴴ. For real matrices Ω*(B) - B is the
    # symmetric matrix with the lower triangle of -Bᵀ (Walter and Lehmann 2018).
    _check_tall(a)
    (q_ct, r_ct), (q, r) = [conj_if_complex(ct) for ct in cts], ans
    b = sub(matmul(adjoint(q), q_ct), matmul(r_ct, adjoint(r)))
    rhs = add(q_ct, matmul(q, sub(_anti_hermitian_adjoint(b), b)))
    return conj_if_complex(_times_inverse_adjoint(rhs, r))


qr_p.def_vjp(qr_vjp)


@qr_p.def_jvp
def qr_jvp(primals, tangents, ans):
    _check_tall(primals[0])
    (da,), (q, r) = tangents, ans
    da_rinv = _times_inverse(da, r)
    qh_da_rinv = matmul(adjoint(q), da_rinv)
    rotation = _anti_hermitian(qh_da_rinv)
    dq = add(matmul(q, sub(rotation, qh_da_rinv)), da_rinv)
    dr = matmul(sub(qh_da_rinv, rotation), r)
    return [dq, dr]


def qr(a):
    """``[Q, R]``, the reduced QR factorization of a stack of matrices."""
    return bind(qr_p, a)


qr_p.def_batch(matrices_batch_rule(qr))
qr_p.def_lowering(lower_by_impl)
