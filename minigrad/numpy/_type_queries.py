"""Questions about dtypes and values that NumPy answers without computing anything:
``result_type``, ``promote_types``, ``can_cast``, ``issubdtype``, ``isdtype``, ``iterable``.

They accept traced values wherever NumPy accepts arrays, by asking for their dtype only.

Example:
    >>> import numpy as np
    >>> result_type(np.float32, 2.0)
    dtype('float32')
"""

from __future__ import annotations

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._promotion import _promotion_key

__all__ = ["result_type", "promote_types", "can_cast", "issubdtype", "isdtype", "iterable"]


def _dtype_or_value(x):
    """A tracer stands for its dtype; dtypes, type objects and values pass through."""
    return x.dtype if isinstance(x, Tracer) else x


def result_type(*arrays_and_dtypes):
    """The dtype NumPy 2's promotion gives for these arrays, numbers and dtypes (Python
    numbers weak, as everywhere in minigrad).

    Example:
      >>> result_type(np.int32, np.float32)
      dtype('float64')
    """
    if not arrays_and_dtypes:
        raise ValueError("result_type: give at least one array or dtype.")
    # A tracer promotes as its dtype (or, if weakly typed, as a Python number would).
    return np.result_type(*(_promotion_key(x) if isinstance(x, Tracer) else x for x in arrays_and_dtypes))


def promote_types(type1, type2):
    """The smallest dtype both dtypes convert to safely.

    Example:
      >>> promote_types(np.int8, np.uint8)
      dtype('int16')
    """
    return np.promote_types(type1, type2)


def can_cast(from_, to, casting="safe"):
    """Whether a value of dtype ``from_`` (or an array, traced or not) converts to ``to``
    under the ``casting`` rule.

    Example:
      >>> can_cast(np.float32, np.float64), can_cast(np.float64, np.int32)
      (True, False)
    """
    source = _dtype_or_value(from_)
    if isinstance(source, np.ndarray):
        source = source.dtype
    return np.can_cast(source, to, casting)


def issubdtype(arg1, arg2):
    """Whether dtype ``arg1`` is ``arg2`` or below it in NumPy's hierarchy of types.

    Example:
      >>> issubdtype(np.float32, np.floating)
      True
    """
    return np.issubdtype(arg1, arg2)


def isdtype(dtype, kind):
    """The Array API's dtype test: ``kind`` is a dtype, a name such as ``"real floating"``
    or ``"integral"``, or a tuple of them.

    Example:
      >>> isdtype(np.dtype(np.int8), "integral")
      True
    """
    return np.isdtype(np.dtype(dtype), kind)


def iterable(y):
    """Whether ``iter(y)`` works (a traced array is iterable unless it is 0-d).

    Example:
      >>> iterable([1, 2]), iterable(2.0)
      (True, False)
    """
    if isinstance(y, Tracer):
        return y.ndim > 0
    return np.iterable(y)
