"""Operators and methods of tracers, so code written for NumPy arrays runs traced.

Installed once on ``Tracer`` (which lives in the core layer and knows no NumPy semantics)
when ``minigrad.numpy`` is imported.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> mg.grad(lambda x: (x ** 2).sum())(np.array([1.0, 2.0]))
    array([2., 4.])
"""

from __future__ import annotations

import math

from minigrad.core.trace import register_math_counterparts, register_tracer_methods
from minigrad.numpy import _at, _creation, _indexing, _linalg, _math, _reductions, _shape

__all__ = ["TRACER_METHODS"]


def _swap(function):
    def reflected(self, other):
        return function(other, self)

    reflected.__name__ = f"r{function.__name__}"
    return reflected


def _reshape_method(self, *shape, order="C", copy=None):
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = shape[0]
    return _shape.reshape(self, shape, order, copy=copy)


def _transpose_method(self, *axes):
    if len(axes) == 1 and not isinstance(axes[0], int):
        axes = axes[0]
    return _shape.transpose(self, axes or None)


def _setitem(self, index, value):
    raise TypeError(
        "Traced arrays are immutable: `x[index] = value` cannot be recorded. Build the new "
        "array instead, for example with mnp.where(mask, value, x) or mnp.concatenate."
    )


def _power(x, y):
    return _math.power(x, y)


TRACER_METHODS = {
    "__add__": _math.add,
    "__radd__": _swap(_math.add),
    "__sub__": _math.subtract,
    "__rsub__": _swap(_math.subtract),
    "__mul__": _math.multiply,
    "__rmul__": _swap(_math.multiply),
    "__truediv__": _math.divide,
    "__rtruediv__": _swap(_math.divide),
    "__pow__": _power,
    "__rpow__": _swap(_power),
    "__matmul__": _linalg.matmul,
    "__rmatmul__": _swap(_linalg.matmul),
    "__neg__": _math.negative,
    "__pos__": _math.positive,
    "__abs__": _math.abs,
    "__lt__": _math.less,
    "__le__": _math.less_equal,
    "__gt__": _math.greater,
    "__ge__": _math.greater_equal,
    "__eq__": _math.equal,
    "__ne__": _math.not_equal,
    "__and__": _math.bitwise_and,
    "__rand__": _swap(_math.bitwise_and),
    "__or__": _math.bitwise_or,
    "__ror__": _swap(_math.bitwise_or),
    "__xor__": _math.bitwise_xor,
    "__rxor__": _swap(_math.bitwise_xor),
    "__invert__": _math.invert,
    "__getitem__": _indexing.getitem,
    "__setitem__": _setitem,
    "T": property(lambda self: _shape.transpose(self)),
    "mT": property(lambda self: _shape.swapaxes(self, -1, -2)),
    "reshape": _reshape_method,
    "transpose": _transpose_method,
    "sum": _reductions.sum,
    "mean": _reductions.mean,
    "max": _reductions.max,
    "min": _reductions.min,
    "prod": _reductions.prod,
    "var": _reductions.var,
    "std": _reductions.std,
    "argmax": _reductions.argmax,
    "argmin": _reductions.argmin,
    "astype": _creation.astype,
    "squeeze": _shape.squeeze,
    "ravel": _shape.ravel,
    "flatten": _shape.ravel,
    "dot": _linalg.dot,
    "clip": _math.clip,
    "swapaxes": _shape.swapaxes,
}

# Indexed updates (JAX's x.at[index].set(v) and friends).
TRACER_METHODS["at"] = property(_at.IndexUpdateHelper)

register_tracer_methods(TRACER_METHODS)


# `math` functions whose `minigrad.numpy` counterpart has another name.
_RENAMED_FROM_MATH = {
    "acos": "arccos",
    "acosh": "arccosh",
    "asin": "arcsin",
    "asinh": "arcsinh",
    "atan": "arctan",
    "atan2": "arctan2",
    "atanh": "arctanh",
    "fabs": "abs",
    "pow": "power",
}


def _math_counterparts() -> dict[str, str]:
    """``{"tanh": "mnp.tanh", "atan": "mnp.arctan", ...}`` for the functions that exist."""
    modules = (_math, _reductions, _linalg, _shape, _creation)
    counterparts = {}
    for name in dir(math):
        numpy_name = _RENAMED_FROM_MATH.get(name, name)
        if not name.startswith("_") and any(hasattr(module, numpy_name) for module in modules):
            counterparts[name] = f"mnp.{numpy_name}"
    return counterparts


register_math_counterparts(_math_counterparts())
