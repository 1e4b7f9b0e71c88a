"""Normalisation layers: ``LayerNorm`` and ``RMSNorm`` per example, ``BatchNorm`` per batch.

Batch normalisation is the one layer with state that is not a parameter: the running
mean and variance it uses at evaluation time. That state is a separate pytree, made by
``init_state()`` and threaded by hand (or by ``Sequential``):
``y, state = layer.apply(params, x, state=state, train=True)``. Its gradient never flows
into the state (the running averages are statistics, not parameters).

Example:
    >>> import numpy as np
    >>> import minigrad.random as mr
    >>> norm = LayerNorm(3)
    >>> norm.apply(norm.init(mr.key(0)), np.array([[1.0, 2.0, 3.0]])).round(3)
    array([[-1.225,  0.   ,  1.225]])
"""

from __future__ import annotations

import attrs
import numpy as np

import minigrad.numpy as mnp
from minigrad.nn.functions import layer_norm

__all__ = ["LayerNorm", "RMSNorm", "BatchNorm"]


def _check_features(layer: str, x, features: int, axis: int) -> None:
    shape = tuple(mnp.shape(x))
    if not -len(shape) <= axis < len(shape) or shape[axis] != features:
        raise ValueError(
            f"{layer}: expected {features} features on axis {axis}, got an input of shape {shape}; "
            f"make the layer for the input's size there, or reshape the input."
        )


@attrs.frozen
class LayerNorm:
    """Layer normalisation over the last axis, then a learned ``scale`` and ``bias``.

    ``(x - mean) / sqrt(var + eps) * scale + bias`` (see ``nn.layer_norm``).

    Example:
      >>> import minigrad.random as mr
      >>> sorted(LayerNorm(4).init(mr.key(0)))
      ['bias', 'scale']
    """

    dim: int
    eps: float = 1e-5

    def init(self, key) -> dict:
        return {"scale": np.ones(self.dim, np.float32), "bias": np.zeros(self.dim, np.float32)}

    def apply(self, params: dict, x):
        _check_features("LayerNorm", x, self.dim, -1)
        return layer_norm(x, params["scale"], params["bias"], eps=self.eps)


@attrs.frozen
class RMSNorm:
    """Root-mean-square normalisation (Zhang & Sennrich, 2019): ``x / sqrt(mean(x**2) + eps) * scale``.

    No centring and no bias: cheaper than ``LayerNorm`` and as good in transformers.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> norm = RMSNorm(2, eps=0.0)
      >>> norm.apply(norm.init(mr.key(0)), np.array([[3.0, 4.0]])).round(4)
      array([[0.8485, 1.1314]])
    """

    dim: int
    eps: float = 1e-6

    def init(self, key) -> dict:
        return {"scale": np.ones(self.dim, np.float32)}

    def apply(self, params: dict, x):
        _check_features("RMSNorm", x, self.dim, -1)
        mean_square = mnp.mean(mnp.square(x), axis=-1, keepdims=True)
        return x / mnp.sqrt(mean_square + self.eps) * params["scale"]


@attrs.frozen
class BatchNorm:
    """Batch normalisation (Ioffe & Szegedy, 2015) over axis 1 of ``(N, C)`` or ``(N, C, ...)``.

    In training (``train=True``) each feature is normalised with the mean and (biased)
    variance of the batch over every axis but 1, and the running statistics move towards
    them: ``running = momentum * running + (1 - momentum) * batch``. At evaluation
    (``train=False``) the running statistics are used and the state is returned unchanged.

    Args:
      features: the size of axis 1.
      momentum: how slowly the running statistics move.
      eps: added to the variance inside the square root.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> bn = BatchNorm(2)
      >>> params, state = bn.init(mr.key(0)), bn.init_state()
      >>> x = np.array([[0.0, 10.0], [2.0, 30.0]])
      >>> y, state = bn.apply(params, x, state=state, train=True)
      >>> y.round(3)
      array([[-1., -1.],
             [ 1.,  1.]])
      >>> state["mean"]
      array([0.1, 2. ], dtype=float32)
    """

    features: int
    momentum: float = 0.9
    eps: float = 1e-5

    def init(self, key) -> dict:
        return {"scale": np.ones(self.features, np.float32), "bias": np.zeros(self.features, np.float32)}

    def init_state(self) -> dict:
        """The running statistics before any batch: mean 0, variance 1."""
        return {"mean": np.zeros(self.features, np.float32), "var": np.ones(self.features, np.float32)}

    def apply(self, params: dict, x, state=None, train: bool = True):
        if state is None:
            raise ValueError(
                "BatchNorm.apply: needs its running statistics; pass state=layer.init_state() "
                "(then the state it returns) and take (y, new_state) back."
            )
        x = mnp.asarray(x)
        _check_features("BatchNorm", x, self.features, 1)
        axes = (0, *range(2, x.ndim))
        broadcast = (1, self.features) + (1,) * (x.ndim - 2)
        if train:
            mean = mnp.mean(x, axis=axes)
            var = mnp.mean(mnp.square(x - mnp.reshape(mean, broadcast)), axis=axes)
            rate = 1.0 - self.momentum
            new_state = {
                name: mnp.astype(
                    self.momentum * state[name] + rate * mnp.stop_gradient(batch),
                    mnp.asarray(state[name]).dtype,
                )
                for name, batch in (("mean", mean), ("var", var))
            }
        else:
            mean, var, new_state = state["mean"], state["var"], state
        normalised = (x - mnp.reshape(mean, broadcast)) / mnp.sqrt(mnp.reshape(var, broadcast) + self.eps)
        y = normalised * mnp.reshape(params["scale"], broadcast) + mnp.reshape(params["bias"], broadcast)
        return y, new_state
