"""Ufunc objects from Python functions: ``frompyfunc`` and the ``ufunc`` it returns.

Calling a ``ufunc`` broadcasts the scalar function over its arguments with
``vectorize`` (one trace, batched by ``vmap``). Its methods ``reduce``, ``accumulate``,
``reduceat`` and ``at`` fold the function along an axis, one element after another, as
JAX's do; JAX runs that fold in a ``lax`` loop, but ``minigrad.lax`` is built on
``minigrad.numpy``, so here it is a Python loop over the axis. Shapes are known when a
function is traced, so the loop is the same under ``jit`` and ``grad``; the traced
program has one call of the function per element of the axis, so it grows with the
axis' length (use ``mg.lax.scan`` to fold long axes in a program of fixed size).

Example:
    >>> import numpy as np
    >>> add = frompyfunc(lambda x, y: x + y, nin=2, nout=1, identity=0)
    >>> add.accumulate(np.array([1.0, 2.0, 3.0]))
    array([1., 3., 6.])
"""

from __future__ import annotations

import numpy as np

from minigrad.numpy._at import IndexUpdateRef
from minigrad.numpy._indexing import getitem
from minigrad.numpy._math import where as select
from minigrad.numpy._promotion import normalize_axis, to_array
from minigrad.numpy._shape import broadcast_to, expand_dims, moveaxis, ravel, reshape, stack
from minigrad.numpy._vectorizing import vectorize

__all__ = ["ufunc", "frompyfunc"]


def _refuse_out(opname, out):
    if out is not None:
        raise TypeError(f"{opname}: out= is not supported, as arrays are immutable; use the returned array.")


class ufunc:  # noqa: N801 - NumPy's and JAX's name
    """A scalar function made into a NumPy-style ufunc (see ``frompyfunc``).

    Example:
      >>> import numpy as np
      >>> hypot = ufunc(lambda x, y: (x * x + y * y) ** 0.5, 2, 1)
      >>> hypot.outer(np.array([3.0, 5.0]), np.array([4.0, 12.0]))
      array([[ 5.        , 12.36931688],
             [ 6.40312424, 13.        ]])
    """

    def __init__(self, func, /, nin: int, nout: int, *, name: str | None = None, identity=None):
        if not callable(func):
            raise TypeError(f"ufunc: func must be callable, got {type(func).__name__}.")
        if int(nin) < 1 or int(nout) < 1:
            raise ValueError(f"ufunc: nin and nout must be at least 1, got nin={nin}, nout={nout}.")
        self._func = func
        self.nin, self.nout = int(nin), int(nout)
        self.nargs = self.nin  # as JAX counts them (NumPy adds the outputs)
        self.identity = identity
        self.__name__ = name or getattr(func, "__name__", "ufunc")

    def __repr__(self):
        return f"<mnp.ufunc '{self.__name__}'>"

    def __call__(self, *args, out=None, where=None):
        """The function broadcast over ``args`` (``nout > 1``: a tuple of arrays)."""
        if len(args) != self.nin:
            raise TypeError(f"{self!r}: expected {self.nin} arguments, got {len(args)}.")
        _refuse_out(f"{self!r}", out)
        if where is not None:
            raise TypeError(f"{self!r}: where= is not supported in calls; use mnp.where on the result.")
        return vectorize(self._func)(*args)

    def _require_binary(self, method):
        if self.nin != 2:
            raise ValueError(
                f"{self!r}.{method}: only binary ufuncs (nin=2) have it; this one has nin={self.nin}."
            )
        if self.nout != 1:
            raise ValueError(
                f"{self!r}.{method}: only ufuncs with one output (nout=1) have it; this one has nout={self.nout}."
            )

    def _fold(self, pieces, start):
        """``f(... f(f(start, pieces[0]), pieces[1]) ...)``, each step's result kept."""
        results, total = [], start
        for piece in pieces:
            total = piece if total is None else self(total, piece)
            results.append(total)
        return results

    def reduce(self, a, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
        """Fold the function along ``axis`` (``None``: over the flattened array).

        Starts from ``initial``, else from ``identity``, else from the first element;
        ``where`` (broadcast to ``a``) skips the elements where it is False, and needs a
        start value. An empty axis needs one too.

        Example:
          >>> import numpy as np
          >>> frompyfunc(lambda x, y: x * y + 1.0, 2, 1).reduce(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
          array([ 3., 13.])
        """
        self._require_binary("reduce")
        _refuse_out(f"{self!r}.reduce", out)
        a = to_array(a, dtype)
        if isinstance(axis, tuple):
            raise ValueError(
                f"{self!r}.reduce: reduces over one axis or None, got axis={axis}; reduce one axis after the other."
            )
        if axis is None:
            mask = None if where is None else ravel(broadcast_to(to_array(where), a.shape))
            result = to_array(self._reduce_leading(ravel(a), initial, mask))
            return reshape(result, (1,) * a.ndim) if keepdims else result
        axis = normalize_axis(f"{self!r}.reduce", axis, a.ndim)
        mask = None if where is None else moveaxis(broadcast_to(to_array(where), a.shape), axis, 0)
        result = to_array(self._reduce_leading(moveaxis(a, axis, 0), initial, mask))
        return expand_dims(result, axis) if keepdims else result

    def _reduce_leading(self, a, initial, mask):
        start = initial if initial is not None else self.identity
        if start is None and mask is not None:
            raise ValueError(
                f"{self!r}.reduce: a where mask needs a start value: pass initial= (or give the ufunc an identity)."
            )
        if start is None and a.shape[0] == 0:
            raise ValueError(
                f"{self!r}.reduce: a zero-size axis (array of shape {a.shape}) has no result without a start "
                "value: pass initial= (or give the ufunc an identity)."
            )
        total = None if start is None else broadcast_to(to_array(start, a.dtype), a.shape[1:])
        for i in range(a.shape[0]):
            piece = getitem(a, i)
            if total is None:
                total = piece
            elif mask is None:
                total = self(total, piece)
            else:
                total = select(getitem(mask, i), self(total, piece), total)
        return total

    def accumulate(self, a, axis=0, dtype=None, out=None):
        """The running fold along ``axis``: element ``i`` is the reduction of ``a[:i + 1]``.

        Example:
          >>> import numpy as np
          >>> frompyfunc(lambda x, y: x * y + 1.0, 2, 1).accumulate(np.array([1.0, 2.0, 3.0]))
          array([ 1.,  3., 10.])
        """
        self._require_binary("accumulate")
        _refuse_out(f"{self!r}.accumulate", out)
        a = to_array(a, dtype)
        if axis is None or isinstance(axis, tuple):
            raise ValueError(f"{self!r}.accumulate: accumulates along one axis, got axis={axis}.")
        axis = normalize_axis(f"{self!r}.accumulate", axis, a.ndim)
        leading = moveaxis(a, axis, 0)
        if leading.shape[0] == 0:
            return a
        steps = self._fold([getitem(leading, i) for i in range(leading.shape[0])], None)
        return moveaxis(stack(steps), 0, axis)

    def outer(self, A, B, /):  # noqa: N803 - NumPy's names
        """``f(A[i..., None...], B[None..., j...])``: shape ``A.shape + B.shape``.

        Example:
          >>> import numpy as np
          >>> frompyfunc(lambda x, y: x - y, 2, 1).outer(np.array([1.0, 2.0]), np.array([0.5]))
          array([[0.5],
                 [1.5]])
        """
        self._require_binary("outer")
        left, right = to_array(A), to_array(B)
        return self(reshape(left, left.shape + (1,) * right.ndim), right)

    def reduceat(self, a, indices, axis=0, dtype=None, out=None):
        """Reductions of the slices ``a[indices[i]:indices[i + 1]]`` along ``axis``, as
        NumPy's: where ``indices[i] >= indices[i + 1]`` the result is ``a[indices[i]]``,
        and the last slice runs to the end. ``indices`` must be known (not traced).

        Example:
          >>> import numpy as np
          >>> add = frompyfunc(lambda x, y: x + y, 2, 1)
          >>> add.reduceat(np.arange(6.0), [0, 4, 1])
          array([ 6.,  4., 15.])
        """
        self._require_binary("reduceat")
        _refuse_out(f"{self!r}.reduceat", out)
        a = to_array(a, dtype)
        axis = normalize_axis(f"{self!r}.reduceat", axis, a.ndim)
        starts = _known_indices(f"{self!r}.reduceat", indices, a.shape[axis])
        leading = moveaxis(a, axis, 0)
        pieces = []
        for i, start in enumerate(starts):
            stop = starts[i + 1] if i + 1 < len(starts) else leading.shape[0]
            span = range(start, stop) if stop > start else range(start, start + 1)
            pieces.append(self._fold([getitem(leading, j) for j in span], None)[-1])
        return moveaxis(stack(pieces), 0, axis)

    def at(self, a, indices, b=None, /, *, inplace=True):
        """``a`` with ``f(a[indices], b)`` (``f(a[indices])`` for a unary ufunc) written
        back at ``indices``, one element after another, so repeated indices compound.
        Arrays are immutable: pass ``inplace=False`` and use the result. ``indices``
        must be known (not traced).

        Example:
          >>> import numpy as np
          >>> add = frompyfunc(lambda x, y: x + y, 2, 1)
          >>> add.at(np.zeros(3), [0, 0, 2], 1.0, inplace=False)
          array([2., 0., 1.])
        """
        if inplace:
            raise ValueError(
                f"{self!r}.at: arrays are immutable, so it cannot work in place; pass inplace=False "
                "and use the returned array: a = f.at(a, indices, b, inplace=False)."
            )
        if self.nout != 1 or self.nin not in (1, 2):
            raise ValueError(f"{self!r}.at: needs a unary or binary ufunc with one output.")
        if (b is None) != (self.nin == 1):
            raise TypeError(
                f"{self!r}.at: a ufunc with nin={self.nin} takes {self.nin - 1} value argument(s) b."
            )
        a = to_array(a)
        positions = _known_positions(f"{self!r}.at", a.shape, indices)
        values = None if b is None else ravel(broadcast_to(to_array(b), positions.shape))
        flat = ravel(a)
        for k, position in enumerate(positions.ravel().tolist()):
            current = getitem(flat, position)
            updated = self(current) if values is None else self(current, getitem(values, k))
            flat = IndexUpdateRef(flat, position).set(updated)
        return reshape(flat, a.shape)


def _known_indices(opname, indices, length):
    try:
        starts = np.asarray(indices)
    except TypeError:
        raise TypeError(f"{opname}: the indices must be known integers, not traced values.") from None
    if starts.ndim != 1 or starts.dtype.kind not in "iu" or starts.size == 0:
        raise TypeError(f"{opname}: expected a non-empty 1-d list of integers, got {indices!r}.")
    if starts.min() < 0 or starts.max() >= length:
        raise IndexError(f"{opname}: indices {starts.tolist()} out of range for an axis of length {length}.")
    return starts.tolist()


def _known_positions(opname, shape, indices):
    """The flat positions ``indices`` selects in an array of ``shape``."""
    try:
        return np.asarray(np.arange(int(np.prod(shape))).reshape(shape)[indices])
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{opname}: the indices must be known (NumPy indices, not traced values) for an array of "
            f"shape {shape}: {error}"
        ) from None


def frompyfunc(func, /, nin, nout, *, identity=None):
    """A ``ufunc`` from a scalar function of ``nin`` arguments and ``nout`` results.

    Calls broadcast like NumPy's ufuncs; ``reduce``, ``accumulate``, ``reduceat``,
    ``outer`` and ``at`` are there as in ``jax.numpy.frompyfunc``, and everything is
    differentiable, batched and compiled like the function itself. The folds are Python
    loops over the axis (see the module docstring), so their programs grow with it.

    Args:
      func: a function of ``nin`` scalars returning one scalar or ``nout`` of them.
      nin: the number of arguments.
      nout: the number of results.
      identity: the start value of reductions (``reduce`` of an empty axis returns it).

    Returns:
      A ``ufunc``.

    Example:
      >>> import numpy as np
      >>> import minigrad as mg
      >>> mul = frompyfunc(lambda x, y: x * y, nin=2, nout=1, identity=1.0)
      >>> mul.reduce(np.array([2.0, 3.0, 4.0]))
      array(24.)
      >>> mg.grad(lambda x: mul.reduce(x))(np.array([2.0, 3.0, 4.0]))
      array([12.,  8.,  6.])
    """
    return ufunc(func, nin, nout, identity=identity)
