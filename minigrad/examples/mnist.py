"""Train on MNIST from the IDX files in a directory: ``python -m minigrad.examples.mnist DIR``.

``DIR`` holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (gzipped or not), from any
mirror of the MNIST database; nothing is downloaded. The training is the digits
example's: an MLP (or ``--model cnn``) with Adam, ending with ``test accuracy: ...%``.
"""

from __future__ import annotations

import argparse
import functools

import minigrad.random as mr
from minigrad import datasets, nn, optim
from minigrad.examples.training import accuracy, add_training_flags, report, timed_train


def make_model(kind: str, rows: int, cols: int):
    """An MLP (pixels-256-10) or a CNN (two 3x3 conv + pool blocks, then a linear layer)."""
    if kind == "mlp":
        return nn.MLP([rows * cols, 256, 10])
    pool = functools.partial(nn.max_pool2d, size=2)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.relu,
        pool,
        nn.Conv2d(16, 32, 3, padding=1),
        nn.relu,
        pool,
        nn.flatten,
        nn.Linear(32 * (rows // 4) * (cols // 4), 10),
    )


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.examples.mnist", description=__doc__.split("\n")[0]
    )
    parser.add_argument("directory", help="the directory with the four MNIST IDX files")
    add_training_flags(parser, epochs=5, batch_size=128, lr=1e-3)
    args = parser.parse_args(argv)
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist(args.directory)
    rows, cols = x_train.shape[1:]
    if args.model == "mlp":
        x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    else:
        x_train, x_test = x_train[:, None], x_test[:, None]
    model = make_model(args.model, rows, cols)
    if not args.quiet:
        print(
            f"mnist: {len(y_train)} training and {len(y_test)} test images of {rows}x{cols}, model {args.model}"
        )
    params, history, seconds = timed_train(
        model,
        optim.adam(args.lr),
        (x_train, y_train),
        args.epochs,
        args.batch_size,
        mr.key(args.seed),
        quiet=args.quiet,
    )
    test_accuracy = accuracy(model.apply, params, x_test, y_test)
    report(args, "mnist", params, history, test_accuracy, seconds)
    return test_accuracy


if __name__ == "__main__":
    main()
