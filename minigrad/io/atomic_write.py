"""Replacing a file atomically, even in a directory that others can write to.

The new contents go to a temporary file beside the target, which is then renamed over
it, so readers see the old file or the new one, never half of one. Four rules keep this
safe when someone else can write to the directory too:

- The temporary file is created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and its final mode
  (``0o666`` minus the umask, or the mode of the file it replaces), so it is never a
  file someone else placed there and never readable by more people than the result.
- Everything after creation goes through the descriptor (``fchmod``, ``fsync``); nothing
  follows the temporary file's name except the final rename, and the name is checked to
  still be our file just before it.
- Only a regular file is replaced: a symbolic link, FIFO, device or directory at the
  target is refused, not silently turned into a regular file.
- The process umask is never changed (it is shared by every thread).

A temporary file's name carries the writing process's id; a process killed while saving
leaves its file behind, and the next write to the same target removes it.

Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> write_atomically(path, lambda file: file.write(b"hello"))
    >>> open(path, "rb").read()
    b'hello'
"""

from __future__ import annotations

import os
import secrets
import stat

from minigrad.io.files import file_kind

__all__ = ["write_atomically", "temporary_name", "TEMPORARY_SUFFIX"]

TEMPORARY_SUFFIX = ".minigrad-tmp"
_CREATE_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
)


def temporary_name(target_name: str, pid: int) -> str:
    """The name of a temporary file for ``target_name``, written by process ``pid``.

    Example:
      >>> temporary_name("ckpt.npz", 42).startswith(".ckpt.npz.42.")
      True
    """
    return f".{target_name}.{pid}.{secrets.token_hex(6)}{TEMPORARY_SUFFIX}"


def _writer_pid(name: str, target_name: str) -> int | None:
    """The process id in a temporary file's name for ``target_name``, else ``None``."""
    prefix = f".{target_name}."
    if not (name.startswith(prefix) and name.endswith(TEMPORARY_SUFFIX)):
        return None
    pid, _, token = name[len(prefix) : -len(TEMPORARY_SUFFIX)].partition(".")
    return int(pid) if pid.isdigit() and token and int(pid) > 0 else None


def _process_exists(pid: int) -> bool:
    if os.name != "posix":
        return True  # os.kill(pid, 0) would end the process on Windows: never guess there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def _remove_stale_temporaries(directory: str, target_name: str) -> None:
    """Remove temporary files for ``target_name`` whose writing process has died."""
    for name in os.listdir(directory):
        pid = _writer_pid(name, target_name)
        if pid is not None and not _process_exists(pid):
            try:
                os.unlink(os.path.join(directory, name))
            except FileNotFoundError:
                pass  # another writer removed it first


def _existing_target(path: str) -> os.stat_result | None:
    """The status of the regular file at ``path``, ``None`` if there is none; else refuse."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(status.st_mode):
        raise FileExistsError(
            f"io.save: {path} is a symbolic link; save does not replace links nor write "
            "through them (a link can point anywhere). Save to the file it points to, "
            "os.path.realpath(path), or remove the link first."
        )
    if not stat.S_ISREG(status.st_mode):
        raise FileExistsError(
            f"io.save: {path} is a {file_kind(status.st_mode)}, not a regular file; save only "
            "replaces regular files. Choose another path."
        )
    return status


def _create_temporary(directory: str, target_name: str, mode: int) -> tuple[int, str]:
    for _ in range(100):
        path = os.path.join(directory, temporary_name(target_name, os.getpid()))
        try:
            return os.open(path, _CREATE_FLAGS, mode), path
        except FileExistsError:
            continue  # a name someone else took (or planted): draw another
    raise FileExistsError(f"io.save: could not create a temporary file in {directory}.")


def _check_still_ours(temporary: str, fd: int) -> None:
    ours, named = os.fstat(fd), os.lstat(temporary)
    if (ours.st_dev, ours.st_ino) != (named.st_dev, named.st_ino):
        raise PermissionError(
            f"io.save: the temporary file {temporary} was replaced by someone else while "
            "saving, so nothing was written. Another user can write to this directory; save "
            "checkpoints in a directory only you can write to."
        )


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX only; elsewhere directories cannot be opened)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path, write) -> None:
    """Replace the regular file at ``path`` by what ``write(binary_file)`` writes.

    Raises:
      FileExistsError: ``path`` is a symbolic link, directory, FIFO, device or socket.
      PermissionError: the temporary file was swapped for another while writing.
    """
    path = os.fspath(path)
    existing = _existing_target(path)
    directory, target_name = os.path.split(os.path.abspath(path))
    _remove_stale_temporaries(directory, target_name)
    # A new file gets 0o666 minus the umask (the kernel applies it), as open() would give;
    # a replaced file keeps its mode, so a private checkpoint stays private.
    mode = 0o666 if existing is None else stat.S_IMODE(existing.st_mode) & 0o777
    fd, temporary = _create_temporary(directory, target_name, mode)
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            if existing is not None and hasattr(os, "fchmod"):
                os.fchmod(file.fileno(), mode)  # the umask may have removed some of its bits
            os.fsync(file.fileno())
            _check_still_ours(temporary, file.fileno())
            os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _sync_directory(directory)
