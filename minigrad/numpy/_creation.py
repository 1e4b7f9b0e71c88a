"""Array creation. New arrays are constants, so these return NumPy arrays, except where
an input is a tracer (``asarray(tracer)``, ``full(shape, tracer)``, lists of tracers).

Example:
    >>> zeros((2, 3), dtype=np.float32).dtype
    dtype('float32')
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._promotion import dtype_of, normalize_axis, promote, to_array
from minigrad.ops import elementwise as ew
from minigrad.ops import logic as lg
from minigrad.ops import shape as sh

__all__ = [
    "asarray", "array", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
    "full_like", "arange", "linspace", "eye", "astype", "identity", "empty_like", "logspace",
    "geomspace",
]  # fmt: skip


def _check_keywords(name, order, device):
    # Every minigrad array is a row-major CPU array; these keywords exist for NumPy's signature.
    if order not in (None, "K", "A", "C"):
        raise ValueError(f"{name}: minigrad arrays are row-major; order={order!r} is not supported, use 'C'.")
    if device not in (None, "cpu"):
        raise ValueError(f"{name}: minigrad arrays live on the CPU, got device={device!r}.")


def asarray(a, dtype=None, order=None, *, copy=None, device=None, like=None):
    """An array from ``a`` (arrays, numbers, nested lists, possibly of tracers).

    ``order`` (row-major only), ``copy`` and ``device`` (the CPU) are NumPy's and the
    Array API's keywords; ``like`` is accepted and ignored, as in JAX.

    Example:
      >>> asarray([1, 2], dtype=np.float32)
      array([1., 2.], dtype=float32)
    """
    _check_keywords("asarray", order, device)
    # Sequences holding tracers are stacked by to_array, Python numbers in them weak.
    out = to_array(a, None if dtype is None else np.dtype(dtype))
    return out.copy() if copy and isinstance(out, np.ndarray) and out is a else out


def array(object, dtype=None, *, copy=True, order="K", ndmin=0, device=None, like=None):  # noqa: A002 - NumPy's name
    """Like ``asarray``; plain inputs are copied as in NumPy, and ``ndmin`` prepends
    axes of length one.

    Example:
      >>> array([[1.0, 2.0]]).shape
      (1, 2)
      >>> array([1, 2], ndmin=3).shape
      (1, 1, 2)
    """
    _check_keywords("array", order, device)
    out = asarray(object, dtype)
    ndmin = operator.index(ndmin)
    if out.ndim < ndmin:
        out = sh.reshape(out, (1,) * (ndmin - out.ndim) + tuple(out.shape))
    if (
        copy
        and isinstance(out, np.ndarray)
        and isinstance(object, np.ndarray)
        and np.may_share_memory(out, object)
    ):
        out = out.copy()
    return out


def astype(x, dtype, /, *, copy=True, device=None):
    """``x`` converted to ``dtype`` (differentiable between floating types).

    Example:
      >>> astype(np.array([1.5]), np.int32)
      array([1], dtype=int32)
    """
    if device not in (None, "cpu"):
        raise ValueError(f"astype: minigrad arrays live on the CPU, got device={device!r}.")
    # copy=False may return x itself (as NumPy may); arrays are never mutated here either way.
    return to_array(x, np.dtype(dtype))


def zeros(shape, dtype=float):
    """An array of zeros.

    Example:
      >>> zeros(2)
      array([0., 0.])
    """
    return np.zeros(shape, dtype)


def ones(shape, dtype=float):
    """An array of ones.

    Example:
      >>> ones((1, 2), dtype=np.int32)
      array([[1, 1]], dtype=int32)
    """
    return np.ones(shape, dtype)


def empty(shape, dtype=float):
    """An array of zeros (minigrad never hands out uninitialised memory).

    Example:
      >>> empty(2)
      array([0., 0.])
    """
    return np.zeros(shape, dtype)


def full(shape, fill_value, dtype=None):
    """An array filled with ``fill_value`` (which may be a traced scalar).

    Example:
      >>> full((2,), 7.0)
      array([7., 7.])
    """
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if isinstance(fill_value, Tracer):
        value = to_array(fill_value, None if dtype is None else np.dtype(dtype))
        return sh.broadcast_to(value, shape)
    return np.full(shape, fill_value, dtype)


def _like_shape(a, shape):
    """``shape`` if given, else ``a``'s. (``order`` and ``subok`` of the ``*_like``
    functions are accepted for NumPy's signature: every result is a row-major ndarray.)"""
    if shape is not None:
        return shape
    return np.shape(a) if not isinstance(a, Tracer) else a.shape


def zeros_like(a, dtype=None, order="K", subok=True, shape=None):
    """Zeros of ``a``'s shape and dtype.

    Example:
      >>> zeros_like(np.ones(2, np.float32))
      array([0., 0.], dtype=float32)
    """
    return np.zeros(_like_shape(a, shape), dtype or dtype_of(a))


def ones_like(a, dtype=None, order="K", subok=True, shape=None):
    """Ones of ``a``'s shape and dtype.

    Example:
      >>> ones_like(np.zeros(2))
      array([1., 1.])
    """
    return np.ones(_like_shape(a, shape), dtype or dtype_of(a))


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None):
    """``fill_value`` in ``a``'s shape and dtype.

    Example:
      >>> full_like(np.zeros(2), 3.0)
      array([3., 3.])
    """
    return full(_like_shape(a, shape), fill_value, dtype or dtype_of(a))


def arange(start=None, stop=None, step=None, dtype=None):
    """Evenly spaced values in ``[start, stop)``; with one number it is the stop, as in
    NumPy (``arange(5, None, 2)`` counts 0, 2, 4).

    Example:
      >>> arange(3)
      array([0, 1, 2])
      >>> arange(stop=3, dtype=np.float32)
      array([0., 1., 2.], dtype=float32)
    """
    if start is None:
        if stop is None:
            raise TypeError("arange: give the stop (arange(stop) or arange(start, stop[, step])).")
        start = 0
    return np.arange(start, stop, step, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop``.

    The endpoints may be traced (they are differentiable); values are
    ``start + i * step``, as NumPy computes them, with ``stop`` itself last when
    ``endpoint``. Array endpoints give one column of values per element, along ``axis``
    of the result. With ``retstep`` the step is returned too, as ``(values, step)``.

    Example:
      >>> linspace(0.0, 1.0, 3)
      array([0. , 0.5, 1. ])
      >>> float(linspace(0.0, 1.0, 3, retstep=True)[1])
      0.5
    """
    if not isinstance(start, Tracer) and not isinstance(stop, Tracer):
        return np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    values, step = _traced_linspace(start, stop, num, endpoint, dtype)
    if values.ndim > 1:
        values = sh.transpose(
            values, _moved_first_axis(normalize_axis("linspace", axis, values.ndim), values.ndim)
        )
    return (values, step) if retstep else values


def _moved_first_axis(axis, ndim):
    """The permutation that moves axis 0 to ``axis``."""
    rest = list(range(1, ndim))
    return tuple(rest[:axis] + [0] + rest[axis:])


def _traced_linspace(start, stop, num, endpoint, dtype):
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}.")
    start, stop = promote("linspace", start, stop, float(num))[:2]
    shape = ew.broadcast_shapes("linspace", np.shape(start), np.shape(stop))
    start, stop = sh.broadcast_to(start, shape), sh.broadcast_to(stop, shape)
    divisions = num - 1 if endpoint else num
    counts = np.arange(num, dtype=dtype_of(start)).reshape((num,) + (1,) * len(shape))
    if divisions > 0:
        step = ew.div(ew.sub(stop, start), float(divisions))
        values = ew.add(ew.mul(counts, step), start)
    else:
        step = np.nan  # NumPy's step when there is none: a plain NaN
        values = ew.add(ew.mul(counts, ew.sub(stop, start)), start)
    if endpoint and num > 1:
        values = sh.concatenate([sh.slice_axis(values, 0, 0, num - 1), sh.expand_dims(stop, (0,))], 0)
    if dtype is None:
        return values, step
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        return to_array(values, dtype), step
    # NumPy floors to integer dtypes; a cast truncates, so step down where it rounded up.
    truncated = to_array(values, dtype)
    rounded_up = lg.less(values, to_array(truncated, dtype_of(values)))
    return ew.sub(truncated, to_array(rounded_up, dtype)), step


def eye(N, M=None, k=0, dtype=float):  # noqa: N803 - NumPy's names
    """An identity-like matrix with ones on diagonal ``k``.

    Example:
      >>> eye(2)
      array([[1., 0.],
             [0., 1.]])
    """
    return np.eye(N, M, k, dtype=dtype)


def identity(n, dtype=None):
    """The ``n`` by ``n`` identity matrix.

    Example:
      >>> identity(2, dtype=int)
      array([[1, 0],
             [0, 1]])
    """
    return np.identity(operator.index(n), dtype=dtype or float)


def empty_like(prototype, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """An array of ``prototype``'s shape and dtype. minigrad arrays are never left
    uninitialised: it holds zeros (as JAX's does).

    Example:
      >>> empty_like(np.ones((1, 2), np.float32))
      array([[0., 0.]], dtype=float32)
    """
    return zeros_like(prototype, dtype, shape=shape)


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``num`` values spaced evenly on a log scale, from ``base ** start`` to
    ``base ** stop`` (the exponents may be traced).

    Example:
      >>> logspace(0.0, 2.0, 3)
      array([  1.,  10., 100.])
    """
    exponents = linspace(start, stop, num, endpoint, dtype=None, axis=axis)
    if not isinstance(exponents, Tracer) and not isinstance(base, Tracer):
        return np.logspace(start, stop, num, endpoint, base, dtype, axis)
    exponents, base = promote("logspace", exponents, base)
    if np.ndim(base):
        base = sh.expand_dims(base, (normalize_axis("logspace", axis, exponents.ndim),))
    values = ew.power(base, exponents)
    return values if dtype is None else to_array(values, np.dtype(dtype))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` values in geometric progression from ``start`` to ``stop`` (same sign, not
    zero; both may be traced), with the ends exact.

    Example:
      >>> geomspace(1.0, 1000.0, 4)
      array([   1.,   10.,  100., 1000.])
    """
    if not isinstance(start, Tracer) and not isinstance(stop, Tracer):
        return np.geomspace(start, stop, num, endpoint, dtype, axis)
    start, stop = promote("geomspace", start, stop, 1.0)[:2]
    sign = ew.sign(start)  # a sign change has no real geometric progression (NumPy gives NaN)
    exponents = linspace(ew.log(ew.abs(start)), ew.log(ew.abs(stop)), num, endpoint, axis=axis)
    at = normalize_axis("geomspace", axis, exponents.ndim)
    values = ew.mul(ew.exp(exponents), sh.expand_dims(sign, (at,)) if np.ndim(sign) else sign)
    num = operator.index(num)
    if num > 0:
        # The ends are the inputs themselves, not exp(log(.)) of them.
        ends = [sh.expand_dims(start, (at,)) if np.ndim(start) else sh.reshape(start, (1,))]
        middle_stop = num - 1 if endpoint and num > 1 else num
        pieces = [*ends, sh.slice_axis(values, at, 1, middle_stop)]
        if endpoint and num > 1:
            pieces.append(sh.expand_dims(stop, (at,)) if np.ndim(stop) else sh.reshape(stop, (1,)))
        values = sh.concatenate(pieces, at)
    return values if dtype is None else to_array(values, np.dtype(dtype))
