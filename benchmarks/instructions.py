"""Instructions per eager step, counted by valgrind's callgrind: numbers that repeat.

Wall-clock times of small eager steps swing with the machine's load; instruction counts
do not. Run ``python benchmarks/instructions.py`` (valgrind must be installed): each
workload runs in its own process under callgrind, warms up, freezes the garbage
collector's old objects, and runs ``--steps`` steps inside one ``functools.reduce``
call, the only code callgrind counts (``--toggle-collect``). Imports and warm-up are
not counted. The table gives instructions per step and the ratio to the hand-written
NumPy step of ``many_small_ops``.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402 - the thread settings above must precede NumPy's import
import concurrent.futures  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402
from workloads import chain, mg_mlp_step, mlp_params, numpy_chain_grad, rosen  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.numpy as mnp  # noqa: E402


def _vmap_grad_step():
    def loss(w, x):
        return mnp.sum(mnp.tanh(x * w + 0.5) ** 2)

    per_example_grads = mg.vmap(mg.grad(loss), in_axes=(None, 0))
    rng = np.random.default_rng(0)
    w, xs = rng.standard_normal(8), rng.standard_normal((32, 8))
    return lambda: per_example_grads(w, xs)


def _mlp_small_step():
    rng = np.random.default_rng(0)
    params = mlp_params([64, 128, 10])
    x = rng.standard_normal((32, 64)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 32)]
    return lambda: mg_mlp_step(params, x, y)


def _chain_input():
    return np.random.default_rng(0).standard_normal(16)


def _many_small_ops_step():
    gradient = mg.grad(lambda v: chain(mnp.sin, mnp.tanh, v))
    x = _chain_input()
    return lambda: gradient(x)


def _numpy_chain_step():
    x = _chain_input()
    return lambda: numpy_chain_grad(x)


def _hessian_rosen_step():
    hessian = mg.hessian(lambda v: rosen(mnp.sum, v))
    x = np.random.default_rng(0).standard_normal(20)
    return lambda: hessian(x)


# Each builder returns one step as a zero-argument callable.
STEPS = {
    "many_small_ops numpy (hand-written)": _numpy_chain_step,
    "many_small_ops minigrad eager": _many_small_ops_step,
    "mlp_small minigrad eager": _mlp_small_step,
    "hessian_rosen minigrad eager": _hessian_rosen_step,
    "vmap(grad) minigrad eager": _vmap_grad_step,
}


def run_counted_steps(name: str, steps: int) -> None:
    """Inside callgrind: warm up, then run ``steps`` steps in the one counted call."""
    step = STEPS[name]()
    for _ in range(5):
        step()
    gc.collect()
    gc.freeze()
    functools.reduce(lambda _, __: step(), range(steps), None)


def count_instructions(name: str, steps: int) -> float:
    """Instructions per step of workload ``name``, from one callgrind run."""
    with tempfile.TemporaryDirectory() as directory:
        command = [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=functools_reduce",
            f"--callgrind-out-file={os.path.join(directory, 'callgrind.out')}",
            sys.executable,
            os.path.abspath(__file__),
            "--inside",
            name,
            "--steps",
            str(steps),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
    collected = re.search(r"Collected : (\d+)", result.stderr)
    if collected is None:
        raise RuntimeError(f"callgrind reported no count for {name!r}:\n{result.stderr[-2000:]}")
    return int(collected.group(1)) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="counted steps per workload")
    parser.add_argument("--inside", help=argparse.SUPPRESS)  # the process callgrind runs
    args = parser.parse_args(argv)
    if args.inside is not None:
        run_counted_steps(args.inside, args.steps)
        return
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed; it counts the instructions")
    print(f"# instructions per step (callgrind), python {sys.version.split()[0]}, numpy {np.__version__}")
    with concurrent.futures.ThreadPoolExecutor() as pool:
        counts = dict(zip(STEPS, pool.map(lambda name: count_instructions(name, args.steps), STEPS)))
    reference = counts["many_small_ops numpy (hand-written)"]
    print(f"\n| {'step':<36} | {'instructions':>12} | {'vs numpy chain':>14} |")
    print(f"|{'-' * 38}|{'-' * 14}|{'-' * 16}|")
    for name, count in counts.items():
        print(f"| {name:<36} | {count / 1e6:>11.2f}M | {count / reference:>13.2f}x |")


if __name__ == "__main__":
    main()
