"""The transforms of ``numpy.fft``: arguments as NumPy takes them, then one primitive.

NumPy's ``n=`` and ``s=`` crop or zero-pad the input before transforming; here that is
a ``slice`` or ``pad`` in the program, so derivatives see it, except that the complex
transforms pad inside their primitive (as NumPy does, with no padded copy). Real inputs to the complex
transforms enter through ``to_complex``; ``hfft`` and ``ihfft`` are, as in NumPy, an
``irfft`` of the conjugate and the conjugate of an ``rfft``.

Dtypes as NumPy 2: float32 and complex64 stay in single precision, integers and
booleans become float64/complex128; float16 is computed in single precision.

Example:
    >>> import numpy as np
    >>> fft(np.array([1.0, 0.0, 0.0, 0.0]))
    array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.numpy._promotion import dtype_of, normalize_axis, to_array
from minigrad.ops import fourier as fo
from minigrad.ops import shape as sh

__all__ = [
    "fft", "ifft", "rfft", "irfft", "hfft", "ihfft",
    "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn", "irfftn",
]  # fmt: skip


# ---------------------------------------------------------------------------------------
# Arguments


def _norm(opname, norm) -> str:
    if norm is None:
        return "backward"
    if norm not in fo.NORMS:
        raise ValueError(
            f'{opname}: norm={norm!r} is not one of "backward", "ortho", "forward" (None means "backward").'
        )
    return norm


def _operand(opname, a, *, real):
    """``a`` as an inexact array: real (``real=True``) or complex, as NumPy would compute it."""
    a = to_array(a)
    dtype = dtype_of(a)
    if dtype.kind in "biu":
        a = to_array(a, np.float64)
    elif dtype == np.float16:
        a = to_array(a, np.float32)  # NumPy's FFTs compute float16 in single precision too
    elif dtype.kind not in "fc":
        raise TypeError(f"{opname}: expected numbers, got an array of dtype {dtype}.")
    if dtype_of(a).kind == "c":
        if real:
            raise TypeError(
                f"{opname}: the input must be real, got {dtype_of(a)}; use "
                f"{'fft' if opname.startswith('r') else 'ifft'} for complex input, or pass the real part."
            )
        return a
    return a if real else fo.to_complex(a)


def _size(opname, n, what="n", where="") -> int:
    n = operator.index(n)
    if n < 1:
        raise ValueError(f"{opname}: invalid number of data points {what}={n}{where}; it must be at least 1.")
    return n


def _points(opname, n):
    """``n=`` of a one-axis transform as the ``s=`` of a transform over that axis."""
    return None if n is None else (_size(opname, n),)


def _resized(x, axis, n):
    """``x`` cropped or zero-padded to ``n`` points along ``axis`` (NumPy's ``n=``)."""
    size = x.shape[axis]
    if n < size:
        return sh.slice_axis(x, axis, 0, n)
    if n > size:
        widths = [(0, 0)] * x.ndim
        widths[axis] = (0, n - size)
        return sh.pad(x, widths)
    return x


def _one_axis(opname, a, n, axis):
    axis = normalize_axis(opname, axis, a.ndim)
    return axis, (a.shape[axis] if n is None else _size(opname, n))


def _axes_and_sizes(opname, a, s, axes):
    """NumPy's rules: axes default to the last ``len(s)`` (or all); sizes to the shape's."""
    if axes is None:
        axes = range(a.ndim) if s is None else range(a.ndim - len(s), a.ndim)
    axes = tuple(normalize_axis(opname, ax, a.ndim) for ax in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{opname}: repeated axes {axes} are not supported (as in JAX); transform twice.")
    if s is None:
        return axes, [_size(opname, a.shape[ax], where=f" (the length of axis {ax})") for ax in axes]
    s = [_size(opname, size, "s") for size in s]
    if len(s) != len(axes):
        raise ValueError(f"{opname}: s={tuple(s)} and axes={axes} must have the same length.")
    return axes, s


def _complex_transform(opname, a, s, axes, norm, inverse):
    x = _operand(opname, a, real=False)
    axes, sizes = _axes_and_sizes(opname, x, s, axes)
    for axis, size in zip(axes, sizes):
        x = _resized(x, axis, min(size, x.shape[axis]))  # crops; the transform pads itself
    return fo.fft(x, axes, inverse, _norm(opname, norm), sizes) if axes else x


def _real_forward(opname, a, s, axes, norm):
    x = _operand(opname, a, real=True)
    axes, sizes = _axes_and_sizes(opname, x, s, axes)
    if not axes:
        raise ValueError(f"{opname}: at least one axis is needed (got axes=()).")
    for axis, size in zip(axes, sizes):
        x = _resized(x, axis, size)
    return fo.rfft(x, axes, _norm(opname, norm))


def _real_inverse(opname, a, s, axes, norm):
    c = _operand(opname, a, real=False)
    axes, sizes = _axes_and_sizes(opname, c, s, axes)
    if not axes:
        raise ValueError(f"{opname}: at least one axis is needed (got axes=()).")
    if s is None:
        sizes[-1] = _size(
            opname, 2 * (c.shape[axes[-1]] - 1), where=f" (from {c.shape[axes[-1]]} input bins)"
        )
    for axis, size in zip(axes[:-1], sizes[:-1]):
        c = _resized(c, axis, size)
    c = _resized(c, axes[-1], sizes[-1] // 2 + 1)
    return fo.irfft(c, axes, sizes[-1], _norm(opname, norm))


# ---------------------------------------------------------------------------------------
# One axis


def fft(a, n=None, axis=-1, norm=None):
    """The discrete Fourier transform along one axis, as ``numpy.fft.fft``.

    Args:
      a: real or complex array.
      n: points to transform: ``a`` is cropped or zero-padded to ``n`` along ``axis``.
      axis: the axis to transform.
      norm: "backward" (default: no scaling), "ortho" (``1/sqrt(n)``) or "forward" (``1/n``).

    Returns:
      A complex array.

    Example:
      >>> fft(np.array([1.0, 2.0, 3.0, 4.0]))
      array([10.+0.j, -2.+2.j, -2.+0.j, -2.-2.j])
    """
    return _complex_transform("fft", a, _points("fft", n), (axis,), norm, inverse=False)


def ifft(a, n=None, axis=-1, norm=None):
    """The inverse discrete Fourier transform along one axis, as ``numpy.fft.ifft``.

    Args and Returns as ``fft``; "backward" scales by ``1/n`` here, "forward" not at all.

    Example:
      >>> ifft(np.array([10.0, -2 + 2j, -2.0, -2 - 2j])).real
      array([1., 2., 3., 4.])
    """
    return _complex_transform("ifft", a, _points("ifft", n), (axis,), norm, inverse=True)


def rfft(a, n=None, axis=-1, norm=None):
    """The transform of a real signal, bins ``0 .. n//2`` only, as ``numpy.fft.rfft``.

    Args:
      a: real array (complex input is a ``TypeError``, as in NumPy).
      n, axis, norm: as ``fft``.

    Returns:
      A complex array with ``n//2 + 1`` entries along ``axis``.

    Example:
      >>> rfft(np.array([1.0, 2.0, 3.0, 4.0]))
      array([10.+0.j, -2.+2.j, -2.+0.j])
    """
    return _real_forward("rfft", a, _points("rfft", n), (axis,), norm)


def irfft(a, n=None, axis=-1, norm=None):
    """The inverse of ``rfft``: ``n`` real points from bins ``0 .. n//2``, as ``numpy.fft.irfft``.

    The imaginary parts of bin 0 (and of bin ``n/2`` for even ``n``) are ignored, as in
    NumPy, so they get zero gradient.

    Args:
      a: the half spectrum (real input counts as complex with zero imaginary part).
      n: output points, default ``2 * (m - 1)`` for ``m`` input bins; the input is cropped
        or zero-padded to ``n//2 + 1`` bins.
      axis, norm: as ``ifft``.

    Returns:
      A real array with ``n`` entries along ``axis``.

    Example:
      >>> irfft(np.array([10.0, -2 + 2j, -2.0]))
      array([1., 2., 3., 4.])
    """
    return _real_inverse("irfft", a, _points("irfft", n), (axis,), norm)


def hfft(a, n=None, axis=-1, norm=None):
    """The transform of a signal with Hermitian symmetry, given by its first half: a real
    spectrum, as ``numpy.fft.hfft``.

    Args:
      a: the first half of the signal (``n//2 + 1`` points, cropped or zero-padded).
      n: output points, default ``2 * (m - 1)`` for ``m`` input points.
      axis, norm: as ``fft``.

    Returns:
      A real array with ``n`` entries along ``axis``.

    Example:
      >>> hfft(np.array([1.0, 2.0, 3.0]))
      array([ 8., -2.,  0., -2.])
    """
    c = _operand("hfft", a, real=False)
    axis = normalize_axis("hfft", axis, c.ndim)
    n = _size("hfft", 2 * (c.shape[axis] - 1) if n is None else n)
    # NumPy's definition: irfft of the conjugate, with the scaling of the other direction.
    return fo.irfft(
        _resized(c, axis, n // 2 + 1), (axis,), n, fo.swapped_norm(_norm("hfft", norm)), conjugate=True
    )


def ihfft(a, n=None, axis=-1, norm=None):
    """The inverse of ``hfft``: half of the Hermitian signal whose transform is the real
    ``a``, as ``numpy.fft.ihfft``.

    Args:
      a: real array, cropped or zero-padded to ``n`` points along ``axis``.
      n, axis, norm: as ``ifft``.

    Returns:
      A complex array with ``n//2 + 1`` entries along ``axis``.

    Example:
      >>> ihfft(np.array([8.0, -2.0, 0.0, -2.0]))
      array([1.+0.j, 2.+0.j, 3.+0.j])
    """
    x = _operand("ihfft", a, real=True)
    axis, n = _one_axis("ihfft", x, n, axis)
    # NumPy's definition: the conjugate of rfft, with the scaling of the other direction.
    return fo.rfft(_resized(x, axis, n), (axis,), fo.swapped_norm(_norm("ihfft", norm)), conjugate=True)


# ---------------------------------------------------------------------------------------
# Several axes


def fftn(a, s=None, axes=None, norm=None):
    """The discrete Fourier transform over several axes, as ``numpy.fft.fftn``.

    Args:
      a: real or complex array.
      s: points per transformed axis (crop or zero-pad); default the input's sizes.
      axes: the axes, default the last ``len(s)`` axes, or all of them.
      norm: as ``fft``, with ``n`` the product of the sizes.

    Returns:
      A complex array.

    Example:
      >>> fftn(np.ones((2, 2)))
      array([[4.+0.j, 0.+0.j],
             [0.+0.j, 0.+0.j]])
    """
    return _complex_transform("fftn", a, s, axes, norm, inverse=False)


def ifftn(a, s=None, axes=None, norm=None):
    """The inverse transform over several axes, as ``numpy.fft.ifftn``; arguments as ``fftn``.

    Example:
      >>> ifftn(np.array([[4.0, 0.0], [0.0, 0.0]])).real
      array([[1., 1.],
             [1., 1.]])
    """
    return _complex_transform("ifftn", a, s, axes, norm, inverse=True)


def rfftn(a, s=None, axes=None, norm=None):
    """The transform of a real array over several axes, the last one halved, as
    ``numpy.fft.rfftn``; arguments as ``fftn``.

    Example:
      >>> rfftn(np.ones((2, 4))).shape
      (2, 3)
    """
    return _real_forward("rfftn", a, s, axes, norm)


def irfftn(a, s=None, axes=None, norm=None):
    """The inverse of ``rfftn``, as ``numpy.fft.irfftn``: ``s`` gives the output sizes
    (the last default ``2 * (m - 1)``); other arguments as ``fftn``.

    Example:
      >>> irfftn(np.array([[8.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
      array([[1., 1., 1., 1.],
             [1., 1., 1., 1.]])
    """
    return _real_inverse("irfftn", a, s, axes, norm)


def fft2(a, s=None, axes=(-2, -1), norm=None):
    """``fftn`` over the last two axes, as ``numpy.fft.fft2``.

    Example:
      >>> fft2(np.eye(2))
      array([[2.+0.j, 0.+0.j],
             [0.+0.j, 2.+0.j]])
    """
    return _complex_transform("fft2", a, s, axes, norm, inverse=False)


def ifft2(a, s=None, axes=(-2, -1), norm=None):
    """``ifftn`` over the last two axes, as ``numpy.fft.ifft2``.

    Example:
      >>> ifft2(np.array([[2.0, 0.0], [0.0, 2.0]])).real
      array([[1., 0.],
             [0., 1.]])
    """
    return _complex_transform("ifft2", a, s, axes, norm, inverse=True)


def rfft2(a, s=None, axes=(-2, -1), norm=None):
    """``rfftn`` over the last two axes, as ``numpy.fft.rfft2``.

    Example:
      >>> rfft2(np.eye(2))
      array([[2.+0.j, 0.+0.j],
             [0.+0.j, 2.+0.j]])
    """
    return _real_forward("rfft2", a, s, axes, norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None):
    """``irfftn`` over the last two axes, as ``numpy.fft.irfft2``.

    Example:
      >>> irfft2(np.array([[2.0, 0.0], [0.0, 2.0]]))
      array([[1., 0.],
             [0., 1.]])
    """
    return _real_inverse("irfft2", a, s, axes, norm)
