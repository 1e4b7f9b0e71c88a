"""Parameter initializers: ``init(key, shape, dtype=float32) -> array``.

Fans follow the layouts of the layers here: a 2-D shape is ``(fan_in, fan_out)`` (a
``Linear`` weight, used as ``x @ w``); a shape with more axes is ``(out, in, *window)``
(an OIHW ``Conv2d`` kernel), whose fans are multiplied by the window size.

Example:
    >>> import minigrad.random as mr
    >>> glorot_uniform(mr.key(0), (3, 4)).shape
    (3, 4)
"""

from __future__ import annotations

import math

import numpy as np

import minigrad.random as mr

__all__ = [
    "glorot_uniform", "he_normal", "zeros", "fans", "lecun_normal", "glorot_normal", "he_uniform", "orthogonal",
    "truncated_normal", "normal", "uniform", "ones", "constant",
]  # fmt: skip


def fans(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` (see the module docstring).

    Example:
      >>> fans((16, 8, 3, 3))
      (72, 144)
    """
    shape = tuple(int(d) for d in shape)
    if len(shape) < 2:
        size = shape[0] if shape else 1
        return size, size
    if len(shape) == 2:
        return shape[0], shape[1]
    window = math.prod(shape[2:])
    return shape[1] * window, shape[0] * window


def glorot_uniform(key, shape, dtype=np.float32):
    """Uniform in ``[-a, a]`` with ``a = sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio, 2010).

    Example:
      >>> import minigrad.random as mr
      >>> w = glorot_uniform(mr.key(0), (100, 200))
      >>> bool(abs(w).max() <= (6 / 300) ** 0.5)
      True
    """
    fan_in, fan_out = fans(shape)
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return mr.uniform(key, shape, dtype, minval=-limit, maxval=limit)


def he_normal(key, shape, dtype=np.float32):
    """Normal with standard deviation ``sqrt(2 / fan_in)`` (He et al., 2015), for ReLU nets.

    Example:
      >>> import minigrad.random as mr
      >>> w = he_normal(mr.key(0), (200, 300))
      >>> round(float(w.std() * (200 / 2) ** 0.5), 1)
      1.0
    """
    fan_in, _ = fans(shape)
    return mr.normal(key, shape, dtype) * np.asarray(math.sqrt(2.0 / fan_in), dtype)


def zeros(key, shape, dtype=np.float32):
    """Zeros (the key is ignored; it is there so all initializers are called alike).

    Example:
      >>> import minigrad.random as mr
      >>> zeros(mr.key(0), (2,))
      array([0., 0.], dtype=float32)
    """
    return np.zeros(shape, dtype)


def _scaled_normal(key, shape, dtype, stddev: float):
    return mr.normal(key, shape, dtype) * np.asarray(stddev, dtype)


def lecun_normal(key, shape, dtype=np.float32):
    """Normal with standard deviation ``sqrt(1 / fan_in)`` (LeCun et al., 1998).

    Example:
      >>> import minigrad.random as mr
      >>> w = lecun_normal(mr.key(0), (400, 300))
      >>> round(float(w.std() * 400**0.5), 1)
      1.0
    """
    fan_in, _ = fans(shape)
    return _scaled_normal(key, shape, dtype, math.sqrt(1.0 / fan_in))


def glorot_normal(key, shape, dtype=np.float32):
    """Normal with standard deviation ``sqrt(2 / (fan_in + fan_out))`` (Glorot & Bengio, 2010).

    Example:
      >>> import minigrad.random as mr
      >>> w = glorot_normal(mr.key(0), (300, 500))
      >>> round(float(w.std() * (800 / 2) ** 0.5), 1)
      1.0
    """
    fan_in, fan_out = fans(shape)
    return _scaled_normal(key, shape, dtype, math.sqrt(2.0 / (fan_in + fan_out)))


def he_uniform(key, shape, dtype=np.float32):
    """Uniform in ``[-a, a]`` with ``a = sqrt(6 / fan_in)`` (He et al., 2015).

    Example:
      >>> import minigrad.random as mr
      >>> w = he_uniform(mr.key(0), (24, 10))
      >>> bool(abs(w).max() <= 0.5)
      True
    """
    fan_in, _ = fans(shape)
    limit = math.sqrt(6.0 / fan_in)
    return mr.uniform(key, shape, dtype, minval=-limit, maxval=limit)


def orthogonal(key, shape, dtype=np.float32):
    """A (semi-)orthogonal matrix (Saxe et al., 2014): rows or columns orthonormal.

    The shape is read as a matrix of ``shape[0]`` rows by ``prod(shape[1:])`` columns;
    whichever of rows and columns is fewer is orthonormal.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> w = orthogonal(mr.key(0), (3, 5))
      >>> np.allclose(w @ w.T, np.eye(3), atol=1e-6)
      True
    """
    shape = tuple(int(d) for d in shape)
    if len(shape) < 2:
        raise ValueError(f"orthogonal: needs a shape with at least 2 axes, got {shape}.")
    rows, cols = shape[0], math.prod(shape[1:])
    sample = np.asarray(mr.normal(key, (max(rows, cols), min(rows, cols)), np.float64))
    q, r = np.linalg.qr(sample)
    # Fixing the signs by r's diagonal makes q uniformly distributed (Mezzadri, 2007).
    q = q * np.sign(np.diag(r))
    matrix = q if rows >= cols else q.T
    return matrix.reshape(shape).astype(dtype)


def truncated_normal(key, shape, dtype=np.float32):
    """A standard normal truncated to ``[-2, 2]`` (values beyond are drawn again).

    Multiply by a standard deviation for a scaled version.

    Example:
      >>> import minigrad.random as mr
      >>> w = truncated_normal(mr.key(0), (1000,))
      >>> bool(abs(w).max() <= 2.0), round(float(w.std()), 2)
      (True, 0.88)
    """
    sample = np.asarray(mr.normal(key, shape, dtype))
    for attempt in range(1, 20):
        outside = np.abs(sample) > 2.0
        if not outside.any():
            break
        redraw = np.asarray(mr.normal(mr.fold_in(key, attempt), shape, dtype))
        sample = np.where(outside, redraw, sample)
    return np.clip(sample, -2.0, 2.0).astype(dtype)


def normal(stddev: float = 1e-2):
    """An initializer drawing from a normal with mean 0 and standard deviation ``stddev``.

    Example:
      >>> import minigrad.random as mr
      >>> w = normal(0.5)(mr.key(0), (10000,))
      >>> round(float(w.std()), 2)
      0.5
    """

    def init(key, shape, dtype=np.float32):
        return _scaled_normal(key, shape, dtype, stddev)

    return init


def uniform(scale: float = 1e-2):
    """An initializer drawing uniformly from ``[0, scale)`` (as ``jax.nn.initializers.uniform``).

    Example:
      >>> import minigrad.random as mr
      >>> w = uniform(2.0)(mr.key(0), (1000,))
      >>> bool(w.min() >= 0.0 and w.max() < 2.0)
      True
    """

    def init(key, shape, dtype=np.float32):
        return mr.uniform(key, shape, dtype, minval=0.0, maxval=scale)

    return init


def ones(key, shape, dtype=np.float32):
    """Ones (the key is ignored).

    Example:
      >>> import minigrad.random as mr
      >>> ones(mr.key(0), (2,))
      array([1., 1.], dtype=float32)
    """
    return np.ones(shape, dtype)


def constant(value: float):
    """An initializer filling every element with ``value``.

    Example:
      >>> import minigrad.random as mr
      >>> constant(0.5)(mr.key(0), (2,))
      array([0.5, 0.5], dtype=float32)
    """

    def init(key, shape, dtype=np.float32):
        return np.full(shape, value, dtype)

    return init
