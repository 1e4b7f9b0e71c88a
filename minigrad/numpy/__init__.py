"""NumPy's API, differentiable: ``import minigrad.numpy as mnp``.

Each function normalises its arguments (dtype promotion as in NumPy 2, axes, shapes)
and binds primitives; there is no calculus here. Outside any transform the results are
plain ``numpy.ndarray`` objects.

Example:
    >>> import minigrad.numpy as mnp
    >>> mnp.logsumexp(mnp.array([0.0, 0.0]))
    array(0.69314718)
"""

import numpy as _np

from minigrad.numpy import (
    _creation,
    _methods,  # noqa: F401 - installs the tracer operators
)
from minigrad.numpy._at import array, asarray, returns_with_at
from minigrad.numpy._creation import astype
from minigrad.numpy._indexing import getitem
from minigrad.numpy._linalg import dot, einsum, inner, matmul, outer, tensordot, vdot
from minigrad.numpy._math import (
    abs,
    absolute,
    add,
    arctan,
    bitwise_and,
    bitwise_invert,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    cbrt,
    clip,
    cos,
    divide,
    equal,
    exp,
    exp2,
    expm1,
    greater,
    greater_equal,
    invert,
    isfinite,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    positive,
    power,
    reciprocal,
    sign,
    sin,
    sqrt,
    square,
    stop_gradient,
    subtract,
    tan,
    tanh,
    true_divide,
    where,
)
from minigrad.numpy._reductions import (
    amax,
    amin,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    prod,
    std,
    sum,
    var,
)
from minigrad.numpy._shape import (
    atleast_1d,
    atleast_2d,
    broadcast_to,
    concatenate,
    expand_dims,
    flip,
    hstack,
    moveaxis,
    ndim,
    pad,
    ravel,
    reshape,
    shape,
    size,
    split,
    squeeze,
    stack,
    swapaxes,
    take,
    transpose,
    vstack,
)  # fmt: skip

# New arrays have JAX's `.at` (they are ndarrays; what is computed from them is plain).
empty, eye, full, full_like = map(
    returns_with_at, (_creation.empty, _creation.eye, _creation.full, _creation.full_like)
)
arange, linspace = returns_with_at(_creation.arange), returns_with_at(_creation.linspace)
ones, ones_like = returns_with_at(_creation.ones), returns_with_at(_creation.ones_like)
zeros, zeros_like = returns_with_at(_creation.zeros), returns_with_at(_creation.zeros_like)

# Dtypes and constants, so `mnp.float32` and `mnp.pi` read as they do with NumPy.
float16, float32, float64 = _np.float16, _np.float32, _np.float64
int8, int16, int32, int64 = _np.int8, _np.int16, _np.int32, _np.int64
uint8, uint32, bool_ = _np.uint8, _np.uint32, _np.bool_
pi, e, inf, nan, newaxis = _np.pi, _np.e, _np.inf, _np.nan, None
ndarray = _np.ndarray
dtype = _np.dtype

__all__ = [
    "abs", "absolute", "add", "amax", "amin", "arange", "arctan", "argmax", "argmin", "array",
    "asarray", "astype", "atleast_1d", "atleast_2d", "bitwise_and",
    "bitwise_invert", "bitwise_not", "bitwise_or", "bitwise_xor", "bool_", "broadcast_to", "cbrt", "clip",
    "concatenate", "cos", "divide", "dot", "dtype", "e", "einsum", "empty", "equal", "exp",
    "exp2", "expand_dims", "expm1", "eye", "flip", "float16", "float32", "float64", "full",
    "full_like", "getitem", "greater", "greater_equal", "hstack", "inf", "inner", "int16", "invert",
    "int32", "int64", "int8", "isfinite", "less", "less_equal", "linspace", "log", "log10",
    "log1p", "log2", "logical_and", "logical_not", "logical_or", "logical_xor", "logsumexp",
    "matmul", "max", "maximum", "mean", "min", "minimum", "moveaxis", "multiply", "nan",
    "ndarray", "ndim", "negative", "newaxis", "not_equal", "ones", "ones_like", "outer", "pad",
    "pi", "positive", "power", "prod", "ravel", "reciprocal", "reshape", "shape", "sign", "sin",
    "size", "split", "sqrt", "square", "squeeze", "stack", "std", "stop_gradient", "subtract",
    "sum", "swapaxes", "take", "tan", "tanh", "tensordot", "transpose", "true_divide", "uint32",
    "uint8", "var", "vdot", "vstack", "where", "zeros", "zeros_like",
]  # fmt: skip
