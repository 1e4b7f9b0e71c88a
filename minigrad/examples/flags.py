"""Command-line flags of the examples, and the checks that run before any training.

Everything a run needs from the outside (flag values, the directories it will write to,
the checkpoint it will read, matplotlib for ``--plot``) is checked right after parsing, so
a mistake costs a usage message, not a training run that fails at the end.
"""

from __future__ import annotations

import argparse
import os
import shlex

import numpy as np

__all__ = [
    "int_at_least", "positive_float", "add_training_flags", "check_writable_file", "check_directory",
    "check_matplotlib", "default_save_path",
]  # fmt: skip

MATPLOTLIB_MISSING = (
    "{flag} draws with matplotlib, which is not installed; "
    "install it (pip install matplotlib, or pip install 'minigrad[examples]') or drop {flag}"
)


def int_at_least(minimum: int):
    """An argparse ``type``: an integer of at least ``minimum``, else a usage error.

    Example:
      >>> parser = argparse.ArgumentParser(prog="demo")
      >>> _ = parser.add_argument("--n", type=int_at_least(1))
      >>> parser.parse_args(["--n", "3"]).n
      3
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = "int"  # argparse names the type in its messages
    return parse


def positive_float(text: str) -> float:
    """An argparse ``type``: a finite number greater than 0, else a usage error.

    Example:
      >>> positive_float("0.5")
      0.5
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def default_save_path(name: str, model: str) -> str:
    """Where a run saves its model without ``--save``: ``NAME-MODEL.npz`` here.

    Example:
      >>> default_save_path("digits", "mlp")
      'digits-mlp.npz'
    """
    return f"{name}-{model}.npz"


def add_training_flags(parser: argparse.ArgumentParser, name: str, epochs: int, batch_size: int, lr: float):
    """The flags every classification example takes; the help shows the real defaults.

    Example:
      >>> parser = argparse.ArgumentParser()
      >>> add_training_flags(parser, "demo", epochs=3, batch_size=8, lr=0.01)
      >>> args = parser.parse_args(["--model", "cnn", "--plot"])
      >>> args.epochs, args.model, args.plot
      (3, 'cnn', '.')
    """
    parser.add_argument(
        "--epochs", type=int_at_least(1), default=epochs, help=f"passes over the data (default {epochs})"
    )
    parser.add_argument(
        "--batch-size",
        type=int_at_least(1),
        default=batch_size,
        help=f"examples per step (default {batch_size})",
    )
    parser.add_argument("--lr", type=positive_float, default=lr, help=f"Adam learning rate (default {lr})")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for initialisation and shuffling (default 0)"
    )
    parser.add_argument("--model", choices=("mlp", "cnn"), help="the network to train (default mlp)")
    model_file = parser.add_mutually_exclusive_group()
    model_file.add_argument(
        "--save",
        metavar="PATH",
        help=f"where to save the trained model (default {default_save_path(name, 'mlp')}, "
        f"or {default_save_path(name, 'cnn')} with --model cnn)",
    )
    model_file.add_argument("--no-save", action="store_true", help="do not save the trained model")
    model_file.add_argument(
        "--load", metavar="PATH", help="evaluate a model saved by this example instead of training one"
    )
    parser.add_argument(
        "--plot",
        nargs="?",
        const=".",
        metavar="DIR",
        help="write PNGs of the training curves, test predictions and confusion matrix into DIR "
        "(default: the current directory; needs matplotlib)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the results")


def check_directory(parser: argparse.ArgumentParser, flag: str, directory: str, what: str = "") -> None:
    """A usage error unless ``directory`` exists and this process may write into it.

    ``what`` names the file the directory is for, when the flag names a file.

    Example:
      >>> import tempfile
      >>> check_directory(argparse.ArgumentParser(), "--plot", tempfile.gettempdir())
    """
    shown = directory or "."
    where = f"{flag} {what}: the directory {shown!r}" if what else f"{flag}: {shown!r}"
    if not os.path.isdir(shown):
        problem = "is not a directory" if os.path.exists(shown) else "does not exist"
        parser.error(
            f"{where} {problem}; create it first (mkdir -p {shlex.quote(shown)}) or choose another path"
        )
    if not os.access(shown, os.W_OK | os.X_OK):
        parser.error(f"{where} is not writable (permission denied); choose another path")


def check_writable_file(parser: argparse.ArgumentParser, flag: str, path: str) -> None:
    """A usage error unless ``path`` could be written: its directory exists and is writable.

    Example:
      >>> import os, tempfile
      >>> check_writable_file(argparse.ArgumentParser(), "--save", os.path.join(tempfile.gettempdir(), "m.npz"))
    """
    if os.path.isdir(path):
        parser.error(
            f"{flag}: {path!r} is a directory; give a file name such as {os.path.join(path, 'model.npz')}"
        )
    check_directory(parser, flag, os.path.dirname(path), what=path)


def check_matplotlib(parser: argparse.ArgumentParser, flag: str = "--plot") -> None:
    """A usage error, before any training, if matplotlib (needed by ``flag``) is missing."""
    try:
        import matplotlib  # noqa: F401, PLC0415 - an optional dependency, only probed
    except ImportError:
        parser.error(MATPLOTLIB_MISSING.format(flag=flag))
