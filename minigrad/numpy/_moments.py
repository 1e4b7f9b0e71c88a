"""Weighted means and second moments: ``average``, ``cov`` and ``corrcoef``.

They are sums and products of the data and the weights, so they are differentiable in
both, to any order.

Example:
    >>> import numpy as np
    >>> average(np.array([1.0, 2.0, 4.0]), weights=np.array([1.0, 1.0, 2.0]))
    array(2.75)
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.numpy._linalg import matmul
from minigrad.numpy._math import clip, sqrt
from minigrad.numpy._matrices import diagonal
from minigrad.numpy._promotion import dtype_of, normalize_axes, promote_to_inexact, to_array
from minigrad.numpy._reductions import mean as _mean
from minigrad.numpy._reductions import sum as _sum
from minigrad.numpy._shape import concatenate, moveaxis, reshape
from minigrad.ops import shape as sh

__all__ = ["average", "cov", "corrcoef"]


def _weights_along(name, weights, a, axes):
    """``weights`` shaped to broadcast against ``a``: the same shape, or 1-D along one axis."""
    weights = to_array(weights)
    if weights.shape == a.shape:
        return weights
    if weights.ndim != 1 or len(axes) != 1 or weights.shape[0] != a.shape[axes[0]]:
        raise ValueError(
            f"{name}: weights of shape {weights.shape} must have a's shape {a.shape}, or be 1-D "
            "with the length of the one axis averaged over."
        )
    shape = [1] * a.ndim
    shape[axes[0]] = weights.shape[0]
    return reshape(weights, shape)


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """The mean of ``a`` along ``axis``, each element counted ``weights`` times; with
    ``returned`` also the sum of the weights.

    Example:
      >>> average(np.array([[1.0, 3.0], [5.0, 7.0]]), axis=1, weights=[3.0, 1.0])
      array([1.5, 5.5])
    """
    a = to_array(a)
    if weights is None:
        avg = _mean(a, axis=axis, keepdims=keepdims)
        if not returned:
            return avg
        count = a.size // max(np.size(avg), 1) if a.size else 0
        return avg, sh.broadcast_to(to_array(count, dtype_of(avg)), np.shape(avg))
    axes = normalize_axes("average", axis, a.ndim)
    a, weights = promote_to_inexact("average", a, weights)
    weights = _weights_along("average", weights, a, axes)
    total = _sum(sh.broadcast_to(weights, a.shape), axis=axes, keepdims=keepdims)
    avg = to_array(_sum(a * weights, axis=axes, keepdims=keepdims) / total)
    return (avg, total) if returned else avg


def _observations(name, m, y, rowvar):
    """Variables in rows, observations in columns, as a 2-D array of an inexact dtype."""
    m = to_array(m)
    if m.ndim > 2:
        raise ValueError(f"{name}: m must have at most 2 dimensions, got shape {m.shape}.")
    arrays = [m] if y is None else [m, to_array(y)]
    arrays = [reshape(x, (1, -1)) if x.ndim < 2 else x for x in arrays]
    if not rowvar:
        arrays = [moveaxis(x, 0, 1) if x.shape[0] != 1 else x for x in arrays]
    arrays = promote_to_inexact(name, *arrays)
    return concatenate(arrays, axis=0) if len(arrays) > 1 else arrays[0]


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    """The covariance matrix of the variables in the rows of ``m`` (columns when not
    ``rowvar``), with optional integer frequency and real importance weights, as NumPy.

    Example:
      >>> cov(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
      array([[ 1., -1.],
             [-1.,  1.]])
    """
    x = _observations("cov", m, y, rowvar)
    if dtype is not None:
        x = to_array(x, np.dtype(dtype))
    n = x.shape[1]
    weights = None
    if fweights is not None:
        fweights = to_array(fweights)
        if fweights.ndim != 1 or fweights.shape[0] != n or dtype_of(fweights).kind not in "iu":
            raise ValueError(f"cov: fweights must be {n} integers, got {dtype_of(fweights)}{fweights.shape}.")
        weights = to_array(fweights, dtype_of(x))
    if aweights is not None:
        aweights = to_array(aweights, dtype_of(x))
        if aweights.ndim != 1 or aweights.shape[0] != n:
            raise ValueError(f"cov: aweights must be 1-D of length {n}, got shape {aweights.shape}.")
        weights = aweights if weights is None else weights * aweights
    ddof = (0 if bias else 1) if ddof is None else operator.index(ddof)
    if weights is None:
        centred = x - _mean(x, axis=1, keepdims=True)
        factor = n - ddof
        products = matmul(centred, moveaxis(centred, 0, 1))
    else:
        total = _sum(weights)
        centred = x - _sum(x * weights, axis=1, keepdims=True) / total
        if aweights is None:
            factor = total - ddof
        else:
            factor = total - ddof * _sum(weights * aweights) / total
        products = matmul(centred * weights, moveaxis(centred, 0, 1))
    out = to_array(products / factor)
    return reshape(out, ()) if out.shape == (1, 1) else out


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """The correlation coefficients of the variables in the rows of ``x`` (and ``y``),
    clipped to ``[-1, 1]`` against rounding, as NumPy.

    Example:
      >>> corrcoef(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 4.0])).round(6)
      array([[1.      , 0.981981],
             [0.981981, 1.      ]])
    """
    c = cov(x, y, rowvar, dtype=dtype)
    if np.ndim(c) == 0:
        return to_array(c / c)
    stddev = sqrt(diagonal(c))
    return clip(c / reshape(stddev, (-1, 1)) / reshape(stddev, (1, -1)), -1.0, 1.0)
