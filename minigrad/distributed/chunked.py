"""Out-of-core gradients: the mean loss over Dask arrays too large for memory, chunk by chunk.

Each chunk of rows is loaded, its jitted ``value_and_grad`` computed and weighted by the
chunk's share of the rows, and the results are summed pairwise as they arrive, so only a
few chunks are in memory at once. Chunks of equal shape reuse one compiled program.
"""

from __future__ import annotations

import numpy as np

from minigrad.distributed.extras import DASK_MISSING, require
from minigrad.transforms.ad import value_and_grad
from minigrad.transforms.jit import jit
from minigrad.tree import tree_map

__all__ = ["value_and_grad_chunked"]


def _chunk_value_and_grad(step, params, weight, args, *chunks):
    value, grads = step(params, *chunks, *args)
    return value * weight, tree_map(lambda g: g * weight, grads)


def _add_pair(a, b):
    return tree_map(np.add, a, b)


def value_and_grad_chunked(loss_fn, params, *dask_arrays, args=(), client=None):
    """The mean loss over rows of Dask arrays and its gradient, one chunk of rows at a time.

    Args:
      loss_fn: ``loss_fn(params, *chunks, *args)``, the mean loss over the rows given.
      params: a pytree of arrays.
      *dask_arrays: ``dask.array`` arrays with the same number of rows (leading axis),
        chunked on it (the chunks of the first one are used for all).
      args: further arguments of ``loss_fn``, the same for every chunk.
      client: a ``dask.distributed.Client`` to compute on (default: Dask's current
        scheduler, threads in this process).

    Returns:
      ``(value, grads)``, what ``mg.value_and_grad(loss_fn)(params, *arrays, *args)``
      returns for the whole arrays in memory.

    Example:
      >>> import numpy as np
      >>> import dask.array as da  # doctest: +SKIP
      >>> import minigrad.numpy as mnp
      >>> def loss(w, x, y):
      ...     return mnp.mean((x @ w - y) ** 2)
      >>> x = da.ones((10, 2), chunks=(4, 2)); y = da.zeros(10, chunks=4)  # doctest: +SKIP
      >>> value, g = value_and_grad_chunked(loss, np.ones(2), x, y)  # doctest: +SKIP
      >>> float(value), g  # doctest: +SKIP
      (4.0, array([4., 4.]))
    """
    dask = require("dask", "value_and_grad_chunked", DASK_MISSING)
    if not dask_arrays:
        raise ValueError("value_and_grad_chunked: give at least one dask array of data.")
    rows = {array.shape[0] for array in dask_arrays}
    if len(rows) != 1:
        shapes = [array.shape for array in dask_arrays]
        raise ValueError(
            f"value_and_grad_chunked: the arrays must have the same number of rows; got {shapes}."
        )
    total = rows.pop()
    row_chunks = dask_arrays[0].chunks[0]
    # One block per chunk of rows: all the other axes in one piece, the rows aligned.
    aligned = [array.rechunk((row_chunks,) + tuple(-1 for _ in array.shape[1:])) for array in dask_arrays]
    blocks = [array.to_delayed().reshape(-1) for array in aligned]
    step = jit(value_and_grad(loss_fn))
    delayed = dask.delayed(_chunk_value_and_grad, pure=True)
    parts = [
        delayed(step, params, size / total, tuple(args), *chunk_blocks)
        for size, *chunk_blocks in zip(row_chunks, *blocks, strict=True)
    ]
    add = dask.delayed(_add_pair, pure=True)
    while len(parts) > 1:  # a balanced tree of sums: chunks are released as they are added
        paired = [add(a, b) for a, b in zip(parts[0::2], parts[1::2], strict=False)]
        parts = paired + ([parts[-1]] if len(parts) % 2 else [])
    total_value = client.compute(parts[0]).result() if client is not None else parts[0].compute()
    value, grads = total_value
    return np.asarray(value), grads
