"""Activation functions, softmax and one-hot encoding, written with ``minigrad.numpy``.

Each is an ordinary traceable function, so ``grad``, ``jvp`` and the other transforms
see through it. They are written to be stable where the textbook formula is not:
``softplus`` and ``log_softmax`` never overflow, ``sigmoid`` is the logistic primitive.

Example:
    >>> import numpy as np
    >>> relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
"""

from __future__ import annotations

import math

import numpy as np

import minigrad.numpy as mnp
from minigrad.ops.elementwise import logistic

try:  # SciPy is optional: only the exact gelu needs it (through minigrad.scipy.special)
    from minigrad.scipy.special import erfc as _erfc
except ImportError as error:
    _erfc, _SCIPY_MISSING = None, error

__all__ = ["relu", "sigmoid", "tanh", "gelu", "softplus", "softmax", "log_softmax", "one_hot", "flatten"]


def _inexact(x):
    x = mnp.asarray(x)
    return x if x.dtype.kind in "fc" else x.astype(np.float64)


def relu(x):
    """``max(x, 0)``, with derivative 0 at 0.

    Example:
      >>> import minigrad as mg
      >>> float(mg.grad(relu)(0.0))
      0.0
    """
    x = _inexact(x)
    return mnp.where(x > 0, x, 0.0)


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, computed without overflow.

    Example:
      >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
      array([0. , 0.5, 1. ])
    """
    return logistic(_inexact(x))


def tanh(x):
    """The hyperbolic tangent.

    Example:
      >>> tanh(np.array(0.0))
      array(0.)
    """
    return mnp.tanh(_inexact(x))


def gelu(x, approximate: bool = True):
    """The Gaussian error linear unit ``x Φ(x)``, in its tanh form by default (as ``jax.nn.gelu``).

    ``approximate=True``: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``.
    ``approximate=False``: the exact ``0.5 x (1 + erf(x / sqrt(2)))`` through
    ``minigrad.scipy.special`` (needs SciPy), written ``0.5 x erfc(-x / sqrt(2))`` so that
    it keeps its tiny values for very negative ``x`` instead of cancelling to 0.

    Example:
      >>> round(float(gelu(1.0)), 4)
      0.8412
      >>> round(float(gelu(1.0, approximate=False)), 12)
      0.841344746069
    """
    x = _inexact(x)
    if not approximate:
        if _erfc is None:
            raise ImportError(f"nn.gelu(approximate=False) computes erf with SciPy. {_SCIPY_MISSING}")
        return mnp.multiply(0.5 * x, _erfc(x * -math.sqrt(0.5)))
    # A Python float, so the constant is weak: np.sqrt would give a strong np.float64
    # that turns float32 activations into float64.
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
    return mnp.multiply(0.5 * x, 1.0 + mnp.tanh(inner))


def softplus(x):
    """``log(1 + exp(x))``, stable for large ``|x|``: ``max(x, 0) + log1p(exp(-|x|))``.

    Example:
      >>> softplus(np.array([-1000.0, 1000.0]))
      array([   0., 1000.])
    """
    x = _inexact(x)
    return mnp.add(mnp.maximum(x, 0.0), mnp.log1p(mnp.exp(-mnp.abs(x))))


def log_softmax(x, axis=-1):
    """``x - logsumexp(x)`` along ``axis``: log-probabilities from logits, stably.

    Example:
      >>> np.exp(log_softmax(np.array([1000.0, 1000.0])))
      array([0.5, 0.5])
    """
    x = _inexact(x)
    shifted = x - mnp.stop_gradient(mnp.max(x, axis=axis, keepdims=True))
    return mnp.subtract(shifted, mnp.log(mnp.sum(mnp.exp(shifted), axis=axis, keepdims=True)))


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the maximum so it cannot overflow.

    Example:
      >>> softmax(np.array([0.0, np.log(3.0)]))
      array([0.25, 0.75])
    """
    x = _inexact(x)
    shifted = x - mnp.stop_gradient(mnp.max(x, axis=axis, keepdims=True))
    exps = mnp.exp(shifted)
    return mnp.divide(exps, mnp.sum(exps, axis=axis, keepdims=True))


def one_hot(labels, num_classes: int, dtype=np.float32):
    """Integer labels as one-hot vectors along a new last axis.

    Labels outside ``[0, num_classes)`` (negative ones too) give all-zero rows, as in
    JAX; ``nn.softmax_cross_entropy`` refuses such labels instead.

    Example:
      >>> one_hot(np.array([0, 2]), 3)
      array([[1., 0., 0.],
             [0., 0., 1.]], dtype=float32)
      >>> one_hot(np.array([-1, 3]), 3)
      array([[0., 0., 0.],
             [0., 0., 0.]], dtype=float32)
    """
    labels = mnp.asarray(labels)
    if labels.dtype.kind not in "iub":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}.")
    classes = np.arange(int(num_classes), dtype=labels.dtype)
    return mnp.equal(labels[..., None], classes).astype(dtype)


def flatten(x):
    """Flatten every axis but the first (the batch axis): ``(N, ...) -> (N, -1)``.

    Example:
      >>> flatten(np.zeros((2, 3, 4))).shape
      (2, 12)
    """
    x = mnp.asarray(x)
    return mnp.reshape(x, (x.shape[0], -1))
