"""jit on a GPU: CuPy and torch CUDA against NumPy, agreement and speed.

For each GPU library found (CuPy, torch with CUDA), a jitted training step of an MLP
(gradient and an SGD update) and a jitted batched linear solve run on the GPU and on
NumPy from the same inputs; the script checks that the results agree (float64, rtol
1e-10) and prints the median time of each (the GPU synchronised before the clock
stops) and their ratio. Without a GPU it says so and exits with status 0 and nothing
timed: the script is safe to run anywhere, CI included.

Run: ``python benchmarks/gpu.py [--rounds 7] [--steps 20]``.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time

import numpy as np

import minigrad as mg
import minigrad.numpy as mnp

NO_GPU = (
    "benchmarks/gpu.py: no GPU found (neither CuPy with a CUDA device nor torch with CUDA); "
    "nothing to measure. Run it on a machine with an NVIDIA GPU and `pip install cupy-cuda12x` "
    "or a CUDA build of torch."
)


def gpu_libraries() -> dict:
    """``{name: (like, synchronize)}`` for each usable GPU library: an array on the GPU
    (``device_put`` moves data next to it) and a function waiting for the GPU."""
    found = {}
    try:
        cupy = importlib.import_module("cupy")
        if cupy.cuda.runtime.getDeviceCount() > 0:
            found["cupy"] = (cupy.zeros(1), cupy.cuda.Device().synchronize)
    except Exception:  # not installed, or no driver or device: no CuPy here
        pass
    try:
        torch = importlib.import_module("torch")
        if torch.cuda.is_available():
            found["torch cuda"] = (torch.zeros(1, dtype=torch.float64, device="cuda"), torch.cuda.synchronize)
    except ImportError:
        pass
    return found


def mlp_loss(params, x, y):
    h = mnp.tanh(x @ params["w1"] + params["b1"])
    return mnp.mean((h @ params["w2"] - y) ** 2)


@mg.jit
def sgd_step(params, x, y):
    loss, grads = mg.value_and_grad(mlp_loss)(params, x, y)
    return loss, mg.tree.tree_map(lambda p, g: p - 0.1 * g, params, grads)


@mg.jit
def batched_solve(a, b):
    return mnp.linalg.solve(a, b)


def workloads(rng) -> dict:
    params = {
        "w1": rng.normal(size=(256, 1024)) / 16,
        "b1": np.zeros(1024),
        "w2": rng.normal(size=(1024, 10)) / 32,
    }
    x, y = rng.normal(size=(4096, 256)), rng.normal(size=(4096, 10))
    a = rng.normal(size=(256, 64, 64)) + 8 * np.eye(64)
    b = rng.normal(size=(256, 64, 4))
    return {"mlp sgd step": (sgd_step, (params, x, y)), "batched solve": (batched_solve, (a, b))}


def seconds(fn, args, steps: int, synchronize) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        fn(*args)
    synchronize()
    return (time.perf_counter() - start) / steps


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args(argv)
    libraries = gpu_libraries()
    if not libraries:
        print(NO_GPU)
        return 0
    rng = np.random.default_rng(0)
    for name, (fn, inputs) in workloads(rng).items():
        reference = fn(*inputs)
        for library, (like, synchronize) in libraries.items():
            moved = mg.device_put(inputs, like)
            got = mg.device_get(fn(*moved))
            for g, w in zip(mg.tree.tree_leaves(got), mg.tree.tree_leaves(reference), strict=True):
                np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
            times = {"numpy": [], library: []}
            for _ in range(args.rounds):
                times["numpy"].append(seconds(fn, inputs, args.steps, lambda: None))
                times[library].append(seconds(fn, moved, args.steps, synchronize))
            cpu, gpu = (statistics.median(times[k]) * 1e3 for k in ("numpy", library))
            print(f"{name:14} {library:10} agrees with NumPy; numpy {cpu:.2f} ms, {library} {gpu:.2f} ms, "
                  f"speed-up {cpu / gpu:.1f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
