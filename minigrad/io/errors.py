"""What goes wrong when reading a checkpoint, as exceptions.

``CheckpointError`` is the public one. The readers below ``io.load`` raise ``UnreadableError``
with the reason only; ``io.load`` adds the file's path and turns it into a
``CheckpointError``, so every message names the file once.
"""

from __future__ import annotations

__all__ = ["CheckpointError", "UnreadableError"]


class CheckpointError(ValueError):
    """A file that is not a minigrad checkpoint, or one that is truncated or corrupted."""

    # Shown in tracebacks as minigrad.io.CheckpointError, where users import it from.
    __module__ = "minigrad.io"


class UnreadableError(Exception):
    """Why a file cannot be read as a checkpoint; the message continues after its path.

    ``foreign`` says the file is of another kind (not truncated or damaged).
    """

    def __init__(self, reason: str, *, foreign: bool = False):
        super().__init__(reason)
        self.foreign = foreign
