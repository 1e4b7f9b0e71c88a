"""The program the image classifiers (digits, MNIST) share: check, train or load, score,
save, draw.

A saved model records its architecture beside its parameters, as the pytree
``{"example": "digits", "model": "mlp", "params": [...]}``, so ``--load PATH`` rebuilds
the network the file was trained as and evaluates it; any program can do the same with
``io.load`` and the example's ``make_model(checkpoint["model"])``.
"""

from __future__ import annotations

import os
import shlex
import sys

import numpy as np

import minigrad.random as mr
from minigrad import io, optim
from minigrad.examples import plots
from minigrad.examples.flags import check_directory, check_matplotlib, check_writable_file, default_save_path
from minigrad.examples.threads import blas_threads
from minigrad.examples.training import confusion_matrix, predict, timed_train
from minigrad.tree import tree_leaves, tree_structure

__all__ = ["run", "save_model", "load_model", "as_inputs", "MODELS"]

MODELS = ("mlp", "cnn")
_CHECKPOINT_KEYS = {"example", "model", "params"}
NOT_A_MODEL = (
    "{path} holds no model record (a dict with 'example', 'model' and 'params'); it was not saved "
    "by a minigrad example of this version. Train and save one with {program}, or read the file "
    "with minigrad.io.load and build the network yourself."
)


def save_model(path: str, example: str, model: str, params) -> None:
    """Save ``params`` with the architecture that reads them.

    Example:
      >>> import os, tempfile
      >>> path = os.path.join(tempfile.mkdtemp(), "m.npz")
      >>> save_model(path, "digits", "mlp", [{"w": np.zeros((2, 2))}])
      >>> sorted(io.load(path))
      ['example', 'model', 'params']
    """
    io.save(path, {"example": example, "model": model, "params": params})


def _shapes(params) -> list:
    return [np.shape(leaf) for leaf in tree_leaves(params)]


def load_model(path: str, example: str, make_model, program: str):
    """``(model_kind, params)`` from a file ``save_model`` wrote, checked against the
    network ``make_model(model_kind)`` builds; ``ValueError`` saying what does not fit.

    Example:
      >>> import os, tempfile
      >>> from minigrad import nn
      >>> path = os.path.join(tempfile.mkdtemp(), "m.npz")
      >>> save_model(path, "demo", "mlp", nn.MLP([2, 3]).init(mr.key(0)))
      >>> kind, params = load_model(path, "demo", lambda kind: nn.MLP([2, 3]), "demo")
      >>> kind, params[0]["w"].shape
      ('mlp', (2, 3))
    """
    checkpoint = io.load(path)
    if not (isinstance(checkpoint, dict) and set(checkpoint) == _CHECKPOINT_KEYS):
        raise ValueError(NOT_A_MODEL.format(path=path, program=program))
    if checkpoint["example"] != example:
        raise ValueError(
            f"{path} holds a model of the {checkpoint['example']!r} example, not {example!r}; "
            f"evaluate it with python -m minigrad.examples.{checkpoint['example']} --load {path}"
        )
    kind, params = checkpoint["model"], checkpoint["params"]
    if kind not in MODELS:
        raise ValueError(f"{path} records the model {kind!r}; this example builds {' or '.join(MODELS)}")
    expected = make_model(kind).init(mr.key(0))
    if tree_structure(expected) != tree_structure(params) or _shapes(expected) != _shapes(params):
        raise ValueError(
            f"{path} holds {kind} parameters of shapes {_shapes(params)}, but this example's {kind} "
            f"has {_shapes(expected)}; it was trained on other data or by another version"
        )
    return kind, params


def as_inputs(images: np.ndarray, model: str) -> np.ndarray:
    """Images ``(N, H, W)`` as the network reads them: rows for the MLP, ``(N, 1, H, W)`` for the CNN.

    Example:
      >>> as_inputs(np.zeros((5, 8, 8)), "mlp").shape, as_inputs(np.zeros((5, 8, 8)), "cnn").shape
      ((5, 64), (5, 1, 8, 8))
    """
    return images.reshape(len(images), -1) if model == "mlp" else images[:, None]


def check_before_training(parser, args, example: str, make_model):
    """Usage errors for every flag, path and optional package; the loaded params or None.

    Sets ``args.model`` (from the checkpoint with ``--load``, else ``mlp`` by default).
    """
    loaded = None
    if args.load is not None:
        try:
            kind, loaded = load_model(args.load, example, make_model, parser.prog)
        except FileNotFoundError:
            parser.error(
                f"--load: there is no file {args.load!r}; train and save a model first ({parser.prog})"
            )
        except (OSError, ValueError) as error:
            parser.error(f"--load: {error}")
        if args.model not in (None, kind):
            parser.error(f"--load: {args.load} holds the {kind} model, not the {args.model}; drop --model")
        args.model = kind
    args.model = args.model or "mlp"
    if args.load is None and not args.no_save:
        args.save = args.save or default_save_path(example, args.model)
        check_writable_file(parser, "--save", args.save)
    if args.plot is not None:
        check_directory(parser, "--plot", args.plot)
        check_matplotlib(parser)
    return loaded


def _write_plots(args, example: str, history, images, labels, predictions) -> None:
    stem = os.path.normpath(os.path.join(args.plot, f"{example}-{args.model}"))
    title = f"{example} {args.model}"
    written = []
    if history is not None:
        plots.save_curves(history, f"{stem}-curves.png", f"{title}: training")
        written.append(f"{stem}-curves.png")
    plots.save_predictions(images, labels, predictions, f"{stem}-predictions.png", title)
    counts = confusion_matrix(labels, predictions, int(max(labels.max(), predictions.max())) + 1)
    plots.save_confusion(counts, f"{stem}-confusion.png", f"{title}: test confusion matrix")
    written += [f"{stem}-predictions.png", f"{stem}-confusion.png"]
    print("wrote " + ", ".join(written))


def _save(args, example: str, params, rerun: str) -> None:
    try:
        save_model(args.save, example, args.model, params)
    except OSError as error:
        sys.exit(f"could not save the model to {args.save}: {error}. The test accuracy above stands; "
                 "run again with --save PATH to keep the model.")  # fmt: skip
    print(f"saved the model to {args.save} (evaluate it again: {rerun} --load {shlex.quote(args.save)})")


def _train(args, model, train_data, test_data):
    """Train as the flags say, scoring ``test_data`` each epoch; say how long it took."""
    params, history, seconds = timed_train(
        model, optim.adam(args.lr), train_data, args.epochs, args.batch_size, mr.key(args.seed),
        test_data=test_data, quiet=args.quiet,
    )  # fmt: skip
    print(f"trained {args.model} for {args.epochs} epochs in {seconds:.1f} s")
    return params, history


def run(parser, args, example: str, make_model, data, rerun: str | None = None) -> float:
    """Train (or ``--load``) a classifier of ``data = ((x_train, y_train), (x_test, y_test))``
    (images ``(N, H, W)``), print the test accuracy, save the model and draw ``--plot``.

    Returns the test accuracy. ``rerun`` is the command that reproduces the data (default
    ``parser.prog``); the save message shows it with ``--load``.
    """
    loaded = check_before_training(parser, args, example, make_model)
    (x_train, y_train), (x_test, y_test) = data
    model, test_inputs = make_model(args.model), as_inputs(x_test, args.model)
    with blas_threads(1) as threads:
        if not args.quiet:
            print(f"{example}: {len(y_train)} training and {len(y_test)} test images of "
                  f"{'x'.join(map(str, x_test.shape[1:]))}, model {args.model}; {threads}")  # fmt: skip
        if loaded is None:
            params, history = _train(
                args, model, (as_inputs(x_train, args.model), y_train), (test_inputs, y_test)
            )
        else:
            params, history = loaded, None
            print(f"loaded the {args.model} saved in {args.load}")
        predictions = predict(model.apply, params, test_inputs)
    test_accuracy = float(np.mean(predictions == y_test))
    print(f"test accuracy: {100 * test_accuracy:.1f}%", flush=True)
    if loaded is None and not args.no_save:
        _save(args, example, params, rerun or parser.prog)
    if args.plot is not None:
        _write_plots(args, example, history, x_test, y_test, predictions)
    return test_accuracy
