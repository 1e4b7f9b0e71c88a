"""Neural networks as pure functions: activations, losses, convolutions and layers.

- ``functions``: activations (``relu sigmoid tanh gelu softplus silu elu leaky_relu glu
  log_sigmoid``), ``softmax log_softmax logsumexp one_hot flatten layer_norm dropout``;
- ``conv``: ``conv1d conv2d max_pool2d avg_pool2d`` (NCHW images, OIHW kernels);
- ``losses``: ``mse softmax_cross_entropy cross_entropy nll binary_cross_entropy_with_logits
  hinge huber kl_div``;
- ``initializers``: ``glorot_uniform glorot_normal he_normal he_uniform lecun_normal
  orthogonal truncated_normal normal uniform ones constant zeros``;
- ``layers``: ``Linear Conv1d Conv2d Embedding Dropout MaxPool2d AvgPool2d Flatten Sequential
  MLP``, immutable records with ``init(key) -> params`` and ``apply(params, x)``;
- ``normalization``: ``LayerNorm RMSNorm BatchNorm`` (batch statistics are a separate state);
- ``attention``: ``attention MultiHeadAttention TransformerBlock``;
- ``recurrent``: ``GRUCell LSTMCell RNN`` (a cell run over a sequence by ``lax.scan``);
- ``summary``: ``param_count summary``.

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

from minigrad.core.call_stack import count_calls_into
from minigrad.nn.attention import MultiHeadAttention, TransformerBlock, attention, causal_mask
from minigrad.nn.conv import avg_pool2d, conv1d, conv2d, max_pool2d
from minigrad.nn.functions import (
    dropout,
    elu,
    flatten,
    gelu,
    glu,
    layer_norm,
    leaky_relu,
    log_sigmoid,
    log_softmax,
    logsumexp,
    one_hot,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from minigrad.nn.initializers import (
    constant,
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    lecun_normal,
    normal,
    ones,
    orthogonal,
    truncated_normal,
    uniform,
    zeros,
)
from minigrad.nn.layers import (
    MLP,
    AvgPool2d,
    Conv1d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    Linear,
    MaxPool2d,
    Sequential,
    apply_layer,
    is_stateful,
)
from minigrad.nn.losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    huber,
    kl_div,
    mse,
    nll,
    softmax_cross_entropy,
)
from minigrad.nn.normalization import BatchNorm, LayerNorm, RMSNorm
from minigrad.nn.recurrent import RNN, GRUCell, LSTMCell
from minigrad.nn.summary import param_count, summary

# In a picture of a staged model, each layer and each function of this package that a
# model calls is a box of its own (``apply_layer`` only passes a call on).
count_calls_into(__name__, plumbing=(apply_layer,))

__all__ = [
    # layers
    "MLP", "AvgPool2d", "BatchNorm", "Conv1d", "Conv2d", "Dropout", "Embedding", "Flatten", "GRUCell",
    "LSTMCell", "LayerNorm", "Linear", "MaxPool2d", "MultiHeadAttention", "RMSNorm", "RNN", "Sequential",
    "TransformerBlock", "apply_layer", "is_stateful", "param_count", "summary",
    # functions
    "attention", "avg_pool2d", "causal_mask", "conv1d", "conv2d", "dropout", "elu", "flatten", "gelu", "glu",
    "layer_norm", "leaky_relu", "log_sigmoid", "log_softmax", "logsumexp", "max_pool2d", "one_hot", "relu",
    "sigmoid", "silu", "softmax", "softplus", "tanh",
    # losses
    "binary_cross_entropy_with_logits", "cross_entropy", "hinge", "huber", "kl_div", "mse", "nll",
    "softmax_cross_entropy",
    # initializers
    "constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "normal", "ones",
    "orthogonal", "truncated_normal", "uniform", "zeros",
]  # fmt: skip
