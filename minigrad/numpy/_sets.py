"""Sets of values: membership (``isin``), the set operations of 1-D arrays and the Array
API's ``unique_*`` functions.

``isin`` compares every element with every test value, so it traces. The others have
shapes that depend on the values, so they need known values (as ``unique`` does); the
values they return are gathered from the inputs, so gradients reach those elements.

Example:
    >>> import numpy as np
    >>> isin(np.array([1, 2, 3]), [2, 5])
    array([False,  True, False])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._data_dependent import _concrete, unique
from minigrad.numpy._math import equal, logical_not
from minigrad.numpy._predicates import any as _any
from minigrad.numpy._promotion import to_array
from minigrad.numpy._shape import concatenate, ravel, reshape, take

__all__ = [
    "isin", "setdiff1d", "union1d", "intersect1d", "setxor1d", "unique_values", "unique_counts",
    "unique_inverse", "unique_all",
]  # fmt: skip


def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None):
    """Whether each element of ``element`` is among ``test_elements`` (no gradient).

    Example:
      >>> isin(np.array([[1.0, 2.0]]), np.array([2.0, 3.0]), invert=True)
      array([[ True, False]])
    """
    element = to_array(element)
    tests = ravel(test_elements)
    found = _any(equal(reshape(element, tuple(element.shape) + (1,)), tests), axis=-1)
    return logical_not(found) if invert else found


_REMEDY = "Compute it outside jit/vmap, or on known values."


def _known(name, *arrays):
    return [np.ravel(_concrete(a, name, _REMEDY)) for a in arrays]


def union1d(ar1, ar2, *, size=None, fill_value=None):
    """The sorted distinct values found in either array (``size=`` fixes the length under
    ``jit``, as JAX).

    Example:
      >>> union1d(np.array([3, 1]), np.array([2, 1]))
      array([1, 2, 3])
    """
    return unique(concatenate([ravel(ar1), ravel(ar2)], axis=0), size=size, fill_value=fill_value)


def intersect1d(ar1, ar2, assume_unique=False, return_indices=False):
    """The sorted distinct values found in both arrays (with ``return_indices``, their
    first positions in each).

    Example:
      >>> intersect1d(np.array([3.0, 1.0, 2.0]), np.array([2.0, 3.0, 5.0]))
      array([2., 3.])
    """
    values1, values2 = _known("intersect1d", ar1, ar2)
    common, first1, first2 = np.intersect1d(values1, values2, assume_unique, return_indices=True)
    picked = take(ravel(ar1), first1)
    return (picked, first1, first2) if return_indices else picked


def setdiff1d(ar1, ar2, assume_unique=False):
    """The sorted distinct values of ``ar1`` that are not in ``ar2``.

    Example:
      >>> setdiff1d(np.array([4, 1, 2, 1]), np.array([2]))
      array([1, 4])
    """
    values1, values2 = _known("setdiff1d", ar1, ar2)
    distinct, first = np.unique(values1, return_index=True)
    keep = ~np.isin(distinct, values2)
    return take(ravel(ar1), first[keep])


def setxor1d(ar1, ar2, assume_unique=False):
    """The sorted values found in exactly one of the arrays.

    Example:
      >>> setxor1d(np.array([1, 2, 3]), np.array([2, 4]))
      array([1, 3, 4])
    """
    values1, values2 = _known("setxor1d", ar1, ar2)
    joined = concatenate([ravel(ar1), ravel(ar2)], axis=0)
    distinct, first = np.unique(np.concatenate([values1, values2]), return_index=True)
    once = np.isin(distinct, values1) != np.isin(distinct, values2)
    return take(joined, first[once])


class UniqueAllResult(NamedTuple):
    values: object
    indices: object
    inverse_indices: object
    counts: object


class UniqueCountsResult(NamedTuple):
    values: object
    counts: object


class UniqueInverseResult(NamedTuple):
    values: object
    inverse_indices: object


def unique_values(x, /, *, size=None, fill_value=None):
    """The sorted distinct values of ``x`` (the Array API's ``unique``).

    Example:
      >>> unique_values(np.array([2, 1, 2]))
      array([1, 2])
    """
    return unique(x, size=size, fill_value=fill_value)


def unique_counts(x, /):
    """The distinct values of ``x`` and how often each occurs: ``(values, counts)``.

    Example:
      >>> unique_counts(np.array([2, 1, 2]))
      UniqueCountsResult(values=array([1, 2]), counts=array([1, 2]))
    """
    return UniqueCountsResult(*unique(x, return_counts=True))


def unique_inverse(x, /):
    """The distinct values of ``x`` and, for each element, the index of its value:
    ``(values, inverse_indices)``, the indices in ``x``'s shape.

    Example:
      >>> unique_inverse(np.array([2, 1, 2]))
      UniqueInverseResult(values=array([1, 2]), inverse_indices=array([1, 0, 1]))
    """
    values, inverse = unique(x, return_inverse=True)
    return UniqueInverseResult(
        values, np.reshape(inverse, np.shape(x) if not isinstance(x, Tracer) else x.shape)
    )


def unique_all(x, /):
    """The distinct values of ``x`` with their first positions, each element's value
    index and the counts: ``(values, indices, inverse_indices, counts)``.

    Example:
      >>> unique_all(np.array([2, 1, 2])).counts
      array([1, 2])
    """
    values, first, inverse, counts = unique(x, return_index=True, return_inverse=True, return_counts=True)
    shape = np.shape(x) if not isinstance(x, Tracer) else x.shape
    return UniqueAllResult(values, first, np.reshape(inverse, shape), counts)
