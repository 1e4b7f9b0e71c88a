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

import inspect
from collections.abc import Callable

import attrs

import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad.core.call_stack import label_calls_of
from minigrad.nn.conv import avg_pool2d, conv1d, conv2d, max_pool2d
from minigrad.nn.functions import dropout, flatten, relu
from minigrad.nn.initializers import glorot_uniform, normal, zeros

__all__ = [
    "Linear", "Conv2d", "Sequential", "MLP", "Embedding", "Dropout", "Conv1d", "MaxPool2d", "AvgPool2d", "Flatten",
]  # fmt: skip


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


@attrs.frozen
class Conv1d:
    """A 1-D convolution layer over ``(N, C, L)`` sequences (see ``minigrad.nn.conv1d``).

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> layer = Conv1d(2, 4, 3, padding=1)
      >>> layer.apply(layer.init(mr.key(0)), np.ones((5, 2, 10))).shape
      (5, 4, 10)
    """

    in_channels: int = attrs.field(validator=_non_negative)
    out_channels: int = attrs.field(validator=_non_negative)
    kernel_size: int = attrs.field(validator=_non_negative)
    stride: int = 1
    padding: int = 0
    w_init: Callable = glorot_uniform
    b_init: Callable = zeros

    def init(self, key) -> dict:
        w_key, b_key = mr.split(key)
        return {
            "w": self.w_init(w_key, (self.out_channels, self.in_channels, self.kernel_size)),
            "b": self.b_init(b_key, (self.out_channels,)),
        }

    def apply(self, params: dict, x):
        return conv1d(x, params["w"], params["b"], stride=self.stride, padding=self.padding)


@attrs.frozen
class Embedding:
    """A table of ``num`` vectors of size ``dim``; ``apply(params, ids)`` looks rows up.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> embed = Embedding(27, 8)
      >>> params = embed.init(mr.key(0))
      >>> embed.apply(params, np.array([[1, 2, 3]])).shape
      (1, 3, 8)
    """

    num: int = attrs.field(validator=_non_negative)
    dim: int = attrs.field(validator=_non_negative)
    embedding_init: Callable = normal(1.0)

    def init(self, key) -> dict:
        return {"table": self.embedding_init(key, (self.num, self.dim))}

    def apply(self, params: dict, ids):
        ids = mnp.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise TypeError(
                f"Embedding: ids must be integers in [0, {self.num}), got dtype {ids.dtype} "
                f"(shape {tuple(ids.shape)}); convert them with ids.astype(int)."
            )
        return params["table"][ids]


@attrs.frozen
class Dropout:
    """Dropout as a layer: ``apply(params, x, key=..., train=True)``; identity when ``train=False``.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> layer = Dropout(0.5)
      >>> layer.apply({}, np.ones(4), train=False)
      array([1., 1., 1., 1.])
      >>> sorted(set(layer.apply({}, np.ones(100), key=mr.key(0)).tolist()))
      [0.0, 2.0]
    """

    rate: float

    def init(self, key) -> dict:
        return {}

    def apply(self, params: dict, x, key=None, train: bool = True):
        if not train:
            return mnp.asarray(x)
        if key is None and self.rate > 0:
            raise ValueError(
                f"Dropout({self.rate}).apply: training needs a random key; pass key=... (a fresh "
                "one each step) or train=False to evaluate."
            )
        return dropout(x, self.rate, key)


@attrs.frozen
class MaxPool2d:
    """``max_pool2d`` as a layer (no parameters).

    Example:
      >>> import numpy as np
      >>> MaxPool2d(2).apply({}, np.ones((1, 3, 4, 4))).shape
      (1, 3, 2, 2)
    """

    size: int | tuple[int, int]
    stride: int | tuple[int, int] | None = None

    def init(self, key) -> dict:
        return {}

    def apply(self, params: dict, x):
        return max_pool2d(x, self.size, self.stride)


@attrs.frozen
class AvgPool2d:
    """``avg_pool2d`` as a layer (no parameters).

    Example:
      >>> import numpy as np
      >>> AvgPool2d(2, stride=1).apply({}, np.ones((1, 3, 4, 4))).shape
      (1, 3, 3, 3)
    """

    size: int | tuple[int, int]
    stride: int | tuple[int, int] | None = None

    def init(self, key) -> dict:
        return {}

    def apply(self, params: dict, x):
        return avg_pool2d(x, self.size, self.stride)


@attrs.frozen
class Flatten:
    """``flatten`` as a layer: ``(N, ...) -> (N, -1)``.

    Example:
      >>> import numpy as np
      >>> Flatten().apply({}, np.ones((2, 3, 4))).shape
      (2, 12)
    """

    def init(self, key) -> dict:
        return {}

    def apply(self, params: dict, x):
        return flatten(x)


def _is_layer(layer) -> bool:
    return hasattr(layer, "init") and hasattr(layer, "apply")


def _accepts(layer, name: str) -> bool:
    """Whether ``layer.apply`` takes a keyword ``name`` (``key``, ``train``)."""
    try:
        return name in inspect.signature(layer.apply).parameters
    except (TypeError, ValueError):
        return False


def is_stateful(layer) -> bool:
    """Whether ``layer`` keeps state besides its parameters (``BatchNorm``, or a model holding one).

    Example:
      >>> from minigrad.nn import BatchNorm, Linear, Sequential
      >>> is_stateful(BatchNorm(3)), is_stateful(Sequential(Linear(2, 3)))
      (True, False)
    """
    return bool(getattr(layer, "stateful", _is_layer(layer) and hasattr(layer, "init_state")))


def apply_layer(layer, params, x, key=None, state=None, train: bool = True):
    """Apply a layer or function, passing ``key``, ``train`` and ``state`` only if it takes them.

    Returns ``(y, new_state)``; the state of a layer without one is ``{}``.

    Example:
      >>> import numpy as np
      >>> from minigrad.nn import Dropout, relu
      >>> apply_layer(Dropout(0.5), {}, np.ones(2), train=False)
      (array([1., 1.]), {})
      >>> apply_layer(relu, {}, np.array([-1.0]))
      (array([0.]), {})
    """
    if not _is_layer(layer):
        return layer(x), {}
    options = {name: value for name, value in (("key", key), ("train", train)) if _accepts(layer, name)}
    if is_stateful(layer):
        return layer.apply(params, x, state=state, **options)
    return layer.apply(params, x, **options), {}


@attrs.frozen(init=False)
class Sequential:
    """Layers applied in order. Plain functions (``relu``, ``flatten``, ...) may be layers.

    Its parameters are a list with one entry per layer (an empty dict for a function).
    ``apply(params, x, key=None, state=None, train=True)`` hands each layer what it takes:
    a key of its own (``fold_in(key, index)``) to layers with randomness (``Dropout``),
    ``train`` to those that behave differently in training, and its part of ``state``
    (from ``init_state()``) to layers with state (``BatchNorm``); when ``state`` is given
    it returns ``(y, new_state)``.

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
      >>> from minigrad.nn import BatchNorm, Dropout
      >>> net = Sequential(Linear(2, 4), BatchNorm(4), Dropout(0.5), Linear(4, 1))
      >>> params, state = net.init(mr.key(0)), net.init_state()
      >>> y, state = net.apply(params, np.ones((3, 2)), key=mr.key(1), state=state)
      >>> y, _ = net.apply(params, np.ones((3, 2)), state=state, train=False)
      >>> y.shape
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

    @property
    def stateful(self) -> bool:
        """Whether some layer keeps state (then ``apply`` needs ``state=``)."""
        return any(is_stateful(layer) for layer in self.layers)

    def init_state(self) -> list:
        """The state of each layer (an empty dict for a layer without state)."""
        return [layer.init_state() if is_stateful(layer) else {} for layer in self.layers]

    def apply(self, params: list, x, key=None, state=None, train: bool = True):
        if len(params) != len(self.layers):
            raise ValueError(
                f"Sequential.apply: got parameters for {len(params)} layers, but the model has "
                f"{len(self.layers)}; make them with this model's init."
            )
        if state is None and self.stateful:
            raise ValueError(
                "Sequential.apply: the model has layers with state (BatchNorm); pass "
                "state=model.init_state() (then the state it returns) and take (y, new_state) back."
            )
        states = [{}] * len(self.layers) if state is None else state
        if len(states) != len(self.layers):
            raise ValueError(
                f"Sequential.apply: got a state for {len(states)} layers, but the model has "
                f"{len(self.layers)}; make it with this model's init_state."
            )
        new_states = []
        for index, (layer, layer_params, layer_state) in enumerate(
            zip(self.layers, params, states, strict=True)
        ):
            layer_key = None if key is None else mr.fold_in(key, index)
            x, layer_state = apply_layer(layer, layer_params, x, layer_key, layer_state, train)
            new_states.append(layer_state)
        return x if state is None else (x, new_states)


def _layer_of_sequential(frame) -> str:
    """A picture's name for a call inside ``Sequential.apply``: the layer's position."""
    # Read from the running frame (only while staging, once per equation made inside).
    index = frame.f_locals.get("index")
    return "Sequential" if index is None else f"Sequential[{index}]"


label_calls_of(Sequential.apply, _layer_of_sequential)


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
