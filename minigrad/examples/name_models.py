"""The four next-character models of ``python -m minigrad.examples.names``, and the data.

Every model maps a batch of id sequences ``(batch, T)`` to logits ``(batch, T, vocab)``:
position ``t`` predicts character ``t + 1`` from characters ``0..t`` (or, for the
bigram and the MLP, from the last one or few of them). A name of ``n`` letters is the
input ``[., c1, ..., cn]`` and the target ``[c1, ..., cn, .]``, padded to the longest
name; the loss averages over the ``n + 1`` real targets of each name only.

Example:
    >>> import numpy as np
    >>> import minigrad.random as mr
    >>> model = make_model("transformer", vocab_size=27, length=14)
    >>> params = model.init(mr.key(0))
    >>> model.apply(params, np.zeros((2, 14), np.int64)).shape
    (2, 14, 27)
"""

from __future__ import annotations

import attrs
import numpy as np

import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad import nn

__all__ = ["encode_names", "Bigram", "ContextMLP", "GRUModel", "TransformerModel", "make_model", "MODELS"]


def encode_names(names, vocab, length: int):
    """``(inputs, targets, mask)`` of shape ``(len(names), length)`` for ``names``.

    Example:
      >>> from minigrad.datasets import CharVocabulary
      >>> vocab = CharVocabulary.from_texts(["ab"])
      >>> x, y, mask = encode_names(["ab"], vocab, 4)
      >>> x.tolist(), y.tolist(), mask.tolist()
      ([[0, 1, 2, 0]], [[1, 2, 0, 0]], [[True, True, True, False]])
    """
    inputs = np.zeros((len(names), length), np.int64)
    targets = np.zeros((len(names), length), np.int64)
    mask = np.zeros((len(names), length), bool)
    for row, name in enumerate(names):
        if len(name) + 1 > length:
            raise ValueError(
                f"encode_names: {name!r} needs {len(name) + 1} positions, more than length {length}."
            )
        ids = vocab.encode(name)
        inputs[row, 1 : len(ids) + 1] = ids
        targets[row, : len(ids)] = ids
        mask[row, : len(ids) + 1] = True
    return inputs, targets, mask


@attrs.frozen
class Bigram:
    """A table of next-character logits for each character: ``logits = table[x]``.

    Example:
      >>> import numpy as np
      >>> Bigram(27).apply(Bigram(27).init(None), np.array([[0, 5]])).shape
      (1, 2, 27)
    """

    vocab_size: int

    def init(self, key):
        return {"table": np.zeros((self.vocab_size, self.vocab_size), np.float32)}

    def apply(self, params, x):
        return params["table"][x]


@attrs.frozen
class ContextMLP:
    """Bengio et al. (2003): embeddings of the last ``context`` characters, one hidden layer.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> model = ContextMLP(27)
      >>> model.apply(model.init(mr.key(0)), np.zeros((2, 5), np.int64)).shape
      (2, 5, 27)
    """

    vocab_size: int
    context: int = 3
    embed: int = 16
    hidden: int = 128

    def init(self, key):
        keys = mr.split(key, 3)
        return {
            "embed": nn.Embedding(self.vocab_size, self.embed).init(keys[0]),
            "hidden": nn.Linear(self.context * self.embed, self.hidden).init(keys[1]),
            "out": nn.Linear(self.hidden, self.vocab_size).init(keys[2]),
        }

    def apply(self, params, x):
        length = x.shape[1]
        # Before the first character there are only boundaries: pad on the left with id 0.
        padded = mnp.pad(x, ((0, 0), (self.context - 1, 0)))
        windows = mnp.stack([padded[:, i : i + length] for i in range(self.context)], axis=-1)
        vectors = nn.Embedding(self.vocab_size, self.embed).apply(params["embed"], windows)
        vectors = mnp.reshape(vectors, (*x.shape, self.context * self.embed))
        hidden = nn.tanh(nn.Linear(self.context * self.embed, self.hidden).apply(params["hidden"], vectors))
        return nn.Linear(self.hidden, self.vocab_size).apply(params["out"], hidden)


@attrs.frozen
class GRUModel:
    """Embeddings, a GRU run over the sequence with ``lax.scan``, a linear read-out.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> model = GRUModel(27)
      >>> model.apply(model.init(mr.key(0)), np.zeros((2, 5), np.int64)).shape
      (2, 5, 27)
    """

    vocab_size: int
    embed: int = 32
    hidden: int = 64

    def init(self, key):
        keys = mr.split(key, 3)
        return {
            "embed": nn.Embedding(self.vocab_size, self.embed).init(keys[0]),
            "rnn": nn.RNN(nn.GRUCell(self.embed, self.hidden)).init(keys[1]),
            "out": nn.Linear(self.hidden, self.vocab_size).init(keys[2]),
        }

    def apply(self, params, x):
        vectors = nn.Embedding(self.vocab_size, self.embed).apply(params["embed"], x)
        states = nn.RNN(nn.GRUCell(self.embed, self.hidden)).apply(params["rnn"], vectors)
        return nn.Linear(self.hidden, self.vocab_size).apply(params["out"], states)


@attrs.frozen
class TransformerModel:
    """Token and position embeddings, causal pre-norm blocks, a final norm and read-out.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> model = TransformerModel(27, length=14, dim=16, heads=2)
      >>> model.apply(model.init(mr.key(0)), np.zeros((2, 5), np.int64)).shape
      (2, 5, 27)
    """

    vocab_size: int
    length: int
    dim: int = 64
    heads: int = 4
    layers: int = 1
    mlp_ratio: int = 4

    def init(self, key):
        keys = mr.split(key, self.layers + 3)
        block = nn.TransformerBlock(self.dim, self.heads, causal=True, mlp_ratio=self.mlp_ratio)
        return {
            "tokens": nn.Embedding(self.vocab_size, self.dim, nn.normal(0.1)).init(keys[0]),
            "positions": nn.Embedding(self.length, self.dim, nn.normal(0.1)).init(keys[1]),
            "blocks": [block.init(k) for k in keys[3:]],
            "norm": nn.LayerNorm(self.dim).init(None),
            "out": nn.Linear(self.dim, self.vocab_size).init(keys[2]),
        }

    def apply(self, params, x):
        h = params["tokens"]["table"][x] + params["positions"]["table"][: x.shape[1]]
        block = nn.TransformerBlock(self.dim, self.heads, causal=True, mlp_ratio=self.mlp_ratio)
        for block_params in params["blocks"]:
            h = block.apply(block_params, h)
        h = nn.LayerNorm(self.dim).apply(params["norm"], h)
        return nn.Linear(self.dim, self.vocab_size).apply(params["out"], h)


MODELS = ("bigram", "mlp", "gru", "transformer")


def make_model(kind: str, vocab_size: int, length: int):
    """The model called ``kind`` (one of ``MODELS``) at its default size.

    Example:
      >>> type(make_model("gru", 27, 14)).__name__
      'GRUModel'
    """
    if kind == "bigram":
        return Bigram(vocab_size)
    if kind == "mlp":
        return ContextMLP(vocab_size)
    if kind == "gru":
        return GRUModel(vocab_size)
    if kind == "transformer":
        return TransformerModel(vocab_size, length)
    raise ValueError(f"make_model: unknown model {kind!r}; choose one of {', '.join(MODELS)}.")
