"""``minigrad.scipy.linalg``: SciPy's triangular, Cholesky and LU solvers and the matrix
exponential, differentiable (SciPy computes, minigrad differentiates).

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> from minigrad.scipy import linalg
    >>> mg.grad(lambda t: linalg.expm(t * np.array([[0.0, 1.0], [-1.0, 0.0]]))[0, 1])(0.0)
    array(1.)
"""

from minigrad.scipy.linalg._cholesky import cho_factor, cho_solve
from minigrad.scipy.linalg._expm import expm
from minigrad.scipy.linalg._lu import lu_factor, lu_solve
from minigrad.scipy.linalg._triangular import solve_triangular

__all__ = ["cho_factor", "cho_solve", "expm", "lu_factor", "lu_solve", "solve_triangular"]
