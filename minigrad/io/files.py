"""Only regular files: opening one for reading, and naming what else sits at a path.

A checkpoint is read from and written to regular files only. A FIFO would block the
reader until someone writes to it, a device such as ``/dev/zero`` would be read forever,
and replacing either by a regular file would break whatever used it.

Example:
    >>> import os
    >>> file_kind(os.stat(".").st_mode)
    'directory'
"""

from __future__ import annotations

import os
import stat

from minigrad.io.errors import UnreadableError

__all__ = ["file_kind", "open_regular_file"]

_FILE_KINDS = {
    stat.S_ISDIR: "directory",
    stat.S_ISFIFO: "FIFO (named pipe)",
    stat.S_ISCHR: "character device",
    stat.S_ISBLK: "block device",
    stat.S_ISSOCK: "socket",
}


def file_kind(mode: int) -> str:
    """'regular file', 'directory', 'FIFO (named pipe)', ... for an ``st_mode``."""
    if stat.S_ISREG(mode):
        return "regular file"
    if stat.S_ISLNK(mode):
        return "symbolic link"
    return next((name for test, name in _FILE_KINDS.items() if test(mode)), "special file")


def open_regular_file(path: str):
    """``path`` opened for binary reading; anything but a regular file is refused.

    Opening does not block: a FIFO would otherwise wait for a writer, and a device such as
    ``/dev/zero`` would be read forever.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise UnreadableError(f"is a {file_kind(mode)}, not a regular file", foreign=True)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")
