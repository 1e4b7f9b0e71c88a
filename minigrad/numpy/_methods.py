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
from minigrad.numpy import (
    _at,
    _building,
    _complex,
    _creation,
    _cumulative,
    _data_dependent,
    _floating,
    _indexing,
    _linalg,
    _math,
    _matrices,
    _modular,
    _predicates,
    _reductions,
    _rounding,
    _shape,
    _sorting,
    _statistics,
    _trig,
)

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


# Array methods of the array-function family (sorting, running totals, ...).
def _sort_method(self, axis=-1, kind=None, order=None, *, stable=None):
    return _sorting.sort(self, axis, kind, order)


def _argsort_method(self, axis=-1, kind=None, order=None, *, stable=None):
    return _sorting.argsort(self, axis, kind, order)


def _repeat_method(self, repeats, axis=None):
    return _building.repeat(self, repeats, axis)


def _nonzero_method(self):
    return _data_dependent.nonzero(self)


def _searchsorted_method(self, v, side="left", sorter=None):
    return _sorting.searchsorted(self, v, side, sorter)


TRACER_METHODS.update(
    {
        "cumsum": _cumulative.cumsum,
        "cumprod": _cumulative.cumprod,
        "sort": _sort_method,
        "argsort": _argsort_method,
        "repeat": _repeat_method,
        "diagonal": _matrices.diagonal,
        "trace": _matrices.trace,
        "nonzero": _nonzero_method,
        "take": _shape.take,
        "searchsorted": _searchsorted_method,
        "ptp": _statistics.ptp,
    }
)


def _round_method(self, decimals=0, out=None):
    return _rounding.round(self, decimals, out)


def _python_round(self, ndigits=None):
    # NumPy arrays have no __round__; JAX's do, and give an array, as this one does.
    return _rounding.round(self, 0 if ndigits is None else ndigits)


# Properties without docstrings of their own: doctest would collect a function's
# docstring, with its example, as Tracer's (in a module where the example cannot run).
def _real_part(self):
    return _complex.real(self)


def _imaginary_part(self):
    return _complex.imag(self)


# Mathematical operators and methods (issue 11).
TRACER_METHODS.update({
    "__mod__": _modular.remainder,
    "__rmod__": _swap(_modular.remainder),
    "__floordiv__": _modular.floor_divide,
    "__rfloordiv__": _swap(_modular.floor_divide),
    "__divmod__": _modular.divmod,
    "__rdivmod__": _swap(_modular.divmod),
    "__lshift__": _modular.left_shift,
    "__rlshift__": _swap(_modular.left_shift),
    "__rshift__": _modular.right_shift,
    "__rrshift__": _swap(_modular.right_shift),
    "__round__": _python_round,
    "round": _round_method,
    "conj": _complex.conj,
    "conjugate": _complex.conj,
    "real": property(_real_part),
    "imag": property(_imaginary_part),
    "any": _predicates.any,
    "all": _predicates.all,
})  # fmt: skip


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
    modules = (
        _math,
        _trig,
        _floating,
        _rounding,
        _modular,
        _predicates,
        _reductions,
        _linalg,
        _shape,
        _creation,
    )
    counterparts = {}
    for name in dir(math):
        numpy_name = _RENAMED_FROM_MATH.get(name, name)
        if not name.startswith("_") and any(hasattr(module, numpy_name) for module in modules):
            counterparts[name] = f"mnp.{numpy_name}"
    return counterparts


register_math_counterparts(_math_counterparts())
