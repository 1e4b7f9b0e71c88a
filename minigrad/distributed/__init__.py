"""Scaling gradients out: data-parallel over Dask workers, out of core, and over MPI ranks.

- ``DataParallel(loss_fn, client, data)``: the data is split on its leading axis and sent
  once to the workers of a ``dask.distributed.Client``; each step ships only the
  parameters and returns the value and gradient of the mean loss over all the data,
  as the one-process ``value_and_grad`` does (unequal shards included).
- ``value_and_grad_chunked(loss_fn, params, *dask_arrays)``: the same for data larger
  than memory, one jitted gradient per chunk, summed.
- ``psum(tree)`` / ``pmean(tree)``: sum or average a pytree over the ranks of an SPMD
  program started with ``mpiexec``.

Dask and MPI are optional (``pip install "minigrad[distributed]"``, ``"minigrad[mpi]"``);
they are imported when first needed, so this package imports without them.

Example:
  >>> import minigrad.distributed as mgd
  >>> sorted(mgd.__all__)
  ['DataParallel', 'pmean', 'psum', 'shard_sizes', 'value_and_grad_chunked']
"""

from minigrad.distributed.chunked import value_and_grad_chunked
from minigrad.distributed.data_parallel import DataParallel, shard_sizes
from minigrad.distributed.mpi import pmean, psum

__all__ = ["DataParallel", "pmean", "psum", "shard_sizes", "value_and_grad_chunked"]
