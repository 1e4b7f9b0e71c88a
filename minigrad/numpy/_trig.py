"""Hyperbolic and inverse trigonometric functions, angles, ``hypot`` and ``sinc``, with
NumPy's names (NumPy 2's short aliases ``asin``... included), promotion and broadcasting.

Integers and booleans are computed as floats, as NumPy's ufuncs do (``int64`` as
``float64``, ``int8`` and booleans as ``float16``).

Example:
    >>> import numpy as np
    >>> arctan2(np.array([1.0, -1.0]), -1.0) / np.pi
    array([ 0.75, -0.75])
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.numpy import _math
from minigrad.numpy._promotion import dtype_of, promote_to_inexact, to_array
from minigrad.ops import elementwise as ew
from minigrad.ops import trigonometry as tg

__all__ = [
    "sinh", "cosh", "arcsin", "arccos", "arcsinh", "arccosh", "arctanh", "arctan2", "hypot",
    "asin", "acos", "atan", "asinh", "acosh", "atanh", "atan2",
    "deg2rad", "rad2deg", "degrees", "radians", "sinc",
]  # fmt: skip


def _unary(name, op, doc_input, doc_output):
    function = _math._unary(name, op, doc_input, doc_output)
    function.__module__ = __name__  # so that its example runs with this module's doctests
    return function


sinh = _unary("sinh", tg.sinh, "[0.0]", "array([0.])")
cosh = _unary("cosh", tg.cosh, "[0.0]", "array([1.])")
arcsin = _unary("arcsin", tg.arcsin, "[1.0]", "array([1.57079633])")
arccos = _unary("arccos", tg.arccos, "[1.0]", "array([0.])")
arcsinh = _unary("arcsinh", tg.arcsinh, "[0.0]", "array([0.])")
arccosh = _unary("arccosh", tg.arccosh, "[1.0]", "array([0.])")
arctanh = _unary("arctanh", tg.arctanh, "[0.0]", "array([0.])")

# NumPy 2's names from the array API standard.
asin, acos, atan, asinh, acosh, atanh = arcsin, arccos, _math.arctan, arcsinh, arccosh, arctanh


def _inexact_operands(name, x1, x2):
    """``x1`` and ``x2`` in one floating-point dtype, their shapes checked under ``name``."""
    return _math._operands(name, *promote_to_inexact(name, x1, x2))


def arctan2(x1, x2):
    """The angle of the point ``(x2, x1)``, in ``[-pi, pi]``, with the signs of both.

    Its gradient at the origin, where it has none, is 0.

    Example:
      >>> arctan2(1.0, np.array([1.0, 0.0])) / np.pi
      array([0.25, 0.5 ])
    """
    return tg.arctan2(*_inexact_operands("arctan2", x1, x2))


atan2 = arctan2


def hypot(x1, x2):
    """``sqrt(x1**2 + x2**2)``, elementwise, without overflow; its gradient at 0 is 0.

    Example:
      >>> hypot(np.array([3.0, 1e300]), np.array([4.0, 1e300]))
      array([5.00000000e+000, 1.41421356e+300])
    """
    return tg.hypot(*_inexact_operands("hypot", x1, x2))


def _scaled(name, factor):
    def function(x):
        (x,) = promote_to_inexact(name, x)
        return ew.mul(x, factor)  # a Python float: float32 stays float32

    function.__name__ = function.__qualname__ = name
    return function


_DEGREE = math.pi / 180.0
deg2rad = _scaled("deg2rad", _DEGREE)
deg2rad.__doc__ = """Degrees to radians.

    Example:
      >>> deg2rad(np.array([180.0]))
      array([3.14159265])
    """
rad2deg = _scaled("rad2deg", 180.0 / math.pi)
rad2deg.__doc__ = """Radians to degrees.

    Example:
      >>> rad2deg(np.array([np.pi / 2]))
      array([90.])
    """
radians, degrees = deg2rad, rad2deg


def sinc(x):
    """The normalised sinc, ``sin(pi x) / (pi x)`` and 1 at 0. Its derivative at 0 is 0,
    and every derivative is accurate near 0. Integers and booleans become float64, as
    NumPy's ``sinc`` computes them.

    Example:
      >>> sinc(np.array([0.0, 0.5, 1]))
      array([1.00000000e+00, 6.36619772e-01, 3.89817183e-17])
    """
    x = to_array(x)
    if dtype_of(x).kind not in "fc":
        x = to_array(x, np.float64)
    return tg.sinc(x)
