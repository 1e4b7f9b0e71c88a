"""Train on MNIST from the IDX files in a directory: ``python -m minigrad.examples.mnist DIR``.

``DIR`` holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (gzipped or not), from any
mirror of the MNIST database; nothing is downloaded. The program is the digits
example's: an MLP (or ``--model cnn``) with Adam, ``test accuracy: ...%``, a saved model
that ``--load`` evaluates again, and ``--plot``.
"""

from __future__ import annotations

import argparse
import functools
import shlex

from minigrad import datasets, nn
from minigrad.examples.classifier import run
from minigrad.examples.flags import add_training_flags
from minigrad.examples.threads import run_program


def make_model(kind: str, rows: int, cols: int):
    """An MLP (pixels-256-10) or a CNN (two 3x3 conv + pool blocks, then a linear layer).

    Example:
      >>> import minigrad.random as mr
      >>> [layer["w"].shape for layer in make_model("mlp", 28, 28).init(mr.key(0))]
      [(784, 256), (256, 10)]
    """
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
    add_training_flags(parser, "mnist", epochs=5, batch_size=128, lr=1e-3)
    args = parser.parse_args(argv)
    data = datasets.load_mnist(args.directory)
    rows, cols = data[0][0].shape[1:]
    rerun = f"{parser.prog} {shlex.quote(args.directory)}"
    return run(parser, args, "mnist", functools.partial(make_model, rows=rows, cols=cols), data, rerun)


if __name__ == "__main__":
    run_program("minigrad.examples.mnist", main)
