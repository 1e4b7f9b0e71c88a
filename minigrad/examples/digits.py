"""Classify the 8x8 UCI handwritten digits: the job minigrad is built for.

Run with ``python -m minigrad.examples.digits`` (add ``--model cnn`` for a small
convolutional network, ``--plot`` for a PNG of the loss curve, ``--help`` for the rest).
It trains with Adam on 80% of the 1797 images, saves the parameters, and ends with the
accuracy on the other 20%, e.g. ``test accuracy: 98.6%``.
"""

from __future__ import annotations

import argparse
import functools

import minigrad.random as mr
from minigrad import datasets, nn, optim
from minigrad.examples.training import accuracy, add_training_flags, report, timed_train

# The train/test split is fixed, so runs with different seeds are scored on the same images.
SPLIT_SEED = 1797


def make_model(kind: str):
    """The MLP (64-256-10) or the CNN (two 3x3 conv + pool blocks, then a linear layer)."""
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


def load_data(kind: str):
    """``((x_train, y_train), (x_test, y_test))``, images as rows (MLP) or 1x8x8 (CNN)."""
    x, y = datasets.digits()
    if kind == "cnn":
        x = x.reshape(-1, 1, 8, 8)
    return datasets.train_test_split((x, y), 0.2, mr.key(SPLIT_SEED))


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.examples.digits", description=__doc__.split("\n")[0]
    )
    add_training_flags(parser, epochs=30, batch_size=32, lr=1e-3)
    args = parser.parse_args(argv)
    train_data, (x_test, y_test) = load_data(args.model)
    model = make_model(args.model)
    if not args.quiet:
        print(f"digits: {len(train_data[1])} training and {len(y_test)} test images, model {args.model}")
    params, history, seconds = timed_train(
        model,
        optim.adam(args.lr),
        train_data,
        args.epochs,
        args.batch_size,
        mr.key(args.seed),
        quiet=args.quiet,
    )
    test_accuracy = accuracy(model.apply, params, x_test, y_test)
    report(args, "digits", params, history, test_accuracy, seconds)
    return test_accuracy


if __name__ == "__main__":
    main()
