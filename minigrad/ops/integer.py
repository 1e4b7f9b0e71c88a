"""Integer arithmetic without a derivative: ``gcd``, ``lcm`` and the bit shifts.

Operands are integers of one dtype (``minigrad.numpy`` promotes, and turns booleans into
integers where NumPy does); results keep that dtype.

Example:
    >>> import numpy as np
    >>> gcd(np.array([12, 18]), 8)
    array([4, 2])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.trace import bind
from minigrad.ops.logic import declare_no_derivative
from minigrad.ops.operands import binary_operation

__all__ = ["gcd", "lcm", "left_shift", "right_shift", "bitwise_count"]


def integer_result(name, aval):
    if aval.dtype.kind not in "iu":
        raise TypeError(f"{name}: operands must be integers, got {aval.dtype}.")
    return aval


gcd_p = declare_no_derivative("gcd", np.gcd, integer_result)
lcm_p = declare_no_derivative("lcm", np.lcm, integer_result)
left_shift_p = declare_no_derivative("shift_left", np.left_shift, integer_result)
right_shift_p = declare_no_derivative("shift_right", np.right_shift, integer_result)


gcd = binary_operation(gcd_p, "gcd")


lcm = binary_operation(lcm_p, "lcm")


left_shift = binary_operation(left_shift_p, "left_shift")


right_shift = binary_operation(right_shift_p, "right_shift")


def _count_result(name, aval):
    integer_result(name, aval)
    return ShapedArray(aval.shape, np.uint8)  # at most 64 bits are set


bitwise_count_p = declare_no_derivative("population_count", np.bitwise_count, _count_result)


def bitwise_count(x):
    """How many bits of ``|x|`` are set, as uint8."""
    return bind(bitwise_count_p, x)
