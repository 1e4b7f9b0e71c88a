"""Datasets for examples and tests, and minibatching.

- ``digits()``: the 1797 8x8 handwritten digits of the UCI repository, shipped with
  the package (``data/digits.npz``);
- ``moons(n, noise, key)``: the two-moons toy problem;
- ``surnames()``: the 88,799 surnames of the 1990 US Census (``data/surnames.txt.gz``),
  with ``CharVocabulary`` and ``split_by_key`` for character-level language models;
- ``load_mnist(directory)``: MNIST from the standard IDX files, if you have them;
- ``train_test_split`` and ``minibatches``: shuffled with explicit keys.

Example:
    >>> from minigrad import datasets
    >>> X, y = datasets.digits()
    >>> X.shape, y.shape
    ((1797, 64), (1797,))
"""

from minigrad.datasets.batching import minibatches, train_test_split
from minigrad.datasets.builtin import digits, moons
from minigrad.datasets.mnist import load_mnist, read_idx
from minigrad.datasets.text import CharVocabulary, split_by_key, surnames

__all__ = [
    "digits", "moons", "load_mnist", "read_idx", "minibatches", "train_test_split", "surnames", "CharVocabulary",
    "split_by_key",
]  # fmt: skip
