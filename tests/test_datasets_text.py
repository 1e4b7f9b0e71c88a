"""The shipped surname list, the character vocabulary and the keyed split."""

import collections
import string

import numpy as np
import pytest

import minigrad.random as mr
from minigrad import datasets


def test_surnames_are_the_census_list_lower_cased_and_unique():
    names = datasets.surnames()
    assert len(names) == 88_799 == len(set(names))
    assert set("".join(names)) == set(string.ascii_lowercase)
    assert names[:5] == ["smith", "johnson", "williams", "jones", "brown"]
    lengths = collections.Counter(map(len, names))
    assert min(lengths) == 2 and max(lengths) == 13 and lengths.most_common(1)[0][0] == 6


def test_char_vocabulary_round_trips_and_refuses_unknown_characters():
    vocab = datasets.CharVocabulary.from_texts(["hello", "world"])
    assert vocab.chars[0] == "." and vocab.size == 8 and vocab.boundary == "."
    for word in ("hello", "world", "lower"):
        assert vocab.decode(vocab.encode(word)) == word
    assert vocab.decode(np.array([[vocab.encode("he")[0], vocab.encode("he")[1], 0, 3]])) == "he"
    with pytest.raises(ValueError, match=r"characters \['z'\] of 'zoo'"):
        vocab.encode("zoo")
    with pytest.raises(ValueError, match="the boundary '.' occurs in the texts"):
        datasets.CharVocabulary.from_texts(["a.b"])


def test_split_by_key_is_a_deterministic_partition():
    items = [f"name{i}" for i in range(1001)]
    train, val, test = datasets.split_by_key(items, mr.key(7))
    assert (len(train), len(val), len(test)) == (801, 100, 100)
    assert sorted(train + val + test) == sorted(items)
    assert datasets.split_by_key(items, mr.key(7)) == (train, val, test)
    assert datasets.split_by_key(items, mr.key(8))[0] != train
    with pytest.raises(ValueError, match="fractions must be >= 0 and sum to 1"):
        datasets.split_by_key(items, mr.key(0), (0.5, 0.4))
