"""Train the digits MLP data-parallel on a local Dask cluster, and check it against one process.

Run with ``python -m minigrad.examples.distributed`` (needs ``pip install
"minigrad[distributed]"``). It starts a cluster of two worker processes on this machine,
sends each half of the 1438 training images once, and trains with full-batch Adam, each
step shipping only the parameters. It then trains again in this process from the same
start, prints both test accuracies (the same: the gradients agree to rounding) and the
time each step costs on the cluster beyond the one-process step.
"""

from __future__ import annotations

import argparse
import time

import minigrad as mg
import minigrad.random as mr
from minigrad import nn, optim
from minigrad.distributed import DataParallel
from minigrad.distributed.extras import DASK_MISSING, require
from minigrad.examples.digits import load_data, make_model
from minigrad.examples.threads import THREAD_VARIABLES, run_program
from minigrad.examples.training import accuracy

MODEL = make_model("mlp")


def digits_loss(params, batch):
    """The mean cross-entropy of the MLP over a batch ``{"x": (N, 64), "y": (N,)}``.

    Example:
      >>> import numpy as np
      >>> params = MODEL.init(mr.key(0))
      >>> batch = {"x": np.zeros((2, 64)), "y": np.array([0, 1])}
      >>> round(float(digits_loss(params, batch)), 4)
      2.3026
    """
    return nn.softmax_cross_entropy(MODEL.apply(params, batch["x"]), batch["y"])


def train(value_and_grad, params, steps: int, lr: float):
    """``steps`` full-batch Adam steps; returns the parameters and the seconds per step.

    Example:
      >>> import numpy as np
      >>> batch = {"x": np.zeros((2, 64)), "y": np.array([0, 1])}
      >>> step = mg.jit(mg.value_and_grad(digits_loss))
      >>> _, seconds = train(lambda p: step(p, batch), MODEL.init(mr.key(0)), 2, 1e-3)
      >>> seconds > 0
      True
    """
    opt = optim.adam(lr)
    state = opt.init(params)
    start = time.perf_counter()
    for _ in range(steps):
        _, grads = value_and_grad(params)
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
    return params, (time.perf_counter() - start) / steps


def main(argv=None) -> tuple[float, float]:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.examples.distributed", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--steps", type=int, default=100, help="full-batch Adam steps (default 100)")
    parser.add_argument("--lr", type=float, default=1e-2, help="Adam's learning rate (default 0.01)")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    parser.add_argument(
        "--scheduler", default=None, help="address of a running Dask scheduler instead of a local cluster"
    )
    args = parser.parse_args(argv)
    dask_distributed = require("dask.distributed", "DataParallel", DASK_MISSING)
    (x_train, y_train), (x_test, y_test) = load_data()
    data = {"x": x_train.reshape(len(x_train), 64), "y": y_train}
    x_test = x_test.reshape(len(x_test), 64)
    initial = MODEL.init(mr.key(0))

    if args.scheduler is None:
        cluster = dask_distributed.LocalCluster(
            n_workers=args.workers,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            env=dict.fromkeys(THREAD_VARIABLES, "1"),
        )
        client = dask_distributed.Client(cluster)
    else:
        cluster, client = None, dask_distributed.Client(args.scheduler)
    try:
        parallel = DataParallel(digits_loss, client, data)
        print(f"{parallel!r} on {len(parallel.workers)} workers")
        parallel.value_and_grad(initial)  # the workers compile once, outside the timing
        params, parallel_seconds = train(parallel.value_and_grad, initial, args.steps, args.lr)
        parallel.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

    step = mg.jit(mg.value_and_grad(digits_loss))
    step(initial, data)
    local_params, local_seconds = train(lambda p: step(p, data), initial, args.steps, args.lr)
    parallel_accuracy = accuracy(MODEL.apply, params, x_test, y_test)
    local_accuracy = accuracy(MODEL.apply, local_params, x_test, y_test)
    print(f"test accuracy, data-parallel: {parallel_accuracy:.1%}; one process: {local_accuracy:.1%}")
    print(
        f"per step: {parallel_seconds * 1e3:.1f} ms data-parallel, {local_seconds * 1e3:.1f} ms in one "
        f"process; overhead {(parallel_seconds - local_seconds) * 1e3:.1f} ms per step"
    )
    return parallel_accuracy, local_accuracy


if __name__ == "__main__":
    run_program("minigrad.examples.distributed", main)
