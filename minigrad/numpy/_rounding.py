"""Rounding with NumPy's names and dtypes: ``floor ceil trunc fix rint round around``.

Their derivative is zero wherever it exists (and zero is what they give everywhere), as
in JAX. Integers are already whole: ``floor``, ``ceil``, ``trunc`` and ``fix`` keep their
dtype, as NumPy 2 does, while ``rint`` computes them as floats, as NumPy's ufunc does.

Example:
    >>> import numpy as np
    >>> round(np.array([0.5, 1.5, 2.5]))
    array([0., 2., 2.])
"""

from __future__ import annotations

import numpy as np

from minigrad.numpy._promotion import dtype_of, promote_to_inexact, to_array
from minigrad.ops import elementwise as ew
from minigrad.ops import logic as lg
from minigrad.ops import rounding as rd

__all__ = ["floor", "ceil", "trunc", "fix", "rint", "round", "around"]


def _whole(name, op, doc_input, doc_output):
    def function(x):
        x = to_array(x)
        return x if dtype_of(x).kind in "biu" else op(x)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"Elementwise ``{name}`` (zero gradient); integers and booleans are returned as they are.\n\n"
        f"    Example:\n      >>> {name}(np.array({doc_input}))\n      {doc_output}\n"
    )
    return function


floor = _whole("floor", rd.floor, "[-1.5, 1.5]", "array([-2.,  1.])")
ceil = _whole("ceil", rd.ceil, "[-1.5, 1.5]", "array([-1.,  2.])")
trunc = _whole("trunc", rd.trunc, "[-1.5, 1.5]", "array([-1.,  1.])")
fix = _whole("fix", rd.trunc, "[-1.5, 1.5]", "array([-1.,  1.])")  # NumPy's fix is trunc


def rint(x):
    """Round to the nearest integer, halves to even (zero gradient); integers become floats.

    Example:
      >>> rint(np.array([0.5, 1.5, -2.5]))
      array([ 0.,  2., -2.])
    """
    (x,) = promote_to_inexact("rint", x)
    return rd.rint(x)


def round(a, decimals=0, out=None):  # noqa: A001 - NumPy's name
    """Round to ``decimals`` decimal places (negative: to tens, hundreds...), halves to even.

    Floats are scaled by ``10**decimals``, rounded and scaled back, as NumPy does, so the
    results are NumPy's to the last bit. Integers round exactly. The gradient is zero.

    Example:
      >>> round(np.array([1.25, -0.5]), 1)
      array([ 1.2, -0.5])
      >>> round(np.array([15, 25, 149]), -1)
      array([ 20,  20, 150])
    """
    if out is not None:
        raise TypeError("round: out= is not supported, since minigrad's arrays are immutable.")
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an integer, got {decimals!r}.")
    decimals = int(decimals)
    a = to_array(a)
    kind = dtype_of(a).kind
    if kind == "b":
        (a,) = promote_to_inexact("round", a)  # NumPy rounds booleans as float16
    elif kind in "iu":
        return a if decimals >= 0 else _round_integers(a, 10**-decimals)
    if decimals == 0:
        return rd.rint(a)
    if decimals > 0:
        scale = float(10**decimals)
        return ew.div(rd.rint(ew.mul(a, scale)), scale)
    scale = float(10**-decimals)
    return ew.mul(rd.rint(ew.div(a, scale)), scale)


around = round


def _round_integers(a, step):
    """``a`` to the nearest multiple of ``step``, halves to the even multiple, exactly."""
    dtype = dtype_of(a)
    if step > np.iinfo(dtype).max:
        return ew.mul(a, np.zeros((), dtype))  # every value is nearer 0 than +-step
    step = np.asarray(step, dtype)
    quotient = rd.floor_divide(a, step)
    rest = ew.sub(a, ew.mul(quotient, step))  # in [0, step): no overflow below
    above_half = lg.greater(rest, ew.sub(step, rest))
    at_half = lg.equal(rest, ew.sub(step, rest))
    odd = lg.not_equal(rd.remainder(quotient, np.asarray(2, dtype)), 0)
    up = lg.logical_or(above_half, lg.logical_and(at_half, odd))
    return ew.mul(ew.add(quotient, ew.convert_element_type(up, dtype)), step)
