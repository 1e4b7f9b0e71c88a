"""``logaddexp`` and ``logaddexp2``: the logarithm of a sum of exponentials, elementwise.

``log(exp(x) + exp(y))`` overflows for ``x`` near 710 and gives ``-inf`` below -745; the
NumPy functions these primitives call never do. Their partials are the same kind of
quantity: the weight of ``exp(x)`` in the sum, ``exp(x) / (exp(x) + exp(y))``, is the
logistic function of ``x - y``, which is stable for every pair of inputs.

Example:
    >>> import numpy as np
    >>> logaddexp(np.array([1000.0]), 1000.0)
    array([1000.69314718])
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.ops.elementwise import declare_elementwise, logistic, mul, neg, select, sub
from minigrad.ops.logic import equal, logical_and
from minigrad.ops.operands import binary_operation
from minigrad.ops.predicates import isinf

__all__ = ["logaddexp", "logaddexp2"]


def _difference(x, y):
    """``x - y``, except 0 where both are the same infinity (there each input carries
    half of the sum, as tied inputs of ``maximum`` share its gradient)."""
    same_infinity = logical_and(equal(x, y), isinf(x))
    return sub(select(same_infinity, 0.0, x), select(same_infinity, 0.0, y))  # inf - inf would warn


def logaddexp_lhs_linear(g, ans, x, y):
    return mul(g, logistic(_difference(x, y)))


def logaddexp_rhs_linear(g, ans, x, y):
    return mul(g, logistic(neg(_difference(x, y))))


logaddexp_p = declare_elementwise("logaddexp", np.logaddexp, logaddexp_lhs_linear, logaddexp_rhs_linear)


logaddexp = binary_operation(logaddexp_p, "logaddexp")


_LN2 = math.log(2.0)


def logaddexp2_lhs_linear(g, ans, x, y):
    return mul(g, logistic(mul(_difference(x, y), _LN2)))


def logaddexp2_rhs_linear(g, ans, x, y):
    return mul(g, logistic(mul(_difference(y, x), _LN2)))


logaddexp2_p = declare_elementwise("logaddexp2", np.logaddexp2, logaddexp2_lhs_linear, logaddexp2_rhs_linear)


logaddexp2 = binary_operation(logaddexp2_p, "logaddexp2")
