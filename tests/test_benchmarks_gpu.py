"""benchmarks/gpu.py without a GPU: a clear message and a clean exit, nothing timed."""

import importlib
import os
import pathlib
import subprocess
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "benchmarks" / "gpu.py"


def _has_gpu() -> bool:
    try:
        if importlib.import_module("torch").cuda.is_available():
            return True
    except ImportError:
        pass
    try:
        return importlib.import_module("cupy").cuda.runtime.getDeviceCount() > 0
    except Exception:  # no CuPy, or no driver: no GPU for it
        return False


@pytest.mark.skipif(_has_gpu(), reason="a GPU is present: the script would measure it")
def test_gpu_script_without_a_gpu_says_so_and_exits_cleanly():
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "1"], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "no GPU found" in done.stdout and "pip install cupy" in done.stdout
    assert "ms" not in done.stdout  # nothing was timed
