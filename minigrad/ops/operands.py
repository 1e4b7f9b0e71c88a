"""How the operands of an elementwise primitive meet: broadcasting, one dtype, Python scalars.

Shared by every elementwise family (``elementwise`` for arithmetic and transcendental
functions, ``logic`` for comparisons and bits), and by the other families that broadcast
(``linalg``, ``random``). ``ELEMENTWISE_PRIMITIVES`` lists every elementwise primitive,
so that batching and the program passes treat them alike.

Example:
    >>> broadcast_shapes("add", (2, 1), (3,))
    (2, 3)
"""

from __future__ import annotations

import numpy as np
from numpy import ndarray  # not `np.name` in hot paths: see core/dtypes.py

from minigrad.core.dtypes import PYTHON_SCALARS, weak_scalar_array
from minigrad.core.ir import ShapedArray
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind_args, get_aval

__all__ = [
    "ELEMENTWISE_PRIMITIVES",
    "broadcast_shapes",
    "same_dtype_rule",
    "weak_operands",
    "binary_operation",
]

# Every elementwise primitive; the batching rule and passes treat them alike.
ELEMENTWISE_PRIMITIVES: list[Primitive] = []


def broadcast_shapes(opname: str, *shapes) -> tuple[int, ...]:
    """NumPy's broadcast of ``shapes``, or a ValueError naming ``opname`` and the shapes."""
    first = shapes[0] if shapes else ()
    if all(shape == first for shape in shapes):
        return tuple(first)
    ndim = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(-ndim, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis and s[axis] != 1}
        if len(sizes) > 1:
            shown = ", ".join(str(tuple(s)) for s in shapes)
            raise ValueError(
                f"{opname}: shapes {shown} cannot be broadcast together (axis {axis} has "
                f"sizes {sorted(sizes)}). Broadcasting aligns shapes from the right and "
                "needs each axis to match or be 1; reshape or expand_dims an operand."
            )
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


def same_dtype_rule(name):
    """The shape rule of an elementwise primitive ``name``: operands of one dtype, broadcast.

    Example:
      >>> rule = same_dtype_rule("add")
      >>> f32 = np.dtype("float32")
      >>> rule(ShapedArray((2, 1), f32), ShapedArray((3,), f32)).shape
      (2, 3)
    """

    def elementwise_shape_rule(*avals, **params):
        first = avals[0]
        if len(avals) == 2:
            # The common cases, decided without building sets or broadcasting (staging
            # runs this once per equation): two operands of one dtype, of one shape or
            # one of them a scalar.
            second = avals[1]
            if first.dtype is second.dtype or first.dtype == second.dtype:
                if first.shape == second.shape or not second.shape:
                    return first
                if not first.shape:
                    return second
        if all(a == first for a in avals):
            return first  # the common case: operands of one shape and dtype
        dtypes = {a.dtype for a in avals}
        if len(dtypes) > 1:
            raise TypeError(
                f"{name}: operands have different dtypes {[str(a.dtype) for a in avals]}. Only "
                "Python numbers adapt to the arrays they meet; cast the others first "
                "(convert_element_type), or use minigrad.numpy, which promotes as NumPy does."
            )
        shape = broadcast_shapes(name, *(a.shape for a in avals))
        for aval in avals:
            if aval.shape == shape:
                return aval  # `array * scalar`: no new aval per equation
        return ShapedArray(shape, avals[0].dtype)

    elementwise_shape_rule.__name__ = f"{name}_shape_rule"
    return elementwise_shape_rule


def weak_operands(args):
    """Give Python scalars the dtype of the arrays they meet (NumPy 2's weak scalars).

    NumPy scalars are strong and left as they are, like 0-d arrays (see ``core/dtypes.py``).

    Example:
      >>> weak_operands([np.ones(2, np.float32), 2.0])[1].dtype
      dtype('float32')
      >>> weak_operands([np.ones(2, np.float32), np.float64(2.0)])[1].dtype
      dtype('float64')
    """
    if len(args) == 2:
        # The usual meeting, `1.0 - x`, decided without the loops below.
        x, y = args
        x_is_number, y_is_number = type(x) in PYTHON_SCALARS, type(y) in PYTHON_SCALARS
        if x_is_number and not y_is_number:
            return (weak_scalar_array(x, y.dtype if type(y) is ndarray else get_aval(y).dtype), y)
        if y_is_number and not x_is_number:
            return (x, weak_scalar_array(y, x.dtype if type(x) is ndarray else get_aval(x).dtype))
    # One pass finds the Python scalars and the first array's dtype (`type(arg) in
    # PYTHON_SCALARS` is `is_python_scalar` inlined).
    dtype = None
    has_scalars = False
    for arg in args:
        if type(arg) in PYTHON_SCALARS:
            has_scalars = True
        elif dtype is None:
            dtype = arg.dtype if type(arg) is ndarray else get_aval(arg).dtype
    if not has_scalars:
        return args  # nothing to convert
    if dtype is None:
        return [np.asarray(arg) for arg in args]
    return [weak_scalar_array(arg, dtype) if type(arg) in PYTHON_SCALARS else arg for arg in args]


def binary_operation(prim: Primitive, name: str, doc: str | None = None):
    """The traceable function ``name(x, y)`` of a binary primitive, Python numbers adapted
    (:func:`weak_operands`), with docstring ``doc``.

    Every binary operation of ``ops`` is made here. The two operands are tested for Python
    numbers inline, without a loop or a call of its own: ``add``, ``mul`` and the other
    arithmetic run for nearly every operation, the backward walk's included.

    Example:
      >>> from minigrad.ops.elementwise import mul_p
      >>> times = binary_operation(mul_p, "times")
      >>> times(np.array([1.0, 2.0], np.float32), 3.0), times.__name__
      (array([3., 6.], dtype=float32), 'times')
    """

    def operation(x, y):
        if type(x) in PYTHON_SCALARS or type(y) in PYTHON_SCALARS:
            return bind_args(prim, weak_operands((x, y)), {})
        return bind_args(prim, (x, y), {})

    operation.__name__ = operation.__qualname__ = name
    operation.__doc__ = doc
    return operation
