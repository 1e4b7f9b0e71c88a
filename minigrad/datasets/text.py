"""Text data for character-level models: US surnames, a character vocabulary, a split.

The surnames are the 88,799 last names of the 1990 US Census (public domain, from the
US Census Bureau's frequency list "dist.all.last" as the MIT-licensed ``names`` package
on PyPI distributes it), lower-cased, one per line in order of frequency, in
``data/surnames.txt.gz``.

Example:
    >>> import minigrad.random as mr
    >>> names = surnames()
    >>> len(names), names[:3]
    (88799, ['smith', 'johnson', 'williams'])
    >>> vocab = CharVocabulary.from_texts(names)
    >>> vocab.size, vocab.decode(vocab.encode("ada"))
    (27, 'ada')
"""

from __future__ import annotations

import gzip
from importlib import resources

import attrs
import numpy as np

import minigrad.random as mr

__all__ = ["surnames", "CharVocabulary", "split_by_key"]


def surnames() -> list[str]:
    """The 88,799 surnames of the 1990 US Census, lower-case, most frequent first.

    Every name is 2 to 13 letters from ``a`` to ``z``, and no name appears twice.

    Example:
      >>> names = surnames()
      >>> min(map(len, names)), max(map(len, names)), len(set(names)) == len(names)
      (2, 13, True)
    """
    source = resources.files("minigrad.datasets").joinpath("data", "surnames.txt.gz")
    with resources.as_file(source) as path, gzip.open(path, "rt", encoding="ascii") as lines:
        return lines.read().split()


@attrs.frozen
class CharVocabulary:
    """The characters of a text collection, with a boundary token at index 0.

    ``encode`` turns a string into integer ids, ``decode`` turns ids back into a string
    (stopping at the first boundary). A language model over names predicts the next id,
    and the boundary marks both a name's start and its end.

    Example:
      >>> vocab = CharVocabulary.from_texts(["ab", "ba", "c"])
      >>> vocab.chars
      ('.', 'a', 'b', 'c')
      >>> vocab.encode("cab")
      array([3, 1, 2])
      >>> vocab.decode([2, 1, 0, 3])
      'ba'
    """

    chars: tuple = attrs.field(converter=tuple)

    @classmethod
    def from_texts(cls, texts, boundary: str = ".") -> CharVocabulary:
        """The boundary, then every character that occurs in ``texts``, sorted."""
        found = set().union(*map(set, texts))
        if boundary in found:
            raise ValueError(
                f"CharVocabulary: the boundary {boundary!r} occurs in the texts; choose another "
                "boundary character with from_texts(texts, boundary=...)."
            )
        return cls((boundary, *sorted(found)))

    @property
    def size(self) -> int:
        return len(self.chars)

    @property
    def boundary(self) -> str:
        return self.chars[0]

    def encode(self, text: str) -> np.ndarray:
        index = {char: i for i, char in enumerate(self.chars)}
        unknown = sorted(set(text) - set(index))
        if unknown:
            raise ValueError(
                f"CharVocabulary.encode: characters {unknown} of {text!r} are not in the vocabulary."
            )
        return np.array([index[char] for char in text], np.int64)

    def decode(self, ids) -> str:
        out = []
        for i in np.asarray(ids).reshape(-1).tolist():
            if i == 0:
                break
            out.append(self.chars[i])
        return "".join(out)


def split_by_key(items, key, fractions=(0.8, 0.1, 0.1)) -> tuple[list, ...]:
    """Shuffle ``items`` with ``key`` and cut them into parts of the given ``fractions``.

    The last part takes whatever rounding leaves, so nothing is lost or repeated.

    Example:
      >>> import minigrad.random as mr
      >>> train, val, test = split_by_key(list(range(10)), mr.key(0))
      >>> len(train), len(val), len(test), sorted(train + val + test) == list(range(10))
      (8, 1, 1, True)
    """
    fractions = tuple(float(f) for f in fractions)
    if any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"split_by_key: fractions must be >= 0 and sum to 1, got {fractions}.")
    items = list(items)
    order = np.asarray(mr.permutation(key, len(items)))
    sizes = [int(round(f * len(items))) for f in fractions[:-1]]
    parts, start = [], 0
    for size in sizes:
        parts.append([items[i] for i in order[start : start + size]])
        start += size
    parts.append([items[i] for i in order[start:]])
    return tuple(parts)
