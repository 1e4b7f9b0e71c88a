"""psum/pmean over MPI ranks: an SPMD program under ``mpiexec -n 2`` gets the one-process gradient."""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from minigrad.distributed import pmean, psum

MPI = pytest.importorskip("mpi4py.MPI", reason='needs pip install "minigrad[mpi]"')
MPIEXEC = shutil.which("mpiexec")
REPO_ROOT = str(pathlib.Path(__file__).resolve().parents[1])

# Each rank takes its (unequal) share of 11 rows, weights its mean loss's gradient by that
# share and sums over ranks; rank 0 compares with the gradient over all rows.
SPMD_PROGRAM = """
import numpy as np
from mpi4py import MPI
import minigrad as mg
import minigrad.numpy as mnp
from minigrad.distributed import pmean, psum

def loss(w, x, y):
    return mnp.mean(mnp.tanh(x @ w - y) ** 2)

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
rng = np.random.default_rng(0)
x, y, w = rng.normal(size=(11, 3)), rng.normal(size=11), rng.normal(size=3)
bounds = np.linspace(0, 11, size + 1).round().astype(int)
mine = slice(bounds[rank], bounds[rank + 1])
share = (bounds[rank + 1] - bounds[rank]) / 11
value, grads = mg.value_and_grad(loss)(w, x[mine], y[mine])
total_value, total_grads = psum((share * value, share * grads))
expected_value, expected_grads = mg.value_and_grad(loss)(w, x, y)
np.testing.assert_allclose(total_value, expected_value, rtol=1e-12)
np.testing.assert_allclose(total_grads, expected_grads, rtol=1e-12)
np.testing.assert_allclose(pmean({"r": np.float64(rank)})["r"], (size - 1) / 2)
print(f"rank {rank} of {size}: ok")
"""


def test_one_rank_without_mpiexec_sums_nothing_away():
    tree = {"w": np.arange(3.0), "n": np.int64(4)}
    summed = psum(tree)
    np.testing.assert_array_equal(summed["w"], tree["w"])
    assert summed["n"].shape == () and summed["n"] == 4
    np.testing.assert_array_equal(pmean(tree)["w"], tree["w"])


@pytest.mark.skipif(MPIEXEC is None, reason="mpiexec is not on the PATH")
def test_spmd_gradient_over_two_ranks_equals_one_process():
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [REPO_ROOT, os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        [MPIEXEC, "-n", "2", sys.executable, "-c", SPMD_PROGRAM],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The ranks' lines reach mpiexec's pipe independently and may interleave mid-line.
    assert sorted(re.findall(r"rank \d of \d: ok", result.stdout)) == [
        "rank 0 of 2: ok",
        "rank 1 of 2: ok",
    ]
