"""Integer division, remainders and integer arithmetic with NumPy's names and dtypes:
``floor_divide mod remainder fmod divmod gcd lcm left_shift right_shift``.

The remainders are differentiable as JAX's are: ``d(x % y)/dx = 1`` and
``d(x % y)/dy = -floor(x / y)`` (``-trunc(x / y)`` for ``fmod``); ``floor_divide`` is
piecewise constant, with zero gradient. Booleans divide as ``int8``, as in NumPy.

Example:
    >>> import numpy as np
    >>> divmod(np.array([7.0, -7.0]), 2.0)
    (array([ 3., -4.]), array([1., 1.]))
"""

from __future__ import annotations

import numpy as np

from minigrad.numpy import _math
from minigrad.numpy._promotion import dtype_of, to_array
from minigrad.ops import integer as it
from minigrad.ops import rounding as rd

__all__ = [
    "floor_divide", "mod", "remainder", "fmod", "divmod", "gcd", "lcm", "left_shift", "right_shift",
    "bitwise_left_shift", "bitwise_right_shift", "bitwise_count",
]  # fmt: skip


def _numeric_operands(name, x1, x2):
    """``x1`` and ``x2`` in their common dtype; booleans as int8, as NumPy's loops take them."""
    x1, x2 = _math._operands(name, x1, x2)
    if dtype_of(x1) == np.bool_:
        x1, x2 = (to_array(x, np.int8) for x in (x1, x2))
    return x1, x2


def floor_divide(x1, x2):
    """Elementwise ``x1 // x2``: the quotient rounded down (zero gradient).

    Example:
      >>> floor_divide(np.array([7, -7]), 2)
      array([ 3, -4])
    """
    return rd.floor_divide(*_numeric_operands("floor_divide", x1, x2))


def remainder(x1, x2):
    """Elementwise ``x1 % x2``, with the sign of ``x2`` (Python's ``%``).

    Example:
      >>> remainder(np.array([7.0, -7.0]), 3.0)
      array([1., 2.])
    """
    return rd.remainder(*_numeric_operands("remainder", x1, x2))


mod = remainder


def fmod(x1, x2):
    """Elementwise remainder of C's ``fmod``, with the sign of ``x1``.

    Example:
      >>> fmod(np.array([7.0, -7.0]), 3.0)
      array([ 1., -1.])
    """
    return rd.fmod(*_numeric_operands("fmod", x1, x2))


def divmod(x1, x2):  # noqa: A001 - NumPy's name
    """``(floor_divide(x1, x2), remainder(x1, x2))``, what Python's ``divmod()`` gives.

    Example:
      >>> divmod(np.array([7, -7]), 2)
      (array([ 3, -4]), array([1, 1]))
    """
    x1, x2 = _numeric_operands("divmod", x1, x2)
    return rd.floor_divide(x1, x2), rd.remainder(x1, x2)


def _integer_operands(name, x1, x2, booleans_as=None):
    x1, x2 = _math._operands(name, x1, x2)
    kind = dtype_of(x1).kind
    if kind == "b" and booleans_as is not None:
        return tuple(to_array(x, booleans_as) for x in (x1, x2))
    if kind not in "iu":
        raise TypeError(
            f"{name}: operands must be integers, got {dtype_of(x1)}. Convert them first, "
            f"for example with x.astype(int)."
        )
    return x1, x2


def gcd(x1, x2):
    """The greatest common divisor of integers, elementwise (non-negative; no gradient).

    Example:
      >>> gcd(np.array([12, -18]), 8)
      array([4, 2])
    """
    return it.gcd(*_integer_operands("gcd", x1, x2))


def lcm(x1, x2):
    """The least common multiple of integers, elementwise (non-negative; no gradient).

    Example:
      >>> lcm(np.array([4, 6]), 3)
      array([12,  6])
    """
    return it.lcm(*_integer_operands("lcm", x1, x2))


def left_shift(x1, x2):
    """Shift the bits of integers left (``x1 << x2``, that is ``x1 * 2**x2``); no gradient.

    Example:
      >>> left_shift(np.array([1, 3]), 2)
      array([ 4, 12])
    """
    return it.left_shift(*_integer_operands("left_shift", x1, x2, booleans_as=np.int8))


def right_shift(x1, x2):
    """Shift the bits of integers right (``x1 >> x2``, rounding down); no gradient.

    Example:
      >>> right_shift(np.array([16, -16]), 2)
      array([ 4, -4])
    """
    return it.right_shift(*_integer_operands("right_shift", x1, x2, booleans_as=np.int8))


# NumPy 2's names from the array API standard.
bitwise_left_shift, bitwise_right_shift = left_shift, right_shift


def bitwise_count(x):
    """How many bits of ``|x|`` are set, as uint8, for integers and booleans (no gradient).

    Example:
      >>> bitwise_count(np.array([7, -1, 0]))
      array([3, 1, 0], dtype=uint8)
    """
    x = to_array(x)
    if dtype_of(x).kind == "b":
        x = to_array(x, np.uint8)
    if dtype_of(x).kind not in "iu":
        raise TypeError(f"bitwise_count: the operand must be integers or booleans, got {dtype_of(x)}.")
    return it.bitwise_count(x)
