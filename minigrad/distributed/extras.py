"""The optional dependencies, imported on first use with an error that says how to install them."""

from __future__ import annotations

import importlib

DASK_MISSING = (
    "minigrad.distributed.{what} needs Dask's distributed scheduler, which is not installed: "
    'pip install "minigrad[distributed]" (or: pip install "dask[array]" distributed).'
)
MPI_MISSING = (
    "minigrad.distributed.{what} needs mpi4py and an MPI library, which are not installed: "
    'pip install "minigrad[mpi]" (or: pip install mpi4py mpich), then start the program with '
    "mpiexec -n N python program.py."
)


def require(module: str, what: str, message: str):
    """Import ``module`` or raise ``ImportError`` with ``message`` (naming ``what`` needs it).

    Example:
      >>> require("math", "psum", MPI_MISSING).sqrt(4.0)
      2.0
      >>> require("no_such_module_here", "psum", MPI_MISSING)  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ImportError: minigrad.distributed.psum needs mpi4py and an MPI library, ...
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(message.format(what=what)) from error
