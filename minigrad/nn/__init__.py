"""Neural networks as pure functions: activations, losses, convolutions and layers.

- ``functions``: ``relu sigmoid tanh gelu softplus softmax log_softmax one_hot flatten``;
- ``conv``: ``conv2d max_pool2d avg_pool2d`` (NCHW images, OIHW kernels);
- ``losses``: ``mse softmax_cross_entropy binary_cross_entropy_with_logits hinge``;
- ``initializers``: ``glorot_uniform he_normal zeros``;
- ``layers``: ``Linear Conv2d Sequential MLP``, immutable records with
  ``init(key) -> params`` and ``apply(params, x)``.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> import minigrad.nn as nn
    >>> import minigrad.random as mr
    >>> model = nn.MLP([2, 8, 2])
    >>> params = model.init(mr.key(0))
    >>> x, y = np.ones((4, 2), np.float32), np.array([0, 1, 1, 0])
    >>> def loss(params):
    ...     return nn.softmax_cross_entropy(model.apply(params, x), y)
    >>> grads = mg.grad(loss)(params)
    >>> grads[0]["w"].shape
    (2, 8)
"""

from minigrad.nn.conv import avg_pool2d, conv2d, max_pool2d
from minigrad.nn.functions import flatten, gelu, log_softmax, one_hot, relu, sigmoid, softmax, softplus, tanh
from minigrad.nn.initializers import glorot_uniform, he_normal, zeros
from minigrad.nn.layers import MLP, Conv2d, Linear, Sequential
from minigrad.nn.losses import binary_cross_entropy_with_logits, hinge, mse, softmax_cross_entropy

__all__ = [
    "MLP", "Conv2d", "Linear", "Sequential", "avg_pool2d", "binary_cross_entropy_with_logits",
    "conv2d", "flatten", "gelu", "glorot_uniform", "he_normal", "hinge", "log_softmax",
    "max_pool2d", "mse", "one_hot", "relu", "sigmoid", "softmax", "softmax_cross_entropy",
    "softplus", "tanh", "zeros",
]  # fmt: skip
