"""Functions of floating-point numbers with NumPy's names and dtypes: signs (``fabs
copysign signbit heaviside``), NaN-ignoring extrema (``fmax fmin``), logarithms of sums
(``logaddexp logaddexp2``), ``float_power``, ``nan_to_num``, and the representation of
floats (``frexp ldexp modf nextafter spacing``).

Example:
    >>> import numpy as np
    >>> fmax(np.array([1.0, np.nan]), np.array([np.nan, 2.0]))
    array([1., 2.])
"""

from __future__ import annotations

import numpy as np

from minigrad.numpy import _math
from minigrad.numpy._promotion import dtype_of, promote_to_inexact, result_dtype, to_array
from minigrad.ops import elementwise as ew
from minigrad.ops import floating as fl
from minigrad.ops import logaddexp as lae
from minigrad.ops import logic as lg
from minigrad.ops import predicates as pr
from minigrad.ops import rounding as rd

__all__ = [
    "fabs", "copysign", "signbit", "heaviside", "fmax", "fmin", "logaddexp", "logaddexp2",
    "float_power", "nan_to_num", "pow", "frexp", "ldexp", "modf", "nextafter", "spacing",
]  # fmt: skip


def _inexact_operands(name, x1, x2):
    return _math._operands(name, *promote_to_inexact(name, x1, x2))


def fabs(x):
    """Elementwise absolute value as a float (integers become floats); ``fabs'(0) = 0``.

    Example:
      >>> fabs(np.array([-2, 3]))
      array([2., 3.])
    """
    (x,) = promote_to_inexact("fabs", x)
    return ew.abs(x)


def signbit(x):
    """Whether the sign bit is set: True for negative numbers and ``-0.0`` (no gradient).

    Example:
      >>> signbit(np.array([-1.0, -0.0, 0.0, 2.0]))
      array([ True,  True, False, False])
    """
    return pr.signbit(to_array(x))


def copysign(x1, x2):
    """The magnitude of ``x1`` with the sign bit of ``x2``; its gradient reaches ``x1`` only.

    Example:
      >>> copysign(np.array([1.0, -2.0]), np.array([-0.0, 3.0]))
      array([-1.,  2.])
    """
    x1, x2 = _inexact_operands("copysign", x1, x2)
    magnitude = ew.abs(x1)
    return ew.select(pr.signbit(x2), ew.neg(magnitude), magnitude)


def heaviside(x1, x2):
    """The step function: 0 where ``x1 < 0``, 1 where ``x1 > 0``, ``x2`` where ``x1 == 0``.

    Its gradient reaches ``x2`` where it is chosen; NaN in ``x1`` gives NaN, as in NumPy.

    Example:
      >>> heaviside(np.array([-1.0, 0.0, 2.0]), 0.5)
      array([0. , 0.5, 1. ])
    """
    x1, x2 = _inexact_operands("heaviside", x1, x2)
    step = ew.select(lg.greater(x1, 0.0), 1.0, x2)
    step = ew.select(lg.less(x1, 0.0), 0.0, step)
    return ew.select(pr.isnan(x1), x1, step)


def _nan_ignoring(name, extremum, x1, x2):
    x1, x2 = _math._operands(name, x1, x2)
    if dtype_of(x1).kind not in "fc":
        return extremum(x1, x2)  # integers and booleans have no NaN
    # Where one is NaN the other is the answer, and gets the whole gradient.
    out = ew.select(pr.isnan(x1), x2, extremum(x1, x2))
    return ew.select(pr.isnan(x2), x1, out)


def fmax(x1, x2):
    """Elementwise maximum that ignores NaNs (NaN only where both are); ties share the gradient.

    Example:
      >>> fmax(np.array([1.0, 5.0, np.nan]), np.array([3.0, np.nan, np.nan]))
      array([ 3.,  5., nan])
    """
    return _nan_ignoring("fmax", ew.maximum, x1, x2)


def fmin(x1, x2):
    """Elementwise minimum that ignores NaNs (NaN only where both are); ties share the gradient.

    Example:
      >>> fmin(np.array([1.0, 5.0]), np.array([3.0, np.nan]))
      array([1., 5.])
    """
    return _nan_ignoring("fmin", ew.minimum, x1, x2)


def logaddexp(x1, x2):
    """``log(exp(x1) + exp(x2))`` without overflow; gradients are stable too.

    Example:
      >>> logaddexp(np.array([0.0, 1000.0]), np.array([0.0, -1000.0]))
      array([6.93147181e-01, 1.00000000e+03])
    """
    return lae.logaddexp(*_inexact_operands("logaddexp", x1, x2))


def logaddexp2(x1, x2):
    """``log2(2**x1 + 2**x2)`` without overflow; gradients are stable too.

    Example:
      >>> logaddexp2(np.array([1.0, 3.0]), 1.0)
      array([2.        , 3.32192809])
    """
    return lae.logaddexp2(*_inexact_operands("logaddexp2", x1, x2))


def float_power(x1, x2):
    """``x1 ** x2`` computed in at least float64 (NumPy's ``float_power``).

    Example:
      >>> float_power(np.array([2, 4], np.int8), -1)
      array([0.5 , 0.25])
    """
    try:
        dtype = np.result_type(result_dtype(x1, x2), np.float64)
    except TypeError as error:
        raise TypeError(
            f"float_power: no common dtype for {type(x1).__name__} and {type(x2).__name__}: {error}"
        ) from None
    if type(x2) is not int:  # a Python int exponent keeps power's exact repeated products
        x2 = to_array(x2, dtype)
    return _math.power(to_array(x1, dtype), x2)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Replace NaN by ``nan``, infinities by ``posinf``/``neginf`` (default: the largest
    finite numbers of the dtype). The gradient passes where ``x`` is finite, else it is 0.

    Example:
      >>> nan_to_num(np.array([np.nan, -np.inf, 1.0]), neginf=-9.0)
      array([ 0., -9.,  1.])
    """
    x = to_array(x)
    dtype = dtype_of(x)
    if dtype.kind not in "fc":
        return x  # integers and booleans are always finite
    largest = float(np.finfo(dtype).max)
    posinf = largest if posinf is None else posinf
    neginf = -largest if neginf is None else neginf
    replacement = ew.select(lg.greater(x, 0.0), np.asarray(posinf, dtype), np.asarray(neginf, dtype))
    replacement = ew.select(pr.isnan(x), np.asarray(nan, dtype), replacement)
    return ew.select(lg.isfinite(x), x, replacement)


pow = _math.power  # noqa: A001 - NumPy 2's name for power


def ldexp(x1, x2):
    """``x1 * 2**x2`` for integers ``x2``, exactly; the gradient reaches ``x1`` only.

    Example:
      >>> ldexp(np.array([1.5, 3.0], np.float32), np.array([2, -1]))
      array([6. , 1.5], dtype=float32)
    """
    (x1,) = promote_to_inexact("ldexp", x1)
    x2 = to_array(x2)
    if dtype_of(x2).kind == "b":
        x2 = to_array(x2, np.int8)
    if dtype_of(x2).kind not in "iu":
        raise TypeError(
            f"ldexp: the exponent must be an integer, got {dtype_of(x2)}; use x1 * 2.0**x2 "
            "for a differentiable power of two."
        )
    return fl.ldexp(x1, x2)


def frexp(x):
    """Mantissas ``m`` and int32 exponents ``e`` with ``x = m * 2**e`` and ``0.5 <= |m| < 1``.

    The mantissa's gradient is ``2**-e`` (the exponent is piecewise constant).

    Example:
      >>> frexp(np.array([3.0, -0.25, 0.0]))
      (array([ 0.75, -0.5 ,  0.  ]), array([ 2, -1,  0], dtype=int32))
    """
    (x,) = promote_to_inexact("frexp", x)
    exponent = fl.frexp_exponent(x)
    return fl.ldexp(x, ew.neg(exponent)), exponent


def modf(x):
    """Fractional and integral parts, both with the sign of ``x`` (``modf(-inf)`` is
    ``(-0.0, -inf)``); the gradient reaches ``x`` through the fractional part.

    Example:
      >>> modf(np.array([2.5, -0.75]))
      (array([ 0.5 , -0.75]), array([ 2., -0.]))
    """
    (x,) = promote_to_inexact("modf", x)
    finite = ew.select(pr.isinf(x), 0.0, x)  # inf - trunc(inf) would be NaN, with a warning
    whole = rd.trunc(finite)
    # Negated for negative x, so that a zero fraction is -0.0 there; the gradient is 1.
    fraction = ew.select(pr.signbit(x), ew.neg(ew.sub(whole, finite)), ew.sub(finite, whole))
    return fraction, rd.trunc(x)


def nextafter(x1, x2):
    """The next representable number after ``x1`` toward ``x2`` (no gradient).

    Example:
      >>> nextafter(np.array([1.0], np.float32), 2.0) - 1.0
      array([1.1920929e-07], dtype=float32)
    """
    return fl.nextafter(*_inexact_operands("nextafter", x1, x2))


def spacing(x):
    """The distance from ``x`` to the next larger number of its dtype, in ``x``'s direction
    (no gradient).

    Example:
      >>> spacing(np.array([1.0, 1e10]))
      array([2.22044605e-16, 1.90734863e-06])
    """
    (x,) = promote_to_inexact("spacing", x)
    return fl.spacing(x)
