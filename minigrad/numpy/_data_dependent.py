"""Functions whose result's shape depends on the values: ``nonzero``, ``argwhere``,
``flatnonzero``, ``unique`` and ``bincount`` (and ``count_nonzero``, which does not).

Outside transforms and under ``grad``/``jvp`` the values are known, so these work as in
NumPy. Under ``jit``, ``vmap`` and ``make_jaxpr`` a program needs its shapes before the
values exist: as in JAX, pass ``size=`` (and ``fill_value=``) to fix the result's length,
or ``length=`` to ``bincount``; otherwise the error says so.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> mg.jit(lambda x: nonzero(x, size=3)[0])(np.array([0.0, 2.0, 0.0, 5.0]))
    array([1, 3, 0])
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.core.errors import ConcretizationError
from minigrad.core.trace import Tracer
from minigrad.numpy._promotion import dtype_of, normalize_axes, to_array
from minigrad.numpy._shape import ravel, take
from minigrad.ops import elementwise as ew
from minigrad.ops import index as ix
from minigrad.ops import logic as lg
from minigrad.ops import shape as sh
from minigrad.ops import sorting as so

__all__ = ["nonzero", "argwhere", "flatnonzero", "count_nonzero", "unique", "bincount"]

_INDEX = np.dtype(np.int64)


def _concrete(x, operation: str, remedy: str):
    """The value of ``x``, or a ConcretizationError that names ``remedy``."""
    if not isinstance(x, Tracer):
        return np.asarray(x)
    try:
        return np.asarray(x._concrete(f"mnp.{operation}"))
    except ConcretizationError as error:
        raise ConcretizationError(
            f"mnp.{operation}: the shape of the result depends on the values of a traced array "
            f"{x.aval}, which are not known under jit, vmap or make_jaxpr. {remedy}"
        ) from error


def _is_nonzero(a):
    a = to_array(a)
    return a if dtype_of(a) == np.bool_ else lg.not_equal(a, np.zeros((), dtype_of(a)))


def count_nonzero(a, axis=None, *, keepdims=False):
    """How many elements are not zero (over ``axis``: an int, a tuple or None).

    Example:
      >>> count_nonzero(np.array([[0, 1], [2, 3]]), axis=0)
      array([1, 2])
    """
    mask = _is_nonzero(a)
    axes = normalize_axes("count_nonzero", axis, np.ndim(mask))
    counts = sh.reduce_sum(ew.convert_element_type(mask, _INDEX), axes)
    return sh.expand_dims(counts, axes) if keepdims else counts


def _fill_values(fill_value, ndim):
    fills = (0,) * ndim if fill_value is None else fill_value
    fills = tuple(np.broadcast_to(np.asarray(fills), (ndim,)).tolist()) if np.ndim(fills) <= 1 else fills
    if len(fills) != ndim:
        raise ValueError(f"nonzero: fill_value needs one value per dimension ({ndim}), got {fill_value!r}.")
    return fills


def _nonzero_of_size(a, size, fill_value):
    """``nonzero`` with ``size`` entries: a stable sort puts the non-zero positions first."""
    shape = np.shape(a)
    flat_mask = sh.reshape(_is_nonzero(a), (int(np.prod(shape, dtype=np.int64)),))
    n = np.shape(flat_mask)[0]
    order = so.argsort(lg.logical_not(flat_mask), 0)
    if size > n:
        order = sh.concatenate([order, np.zeros(size - n, _INDEX)], 0)
    first = sh.slice_axis(order, 0, 0, size)
    found = sh.reduce_sum(ew.convert_element_type(flat_mask, _INDEX), (0,))
    valid = lg.less(np.arange(size, dtype=_INDEX), found)
    coordinates = (
        np.indices(shape, dtype=_INDEX).reshape(len(shape), n) if n else np.zeros((len(shape), 1), _INDEX)
    )
    result = []
    for axis, fill in enumerate(_fill_values(fill_value, len(shape))):
        coordinate = take(coordinates[axis], first, mode="clip")
        result.append(ew.select(valid, coordinate, np.asarray(fill, _INDEX)))
    return tuple(result)


_SIZE_REMEDY = "Pass size= (and fill_value=) to fix the number of results, as in JAX."


def nonzero(a, *, size=None, fill_value=None):
    """The indices of the non-zero elements, one array per dimension. With ``size`` the
    result has exactly that many (the first ones, padded with ``fill_value``, default 0),
    which works under ``jit`` and ``vmap``.

    Example:
      >>> nonzero(np.array([[0, 1], [2, 0]]))
      (array([0, 1]), array([1, 0]))
      >>> nonzero(np.array([0, 3]), size=2, fill_value=-1)
      (array([ 1, -1]),)
    """
    if np.ndim(a) == 0:
        raise ValueError("nonzero: a 0-d array has no indices; use atleast_1d(a) first, as NumPy advises.")
    if size is not None:
        return _nonzero_of_size(a, operator.index(size), fill_value)
    value = _concrete(a, "nonzero", _SIZE_REMEDY)
    return tuple(index.astype(_INDEX) for index in np.nonzero(value))


def argwhere(a, *, size=None, fill_value=None):
    """The indices of the non-zero elements, one row per element.

    Example:
      >>> argwhere(np.array([[0, 1], [2, 0]]))
      array([[0, 1],
             [1, 0]])
    """
    if size is None and np.ndim(a) == 0:
        return np.argwhere(_concrete(a, "argwhere", _SIZE_REMEDY)).astype(_INDEX)
    a = to_array(a)
    a = sh.reshape(a, (1,)) if a.ndim == 0 else a
    columns = nonzero(a, size=size, fill_value=fill_value)
    return sh.concatenate([sh.expand_dims(to_array(c), (1,)) for c in columns], 1)


def flatnonzero(a, *, size=None, fill_value=None):
    """The indices of the non-zero elements of the flattened array.

    Example:
      >>> flatnonzero(np.array([[0, 1], [2, 0]]))
      array([1, 2])
    """
    return nonzero(ravel(a), size=size, fill_value=fill_value)[0]


def _unique_of_size(a, size, fill_value):
    """The first ``size`` distinct values, in order, padded with ``fill_value`` (default:
    the smallest value)."""
    ordered = take(a, so.argsort(a, 0))
    n = np.shape(ordered)[0]
    changes = lg.not_equal(sh.slice_axis(ordered, 0, 1, n), sh.slice_axis(ordered, 0, 0, n - 1))
    starts = sh.concatenate([np.ones(1, bool), changes], 0)
    (positions,) = _nonzero_of_size(starts, size, 0)
    found = sh.reduce_sum(ew.convert_element_type(starts, _INDEX), (0,))
    values = take(ordered, positions)
    fill = sh.slice_axis(ordered, 0, 0, 1) if fill_value is None else np.asarray(fill_value, dtype_of(a))
    return ew.select(lg.less(np.arange(size, dtype=_INDEX), found), values, sh.broadcast_to(fill, (size,)))


def unique(
    ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
    equal_nan=True, sorted=True, size=None, fill_value=None,  # noqa: A002 - NumPy's name
):  # fmt: skip
    """The sorted distinct values (of the flattened array, or rows along ``axis``), as
    NumPy. The values are gathered from ``ar``, so gradients reach the first occurrence of
    each. Under ``jit``/``vmap`` pass ``size=`` (values only, as JAX).

    Example:
      >>> unique(np.array([3, 1, 3, 2]))
      array([1, 2, 3])
      >>> unique(np.array([3.0, 1.0, 3.0]), return_counts=True)
      (array([1., 3.]), array([1, 2]))
    """
    extras = return_index or return_inverse or return_counts
    if size is not None and axis is None and not extras:
        flat = ravel(ar)
        if np.shape(flat)[0] == 0:
            raise ValueError("unique: size= needs a non-empty array.")
        return _unique_of_size(flat, operator.index(size), fill_value)
    value = _concrete(
        ar, "unique", "Pass size= (values only) to fix the number of distinct values, as in JAX."
    )
    found = np.unique(value, True, return_inverse, return_counts, axis, equal_nan=equal_nan)
    first = found[1]
    picked = take(ravel(ar), first) if axis is None else take(ar, first, axis=axis)
    if not extras:
        return picked
    results = [picked]
    if return_index:
        results.append(first.astype(_INDEX))
    results.extend(extra.astype(_INDEX) for extra in found[2:])
    return tuple(results)


def bincount(x, weights=None, minlength=0, *, length=None):
    """How often each non-negative integer occurs in ``x`` (or the sum of its ``weights``);
    ``length`` fixes the result's length (needed under ``jit``/``vmap``). The result is
    differentiable in ``weights``.

    Example:
      >>> bincount(np.array([0, 2, 2]))
      array([1, 0, 2])
      >>> bincount(np.array([0, 2]), weights=np.array([0.5, 1.5]), minlength=4)
      array([0.5, 0. , 1.5, 0. ])
    """
    x = to_array(x)
    if x.ndim != 1 or dtype_of(x).kind not in "iub":
        raise TypeError(
            f"bincount: x must be a 1-D array of non-negative integers, got {x.dtype}{list(x.shape)}."
        )
    if length is None:
        value = _concrete(x, "bincount", "Pass length= to fix the number of bins, as in JAX.")
        if value.size and value.min() < 0:
            raise ValueError(f"bincount: x must be non-negative, got a minimum of {value.min()}.")
        length = max(int(value.max()) + 1 if value.size else 0, operator.index(minlength))
    if weights is None:
        updates = np.ones(x.shape, _INDEX)
    else:
        updates = sh.broadcast_to(to_array(weights, np.dtype(np.float64)), x.shape)  # NumPy sums in doubles
    x = to_array(x, _INDEX)
    return ix.scatter_add(updates, [x], (("array", 0),), (operator.index(length),))
