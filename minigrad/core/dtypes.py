"""Which dtypes carry derivatives: the one test every transform agrees on.

Real and complex floating point values have tangents and cotangents; integers and
booleans are constants to every transform.

Example:
    >>> import numpy as np
    >>> is_float_dtype(np.float32), is_float_dtype(np.int64), is_float_dtype(bool)
    (True, False, False)
"""

from __future__ import annotations

import numpy as np

__all__ = ["is_float_dtype", "FLOAT_KINDS"]

# numpy.dtype.kind of the dtypes that carry derivatives.
FLOAT_KINDS = frozenset("fc")


def is_float_dtype(dtype) -> bool:
    """Whether values of ``dtype`` carry derivatives (real or complex floating point)."""
    return np.dtype(dtype).kind in FLOAT_KINDS
