"""Cache slots being filled, and the threads waiting for them.

When a jitted function misses its cache, the calling thread reserves the key with a
``PendingSlot`` and traces; other threads missing the same key wait for that slot
rather than tracing again. Waiting can go round in a circle: thread A tracing ``f``
calls ``g`` while thread B, tracing ``g``, calls ``f``. Every wait is recorded in one
process-wide waits-for graph, and a wait that would close a circle raises
``RecursionError`` (the error one thread making the same calls gets) instead of hanging.

Example:
    >>> slots = []
    >>> tracer = threading.Thread(target=lambda: slots.append(PendingSlot("f")))
    >>> tracer.start(); tracer.join()  # another thread reserved a slot...
    >>> slots[0].done.set()  # ...and filled it
    >>> wait_for(slots[0], "f")  # so this returns at once
"""

from __future__ import annotations

import threading

__all__ = ["PendingSlot", "wait_for"]


class PendingSlot:
    """A cache slot a thread is filling; other threads block on ``done``."""

    def __init__(self, name: str):
        self.done = threading.Event()
        self.thread = threading.get_ident()
        self.name = name  # the jitted function's, for the message about a cycle


# Which pending slot each thread is waiting for, across every jitted function: the
# waits-for graph in which two threads tracing functions that call each other could
# wait in a circle. Checking and recording a wait happen under one lock, so of two
# threads closing a circle the second one sees it.
_WAITING_FOR: dict = {}
_WAITING_LOCK = threading.Lock()


def _waiting_chain(slot: PendingSlot, me: int) -> list[str] | None:
    """The functions in a circle of waits that waiting for ``slot`` would close, or None."""
    names = [slot.name]
    owner = slot.thread
    seen = set()
    while owner != me:
        next_slot = _WAITING_FOR.get(owner)
        if next_slot is None or owner in seen:
            return None
        seen.add(owner)
        names.append(next_slot.name)
        owner = next_slot.thread
    return names


def wait_for(slot: PendingSlot, name: str) -> None:
    """Wait until another thread has filled ``slot``; raise if that would wait forever."""
    me = threading.get_ident()
    with _WAITING_LOCK:
        chain = _waiting_chain(slot, me)
        if chain is None:
            _WAITING_FOR[me] = slot
    if chain is not None:
        raise RecursionError(
            f"jit({name}): another thread is tracing it for these arguments and waits, through "
            f"{' -> '.join(f'jit({n})' for n in chain[1:])}, for this thread to finish tracing: "
            "the functions call each other with the same argument signatures, a "
            "recursion that would never end (in one thread it raises this error at once). "
            "Recurse on a static argument (static_argnums) or on shapes that shrink."
        )
    try:
        slot.done.wait()
    finally:
        with _WAITING_LOCK:
            del _WAITING_FOR[me]
