"""The helpers of ``numpy.fft``: the frequencies of the bins (``fftfreq``, ``rfftfreq``)
and the rotations that put frequency zero in the middle (``fftshift``, ``ifftshift``).

The spacing ``d`` may be traced (its gradient is that of ``k / (n d)``); the shifts are
``roll``, so they are differentiable and work on complex arrays too.

Example:
    >>> fftfreq(4)
    array([ 0.  ,  0.25, -0.5 , -0.25])
"""

from __future__ import annotations

import operator

import numpy as np

from minigrad.core.trace import Tracer
from minigrad.numpy._building import roll
from minigrad.numpy._promotion import normalize_axis, to_array

__all__ = ["fftfreq", "rfftfreq", "fftshift", "ifftshift"]


def _check_device(opname, device):
    if device not in (None, "cpu"):
        raise ValueError(f"{opname}: minigrad arrays live on the CPU, got device={device!r}.")


def _scaled(bins, n, d):
    """``bins / (n d)``, NumPy's way (times the reciprocal), with ``d`` possibly traced."""
    if isinstance(d, Tracer):
        return bins * (1.0 / (n * d))
    return bins * (1.0 / (n * float(d)))


def _points(opname, n) -> int:
    n = operator.index(n)
    if n < 1:
        raise ValueError(f"{opname}: n={n} must be a positive number of points.")
    return n


def fftfreq(n, d=1.0, device=None):
    """The frequency of each bin of an ``n``-point ``fft``, in cycles per unit of ``d``,
    as ``numpy.fft.fftfreq``: ``[0, 1, ..., n//2 - 1 (or (n-1)//2), -(n//2), ..., -1] / (n d)``.

    Args:
      n: the number of points (an int).
      d: the sample spacing (may be traced).
      device: None or "cpu".

    Returns:
      A float array of ``n`` frequencies.

    Example:
      >>> fftfreq(5, d=0.5)
      array([ 0. ,  0.4,  0.8, -0.8, -0.4])
    """
    _check_device("fftfreq", device)
    n = _points("fftfreq", n)
    bins = np.concatenate([np.arange((n - 1) // 2 + 1), np.arange(-(n // 2), 0)])
    return _scaled(bins, n, d)


def rfftfreq(n, d=1.0, device=None):
    """The frequency of each bin of an ``n``-point ``rfft``: ``[0, 1, ..., n//2] / (n d)``,
    as ``numpy.fft.rfftfreq``; arguments as ``fftfreq``.

    Example:
      >>> rfftfreq(4)
      array([0.  , 0.25, 0.5 ])
    """
    _check_device("rfftfreq", device)
    n = _points("rfftfreq", n)
    return _scaled(np.arange(n // 2 + 1), n, d)


def _shift_axes(opname, x, axes):
    if axes is None:
        return tuple(range(x.ndim))
    axes = (axes,) if np.ndim(axes) == 0 else tuple(axes)
    return tuple(normalize_axis(opname, axis, x.ndim) for axis in axes)


def fftshift(x, axes=None):
    """Rotate each of ``axes`` (default all) by half its length, so that frequency zero
    is in the middle, as ``numpy.fft.fftshift``.

    Example:
      >>> fftshift(fftfreq(5))
      array([-0.4, -0.2,  0. ,  0.2,  0.4])
    """
    x = to_array(x)
    axes = _shift_axes("fftshift", x, axes)
    return roll(x, [x.shape[axis] // 2 for axis in axes], axes) if axes else x


def ifftshift(x, axes=None):
    """The inverse of ``fftshift`` (they differ for odd lengths), as ``numpy.fft.ifftshift``.

    Example:
      >>> ifftshift(fftshift(np.arange(5.0)))
      array([0., 1., 2., 3., 4.])
    """
    x = to_array(x)
    axes = _shift_axes("ifftshift", x, axes)
    return roll(x, [-(x.shape[axis] // 2) for axis in axes], axes) if axes else x
