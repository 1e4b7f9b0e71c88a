"""Attention: scaled dot-product ``attention``, ``MultiHeadAttention`` and ``TransformerBlock``.

Each query position takes a weighted mean of the value vectors, weighted by the softmax
of its dot products with the keys (Vaswani et al., 2017). Masked positions get the most
negative finite score of the dtype rather than ``-inf``: their weight underflows to
exactly 0, and a row with every position masked gets uniform weights instead of the
``0 / 0 = nan`` that ``-inf`` gives, so neither values nor gradients are ever ``nan``.

Example:
    >>> import numpy as np
    >>> import minigrad.random as mr
    >>> mha = MultiHeadAttention(8, 2, causal=True)
    >>> params = mha.init(mr.key(0))
    >>> mha.apply(params, np.ones((3, 5, 8), np.float32)).shape
    (3, 5, 8)
"""

from __future__ import annotations

import math

import attrs
import numpy as np

import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad.nn.functions import dropout, gelu, softmax
from minigrad.nn.layers import Linear
from minigrad.nn.normalization import LayerNorm

__all__ = ["attention", "causal_mask", "MultiHeadAttention", "TransformerBlock"]


def causal_mask(length: int):
    """``(length, length)`` booleans, true where a query may see a key: at or before it.

    Example:
      >>> causal_mask(3).astype(int)
      array([[1, 0, 0],
             [1, 1, 0],
             [1, 1, 1]])
    """
    return np.tril(np.ones((length, length), bool))


def attention(q, k, v, mask=None):
    """Scaled dot-product attention ``softmax(q k^T / sqrt(d) + masking) v``.

    Args:
      q: queries of shape ``(..., Tq, d)``.
      k: keys of shape ``(..., Tk, d)``.
      v: values of shape ``(..., Tk, dv)``.
      mask: optional booleans broadcastable to ``(..., Tq, Tk)``; true where a query
        may attend to a key.

    Returns:
      An array of shape ``(..., Tq, dv)``.

    Example:
      >>> q = k = np.eye(2)
      >>> v = np.array([[1.0], [3.0]])
      >>> attention(q, k, v, mask=causal_mask(2)).round(3)
      array([[1.   ],
             [2.339]])
    """
    q, k, v = mnp.asarray(q), mnp.asarray(k), mnp.asarray(v)
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"attention: queries {tuple(q.shape)}, keys {tuple(k.shape)} and values {tuple(v.shape)} "
            "do not fit: queries and keys need the same last axis (d), keys and values the same "
            "second-to-last axis (the number of keys)."
        )
    scores = mnp.matmul(q, mnp.swapaxes(k, -1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    if mask is not None:
        scores = mnp.where(mask, scores, float(np.finfo(scores.dtype).min))
    return mnp.matmul(softmax(scores, axis=-1), v)


@attrs.frozen
class MultiHeadAttention:
    """Multi-head self-attention (or attention to a ``context``) over ``(..., T, dim)``.

    Queries, keys and values are linear maps of the input split into ``heads`` heads of
    size ``dim // heads``; the heads' outputs are joined and mapped by a last linear layer.

    Args:
      dim: the model width (divisible by ``heads``).
      heads: the number of heads.
      causal: each position sees only itself and earlier positions (for language models).

    ``apply(params, x, context=None, key_padding_mask=None)``: ``context`` (default ``x``)
    gives the keys and values; ``key_padding_mask`` of shape ``(..., Tk)`` is true for
    real keys and false for padding, which no query attends to.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> mha = MultiHeadAttention(4, 2)
      >>> params = mha.init(mr.key(0))
      >>> sorted(params)
      ['k', 'o', 'q', 'v']
      >>> x = np.ones((1, 3, 4), np.float32)
      >>> mha.apply(params, x, key_padding_mask=np.array([[True, True, False]])).shape
      (1, 3, 4)
    """

    dim: int
    heads: int
    causal: bool = False

    def __attrs_post_init__(self):
        if self.heads < 1 or self.dim % self.heads:
            raise ValueError(
                f"MultiHeadAttention: dim {self.dim} must be a positive multiple of heads "
                f"{self.heads}; each head gets dim // heads features."
            )

    def init(self, key) -> dict:
        keys = mr.split(key, 4)
        return {name: Linear(self.dim, self.dim).init(k) for name, k in zip("qkvo", keys, strict=True)}

    def _split_heads(self, x):
        # (..., T, dim) -> (..., heads, T, dim // heads)
        x = mnp.reshape(x, (*x.shape[:-1], self.heads, self.dim // self.heads))
        return mnp.swapaxes(x, -2, -3)

    def apply(self, params: dict, x, context=None, key_padding_mask=None):
        x = mnp.asarray(x)
        context = x if context is None else mnp.asarray(context)
        if x.ndim < 2 or x.shape[-1] != self.dim or context.shape[-1] != self.dim:
            raise ValueError(
                f"MultiHeadAttention({self.dim}, {self.heads}): expected inputs of shape (..., T, "
                f"{self.dim}), got {tuple(x.shape)} (and context {tuple(context.shape)})."
            )
        linear = Linear(self.dim, self.dim)
        q = self._split_heads(linear.apply(params["q"], x))
        k = self._split_heads(linear.apply(params["k"], context))
        v = self._split_heads(linear.apply(params["v"], context))
        mask = None
        if self.causal:
            if x.shape[-2] != context.shape[-2]:
                raise ValueError(
                    f"MultiHeadAttention: causal attention needs as many queries as keys, got "
                    f"{x.shape[-2]} and {context.shape[-2]}."
                )
            mask = causal_mask(x.shape[-2])
        if key_padding_mask is not None:
            padding = mnp.asarray(key_padding_mask)
            if tuple(padding.shape) != tuple(context.shape[:-1]):
                raise ValueError(
                    f"MultiHeadAttention: key_padding_mask of shape {tuple(padding.shape)} must have "
                    f"the shape of the keys without their feature axis, {tuple(context.shape[:-1])}."
                )
            padding = padding[..., None, None, :]  # over heads and queries
            mask = padding if mask is None else mnp.logical_and(mask, padding)
        heads = attention(q, k, v, mask)
        joined = mnp.swapaxes(heads, -2, -3)
        joined = mnp.reshape(joined, (*joined.shape[:-2], self.dim))
        return linear.apply(params["o"], joined)


@attrs.frozen
class TransformerBlock:
    """A pre-norm transformer block: ``x + attention(norm(x))``, then ``x + mlp(norm(x))``.

    The MLP is ``Linear(dim, mlp_ratio * dim)``, GELU, ``Linear(mlp_ratio * dim, dim)``.
    With ``dropout > 0``, training (``train=True``) needs a ``key`` and drops elements of
    each branch's output before it is added back.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> block = TransformerBlock(8, 2, causal=True)
      >>> params = block.init(mr.key(0))
      >>> sorted(params)
      ['attention', 'mlp_in', 'mlp_out', 'norm1', 'norm2']
      >>> block.apply(params, np.ones((2, 4, 8), np.float32)).shape
      (2, 4, 8)
    """

    dim: int
    heads: int
    causal: bool = False
    mlp_ratio: int = 4
    dropout: float = 0.0

    @property
    def _attention(self) -> MultiHeadAttention:
        return MultiHeadAttention(self.dim, self.heads, self.causal)

    def init(self, key) -> dict:
        keys = mr.split(key, 3)
        hidden = self.mlp_ratio * self.dim
        return {
            "norm1": LayerNorm(self.dim).init(None),
            "attention": self._attention.init(keys[0]),
            "norm2": LayerNorm(self.dim).init(None),
            "mlp_in": Linear(self.dim, hidden).init(keys[1]),
            "mlp_out": Linear(hidden, self.dim).init(keys[2]),
        }

    def _drop(self, x, key, index: int, train: bool):
        if not train or self.dropout == 0.0:
            return x
        if key is None:
            raise ValueError(
                f"TransformerBlock(dropout={self.dropout}).apply: training needs a random key; "
                "pass key=... or train=False."
            )
        return dropout(x, self.dropout, mr.fold_in(key, index))

    def apply(self, params: dict, x, key=None, train: bool = True, key_padding_mask=None):
        norm = LayerNorm(self.dim)
        hidden = self.mlp_ratio * self.dim
        attended = self._attention.apply(
            params["attention"], norm.apply(params["norm1"], x), key_padding_mask=key_padding_mask
        )
        x = x + self._drop(attended, key, 0, train)
        inner = gelu(Linear(self.dim, hidden).apply(params["mlp_in"], norm.apply(params["norm2"], x)))
        out = Linear(hidden, self.dim).apply(params["mlp_out"], inner)
        return x + self._drop(out, key, 1, train)
