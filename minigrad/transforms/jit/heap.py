"""Large temporaries from the heap: glibc's thresholds set once, as it would set them itself.

A jitted training step makes the same temporaries on every call: the activations,
gradients and stacked loop values of a batch, megabytes in all. glibc's ``malloc``
serves a block larger than its mmap threshold with fresh pages from the kernel and
returns them at ``free``; smaller blocks come from its heap, whose free top it returns
to the kernel once that exceeds the trim threshold. Both thresholds start low (128 KiB,
256 KiB) and glibc raises them when it frees a mapped block (to that block's size, up
to 32 MiB, and twice that), so they end near the size of the largest temporary, and a
program whose temporaries add up to more than twice that gives its heap back at the end
of every call and takes it again on the next: a page fault per 4 KiB page touched.
Measured on a 2-core x86_64 VM, one CPU: the GRU training step of
``benchmarks/model_steps.py`` ran 6.5 ms with about 1,090 page faults a call, 3.4 ms with
none once the thresholds were set; the transformer step 64.7 ms (9,400 faults a call)
and 41.6 ms.

So the first compiled program of a process sets both thresholds to the values glibc's
own rule ends at (32 MiB mapped, 64 MiB trimmed): temporaries up to 32 MiB are reused
from the heap, larger ones are still mapped and returned, and at most 64 MiB of free
heap top is kept. Nothing happens on a C library other than glibc, when the process
chose its own thresholds (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or
``GLIBC_TUNABLES``), or when ``MINIGRAD_KEEP_MALLOC=1`` says to leave ``malloc`` alone.
"""

from __future__ import annotations

import ctypes
import os
import platform
import threading

__all__ = ["tune_malloc", "MMAP_THRESHOLD", "TRIM_THRESHOLD"]

# glibc's largest dynamic mmap threshold on 64-bit systems, and its trim rule (2x).
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD

# mallopt's parameter numbers, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

# Settings by which a process (or its user) chose glibc's thresholds: left alone.
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")

_lock = threading.Lock()
_outcome: bool | None = None  # None until tried once: True if the thresholds were set


def tune_malloc() -> bool:
    """Set glibc's mmap and trim thresholds once per process; whether they are set.

    Example:
      >>> tune_malloc() is tune_malloc()
      True
    """
    global _outcome
    if _outcome is None:
        with _lock:
            if _outcome is None:
                _outcome = _set_thresholds()
    return _outcome


def _set_thresholds() -> bool:
    if os.environ.get("MINIGRAD_KEEP_MALLOC") == "1":
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc" or _chosen_at_start():
        return False
    try:
        # The process's own symbols, which hold the C library's (ctypes.util.find_library
        # would start a subprocess to look for it).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success. The mmap threshold first: setting either turns off
    # glibc's dynamic adjustment of both.
    return mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1


def _chosen_at_start() -> bool:
    """Whether the process started with glibc settings of its own. glibc reads them from
    the environment the process started with, which ``/proc/self/environ`` still shows
    (``os.environ`` may have changed since: Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_``
    there for the workers it starts)."""
    try:
        with open("/proc/self/environ", "rb") as environ:
            names = {
                entry.split(b"=", 1)[0].decode("ascii", "replace") for entry in environ.read().split(b"\0")
            }
    except OSError:
        names = set(os.environ)
    return any(name in names for name in _USER_SETTINGS)
