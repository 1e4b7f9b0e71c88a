"""``clip``: one elementwise primitive, so that its value costs one pass of NumPy's ``clip``.

Clipping as ``minimum(hi, maximum(lo, x))`` costs NumPy two slower passes (and as two
``where``s, far more). The derivatives are those of that composition, which is how JAX
defines ``clip``: where ``x`` equals a bound, the two tied operands share the gradient
half and half, as ``maximum`` and ``minimum`` share it (API.md), and where ``lo > hi``
the result, and its gradient, is ``hi``'s.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> clip(np.array([-2.0, 0.0, 0.5, 2.0]), np.array(0.0), np.array(1.0))
    array([0. , 0. , 0.5, 1. ])
    >>> mg.grad(lambda x: clip(x, np.array(0.0), np.array(1.0)).sum())(np.array([-2.0, 0.0, 0.5, 2.0]))
    array([0. , 0.5, 1. , 0. ])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.lowering import lower_by_impl
from minigrad.core.trace import bind_args, get_aval
from minigrad.ops.elementwise import add, convert_element_type, declare_elementwise, maximum, mul
from minigrad.ops.logic import equal, greater, less
from minigrad.ops.operands import weak_operands

__all__ = ["clip", "clip_p"]


def _share(g, wins, ties):
    """``g`` where an operand wins, half of it where the two operands tie, else zero."""
    dtype = get_aval(g).dtype
    return mul(g, add(convert_element_type(wins, dtype), mul(convert_element_type(ties, dtype), 0.5)))


def clip_x_linear(g, ans, x, lo, hi):
    raised = maximum(lo, x)
    return _share(_share(g, greater(x, lo), equal(x, lo)), less(raised, hi), equal(raised, hi))


def clip_lo_linear(g, ans, x, lo, hi):
    raised = maximum(lo, x)
    return _share(_share(g, less(x, lo), equal(x, lo)), less(raised, hi), equal(raised, hi))


def clip_hi_linear(g, ans, x, lo, hi):
    raised = maximum(lo, x)
    return _share(g, greater(raised, hi), equal(raised, hi))


def clip_impl(x, lo, hi):
    return np.clip(x, lo, hi)


clip_p = declare_elementwise("clip", clip_impl, clip_x_linear, clip_lo_linear, clip_hi_linear)
clip_p.def_lowering(lower_by_impl)


def clip(x, lo, hi):
    """``x`` limited to ``[lo, hi]`` elementwise (``hi`` wins where ``lo > hi``), broadcast."""
    return bind_args(clip_p, weak_operands((x, lo, hi)), {})
