"""Tests of values, with NumPy's names: the elementwise ``isnan isinf isposinf isneginf
isclose``, and the whole-array ``all any allclose array_equal array_equiv isscalar``.

Their results are booleans, so they have no gradient. The whole-array tests return 0-d
boolean arrays (NumPy returns ``bool``s for some of them), which work in ``if`` outside
transforms and under ``grad``, and stay traced under ``jit`` and ``vmap``.

Example:
    >>> import numpy as np
    >>> isclose(np.array([1.0, np.nan]), np.array([1.0 + 1e-9, np.nan]), equal_nan=True)
    array([ True,  True])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy import _math
from minigrad.numpy._promotion import dtype_of, normalize_axes, promote, result_dtype, to_array
from minigrad.ops import elementwise as ew
from minigrad.ops import logic as lg
from minigrad.ops import predicates as pr
from minigrad.ops import reduce as red
from minigrad.ops.operands import broadcast_shapes
from minigrad.ops.shape import expand_dims

__all__ = [
    "isnan", "isinf", "isposinf", "isneginf", "isclose", "allclose", "array_equal", "array_equiv",
    "all", "any", "isscalar",
]  # fmt: skip


def isnan(x):
    """Elementwise test for NaN (no gradient).

    Example:
      >>> isnan(np.array([1.0, np.nan]))
      array([False,  True])
    """
    return pr.isnan(to_array(x))


def isinf(x):
    """Elementwise test for positive or negative infinity (no gradient).

    Example:
      >>> isinf(np.array([1.0, -np.inf, np.nan]))
      array([False,  True, False])
    """
    return pr.isinf(to_array(x))


def isposinf(x):
    """Elementwise test for positive infinity (no gradient).

    Example:
      >>> isposinf(np.array([np.inf, -np.inf]))
      array([ True, False])
    """
    x = to_array(x)
    return lg.logical_and(pr.isinf(x), lg.logical_not(pr.signbit(x)))


def isneginf(x):
    """Elementwise test for negative infinity (no gradient).

    Example:
      >>> isneginf(np.array([np.inf, -np.inf]))
      array([False,  True])
    """
    x = to_array(x)
    return lg.logical_and(pr.isinf(x), pr.signbit(x))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|`` (not symmetric, as NumPy's); infinities
    are close only to themselves, NaNs to nothing unless ``equal_nan``.

    Example:
      >>> isclose(np.array([1.0, 1.1, np.inf]), np.array([1.0 + 1e-9, 1.0, np.inf]))
      array([ True, False,  True])
    """
    dtype = np.result_type(result_dtype(a, b), 1.0)  # integers are compared as floats
    a, b = promote("isclose", to_array(a, dtype), to_array(b, dtype))
    a, b = _math._operands("isclose", a, b)
    # Infinities and NaNs are compared by equality only; zeros stand in for them in the
    # distance, whose inf - inf would warn.
    finite = lg.logical_and(lg.isfinite(a), lg.isfinite(b))
    a_finite, b_finite = ew.select(finite, a, 0.0), ew.select(finite, b, 0.0)
    tolerance = ew.add(ew.mul(ew.abs(b_finite), float(rtol)), float(atol))
    within = lg.logical_and(lg.less_equal(ew.abs(ew.sub(a_finite, b_finite)), tolerance), finite)
    close = lg.logical_or(within, lg.equal(a, b))
    if equal_nan:
        close = lg.logical_or(close, lg.logical_and(pr.isnan(a), pr.isnan(b)))
    return close


def _reduce_truth(name, reduce, empty, a, axis, out, keepdims, where):
    if out is not None:
        raise TypeError(f"{name}: out= is not supported, since minigrad's arrays are immutable.")
    a = _math._as_bool(a)
    axes = normalize_axes(name, axis, a.ndim)
    if where is not True:
        a = ew.select(to_array(where), a, np.asarray(empty))
    if 0 in (a.shape[i] for i in axes):  # (any and all are this module's own names)
        kept = tuple(d for i, d in enumerate(a.shape) if i not in axes)
        result = np.full(kept, empty)
    else:
        result = reduce(a, axes)
    return expand_dims(result, axes) if keepdims else result


def all(a, axis=None, out=None, keepdims=False, *, where=True):  # noqa: A001 - NumPy's name
    """Whether every element over ``axis`` is true (nonzero); True over nothing.

    Example:
      >>> all(np.array([[1.0, 0.0], [2.0, 3.0]]), axis=1)
      array([False,  True])
    """
    return _reduce_truth("all", red.reduce_min, True, a, axis, out, keepdims, where)


def any(a, axis=None, out=None, keepdims=False, *, where=True):  # noqa: A001 - NumPy's name
    """Whether some element over ``axis`` is true (nonzero); False over nothing.

    Example:
      >>> any(np.array([[1.0, 0.0], [0.0, 0.0]]), axis=1)
      array([ True, False])
    """
    return _reduce_truth("any", red.reduce_max, False, a, axis, out, keepdims, where)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of ``a`` is close to ``b`` (see ``isclose``), as a 0-d boolean.

    Example:
      >>> allclose(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]))
      array(True)
    """
    return all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _equal_elements(a1, a2, equal_nan):
    same = _math.equal(a1, a2)
    if equal_nan and dtype_of(a1).kind in "fc" and dtype_of(a2).kind in "fc":
        same = lg.logical_or(same, lg.logical_and(pr.isnan(to_array(a1)), pr.isnan(to_array(a2))))
    return all(same)


def array_equal(a1, a2, equal_nan=False):
    """Whether ``a1`` and ``a2`` have the same shape and elements, as a 0-d boolean.

    Example:
      >>> array_equal(np.array([1.0, 2.0]), np.array([1.0, 2.0])), array_equal(np.ones(2), np.ones(3))
      (array(True), array(False))
    """
    a1, a2 = to_array(a1), to_array(a2)
    if a1.shape != a2.shape:
        return np.asarray(False)
    return _equal_elements(a1, a2, equal_nan)


def array_equiv(a1, a2):
    """Whether ``a1`` and ``a2`` broadcast to one shape and are equal there, as a 0-d boolean.

    Example:
      >>> array_equiv(np.array([1.0, 2.0]), np.array([[1.0, 2.0], [1.0, 2.0]]))
      array(True)
    """
    a1, a2 = to_array(a1), to_array(a2)
    try:
        broadcast_shapes("array_equiv", a1.shape, a2.shape)
    except ValueError:
        return np.asarray(False)
    return _equal_elements(a1, a2, equal_nan=False)


def isscalar(element):
    """Whether ``element`` is a scalar: a Python or NumPy number, string or bytes, as
    NumPy's ``isscalar``. Arrays, 0-d ones and traced ones included, are not.

    Example:
      >>> isscalar(3.0), isscalar(np.float32(3.0)), isscalar(np.array(3.0))
      (True, True, False)
    """
    return not isinstance(element, Tracer) and bool(np.isscalar(element))
