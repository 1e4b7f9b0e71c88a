"""NumPy's complex-number functions: ``real imag conj conjugate angle`` and the tests
``isreal iscomplex isrealobj iscomplexobj``.

On complex arrays, traced or not, ``real``, ``imag`` and ``conj`` are the primitives of
``ops.complex_parts``, whose derivatives follow JAX's conventions (docs/complex.md), and
``angle`` is ``arctan2(imag, real)``. On real arrays they do what NumPy's do (``real``
and ``conj`` are the identity, ``imag`` is zero, ``angle`` is 0 or pi).

Example:
    >>> import numpy as np
    >>> imag(np.array([1.0, 2.0]))
    array([0., 0.])
    >>> import minigrad as mg
    >>> mg.grad(lambda z: imag(z * z))(np.array(1.0 + 2.0j))  # Im(z^2) = 2xy: 2y - 2x*1j
    array(4.-2.j)
"""

from __future__ import annotations

import numpy as np

from minigrad.numpy import _trig
from minigrad.numpy._promotion import dtype_of, promote_to_inexact, to_array
from minigrad.ops import complex_parts as cp
from minigrad.ops import logic as lg

__all__ = ["real", "imag", "conj", "conjugate", "angle", "isreal", "iscomplex", "isrealobj", "iscomplexobj"]


def _is_complex(x) -> bool:
    return dtype_of(x).kind == "c"


def real(val):
    """The real part: the array itself for real arrays.

    Example:
      >>> real(np.array([1.5 + 2.0j, -2.0]))
      array([ 1.5, -2. ])
    """
    x = to_array(val)
    return cp.real(x) if _is_complex(x) else x


def imag(val):
    """The imaginary part: zeros of the array's shape and dtype for real arrays.

    Example:
      >>> imag(np.array([1, 2]))
      array([0, 0])
      >>> imag(np.array([1.0 - 3.0j]))
      array([-3.])
    """
    x = to_array(val)
    if _is_complex(x):
        return cp.imag(x)
    return np.zeros(x.shape, dtype_of(x))  # a constant: shapes are known under every transform


def conj(x):
    """The complex conjugate: the array itself for real arrays.

    Example:
      >>> conj(np.array([1.0, -2.0]))
      array([ 1., -2.])
      >>> conj(np.array([1.0 + 2.0j]))
      array([1.-2.j])
    """
    x = to_array(x)
    if _is_complex(x):
        return cp.conj(x)
    # NumPy's conjugate has no loop for booleans: they come back as int8.
    return to_array(x, np.int8) if dtype_of(x) == np.bool_ else x


conjugate = conj


def angle(z, deg=False):
    """The angle of each element in the complex plane, ``arctan2(imag(z), real(z))``: for
    real arrays 0 for positive numbers (and +0.0), pi for negative ones (and -0.0); in
    degrees with ``deg=True``. Its derivative is ``Im(t / z)`` for a tangent ``t`` (zero on
    real arrays, and at 0, where it has none).

    Example:
      >>> angle(np.array([2.0, -1.0]), deg=True)
      array([  0., 180.])
      >>> angle(np.array([1.0j]))
      array([1.57079633])
    """
    x = to_array(z)
    if _is_complex(x):
        result = _trig.arctan2(cp.imag(x), cp.real(x))
    else:
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
