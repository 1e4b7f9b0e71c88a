"""``minigrad.numpy.fft``: NumPy's discrete Fourier transforms, differentiable.

Each transform is one primitive of ``minigrad.ops.fourier`` (``fft``, ``rfft`` or
``irfft`` over a set of axes), a linear map whose JVP is itself and whose VJP is its
transpose, so every transform applies to any order. Complex cotangents follow JAX's
convention (see ``docs/api/numpy.md``).

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> import minigrad.numpy as mnp
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> mnp.fft.irfft(mnp.fft.rfft(x))
    array([1., 2., 3., 4.])
    >>> mg.grad(lambda x: mnp.fft.irfft(mnp.fft.rfft(x) * np.array([1.0, 0.0, 0.0]))[0])(x)
    array([0.25, 0.25, 0.25, 0.25])
"""

from minigrad.numpy.fft._frequencies import fftfreq, fftshift, ifftshift, rfftfreq
from minigrad.numpy.fft._transforms import (
    fft,
    fft2,
    fftn,
    hfft,
    ifft,
    ifft2,
    ifftn,
    ihfft,
    irfft,
    irfft2,
    irfftn,
    rfft,
    rfft2,
    rfftn,
)

__all__ = [
    "fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn",
    "rfftn", "irfftn", "hfft", "ihfft", "fftfreq", "rfftfreq", "fftshift", "ifftshift",
]  # fmt: skip
