"""What a jitted call costs besides its program, and what a scan's loop costs per step.

Run ``python benchmarks/call_overhead.py`` (``--rounds N``). One CPU, one BLAS thread,
candidates timed round-robin, medians:

- ``jit call``: ``jit(lambda v: v + 1.0)`` on 20 float64 elements, against the NumPy call
  its program makes (and JAX's jit of the same function, when installed);
- ``training step arguments``: a jitted function taking and returning what the names
  GRU's Adam step does (``gru_step`` of ``benchmarks/run.py``: 24 arrays in nested dicts
  and Adam's namedtuple state, and a loss), computing nothing but the loss, against its
  optimised program compiled alone and called on the flat arrays. The difference is what
  the call adds: reading the arguments, finding the program, rebuilding the outputs
  (timed on a program this small, as a full step's 2.6 ms would drown it in noise);
- ``scan loop``: 32 steps of a body that passes 7 ``xs`` of (32, 64) float32 through as
  5 ``ys``, so the loop is all there is: the loop written out for the scan
  (``step_loop``, what ``unroll=1`` runs) against the general one (``run_scan``).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402 - the thread settings above must precede NumPy's import
import importlib  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
from run import interleaved_medians, pin_to_one_cpu  # noqa: E402 - beside this file
from workloads import RNG, import_peers  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad.core.ir import ShapedArray  # noqa: E402
from minigrad.lax.scan_loop import run_scan, step_loop  # noqa: E402
from minigrad.transforms.jit import fusion_tier  # noqa: E402
from minigrad.transforms.jit.compiler import compile_jaxpr  # noqa: E402


def jit_call_candidates() -> dict:
    x = np.linspace(-1.0, 1.0, 20)
    add_one = mg.jit(lambda v: v + 1.0)
    candidates = {"minigrad jit": lambda: add_one(x), "numpy": lambda: x + 1.0}
    jax = sys.modules.get("jax")
    if jax is not None:
        f, jx = jax.jit(lambda v: v + 1.0), jax.numpy.asarray(x)
        candidates["jax jit"] = lambda: jax.block_until_ready(f(jx))
    return candidates


def training_step_candidates() -> dict:
    model_steps = importlib.import_module("model_steps")  # beside this file

    model = model_steps.GRUModel(model_steps.VOCAB)

    def loss(params, inputs, targets):
        return model_steps.nn.cross_entropy(model.apply(params, inputs), targets)

    params = model.init(mg.random.key(0))
    inputs = RNG.integers(0, model_steps.VOCAB, (model_steps.NAMES, model_steps.CHARACTERS))
    targets = RNG.integers(0, model_steps.VOCAB, (model_steps.NAMES, model_steps.CHARACTERS))
    _, opt_state, _ = model_steps.jit_training_step(loss, params)
    step = mg.jit(lambda params, opt_state, inputs, targets: (params, opt_state, inputs.sum()))
    args = (params, opt_state, inputs, targets)
    program = compile_jaxpr(step.lower(*args).program)
    leaves = mg.tree_util.tree_leaves(args)
    return {"jitted call": lambda: step(*args), "its program alone": lambda: program(*leaves)}


def scan_loop_candidates(steps: int = 32) -> dict:
    xs = [RNG.standard_normal((steps, 32, 64)).astype(np.float32) for _ in range(7)]
    carry = np.zeros((32, 64), np.float32)
    y_avals = (ShapedArray((32, 64), np.float32),) * 5

    def body(c, *step_xs):
        return [c, *step_xs[:5]]

    written = step_loop(0, 1, (False,) * 7, 5)
    return {
        "written out (step_loop)": lambda: written(body, range(steps), y_avals, carry, *xs),
        "general (run_scan)": lambda: run_scan(body, None, 1, 0, 1, steps, False, y_avals, carry, *xs),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args(argv)
    pin_to_one_cpu()
    print(f"# peers: {import_peers()}")
    fusion_tier.TIER_UP_CALLS = 10**9  # both training-step rows run the same plain code
    rows = {
        "jit call (us per call)": (jit_call_candidates(), 1e6),
        "training step arguments (us per call)": (training_step_candidates(), 1e6),
        "scan loop (us per step)": (scan_loop_candidates(), 1e6 / 32),
    }
    for title, (candidates, scale) in rows.items():
        medians = interleaved_medians(candidates, args.rounds)
        print(f"\n## {title}, {args.rounds} interleaved rounds, medians, one CPU\n")
        for name, seconds in medians.items():
            print(f"| {name:<24} | {seconds * scale:>9.2f} |")
        first, second = list(medians.values())[:2]
        print(f"difference: {(first - second) * scale:.2f}")


if __name__ == "__main__":
    main()
