"""Benchmarks: minigrad (eager and jit) against hand-written NumPy and the peers.

Run ``python benchmarks/run.py`` (``--quick`` for fewer rounds, ``--only NAME`` for one
workload). The timed workloads are defined in ``workloads.py``; this driver times them
and runs the two measurements of its own, trace scaling and peak memory. Every implementation of a workload is run in the same process, interleaved
round by round, and the table reports median times and the ratio to the hand-written
NumPy forward+backward. JAX (jit), PyTorch (eager) and HIPS autograd are included when
installed (``pip install minigrad[bench]``). Results of every implementation are checked
against the NumPy one before timing.

``trace_scaling`` runs first, before the peers are imported (see ``import_peers``).
The process is pinned to one CPU and every library runs single-threaded (BLAS, OpenMP, XLA and PyTorch): on a small shared
machine, thread pools of several libraries spinning against each other make timings
meaningless, and one thread per library compares the libraries rather than their
threading.

The header names the BLAS NumPy uses, the kernels it chose and the environment's
``OPENBLAS_CORETYPE`` (with threadpoolctl installed). That setting decides the products
of NumPy, and so of minigrad, while JAX and PyTorch bring kernels of their own: on an
AVX-512 CPU (AMD Zen 5), ``OPENBLAS_CORETYPE=Haswell`` makes OpenBLAS 0.3.31 run its AVX2
kernels, whose float32 products take about 1.8 times as long as the AVX-512 ("SkylakeX")
kernels it picks by itself there. Compare runs only under the same setting.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402 - the thread settings above must precede NumPy's import
import contextlib  # noqa: E402
import gc  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

# The minigrad of the tree this file is in, not whichever one is installed: Python puts
# this folder first on the path, not the repository's root.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import workloads  # noqa: E402 - beside this file; imports NumPy
from workloads import RNG, WORKLOADS, check_close, import_peers  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.numpy as mnp  # noqa: E402
from minigrad.lax import subprogram_cache  # noqa: E402
from minigrad.transforms import backward_plans  # noqa: E402
from minigrad.transforms.jit import fusion_tier, gemm  # noqa: E402


def blas_description() -> str:
    """NumPy's BLAS and the kernels it runs, as threadpoolctl reports them (if installed)."""
    try:
        import threadpoolctl  # noqa: PLC0415 - optional: only this line of the header needs it
    except ImportError:
        return "unknown (install threadpoolctl to see it)"
    found = [
        f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture', '?')} kernels, "
        f"{info.get('num_threads')} thread(s))"
        for info in threadpoolctl.threadpool_info()
        if info.get("user_api") == "blas"
    ]
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    chosen = f"; OPENBLAS_CORETYPE={coretype}" if coretype else ""
    return ", ".join(found) + chosen if found else "none found"


# ---------------------------------------------------------------------------------------
# timing


def interleaved_medians(candidates: dict, rounds: int, min_time: float = 0.02) -> dict:
    """Median seconds per call of each candidate, measured round-robin.

    A sample is as many calls as take ``min_time`` (at least one). Its first call comes
    right after the other libraries ran, with its code and data evicted from the caches;
    a training loop calls the same step again and again. Samples of 20 ms weigh that
    first call as a loop of 20 ms does: with 2 ms, a sample of a 0.6 ms eager step was
    three calls, the first of them cold, and the ratios of such rows swung 3.1-5.8x from
    run to run (0.6 ms steps at 3.3x, steadily, with 20 ms).
    """
    inner = {}
    for name, fn in candidates.items():
        fn()  # warm up (and compile, for the jit candidates)
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        inner[name] = max(1, int(min_time / max(elapsed, 1e-7)))
    samples: dict = {name: [] for name in candidates}
    names = list(candidates)
    for round_index in range(rounds):
        order = names[round_index % len(names) :] + names[: round_index % len(names)]
        for name in order:
            fn, n = candidates[name], inner[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - start) / n)
    return {name: statistics.median(times) for name, times in samples.items()}


# ---------------------------------------------------------------------------------------
# trace scaling and memory


def long_chain(x, n):
    for i in range(n // 2):
        x = x * 1.0001 if i % 2 else x + 0.001
        x = mnp.sin(x)
    return mnp.sum(x)


def trace_scaling(sizes, repeats, collector: bool):
    """Per-equation cost of tracing; with ``collector=False`` CPython's garbage collector
    is paused while each measurement runs, which isolates minigrad's own work: the
    collector's full passes traverse the whole heap (PyTorch and JAX are imported here)."""
    label = "garbage collector on" if collector else "garbage collector paused during each measurement"
    print(f"\n## trace_scaling, {label} (time per equation; must stay flat as N grows)\n")
    print(f"| {'N':>7} | {'make_jaxpr us/eqn':>17} | {'grad us/eqn':>11} | {'jit first call us/eqn':>21} |")
    print(f"|{'-' * 9}|{'-' * 19}|{'-' * 13}|{'-' * 23}|")
    x = np.ones(4)
    per_eqn = {}
    for n in sizes:
        times = {"make_jaxpr": [], "grad": [], "jit": []}
        for _ in range(repeats):
            gc.collect()
            if not collector:
                gc.disable()
            start = time.perf_counter()
            closed = mg.make_jaxpr(lambda v, n=n: long_chain(v, n))(x)
            times["make_jaxpr"].append(time.perf_counter() - start)
            # Keep only the count: a program of N equations left alive would make the
            # collector's passes during the next measurements traverse it too.
            eqns = len(closed.eqns)
            del closed
            # Each call a first one, recorded and walked: plans (transforms/backward_plans.py)
            # serve repeated structures, which only programs up to 10,000 equations keep.
            backward_plans.PLANS.clear()
            start = time.perf_counter()
            mg.grad(lambda v, n=n: long_chain(v, n))(x)
            times["grad"].append(time.perf_counter() - start)
            start = time.perf_counter()
            mg.jit(lambda v, n=n: long_chain(v, n))(x)
            times["jit"].append(time.perf_counter() - start)
            gc.enable()
        row = {k: statistics.median(v) / eqns * 1e6 for k, v in times.items()}
        per_eqn[n] = row
        print(f"| {eqns:>7} | {row['make_jaxpr']:>17.2f} | {row['grad']:>11.2f} | {row['jit']:>21.2f} |")
    first, last = per_eqn[sizes[0]], per_eqn[sizes[-1]]
    ratios = ", ".join(f"{k} {last[k] / first[k]:.2f}x" for k in first)
    print(f"\nper-equation time at N={sizes[-1]} relative to N={sizes[0]}: {ratios} (target: within 1.3x)")


def deep_mlp_loss(params, x):
    h = x
    for w in params:
        h = mnp.tanh(h @ w)
    return mnp.sum(h * h)


def numpy_deep_mlp_grad(params, x):
    hs = [x]
    h = x
    for w in params:
        h = np.tanh(h @ w)
        hs.append(h)
    del h
    g = 2.0 * hs[-1]
    grads = [None] * len(params)
    for i in reversed(range(len(params))):
        out = hs.pop()  # activations are freed as the backward walk passes them
        g = g * (1.0 - out * out)
        grads[i] = hs[-1].T @ g
        g = g @ params[i].T
    return grads


def peak_memory(fn) -> int:
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    del result
    return peak


def memory(layers=50, width=256, batch=128):
    print(f"\n## memory: peak of grad through a {layers}-layer MLP (width {width}, batch {batch}, float32)\n")
    params = [
        (RNG.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32) for _ in range(layers)
    ]
    x = RNG.standard_normal((batch, width)).astype(np.float32)
    grad_fn = mg.grad(deep_mlp_loss)
    jit_grad = mg.jit(grad_fn)
    jit_grad(params, x)
    check_close(numpy_deep_mlp_grad(params, x), jit_grad(params, x), "minigrad jit", rtol=1e-3)
    rows = {
        "numpy (hand-written)": peak_memory(lambda: numpy_deep_mlp_grad(params, x)),
        "minigrad eager": peak_memory(lambda: grad_fn(params, x)),
        "minigrad jit": peak_memory(lambda: jit_grad(params, x)),
    }
    if workloads.autograd is not None:
        autograd_grad = workloads.autograd.grad(
            lambda p: workloads.anp.sum(_autograd_deep(p, x) ** 2),
        )
        rows["hips autograd"] = peak_memory(lambda: autograd_grad(params))
    reference = rows["numpy (hand-written)"]
    print(f"| {'implementation':<22} | {'peak MB':>8} | {'vs numpy':>8} |")
    print(f"|{'-' * 24}|{'-' * 10}|{'-' * 10}|")
    for name, peak in rows.items():
        print(f"| {name:<22} | {peak / 2**20:>8.2f} | {peak / reference:>7.2f}x |")
    print("\n(target: minigrad within 1.2x of the hand-written NumPy; the gradients themselves count)")


# Workloads whose problem was memory as much as time: a peak-memory table follows theirs.
PEAK_MEMORY_WORKLOADS = ("mnist_vmap",)


def print_peak_memory(name, candidates):
    # tracemalloc sees NumPy's allocations, not XLA's or PyTorch's: only NumPy-based rows.
    rows = {
        impl: peak_memory(fn) for impl, fn in candidates.items() if impl.startswith(("numpy", "minigrad"))
    }
    reference = rows["numpy (hand-written)"]
    print(f"\n## {name}: peak memory of one call (tracemalloc)\n")
    print(f"| {'implementation':<24} | {'peak MB':>8} | {'vs numpy':>8} |")
    print(f"|{'-' * 26}|{'-' * 10}|{'-' * 10}|")
    for impl, peak in rows.items():
        print(f"| {impl:<24} | {peak / 2**20:>8.2f} | {peak / reference:>7.2f}x |")


def _first_and_later_call(make, args, finish=lambda out: out) -> tuple[float, float]:
    """Seconds of the first call of a fresh jitted function (trace, compile, run), then of
    its second call (run only). ``finish`` waits for a result computed asynchronously."""
    fn = make()
    times = []
    for _ in range(2):
        start = time.perf_counter()
        finish(fn(*args))
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def loop_first_calls(repeats: int):
    """The RNN's jit(value_and_grad) at 10 and 100 steps: first call and trace + compile
    (first call minus a later one), which must not grow with the trip count; then a
    fori_loop of 10^5 scalar steps under jit."""
    print(
        f"\n## loop_first_calls: rnn_scan's first call, 10 vs 100 steps (medians of {repeats} fresh functions)\n"
    )
    params = workloads.rnn_params()
    print(
        f"| {'implementation':<14} | {'steps':>5} | {'first call ms':>13} | {'later call ms':>13} | {'trace+compile ms':>16} |"
    )
    print(f"|{'-' * 16}|{'-' * 7}|{'-' * 15}|{'-' * 15}|{'-' * 18}|")
    makers = {
        "minigrad jit": (lambda: mg.jit(mg.value_and_grad(lambda p, x: workloads.mg_rnn_loss(p, x))), None),
    }
    if workloads.jax is not None:
        jax = workloads.jax
        makers["jax jit"] = (
            lambda: jax.jit(jax.value_and_grad(lambda p, x: workloads.jax_rnn_loss(p, x))),
            jax.block_until_ready,
        )
    for impl, (make, finish) in makers.items():
        rows = {}
        for steps in (10, 100):
            xs = RNG.standard_normal((steps, 32, 64)).astype(np.float32)
            args = (
                (params, xs)
                if impl.startswith("minigrad")
                else (tuple(map(workloads.jnp.asarray, params)), xs)
            )
            samples = [_first_and_later_call(make, args, finish or (lambda out: out)) for _ in range(repeats)]
            first = statistics.median(s[0] for s in samples)
            later = statistics.median(s[1] for s in samples)
            compile_time = statistics.median(s[0] - s[1] for s in samples)
            rows[steps] = (first, compile_time)
            print(
                f"| {impl:<14} | {steps:>5} | {first * 1e3:>13.1f} | {later * 1e3:>13.2f} "
                f"| {compile_time * 1e3:>16.1f} |"
            )
        print(
            f"{impl}: 100 steps / 10 steps = {rows[100][0] / rows[10][0]:.2f}x (first call), "
            f"{rows[100][1] / rows[10][1]:.2f}x (trace + compile)"
        )
    fori = [
        _first_and_later_call(
            lambda: mg.jit(lambda x: mg.lax.fori_loop(0, 100_000, lambda i, c: c * 0.99999 + 1e-5, x)),
            (np.float64(1.0),),
        )
        for _ in range(repeats)
    ]
    print(
        f"\nfori_loop of 10^5 scalar steps under minigrad jit: first call "
        f"{statistics.median(s[0] for s in fori):.3f} s, later calls {statistics.median(s[1] for s in fori):.3f} s "
        "(target: under 1 s)"
    )


def _autograd_deep(params, x):
    h = x
    for w in params:
        h = workloads.anp.tanh(workloads.anp.dot(h, w))
    return h


# ---------------------------------------------------------------------------------------
# the driver


# The row each table's ratios are taken against: the hand-written NumPy where a workload
# has one; the model workloads have none (a transformer's backward by hand is a project).
REFERENCES = ("numpy (hand-written)", "pytorch eager", "jax jit")


def print_table(name, medians):
    reference = next(impl for impl in (*REFERENCES, *medians) if impl in medians)
    label = f"vs {reference.split(' ')[0]}"
    print(f"\n## {name}\n")
    print(f"| {'implementation':<22} | {'median ms':>10} | {label:>10} |")
    print(f"|{'-' * 24}|{'-' * 12}|{'-' * 12}|")
    for impl, seconds in medians.items():
        print(f"| {impl:<22} | {seconds * 1e3:>10.4f} | {seconds / medians[reference]:>9.2f}x |")
    if "hips autograd" in medians:
        for impl in ("minigrad eager", "minigrad jit"):
            print(
                f"{impl} is {medians['hips autograd'] / medians[impl]:.1f}x faster than HIPS autograd",
                end="; ",
            )
        print()
    for peer in ("pytorch eager", "jax jit"):
        if peer in medians and "minigrad jit" in medians:
            print(f"minigrad jit / {peer} = {medians['minigrad jit'] / medians[peer]:.2f}")


@contextlib.contextmanager
def hot_loop_programs():
    """Inside, jitted programs fuse their small-array runs from the first call, and
    the first matrix product compiles the product kernel (``gemm``).

    The timed rows measure a hot loop's steady state. A program reaches it after
    ``fusion_tier.calls_to_tier_up`` calls (thousands: about 4,000 for many_small_ops),
    which the warm-up would otherwise have to make; the compile pause that tier-up
    costs is not timed here, as JAX's compilation is not (docs/transforms/jit.md has it).
    Loop bodies compiled before (interned by structure) are forgotten, so that the bodies
    of the timed programs are compiled under the setting too.
    """
    saved = fusion_tier.TIER_UP_CALLS, gemm.TIER_UP_CALLS
    fusion_tier.TIER_UP_CALLS = gemm.TIER_UP_CALLS = 1
    subprogram_cache.clear()
    try:
        yield
    finally:
        fusion_tier.TIER_UP_CALLS, gemm.TIER_UP_CALLS = saved


def pin_to_one_cpu() -> None:
    """Run on one CPU, so no library's work migrates between cores while it is timed."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and smaller scaling sizes")
    parser.add_argument("--only", action="append", help="run only these workloads (repeatable)")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    rounds = args.rounds or (7 if args.quick else 25)
    selected = args.only or [*WORKLOADS, "trace_scaling", "memory", "loop_first_calls"]
    known = [*WORKLOADS, "trace_scaling", "memory", "loop_first_calls"]
    for name in selected:
        if name not in known:
            parser.error(f"unknown workload {name!r}; choose from {known}")
    pin_to_one_cpu()  # one CPU for every library
    print(f"# minigrad benchmarks: python {platform.python_version()}, numpy {np.__version__}")
    print(f"# BLAS: {blas_description()}")
    print(f"# {rounds} interleaved rounds per workload; medians. The machine may be shared: expect noise.")
    print(
        "# jit rows: hot-loop steady state (small-array work fused from the first call; see hot_loop_programs)"
    )
    if "trace_scaling" in selected:
        # First, while the process holds only minigrad and NumPy (see import_peers).
        sizes = [1000, 10000] if args.quick else [1000, 10000, 100000]
        trace_scaling(sizes, repeats=1 if args.quick else 3, collector=True)
        trace_scaling(sizes, repeats=1 if args.quick else 3, collector=False)
    print(f"\n# peers: {import_peers()}")
    for name in selected:
        if name in WORKLOADS:
            with hot_loop_programs():
                candidates = WORKLOADS[name]()
                if candidates is not None:
                    print_table(name, interleaved_medians(candidates, rounds))
                    if name in PEAK_MEMORY_WORKLOADS:
                        print_peak_memory(name, candidates)
        elif name == "memory":
            memory()
        elif name == "loop_first_calls":
            loop_first_calls(repeats=3 if args.quick else 7)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
