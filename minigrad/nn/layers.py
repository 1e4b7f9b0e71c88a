"""Layers: immutable records of hyper-parameters; the parameters live outside them.

A layer says *how* to compute; ``layer.init(key)`` makes its parameters (plain dicts and
lists of arrays, i.e. pytrees) and ``layer.apply(params, x)`` computes with them. Nothing
is stored on the layer, so the same record serves ``grad`` (differentiate ``apply`` with
respect to ``params``), optimizers (update the pytree) and ``minigrad.io`` (save it).

Example:
    >>> import numpy as np
    >>> import minigrad.random as mr
    >>> mlp = MLP([2, 3, 1])
    >>> params = mlp.init(mr.key(0))
    >>> [sorted(p) for p in params]
    [['b', 'w'], ['b', 'w']]
    >>> mlp.apply(params, np.ones((5, 2))).shape
    (5, 1)
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad.nn.conv import conv2d
from minigrad.nn.functions import relu
from minigrad.nn.initializers import glorot_uniform, zeros

__all__ = ["Linear", "Conv2d", "Sequential", "MLP"]


def _check_sizes(owner: str, name: str, sizes) -> None:
    """Refuse negative sizes when the layer is made, not later inside an initializer."""
    for size in sizes if isinstance(sizes, tuple) else (sizes,):
        if size < 0:
            raise ValueError(f"{owner}: {name} must be >= 0, got {sizes}.")


def _non_negative(layer, attribute, value) -> None:
    _check_sizes(type(layer).__name__, attribute.name, value)


@attrs.frozen
class Linear:
    """A dense layer ``x @ w + b``, with ``w`` of shape ``(in_features, out_features)``.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> layer = Linear(3, 2)
      >>> params = layer.init(mr.key(0))
      >>> params["w"].shape, params["b"].shape
      ((3, 2), (2,))
      >>> layer.apply(params, np.ones((4, 3))).shape
      (4, 2)
    """

    in_features: int = attrs.field(validator=_non_negative)
    out_features: int = attrs.field(validator=_non_negative)
    w_init: Callable = glorot_uniform
    b_init: Callable = zeros

    def init(self, key) -> dict:
        w_key, b_key = mr.split(key)
        return {
            "w": self.w_init(w_key, (self.in_features, self.out_features)),
            "b": self.b_init(b_key, (self.out_features,)),
        }

    def apply(self, params: dict, x):
        return mnp.matmul(x, params["w"]) + params["b"]


@attrs.frozen
class Conv2d:
    """A 2-D convolution layer over NCHW images (see ``minigrad.nn.conv2d``).

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> layer = Conv2d(1, 4, 3, padding=1)
      >>> params = layer.init(mr.key(0))
      >>> params["w"].shape
      (4, 1, 3, 3)
      >>> layer.apply(params, np.ones((2, 1, 8, 8))).shape
      (2, 4, 8, 8)
    """

    in_channels: int = attrs.field(validator=_non_negative)
    out_channels: int = attrs.field(validator=_non_negative)
    kernel_size: int | tuple[int, int] = attrs.field(validator=_non_negative)
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, int] = 0
    w_init: Callable = glorot_uniform
    b_init: Callable = zeros

    def init(self, key) -> dict:
        kh, kw = (self.kernel_size,) * 2 if isinstance(self.kernel_size, int) else self.kernel_size
        w_key, b_key = mr.split(key)
        return {
            "w": self.w_init(w_key, (self.out_channels, self.in_channels, kh, kw)),
            "b": self.b_init(b_key, (self.out_channels,)),
        }

    def apply(self, params: dict, x):
        return conv2d(x, params["w"], params["b"], stride=self.stride, padding=self.padding)


def _is_layer(layer) -> bool:
    return hasattr(layer, "init") and hasattr(layer, "apply")


@attrs.frozen(init=False)
class Sequential:
    """Layers applied in order. Plain functions (``relu``, ``flatten``, ...) may be layers.

    Its parameters are a list with one entry per layer (an empty dict for a function).

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> from minigrad.nn import relu
      >>> model = Sequential(Linear(2, 4), relu, Linear(4, 1))
      >>> params = model.init(mr.key(0))
      >>> [sorted(p) for p in params]
      [['b', 'w'], [], ['b', 'w']]
      >>> model.apply(params, np.ones((3, 2))).shape
      (3, 1)
    """

    layers: tuple

    def __init__(self, *layers):
        for layer in layers:
            if not (_is_layer(layer) or callable(layer)):
                raise TypeError(
                    f"Sequential: {layer!r} is neither a layer (with init and apply) nor a function."
                )
        self.__attrs_init__(tuple(layers))

    def init(self, key) -> list:
        keys = mr.split(key, max(len(self.layers), 1))
        return [layer.init(k) if _is_layer(layer) else {} for layer, k in zip(self.layers, keys)]

    def apply(self, params: list, x):
        if len(params) != len(self.layers):
            raise ValueError(
                f"Sequential.apply: got parameters for {len(params)} layers, but the model has "
                f"{len(self.layers)}; make them with this model's init."
            )
        for layer, layer_params in zip(self.layers, params, strict=True):
            x = layer.apply(layer_params, x) if _is_layer(layer) else layer(x)
        return x


@attrs.frozen
class MLP:
    """A multi-layer perceptron: ``Linear`` layers of ``sizes``, ``activation`` between them.

    The last layer is linear (no activation), as a model's output usually is.
    Its parameters are a list of ``{"w", "b"}`` dicts, one per ``Linear`` layer.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> from minigrad.nn import tanh
      >>> model = MLP([3, 4, 4, 1], activation=tanh)
      >>> params = model.init(mr.key(0))
      >>> [p["w"].shape for p in params]
      [(3, 4), (4, 4), (4, 1)]
    """

    sizes: tuple = attrs.field(converter=tuple)
    activation: Callable = relu
    w_init: Callable = glorot_uniform
    b_init: Callable = zeros

    @sizes.validator
    def _check_sizes(self, attribute, sizes):
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {sizes}.")
        _check_sizes("MLP", "sizes", sizes)

    @property
    def layers(self) -> tuple[Linear, ...]:
        return tuple(
            Linear(n_in, n_out, self.w_init, self.b_init)
            for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])
        )

    def init(self, key) -> list:
        layers = self.layers
        return [layer.init(k) for layer, k in zip(layers, mr.split(key, len(layers)))]

    def apply(self, params: list, x):
        layers = self.layers
        if len(params) != len(layers):
            raise ValueError(
                f"MLP.apply: got parameters for {len(params)} layers, but sizes {self.sizes} "
                f"make {len(layers)}; make them with this model's init."
            )
        for i, (layer, layer_params) in enumerate(zip(layers, params, strict=True)):
            x = layer.apply(layer_params, x)
            if i < len(layers) - 1:
                x = self.activation(x)
        return x
