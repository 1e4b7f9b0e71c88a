"""Layers refuse negative sizes when they are made (minigrad.nn.layers)."""

import pytest

import minigrad.random as mr
from minigrad import nn


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Linear(-1, 2), "Linear: in_features must be >= 0, got -1"),
        (lambda: nn.Linear(3, -2), "Linear: out_features must be >= 0, got -2"),
        (lambda: nn.Conv2d(-1, 2, 3), "Conv2d: in_channels"),
        (lambda: nn.Conv2d(1, 2, (3, -1)), r"Conv2d: kernel_size must be >= 0, got \(3, -1\)"),
        (lambda: nn.MLP([3, -4, 1]), r"MLP: sizes must be >= 0, got \(3, -4, 1\)"),
    ],
)
def test_negative_sizes_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_zero_sizes_are_allowed():
    assert nn.Linear(0, 2).init(mr.key(0))["w"].shape == (0, 2)
