"""Activation functions, softmax, normalisation and dropout, written with ``minigrad.numpy``.

Each is an ordinary traceable function, so ``grad``, ``jvp`` and the other transforms
see through it. They are written to be stable where the textbook formula is not:
``softplus``, ``log_sigmoid`` and ``log_softmax`` never overflow, ``sigmoid`` is the
logistic primitive, ``elu`` never evaluates ``exp`` of a large positive number (whose
infinite gradient would poison the unused branch of a ``where``), and ``layer_norm``
keeps ``eps`` inside the square root.

Example:
    >>> import numpy as np
    >>> relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
"""

from __future__ import annotations

import math

import numpy as np

import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad.ops.elementwise import logistic

try:  # SciPy is optional: only the exact gelu needs it (through minigrad.scipy.special)
    from minigrad.scipy.special import erfc as _erfc
except ImportError as error:
    _erfc, _SCIPY_MISSING = None, error

__all__ = [
    "relu", "sigmoid", "tanh", "gelu", "softplus", "softmax", "log_softmax", "one_hot", "flatten",
    "silu", "elu", "leaky_relu", "glu", "log_sigmoid", "logsumexp", "layer_norm", "dropout",
]  # fmt: skip


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
    # x * x * x, not x**3: NumPy's float power is several times slower than two products.
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * (x * x * x))
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


def silu(x):
    """The sigmoid linear unit (swish) ``x * sigmoid(x)``.

    Example:
      >>> round(float(silu(1.0)), 4)
      0.7311
    """
    x = _inexact(x)
    return mnp.multiply(x, logistic(x))


def elu(x, alpha: float = 1.0):
    """The exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Example:
      >>> elu(np.array([-1000.0, 0.0, 2.0]))
      array([-1.,  0.,  2.])
    """
    x = _inexact(x)
    # expm1 of min(x, 0): the branch that is not taken never overflows to inf.
    return mnp.where(x > 0, x, alpha * mnp.expm1(mnp.minimum(x, 0.0)))


def leaky_relu(x, negative_slope: float = 0.01):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise.

    Example:
      >>> leaky_relu(np.array([-2.0, 3.0]), 0.5)
      array([-1.,  3.])
    """
    x = _inexact(x)
    return mnp.where(x >= 0, x, negative_slope * x)


def glu(x, axis: int = -1):
    """The gated linear unit: ``x`` split in halves ``a, b`` along ``axis``; ``a * sigmoid(b)``.

    Example:
      >>> glu(np.array([2.0, 0.0]))
      array([1.])
    """
    x = _inexact(x)
    size = x.shape[axis]
    if size % 2:
        raise ValueError(
            f"glu: axis {axis} of the input of shape {tuple(x.shape)} has odd length {size}; "
            "it must split into two equal halves (a value half and a gate half)."
        )
    value, gate = mnp.split(x, 2, axis=axis)
    return mnp.multiply(value, logistic(gate))


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, finite for every finite ``x``.

    Example:
      >>> [round(float(v), 4) for v in log_sigmoid(np.array([-1000.0, 0.0]))]
      [-1000.0, -0.6931]
    """
    return -softplus(-_inexact(x))


def logsumexp(x, axis=None, keepdims: bool = False):
    """``log(sum(exp(x)))`` along ``axis``, shifted by the maximum so it cannot overflow.

    Example:
      >>> round(float(logsumexp(np.array([1000.0, 1000.0]))) - 1000.0, 6)
      0.693147
    """
    return mnp.logsumexp(_inexact(x), axis=axis, keepdims=keepdims)


def layer_norm(x, scale=None, bias=None, axis=-1, eps: float = 1e-5):
    """Normalise ``x`` to mean 0 and variance 1 along ``axis``, then ``* scale + bias``.

    ``(x - mean) / sqrt(var + eps)``, the variance biased (divided by n), as in the
    layer-normalisation paper (Ba et al., 2016).

    Example:
      >>> layer_norm(np.array([[1.0, 3.0]]), eps=0.0)
      array([[-1.,  1.]])
    """
    x = _inexact(x)
    mean = mnp.mean(x, axis=axis, keepdims=True)
    centred = x - mean
    variance = mnp.mean(mnp.square(centred), axis=axis, keepdims=True)
    out = centred / mnp.sqrt(variance + eps)
    if scale is not None:
        out = out * scale
    if bias is not None:
        out = out + bias
    return out


def dropout(x, rate: float, key):
    """Zero each element with probability ``rate``, scale the others by ``1 / (1 - rate)``.

    The expected value of each element is unchanged ("inverted dropout"), so nothing needs
    rescaling at evaluation time, when dropout is simply not applied.

    Args:
      x: an array.
      rate: the probability of dropping an element, in ``[0, 1)``.
      key: a ``minigrad.random`` key; the same key drops the same elements.

    Example:
      >>> import minigrad.random as mr
      >>> y = dropout(np.ones(10000), 0.25, mr.key(0))
      >>> sorted(set(y.tolist())) == [0.0, 4 / 3], round(float(y.mean()), 1)
      (True, 1.0)
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}.")
    x = _inexact(x)
    if rate == 0.0:
        return x
    if key is None:
        raise ValueError(
            f"dropout: a rate of {rate} needs a random key; pass key=minigrad.random.key(...) "
            "(a fresh one each step), or skip dropout when evaluating (train=False)."
        )
    keep = mr.bernoulli(key, 1.0 - rate, tuple(x.shape))
    return mnp.where(keep, x / (1.0 - rate), 0.0)
