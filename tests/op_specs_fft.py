"""Rows of the operation table for minigrad.numpy.fft.

See ``op_specs.py`` for how the table is used and ``op_spec_tools.py`` for ``OpSpec``.

The table's machinery is real-valued, so every row is a real function of real arrays.
A complex result is read out by ``_real_view``: one more zero bin in front, then
``irfft`` to an odd number of points, which makes every real and every imaginary part
count (bin 0 and bin ``n/2`` of an ``irfft`` would drop their imaginary parts), and a
square, so that second derivatives are not trivially zero. Complex inputs are made
inside the row (``fft`` of a real array). Shapes, ``n``/``s``, axes (in any order) and
``norm`` are drawn, with crops and zero-pads both ways.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minigrad.numpy as mnp
from tests.op_spec_tools import OpSpec, values

_FFT = mnp.fft
_NORMS = st.sampled_from([None, "backward", "ortho", "forward"])


def _real_view(c, axis=-1):
    """A real function of every real and imaginary part of the complex array ``c``."""
    shape = list(c.shape)
    bins = shape[axis]
    shape[axis] = 1
    padded = mnp.concatenate([np.zeros(shape, c.dtype), c], axis)
    y = _FFT.irfft(padded, n=2 * bins + 1, axis=axis)
    return y * y


def _signal_args(draw, rng):
    """One real signal (sometimes a stack of two), an ``n``, an axis and a norm."""
    length = draw(st.integers(1, 5))
    shape = (length,) if draw(st.booleans()) else (2, length)
    axis = draw(st.sampled_from([-1, 0]))
    n = draw(st.sampled_from([None, max(1, length - 1), length + 2]))
    return (values(rng, shape, "real"), n, axis, draw(_NORMS))


def _half_spectrum_args(draw, rng):
    """As ``_signal_args``, with an ``n`` that never asks for 0 output points."""
    x, n, axis, norm = _signal_args(draw, rng)
    if n is None and x.shape[axis] == 1:
        n = draw(st.sampled_from([1, 2, 3]))
    return (x, n, axis, norm)


def _array_args(draw, rng):
    """A real array of 2 or 3 axes, with ``s`` and ``axes`` in any order (or defaults)."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=3)))
    form = draw(st.sampled_from(["default", "axes", "s_and_axes"]))
    if form == "default":
        return (values(rng, shape, "real"), None, None, draw(_NORMS))
    order = draw(st.permutations(range(len(shape))))
    axes = tuple(order[: draw(st.integers(1, len(shape)))])
    sizes = None
    if form == "s_and_axes":
        sizes = tuple(draw(st.integers(1, shape[a] + 2)) for a in axes)
    return (values(rng, shape, "real"), sizes, axes, draw(_NORMS))


def _two_axis_args(draw, rng):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=3)))
    axes = draw(st.sampled_from([(-2, -1), (-1, -2), (0, -1)]))
    sizes = draw(st.sampled_from([None, (2, 3), (3, 1)]))
    return (values(rng, shape, "real"), sizes, axes, draw(_NORMS))


def _inverse_sizes(x, s, axes):
    """Sizes for an ``irfftn`` that never ask for 0 output points on the last axis."""
    last = (axes or range(x.ndim))[-1]
    if s is None and x.shape[last] == 1:
        return tuple(x.shape[a] for a in (axes or range(x.ndim)))
    return s


def _fft(x, n, axis, norm):
    return _real_view(_FFT.fft(x, n, axis, norm), axis)


def _ifft(x, n, axis, norm):
    # A complex input: the transform of x, then the inverse transform under test.
    return _real_view(_FFT.ifft(_FFT.fft(x, axis=axis), n, axis, norm), axis)


def _rfft(x, n, axis, norm):
    return _real_view(_FFT.rfft(x, n, axis, norm), axis)


def _irfft(x, n, axis, norm):
    y = _FFT.irfft(_FFT.fft(x, axis=axis), n, axis, norm)
    return y * y


def _hfft(x, n, axis, norm):
    y = _FFT.hfft(_FFT.ifft(x, axis=axis), n, axis, norm)
    return y * y


def _ihfft(x, n, axis, norm):
    return _real_view(_FFT.ihfft(x, n, axis, norm), axis)


def _last(axes):
    return -1 if axes is None else axes[-1]


def _complex_n(name):
    def fun(x, s, axes, norm):
        spectrum = getattr(_FFT, name)(_FFT.fft(x, axis=0), s, axes, norm)
        return _real_view(spectrum, _last(axes))

    return fun


def _rfftn(name):
    def fun(x, s, axes, norm):
        return _real_view(getattr(_FFT, name)(x, s, axes, norm), _last(axes))

    return fun


def _irfftn(name):
    def fun(x, s, axes, norm):
        y = getattr(_FFT, name)(_FFT.fft(x, axis=0), _inverse_sizes(x, s, axes), axes, norm)
        return y * y

    return fun


def _convolution_args(draw, rng):
    length = draw(st.integers(1, 5))
    return (values(rng, (length,), "real"), values(rng, (length,), "real"))


def _circular_convolution(x, y):
    # Two traced spectra multiplied: the complex product's rules meet the transforms'.
    return _FFT.irfft(_FFT.rfft(x) * _FFT.rfft(y), n=x.shape[0])


def _shift_args(draw, rng):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    axes = draw(st.sampled_from([None, 0, -1, (0, -1)]))
    return (values(rng, shape, "real"), axes)


def _shifted_spectrum(x, axes):
    spectrum = _FFT.fftshift(_FFT.fft(x, axis=-1), axes)
    shifted = _FFT.ifftshift(_FFT.fftshift(x, axes) * x, axes)
    return mnp.concatenate([mnp.ravel(_real_view(spectrum, -1)), mnp.ravel(shifted)])


def _frequency_args(draw, rng):
    return (values(rng, (), "positive"), draw(st.integers(1, 6)))


def _spec(name, fun, draw_args, arity=1):
    return OpSpec(f"fft.{name}", fun, arity=arity, draw_args=draw_args, shapes="custom")


SPECS: list[OpSpec] = [
    _spec("fft", _fft, _signal_args),
    _spec("ifft", _ifft, _signal_args),
    _spec("rfft", _rfft, _signal_args),
    _spec("irfft", _irfft, _half_spectrum_args),
    _spec("hfft", _hfft, _half_spectrum_args),
    _spec("ihfft", _ihfft, _signal_args),
    _spec("fftn", _complex_n("fftn"), _array_args),
    _spec("ifftn", _complex_n("ifftn"), _array_args),
    _spec("rfftn", _rfftn("rfftn"), _array_args),
    _spec("irfftn", _irfftn("irfftn"), _array_args),
    _spec("fft2", _complex_n("fft2"), _two_axis_args),
    _spec("ifft2", _complex_n("ifft2"), _two_axis_args),
    _spec("rfft2", _rfftn("rfft2"), _two_axis_args),
    _spec("irfft2", _irfftn("irfft2"), _two_axis_args),
    _spec("circular_convolution", _circular_convolution, _convolution_args, arity=2),
    _spec("fftshift_ifftshift", _shifted_spectrum, _shift_args),
    _spec("fftfreq", lambda d, n: _FFT.fftfreq(n, d) ** 2, _frequency_args),
    _spec("rfftfreq", lambda d, n: _FFT.rfftfreq(n, d) ** 2, _frequency_args),
]
