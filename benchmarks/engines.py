"""Time per training step of each engine: NumPy jit, torch jit, Dask DataParallel, MPI.

One gradient of the mean cross-entropy of an MLP over the handwritten digits (1438
rows of 64 pixels), at two model sizes, computed by:

- ``numpy jit``: ``mg.jit(mg.value_and_grad(loss))`` on NumPy arrays, one process;
- ``torch jit``: the same function on torch CPU tensors (the Array API code writer);
- ``dask 2 workers``: ``DataParallel`` over a ``LocalCluster`` of 2 worker processes;
- ``mpi 2 ranks``: ``mpiexec -n 2`` copies of this script, each taking the gradient of
  its half and summing with ``psum`` (when mpi4py and mpiexec are installed).

Then the digits training step (gradient and Adam update, jitted as one function) on
torch CPU against NumPy. Rounds are interleaved and the medians reported, with the
overhead of each engine over ``numpy jit`` in the same run. The process is pinned to one
CPU with one BLAS/torch thread (the workers and ranks get one thread each, one core
each where there are two).

Run: ``python benchmarks/engines.py [--rounds 7] [--steps 10]``.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402 - the thread settings above must precede NumPy's import
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.numpy as mnp  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from minigrad.examples.digits import load_data  # noqa: E402

SIZES = {"small": (64, 64, 10), "large": (64, 512, 512, 10)}


def init_params(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [
        {"w": rng.normal(size=(m, n)) / np.sqrt(m), "b": np.zeros(n)}
        for m, n in zip(sizes[:-1], sizes[1:], strict=False)
    ]


def mlp_loss(params, batch):
    h = batch["x"]
    for layer in params[:-1]:
        h = mnp.tanh(h @ layer["w"] + layer["b"])
    logits = h @ params[-1]["w"] + params[-1]["b"]
    return nn.softmax_cross_entropy(logits, batch["y"])


def digits():
    (x, y), _ = load_data()
    return {"x": x.reshape(len(x), 64).astype(np.float64), "y": y}


def param_count(params) -> int:
    return sum(leaf.size for leaf in mg.tree.tree_leaves(params))


def per_step(fn, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - start) / steps


def interleaved(candidates: dict, rounds: int, steps: int) -> dict:
    """Median seconds per step of each candidate, the rounds interleaved."""
    for fn in candidates.values():
        fn()  # compile, connect, warm up
    times = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            times[name].append(per_step(fn, steps))
    return {name: statistics.median(values) for name, values in times.items()}


def torch_module():
    try:
        import torch  # noqa: PLC0415 - optional peer, imported only when benchmarked

        torch.set_num_threads(1)
        return torch
    except ImportError:
        return None


def dask_client():
    try:
        from dask.distributed import Client, LocalCluster  # noqa: PLC0415 - optional extra
    except ImportError:
        return None, None
    cluster = LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
        env={name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
    )  # fmt: skip
    return cluster, Client(cluster)


def engine_rows(data, rounds: int, steps: int, torch, client) -> dict:
    rows = {}
    for size_name, sizes in SIZES.items():
        params = init_params(sizes)
        step = mg.jit(mg.value_and_grad(mlp_loss))
        candidates = {"numpy jit": lambda p=params, step=step: step(p, data)}
        if torch is not None:
            like = torch.zeros(1, dtype=torch.float64)
            params_t, data_t = mg.device_put(params, like), mg.device_put(data, like)
            want = step(params, data)[1]
            got = mg.device_get(step(params_t, data_t)[1])
            for g, w in zip(mg.tree.tree_leaves(got), mg.tree.tree_leaves(want), strict=True):
                np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-14)
            candidates["torch jit"] = lambda p=params_t, d=data_t, step=step: step(p, d)
        parallel = None
        if client is not None:
            from minigrad.distributed import DataParallel  # noqa: PLC0415 - optional extra

            parallel = DataParallel(mlp_loss, client, data)
            candidates["dask 2 workers"] = lambda p=params, dp=parallel: dp.value_and_grad(p)
        rows[size_name] = (param_count(params), interleaved(candidates, rounds, steps))
        if parallel is not None:
            parallel.close()
    return rows


def digits_step_rows(data, rounds: int, steps: int, torch) -> dict:
    opt = optim.adam(1e-3)

    @mg.jit
    def train_step(params, state, batch):
        _, grads = mg.value_and_grad(mlp_loss)(params, batch)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state

    params = init_params((64, 256, 10))
    state = opt.init(params)
    candidates = {"numpy": lambda: train_step(params, state, data)}
    if torch is not None:
        like = torch.zeros(1, dtype=torch.float64)
        moved = mg.device_put((params, state, data), like)
        candidates["torch"] = lambda: train_step(*moved)
    return interleaved(candidates, rounds, steps)


# -- MPI: this script started as 2 ranks -------------------------------------------------------


def mpi_rank_main(rounds: int, steps: int) -> None:
    from mpi4py import MPI  # noqa: PLC0415 - only in the ranks started by mpiexec

    from minigrad.distributed import psum  # noqa: PLC0415

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[rank % len(cpus)]})
    data = digits()
    rows = len(data["y"])
    bounds = np.linspace(0, rows, size + 1).round().astype(int)
    mine = {k: v[bounds[rank] : bounds[rank + 1]] for k, v in data.items()}
    share = (bounds[rank + 1] - bounds[rank]) / rows
    for size_name, sizes in SIZES.items():
        params = init_params(sizes)
        step = mg.jit(mg.value_and_grad(mlp_loss))

        def spmd_step(params=params, step=step):
            value, grads = step(params, mine)
            return psum((share * value, mg.tree.tree_map(lambda g: share * g, grads)))

        spmd_step()
        comm.Barrier()
        times = []
        for _ in range(rounds):
            comm.Barrier()
            times.append(per_step(spmd_step, steps))
        if rank == 0:
            print(f"MPI {size_name} {statistics.median(times)!r}", flush=True)


def mpi_rows(rounds: int, steps: int) -> dict:
    mpiexec = shutil.which("mpiexec")
    try:
        import mpi4py  # noqa: F401, PLC0415 - only asks whether it is installed
    except ImportError:
        return {}
    if mpiexec is None:
        return {}
    command = [
        mpiexec,
        "-n",
        "2",
        sys.executable,
        __file__,
        "--mpi-rank",
        "--rounds",
        str(rounds),
        "--steps",
        str(steps),
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=1200, check=True).stdout
    return {line.split()[1]: float(line.split()[2]) for line in out.splitlines() if line.startswith("MPI ")}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--mpi-rank", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.mpi_rank:
        mpi_rank_main(args.rounds, args.steps)
        return
    torch = torch_module()
    cluster, client = dask_client()  # started before pinning: the workers get both cores
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    data = digits()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, torch {getattr(torch, '__version__', 'absent')}; "
          f"{args.rounds} rounds of {args.steps} steps, medians")  # fmt: skip
    try:
        rows = engine_rows(data, args.rounds, args.steps, torch, client)
    finally:
        if client is not None:
            client.close()
            cluster.close()
    mpi = mpi_rows(args.rounds, args.steps)
    print(f"\ngradient of the mean loss over {len(data['y'])} rows, ms per step (overhead over numpy jit)")
    for size_name, (count, times) in rows.items():
        if size_name in mpi:
            times["mpi 2 ranks"] = mpi[size_name]
        base = times["numpy jit"]
        cells = [f"{name} {t * 1e3:.2f} ({(t - base) * 1e3:+.2f})" for name, t in times.items()]
        print(f"  {size_name:5} MLP {SIZES[size_name]}, {count} parameters: " + "; ".join(cells))
    digits_times = digits_step_rows(data, args.rounds, args.steps, torch)
    line = "; ".join(f"{name} {t * 1e3:.2f} ms" for name, t in digits_times.items())
    ratio = (
        f", torch/numpy {digits_times['torch'] / digits_times['numpy']:.2f}"
        if "torch" in digits_times
        else ""
    )
    print(f"\ndigits training step (64-256-10, Adam, jitted): {line}{ratio}")


if __name__ == "__main__":
    main()
