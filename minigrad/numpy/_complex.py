"""The real side of NumPy's complex-number functions: ``real imag conj conjugate angle``
and the tests ``isreal iscomplex isrealobj iscomplexobj``.

minigrad computes with real numbers for now. On real arrays these functions do what
NumPy's do (``real`` and ``conj`` are the identity, ``imag`` is zero, ``angle`` is 0 or
pi), so code written for complex numbers runs on real ones; a traced complex array is
refused with a ``TypeError``. Complex NumPy arrays outside transforms go to NumPy.

Example:
    >>> import numpy as np
    >>> imag(np.array([1.0, 2.0]))
    array([0., 0.])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy import _trig
from minigrad.numpy._promotion import dtype_of, promote_to_inexact, to_array
from minigrad.ops import logic as lg

__all__ = ["real", "imag", "conj", "conjugate", "angle", "isreal", "iscomplex", "isrealobj", "iscomplexobj"]


def _real_or_numpy(name, x):
    """``x`` as an array, or None when it is a complex NumPy array (NumPy answers then)."""
    x = to_array(x)
    if dtype_of(x).kind != "c":
        return x
    if isinstance(x, Tracer):
        raise TypeError(
            f"{name}: traced complex arrays (here {x.dtype}) are not supported yet; minigrad "
            "computes with real numbers. Keep real and imaginary parts as two real arrays."
        )
    return None


def real(val):
    """The real part: the array itself for real arrays.

    Example:
      >>> real(np.array([1.5, -2.0]))
      array([ 1.5, -2. ])
    """
    x = _real_or_numpy("real", val)
    return np.real(val) if x is None else x


def imag(val):
    """The imaginary part: zeros of the array's shape and dtype for real arrays.

    Example:
      >>> imag(np.array([1, 2]))
      array([0, 0])
    """
    x = _real_or_numpy("imag", val)
    if x is None:
        return np.imag(val)
    return np.zeros(x.shape, dtype_of(x))  # a constant: shapes are known under every transform


def conj(x):
    """The complex conjugate: the array itself for real arrays.

    Example:
      >>> conj(np.array([1.0, -2.0]))
      array([ 1., -2.])
    """
    real_x = _real_or_numpy("conj", x)
    if real_x is None:
        return np.conj(x)
    # NumPy's conjugate has no loop for booleans: they come back as int8.
    return to_array(real_x, np.int8) if dtype_of(real_x) == np.bool_ else real_x


conjugate = conj


def angle(z, deg=False):
    """The angle of each element in the complex plane: 0 for positive reals (and +0.0),
    pi for negative ones (and -0.0); in degrees with ``deg=True``. Zero gradient.

    Example:
      >>> angle(np.array([2.0, -1.0]), deg=True)
      array([  0., 180.])
    """
    x = _real_or_numpy("angle", z)
    if x is None:
        return np.angle(z, deg=deg)
    # NumPy's angle is arctan2(0, x) with a Python 0, which makes booleans float64.
    zero, x = promote_to_inexact("angle", 0, x)
    result = _trig.arctan2(zero, x)
    return _trig.rad2deg(result) if deg else result


def isreal(x):
    """Elementwise: whether the imaginary part is zero (always, for real arrays).

    Example:
      >>> isreal(np.array([1.0, 2.0]))
      array([ True,  True])
    """
    return lg.equal(imag(x), 0)


def iscomplex(x):
    """Elementwise: whether the imaginary part is nonzero (never, for real arrays).

    Example:
      >>> iscomplex(np.array([1.0, 2.0]))
      array([False, False])
    """
    return lg.not_equal(imag(x), 0)


def isrealobj(x):
    """Whether ``x`` has a real (not complex) dtype, whatever its values.

    Example:
      >>> isrealobj(np.array([1.0])), isrealobj(1j)
      (True, False)
    """
    return not iscomplexobj(x)


def iscomplexobj(x):
    """Whether ``x`` has a complex dtype, whatever its values.

    Example:
      >>> iscomplexobj(np.array([1.0])), iscomplexobj(np.array([1j]))
      (False, True)
    """
    return dtype_of(x).kind == "c"
