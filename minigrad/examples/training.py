"""The training loop the classification examples share (digits, MNIST).

It is the loop a user writes with minigrad: a pure ``step(params, opt_state, x, y)``
built from ``value_and_grad`` and an optimizer, minibatches shuffled with a fresh key
each epoch, a progress bar (tqdm when it is installed, one line per epoch otherwise),
then the test accuracy, the saved parameters and, optionally, a plot of the loss.

Example:
    >>> import numpy as np
    >>> import minigrad.nn as nn
    >>> import minigrad.optim as optim
    >>> import minigrad.random as mr
    >>> model = nn.MLP([2, 2])
    >>> step = make_step(model.apply, optim.sgd(0.1))
    >>> params = model.init(mr.key(0))
    >>> x, y = np.ones((4, 2), np.float32), np.array([0, 1, 1, 1])
    >>> params, opt_state, loss, correct = step(params, optim.sgd(0.1).init(params), x, y)
    >>> float(loss) > 0, int(correct) <= 4
    (True, True)
"""

from __future__ import annotations

import argparse
import sys
import time

import attrs
import numpy as np

import minigrad as mg
import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad import datasets, io, nn, optim

__all__ = [
    "make_step", "accuracy", "train", "timed_train", "History", "save_loss_plot", "add_training_flags", "report",
    "int_at_least", "positive_float",
]  # fmt: skip


def make_step(apply, optimizer):
    """The training step ``step(params, opt_state, x, y) -> (params, opt_state, loss, correct)``.

    ``correct`` counts the examples of the batch that the model (before the update)
    classified right.

    Example:
      >>> import minigrad.random as mr
      >>> model, optimizer = nn.Linear(2, 2), optim.sgd(0.1)
      >>> params = model.init(mr.key(0))
      >>> step = make_step(model.apply, optimizer)
      >>> x, y = np.eye(2, dtype=np.float32), np.array([0, 1])
      >>> params, opt_state, loss, correct = step(params, optimizer.init(params), x, y)
      >>> sorted(params), int(correct) in (0, 1, 2)
      (['b', 'w'], True)
    """

    def loss_fn(params, x, y):
        logits = apply(params, x)
        return nn.softmax_cross_entropy(logits, y), logits

    def step(params, opt_state, x, y):
        (loss, logits), grads = mg.value_and_grad(loss_fn, has_aux=True)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        correct = mnp.sum(mnp.argmax(logits, axis=-1) == y)
        return optim.apply_updates(params, updates), opt_state, loss, correct

    # jit compiles forward, backward and update into one program, traced once.
    return mg.jit(step)


def accuracy(apply, params, x, y, batch_size: int = 1000) -> float:
    """The fraction of ``x`` that the model classifies as ``y`` (evaluated in batches).

    Example:
      >>> import numpy as np
      >>> accuracy(lambda params, x: x, None, np.eye(3), np.array([0, 1, 0]))
      0.6666666666666666
    """
    correct = 0
    for xb, yb in datasets.minibatches((x, y), batch_size):
        correct += int(np.sum(np.argmax(apply(params, xb), axis=-1) == yb))
    return correct / len(y)


@attrs.define
class History:
    """Per-epoch mean training loss and accuracy, filled in by ``train``.

    Example:
      >>> History().loss
      []
    """

    loss: list = attrs.field(factory=list)
    accuracy: list = attrs.field(factory=list)


def _progress(epochs: int, quiet: bool):
    """A tqdm bar over the epochs if tqdm is installed (and we talk), else a plain range."""
    if quiet:
        return range(epochs), False
    try:
        from tqdm.auto import tqdm  # noqa: PLC0415 - an optional dependency
    except ImportError:
        return range(epochs), False
    return tqdm(range(epochs), desc="training", unit="epoch"), True


def train(model, optimizer, train_data, epochs: int, batch_size: int, key, quiet: bool = False):
    """Train ``model`` on ``train_data = (x, y)``; return ``(params, history)``.

    ``key`` makes the initial parameters (``fold_in(key, 0)``) and each epoch's shuffle
    (``fold_in(key, epoch + 1)``), so a seed reproduces a run exactly.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> x, y = np.array([[0.0], [1.0]] * 8, np.float32), np.array([0, 1] * 8)
      >>> params, history = train(nn.MLP([1, 2]), optim.adam(0.1), (x, y), 20, 4, mr.key(0), quiet=True)
      >>> len(history.loss), history.accuracy[-1]
      (20, 1.0)
    """
    x_train, y_train = train_data
    params = model.init(mr.fold_in(key, 0))
    opt_state = optimizer.init(params)
    step = make_step(model.apply, optimizer)
    history = History()
    epochs_iter, fancy = _progress(epochs, quiet)
    for epoch in epochs_iter:
        losses, correct = [], 0
        shuffle_key = mr.fold_in(key, epoch + 1)
        for xb, yb in datasets.minibatches((x_train, y_train), batch_size, key=shuffle_key):
            params, opt_state, loss, batch_correct = step(params, opt_state, xb, yb)
            losses.append(float(loss) * len(yb))
            correct += int(batch_correct)
        history.loss.append(sum(losses) / len(y_train))
        history.accuracy.append(correct / len(y_train))
        summary = f"loss {history.loss[-1]:.4f}  train accuracy {100 * history.accuracy[-1]:.1f}%"
        if fancy:
            epochs_iter.set_postfix_str(summary, refresh=False)
        elif not quiet:
            print(f"epoch {epoch + 1:>3}/{epochs}  {summary}", flush=True)
    return params, history


def save_loss_plot(history: History, path: str, title: str) -> bool:
    """Write a PNG of the loss curve with matplotlib; False (and a note) if it is missing.

    Example:
      >>> import contextlib, os, tempfile
      >>> path = os.path.join(tempfile.mkdtemp(), "loss.png")
      >>> with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
      ...     written = save_loss_plot(History([1.0, 0.5], [0.5, 0.9]), path, "loss")
      >>> written == os.path.exists(path)
      True
    """
    try:
        import matplotlib  # noqa: PLC0415 - an optional dependency

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
        import matplotlib.ticker  # noqa: PLC0415
    except ImportError:
        print("--plot needs matplotlib (pip install matplotlib); no plot written.")
        return False
    figure, axes = plt.subplots(figsize=(6, 4))
    epochs = np.arange(1, len(history.loss) + 1)
    axes.plot(epochs, history.loss, marker="o", markersize=3)
    axes.set_xlabel("epoch")
    axes.set_ylabel("training loss (cross-entropy)")
    axes.set_yscale("log")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


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


def add_training_flags(parser: argparse.ArgumentParser, epochs: int, batch_size: int, lr: float) -> None:
    """The flags every classification example takes.

    Example:
      >>> parser = argparse.ArgumentParser()
      >>> add_training_flags(parser, epochs=3, batch_size=8, lr=0.01)
      >>> args = parser.parse_args(["--model", "cnn", "--plot"])
      >>> args.epochs, args.model, args.plot
      (3, 'cnn', '')
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
    parser.add_argument("--seed", type=int, default=0, help="seed for initialisation and shuffling")
    parser.add_argument("--model", choices=("mlp", "cnn"), default="mlp", help="the network (default mlp)")
    save = parser.add_mutually_exclusive_group()
    save.add_argument(
        "--save", metavar="PATH", help="where to save the parameters (.npz; default NAME-MODEL.npz here)"
    )
    save.add_argument("--no-save", action="store_true", help="do not save the parameters")
    parser.add_argument(
        "--plot", nargs="?", const="", metavar="PNG", help="write the loss curve as a PNG (needs matplotlib)"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the final results")


def report(args, name: str, params, history: History, test_accuracy: float, seconds: float) -> None:
    """Print the results, save the parameters and the plot; the last line is the accuracy.

    Example:
      >>> import os, tempfile
      >>> path = os.path.join(tempfile.mkdtemp(), "p.npz")
      >>> args = argparse.Namespace(model="mlp", epochs=1, plot=None, save=path, no_save=False)
      >>> report(args, "demo", [np.zeros(2)], History([0.1], [0.9]), 0.978, 1.25)  # doctest: +ELLIPSIS
      trained mlp for 1 epochs in 1.2 s
      saved parameters to .../p.npz
      test accuracy: 97.8%
    """
    print(f"trained {args.model} for {args.epochs} epochs in {seconds:.1f} s")
    if not getattr(args, "no_save", False):
        save_path = args.save or f"{name}-{args.model}.npz"
        io.save(save_path, params)
        print(f"saved parameters to {save_path}")
    if args.plot is not None:
        plot_path = args.plot or f"{name}-{args.model}-loss.png"
        if save_loss_plot(history, plot_path, f"{name} {args.model}: training loss"):
            print(f"wrote the loss curve to {plot_path}")
    sys.stdout.flush()
    print(f"test accuracy: {100 * test_accuracy:.1f}%")


def timed_train(*arguments, **keywords):
    """``train`` and the wall-clock seconds it took.

    Example:
      >>> import minigrad.random as mr
      >>> x, y = np.zeros((4, 1), np.float32), np.zeros(4, np.int64)
      >>> params, history, seconds = timed_train(nn.MLP([1, 2]), optim.sgd(0.1), (x, y), 1, 2, mr.key(0), quiet=True)
      >>> seconds >= 0
      True
    """
    start = time.perf_counter()
    params, history = train(*arguments, **keywords)
    return params, history, time.perf_counter() - start
