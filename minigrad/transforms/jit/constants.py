"""Arrays a jitted function closes over: copied once, shared by all its programs.

A program's closed-over arrays are constants captured when it is traced (as in JAX), so
later writes into the caller's array do not reach a cached program. Each signature is
traced separately, and copying the same table for each would multiply its memory by the
number of signatures; ``ConstantSnapshots`` keeps one copy per array and hands it to
every trace that finds the array unchanged.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

__all__ = ["ConstantSnapshots"]


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays hold the same bytes (so ``-0.0`` and ``0.0`` differ, NaNs match)."""
    if a.shape != b.shape or a.dtype != b.dtype or a.dtype.hasobject:
        return False
    a_bytes = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
    b_bytes = np.ascontiguousarray(b).reshape(-1).view(np.uint8)
    return bool(np.array_equal(a_bytes, b_bytes))


class ConstantSnapshots:
    """Copies of the arrays one jitted function closes over, shared by all its programs.

    A program's closed-over arrays are captured when it is traced, so later writes into
    the caller's array do not reach it. Every signature traces again and would copy the
    same table again (20 shapes of a function closing over 8 MB would hold 160 MB); here
    a trace reuses the earlier copy when the array still holds the same bytes. A copy
    lives as long as a cached program uses it.

    Example:
      >>> table = np.arange(3.0)
      >>> snapshots = ConstantSnapshots()
      >>> first = snapshots.snapshot(table)
      >>> first is not table, snapshots.snapshot(table) is first
      (True, True)
      >>> table[0] = 7.0  # a changed array gets a new copy
      >>> snapshots.snapshot(table)
      array([7., 1., 2.])
    """

    def __init__(self):
        # id of the caller's array -> its copy; an entry goes when no program holds the copy
        self._copies: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    def snapshot(self, value: np.ndarray) -> np.ndarray:
        """A copy of ``value`` with its current contents, shared when one exists already."""
        with self._lock:
            copy = self._copies.get(id(value))
        # Comparing the bytes is what makes sharing safe: an id may be reused by another
        # array, and the caller may have written into the array since the last trace.
        if copy is not None and _same_bits(copy, value):
            return copy
        copy = np.array(value)
        with self._lock:
            self._copies[id(value)] = copy
        return copy

    def clear(self) -> None:
        """Forget every copy (programs still holding one keep it)."""
        with self._lock:
            self._copies.clear()
