"""Data-parallel gradients over the workers of a Dask cluster.

The data is split on its leading axis into one shard per worker and sent once; the
workers keep it in memory. Each step ships only the parameters (and any extra arguments):
every worker returns the value and gradient of its shard's mean loss, weighted by the
shard's share of the data, and the sum is the mean loss over all the data, exactly what
one process computes (the shards may differ in size). The loss function is sent once
too, so each worker process compiles it once per input signature and reuses it.
"""

from __future__ import annotations

import functools
import threading
import uuid
import weakref

import numpy as np

from minigrad.distributed.extras import DASK_MISSING, require
from minigrad.transforms.ad import value_and_grad
from minigrad.transforms.jit import jit
from minigrad.tree import tree_flatten, tree_map

__all__ = ["DataParallel", "shard_sizes"]

NOT_IMPORTABLE = (
    "DataParallel: the workers could not unpickle the loss function ({error}). Workers "
    "import functions by module name, so a function defined in a script or a test file "
    "must be importable on them: install its package on the workers, or pickle its module "
    "by value with cloudpickle.register_pickle_by_value(module) before creating the "
    "DataParallel."
)


def shard_sizes(total: int, parts: int) -> list[int]:
    """Sizes of ``parts`` consecutive shards of ``total`` rows, the larger ones first.

    Args:
      total: the number of rows (the length of the leading axis).
      parts: how many shards (workers).

    Returns:
      A list of ``parts`` sizes that differ by at most one and sum to ``total``.

    Example:
      >>> shard_sizes(10, 3)
      [4, 3, 3]
    """
    if parts < 1:
        raise ValueError(f"shard_sizes: need at least one part, got {parts}.")
    base, extra = divmod(total, parts)
    return [base + 1 if i < extra else base for i in range(parts)]


def _leading_length(data) -> int:
    leaves, _ = tree_flatten(data)
    if not leaves:
        raise ValueError("DataParallel: the data has no arrays to split.")
    lengths = {np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in leaves}
    if len(lengths) != 1 or None in lengths:
        shapes = [np.shape(leaf) for leaf in leaves]
        raise ValueError(
            f"DataParallel: every array of the data is split on its leading axis, so they "
            f"must share its length; got shapes {shapes}."
        )
    return lengths.pop()


# Per process: the compiled gradient of each loss function a worker has seen, so several
# DataParallel objects over one (importable) loss share its programs; and by the token of
# each DataParallel, so every copy of its step in a process (Dask may copy a task's input
# from another worker) finds the same programs even for a loss sent by value.
_BY_FUNCTION: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_BY_TOKEN: dict[str, object] = {}
_LOCK = threading.Lock()


def _compiled_value_and_grad(loss_fn):
    try:
        compiled = _BY_FUNCTION.get(loss_fn)
        if compiled is None:
            compiled = _BY_FUNCTION[loss_fn] = jit(value_and_grad(loss_fn))
        return compiled
    except TypeError:  # not weakly referenceable or not hashable: compile privately
        return jit(value_and_grad(loss_fn))


class _ShardStep:
    """What a worker runs: the jitted ``value_and_grad`` of the loss, built once per process.

    Pickled as the loss function and a token; the compiled programs stay with the process.
    """

    def __init__(self, loss_fn, token: str):
        self.loss_fn = loss_fn
        self.token = token

    def compiled(self):
        with _LOCK:
            compiled = _BY_TOKEN.get(self.token)
            if compiled is None:
                compiled = _BY_TOKEN[self.token] = _compiled_value_and_grad(self.loss_fn)
            return compiled

    def forget(self) -> None:
        with _LOCK:
            _BY_TOKEN.pop(self.token, None)

    def __call__(self, params, shard, args, weight):
        value, grads = self.compiled()(params, shard, *args)
        return value * weight, tree_map(lambda g: g * weight, grads)


def _run_step(step, params, shard, args, weight):
    return step(params, shard, args, weight)


def _check_ready(step):
    return type(step).__name__


def _forget(step):
    step.forget()


def _add_trees(a, b):
    return tree_map(np.add, a, b)


class DataParallel:
    """The mean loss over data kept on the workers of a Dask cluster, and its gradient.

    Args:
      loss_fn: ``loss_fn(params, batch, *args)``, the mean loss over ``batch`` (a pytree
        shaped like ``data`` with fewer rows). It must be importable on the workers (a
        function of an installed module), or its module pickled by value.
      client: a ``dask.distributed.Client``.
      data: a pytree of arrays sharing the length of their leading axis; it is split
        into one shard per worker (sizes differ by at most one) and sent once.
      workers: the worker addresses to use (default: all the client's workers).
      timeout: seconds to wait for a step before raising (default: no limit).

    ``.value_and_grad(params, *args)`` and ``.grad(params, *args)`` then return what
    ``mg.value_and_grad(loss_fn)(params, data, *args)`` returns in one process.

    Example (needs Dask; see docs/scaling.md for a run):
      >>> DataParallel.__name__
      'DataParallel'
    """

    def __init__(self, loss_fn, client, data, *, workers=None, timeout=None):
        require("dask.distributed", "DataParallel", DASK_MISSING)
        self.loss_fn = loss_fn
        self.client = client
        self.timeout = timeout
        total = _leading_length(data)
        if workers is None:
            workers = sorted(client.scheduler_info()["workers"])
        if not workers:
            raise ValueError("DataParallel: the client has no workers.")
        self.total = total
        sizes = [size for size in shard_sizes(total, len(workers)) if size > 0]
        self.workers = list(workers[: len(sizes)])
        self.shard_sizes = sizes
        starts = np.cumsum([0, *sizes])
        self._shards = []
        for address, start, stop in zip(self.workers, starts[:-1], starts[1:], strict=True):
            shard = tree_map(lambda leaf, a=start, b=stop: np.asarray(leaf)[a:b], data)
            # Scattered inside a list: a dict on its own would be read as a map of keys.
            [future] = client.scatter([shard], workers=[address], hash=False)
            self._shards.append(future)
        [self._step] = client.scatter([_ShardStep(loss_fn, uuid.uuid4().hex)], broadcast=True, hash=False)
        probes = [
            client.submit(_check_ready, self._step, workers=[address], pure=False) for address in self.workers
        ]
        try:
            client.gather(probes)
        except (ImportError, AttributeError) as error:
            raise ImportError(NOT_IMPORTABLE.format(error=error)) from error

    def __repr__(self):
        name = getattr(self.loss_fn, "__name__", type(self.loss_fn).__name__)
        return f"DataParallel({name}, rows={self.total}, shards={self.shard_sizes})"

    def value_and_grad(self, params, *args):
        """The mean loss over all the data and its gradient with respect to ``params``.

        Args:
          params: a pytree of arrays (sent to every worker).
          *args: further arguments of ``loss_fn``, the same on every worker.

        Returns:
          ``(value, grads)`` as ``mg.value_and_grad(loss_fn)(params, data, *args)``.
        """
        futures = [
            self.client.submit(
                _run_step,
                self._step,
                params,
                shard,
                args,
                size / self.total,
                workers=[address],
                allow_other_workers=False,
                pure=False,
            )
            for address, shard, size in zip(self.workers, self._shards, self.shard_sizes, strict=True)
        ]
        parts = self.client.gather(futures) if self.timeout is None else _gather(futures, self.timeout)
        # Summed in shard order on the client, so the result does not depend on timing.
        value, grads = functools.reduce(_add_trees, parts)
        return np.asarray(value), grads

    def grad(self, params, *args):
        """The gradient of the mean loss over all the data (see ``value_and_grad``)."""
        return self.value_and_grad(params, *args)[1]

    def close(self):
        """Release the shards and the compiled programs on the workers (the client stays open)."""
        forgotten = [
            self.client.submit(_forget, self._step, workers=[address], pure=False) for address in self.workers
        ]
        self.client.gather(forgotten)
        self.client.cancel([*self._shards, self._step])
        self._shards = []


def _gather(futures, timeout):
    return [future.result(timeout=timeout) for future in futures]
