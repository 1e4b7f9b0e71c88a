"""Determinants and decompositions: ``det slogdet cholesky qr eigh eigvalsh svd svdvals``.

Each binds one primitive of ``minigrad.ops`` (``decompositions``, ``spectral``), whose
derivatives are closed forms. Results with several parts are NumPy 2's named tuples
(``SlogdetResult``, ``QRResult``, ``EighResult``, ``SVDResult``). ``cholesky``, ``eigh``
and ``eigvalsh`` use the Hermitian part ``(a + aᴴ) / 2`` of their input (the symmetric
part of a real one), as JAX does, so their gradients are Hermitian; for a Hermitian input
this is exactly NumPy's result. All take complex matrices, with JAX's derivative
conventions (docs/complex.md).

Example:
    >>> import numpy as np
    >>> det(np.array([[2.0, 1.0], [1.0, 3.0]]))
    array(5.)
"""

from __future__ import annotations

from typing import NamedTuple

from minigrad.numpy.linalg._operands import float_operands, require_matrices, require_square
from minigrad.ops import decompositions as dec
from minigrad.ops import spectral as spec
from minigrad.ops.solvers import adjoint, hermitian_part

__all__ = [
    "det", "slogdet", "cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals",
    "SlogdetResult", "QRResult", "EighResult", "SVDResult",
]  # fmt: skip


class SlogdetResult(NamedTuple):
    sign: object
    logabsdet: object


class QRResult(NamedTuple):
    Q: object  # noqa: N815 - NumPy's field names
    R: object  # noqa: N815


class EighResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


class SVDResult(NamedTuple):
    U: object  # noqa: N815
    S: object  # noqa: N815
    Vh: object  # noqa: N815


def _square(opname, a):
    (a,) = float_operands(opname, a)
    require_square(opname, a)
    return a


def det(a):
    """The determinant of each square matrix in ``a`` (shape ``(..., n, n)``).

    Its derivative is ``det(a) · a⁻ᵀ`` (Jacobi's formula), found by a solve.

    Args:
      a: a square matrix or a stack of them.

    Returns:
      The determinants, of shape ``a.shape[:-2]``.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> mg.grad(det)(np.array([[2.0, 0.0], [0.0, 3.0]]))
      array([[3., 0.],
             [0., 2.]])
    """
    return dec.det(_square("det", a))


def slogdet(a):
    """The sign and the natural log of the absolute value of each determinant.

    Stable where ``det`` over- or underflows. The gradient of ``logabsdet`` is ``a⁻ᵀ``;
    ``sign`` has none.

    Args:
      a: a square matrix or a stack of them.

    Returns:
      ``SlogdetResult(sign, logabsdet)``, each of shape ``a.shape[:-2]``.

    Example:
      >>> import numpy as np
      >>> slogdet(np.array([[0.0, 2.0], [3.0, 0.0]]))
      SlogdetResult(sign=array(-1.), logabsdet=array(1.79175947))
    """
    sign, logabsdet = dec.slogdet(_square("slogdet", a))
    return SlogdetResult(sign, logabsdet)


def cholesky(a, /, *, upper=False):
    """The Cholesky factor ``L`` (lower; ``upper=True``: ``Lᴴ``) of Hermitian (real:
    symmetric) positive-definite matrices, with ``a = L Lᴴ``.

    Only the Hermitian part of ``a`` is used. NumPy raises ``LinAlgError`` for a matrix
    that is not positive definite.

    Args:
      a: a symmetric positive-definite matrix or a stack of them.
      upper: return the upper factor ``Lᴴ`` instead.

    Returns:
      The factors, shaped like ``a``.

    Example:
      >>> import numpy as np
      >>> cholesky(np.array([[4.0, 2.0], [2.0, 2.0]]))
      array([[2., 0.],
             [1., 1.]])
    """
    lower = dec.cholesky(hermitian_part(_square("cholesky", a)))
    return adjoint(lower) if upper else lower


def qr(a, mode="reduced"):
    """The QR factorization ``a = Q R`` of a matrix or a stack of them.

    Modes as NumPy's: ``"reduced"`` (``Q`` is ``m × k``, ``R`` is ``k × n``, ``k =
    min(m, n)``), ``"complete"`` (only where it equals the reduced one, ``m <= n``), and
    ``"r"`` (``R`` alone). Differentiable for ``m >= n``, as in JAX; for complex ``a``
    the derivative keeps ``R``'s diagonal real, as LAPACK's factorization has it.

    Args:
      a: a matrix or a stack of matrices.
      mode: ``"reduced"``, ``"complete"`` or ``"r"``.

    Returns:
      ``QRResult(Q, R)``, or ``R`` for ``mode="r"``.

    Example:
      >>> import numpy as np
      >>> q, r = qr(np.array([[3.0, 0.0], [4.0, 5.0]]))
      >>> np.allclose(q @ r, [[3.0, 0.0], [4.0, 5.0]])
      True
    """
    (a,) = float_operands("qr", a)
    require_matrices("qr", a)
    if mode not in ("reduced", "complete", "r"):
        raise NotImplementedError(f"qr: mode={mode!r} is not supported; use 'reduced', 'complete' or 'r'.")
    if mode == "complete" and a.shape[-2] > a.shape[-1]:
        raise NotImplementedError(
            f"qr: mode='complete' of a tall matrix (shape {a.shape}) is not supported; "
            "use mode='reduced', which has the same R up to its zero rows."
        )
    q, r = dec.qr(a)
    return r if mode == "r" else QRResult(q, r)


def _check_uplo(opname, uplo):
    if uplo not in ("L", "U"):
        raise ValueError(f"{opname}: UPLO must be 'L' or 'U', got {uplo!r}.")


def eigh(a, UPLO="L"):  # noqa: N803 - NumPy's name
    """Eigenvalues (ascending, real) and orthonormal eigenvectors of Hermitian (real:
    symmetric) matrices.

    The Hermitian part of ``a`` is decomposed (``UPLO`` is accepted for NumPy's sake).
    Gradients are JAX's: through an eigenvector ``j`` they involve ``1 / (w[j] - w[i])``,
    so they are not finite when eigenvalues repeat (the eigenvectors are then not unique);
    gradients of the eigenvalues alone are fine (see ``eigvalsh``). Eigenvectors are
    defined up to sign: differentiate functions that do not depend on it.

    Args:
      a: a Hermitian matrix or a stack of them.
      UPLO: ``"L"`` or ``"U"``.

    Returns:
      ``EighResult(eigenvalues, eigenvectors)``, with ``a @ v = v * w``.

    Example:
      >>> import numpy as np
      >>> w, v = eigh(np.array([[2.0, 1.0], [1.0, 2.0]]))
      >>> w
      array([1., 3.])
    """
    _check_uplo("eigh", UPLO)
    w, v = spec.eigh(hermitian_part(_square("eigh", a)))
    return EighResult(w, v)


def eigvalsh(a, UPLO="L"):  # noqa: N803 - NumPy's name
    """The eigenvalues (ascending, real) of Hermitian (real: symmetric) matrices.

    The gradient ``V diag(w̄) Vᵀ`` (``conj(V diag(w̄) Vᴴ)`` for complex ``a``) has no ``1 / (w[j] - w[i])`` terms, so it is finite
    for repeated eigenvalues too (a valid choice there, where it is not unique).

    Args:
      a: a Hermitian matrix or a stack of them.
      UPLO: ``"L"`` or ``"U"``.

    Returns:
      The eigenvalues, of shape ``a.shape[:-1]``.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> mg.grad(lambda a: eigvalsh(a)[-1])(np.diag([1.0, 2.0]))
      array([[0., 0.],
             [0., 1.]])
    """
    _check_uplo("eigvalsh", UPLO)
    return spec.eigvalsh(hermitian_part(_square("eigvalsh", a)))


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """The singular value decomposition ``a = U diag(S) Vh`` of a matrix or a stack.

    Gradients are JAX's, for ``full_matrices=False`` (or square matrices): they involve
    ``1 / (S[j]² - S[i]²)``, taken as 0 where singular values are equal, and divide by
    the singular values when ``a`` is not square. ``U`` and ``Vh`` are defined up to
    signs (complex ones up to phases, fixed in the derivative as JAX does): differentiate
    functions that do not depend on them, such as ``U diag(S) Vh``. ``compute_uv=False``
    returns ``S`` alone (``svdvals``). ``hermitian`` is accepted and ignored.

    Args:
      a: a matrix or a stack of matrices.
      full_matrices: ``U`` and ``Vh`` square (NumPy's default) or reduced.
      compute_uv: also return ``U`` and ``Vh``.
      hermitian: ignored (the result is the same).

    Returns:
      ``SVDResult(U, S, Vh)``, or ``S`` alone for ``compute_uv=False``.

    Example:
      >>> import numpy as np
      >>> svd(np.diag([3.0, 4.0]), compute_uv=False)
      array([4., 3.])
    """
    if not compute_uv:
        return svdvals(a)
    (a,) = float_operands("svd", a)
    require_matrices("svd", a)
    u, s, vh = spec.svd(a, full_matrices=full_matrices)
    return SVDResult(u, s, vh)


def svdvals(x, /):
    """The singular values (descending) of a matrix or a stack of them.

    The gradient ``U diag(S̄) Vh`` is finite also where singular values repeat.

    Args:
      x: a matrix or a stack of matrices.

    Returns:
      The singular values, of shape ``(..., min(m, n))``.

    Example:
      >>> import numpy as np
      >>> svdvals(np.array([[0.0, 2.0], [1.0, 0.0]]))
      array([2., 1.])
    """
    (x,) = float_operands("svdvals", x)
    require_matrices("svdvals", x)
    return spec.svdvals(x)
