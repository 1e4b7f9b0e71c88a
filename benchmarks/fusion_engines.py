"""Which engine should evaluate a fused elementwise chain? numexpr, numba, or NumPy.

The measurement behind ``minigrad/transforms/jit/fusion.py`` (issue 17): two chains,
``selu`` (one ``exp`` and a ``where`` among cheap operations) and an arithmetic-only
one, on 10^3, 10^5 and 10^6 float32 elements, each evaluated by

- NumPy, one call per operation (``numpy``), and with every result written into a
  dead buffer (``numpy out=``, what minigrad's jit did before fusion);
- numexpr, one precompiled ``NumExpr`` object for the whole chain, one thread;
- numba, one loop for the whole chain (``numba loop``), and a loop for everything but
  the ``exp``, which NumPy computes first (``numba + numpy exp``: what minigrad fuses);
- minigrad's jit and JAX's jit of the same function, when installed.

Every library runs one thread, on one CPU; rows are interleaved round by round and
medians are printed, then what compiling each kind of kernel costs the first time.
Run ``python benchmarks/fusion_engines.py`` (``--rounds N``).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_MAX_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402 - the thread settings above must precede the imports
import importlib  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.numpy as mnp  # noqa: E402

ALPHA, SCALE = np.float32(1.6732632), np.float32(1.050701)
SIZES = (10**3, 10**5, 10**6)


def _optional(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


numexpr, numba, jax = _optional("numexpr"), _optional("numba"), _optional("jax")


def selu_numpy(x):
    return SCALE * np.where(x > 0, x, ALPHA * np.exp(x) - ALPHA)


def selu_numpy_out(x):
    mask = np.greater(x, 0)
    e = np.exp(x)
    np.multiply(ALPHA, e, e)
    np.subtract(e, ALPHA, e)
    result = np.where(mask, x, e)
    np.multiply(SCALE, result, result)
    return result


def arithmetic_numpy(x, y):
    return (x * y + ALPHA) * SCALE - x


def arithmetic_numpy_out(x, y):
    out = np.multiply(x, y)
    np.add(out, ALPHA, out)
    np.multiply(out, SCALE, out)
    np.subtract(out, x, out)
    return out


def numba_kernels():
    """The numba loops, and the seconds their first calls took (compiling them)."""
    njit = numba.njit(error_model="numpy")

    def selu_loop(x, out):
        for i in range(x.size):
            v = x[i]
            out[i] = SCALE * (v if v > 0 else ALPHA * np.exp(v) - ALPHA)

    def selu_tail(x, e, out):
        for i in range(x.size):
            v = x[i]
            out[i] = SCALE * (v if v > 0 else ALPHA * e[i] - ALPHA)

    def arithmetic_loop(x, y, out):
        for i in range(x.size):
            out[i] = (x[i] * y[i] + ALPHA) * SCALE - x[i]

    kernels, compile_seconds = {}, {}
    probe = np.ones(4, np.float32)
    for name, fn, args in (
        ("selu loop", selu_loop, (probe, probe)),
        ("selu tail", selu_tail, (probe, probe, probe)),
        ("arithmetic loop", arithmetic_loop, (probe, probe, probe)),
    ):
        start = time.perf_counter()
        kernels[name] = njit(fn)
        kernels[name](*args)
        compile_seconds[name] = time.perf_counter() - start
    return kernels, compile_seconds


def candidates(size):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(size).astype(np.float32)
    y = rng.standard_normal(size).astype(np.float32)
    selu = {"numpy": lambda: selu_numpy(x), "numpy out=": lambda: selu_numpy_out(x)}
    arithmetic = {"numpy": lambda: arithmetic_numpy(x, y), "numpy out=": lambda: arithmetic_numpy_out(x, y)}
    if numexpr is not None:
        numexpr.set_num_threads(1)
        # numexpr's signature type `float` is float32, `numpy.float64` float64.
        selu_ne = numexpr.NumExpr(
            "S * where(x > 0, x, A * exp(x) - A)", [("x", float), ("A", float), ("S", float)]
        )
        arith_ne = numexpr.NumExpr(
            "(x * y + A) * S - x", [("x", float), ("y", float), ("A", float), ("S", float)]
        )
        selu["numexpr"] = lambda: selu_ne(x, ALPHA, SCALE)
        arithmetic["numexpr"] = lambda: arith_ne(x, y, ALPHA, SCALE)
    if numba is not None:
        kernels, _ = KERNELS

        def selu_loop():
            out = np.empty_like(x)
            kernels["selu loop"](x, out)
            return out

        def selu_tail():
            # A new output: written into `e`, the loop could not be vectorised (it
            # overlaps an input) and would take LLVM's scalar fallback, 4x slower.
            e = np.exp(x)
            out = np.empty_like(x)
            kernels["selu tail"](x, e, out)
            return out

        def arithmetic_loop():
            out = np.empty_like(x)
            kernels["arithmetic loop"](x, y, out)
            return out

        selu["numba loop"] = selu_loop
        selu["numba + numpy exp"] = selu_tail
        arithmetic["numba loop"] = arithmetic_loop
    selu_jit = mg.jit(lambda v: SCALE * mnp.where(v > 0, v, ALPHA * mnp.exp(v) - ALPHA))
    arith_jit = mg.jit(lambda v, w: (v * w + ALPHA) * SCALE - v)
    selu["minigrad jit"] = lambda: selu_jit(x)
    arithmetic["minigrad jit"] = lambda: arith_jit(x, y)
    if jax is not None:
        jnp = importlib.import_module("jax.numpy")
        jax_selu = jax.jit(lambda v: SCALE * jnp.where(v > 0, v, ALPHA * jnp.exp(v) - ALPHA))
        jax_arith = jax.jit(lambda v, w: (v * w + ALPHA) * SCALE - v)
        jx, jy = jnp.asarray(x), jnp.asarray(y)
        selu["jax jit"] = lambda: jax_selu(jx).block_until_ready()
        arithmetic["jax jit"] = lambda: jax_arith(jx, jy).block_until_ready()
    for chain, rows, reference in (
        ("selu", selu, selu_numpy(x)),
        ("arithmetic", arithmetic, arithmetic_numpy(x, y)),
    ):
        for name, fn in rows.items():
            result = np.asarray(fn())
            assert result.dtype == np.float32, f"{chain} {name}: {result.dtype}"
            np.testing.assert_allclose(result, reference, rtol=1e-5, atol=1e-6, err_msg=f"{chain} {name}")
    return {"selu": selu, "arithmetic": arithmetic}


def interleaved_medians(rows: dict, rounds: int, min_time: float = 0.005) -> dict:
    inner = {}
    for name, fn in rows.items():
        fn()
        start = time.perf_counter()
        fn()
        inner[name] = max(1, int(min_time / max(time.perf_counter() - start, 1e-7)))
    samples: dict = {name: [] for name in rows}
    names = list(rows)
    for round_index in range(rounds):
        for name in names[round_index % len(names) :] + names[: round_index % len(names)]:
            fn, n = rows[name], inner[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - start) / n)
    return {name: statistics.median(times) for name, times in samples.items()}


KERNELS = numba_kernels() if numba is not None else ({}, {})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (median reported)")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one CPU: no migration between rounds
    versions = {lib.__name__: lib.__version__ for lib in (np, numexpr, numba, jax) if lib is not None}
    print(f"# one CPU, one thread per library; {args.rounds} interleaved rounds, medians; {versions}")
    tables: dict = {}
    for size in SIZES:
        for chain, rows in candidates(size).items():
            tables.setdefault(chain, {})[size] = interleaved_medians(rows, args.rounds)
    for chain, by_size in tables.items():
        print(f"\n## {chain} (float32), microseconds per call\n")
        names = list(next(iter(by_size.values())))
        print("| engine | " + " | ".join(f"{size:.0e}" for size in SIZES) + " |")
        print("|---|" + "---:|" * len(SIZES))
        for name in names:
            print(f"| {name} | " + " | ".join(f"{by_size[size][name] * 1e6:.1f}" for size in SIZES) + " |")
    if KERNELS[1]:
        print(
            "\nnumba first call (compiling, numba imported): "
            + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in KERNELS[1].items())
        )


if __name__ == "__main__":
    main()
