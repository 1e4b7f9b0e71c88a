"""How ``minigrad.numpy.linalg`` takes its arguments: NumPy's dtype rules for linear
algebra (integers and booleans become float64, complex arrays stay complex, float16 is
refused) and its shape checks, with errors that name the function and the shapes.

Example:
    >>> import numpy as np
    >>> float_operands("inv", np.eye(2, dtype=np.int64))[0].dtype
    dtype('float64')
"""

from __future__ import annotations

import numpy as np

from minigrad.numpy._promotion import promote, to_array

__all__ = ["float_operands", "require_matrices", "require_square", "LinAlgError"]

LinAlgError = np.linalg.LinAlgError


def float_operands(opname: str, *args) -> list:
    """``args`` as arrays of one floating or complex dtype, as NumPy's linalg functions
    take them."""
    arrays = promote(opname, *(to_array(x) for x in args))
    dtype = arrays[0].dtype
    if dtype.kind in "biu":
        return [to_array(x, np.float64) for x in arrays]
    if dtype.kind == "c":
        return arrays
    if dtype == np.float16:
        raise TypeError(f"{opname}: float16 is not supported in linalg (as in NumPy); cast to float32.")
    if dtype.kind != "f":
        raise TypeError(f"{opname}: expected numbers, got an array of dtype {dtype}.")
    return arrays


def require_matrices(opname: str, a) -> None:
    """A ValueError unless ``a`` is a matrix or a stack of them."""
    if a.ndim < 2:
        raise ValueError(
            f"{opname}: expected a matrix or a stack of matrices (at least 2 dimensions), got shape {a.shape}."
        )


def require_square(opname: str, a) -> None:
    """A ValueError unless ``a`` is a square matrix or a stack of them."""
    require_matrices(opname, a)
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(
            f"{opname}: the last two axes must be square (shape (..., n, n)), got shape {a.shape}."
        )
