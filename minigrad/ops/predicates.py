"""Elementwise predicates on floating-point values: ``isnan``, ``isinf``, ``signbit``.

Boolean results, no derivative (like the comparisons in ``logic``).

Example:
    >>> import numpy as np
    >>> isnan(np.array([1.0, np.nan]))
    array([False,  True])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.trace import bind
from minigrad.ops.logic import declare_no_derivative

__all__ = ["isnan", "isinf", "signbit"]


def boolean_result(name, aval):
    return ShapedArray(aval.shape, np.bool_)


isnan_p = declare_no_derivative("isnan", np.isnan, boolean_result)
isinf_p = declare_no_derivative("isinf", np.isinf, boolean_result)
signbit_p = declare_no_derivative("signbit", np.signbit, boolean_result)


def isnan(x):
    return bind(isnan_p, x)


def isinf(x):
    return bind(isinf_p, x)


def signbit(x):
    """Whether the sign bit is set: True for negative numbers, ``-0.0`` and negative NaNs."""
    return bind(signbit_p, x)
