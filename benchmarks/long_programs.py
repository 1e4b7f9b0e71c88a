"""How jit's first call scales with the length of a program, against grad's.

Run ``python benchmarks/long_programs.py`` (``--sizes 20000 200000``, ``--cpu 1``). Each
measurement runs in a fresh process, so peak memory (the process's maximum resident set)
is that measurement's alone; times are CPU seconds of that process
(``time.process_time``), which a busy machine disturbs less than wall-clock time. The program is a chain of
``sin`` and ``mul`` reduced by a ``sum``: one equation per operation. Also reported: how
deep ``jit`` and ``grad`` nest before Python's recursion limit.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

MEASURE = """
import resource, sys, time
import numpy as np
import minigrad as mg
import minigrad.numpy as mnp

length, transform = int(sys.argv[1]), sys.argv[2]

def chain(x):
    for _ in range(length // 2):
        x = mnp.sin(x) * 1.0001
    return mnp.sum(x)

x = np.full(3, 0.5)
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.process_time()
(mg.jit(chain) if transform == "jit" else mg.grad(chain))(x)
seconds = time.process_time() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline
print(seconds, peak / 1024)
"""

NESTING = """
import sys
import numpy as np
import minigrad as mg

transform = sys.argv[1]

def deepest():
    depth = 0
    for levels in range(25, 2000, 25):
        f = lambda x: x * x * 0.5
        for _ in range(levels):
            f = (lambda g: getattr(mg, transform)(lambda x: g(x) * 1.0))(f)
        try:
            f(np.array(1.0))
        except RecursionError:
            return depth
        depth = levels
    return depth

print(deepest())
"""


def run(source: str, *args) -> str:
    result = subprocess.run([sys.executable, "-c", source, *map(str, args)], capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(result.stderr)
    return result.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--cpu", type=int, help="run every measurement on this CPU only (Linux)")
    options = parser.parse_args()
    sizes = options.sizes
    if options.cpu is not None:
        # Inherited by each measurement's process: on a busy machine, one pinned CPU
        # keeps the scheduler from moving a measurement between cores.
        os.sched_setaffinity(0, {options.cpu})
    print(f"{'equations':>10} {'transform':>9} {'CPU s':>8} {'peak MB':>8} {'us/eqn':>7} {'KB/eqn':>7}")
    for length in sizes:
        for transform in ("grad", "jit"):
            seconds, megabytes = map(float, run(MEASURE, length, transform).split())
            per_eqn_us, per_eqn_kb = seconds / length * 1e6, megabytes * 1024 / length
            print(
                f"{length:>10} {transform:>9} {seconds:>8.2f} {megabytes:>8.0f} {per_eqn_us:>7.1f} {per_eqn_kb:>7.2f}"
            )
    for transform in ("grad", "jit"):
        print(
            f"nested {transform}: {run(NESTING, transform)} levels before RecursionError (limit {sys.getrecursionlimit()})"
        )


if __name__ == "__main__":
    main()
