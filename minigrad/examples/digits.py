"""Classify the 8x8 UCI handwritten digits: the job minigrad is built for.

Run with ``python -m minigrad.examples.digits`` (``--model cnn`` for a small
convolutional network, ``--plot`` for pictures of what it learned, ``--help`` for the
rest). It trains with Adam on 80% of the 1797 images, prints the accuracy on the other
20% (e.g. ``test accuracy: 97.5%``) and saves the model; ``--load digits-mlp.npz``
evaluates a saved one again.
"""

from __future__ import annotations

import argparse
import functools

import minigrad.random as mr
from minigrad import datasets, nn
from minigrad.examples.classifier import run
from minigrad.examples.flags import add_training_flags
from minigrad.examples.threads import run_program

# The train/test split is fixed, so runs with different seeds are scored on the same images.
SPLIT_SEED = 1797


def make_model(kind: str):
    """The MLP (64-256-10) or the CNN (two 3x3 conv + pool blocks, then a linear layer).

    Example:
      >>> [layer["w"].shape for layer in make_model("mlp").init(mr.key(0))]
      [(64, 256), (256, 10)]
    """
    if kind == "mlp":
        return nn.MLP([64, 256, 10])
    pool = functools.partial(nn.max_pool2d, size=2)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.relu,
        pool,
        nn.Conv2d(32, 64, 3, padding=1),
        nn.relu,
        pool,
        nn.flatten,
        nn.Linear(64 * 2 * 2, 10),
    )


def load_data():
    """``((x_train, y_train), (x_test, y_test))`` with images of shape ``(N, 8, 8)``.

    Example:
      >>> (x_train, y_train), (x_test, y_test) = load_data()
      >>> x_train.shape, x_test.shape
      ((1438, 8, 8), (359, 8, 8))
    """
    x, y = datasets.digits()
    return datasets.train_test_split((x.reshape(-1, 8, 8), y), 0.2, mr.key(SPLIT_SEED))


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.examples.digits", description=__doc__.split("\n")[0]
    )
    add_training_flags(parser, "digits", epochs=30, batch_size=32, lr=1e-3)
    args = parser.parse_args(argv)
    return run(parser, args, "digits", make_model, load_data())


if __name__ == "__main__":
    run_program("minigrad.examples.digits", main)
