"""io.save writes atomically without trusting the directory (minigrad.io.atomic_write).

Each attack test would have shown the attack working against the former ``save``, which
chmodded and renamed its temporary file by name and flipped the process umask.
"""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import minigrad
from minigrad import io
from minigrad.io.atomic_write import TEMPORARY_SUFFIX, temporary_name

REPOSITORY = os.path.dirname(os.path.dirname(minigrad.__file__))


def mode_of(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_symlink_swapped_in_for_the_temporary_file_changes_nothing(tmp_path, monkeypatch):
    victim = tmp_path / "private" / "secret.key"
    victim.parent.mkdir()
    victim.write_bytes(b"secret")
    victim.chmod(0o600)
    shared = tmp_path / "shared"
    shared.mkdir()
    real_savez = np.savez

    def savez_then_swap(file, **entries):
        # What another user of the shared directory can do while the saver writes.
        real_savez(file, **entries)
        (temporary,) = [name for name in os.listdir(shared) if name.endswith(TEMPORARY_SUFFIX)]
        os.unlink(shared / temporary)
        os.symlink(victim, shared / temporary)

    monkeypatch.setattr(np, "savez", savez_then_swap)
    with pytest.raises(PermissionError, match="replaced by someone else"):
        io.save(shared / "ckpt.npz", {"w": np.ones(2)})
    assert mode_of(victim) == 0o600 and victim.read_bytes() == b"secret"
    assert not os.path.lexists(shared / "ckpt.npz")


def test_the_umask_is_never_changed(tmp_path, monkeypatch):
    def no_umask(mask):
        raise AssertionError("io.save changed the process umask")

    old = os.umask(0o077)
    try:
        monkeypatch.setattr(os, "umask", no_umask)
        io.save(tmp_path / "p.npz", [np.ones(1)])
    finally:
        monkeypatch.undo()
        os.umask(old)
    assert mode_of(tmp_path / "p.npz") == 0o600  # 0o666 minus the caller's umask


def test_concurrent_saves_keep_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        threads = [
            threading.Thread(target=io.save, args=(tmp_path / f"{i}.npz", [np.ones(1)])) for i in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert os.umask(0o077) == 0o077
    finally:
        os.umask(old)
    assert {mode_of(tmp_path / f"{i}.npz") for i in range(8)} == {0o600}


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_resaving_keeps_the_files_mode(tmp_path, mode):
    path = tmp_path / "p.npz"
    io.save(path, [np.ones(1)])
    path.chmod(mode)
    io.save(path, [np.zeros(1)])
    assert mode_of(path) == mode and float(io.load(path)[0][0]) == 0.0


def test_fifos_and_directories_are_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FileExistsError, match="pipe is a FIFO.*not a regular file"):
        io.save(fifo, [np.ones(1)])
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    (tmp_path / "dir").mkdir()
    with pytest.raises(FileExistsError, match="directory"):
        io.save(tmp_path / "dir", [np.ones(1)])
    assert sorted(os.listdir(tmp_path)) == ["dir", "pipe"]  # no temporary file left


def test_a_symlink_target_is_refused_and_left_alone(tmp_path):
    target = tmp_path / "real.npz"
    io.save(target, [np.ones(1)])
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    with pytest.raises(FileExistsError, match="symbolic link.*realpath"):
        io.save(link, [np.zeros(1)])
    assert link.is_symlink() and float(io.load(target)[0][0]) == 1.0


def test_a_save_killed_midway_leaves_a_temporary_file_the_next_save_removes(tmp_path):
    path = tmp_path / "ckpt.npz"
    script = textwrap.dedent(
        """
        import os, signal, sys
        import numpy as np
        from minigrad import io
        real_savez = np.savez
        def savez_then_die(file, **entries):
            real_savez(file, **entries)
            file.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        np.savez = savez_then_die
        io.save(sys.argv[1], {"w": np.zeros(1000)})
        """
    )
    environment = dict(os.environ, PYTHONPATH=REPOSITORY)
    run = subprocess.run([sys.executable, "-c", script, str(path)], env=environment, timeout=60)
    assert run.returncode == -signal.SIGKILL
    (stale,) = os.listdir(tmp_path)
    assert stale.startswith(".ckpt.npz.") and os.path.getsize(tmp_path / stale) > 8000
    # A temporary file of a live writer (this process) must survive the cleanup.
    live = tmp_path / temporary_name("ckpt.npz", os.getpid())
    live.write_bytes(b"being written")
    io.save(path, [np.ones(1)])
    assert sorted(os.listdir(tmp_path)) == sorted(["ckpt.npz", live.name])
