"""One training step of a 2-layer transformer (d=128, 4 heads, sequence 64, batch 16) under jit.

Run ``python benchmarks/transformer_step.py`` (``--rounds N``). It times a jitted step
(forward, backward, Adam update) of two causal ``nn.TransformerBlock``s on random inputs,
after one call to compile, and prints the median. BLAS runs single-threaded, as in
``run.py``: on a small shared machine a BLAS thread pool makes timings meaningless.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402 - the thread settings above must precede NumPy's import
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.random as mr  # noqa: E402
from minigrad import nn, optim  # noqa: E402

DIM, HEADS, LAYERS, LENGTH, BATCH = 128, 4, 2, 64, 16


def make_step():
    block = nn.TransformerBlock(DIM, HEADS, causal=True)
    optimizer = optim.adam(1e-3)

    def loss_fn(params, x):
        h = x
        for block_params in params:
            h = block.apply(block_params, h)
        return (h**2).mean()

    @mg.jit
    def step(params, opt_state, x):
        loss, grads = mg.value_and_grad(loss_fn)(params, x)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, loss

    params = [block.init(k) for k in mr.split(mr.key(0), LAYERS)]
    return step, params, optimizer.init(params)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    step, params, opt_state = make_step()
    x = np.asarray(mr.normal(mr.key(1), (BATCH, LENGTH, DIM)))
    start = time.perf_counter()
    params, opt_state, loss = step(params, opt_state, x)
    compile_seconds = time.perf_counter() - start
    times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        params, opt_state, loss = step(params, opt_state, x)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}"
    )
    print(f"2-layer transformer step (d={DIM}, {HEADS} heads, seq {LENGTH}, batch {BATCH}), jit:")
    print(
        f"  first call (trace + compile + run) {compile_seconds:.2f} s; median of {args.rounds}: {1e3 * median:.1f} ms"
    )
    return median


if __name__ == "__main__":
    main()
