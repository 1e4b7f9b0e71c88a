"""The training loop the classification examples share (digits, MNIST).

It is the loop a user writes with minigrad: a pure ``step(params, opt_state, x, y)``
built from ``value_and_grad`` and an optimizer, minibatches shuffled with a fresh key
each epoch, the test accuracy after each epoch, and a progress display on long runs
(``minigrad.examples.progress``).

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

import time

import attrs
import numpy as np

import minigrad as mg
import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad import datasets, nn, optim
from minigrad.examples.progress import progress

__all__ = ["make_step", "predict", "accuracy", "confusion_matrix", "train", "timed_train", "History"]


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


def predict(apply, params, x, batch_size: int = 1000) -> np.ndarray:
    """The class the model gives each row of ``x`` (evaluated in batches).

    Example:
      >>> predict(lambda params, x: x, None, np.eye(3)[::-1])
      array([2, 1, 0])
    """
    batches = (np.argmax(apply(params, xb), axis=-1) for (xb,) in datasets.minibatches((x,), batch_size))
    return np.concatenate(list(batches))


def accuracy(apply, params, x, y, batch_size: int = 1000) -> float:
    """The fraction of ``x`` that the model classifies as ``y``.

    Example:
      >>> accuracy(lambda params, x: x, None, np.eye(3), np.array([0, 1, 0]))
      0.6666666666666666
    """
    return float(np.mean(predict(apply, params, x, batch_size) == y))


def confusion_matrix(labels, predictions, num_classes: int) -> np.ndarray:
    """Counts of (true class, predicted class) pairs: rows are true, columns predicted.

    Example:
      >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), 2)
      array([[1, 0],
             [1, 1]])
    """
    counts = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


@attrs.define
class History:
    """Per-epoch mean training loss, training accuracy and test accuracy, filled in by ``train``.

    Example:
      >>> History().loss, History([0.5], [0.9], [0.8]).test_accuracy
      ([], [0.8])
    """

    loss: list = attrs.field(factory=list)
    accuracy: list = attrs.field(factory=list)
    test_accuracy: list = attrs.field(factory=list)

    def summary(self) -> str:
        """The last epoch in one line, for a progress display.

        Example:
          >>> History([0.25], [0.9], [0.875]).summary()
          'loss 0.2500  train 90.0%  test 87.5%'
        """
        text = f"loss {self.loss[-1]:.4f}  train {100 * self.accuracy[-1]:.1f}%"
        if self.test_accuracy:
            text += f"  test {100 * self.test_accuracy[-1]:.1f}%"
        return text


def _train_epoch(step, params, opt_state, train_data, batch_size: int, shuffle_key):
    """One pass over the shuffled data; returns the state, the mean loss and the accuracy."""
    total_loss, correct = 0.0, 0
    for xb, yb in datasets.minibatches(train_data, batch_size, key=shuffle_key):
        params, opt_state, loss, batch_correct = step(params, opt_state, xb, yb)
        total_loss += float(loss) * len(yb)
        correct += int(batch_correct)
    count = len(train_data[1])
    return params, opt_state, total_loss / count, correct / count


def train(
    model, optimizer, train_data, epochs: int, batch_size: int, key, test_data=None, quiet: bool = False
):
    """Train ``model`` on ``train_data = (x, y)``; return ``(params, history)``.

    ``key`` makes the initial parameters (``fold_in(key, 0)``) and each epoch's shuffle
    (``fold_in(key, epoch + 1)``), so a seed reproduces a run exactly. With ``test_data``
    the model is scored on it after every epoch (``history.test_accuracy``); the test data
    never changes the parameters.

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> x, y = np.array([[0.0], [1.0]] * 8, np.float32), np.array([0, 1] * 8)
      >>> params, history = train(nn.MLP([1, 2]), optim.adam(0.1), (x, y), 20, 4, mr.key(0), (x, y), quiet=True)
      >>> len(history.loss), history.accuracy[-1], history.test_accuracy[-1]
      (20, 1.0, 1.0)
    """
    params = model.init(mr.fold_in(key, 0))
    opt_state = optimizer.init(params)
    step = make_step(model.apply, optimizer)
    history = History()
    bar = progress(epochs, quiet)
    for epoch in range(epochs):
        params, opt_state, loss, train_accuracy = _train_epoch(
            step, params, opt_state, train_data, batch_size, mr.fold_in(key, epoch + 1)
        )
        history.loss.append(loss)
        history.accuracy.append(train_accuracy)
        if test_data is not None:
            history.test_accuracy.append(accuracy(model.apply, params, *test_data))
        bar.update(history.summary())
    bar.close()
    return params, history


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
