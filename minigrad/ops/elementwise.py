"""Elementwise primitives, each with its rules, as one readable table.

Elementwise primitives broadcast their inputs as NumPy does; inputs already share one
dtype (``minigrad.numpy`` promotes before binding). Their derivative rules are
*linear* in an incoming array ``g``: ``rule(g, ans, *primals)`` multiplies ``g`` by the
partial derivative with respect to one input. The same rule serves reverse mode
(``g`` is the output cotangent; the backward pass sums away broadcast axes in one place)
and forward mode (``g`` is the input's tangent). For complex values the partial is the
complex derivative, unconjugated in both modes: reverse mode is the transpose of forward
mode, not its adjoint (docs/complex.md).

The functions at the bottom of each block (``sin``, ``mul``, ...) are the traceable
operations that every rule in minigrad is written with. They call ``bind_args`` with
their arguments packed rather than ``bind``, whose own Python call would be paid by
every operation of an eager step. Comparisons and bitwise logic, which have no
derivative, live in ``logic``; how operands broadcast and meet Python scalars, in
``operands``.

Example:
    >>> import numpy as np
    >>> mul(np.array([1.0, 2.0]), 3.0)
    array([3., 6.])
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.core.dtypes import FLOAT_KINDS
from minigrad.core.ir import Eqn, Literal, ShapedArray, Var
from minigrad.core.lowering import lower_by_impl, lower_ufunc
from minigrad.core.primitive import Primitive
from minigrad.core.rewrite import is_uniform_literal, literal, operand_producer, passes_through
from minigrad.core.trace import bind_args, get_aval
from minigrad.ops import complex_parts as cp
from minigrad.ops.logic import equal, greater, less, logical_and
from minigrad.ops.operands import (
    ELEMENTWISE_PRIMITIVES,
    binary_operation,
    broadcast_shapes,
    same_dtype_rule,
)
from minigrad.ops.selection import (  # re-exported: every family selects and casts
    convert_element_type,
    convert_element_type_p,
    select,
    select_p,
    stop_gradient,
    stop_gradient_p,
)
from minigrad.ops.shape import elementwise_batch_rule

__all__ = [
    "add", "sub", "mul", "div", "neg", "power", "integer_pow", "maximum", "minimum",
    "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh", "arctan",
    "abs", "sign", "logistic", "select", "convert_element_type", "stop_gradient",
    "broadcast_shapes", "ELEMENTWISE_PRIMITIVES", "square", "reciprocal", "zeros_like", "cbrt",
    "exp2", "log2", "log10", "declare_elementwise",
    "select_p", "convert_element_type_p", "stop_gradient_p",
]  # fmt: skip


def declare_elementwise(
    name: str, impl, *linear_rules, shape_rule=None, operator=None, register: bool = True
) -> Primitive:
    """Declare an elementwise primitive from its NumPy function and its partials.

    Each ``linear_rules[i](g, ans, *primals)`` returns ``g`` times the partial derivative
    of the output with respect to input ``i`` (``None``: no gradient through input i).
    The batching rule is the shared elementwise one; when ``impl`` is a NumPy ufunc,
    jit compiles the primitive to that same ufunc (``operator``, such as
    ``"{0} + {1}"``, is its faster spelling), so compiled and eager code cannot differ.

    Example:
      >>> def sinh_linear(g, ans, x):
      ...     return mul(g, np.cosh(x))
      >>> sinh_p = declare_elementwise("sinh_example", np.sinh, sinh_linear, register=False)
      >>> sinh_p.lowering.__name__, sinh_p.batch.__name__
      ('sinh_lowering', 'sinh_example_batch')
    """
    prim = Primitive(name, register=register)
    prim.def_impl(impl)
    prim.def_shape_rule(shape_rule or same_dtype_rule(name))
    prim.def_vjp(*linear_rules)
    prim.linear_rules = linear_rules
    prim.def_batch(elementwise_batch_rule(prim))
    if isinstance(impl, np.ufunc):
        prim.def_lowering(lower_ufunc(impl, operator))

    def elementwise_jvp(primals, tangents, ans, **params):
        out = None
        for rule, tangent in zip(linear_rules, tangents, strict=True):
            if tangent is None or rule is None:
                continue
            term = rule(tangent, ans, *primals, **params)
            out = term if out is None else add(out, term)
        return out

    elementwise_jvp.__name__ = f"{name}_jvp"
    prim.def_jvp(elementwise_jvp)
    if register:
        ELEMENTWISE_PRIMITIVES.append(prim)
    return prim


# ---------------------------------------------------------------------------------------
# Arithmetic


def add_linear(g, ans, x, y):
    return g


add_p = declare_elementwise("add", np.add, add_linear, add_linear, operator="{0} + {1}")
add_p.def_neutral_operands(0, 0)


add = binary_operation(add_p, "add")


def sub_rhs_linear(g, ans, x, y):
    return neg(g)


sub_p = declare_elementwise("sub", np.subtract, add_linear, sub_rhs_linear, operator="{0} - {1}")
sub_p.def_neutral_operands(None, 0)


sub = binary_operation(sub_p, "sub")


def mul_lhs_linear(g, ans, x, y):
    return mul(g, y)


def mul_rhs_linear(g, ans, x, y):
    return mul(x, g)


mul_p = declare_elementwise("mul", np.multiply, mul_lhs_linear, mul_rhs_linear, operator="{0} * {1}")
mul_p.def_neutral_operands(1, 1)


@mul_p.def_simplification
def integer_times_zero(eqn, producers):
    # x * 0 is 0 only when x cannot be inf or nan: integers and booleans.
    out_aval = eqn.outvars[0].aval
    if out_aval.dtype.kind in "iub" and any(is_uniform_literal(atom, 0) for atom in eqn.invars):
        return literal(np.zeros(out_aval.shape, out_aval.dtype), out_aval)
    return None


mul = binary_operation(mul_p, "mul")


def div_lhs_linear(g, ans, x, y):
    return div(g, y)


def div_rhs_linear(g, ans, x, y):
    return neg(mul(g, div(ans, y)))


_div_operands_rule = same_dtype_rule("div")


def div_shape_rule(x, y):
    # True division of integers gives floats, which a same-dtype primitive cannot
    # promise; minigrad.numpy.divide promotes integer operands to float64 first.
    out = _div_operands_rule(x, y)
    if out.dtype.kind not in FLOAT_KINDS:
        raise TypeError(
            f"div: operands of dtype {out.dtype}; true division needs floating-point operands. "
            "Use minigrad.numpy.divide, which promotes integers to float64."
        )
    return out


div_p = declare_elementwise(
    "div", np.true_divide, div_lhs_linear, div_rhs_linear, shape_rule=div_shape_rule, operator="{0} / {1}"
)
div_p.def_neutral_operands(None, 1)


div = binary_operation(div_p, "div")


def neg_linear(g, ans, x):
    return neg(g)


neg_p = declare_elementwise("neg", np.negative, neg_linear, operator="-{0}")


@neg_p.def_simplification
def negation_of_negation(eqn, producers):
    inner = operand_producer(eqn, producers)
    return inner.invars[0] if inner is not None and inner.primitive is neg_p else None


@neg_p.def_simplification
def negation_of_scaling(eqn, producers):
    # -(c * x) is (-c) * x and -(x / c) is x / (-c), bit for bit: one NumPy call fewer.
    inner = operand_producer(eqn, producers)
    if inner is None or inner.primitive not in (mul_p, div_p) or eqn.outvars[0].aval.dtype.kind != "f":
        return None
    for position, atom in enumerate(inner.invars):
        if type(atom) is Literal and type(inner.invars[1 - position]) is Var:
            negated = literal(np.negative(atom.val), atom.aval)
            invars = [negated if k == position else other for k, other in enumerate(inner.invars)]
            return Eqn(inner.primitive, invars, eqn.outvars, inner.params, eqn.source)
    return None


def neg(x):
    return bind_args(neg_p, (x,), {})


def power_base_linear(g, ans, x, y):
    # d/dx x**y = y * x**(y-1); written without dividing by x so x = 0 stays finite.
    # At x = 0 and y = 0 that reads 0 * 0**-1 = nan, yet x**0 is the constant 1: there
    # the exponent is replaced by 1 (any value but 0 gives y * x**0 = 0), and only there,
    # so that the mixed derivative d/dy stays exact wherever it exists.
    safe_y = select(logical_and(equal(x, 0.0), equal(y, 0.0)), 1.0, y)
    return mul(g, mul(y, power(x, sub(safe_y, 1.0))))


def power_exponent_linear(g, ans, x, y):
    # d/dy x**y = log(x) * x**y; where x == 0 the limit of that product is 0.
    safe_x = select(equal(x, 0.0), 1.0, x)
    return mul(g, mul(log(safe_x), ans))


power_p = declare_elementwise("pow", np.power, power_base_linear, power_exponent_linear)


power = binary_operation(power_p, "power")


def integer_pow_linear(g, ans, x, *, y):
    if y == 0:
        return zeros_like(g)
    return mul(g, mul(float(y), integer_pow(x, y - 1)))


def integer_pow_impl(x, *, y):
    if x.dtype.kind not in "fc":
        # Integers keep NumPy's power, and its refusal of an exponent the dtype cannot hold.
        return np.power(x, y, dtype=x.dtype) if y >= 0 else np.reciprocal(np.power(x, -y, dtype=x.dtype))
    if y == 2:
        # `square` (tanh's and tan's derivatives, `x ** 2`): one ufunc call, the same
        # values as the `x * x` that repeated squaring computes for n = 2.
        return np.square(x)
    if y == 1:
        # A copy with the same bits (not np.positive: NumPy's complex positive turns -0.0
        # into 0.0).
        return np.array(x, copy=True)
    if y == 0:
        # The derivatives of squares hold x ** 1 and x ** 0: cheap calls matter there.
        return np.ones(np.shape(x), x.dtype)
    # Not `abs(y)`: in this module `abs` is the abs primitive (the NumPy name), which
    # would bind an operation on a Python int.
    positive = _power_by_squaring(x, -y if y < 0 else y)
    return positive if y >= 0 else np.reciprocal(positive)


def _power_by_squaring(x, n: int):
    """``x ** n`` for ``n >= 0`` by repeated squaring, in ``x``'s (inexact) dtype, as XLA lowers it.

    NumPy's ``power`` of float32 by an integer takes a slow path: on 10^5 elements
    ``x ** 3`` took about 20 ms where ``x * x * x`` takes 0.03 ms (x86_64, NumPy 2.4).
    """
    if n == 0:
        return np.ones_like(x)
    result, base = None, x
    while True:
        if n & 1:
            result = base if result is None else result * base
        n >>= 1
        if not n:
            break
        base = base * base
    # For n == 1 the result is the input itself; the caller owns (and may write into) outputs.
    return np.array(result, copy=True) if result is x else result


def integer_pow_shape_rule(x, *, y):
    return x


integer_pow_p = declare_elementwise(
    "integer_pow", integer_pow_impl, integer_pow_linear, shape_rule=integer_pow_shape_rule
)


@integer_pow_p.def_simplification
def trivial_integer_power(eqn, producers):
    # Derivatives of powers hold these (the Hessian of x ** 2 has 2 * x ** 1 and
    # 1 * x ** 0): x ** 1 is x, and x ** 0 is 1 for every x, inf and NaN included (as
    # NumPy's), a constant that later passes fold into what reads it.
    (x,) = eqn.invars
    out_aval = eqn.outvars[0].aval
    if eqn.params["y"] == 1 and passes_through(eqn, x):
        return x
    if eqn.params["y"] == 0:
        return literal(np.broadcast_to(np.ones((), out_aval.dtype), out_aval.shape), out_aval)
    return None


@integer_pow_p.def_lowering
def integer_pow_lowering(ctx, x, *, y):
    # Squares and reciprocals of floats are ufuncs, which may reuse a dead buffer.
    kind = ctx.out_avals[0].dtype.kind
    if y in (2, -1) and kind in FLOAT_KINDS:
        return ctx.ufunc(np.square if y == 2 else np.reciprocal, [x])
    if y == 1 and kind == "f":
        # np.positive copies a real float bit for bit, -0.0 included (not a complex one).
        return ctx.ufunc(np.positive, [x])
    return lower_by_impl(ctx, x, y=y)


def integer_pow(x, y: int):
    """``x ** y`` for a Python integer ``y`` (its own primitive: exact and fast)."""
    return bind_args(integer_pow_p, (x,), {"y": int(y)})


def square(x):
    return bind_args(integer_pow_p, (x,), {"y": 2})  # integer_pow(x, 2), one call less


def reciprocal(x):
    return integer_pow(x, -1)


def _share_ties(g, wins, ties):
    """``g`` where this input wins, half of ``g`` where the inputs tie, else zero."""
    dtype = get_aval(g).dtype
    weight = add(convert_element_type(wins, dtype), mul(convert_element_type(ties, dtype), 0.5))
    return mul(g, weight)


def maximum_lhs_linear(g, ans, x, y):
    return _share_ties(g, greater(x, y), equal(x, y))


def maximum_rhs_linear(g, ans, x, y):
    return _share_ties(g, less(x, y), equal(x, y))


maximum_p = declare_elementwise("max", np.maximum, maximum_lhs_linear, maximum_rhs_linear)


maximum = binary_operation(maximum_p, "maximum")


minimum_p = declare_elementwise("min", np.minimum, maximum_rhs_linear, maximum_lhs_linear)


minimum = binary_operation(minimum_p, "minimum")


# ---------------------------------------------------------------------------------------
# Transcendental functions


def exp_linear(g, ans, x):
    return mul(g, ans)


exp_p = declare_elementwise("exp", np.exp, exp_linear)


def exp(x):
    return bind_args(exp_p, (x,), {})


def log_linear(g, ans, x):
    return div(g, x)


log_p = declare_elementwise("log", np.log, log_linear)


def log(x):
    return bind_args(log_p, (x,), {})


def log1p_linear(g, ans, x):
    return div(g, add(x, 1.0))


log1p_p = declare_elementwise("log1p", np.log1p, log1p_linear)


def log1p(x):
    return bind_args(log1p_p, (x,), {})


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def exp2_linear(g, ans, x):
    return mul(g, mul(ans, _LN2))


exp2_p = declare_elementwise("exp2", np.exp2, exp2_linear)


def exp2(x):
    """``2 ** x``, as exactly as NumPy's ``exp2``."""
    return bind_args(exp2_p, (x,), {})


def log2_linear(g, ans, x):
    return div(g, mul(x, _LN2))


log2_p = declare_elementwise("log2", np.log2, log2_linear)


def log2(x):
    """The base-2 logarithm (``log2(8.0)`` is exactly 3)."""
    return bind_args(log2_p, (x,), {})


def log10_linear(g, ans, x):
    return div(g, mul(x, _LN10))


log10_p = declare_elementwise("log10", np.log10, log10_linear)


def log10(x):
    """The base-10 logarithm (``log10(1000.0)`` is exactly 3)."""
    return bind_args(log10_p, (x,), {})


def expm1_linear(g, ans, x):
    return mul(g, add(ans, 1.0))


expm1_p = declare_elementwise("expm1", np.expm1, expm1_linear)


def expm1(x):
    return bind_args(expm1_p, (x,), {})


def cbrt_linear(g, ans, x):
    # 1 / (3 cbrt(x)**2): +inf at 0, where the cube root's tangent is vertical.
    return div(g, mul(square(ans), 3.0))


cbrt_p = declare_elementwise("cbrt", np.cbrt, cbrt_linear)


def cbrt(x):
    """The real cube root (negative for negative inputs)."""
    return bind_args(cbrt_p, (x,), {})


def sqrt_linear(g, ans, x):
    return div(g, mul(ans, 2.0))


sqrt_p = declare_elementwise("sqrt", np.sqrt, sqrt_linear)


def sqrt(x):
    return bind_args(sqrt_p, (x,), {})


def sin_linear(g, ans, x):
    return mul(g, cos(x))


sin_p = declare_elementwise("sin", np.sin, sin_linear)


def sin(x):
    return bind_args(sin_p, (x,), {})


def cos_linear(g, ans, x):
    return neg(mul(g, sin(x)))


cos_p = declare_elementwise("cos", np.cos, cos_linear)


def cos(x):
    return bind_args(cos_p, (x,), {})


def tan_linear(g, ans, x):
    return mul(g, add(square(ans), 1.0))


tan_p = declare_elementwise("tan", np.tan, tan_linear)


def tan(x):
    return bind_args(tan_p, (x,), {})


def tanh_linear(g, ans, x):
    return mul(g, sub(1.0, square(ans)))


tanh_p = declare_elementwise("tanh", np.tanh, tanh_linear)


def tanh(x):
    return bind_args(tanh_p, (x,), {})


def arctan_linear(g, ans, x):
    return div(g, add(square(x), 1.0))


arctan_p = declare_elementwise("atan", np.arctan, arctan_linear)


def arctan(x):
    return bind_args(arctan_p, (x,), {})


def logistic_impl(x):
    # 1 / (1 + exp(-x)), four NumPy calls on one buffer. exp(-x) overflows to inf for x
    # below about -88.7 (float32; -709.8 float64), and 1 / inf is 0: only where the
    # sigmoid itself is below the smallest normal number (1.2e-38), so those subnormal
    # results become 0 and every normal one keeps its few-ulp accuracy; the overflow is
    # intended, so its warning is silenced. The formula without any overflow,
    # exp(min(x, 0)) / (1 + exp(-|x|)), takes seven calls: 7.3 us against 5.2 on
    # (32, 128) float32, a GRU's gates at each step (medians of 3 x 5,000 calls, one CPU).
    # NaN stays NaN, +-inf give 1 and 0, and x = 0 gives 0.5 exactly.
    decay = np.negative(x)
    if decay.ndim == 0 or decay.dtype.kind != "f":  # a NumPy scalar, or integers
        decay = np.array(decay, dtype=np.result_type(decay, np.float16))
    with np.errstate(over="ignore"):
        np.exp(decay, out=decay)
    decay += 1
    return np.reciprocal(decay, out=decay).astype(np.result_type(x), copy=False)


def logistic_linear(g, ans, x):
    return mul(g, mul(ans, sub(1.0, ans)))


logistic_p = declare_elementwise("logistic", logistic_impl, logistic_linear)
logistic_p.def_lowering(lower_by_impl)


def logistic(x):
    """The sigmoid 1 / (1 + exp(-x)), computed without overflow."""
    return bind_args(logistic_p, (x,), {})


def abs_linear(g, ans, x):
    if get_aval(x).dtype.kind != "c":
        return mul(g, sign(x))  # sign(0) = 0, so abs'(0) = 0 as API.md promises
    # |z| moves by Re(u * t) for a tangent t, u = conj(z) / |z| (0 at 0): a map from
    # complex tangents to real ones, whose transpose takes a real cotangent c to u * c.
    # The dtype of g says which of the two is asked for (docs/complex.md). u is written
    # with z and |z|, not sign(z), whose derivative is zero, so that second derivatives hold.
    unit = cp.conj(div(x, convert_element_type(select(equal(ans, 0.0), 1.0, ans), get_aval(x).dtype)))
    if get_aval(g).dtype.kind == "c":
        return cp.real(mul(g, unit))
    return mul(convert_element_type(g, get_aval(x).dtype), unit)


def abs_shape_rule(x):
    return ShapedArray(x.shape, cp.real_dtype(x.dtype)) if x.dtype.kind == "c" else x


abs_p = declare_elementwise("abs", np.abs, abs_linear, shape_rule=abs_shape_rule)


def abs(x):  # noqa: A001 - the NumPy name
    return bind_args(abs_p, (x,), {})


def zeros_like(x):
    """Zeros of ``x``'s shape and dtype: a constant, since shapes are always known."""
    aval = get_aval(x)
    return np.zeros(aval.shape, aval.dtype)


def zero_linear(g, ans, *primals, **params):
    return zeros_like(g)


sign_p = declare_elementwise("sign", np.sign, zero_linear)


def sign(x):
    return bind_args(sign_p, (x,), {})
