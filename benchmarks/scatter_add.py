"""Scatter-add with repeated indices off NumPy: the one-hot contraction against sorted segments.

On libraries without an accumulating scatter (array-api-strict, Dask; torch has
``index_put_``), jit sums the rows of ``updates`` that share an index either with a
one-hot matrix (positions x indices) contracted with the updates, or by sorting the
indices and a segmented running sum (``array_api_scatter.segment_sum``). This times
both, jitted, for growing sizes (rows of 16 float64 values, indices drawn with
repeats), so ``ONE_HOT_LIMIT`` (the one-hot matrix's size above which sorting is used)
is chosen from a measurement. One CPU, one BLAS thread, rounds interleaved, medians.

Run: ``python benchmarks/scatter_add.py [--rounds 5]``.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402 - the thread settings above must precede NumPy's import
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad.ops import index as ix  # noqa: E402
from minigrad.transforms.jit import array_api_scatter  # noqa: E402

WIDTH = 16
SIZES = [(64, 256), (256, 256), (256, 1024), (512, 1024), (1024, 1024), (1024, 4096), (4096, 16384)]


def libraries() -> dict:
    found = {}
    try:
        import array_api_strict  # noqa: PLC0415 - optional

        found["array_api_strict"] = array_api_strict.asarray
    except ImportError:
        pass
    try:
        import dask.array as da  # noqa: PLC0415 - optional

        found["dask"] = da.from_array
    except ImportError:
        pass
    return found


def compiled(method: str, rows: np.ndarray, positions: int):
    """A jitted scatter-add of ``rows`` compiled with the one-hot or the sorted method."""
    limit = 1 << 62 if method == "one-hot" else 0
    saved, array_api_scatter.ONE_HOT_LIMIT = array_api_scatter.ONE_HOT_LIMIT, limit
    indexer = (("array", 0), ("slice", None, None, None))
    fn = mg.jit(lambda u: ix.scatter_add(u, [rows], indexer, (positions, WIDTH)))
    return fn, saved


def time_once(fn, updates, compute) -> float:
    start = time.perf_counter()
    compute(fn(updates))
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rng = np.random.default_rng(0)
    print(f"ms per call, median of {args.rounds} interleaved rounds; one CPU")
    print(f"{'library':17} {'positions':>9} {'indices':>8} {'one-hot':>9} {'sorted':>9} {'ratio':>6}")
    for library, convert in libraries().items():
        compute = (lambda out: out.compute()) if library == "dask" else (lambda out: out)
        # Dask's sorted path takes seconds from the smallest size on: a few sizes suffice.
        for positions, count in SIZES[:3] if library == "dask" else SIZES:
            rows = rng.integers(0, positions, size=count)
            updates_np = rng.normal(size=(count, WIDTH))
            updates = convert(updates_np)
            programs = {}
            for method in ("one-hot", "sorted"):
                fn, saved = compiled(method, rows, positions)
                result = mg.device_get(compute(fn(updates)))  # compiles with this method
                array_api_scatter.ONE_HOT_LIMIT = saved
                expected = np.zeros((positions, WIDTH))
                np.add.at(expected, rows, updates_np)
                np.testing.assert_allclose(
                    np.asarray(result).reshape(positions, WIDTH), expected, rtol=1e-12, atol=1e-12
                )
                programs[method] = fn
            times = {method: [] for method in programs}
            for _ in range(args.rounds):
                for method, fn in programs.items():
                    times[method].append(time_once(fn, updates, compute))
            one_hot, by_sort = (statistics.median(times[m]) * 1e3 for m in ("one-hot", "sorted"))
            print(
                f"{library:17} {positions:9d} {count:8d} {one_hot:9.2f} {by_sort:9.2f} {one_hot / by_sort:6.2f}"
            )


if __name__ == "__main__":
    main()
