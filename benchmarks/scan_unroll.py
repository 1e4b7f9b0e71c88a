"""How ``lax.scan(..., unroll=k)`` changes the speed of jitted loops, to choose its default.

Run ``python benchmarks/scan_unroll.py`` (``--rounds N``). Two loops, each jitted with
unroll 1, 2, 4 and 8 and timed round-robin on one CPU (one BLAS thread), medians:

- ``rnn``: ``value_and_grad`` of the RNN of the ``rnn_scan`` workload (tanh cell, hidden
  128, input 64, batch 32, 100 steps), whose steps are matrix products;
- ``small body``: ``fori_loop`` of 10^5 scalar steps, where the Python call per step
  is most of the cost.

Each row also gives the first call (trace, compile and one run) of a fresh function.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402 - the thread settings above must precede NumPy's import
import time  # noqa: E402

import numpy as np  # noqa: E402
from run import interleaved_medians  # noqa: E402 - beside this file
from workloads import RNG, rnn_params  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.numpy as mnp  # noqa: E402

UNROLLS = (1, 2, 4, 8)


def rnn_loss(params, xs, unroll):
    wx, wh, b = params

    def cell(h, x):
        return mnp.tanh(x @ wx + h @ wh + b), None

    h, _ = mg.lax.scan(cell, mnp.zeros((xs.shape[1], wh.shape[0]), xs.dtype), xs, unroll=unroll)
    return 0.5 * mnp.sum(h * h)


def small_body(x, unroll):
    return mg.lax.fori_loop(0, 100_000, lambda i, c: c * 0.99999 + 1e-5, x, unroll=unroll)


def programs():
    params = rnn_params()
    xs = RNG.standard_normal((100, 32, 64)).astype(np.float32)
    return {
        "rnn": (lambda u: mg.jit(mg.value_and_grad(lambda p, x: rnn_loss(p, x, u))), (params, xs)),
        "small body": (lambda u: mg.jit(lambda x: small_body(x, u)), (np.float64(1.0),)),
    }


def first_call_seconds(make, args) -> float:
    fn = make()
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    for name, (make, inputs) in programs().items():
        reference = make(1)(*inputs)
        candidates = {}
        for unroll in UNROLLS:
            fn = make(unroll)
            for a, b in zip(mg.tree.leaves(reference), mg.tree.leaves(fn(*inputs)), strict=True):
                np.testing.assert_array_equal(a, b)  # unrolling changes no result
            candidates[unroll] = lambda fn=fn, inputs=inputs: fn(*inputs)
        medians = interleaved_medians(candidates, args.rounds)
        first = {u: first_call_seconds(lambda u=u, make=make: make(u), inputs) for u in UNROLLS}
        print(f"\n## {name}: {args.rounds} interleaved rounds, medians, one CPU\n")
        print(f"| {'unroll':>6} | {'ms per call':>11} | {'vs unroll=1':>11} | {'first call ms':>13} |")
        print(f"|{'-' * 8}|{'-' * 13}|{'-' * 13}|{'-' * 15}|")
        for unroll in UNROLLS:
            ms = medians[unroll] * 1e3
            ratio = medians[unroll] / medians[1]
            print(f"| {unroll:>6} | {ms:>11.3f} | {ratio:>10.2f}x | {first[unroll] * 1e3:>13.1f} |")


if __name__ == "__main__":
    main()
