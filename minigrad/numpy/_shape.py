"""Shape and movement functions with NumPy's signatures (``x[index]`` is in ``_indexing.py``).

Example:
    >>> import numpy as np
    >>> moveaxis(np.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
"""

from __future__ import annotations

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._indexing import getitem
from minigrad.numpy._promotion import dtype_of, normalize_axes, normalize_axis, promote, to_array
from minigrad.ops import elementwise as ew
from minigrad.ops import logic as lg
from minigrad.ops import reduce as red
from minigrad.ops import shape as sh

__all__ = [
    "reshape", "ravel", "transpose", "swapaxes", "moveaxis", "squeeze", "expand_dims",
    "broadcast_to", "concatenate", "stack", "split", "flip", "pad", "shape", "ndim", "size",
    "atleast_1d", "atleast_2d", "hstack", "vstack", "take",
]  # fmt: skip


def shape(a) -> tuple[int, ...]:
    """The shape of an array or tracer.

    Example:
      >>> shape(np.zeros((2, 3)))
      (2, 3)
    """
    return to_array(a).shape


def ndim(a) -> int:
    """The number of dimensions.

    Example:
      >>> ndim(np.zeros((2, 3)))
      2
    """
    return len(shape(a))


def size(a, axis=None) -> int:
    """The number of elements (along ``axis``: an int or a tuple of ints, if given).

    Example:
      >>> size(np.zeros((2, 3)))
      6
      >>> size(np.zeros((2, 3)), -1)
      3
    """
    dims = shape(a)
    if axis is not None:
        dims = [dims[i] for i in normalize_axes("size", axis, len(dims))]
    return int(np.prod(dims, dtype=np.int64))


def _resolve_shape(opname, old_shape, newshape) -> tuple[int, ...]:
    newshape = (newshape,) if isinstance(newshape, (int, np.integer)) else tuple(int(d) for d in newshape)
    size = int(np.prod(old_shape, dtype=np.int64))
    unknown = [i for i, d in enumerate(newshape) if d == -1]
    if len(unknown) > 1 or any(d < -1 for d in newshape):
        raise ValueError(f"{opname}: invalid new shape {newshape}; use at most one -1.")
    if unknown:
        known = int(np.prod([d for d in newshape if d != -1], dtype=np.int64))
        if known == 0 or size % known:
            raise ValueError(
                f"{opname}: cannot reshape an array of shape {tuple(old_shape)} (size {size}) into shape {newshape}."
            )
        newshape = tuple(size // known if d == -1 else d for d in newshape)
    return newshape


def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    """Give ``a`` a new shape with the same number of elements (one -1 is inferred).

    Args:
      a: the array.
      shape: the new shape (NumPy >= 2.1 name; ``newshape`` is the older one).
      order: ``"C"`` reads and writes row-major, ``"F"`` column-major; ``"A"`` is ``"C"``
        (every minigrad array is row-major).
      copy: accepted for NumPy's signature; arrays are immutable, so copies never matter.

    Example:
      >>> reshape(np.arange(6.0), (3, -1)).shape
      (3, 2)
      >>> reshape(np.arange(6.0), shape=(2, 3)).shape
      (2, 3)
    """
    if shape is None and newshape is None:
        raise TypeError("reshape: give the new shape (reshape(a, shape)).")
    if shape is not None and newshape is not None:
        raise TypeError("reshape: give the new shape once, as shape= (newshape= is NumPy's older name).")
    if order not in ("C", "F", "A"):
        raise ValueError(f"reshape: order must be 'C', 'F' or 'A', got {order!r}.")
    a = to_array(a)
    new_shape = _resolve_shape("reshape", a.shape, shape if shape is not None else newshape)
    if order == "F":
        # Column-major reading and writing is row-major on the reversed axes.
        reversed_axes = tuple(reversed(range(a.ndim)))
        flipped = sh.reshape(sh.transpose(a, reversed_axes), new_shape[::-1])
        return sh.transpose(flipped, tuple(reversed(range(len(new_shape)))))
    return sh.reshape(a, new_shape)  # "A" is "C": every minigrad array is row-major


def ravel(a, order="C"):
    """Flatten to one dimension, reading in ``order`` (as ``reshape``).

    Example:
      >>> ravel(np.ones((2, 2))).shape
      (4,)
      >>> ravel(np.array([[1, 2], [3, 4]]), "F")
      array([1, 3, 2, 4])
    """
    a = to_array(a)
    if order == "K":
        order = "C"  # every minigrad array is laid out row-major
    return reshape(a, (a.size,), order)


def transpose(a, axes=None):
    """Permute the axes (reverse them when ``axes`` is None).

    Example:
      >>> transpose(np.zeros((2, 3, 4)), (1, 0, 2)).shape
      (3, 2, 4)
    """
    a = to_array(a)
    if axes is None:
        axes = tuple(reversed(range(a.ndim)))
    if len(axes) != a.ndim:
        raise ValueError(f"transpose: axes {tuple(axes)} do not match an array of shape {a.shape}.")
    return sh.transpose(a, [normalize_axis("transpose", i, a.ndim) for i in axes])


def swapaxes(a, axis1, axis2):
    """Exchange two axes.

    Example:
      >>> swapaxes(np.zeros((2, 3, 4)), 0, 2).shape
      (4, 3, 2)
    """
    a = to_array(a)
    perm = list(range(a.ndim))
    i, j = normalize_axis("swapaxes", axis1, a.ndim), normalize_axis("swapaxes", axis2, a.ndim)
    perm[i], perm[j] = perm[j], perm[i]
    return sh.transpose(a, perm)


def moveaxis(a, source, destination):
    """Move axes to new positions; the others keep their order.

    Example:
      >>> moveaxis(np.zeros((2, 3, 4)), [0, 1], [-1, -2]).shape
      (4, 3, 2)
    """
    a = to_array(a)
    source = [normalize_axis("moveaxis", s, a.ndim) for s in np.atleast_1d(source)]
    destination = [normalize_axis("moveaxis", d, a.ndim) for d in np.atleast_1d(destination)]
    if len(source) != len(destination):
        raise ValueError("moveaxis: source and destination must have the same number of axes.")
    for name, axes in (("source", source), ("destination", destination)):
        if len(set(axes)) != len(axes):
            raise ValueError(
                f"moveaxis: {name} names an axis more than once ({axes} for an array of shape "
                f"{a.shape}); each axis can move once."
            )
    order = [i for i in range(a.ndim) if i not in source]
    for dest, src in sorted(zip(destination, source, strict=True)):
        order.insert(dest, src)
    return sh.transpose(a, order)


def squeeze(a, axis=None):
    """Remove size-1 axes (all of them, or the ones named).

    Example:
      >>> squeeze(np.zeros((1, 3, 1)), axis=0).shape
      (3, 1)
    """
    a = to_array(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        axes = normalize_axes("squeeze", axis, a.ndim)
        for i in axes:
            if a.shape[i] != 1:
                raise ValueError(
                    f"squeeze: axis {i} of an array of shape {a.shape} has size {a.shape[i]}, not 1."
                )
    return sh.squeeze(a, axes)


def expand_dims(a, axis):
    """Insert size-1 axes at positions ``axis`` (an int or a tuple) of the result.

    Example:
      >>> expand_dims(np.zeros(3), (0, -1)).shape
      (1, 3, 1)
    """
    a = to_array(a)
    count = 1 if isinstance(axis, (int, np.integer)) else len(axis)
    axes = normalize_axes("expand_dims", axis, a.ndim + count)
    return sh.expand_dims(a, axes)


def broadcast_to(array, shape):
    """Broadcast ``array`` to ``shape``; its gradient sums the copies back.

    Example:
      >>> broadcast_to(np.array([1.0, 2.0]), (3, 2)).shape
      (3, 2)
    """
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return sh.broadcast_to(to_array(array), shape)


def _joined_operands(name, arrays, out, dtype, casting):
    """The arrays to join, in their common dtype or in ``dtype`` (NumPy's casting check)."""
    if out is not None:
        if dtype is not None:
            raise TypeError(f"{name}: give out or dtype, not both (as in NumPy).")
        raise TypeError(
            f"{name}: out= is not supported, since minigrad's arrays are immutable; use the returned array."
        )
    arrays = list(arrays)
    if not arrays:
        raise ValueError(f"{name}: need at least one array to {name}, got an empty sequence.")
    if dtype is None:
        return promote(name, *arrays)
    dtype = np.dtype(dtype)
    for a in arrays:
        if not np.can_cast(dtype_of(a), dtype, casting=casting):
            raise TypeError(
                f"{name}: cannot cast {dtype_of(a)} to {dtype} under casting={casting!r}; "
                "pass casting='unsafe' to allow it."
            )
    return [to_array(a, dtype) for a in arrays]


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join arrays along an existing axis (``axis=None`` flattens them first).

    ``dtype`` converts every array first, if ``casting`` allows it (as in NumPy).

    Example:
      >>> concatenate([np.zeros((1, 2)), np.ones((2, 2))]).shape
      (3, 2)
      >>> concatenate([np.zeros(1), np.ones(1, np.int8)], dtype=np.float32)
      array([0., 1.], dtype=float32)
    """
    arrays = _joined_operands("concatenate", arrays, out, dtype, casting)
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    ndims = {a.ndim for a in arrays}
    if 0 in ndims:
        raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated; use stack.")
    if len(ndims) > 1:
        raise ValueError(
            f"concatenate: all arrays need the same number of dimensions, got shapes {[a.shape for a in arrays]}."
        )
    return sh.concatenate(arrays, normalize_axis("concatenate", axis, arrays[0].ndim))


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join arrays of one shape along a new axis (``dtype`` and ``casting`` as in
    ``concatenate``).

    Example:
      >>> stack([np.zeros(2), np.ones(2)], axis=1).shape
      (2, 2)
    """
    arrays = _joined_operands("stack", arrays, out, dtype, casting)
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"stack: all arrays must have the same shape, got {[a.shape for a in arrays]}.")
    axis = normalize_axis("stack", axis, arrays[0].ndim + 1)
    return sh.concatenate([sh.expand_dims(a, (axis,)) for a in arrays], axis)


def hstack(arrays):
    """Stack horizontally (along axis 1, or 0 for 1-D arrays).

    Example:
      >>> hstack([np.zeros(2), np.ones(3)]).shape
      (5,)
    """
    arrays = [atleast_1d(a) for a in arrays]
    return concatenate(arrays, axis=0 if arrays[0].ndim == 1 else 1)


def vstack(arrays):
    """Stack vertically (along axis 0, after making 1-D arrays rows).

    Example:
      >>> vstack([np.zeros(2), np.ones(2)]).shape
      (2, 2)
    """
    return concatenate([atleast_2d(a) for a in arrays], axis=0)


def atleast_1d(*arys):
    """Each argument with at least one dimension (one array back for one argument, a
    tuple for several, as in NumPy).

    Example:
      >>> atleast_1d(1.0).shape
      (1,)
      >>> [a.shape for a in atleast_1d(1.0, np.zeros((2, 2)))]
      [(1,), (2, 2)]
    """
    return _each(arys, lambda a: sh.reshape(a, (1,)) if a.ndim == 0 else a)


def atleast_2d(*arys):
    """Each argument with at least two dimensions (1-D arrays become rows).

    Example:
      >>> atleast_2d(np.zeros(3)).shape
      (1, 3)
    """
    return _each(arys, lambda a: sh.reshape(a, (1,) * (2 - a.ndim) + a.shape) if a.ndim < 2 else a)


def _each(arys, function):
    results = tuple(function(to_array(a)) for a in arys)
    return results[0] if len(results) == 1 else results


def split(ary, indices_or_sections, axis=0):
    """Split into a list of sub-arrays (equal sections, or at the given indices).

    Example:
      >>> [p.shape for p in split(np.zeros(6), [1, 4])]
      [(1,), (3,), (2,)]
    """
    ary = to_array(ary)
    axis = normalize_axis("split", axis, ary.ndim)
    length = ary.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer, float, np.floating)):
        if indices_or_sections != int(indices_or_sections):
            raise ValueError(
                f"split: the number of sections must be a whole number, got {indices_or_sections}."
            )
        sections = int(indices_or_sections)
        if sections <= 0 or length % sections:
            raise ValueError(
                f"split: an axis of length {length} cannot be split into {sections} equal sections."
            )
        bounds = [i * (length // sections) for i in range(sections + 1)]
    else:
        bounds = [
            0,
            *(int(np.clip(i if i >= 0 else i + length, 0, length)) for i in indices_or_sections),
            length,
        ]
    return [sh.slice_axis(ary, axis, lo, max(lo, hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def flip(m, axis=None):
    """Reverse the order of elements along ``axis`` (all axes when None).

    Example:
      >>> flip(np.array([1.0, 2.0, 3.0]))
      array([3., 2., 1.])
    """
    m = to_array(m)
    axes = normalize_axes("flip", axis, m.ndim)
    index = tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(m.ndim))
    return getitem(m, index)


def take(a, indices, axis=None, out=None, mode="raise"):
    """Elements of ``a`` at integer ``indices`` along ``axis`` (flattened when None).

    ``mode`` says what out-of-range indices do, as in NumPy: ``"raise"`` an IndexError
    (negative indices count from the end), ``"wrap"`` around, or ``"clip"`` to the ends.

    Example:
      >>> take(np.array([[1.0, 2.0], [3.0, 4.0]]), [1, 1], axis=1)
      array([[2., 2.],
             [4., 4.]])
      >>> take(np.array([1.0, 2.0, 3.0]), [-1, 5], mode="clip")
      array([1., 3.])
    """
    if out is not None:
        raise TypeError(
            "take: out= is not supported, since minigrad's arrays are immutable; use the returned array."
        )
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}.")
    a = to_array(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis("take", axis, a.ndim)
    indices = to_array(indices)
    if dtype_of(indices).kind not in "iu":
        raise IndexError(f"take: indices must be integers, got {dtype_of(indices)}.")
    if mode != "raise":
        indices = _indices_in_range(indices, a.shape[axis], mode)
    return getitem(a, (slice(None),) * axis + (indices,))


def _indices_in_range(indices, n, mode):
    if n == 0:
        raise IndexError("take: cannot take from an empty axis with mode 'wrap' or 'clip'.")
    if not isinstance(indices, Tracer):
        return np.mod(indices, n) if mode == "wrap" else np.clip(indices, 0, n - 1)
    dtype = dtype_of(indices)
    if mode == "clip":
        return ew.minimum(ew.maximum(indices, np.zeros((), dtype)), np.asarray(n - 1, dtype))
    # indices mod n: truncating division then a step up where the remainder is negative.
    quotient = ew.convert_element_type(
        ew.div(ew.convert_element_type(indices, np.dtype(np.float64)), float(n)), dtype
    )
    remainder = ew.sub(indices, ew.mul(quotient, np.asarray(n, dtype)))
    return ew.select(
        lg.less(remainder, np.zeros((), dtype)), ew.add(remainder, np.asarray(n, dtype)), remainder
    )


def pad(array, pad_width, mode="constant", constant_values=0, *, end_values=0):
    """Pad an array as ``np.pad`` does, for the modes that take no function.

    ``"constant"`` fills with ``constant_values`` ("empty" with zeros); "edge", "reflect",
    "symmetric" and "wrap" read existing elements, so they are gathers whose gradient adds
    back into the elements read; "maximum", "minimum" and "mean" fill with that statistic of the
    whole axis, and "linear_ramp" ramps from ``end_values`` to the edge. NumPy's
    ``stat_length``, ``reflect_type='odd'`` and the "median" mode are not offered: they
    raise a TypeError or ValueError naming what to use instead.

    Example:
      >>> pad(np.array([1.0, 2.0]), 1, mode="edge")
      array([1., 1., 2., 2.])
    """
    array = to_array(array)
    if array.ndim == 0:
        return array  # NumPy pads a 0-d array to itself: it has no axis to pad
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (array.ndim, 2))
    widths = tuple((int(lo), int(hi)) for lo, hi in widths)
    if mode in ("constant", "empty"):  # "empty" leaves the new elements unspecified: zeros will do
        padded = sh.pad(array, widths)
        if isinstance(constant_values, Tracer):
            region = np.pad(np.zeros(array.shape, bool), widths, constant_values=True)
            return ew.select(region, *promote("pad", constant_values, padded))
        fill = np.pad(np.zeros(array.shape, dtype_of(array)), widths, constant_values=constant_values)
        return ew.add(padded, fill) if np.any(fill) else padded
    if mode in _STATISTIC_MODES or mode == "linear_ramp":
        return _pad_with_values(array, widths, mode, end_values)
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise ValueError(
            f"pad: mode {mode!r} is not supported; use one of 'constant', 'edge', 'reflect', "
            "'symmetric', 'wrap', 'empty', 'maximum', 'minimum', 'mean' or 'linear_ramp'."
        )
    out = array
    for axis, (lo, hi) in enumerate(widths):
        if lo or hi:
            try:
                positions = np.pad(np.arange(out.shape[axis]), (lo, hi), mode=mode)
            except ValueError as error:
                raise ValueError(
                    f"pad: mode {mode!r} with widths {widths} for shape {array.shape}: {error}"
                ) from None
            out = take(out, positions, axis=axis)
    return out


_STATISTIC_MODES = {"maximum": red.reduce_max, "minimum": red.reduce_min, "mean": None}


def _pad_with_values(array, widths, mode, end_values):
    """Pad axis after axis (each seeing the padding of the ones before, as NumPy) with a
    statistic of the axis or a linear ramp to its edges."""
    if mode in ("mean", "linear_ramp") and dtype_of(array).kind not in "fc":
        # NumPy rounds these to the integer dtype; minigrad has no rounding primitive.
        raise TypeError(
            f"pad: mode {mode!r} needs a floating-point array, got {dtype_of(array)}; use x.astype(float)."
        )
    ends = np.broadcast_to(np.asarray(end_values, dtype=np.float64), (array.ndim, 2))
    out = array
    for axis, (lo, hi) in enumerate(widths):
        if not (lo or hi):
            continue
        if out.shape[axis] == 0:
            raise ValueError(f"pad: cannot compute mode {mode!r} of an empty axis (shape {out.shape}).")
        pieces = []
        for width, at_start, end in ((lo, True, ends[axis][0]), (hi, False, ends[axis][1])):
            shape = out.shape[:axis] + (width,) + out.shape[axis + 1 :]
            if mode == "linear_ramp":
                edge = sh.slice_axis(
                    out, axis, 0 if at_start else out.shape[axis] - 1, 1 if at_start else out.shape[axis]
                )
                # NumPy's linspace(end, edge, width, endpoint=False), reversed after the array.
                steps = np.arange(width) if at_start else np.arange(width)[::-1]
                fraction = (steps / max(width, 1)).astype(dtype_of(out))
                fraction = fraction.reshape((width,) + (1,) * (out.ndim - axis - 1))
                end = np.asarray(end, dtype=dtype_of(out))
                ramp = ew.add(ew.mul(ew.sub(edge, end), fraction), end)
                pieces.append(sh.broadcast_to(ramp, shape))
            else:
                if mode == "mean":
                    statistic = ew.div(
                        sh.reduce_sum(out, (axis,)), np.asarray(out.shape[axis], dtype_of(out))
                    )
                else:
                    statistic = _STATISTIC_MODES[mode](out, (axis,))
                pieces.append(sh.broadcast_to(sh.expand_dims(statistic, (axis,)), shape))
        out = sh.concatenate([pieces[0], out, pieces[1]], axis)
    return out
