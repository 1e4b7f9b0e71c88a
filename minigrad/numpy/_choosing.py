"""Choosing elements by conditions and positions: ``select``, ``piecewise``, ``choose``,
``compress``, ``extract``, and the functional forms of NumPy's in-place writers
``place``, ``put``, ``put_along_axis`` and ``fill_diagonal`` (they return a new array,
as JAX's do with ``inplace=False``).

Conditions choose with ``where``, so the gradient flows to the chosen values only;
writes are a scatter of the new values beside a mask that keeps the old ones, so both
the array and the values get gradients.

Example:
    >>> import numpy as np
    >>> select([np.array([True, False]), np.array([True, True])], [1.0, 2.0])
    array([1., 2.])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._building import resize
from minigrad.numpy._data_dependent import _concrete
from minigrad.numpy._joining import broadcast_arrays
from minigrad.numpy._math import where
from minigrad.numpy._promotion import dtype_of, normalize_axis, promote, to_array
from minigrad.numpy._shape import ravel, reshape, stack, take
from minigrad.numpy._sorting import take_along_axis
from minigrad.ops import index as ix
from minigrad.ops import shape as sh

__all__ = [
    "select", "piecewise", "choose", "compress", "extract", "place", "put", "put_along_axis",
    "fill_diagonal", "trim_zeros",
]  # fmt: skip


def select(condlist, choicelist, default=0):
    """Each element from the first choice whose condition holds there, else ``default``.

    Example:
      >>> x = np.array([-1.0, 0.5, 3.0])
      >>> select([x < 0, x > 1], [-x, x ** 2], default=x)
      array([1. , 0.5, 9. ])
    """
    if len(condlist) != len(choicelist):
        raise ValueError(
            f"select: {len(condlist)} conditions but {len(choicelist)} choices; give one choice per condition."
        )
    if not condlist:
        raise ValueError("select: needs at least one condition and choice.")
    for i, cond in enumerate(condlist):
        if dtype_of(cond) != np.bool_:
            raise TypeError(f"select: condition {i} must be boolean, got {dtype_of(cond)}.")
    # The first true condition wins, so fold from the last choice back to the first.
    result = default
    for cond, choice in zip(reversed(condlist), reversed(choicelist), strict=True):
        result = where(cond, choice, result)
    if not isinstance(result, Tracer) and not np.ndim(result) and not np.ndim(default):
        result = np.asarray(result)
    shape = np.broadcast_shapes(*(np.shape(c) for c in (*condlist, *choicelist, default)))
    return sh.broadcast_to(to_array(result), shape) if np.shape(result) != shape else result


def piecewise(x, condlist, funclist, *args, **kw):
    """``funclist[i](x)`` where ``condlist[i]`` holds (an entry may be a constant); one more
    function than conditions gives the value where none holds (else 0). Every function is
    evaluated on all of ``x`` and the results are chosen elementwise, so a function must
    accept the whole array (as in JAX).

    Example:
      >>> x = np.array([-2.0, 0.5, 3.0])
      >>> piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2])
      array([2.  , 0.25, 9.  ])
    """
    x = to_array(x)
    if (
        isinstance(condlist, (np.ndarray, Tracer))
        and dtype_of(condlist) == np.bool_
        and condlist.ndim <= x.ndim
    ):
        condlist = [condlist]
    conditions = [to_array(c) for c in condlist]
    if len(funclist) not in (len(conditions), len(conditions) + 1):
        raise ValueError(
            f"piecewise: {len(conditions)} conditions need {len(conditions)} or {len(conditions) + 1} "
            f"functions, got {len(funclist)}."
        )
    choices = [f(x, *args, **kw) if callable(f) else f for f in funclist]
    choices = [to_array(c, dtype_of(x)) if not isinstance(c, (int, float)) else c for c in choices]
    otherwise = choices[len(conditions)] if len(funclist) > len(conditions) else 0
    # NumPy lets a later condition overwrite an earlier one: the last true condition wins.
    result = otherwise
    for cond, choice in zip(conditions, choices, strict=False):
        result = where(cond, choice, result)
    return sh.broadcast_to(to_array(result, dtype_of(x)), x.shape)


def choose(a, choices, out=None, mode="raise"):
    """``choices[a[i]][i]`` for each position ``i`` (``a`` and the choices broadcast).
    ``mode`` treats indices out of range as NumPy: "raise" (concrete ``a`` only, traced
    ones are clipped as in JAX), "wrap" or "clip".

    Example:
      >>> choose(np.array([0, 1, 0]), [np.array([1.0, 2.0, 3.0]), 10.0])
      array([ 1., 10.,  3.])
    """
    if out is not None:
        raise TypeError("choose: out= is not supported; minigrad arrays are immutable, use the result.")
    a = to_array(a)
    if dtype_of(a).kind not in "iu":
        raise TypeError(f"choose: the index array must be integers, got {dtype_of(a)}.")
    n = len(choices)
    if mode == "raise" and not isinstance(a, Tracer) and a.size and (a.min() < 0 or a.max() >= n):
        raise ValueError(f"choose: indices must lie in [0, {n}) for {n} choices, got {a.min()}..{a.max()}.")
    if mode == "wrap":
        a = a % n
    elif mode in ("clip", "raise"):
        a = where(a < 0, 0, where(a > n - 1, n - 1, a))
    else:
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}.")
    a, *options = broadcast_arrays(a, *promote("choose", *choices))
    picked = take_along_axis(stack(options), sh.expand_dims(a, (0,)), axis=0)
    return sh.squeeze(picked, (0,))


def _condition_positions(name, condition, length):
    mask = _concrete(condition, name, "Compute the condition outside the transform.")
    mask = np.ravel(mask).astype(bool)
    if mask.size > length:
        # NumPy's compress ignores nothing: a longer mask must be all False past the end.
        if mask[length:].any():
            raise IndexError(f"{name}: the condition has {mask.size} entries, the axis only {length}.")
        mask = mask[:length]
    return np.flatnonzero(mask)


def compress(condition, a, axis=None, out=None):
    """The slices of ``a`` (flattened when ``axis`` is None) where the 1-D ``condition``
    is true; its values must be known (they fix the shape).

    Example:
      >>> compress([True, False, True], np.array([[1, 2, 3]]), axis=1)
      array([[1, 3]])
    """
    if out is not None:
        raise TypeError("compress: out= is not supported; minigrad arrays are immutable, use the result.")
    a = to_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis("compress", axis, a.ndim)
    return take(a, _condition_positions("compress", condition, a.shape[axis]), axis=axis)


def extract(condition, arr):
    """The elements of ``arr`` where ``condition`` is true, flattened (concrete condition).

    Example:
      >>> extract(np.array([[True, False], [False, True]]), np.array([[1, 2], [3, 4]]))
      array([1, 4])
    """
    return take(ravel(arr), _condition_positions("extract", condition, np.size(arr)))


def _written(a, positions, values):
    """``a`` with the flat ``positions`` set to ``values``; a repeated position keeps the
    last value written there, as NumPy's in-place writers do."""
    a = to_array(a)
    flat = ravel(a)
    positions = np.asarray(positions, np.int64)
    values = promote("write", flat, values)[1] if not isinstance(values, (int, float)) else values
    values = ravel(sh.broadcast_to(to_array(values, dtype_of(a)), positions.shape))
    positions = positions.ravel()
    last = positions.size - 1 - np.unique(positions[::-1], return_index=True)[1]
    positions, values = positions[last], take(values, last)
    keep = np.ones(flat.shape[0], bool)
    keep[positions] = False
    new = ix.scatter_add(values, [positions], (("array", 0),), (flat.shape[0],))
    return reshape(where(keep, flat, new), a.shape)


def _check_functional(name, inplace):
    if inplace:
        raise ValueError(
            f"{name}: minigrad arrays are immutable, so the array cannot be changed in place. "
            f"Pass inplace=False and use the returned array: a = mnp.{name}(a, ..., inplace=False)."
        )


def place(arr, mask, vals, *, inplace=True):
    """``arr`` with the positions where ``mask`` is true set to ``vals``, used in turn
    and repeated as needed (functional: pass ``inplace=False``).

    Example:
      >>> place(np.zeros(4), np.array([1, 0, 1, 1]) > 0, [1.0, 2.0], inplace=False)
      array([1., 0., 2., 1.])
    """
    _check_functional("place", inplace)
    positions = _condition_positions("place", mask, np.size(arr))
    if positions.size and np.size(vals) == 0:
        raise ValueError("place: vals is empty but the mask selects positions.")
    return _written(arr, positions, resize(ravel(vals), positions.shape) if positions.size else np.zeros(0))


def put(a, ind, v, mode=None, *, inplace=True):
    """``a`` with the flat positions ``ind`` (known values) set to ``v``, repeated as
    needed; ``mode`` ("raise", "wrap", "clip") treats positions out of range as NumPy
    (functional: pass ``inplace=False``).

    Example:
      >>> put(np.zeros(3), [0, 2], [5.0, 6.0], inplace=False)
      array([5., 0., 6.])
    """
    _check_functional("put", inplace)
    size = int(np.size(a)) if not isinstance(a, Tracer) else a.size
    ind = np.ravel(_concrete(ind, "put", "Pass the positions as a NumPy array or list."))
    if ind.dtype.kind not in "iu":
        raise TypeError(f"put: positions must be integers, got {ind.dtype}.")
    if mode in (None, "raise"):
        if ind.size and (ind.min() < -size or ind.max() >= size):
            raise IndexError(f"put: positions {ind.min()}..{ind.max()} are out of range for {size} elements.")
        ind = ind % max(size, 1)
    elif mode == "wrap":
        ind = ind % size
    elif mode == "clip":
        ind = np.clip(ind, 0, size - 1)
    else:
        raise ValueError(f"put: mode must be 'raise', 'wrap' or 'clip', got {mode!r}.")
    return _written(a, ind, resize(ravel(v), ind.shape) if ind.size else np.zeros(0))


def put_along_axis(arr, indices, values, axis, inplace=True, mode=None):
    """``arr`` with ``values`` written at ``indices`` (known values) along ``axis``, the
    inverse of ``take_along_axis`` (functional: pass ``inplace=False``).

    Example:
      >>> put_along_axis(np.zeros((2, 2)), np.array([[1], [0]]), 7.0, axis=1, inplace=False)
      array([[0., 7.],
             [7., 0.]])
    """
    _check_functional("put_along_axis", inplace)
    arr = to_array(arr)
    indices = _concrete(indices, "put_along_axis", "Pass the indices as a NumPy array.")
    # The flat position of each written element: take_along_axis of the positions grid.
    grid = np.arange(int(np.prod(arr.shape)), dtype=np.int64).reshape(arr.shape)
    if mode == "clip":
        n = grid.size if axis is None else arr.shape[normalize_axis("put_along_axis", axis, arr.ndim)]
        indices = np.clip(indices, -n, n - 1)
    positions = np.take_along_axis(grid.ravel() if axis is None else grid, indices, axis=axis)
    return _written(arr, positions, values)


def fill_diagonal(a, val, wrap=False, *, inplace=True):
    """``a`` with its main diagonal set to ``val`` (used in turn, repeated as needed);
    ``wrap`` continues the diagonal below a tall matrix, as NumPy (functional: pass
    ``inplace=False``).

    Example:
      >>> fill_diagonal(np.zeros((2, 3)), 1.0, inplace=False)
      array([[1., 0., 0.],
             [0., 1., 0.]])
    """
    _check_functional("fill_diagonal", inplace)
    shape = tuple(np.shape(a) if not isinstance(a, Tracer) else a.shape)
    if len(shape) < 2:
        raise ValueError(f"fill_diagonal: needs at least 2 dimensions, got shape {shape}.")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise ValueError(
            f"fill_diagonal: the axes of an array of more than 2 dimensions must be equal, got {shape}."
        )
    size = int(np.prod(shape))
    step = 1 + int(np.sum(np.cumprod(shape[:0:-1])))
    end = size if len(shape) > 2 or wrap else shape[1] * shape[1]
    positions = np.arange(0, min(end, size), step)
    return _written(a, positions, resize(ravel(val), positions.shape) if positions.size else np.zeros(0))


def trim_zeros(filt, trim="fb"):
    """The 1-D ``filt`` without its leading ("f") and/or trailing ("b") zeros (the values
    must be known: they fix the length).

    Example:
      >>> trim_zeros(np.array([0.0, 1.0, 0.0, 2.0, 0.0]))
      array([1., 0., 2.])
    """
    value = _concrete(filt, "trim_zeros", "Compute it outside the transform.")
    if value.ndim != 1:
        raise ValueError(f"trim_zeros: needs a 1-D array, got shape {value.shape}.")
    nonzero = np.flatnonzero(value)
    trim = trim.lower()
    start = (nonzero[0] if nonzero.size else value.size) if "f" in trim else 0
    stop = (nonzero[-1] + 1 if nonzero.size else 0) if "b" in trim else value.size
    return sh.slice_axis(to_array(filt), 0, int(start), max(int(start), int(stop)))
