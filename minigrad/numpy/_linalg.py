"""Products with NumPy's semantics: ``matmul``, ``dot``, ``outer``, ``inner``,
``tensordot`` and ``einsum`` (with ``...`` and implicit output).

Example:
    >>> import numpy as np
    >>> matmul(np.ones((2, 3)), np.ones(3))
    array([3., 3.])
"""

from __future__ import annotations

import string

import numpy as np

from minigrad.core.dtypes import is_python_scalar
from minigrad.numpy._promotion import promote, to_array
from minigrad.ops import elementwise as ew
from minigrad.ops import linalg as la
from minigrad.ops import shape as sh

__all__ = [
    "matmul",
    "dot",
    "outer",
    "inner",
    "tensordot",
    "einsum",
    "vdot",
    "einsum_path",
    "vecdot",
    "matvec",
    "vecmat",
]


def matmul(x1, x2):
    """Matrix product with broadcasting over batch axes; 1-D operands act as vectors.

    Example:
      >>> matmul(np.ones((4, 2, 3)), np.ones((3, 5))).shape
      (4, 2, 5)
    """
    a, b = promote("matmul", x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: operands must not be scalars (shapes {a.shape} and {b.shape}); use multiply."
        )
    if a.shape[-1] != b.shape[0 if b.ndim == 1 else -2]:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not align: the last axis of the first "
            f"({a.shape[-1]}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} axis "
            f"of the second ({b.shape[0 if b.ndim == 1 else -2]})."
        )
    a_vector, b_vector = a.ndim == 1, b.ndim == 1
    if a_vector:
        a = sh.reshape(a, (1, a.shape[0]))
    if b_vector:
        b = sh.reshape(b, (b.shape[0], 1))
    out = la.matmul(a, b)
    if a_vector or b_vector:
        shape = out.shape
        keep = shape[:-2] + (() if a_vector else shape[-2:-1]) + (() if b_vector else shape[-1:])
        out = sh.reshape(out, keep)
    return out


def _strong(*args):
    """Python numbers as arrays of their own default dtype: NumPy's dot family converts
    its operands with ``asarray`` before promoting, so ``dot(float32_array, 2)`` is
    float64 (unlike ``multiply``, where the 2 is weak)."""
    return [np.asarray(x) if is_python_scalar(x) else x for x in args]


def dot(a, b, out=None):
    """NumPy's ``dot``: products for scalars, matmul for 1-D/2-D, and for N-D a sum over
    the last axis of ``a`` and the second-to-last of ``b``.

    Example:
      >>> dot(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
      array(11.)
    """
    if out is not None:
        raise TypeError(
            "dot: out= is not supported, since minigrad's arrays are immutable; use the returned array."
        )
    a, b = promote("dot", *_strong(a, b))
    if a.ndim == 0 or b.ndim == 0:
        return ew.mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [max(b.ndim - 2, 0)]))


def vdot(a, b):
    """Dot product of the flattened arrays.

    Example:
      >>> vdot(np.ones((2, 2)), np.ones((2, 2)))
      array(4.)
    """
    a, b = promote("vdot", *_strong(a, b))
    return matmul(sh.reshape(a, (a.size,)), sh.reshape(b, (b.size,)))


def inner(a, b):
    """Sum product over the last axes.

    Example:
      >>> inner(np.ones((2, 3)), np.ones(3))
      array([3., 3.])
    """
    a, b = promote("inner", *_strong(a, b))
    if a.ndim == 0 or b.ndim == 0:
        return ew.mul(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(a, b):
    """Outer product of the flattened inputs.

    Example:
      >>> outer(np.array([1.0, 2.0]), np.array([1.0, 10.0]))
      array([[ 1., 10.],
             [ 2., 20.]])
    """
    a, b = promote("outer", *_strong(a, b))
    return ew.mul(sh.reshape(a, (a.size, 1)), sh.reshape(b, (1, b.size)))


def tensordot(a, b, axes=2):
    """Sum products over the given axes of ``a`` and ``b`` (an int or two lists).

    Example:
      >>> tensordot(np.ones((2, 3)), np.ones((3, 4)), axes=1).shape
      (2, 4)
    """
    a, b = promote("tensordot", *_strong(a, b))
    if isinstance(axes, (int, np.integer)):
        a_axes = list(range(a.ndim - int(axes), a.ndim))
        b_axes = list(range(int(axes)))
    else:
        a_axes, b_axes = ([axes_] if isinstance(axes_, (int, np.integer)) else list(axes_) for axes_ in axes)
    a_axes = [i % a.ndim for i in a_axes]
    b_axes = [i % b.ndim for i in b_axes]
    letters = iter(string.ascii_letters)
    a_sub = [next(letters) for _ in range(a.ndim)]
    b_sub = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(a_axes, b_axes, strict=True):
        b_sub[j] = a_sub[i]
    out = [c for i, c in enumerate(a_sub) if i not in a_axes] + [
        c for j, c in enumerate(b_sub) if j not in b_axes
    ]
    return la.einsum(f"{''.join(a_sub)},{''.join(b_sub)}->{''.join(out)}", a, b)


def _expand_ellipses(inputs, output, operands):
    """Replace ``...`` by letters; broadcast the operands' ellipsis axes to one shape."""
    used = set("".join(inputs) + (output or ""))
    spare = [c for c in string.ascii_letters if c not in used]
    ranks = [op.ndim - (len(s) - 3) for s, op in zip(inputs, operands) if "..." in s]
    ellipsis_rank = max(ranks, default=0)
    ellipsis_letters = "".join(spare[:ellipsis_rank])
    ellipsis_shapes = [
        op.shape[s.index("...") : s.index("...") + op.ndim - (len(s) - 3)]
        for s, op in zip(inputs, operands)
        if "..." in s
    ]
    try:
        ellipsis_shape = np.broadcast_shapes(*ellipsis_shapes) if ellipsis_shapes else ()
    except ValueError:
        raise ValueError(f"einsum: the '...' axes of shapes {ellipsis_shapes} do not broadcast.") from None
    new_inputs, new_operands = [], []
    for s, op in zip(inputs, operands):
        if "..." in s:
            rank = op.ndim - (len(s) - 3)
            letters = ellipsis_letters[ellipsis_rank - rank :]
            start = s.index("...")
            target = (
                op.shape[:start] + tuple(ellipsis_shape[ellipsis_rank - rank :]) + op.shape[start + rank :]
            )
            if tuple(op.shape) != target:
                op = sh.broadcast_to(op, target)
            s = s.replace("...", letters)
        new_inputs.append(s)
        new_operands.append(op)
    if output is not None:
        output = output.replace("...", ellipsis_letters)
    return new_inputs, output, new_operands, ellipsis_letters


def _sublist_letters(sublist, letters):
    parts = []
    for item in sublist:
        if item is Ellipsis:
            parts.append("...")
        elif isinstance(item, (int, np.integer)) and 0 <= item < len(letters):
            parts.append(letters[item])
        else:
            raise ValueError(f"einsum: a sublist holds axis numbers 0..51 or ..., got {item!r}.")
    return "".join(parts)


def _from_sublists(args):
    """NumPy's second form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as a subscripts string."""
    letters = string.ascii_letters
    operands, inputs = list(args[0:-1:2]), [_sublist_letters(s, letters) for s in args[1::2]]
    if len(args) % 2:
        output = _sublist_letters(args[-1], letters)
        return ",".join(inputs) + "->" + output, operands
    return ",".join(inputs), operands


def einsum(subscripts, *operands, optimize=None, precision=None, preferred_element_type=None):
    """Einstein summation as ``np.einsum``: explicit (``"ij,jk->ik"``) or implicit
    (``"ij,jk"``) output, ``...`` for leading axes, any number of operands; or NumPy's
    sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``. (``optimize`` and JAX's
    ``precision`` keywords are accepted; contractions are planned by minigrad.)

    Example:
      >>> einsum("ii->i", np.arange(4.0).reshape(2, 2))
      array([0., 3.])
      >>> einsum(np.ones((2, 3)), [0, 1], np.ones(3), [1], [0])
      array([3., 3.])
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _from_sublists((subscripts, *operands))
    if preferred_element_type is not None:
        operands = [to_array(op, np.dtype(preferred_element_type)) for op in operands]
    if not isinstance(subscripts, str):
        raise TypeError("einsum: the first argument must be a subscripts string such as 'ij,jk->ik'.")
    operands = promote("einsum", *operands)
    spec = subscripts.replace(" ", "")
    inputs_part, output = spec.split("->") if "->" in spec else (spec, None)
    inputs = inputs_part.split(",")
    if len(inputs) != len(operands):
        raise ValueError(
            f"einsum: {subscripts!r} names {len(inputs)} operands but {len(operands)} were given."
        )
    inputs, output, operands, ellipsis_letters = _expand_ellipses(inputs, output, operands)
    if output is None:
        counts = {c: "".join(inputs).count(c) for c in set("".join(inputs))}
        output = ellipsis_letters + "".join(
            sorted(c for c, n in counts.items() if n == 1 and c not in ellipsis_letters)
        )
    return la.einsum(",".join(inputs) + "->" + output, *operands)


def einsum_path(subscripts, *operands, optimize="greedy"):
    """NumPy's contraction order for an ``einsum`` and its cost report (from the operands'
    shapes only, so traced operands are fine).

    Example:
      >>> einsum_path("ij,jk,k->i", np.ones((2, 3)), np.ones((3, 4)), np.ones(4))[0]
      ['einsum_path', (1, 2), (0, 1)]
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _from_sublists((subscripts, *operands))
    stand_ins = [
        np.broadcast_to(np.zeros((), np.result_type(op.dtype)), op.shape) for op in map(to_array, operands)
    ]
    return np.einsum_path(subscripts, *stand_ins, optimize=optimize)


def vecdot(x1, x2, /, *, axis=-1):
    """The dot products of the vectors along ``axis`` (the other axes broadcast).

    Example:
      >>> vecdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
      array([3., 7.])
    """
    x1, x2 = (to_array(x) for x in promote("vecdot", x1, x2))
    if x1.ndim == 0 or x2.ndim == 0 or x1.shape[axis] != x2.shape[axis]:
        raise ValueError(
            f"vecdot: the vectors along axis {axis} must have one length, got shapes {x1.shape} and {x2.shape}."
        )
    product = ew.mul(x1, x2)
    return sh.reduce_sum(product, (axis % product.ndim,))


def matvec(x1, x2, /):
    """Matrix times vector for stacks: ``(..., m, n)`` and ``(..., n)`` give ``(..., m)``.

    Example:
      >>> matvec(np.eye(2), np.array([1.0, 2.0]))
      array([1., 2.])
    """
    x2 = to_array(x2)
    if np.ndim(x1) < 2 or x2.ndim < 1:
        raise ValueError(f"matvec: needs a matrix and a vector, got shapes {np.shape(x1)} and {x2.shape}.")
    product = matmul(x1, sh.expand_dims(x2, (x2.ndim,)))
    return sh.squeeze(product, (product.ndim - 1,))


def vecmat(x1, x2, /):
    """Vector times matrix for stacks: ``(..., n)`` and ``(..., n, m)`` give ``(..., m)``.

    Example:
      >>> vecmat(np.array([1.0, 2.0]), np.eye(2))
      array([1., 2.])
    """
    x1 = to_array(x1)
    if x1.ndim < 1 or np.ndim(x2) < 2:
        raise ValueError(f"vecmat: needs a vector and a matrix, got shapes {x1.shape} and {np.shape(x2)}.")
    product = matmul(sh.expand_dims(x1, (x1.ndim - 1,)), x2)
    return sh.squeeze(product, (product.ndim - 2,))
