"""Collectives over the ranks of an SPMD program started with ``mpiexec -n N``.

Every rank runs the same program on its own part of the data; ``psum`` and ``pmean``
combine a pytree of arrays (a gradient, say) across ranks with ``MPI_Allreduce``, so
every rank gets the same result and takes the same optimizer step.
"""

from __future__ import annotations

import numpy as np

from minigrad.distributed.extras import MPI_MISSING, require
from minigrad.tree import tree_flatten, tree_unflatten

__all__ = ["pmean", "psum"]


def _world(comm):
    if comm is not None:
        return comm
    return require("mpi4py.MPI", "psum", MPI_MISSING).COMM_WORLD


def psum(tree, comm=None):
    """Sum a pytree of arrays over all ranks; every rank receives the sum.

    Args:
      tree: a pytree of arrays (the same structure, shapes and dtypes on every rank).
      comm: an ``mpi4py`` communicator (default: ``MPI.COMM_WORLD``).

    Returns:
      The pytree of sums, as NumPy arrays.

    Example (one rank without ``mpiexec``: the sum is the value itself):
      >>> import numpy as np
      >>> psum({"w": np.ones(2)})  # doctest: +SKIP
      {'w': array([1., 1.])}
    """
    world = _world(comm)
    leaves, treedef = tree_flatten(tree)
    summed = []
    for leaf in leaves:
        send = np.asarray(leaf, order="C")  # keeps 0-d leaves 0-d, unlike ascontiguousarray
        receive = np.empty_like(send)
        world.Allreduce(send, receive)
        summed.append(receive)
    return tree_unflatten(treedef, summed)


def pmean(tree, comm=None):
    """Average a pytree of arrays over all ranks (``psum`` divided by the number of ranks).

    Example:
      >>> import numpy as np
      >>> pmean([np.arange(3.0)])  # doctest: +SKIP
      [array([0., 1., 2.])]
    """
    world = _world(comm)
    size = world.Get_size()
    leaves, treedef = tree_flatten(psum(tree, world))
    return tree_unflatten(treedef, [np.asarray(leaf / size) for leaf in leaves])
