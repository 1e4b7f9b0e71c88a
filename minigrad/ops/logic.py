"""Comparisons, bitwise and logical operations: elementwise, with no derivative.

Comparisons give booleans; the bitwise operations take integers or booleans and keep
their dtype (on booleans they are the logical ones). Operands broadcast as in
``elementwise``; Python scalars take the dtype of the arrays they meet.

Example:
    >>> import numpy as np
    >>> less(np.array([1.0, 3.0]), 2.0)
    array([ True, False])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.lowering import lower_by_impl, lower_ufunc
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind
from minigrad.ops.operands import ELEMENTWISE_PRIMITIVES, binary_operation, same_dtype_rule
from minigrad.ops.shape import elementwise_batch_rule

__all__ = [
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "isfinite",
    "bitwise_and", "bitwise_or", "bitwise_xor", "invert",
    "logical_and", "logical_or", "logical_not", "logical_xor", "declare_no_derivative",
]  # fmt: skip


# ---------------------------------------------------------------------------------------
# Comparisons and logic: boolean results, no derivative.


def declare_no_derivative(name, impl, result_type, register: bool = True):
    """An elementwise primitive without a derivative; ``result_type(name, aval)`` turns the
    broadcast operand type into the result's (booleans for predicates).

    Example:
      >>> def boolean_result(name, aval):
      ...     return ShapedArray(aval.shape, np.bool_)
      >>> isnan_p = declare_no_derivative("isnan_example", np.isnan, boolean_result, register=False)
      >>> isnan_p.differentiable, isnan_p.lowering.__name__
      (False, 'isnan_lowering')
    """
    prim = Primitive(name, register=register)
    prim.def_impl(impl)
    prim.def_nondifferentiable()
    same_dtype = same_dtype_rule(name)

    def no_derivative_shape_rule(*avals):
        return result_type(name, same_dtype(*avals))

    no_derivative_shape_rule.__name__ = f"{name}_shape_rule"
    prim.def_shape_rule(no_derivative_shape_rule)
    prim.def_batch(elementwise_batch_rule(prim))
    prim.def_lowering(lower_ufunc(impl) if isinstance(impl, np.ufunc) else lower_by_impl)
    if register:
        ELEMENTWISE_PRIMITIVES.append(prim)
    return prim


def _boolean_result(name, aval):
    return ShapedArray(aval.shape, np.bool_)


def _predicate(name, impl):
    return declare_no_derivative(name, impl, _boolean_result)


eq_p = _predicate("eq", np.equal)
ne_p = _predicate("ne", np.not_equal)
lt_p = _predicate("lt", np.less)
le_p = _predicate("le", np.less_equal)
gt_p = _predicate("gt", np.greater)
ge_p = _predicate("ge", np.greater_equal)
is_finite_p = _predicate("is_finite", np.isfinite)


equal = binary_operation(eq_p, "equal")


not_equal = binary_operation(ne_p, "not_equal")


less = binary_operation(lt_p, "less")


less_equal = binary_operation(le_p, "less_equal")


greater = binary_operation(gt_p, "greater")


greater_equal = binary_operation(ge_p, "greater_equal")


# ---------------------------------------------------------------------------------------
# Bitwise operations on integers and booleans (on booleans they are the logical ones),
# as JAX's and/or/xor/not: the result has the operands' dtype and no derivative.


def _integer_result(name, aval):
    if aval.dtype.kind not in "biu":
        raise TypeError(f"{name}: operands must be integers or booleans, got {aval.dtype}")
    return aval


def _bitwise(name, impl):
    return declare_no_derivative(name, impl, _integer_result)


and_p = _bitwise("and", np.bitwise_and)
or_p = _bitwise("or", np.bitwise_or)
xor_p = _bitwise("xor", np.bitwise_xor)
not_p = _bitwise("not", np.invert)


bitwise_and = binary_operation(and_p, "bitwise_and")


bitwise_or = binary_operation(or_p, "bitwise_or")


bitwise_xor = binary_operation(xor_p, "bitwise_xor")


def invert(x):
    return bind(not_p, x)


# On booleans the bitwise operations are the logical ones.
logical_and = bitwise_and
logical_or = bitwise_or
logical_xor = bitwise_xor
logical_not = invert


def isfinite(x):
    return bind(is_finite_p, x)
