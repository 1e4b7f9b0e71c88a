"""Elementwise functions and comparisons with NumPy's names, promotion and broadcasting.

Example:
    >>> import numpy as np
    >>> multiply(np.array([1.0, 2.0], np.float32), 3).dtype
    dtype('float32')
"""

from __future__ import annotations

import numpy as np
from numpy import ndarray  # not `np.name` in hot paths: see core/dtypes.py

from minigrad.core.dtypes import weak_scalar_array
from minigrad.core.trace import Tracer
from minigrad.core.user_code import mention_user_line, user_source_line
from minigrad.numpy._promotion import dtype_of, promote, promote_to_inexact, result_dtype, to_array
from minigrad.ops import clipping
from minigrad.ops import elementwise as ew
from minigrad.ops import logic as lg

__all__ = [
    "add", "subtract", "multiply", "divide", "true_divide", "power", "negative", "positive",
    "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh", "arctan", "abs",
    "absolute", "sign", "maximum", "minimum", "where", "clip", "square", "reciprocal",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_not", "logical_xor", "isfinite", "stop_gradient",
    "log2", "log10", "exp2", "cbrt", "bitwise_and", "bitwise_or", "bitwise_xor", "invert",
    "bitwise_not", "bitwise_invert",
]  # fmt: skip


_NO_ARGUMENT = object()  # tells where(condition) from where(condition, x, y)


def _operands(name, x1, x2):
    """``x1`` and ``x2`` promoted to one dtype; shapes that do not broadcast are
    reported under ``name``, the function the user called (not the primitive's name).

    Callers unpack the pair before calling the operation: ``ew.add(*pair)`` would be a
    star call, which costs CPython 3.11 about four plain calls, on every operation.
    """
    # The usual cases are decided here, without the general promotion: a floating-point
    # array (or tracer) meeting a Python float, which takes its dtype (NumPy 2's weak
    # scalars), or one of its own dtype.
    if (type(x1) is ndarray or isinstance(x1, Tracer)) and x1.dtype.kind in "fc":
        if type(x2) is float:
            x2 = weak_scalar_array(x2, x1.dtype)
        elif not ((type(x2) is ndarray or isinstance(x2, Tracer)) and x2.dtype is x1.dtype):
            x1, x2 = promote(name, x1, x2)
    elif type(x1) is float and (type(x2) is ndarray or isinstance(x2, Tracer)) and x2.dtype.kind in "fc":
        x1 = weak_scalar_array(x1, x2.dtype)
    else:
        x1, x2 = promote(name, x1, x2)
    # A 0-d operand (a Python number, most often) broadcasts against anything.
    if x1.shape != x2.shape and x1.shape and x2.shape:
        try:
            ew.broadcast_shapes(name, x1.shape, x2.shape)
        except ValueError as error:
            mention_user_line(error, user_source_line())
            raise
    return x1, x2


def add(x1, x2):
    """Elementwise ``x1 + x2`` with broadcasting.

    Example:
      >>> add(np.array([1.0, 2.0]), 1)
      array([2., 3.])
    """
    x1, x2 = _operands("add", x1, x2)
    return ew.add(x1, x2)


def subtract(x1, x2):
    """Elementwise ``x1 - x2``.

    Example:
      >>> subtract(3.0, np.array([1.0]))
      array([2.])
    """
    if _all_booleans(x1, x2):
        # Checked before the shapes, and before jit stages a subtraction NumPy would refuse.
        raise TypeError(
            "subtract: booleans cannot be subtracted (as in NumPy); use logical_xor (^) for "
            "booleans, or convert them with x.astype(int) first."
        )
    x1, x2 = _operands("subtract", x1, x2)
    return ew.sub(x1, x2)


def multiply(x1, x2):
    """Elementwise ``x1 * x2``.

    Example:
      >>> multiply(np.array([1.0, 2.0]), np.array([[1.0], [10.0]]))
      array([[ 1.,  2.],
             [10., 20.]])
    """
    x1, x2 = _operands("multiply", x1, x2)
    return ew.mul(x1, x2)


def divide(x1, x2):
    """Elementwise true division; integers divide to floats, as in NumPy.

    Example:
      >>> divide(np.array([1, 2]), 4)
      array([0.25, 0.5 ])
      >>> divide(np.array([1, 2], np.int8), 3).dtype
      dtype('float64')
    """
    if _all_integral(x1, x2):
        # NumPy's true_divide of integers or booleans is float64, whatever their width
        # (and whatever Python integer meets them: ``uint8_array / -1`` is fine).
        x1, x2 = to_array(x1, np.float64), to_array(x2, np.float64)
    x1, x2 = _operands("divide", x1, x2)
    return ew.div(x1, x2)


true_divide = divide


def power(x1, x2):
    """Elementwise ``x1 ** x2``; a Python int exponent uses exact repeated multiplication.

    Booleans are raised as integers, as in NumPy.

    Example:
      >>> power(np.array([2.0, 3.0]), 2)
      array([4., 9.])
      >>> power(np.array([True, False]), 2)
      array([1, 0])
    """
    if isinstance(x2, int) and not isinstance(x2, bool) and not isinstance(x1, (int, float)):
        x1 = to_array(x1)
        if dtype_of(x1) == np.bool_:
            x1 = to_array(x1, result_dtype(x1, x2))
        if dtype_of(x1).kind in "fc" or x2 >= 0:
            return ew.integer_pow(x1, x2)
    x1, x2 = _operands("power", x1, x2)
    if dtype_of(x1) == np.bool_:
        x1, x2 = to_array(x1, np.int8), to_array(x2, np.int8)  # NumPy's bool ** bool is int8
    return ew.power(x1, x2)


def negative(x):
    """Elementwise ``-x``.

    Example:
      >>> negative(np.array([1.0, -2.0]))
      array([-1.,  2.])
    """
    x = to_array(x)
    if dtype_of(x) == np.bool_:
        raise TypeError("negative: booleans cannot be negated (as in NumPy); use logical_not (~) instead.")
    return ew.neg(x)


def positive(x):
    """Elementwise ``+x`` (the identity).

    Example:
      >>> positive(np.array([1.0]))
      array([1.])
    """
    x = to_array(x)
    if dtype_of(x) == np.bool_:
        raise TypeError(
            "positive: not defined for booleans (as in NumPy); use the array itself or x.astype(int)."
        )
    return x


def _unary(name, op, doc_input, doc_output):
    def function(x):
        # Float arrays and tracers, the common case, need no promotion.
        if not ((type(x) is ndarray or isinstance(x, Tracer)) and x.dtype.kind in "fc"):
            (x,) = promote_to_inexact(name, x)
        return op(x)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"Elementwise ``{name}``, differentiable; integers are computed as floats.\n\n"
        f"    Example:\n      >>> {name}(np.array({doc_input}))\n      {doc_output}\n"
    )
    return function


exp = _unary("exp", ew.exp, "[0.0]", "array([1.])")
log = _unary("log", ew.log, "[1.0]", "array([0.])")
log1p = _unary("log1p", ew.log1p, "[0.0]", "array([0.])")
expm1 = _unary("expm1", ew.expm1, "[0.0]", "array([0.])")
sqrt = _unary("sqrt", ew.sqrt, "[4.0]", "array([2.])")
sin = _unary("sin", ew.sin, "[0.0]", "array([0.])")
cos = _unary("cos", ew.cos, "[0.0]", "array([1.])")
tan = _unary("tan", ew.tan, "[0.0]", "array([0.])")
tanh = _unary("tanh", ew.tanh, "[0.0]", "array([0.])")
arctan = _unary("arctan", ew.arctan, "[0.0]", "array([0.])")
cbrt = _unary("cbrt", ew.cbrt, "[-8.0]", "array([-2.])")
exp2 = _unary("exp2", ew.exp2, "[3.0]", "array([8.])")
log2 = _unary("log2", ew.log2, "[8.0]", "array([3.])")
log10 = _unary("log10", ew.log10, "[1000.0]", "array([3.])")


def abs(x):  # noqa: A001 - NumPy's name
    """Elementwise absolute value; its derivative at 0 is 0.

    Example:
      >>> abs(np.array([-2.0, 3.0]))
      array([2., 3.])
    """
    return ew.abs(to_array(x))


absolute = abs


def sign(x):
    """Elementwise sign (-1, 0 or 1); zero derivative. For complex numbers ``z / |z|``
    (0 at 0), as NumPy 2, with the derivative of that quotient (docs/complex.md).

    Example:
      >>> sign(np.array([-2.0, 0.0, 3.0]))
      array([-1.,  0.,  1.])
      >>> sign(np.array([3.0 + 4.0j]))
      array([0.6+0.8j])
    """
    x = to_array(x)
    if dtype_of(x).kind != "c":
        return ew.sign(x)
    # ew.sign's derivative is zero, right for real numbers only; z / |z| carries its own.
    radius = ew.abs(x)
    at_zero = lg.equal(radius, 0.0)
    quotient = ew.div(x, ew.convert_element_type(ew.select(at_zero, 1.0, radius), x.dtype))
    return ew.select(at_zero, 0.0, quotient)


def square(x):
    """Elementwise ``x * x``.

    Example:
      >>> square(np.array([3.0]))
      array([9.])
      >>> square(np.array([True])).dtype
      dtype('int8')
    """
    x = to_array(x)
    return ew.square(to_array(x, np.int8) if dtype_of(x) == np.bool_ else x)


def reciprocal(x):
    """Elementwise ``1 / x``.

    Example:
      >>> reciprocal(np.array([4.0]))
      array([0.25])

    Integers stay integers, as in NumPy: ``1 // x`` rounded toward zero, so only
    ``1`` and ``-1`` give nonzero results (``reciprocal(0)`` is 0 here; NumPy leaves it
    undefined). Booleans become int8.

      >>> reciprocal(np.array([1, 2, -1], np.int8))
      array([ 1,  0, -1], dtype=int8)
    """
    x = to_array(x)
    kind = dtype_of(x).kind
    if kind in "fc":
        return ew.reciprocal(x)
    if kind == "b":
        return ew.convert_element_type(x, np.dtype(np.int8))
    dtype = dtype_of(x)
    one = np.ones((), dtype)
    ones = ew.convert_element_type(lg.equal(x, one), dtype)
    if kind == "u":
        return ones
    minus_ones = ew.convert_element_type(lg.equal(x, -one), dtype)
    return ew.sub(ones, minus_ones)


def maximum(x1, x2):
    """Elementwise maximum; where the inputs tie, each gets half of the gradient.

    Example:
      >>> maximum(np.array([1.0, 5.0]), 3.0)
      array([3., 5.])
    """
    x1, x2 = _operands("maximum", x1, x2)
    return ew.maximum(x1, x2)


def minimum(x1, x2):
    """Elementwise minimum; where the inputs tie, each gets half of the gradient.

    Example:
      >>> minimum(np.array([1.0, 5.0]), 3.0)
      array([1., 3.])
    """
    x1, x2 = _operands("minimum", x1, x2)
    return ew.minimum(x1, x2)


def where(condition, x=_NO_ARGUMENT, y=_NO_ARGUMENT):
    """Choose ``x`` where ``condition`` holds, else ``y`` (all three broadcast).

    With ``condition`` alone it is NumPy's ``nonzero``: a tuple of integer index arrays,
    one per axis. Their length depends on the values, so under ``jit``, ``vmap`` and
    ``make_jaxpr`` that form raises ``mg.ConcretizationError``; use the three-argument form.

    The branch not chosen gets a zero gradient. A branch that is not finite where it is
    not chosen (``log(x)`` at ``x <= 0``) can still make the *other* gradients NaN: apply
    ``where`` to the input too, e.g. ``where(x > 0, log(where(x > 0, x, 1.0)), 0.0)``.

    Example:
      >>> where(np.array([True, False]), 1.0, np.array([5.0, 6.0]))
      array([1., 6.])
      >>> where(np.array([0.0, 2.0, 3.0]))
      (array([1, 2]),)
    """
    if x is _NO_ARGUMENT and y is _NO_ARGUMENT:
        if isinstance(condition, Tracer):
            condition = condition._concrete(
                "mnp.where(condition) with one argument (the length of its result depends on the values)"
            )
        return np.nonzero(np.asarray(condition))
    if x is _NO_ARGUMENT or y is _NO_ARGUMENT:
        raise ValueError("where: give either condition alone or all three of condition, x and y.")
    condition = to_array(condition)
    if dtype_of(condition) != np.bool_:
        condition = lg.not_equal(condition, 0)
    x, y = _where_operands(x, y)
    return ew.select(condition, x, y)


def _where_operands(x, y):
    """``x`` and ``y`` in their common dtype. NumPy's where casts a Python number that the
    dtype cannot hold as C does (``-1`` becomes 255 in uint8) rather than raising."""
    if not any(type(v) in (int, float) for v in (x, y)):
        return promote("where", x, y)
    try:
        dtype = result_dtype(x, y)
    except TypeError as error:
        raise TypeError(
            f"where: no common dtype for {type(x).__name__} and {type(y).__name__}: {error}"
        ) from None
    with np.errstate(over="ignore"):
        return [
            np.asarray(v).astype(dtype) if type(v) in (int, float) else to_array(v, dtype) for v in (x, y)
        ]


def clip(a, a_min=_NO_ARGUMENT, a_max=_NO_ARGUMENT, out=None, *, min=_NO_ARGUMENT, max=_NO_ARGUMENT):  # noqa: A002
    """Limit values to ``[a_min, a_max]`` (either may be None; ``min`` and ``max`` are
    NumPy 2's keyword names for them).

    The gradient is that of ``minimum(a_max, maximum(a_min, a))``, as in JAX: it flows to
    ``a`` inside the interval, to the bound outside it, and half to each where ``a``
    equals a bound.

    Example:
      >>> clip(np.array([-2.0, 0.5, 2.0]), 0.0, 1.0)
      array([0. , 0.5, 1. ])
      >>> clip(np.array([-2.0, 0.5]), max=0.0)
      array([-2.,  0.])
    """
    if out is not None:
        raise TypeError(
            "clip: out= is not supported, since minigrad's arrays are immutable; use the returned array."
        )
    if a_min is _NO_ARGUMENT and a_max is _NO_ARGUMENT:
        a_min = None if min is _NO_ARGUMENT else min
        a_max = None if max is _NO_ARGUMENT else max
    elif a_min is _NO_ARGUMENT or a_max is _NO_ARGUMENT:
        missing = "a_min" if a_min is _NO_ARGUMENT else "a_max"
        raise TypeError(f"clip: missing the argument {missing} (give both bounds; None means no bound).")
    elif min is not _NO_ARGUMENT or max is not _NO_ARGUMENT:
        raise ValueError("clip: give the bounds as a_min and a_max or as min= and max=, not both.")
    a = to_array(a)
    if dtype_of(a).kind in "iu":
        # A Python integer bound beyond the integer dtype's range on its own side bounds
        # nothing (NumPy's rule: clip(uint8_array, -1, 300) is the array).
        info = np.iinfo(dtype_of(a))
        a_min = None if type(a_min) is int and a_min <= info.min else a_min
        a_max = None if type(a_max) is int and a_max >= info.max else a_max
    if a_min is None and a_max is None:
        return positive(a)  # NumPy's clip with no bounds: +a (a TypeError for booleans)
    # One dtype for all three operands at once, as NumPy: promotion is not associative
    # (uint8, int8 and float16 meet at float16, but uint8 and int8 first make int16).
    bounds = [b for b in (a_min, a_max) if b is not None]
    dtype = result_dtype(a, *bounds)
    out = to_array(a, dtype)
    if a_max is None:
        return ew.maximum(to_array(a_min, dtype), out)
    if a_min is None:
        return ew.minimum(to_array(a_max, dtype), out)
    return clipping.clip(out, to_array(a_min, dtype), to_array(a_max, dtype))


def stop_gradient(x):
    """The identity function, whose gradient is zero.

    Example:
      >>> stop_gradient(np.array([1.0]))
      array([1.])
    """
    return ew.stop_gradient(to_array(x))


def _all_booleans(*args):
    return all(
        type(x) is bool or (not isinstance(x, (int, float, complex)) and dtype_of(x) == np.bool_)
        for x in args
    )


def _all_integral(*args):
    """Whether every operand is an integer or boolean (array, NumPy scalar or Python number)."""
    return all(
        type(x) in (bool, int) or (not isinstance(x, (float, complex)) and dtype_of(x).kind in "biu")
        for x in args
    )


def _widen_for_python_int(x1, x2):
    """NumPy 2 compares an integer array with any Python integer, even one its dtype
    cannot hold (``uint8_array == -1`` is all False): widen the array to hold it."""
    for i, (a, b) in enumerate(((x1, x2), (x2, x1))):
        if type(b) is int and not isinstance(a, (bool, int, float, complex)) and dtype_of(a).kind in "iu":
            info = np.iinfo(dtype_of(a))
            if not info.min <= b <= info.max:
                wide = np.dtype(np.int64) if -(2**63) <= b < 2**63 else np.dtype(np.float64)
                a = to_array(a, np.result_type(dtype_of(a), wide) if wide.kind == "i" else wide)
                b = np.asarray(b, dtype_of(a)) if wide.kind == "i" else np.asarray(float(b))
                return (a, b) if i == 0 else (b, a)
    return x1, x2


def _comparison(name, op, symbol):
    def function(x1, x2):
        return op(*_operands(name, *_widen_for_python_int(x1, x2)))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"Elementwise ``x1 {symbol} x2`` as booleans (no gradient).\n\n"
        f"    Example:\n      >>> {name}(np.array([1.0, 2.0]), 2.0).dtype\n      dtype('bool')\n"
    )
    return function


equal = _comparison("equal", lg.equal, "==")
not_equal = _comparison("not_equal", lg.not_equal, "!=")
less = _comparison("less", lg.less, "<")
less_equal = _comparison("less_equal", lg.less_equal, "<=")
greater = _comparison("greater", lg.greater, ">")
greater_equal = _comparison("greater_equal", lg.greater_equal, ">=")


def _as_bool(x):
    x = to_array(x)
    return x if dtype_of(x) == np.bool_ else lg.not_equal(x, 0)


def logical_and(x1, x2):
    """Elementwise logical and; nonzero numbers count as True.

    Example:
      >>> logical_and(np.array([True, True]), np.array([1.0, 0.0]))
      array([ True, False])
    """
    return lg.logical_and(_as_bool(x1), _as_bool(x2))


def logical_or(x1, x2):
    """Elementwise logical or; nonzero numbers count as True.

    Example:
      >>> logical_or(np.array([True, False]), False)
      array([ True, False])
    """
    return lg.logical_or(_as_bool(x1), _as_bool(x2))


def logical_xor(x1, x2):
    """Elementwise logical exclusive or; nonzero numbers count as True.

    Example:
      >>> logical_xor(np.array([True, False]), True)
      array([False,  True])
    """
    return lg.logical_xor(_as_bool(x1), _as_bool(x2))


def logical_not(x):
    """Elementwise logical not; nonzero numbers count as True.

    Example:
      >>> logical_not(np.array([True, False]))
      array([False,  True])
    """
    return lg.logical_not(_as_bool(x))


def _integer_operands(name, *args):
    # The dtype is checked before the shapes, as NumPy does: a float operand is the
    # error to report even when the shapes do not broadcast either.
    dtype = dtype_of(promote(name, *args)[0])
    if dtype.kind not in "biu":
        raise TypeError(
            f"{name}: operands must be integers or booleans, got {dtype}. For a truth test "
            "of numbers use the logical_* functions; for floats compare explicitly (x > 0)."
        )
    return _operands(name, *args) if len(args) == 2 else promote(name, *args)


def bitwise_and(x1, x2):
    """Elementwise bitwise and of integers or booleans (the ``&`` operator).

    Example:
      >>> bitwise_and(np.array([5, 3]), 6)
      array([4, 2])
    """
    return lg.bitwise_and(*_integer_operands("bitwise_and", x1, x2))


def bitwise_or(x1, x2):
    """Elementwise bitwise or of integers or booleans (the ``|`` operator).

    Example:
      >>> bitwise_or(np.array([5, 3]), 8)
      array([13, 11])
    """
    return lg.bitwise_or(*_integer_operands("bitwise_or", x1, x2))


def bitwise_xor(x1, x2):
    """Elementwise bitwise exclusive or of integers or booleans (the ``^`` operator).

    Example:
      >>> bitwise_xor(np.array([5, 3]), 6)
      array([3, 5])
    """
    return lg.bitwise_xor(*_integer_operands("bitwise_xor", x1, x2))


def invert(x):
    """Elementwise bitwise not of integers, logical not of booleans (the ``~`` operator).

    Example:
      >>> invert(np.array([0, 5]))
      array([-1, -6])
    """
    (x,) = _integer_operands("invert", x)
    return lg.invert(x)


bitwise_not = bitwise_invert = invert


def isfinite(x):
    """Elementwise test for finite values (no gradient).

    Example:
      >>> isfinite(np.array([1.0, np.inf, np.nan]))
      array([ True, False, False])
    """
    return lg.isfinite(to_array(x))
