"""How the operands of a special function meet: NumPy's promotion, then real floats.

SciPy's special functions compute in float32 or float64 (float16 and integers are
widened, as SciPy's own loops do), and minigrad's derivative rules here are those of
real functions, so complex operands are refused with a message rather than given a
wrong derivative.

Example:
    >>> import numpy as np
    >>> [x.dtype for x in real_float_operands("xlogy", np.arange(2), np.ones(2, np.float32))]
    [dtype('float64'), dtype('float64')]
"""

from __future__ import annotations

import numpy as np

from minigrad.numpy._promotion import promote_to_inexact

__all__ = ["real_float_operands"]


def real_float_operands(opname: str, *args) -> list:
    """``args`` promoted to one real floating dtype that SciPy computes in (float32 or float64)."""
    operands = promote_to_inexact(opname, *args)
    dtype = operands[0].dtype
    if dtype.kind == "c":
        raise TypeError(
            f"minigrad.scipy.special.{opname}: operands of dtype {dtype}; only real arguments are "
            "supported (the derivative rules are those of the real function). Pass the real part, "
            "or compute with minigrad.numpy on complex values."
        )
    if dtype == np.float16:
        # SciPy has no half-precision loops; it would return float32 anyway.
        operands = [x.astype(np.float32) for x in operands]
    return operands
