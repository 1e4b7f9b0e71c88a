"""``Array``: the one type to name in ``isinstance`` checks and annotations.

Outside transforms minigrad's arrays are plain ``numpy.ndarray`` objects; inside, they
are tracers. User code written for JAX asks ``isinstance(x, jax.Array)``; here the
answer is true for both kinds, so such code runs unchanged under every transform.

Example:
    >>> import numpy as np
    >>> isinstance(np.ones(2), Array), isinstance(2.0, Array)
    (True, False)
"""

from __future__ import annotations

import numpy as np

from minigrad.core.trace import Tracer

__all__ = ["Array"]


class _ArrayMeta(type):
    # A virtual base class: nothing inherits from Array, the check is by kind of value.
    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, (np.ndarray, Tracer))

    def __subclasscheck__(cls, subclass) -> bool:
        return issubclass(subclass, (np.ndarray, Tracer))


class Array(metaclass=_ArrayMeta):
    """The type of minigrad arrays: ``numpy.ndarray`` outside transforms, tracers inside.

    Use it in ``isinstance`` checks and type annotations; it is not instantiated.

    Example:
      >>> import minigrad as mg
      >>> mg.grad(lambda x: x * isinstance(x, Array))(1.0)
      array(1.)
    """

    def __new__(cls, *args, **kwargs):
        raise TypeError("Array is a type for isinstance checks; make arrays with mnp.asarray or mnp.array.")
