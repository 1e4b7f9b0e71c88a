"""Applying a function over axes: ``vectorize``, ``apply_along_axis`` and
``apply_over_axes``.

``vectorize`` and ``apply_along_axis`` do what JAX does: they ``vmap`` the function over
the loop axes instead of calling it in a Python loop, so the function is traced once
and every transform applies to the result.

Example:
    >>> import numpy as np
    >>> import minigrad.numpy as mnp
    >>> apply_along_axis(mnp.sum, 1, np.ones((2, 3)))
    array([3., 3.])
"""

from __future__ import annotations

import functools
import re

import numpy as np

from minigrad.numpy._promotion import normalize_axis, to_array
from minigrad.numpy._shape import expand_dims, moveaxis, transpose
from minigrad.ops import shape as sh
from minigrad.transforms.batching import vmap

__all__ = ["vectorize", "apply_along_axis", "apply_over_axes"]


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """``func1d`` applied to each 1-D slice of ``arr`` along ``axis``; the axes of its
    result take the place of ``axis``.

    Example:
      >>> apply_along_axis(lambda v: v[::-1], 0, np.array([[1, 2], [3, 4]]))
      array([[3, 4],
             [1, 2]])
    """
    arr = to_array(arr)
    axis = normalize_axis("apply_along_axis", axis, arr.ndim)

    def on_slice(v):
        return to_array(func1d(v, *args, **kwargs))

    mapped = on_slice
    for _ in range(arr.ndim - 1):
        mapped = vmap(mapped)
    out = mapped(moveaxis(arr, axis, -1))
    loop, result = arr.ndim - 1, out.ndim - (arr.ndim - 1)
    order = list(range(axis)) + list(range(loop, loop + result)) + list(range(axis, loop))
    return transpose(out, order)


def apply_over_axes(func, a, axes):
    """``func(a, axis)`` for each axis in turn, keeping the reduced axes (of length one).

    Example:
      >>> import minigrad.numpy as mnp
      >>> apply_over_axes(mnp.sum, np.ones((2, 3)), [0, 1])
      array([[6.]])
    """
    a = to_array(a)
    for axis in (axes,) if np.ndim(axes) == 0 else tuple(axes):
        axis = normalize_axis("apply_over_axes", axis, a.ndim)
        out = to_array(func(a, axis))
        if out.ndim == a.ndim - 1:
            out = expand_dims(out, axis)
        elif out.ndim != a.ndim:
            raise ValueError(
                f"apply_over_axes: func must keep or drop axis {axis}, but it turned shape {a.shape} into {out.shape}."
            )
        a = out
    return a


_DIMENSIONS = re.compile(r"\(([\w,\s]*)\)")


def _parse_signature(signature):
    """``"(m,n),(n)->(m)"`` as lists of core-dimension names for inputs and outputs."""
    try:
        inputs, outputs = signature.replace(" ", "").split("->")
    except ValueError:
        raise ValueError(f"vectorize: the signature {signature!r} must look like '(m,n),(n)->(m)'.") from None

    def parse(part):
        return [tuple(name for name in group.split(",") if name) for group in _DIMENSIONS.findall(part)]

    return parse(inputs), parse(outputs)


class vectorize:  # noqa: N801 - NumPy's name
    """``pyfunc`` made to broadcast over arrays like a NumPy ufunc, by ``vmap`` over every
    loop axis. A ``signature`` such as ``"(n),(n)->()"`` names the core axes each call
    sees; ``excluded`` names arguments (positions or keywords) passed through unchanged.

    Example:
      >>> import minigrad.numpy as mnp
      >>> clipped_sum = vectorize(lambda x, limit: mnp.minimum(x, limit).sum(), signature="(n),()->()")
      >>> clipped_sum(np.array([[1.0, 5.0], [2.0, 3.0]]), np.array([2.0, 2.5]))
      array([3. , 4.5])
    """

    def __init__(self, pyfunc, otypes=None, doc=None, excluded=None, cache=False, signature=None):
        self.pyfunc = pyfunc
        self.excluded = frozenset(excluded or ())
        self.signature = signature
        self.otypes = otypes
        functools.update_wrapper(self, pyfunc)
        if doc is not None:
            self.__doc__ = doc

    def __call__(self, *args, **kwargs):
        fixed_kwargs = {k: v for k, v in kwargs.items() if k in self.excluded}
        mapped_names = [k for k in kwargs if k not in self.excluded]
        positions = [i for i in range(len(args)) if i not in self.excluded]
        operands = [to_array(args[i]) for i in positions] + [to_array(kwargs[k]) for k in mapped_names]

        def call(*values):
            full = list(args)
            for i, v in zip(positions, values[: len(positions)], strict=True):
                full[i] = v
            named = dict(zip(mapped_names, values[len(positions) :], strict=True))
            out = self.pyfunc(*full, **fixed_kwargs, **named)
            if self.otypes:
                out = to_array(out, np.dtype(self.otypes[0]))
            return out

        if self.signature is None:
            cores = [()] * len(operands)
        else:
            cores, _ = _parse_signature(self.signature)
            if len(cores) != len(operands):
                raise TypeError(
                    f"vectorize: the signature {self.signature!r} names {len(cores)} inputs, "
                    f"but {len(operands)} were given."
                )
        loop_shapes = []
        for i, (operand, core) in enumerate(zip(operands, cores, strict=True)):
            if operand.ndim < len(core):
                raise ValueError(
                    f"vectorize: input {i} of shape {operand.shape} has fewer axes than its core dimensions {core}."
                )
            loop_shapes.append(operand.shape[: operand.ndim - len(core)])
        try:
            loop = np.broadcast_shapes(*loop_shapes)
        except ValueError:
            raise ValueError(
                f"vectorize: the loop axes of the inputs {loop_shapes} do not broadcast."
            ) from None
        operands = [
            sh.broadcast_to(op, loop + op.shape[op.ndim - len(core) :])
            if op.shape[: op.ndim - len(core)] != loop
            else op
            for op, core in zip(operands, cores, strict=True)
        ]
        mapped = call
        for _ in loop:
            mapped = vmap(mapped)
        return mapped(*operands)
