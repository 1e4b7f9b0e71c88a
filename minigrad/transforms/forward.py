"""Forward mode: ``jvp`` pushes tangents through the program as it runs.

A JVP tracer carries a primal value and its tangent. Each primitive computes its primal
output one level out and its output tangent with the primitive's JVP rule. Primal values
are known, so Python control flow on them works, as under ``grad``.

Example:
    >>> import numpy as np
    >>> import minigrad.numpy as mnp
    >>> jvp(mnp.sin, (np.array(0.0),), (np.array(2.0),))
    (array(0.), array(2.))
"""

from __future__ import annotations

import attrs
import numpy as np

from minigrad.core.dtypes import is_float_dtype
from minigrad.core.ir import ShapedArray
from minigrad.core.trace import Trace, Tracer, bind, get_aval, new_trace
from minigrad.core.user_code import errors_point_at_user_code
from minigrad.ops.elementwise import convert_element_type
from minigrad.ops.shape import broadcast_to
from minigrad.transforms.api_util import (
    as_array,
    check_callable,
    flatten_arguments,
    flatten_inputs,
    instantiate_zeros,
)
from minigrad.tree import tree_unflatten

__all__ = ["jvp", "JVPTrace", "JVPTracer"]


class JVPTracer(Tracer):
    """A primal value (concrete or of an outer trace) with its tangent."""

    # The primal is a NumPy array even for a Python number passed to ``jvp``, so an input
    # tracer remembers weak typing itself; results of operations are never weak.
    __slots__ = ("primal", "tangent", "_weak")

    def __init__(self, trace, primal, tangent, weak_type: bool = False):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent
        self._weak = weak_type

    @property
    def aval(self) -> ShapedArray:
        aval = get_aval(self.primal)
        return attrs.evolve(aval, weak_type=True) if self._weak and not aval.weak_type else aval


def _fit_tangent(tangent, aval: ShapedArray):
    """Tangents take their primal's shape (undoing implicit broadcasting) and dtype."""
    tangent_aval = get_aval(tangent)
    if tangent_aval.shape != aval.shape:
        tangent = broadcast_to(tangent, aval.shape)
    if tangent_aval.dtype != aval.dtype:
        tangent = convert_element_type(tangent, aval.dtype)
    return tangent


class JVPTrace(Trace):
    label = "jvp"

    def carries_derivative(self, tracer):
        return is_float_dtype(tracer.aval.dtype)

    def describe(self, tracer):
        tangent = tracer.tangent
        if isinstance(tangent, Tracer):
            return self.label  # a value of an outer transform: its own repr says more
        return f"tangent={np.asarray(tangent)!r}, {self.label}"

    def concrete_value(self, tracer, operation):
        primal = tracer.primal
        return primal._concrete(operation) if isinstance(primal, Tracer) else primal

    def process_primitive(self, primitive, args, params):
        primals, tangents = [], []
        for arg in args:
            if isinstance(arg, JVPTracer) and arg._trace is self:
                primals.append(arg.primal)
                tangents.append(arg.tangent)
            else:
                primals.append(arg)
                tangents.append(None)
        out = bind(primitive, *primals, **params)
        if not primitive.differentiable:
            return out
        out_tangent = primitive.jvp(primals, tangents, out, **params)
        if primitive.multiple_results:
            return [
                o
                if t is None or not is_float_dtype(get_aval(o).dtype)
                else JVPTracer(self, o, _fit_tangent(t, get_aval(o)))
                for o, t in zip(out, out_tangent, strict=True)
            ]
        if out_tangent is None or not is_float_dtype(get_aval(out).dtype):
            return out  # a zero tangent: the value is a constant to this trace
        return JVPTracer(self, out, _fit_tangent(out_tangent, get_aval(out)))


def jvp(fun, primals, tangents):
    """Evaluate ``fun`` at ``primals`` and its directional derivative along ``tangents``.

    Args:
      fun: a function of arrays (pytrees of arrays).
      primals: a tuple of arguments.
      tangents: a tuple with the same structure, shapes and dtypes.

    Returns:
      ``(fun(*primals), tangent_out)`` with ``tangent_out`` shaped like the output.

    Example:
      >>> import numpy as np
      >>> jvp(lambda x, y: x * y, (np.array(2.0), np.array(3.0)), (np.array(1.0), np.array(0.0)))
      (array(6.), array(3.))
    """
    check_callable("jvp", fun)
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (one entry per argument of fun).")
    flat_primals, in_avals, in_tree = flatten_inputs("jvp", tuple(primals), "primals")
    flat_tangents, tangent_tree = flatten_arguments("jvp", tuple(tangents), "tangents")
    if tangent_tree != in_tree:
        raise ValueError(f"jvp: tangents have structure {tangent_tree!r} but primals have {in_tree!r}.")
    for (path, p), t in zip(
        flatten_arguments("jvp", tuple(primals), "primals", with_paths=True), flat_tangents, strict=True
    ):
        if get_aval(p).shape != get_aval(t).shape:
            raise ValueError(
                f"jvp: a tangent of shape {get_aval(t).shape} was given for a primal of shape "
                f"{get_aval(p).shape} (primals{path}); each tangent must have its primal's shape."
            )
        if is_float_dtype(get_aval(p).dtype) and get_aval(t).dtype != get_aval(p).dtype:
            raise TypeError(
                f"jvp: primals{path} has dtype {get_aval(p).dtype} but its tangent has dtype "
                f"{get_aval(t).dtype}; a tangent must have its primal's dtype. Cast it, for "
                f"example t.astype(np.{get_aval(p).dtype})."
            )
    with new_trace(JVPTrace) as trace:
        inputs = [
            JVPTracer(trace, as_array(p), _fit_tangent(t, aval), aval.weak_type)
            if is_float_dtype(aval.dtype)
            else p
            for p, t, aval in zip(flat_primals, flat_tangents, in_avals, strict=True)
        ]
        with errors_point_at_user_code():
            out = fun(*tree_unflatten(in_tree, inputs))
        out_leaves, out_tree = flatten_arguments("jvp", out, "output", keep_numbers=True)
        out_primals, out_tangents = [], []
        for leaf in out_leaves:
            if isinstance(leaf, JVPTracer) and leaf._trace is trace:
                out_primals.append(leaf.primal)
                out_tangents.append(leaf.tangent)
            else:
                out_primals.append(leaf if hasattr(leaf, "shape") else np.asarray(leaf))
                out_tangents.append(None)  # a constant output: a zero tangent
    out_tangents = instantiate_zeros(out_tangents, [get_aval(p) for p in out_primals])
    return tree_unflatten(out_tree, out_primals), tree_unflatten(out_tree, out_tangents)
