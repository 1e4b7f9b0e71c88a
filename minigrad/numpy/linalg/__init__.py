"""``minigrad.numpy.linalg``: NumPy's linear algebra, differentiable.

Decompositions and solvers are primitives (``minigrad.ops.solvers``,
``decompositions``, ``spectral``) that call NumPy's LAPACK routines and whose
derivatives are closed forms; the rest is built from them. Leading axes are batch axes,
as in NumPy. Conventions at degenerate points are JAX's (see ``docs/api/numpy.md``).

Every function takes complex matrices too, with JAX's derivative conventions (see
``docs/complex.md``). ``eig`` and ``eigvals`` (general, non-Hermitian eigenproblems) are
not here: API.md's list leaves them out.

Example:
    >>> import numpy as np
    >>> import minigrad.numpy as mnp
    >>> mnp.linalg.det(np.eye(3) * 2.0)
    array(8.)
"""

from minigrad.numpy.linalg._factorizations import (
    EighResult,
    QRResult,
    SlogdetResult,
    SVDResult,
    cholesky,
    det,
    eigh,
    eigvalsh,
    qr,
    slogdet,
    svd,
    svdvals,
)
from minigrad.numpy.linalg._norms import cond, matrix_norm, norm, vector_norm
from minigrad.numpy.linalg._operands import LinAlgError
from minigrad.numpy.linalg._products import (
    cross,
    diagonal,
    matmul,
    matrix_transpose,
    outer,
    tensordot,
    trace,
    vecdot,
)
from minigrad.numpy.linalg._solvers import (
    inv,
    lstsq,
    matrix_power,
    matrix_rank,
    multi_dot,
    pinv,
    solve,
    tensorinv,
    tensorsolve,
)

__all__ = [
    "norm", "inv", "solve", "det", "slogdet", "cholesky", "qr", "eigh", "eigvalsh", "svd",
    "pinv", "matrix_power", "lstsq", "multi_dot", "tensorsolve", "tensorinv", "matrix_rank",
    "cond", "matmul", "vecdot", "matrix_transpose", "outer", "trace", "diagonal", "tensordot",
    "cross", "matrix_norm", "vector_norm", "svdvals", "LinAlgError",
    "SlogdetResult", "QRResult", "EighResult", "SVDResult",
]  # fmt: skip
