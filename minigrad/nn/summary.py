"""What a model is made of: ``param_count(params)`` and ``summary(model, x)``.

``summary`` runs the model once on an example input (in evaluation mode) and tabulates
each layer of a ``Sequential`` with its output shape and number of parameters.

Example:
    >>> import numpy as np
    >>> from minigrad.nn import MLP
    >>> import minigrad.random as mr
    >>> param_count(MLP([2, 3, 1]).init(mr.key(0)))
    13
"""

from __future__ import annotations

import functools

import attrs
import numpy as np

import minigrad.random as mr
from minigrad.nn.layers import Sequential, apply_layer, is_stateful
from minigrad.tree import tree_leaves

__all__ = ["param_count", "summary"]


def param_count(params) -> int:
    """The number of scalars in a pytree of parameters.

    Example:
      >>> import numpy as np
      >>> param_count({"w": np.zeros((3, 4)), "b": np.zeros(4)})
      16
    """
    return int(sum(np.size(leaf) for leaf in tree_leaves(params)))


def _describe(layer) -> str:
    """A short name: the class and its number-like fields, or the function's name."""
    if isinstance(layer, functools.partial):
        arguments = ", ".join(f"{k}={v!r}" for k, v in layer.keywords.items())
        return f"{_describe(layer.func)}({arguments})"
    if attrs.has(type(layer)):
        values = [
            repr(getattr(layer, field.name))
            for field in attrs.fields(type(layer))
            if isinstance(getattr(layer, field.name), (int, float, bool, tuple, str))
        ]
        return f"{type(layer).__name__}({', '.join(values)})"
    return getattr(layer, "__name__", type(layer).__name__)


def _shapes(tree) -> str:
    shapes = [tuple(np.shape(leaf)) for leaf in tree_leaves(tree)]
    return str(shapes[0]) if len(shapes) == 1 else str(shapes)


def summary(model, x, params=None) -> str:
    """A table of the layers of ``model`` with their output shapes and parameter counts.

    Args:
      model: a layer, or a ``Sequential`` (one row per layer).
      x: an example input (a small batch is enough).
      params: the parameters; by default ``model.init(key(0))``.

    Example:
      >>> import numpy as np
      >>> from minigrad import nn
      >>> print(nn.summary(nn.Sequential(nn.Linear(4, 8), nn.relu, nn.Linear(8, 2)), np.ones((5, 4))))
      layer         output shape  parameters
      Linear(4, 8)  (5, 8)                40
      relu          (5, 8)                 0
      Linear(8, 2)  (5, 2)                18
      total                               58
    """
    params = model.init(mr.key(0)) if params is None else params
    layers, layer_params = (model.layers, params) if isinstance(model, Sequential) else ((model,), (params,))
    rows = [("layer", "output shape", "parameters")]
    for layer, own in zip(layers, layer_params, strict=True):
        state = layer.init_state() if is_stateful(layer) else None
        x, _ = apply_layer(layer, own, x, state=state, train=False)
        rows.append((_describe(layer), _shapes(x), str(param_count(own))))
    rows.append(("total", "", str(param_count(params))))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"{name:<{widths[0]}}  {shape:<{widths[1]}}  {count:>{widths[2]}}" for name, shape, count in rows
    ]
    return "\n".join(line.rstrip() for line in lines)
