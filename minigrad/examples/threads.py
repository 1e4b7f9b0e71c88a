"""Run the examples' BLAS on one thread, the setting that helps at their sizes.

The examples multiply small matrices (a batch of 32 by 64x256 for the digits MLP). At
those sizes a second BLAS thread only adds synchronisation, and on a busy machine it
waits for a core: on a shared 2-core x86_64 CPU the digits MLP trained in 0.6-1.0 s with
one OpenBLAS thread and in 21-35 s with two or the default (the README's "Examples"
section has the measurements). So the examples pin BLAS to one thread, unless the user has chosen a
number through one of the usual environment variables.

BLAS reads those variables once, when NumPy loads it, and ``import minigrad`` has loaded
NumPy before an example's code runs. Two ways remain: threadpoolctl, when installed,
changes the limit in the running process; without it, an example started with
``python -m`` sets the variables and starts itself again, once. The library itself never
changes thread settings.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

__all__ = ["THREAD_VARIABLES", "blas_threads", "user_choice", "run_program"]

# The variables OpenBLAS, MKL, Apple's Accelerate and OpenMP builds read at start-up.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
# Set in the restarted process, so it never restarts again.
_RESTARTED = "MINIGRAD_EXAMPLE_RESTARTED"


def user_choice() -> str | None:
    """The first BLAS thread variable the user set, as ``NAME=value``, or None.

    Example:
      >>> import os
      >>> user_choice() == next((f"{v}={os.environ[v]}" for v in THREAD_VARIABLES if v in os.environ), None)
      True
    """
    for name in THREAD_VARIABLES:
        if name in os.environ:
            return f"{name}={os.environ[name]}"
    return None


def _count(threads) -> str:
    return "1 BLAS thread" if str(threads) == "1" else f"{threads} BLAS threads"


@contextlib.contextmanager
def blas_threads(threads: int = 1):
    """Limit BLAS to ``threads`` threads inside the block; yields what is in effect.

    The user's environment variables win; without them the limit comes from threadpoolctl
    (when installed) or from the variables ``run_program`` set before NumPy loaded.

    Example:
      >>> with blas_threads(1) as setting:
      ...     isinstance(setting, str)
      True
    """
    if os.environ.get(_RESTARTED):
        yield f"{_count(os.environ[THREAD_VARIABLES[0]])}, set by the example"
        return
    chosen = user_choice()
    if chosen is not None:
        yield f"BLAS threads from {chosen}"
        return
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - an optional dependency
    except ImportError:
        yield "BLAS threads at the library's default (pip install threadpoolctl to pin them)"
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield f"{_count(threads)}, set with threadpoolctl"


def _threadpoolctl_installed() -> bool:
    try:
        import threadpoolctl  # noqa: F401, PLC0415 - an optional dependency, only probed
    except ImportError:
        return False
    return True


def run_program(module: str, main, threads: int = 1) -> None:
    """Run ``main()`` for ``python -m module``, restarting once to pin BLAS if need be.

    A restart is needed only when threadpoolctl is missing and the user set no thread
    variable: then the variables are set to ``threads`` and the module runs again in a new
    interpreter, whose NumPy reads them when it loads.
    """
    if user_choice() is not None or os.environ.get(_RESTARTED) or _threadpoolctl_installed():
        main()
        return
    environment = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, str(threads)), _RESTARTED: "1"}
    command = [sys.executable, "-m", module, *sys.argv[1:]]
    sys.stdout.flush()
    if os.name == "posix":
        os.execve(sys.executable, command, environment)  # replaces this process; no return
    sys.exit(subprocess.run(command, env=environment, check=False).returncode)
