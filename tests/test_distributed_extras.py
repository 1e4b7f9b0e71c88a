"""minigrad.distributed without its optional dependencies: lazy imports and clear errors."""

import subprocess
import sys

import numpy as np
import pytest

from minigrad.distributed import DataParallel, pmean, psum, value_and_grad_chunked


def test_importing_minigrad_and_distributed_imports_no_dask_or_mpi():
    code = (
        "import sys, minigrad, minigrad.distributed; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'mpi4py')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"


def test_missing_dask_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)  # import dask now raises ImportError
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ImportError, match=r'pip install "minigrad\[distributed\]"'):
        DataParallel(lambda params, batch: 0.0, client=None, data={"x": np.ones(2)})
    with pytest.raises(ImportError, match=r"value_and_grad_chunked needs Dask"):
        value_and_grad_chunked(lambda params, x: 0.0, np.ones(2), np.ones(2))


def test_missing_mpi_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", None)
    for collective in (psum, pmean):
        with pytest.raises(ImportError, match=r"mpiexec -n N"):
            collective({"w": np.ones(2)})
