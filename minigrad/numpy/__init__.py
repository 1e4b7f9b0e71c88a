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
from minigrad.numpy._bits import packbits, unpackbits
from minigrad.numpy._building import (
    append,
    atleast_3d,
    copy,
    delete,
    fliplr,
    flipud,
    insert,
    repeat,
    resize,
    roll,
    rot90,
    tile,
)
from minigrad.numpy._choosing import (
    choose,
    compress,
    extract,
    fill_diagonal,
    piecewise,
    place,
    put,
    put_along_axis,
    select,
    trim_zeros,
)
from minigrad.numpy._complex import (
    angle,
    conj,
    conjugate,
    imag,
    iscomplex,
    iscomplexobj,
    isreal,
    isrealobj,
    real,
)
from minigrad.numpy._creation import astype, empty_like, geomspace, identity, logspace

# Array functions: running totals, sorting and searching, value-dependent shapes.
from minigrad.numpy._cumulative import (
    cumprod,
    cumsum,
    cumulative_prod,
    cumulative_sum,
    diff,
    ediff1d,
    gradient,
    nancumprod,
    nancumsum,
)
from minigrad.numpy._data_dependent import argwhere, bincount, count_nonzero, flatnonzero, nonzero, unique
from minigrad.numpy._floating import (
    copysign,
    fabs,
    float_power,
    fmax,
    fmin,
    frexp,
    heaviside,
    ldexp,
    logaddexp,
    logaddexp2,
    modf,
    nan_to_num,
    nextafter,
    pow,
    signbit,
    spacing,
)
from minigrad.numpy._grids import (
    c_,
    diag_indices,
    diag_indices_from,
    indices,
    ix_,
    mask_indices,
    meshgrid,
    r_,
    ravel_multi_index,
    tril_indices,
    tril_indices_from,
    triu_indices,
    triu_indices_from,
    unravel_index,
)
from minigrad.numpy._histograms import histogram, histogram2d, histogram_bin_edges, histogramdd
from minigrad.numpy._indexing import getitem
from minigrad.numpy._io import (
    array_repr,
    array_str,
    from_dlpack,
    frombuffer,
    fromfile,
    fromfunction,
    fromiter,
    fromstring,
    get_printoptions,
    load,
    printoptions,
    save,
    savez,
    set_printoptions,
)
from minigrad.numpy._joining import (
    array_split,
    block,
    broadcast_arrays,
    broadcast_shapes,
    column_stack,
    concat,
    dsplit,
    dstack,
    hsplit,
    matrix_transpose,
    permute_dims,
    rollaxis,
    unstack,
    vsplit,
)
from minigrad.numpy._linalg import (
    dot,
    einsum,
    einsum_path,
    inner,
    matmul,
    matvec,
    outer,
    tensordot,
    vdot,
    vecdot,
    vecmat,
)
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
from minigrad.numpy._matrices import cross, diag, diagflat, diagonal, kron, trace, tri, tril, triu, vander
from minigrad.numpy._modular import (
    bitwise_count,
    bitwise_left_shift,
    bitwise_right_shift,
    divmod,
    floor_divide,
    fmod,
    gcd,
    lcm,
    left_shift,
    mod,
    remainder,
    right_shift,
)
from minigrad.numpy._moments import average, corrcoef, cov
from minigrad.numpy._polynomials import (
    poly,
    polyadd,
    polyder,
    polydiv,
    polyfit,
    polyint,
    polymul,
    polysub,
    polyval,
    roots,
)
from minigrad.numpy._predicates import (
    all,
    allclose,
    any,
    array_equal,
    array_equiv,
    isclose,
    isinf,
    isnan,
    isneginf,
    isposinf,
    isscalar,
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
from minigrad.numpy._rounding import around, ceil, fix, floor, rint, round, trunc
from minigrad.numpy._sets import (
    intersect1d,
    isin,
    setdiff1d,
    setxor1d,
    union1d,
    unique_all,
    unique_counts,
    unique_inverse,
    unique_values,
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
from minigrad.numpy._signal import (
    bartlett,
    blackman,
    convolve,
    correlate,
    hamming,
    hanning,
    i0,
    interp,
    kaiser,
    trapezoid,
    unwrap,
)
from minigrad.numpy._sorting import (
    argpartition,
    argsort,
    digitize,
    lexsort,
    partition,
    searchsorted,
    sort,
    sort_complex,
    take_along_axis,
)  # fmt: skip
from minigrad.numpy._statistics import (
    median,
    nanargmax,
    nanargmin,
    nanmax,
    nanmean,
    nanmedian,
    nanmin,
    nanpercentile,
    nanprod,
    nanquantile,
    nanstd,
    nansum,
    nanvar,
    percentile,
    ptp,
    quantile,
)
from minigrad.numpy._trig import (
    acos,
    acosh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    cosh,
    deg2rad,
    degrees,
    hypot,
    rad2deg,
    radians,
    sinc,
    sinh,
)
from minigrad.numpy._type_queries import can_cast, isdtype, issubdtype, iterable, promote_types, result_type
from minigrad.numpy._ufuncs import frompyfunc, ufunc
from minigrad.numpy._vectorizing import apply_along_axis, apply_over_axes, vectorize

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

__all__ += [
    "acos", "acosh", "all", "allclose", "angle", "any", "arccos", "arccosh", "arcsin", "arcsinh",
    "arctan2", "arctanh", "around", "array_equal", "array_equiv", "asin", "asinh", "atan", "atan2",
    "atanh", "bitwise_left_shift", "bitwise_right_shift", "ceil", "conj", "conjugate", "copysign",
    "cosh", "deg2rad", "degrees", "divmod", "fabs", "fix", "float_power", "floor", "floor_divide",
    "fmax", "fmin", "fmod", "gcd", "heaviside", "hypot", "imag", "isclose", "iscomplex",
    "iscomplexobj", "isinf", "isnan", "isneginf", "isposinf", "isreal", "isrealobj", "isscalar",
    "lcm", "left_shift", "logaddexp", "logaddexp2", "mod", "nan_to_num", "rad2deg", "radians",
    "real", "remainder", "right_shift", "rint", "round", "signbit", "sinc", "sinh", "trunc",
    "bitwise_count", "frexp", "ldexp", "modf", "nextafter", "pow", "spacing",
]  # fmt: skip

# `mnp.linalg`, NumPy's `numpy.linalg`; imported last, since it is built on the functions above.
from minigrad.numpy import linalg  # noqa: E402

__all__ += ["linalg"]
__all__ += [
    "argpartition", "argsort", "argwhere", "bincount", "count_nonzero", "cumprod", "cumsum",
    "cumulative_prod", "cumulative_sum", "diff", "digitize", "ediff1d", "flatnonzero", "gradient",
    "lexsort", "nancumprod", "nancumsum", "nonzero", "partition", "searchsorted", "sort",
    "sort_complex", "take_along_axis", "unique",
    "append", "atleast_3d", "copy", "delete", "fliplr", "flipud", "insert", "repeat", "resize",
    "roll", "rot90", "tile",
    "cross", "diag", "diagflat", "diagonal", "kron", "trace", "tri", "tril", "triu", "vander",
    "median", "nanargmax", "nanargmin", "nanmax", "nanmean", "nanmedian", "nanmin", "nanpercentile",
    "nanprod", "nanquantile", "nanstd", "nansum", "nanvar", "percentile", "ptp", "quantile",
]  # fmt: skip

# `mnp.fft`, NumPy's `numpy.fft`; imported last, like `linalg`, since it is built on the above.
from minigrad.numpy import fft  # noqa: E402

__all__ += ["fft"]
__all__ += [
    "array_split", "block", "broadcast_arrays", "broadcast_shapes", "column_stack", "concat", "dsplit",
    "dstack", "hsplit", "matrix_transpose", "permute_dims", "rollaxis", "unstack", "vsplit",
    "c_", "diag_indices", "diag_indices_from", "indices", "ix_", "mask_indices", "meshgrid", "r_",
    "ravel_multi_index", "tril_indices", "tril_indices_from", "triu_indices", "triu_indices_from",
    "unravel_index", "empty_like", "geomspace", "identity", "logspace",
    "choose", "compress", "extract", "fill_diagonal", "piecewise", "place", "put", "put_along_axis",
    "select", "trim_zeros",
    "bartlett", "blackman", "convolve", "correlate", "hamming", "hanning", "i0", "interp", "kaiser",
    "trapezoid", "unwrap",
    "poly", "polyadd", "polyder", "polydiv", "polyfit", "polyint", "polymul", "polysub", "polyval", "roots",
    "average", "corrcoef", "cov", "histogram", "histogram2d", "histogram_bin_edges", "histogramdd",
    "intersect1d", "isin", "setdiff1d", "setxor1d", "union1d", "unique_all", "unique_counts",
    "unique_inverse", "unique_values",
    "apply_along_axis", "apply_over_axes", "vectorize", "frompyfunc", "ufunc",
    "can_cast", "isdtype", "issubdtype", "iterable", "promote_types", "result_type",
    "array_repr", "array_str", "from_dlpack", "frombuffer", "fromfile", "fromfunction", "fromiter",
    "fromstring", "get_printoptions", "load", "printoptions", "save", "savez", "set_printoptions",
    "einsum_path", "matvec", "vecdot", "vecmat", "packbits", "unpackbits",
]  # fmt: skip
