"""Splitting and minibatching arrays that share their first (example) axis.

Example:
    >>> import numpy as np
    >>> import minigrad.random as mr
    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> [len(yb) for _, yb in minibatches((X, y), 2, key=mr.key(0))]
    [2, 2, 1]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

import minigrad.random as mr

__all__ = ["minibatches", "train_test_split"]


def _as_arrays(opname: str, arrays) -> tuple[tuple[np.ndarray, ...], bool]:
    single = not isinstance(arrays, (tuple, list))
    arrays = tuple(np.asarray(a) for a in ((arrays,) if single else arrays))
    if not arrays:
        raise ValueError(f"{opname}: need at least one array.")
    lengths = {a.shape[0] if a.ndim else None for a in arrays}
    if None in lengths or len(lengths) > 1:
        raise ValueError(
            f"{opname}: all arrays need the same first (example) axis, got shapes "
            f"{[a.shape for a in arrays]}."
        )
    return arrays, single


def minibatches(arrays, batch_size: int, *, key=None, drop_last: bool = False) -> Iterator:
    """Iterate over minibatches of ``arrays`` (one array, or a tuple sharing axis 0).

    Args:
      arrays: an array or a tuple/list of arrays with the same number of examples.
      batch_size: examples per batch.
      key: a ``minigrad.random`` key to shuffle with (use a new key each epoch, e.g.
        ``fold_in(key, epoch)``); ``None`` keeps the order.
      drop_last: skip a final batch smaller than ``batch_size``.

    Yields:
      Batches shaped like ``arrays``: a tuple of arrays, or one array.

    Example:
      >>> import numpy as np
      >>> [b.tolist() for b in minibatches(np.arange(5), 2)]
      [[0, 1], [2, 3], [4]]
    """
    arrays, single = _as_arrays("minibatches", arrays)
    batch_size = int(batch_size)
    if batch_size < 1:
        raise ValueError(f"minibatches: batch_size must be positive, got {batch_size}.")
    count = arrays[0].shape[0]
    order = np.arange(count) if key is None else mr.permutation(key, count)
    stop = count - count % batch_size if drop_last else count
    for start in range(0, stop, batch_size):
        index = order[start : start + batch_size]
        batch = tuple(a[index] for a in arrays)
        yield batch[0] if single else batch


def train_test_split(arrays, test_fraction: float, key):
    """Shuffle ``arrays`` with ``key`` and split them into a training and a test part.

    Returns:
      ``(train, test)``, each shaped like ``arrays`` (a tuple of arrays, or one array).

    Example:
      >>> import numpy as np
      >>> import minigrad.random as mr
      >>> (X_train, y_train), (X_test, y_test) = train_test_split(
      ...     (np.zeros((10, 3)), np.arange(10)), 0.2, mr.key(0))
      >>> X_train.shape, X_test.shape
      ((8, 3), (2, 3))
    """
    arrays, single = _as_arrays("train_test_split", arrays)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"train_test_split: test_fraction must be in (0, 1), got {test_fraction}.")
    count = arrays[0].shape[0]
    n_test = int(round(count * test_fraction))
    order = mr.permutation(key, count)
    train = tuple(a[order[n_test:]] for a in arrays)
    test = tuple(a[order[:n_test]] for a in arrays)
    return (train[0], test[0]) if single else (train, test)
