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

__all__ = ["glorot_uniform", "he_normal", "zeros", "fans"]


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
