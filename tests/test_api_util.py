"""Tests for minigrad.transforms.api_util: what transforms do at their boundary."""

import pytest

from minigrad.transforms.api_util import merge_arguments


@pytest.mark.parametrize(
    ("positions", "values", "rest", "expected"),
    [
        ((), [], ["a", "b"], ["a", "b"]),
        ((0, 1), ["a", "b"], [], ["a", "b"]),
        ((1,), ["b"], ["a", "c"], ["a", "b", "c"]),
        ((3, 0), ["d", "a"], ["b", "c"], ["a", "b", "c", "d"]),  # values in the order of positions
        ([0, 2, 4], ("a", "c", "e"), ("b", "d"), ["a", "b", "c", "d", "e"]),
    ],
)
def test_merge_arguments_puts_values_at_their_positions(positions, values, rest, expected):
    assert merge_arguments(positions, values, rest) == expected


def test_merge_arguments_keeps_the_objects_themselves():
    shared, traced = [1.0], [2.0]
    merged = merge_arguments((1,), [traced], [shared])
    assert merged[0] is shared and merged[1] is traced


def test_merge_arguments_rejects_a_value_count_that_does_not_match_the_positions():
    with pytest.raises(ValueError):
        merge_arguments((0, 1), ["a"], ["b"])
