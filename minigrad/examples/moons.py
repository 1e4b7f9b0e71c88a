"""Separate the two moons with a 2-16-16-1 MLP, a max-margin loss and an L2 penalty.

Run with ``python -m minigrad.examples.moons`` (``--plot`` writes the decision boundary
as a PNG; it needs matplotlib). As in micrograd's demo, labels are -1 and +1, the loss
is the hinge ``mean(max(0, 1 - y * score))`` plus ``alpha * sum(w**2)``, and training
runs full-batch until every training point is on the right side.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import minigrad as mg
import minigrad.numpy as mnp
import minigrad.random as mr
from minigrad import datasets, nn, optim
from minigrad.examples.flags import check_directory, check_matplotlib, int_at_least, positive_float
from minigrad.examples.threads import blas_threads, run_program
from minigrad.tree import tree_leaves


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.examples.moons", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--points", type=int_at_least(2), default=100, help="number of points (default 100)")
    parser.add_argument("--noise", type=float, default=0.1, help="noise standard deviation (default 0.1)")
    parser.add_argument("--steps", type=int_at_least(1), default=300, help="full-batch steps (default 300)")
    parser.add_argument("--lr", type=positive_float, default=0.02, help="Adam learning rate (default 0.02)")
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 penalty (default 1e-4)")
    parser.add_argument("--seed", type=int, default=0, help="seed for data and parameters (default 0)")
    parser.add_argument(
        "--plot",
        nargs="?",
        const="moons.png",
        metavar="PNG",
        help="write the decision boundary as a PNG (default moons.png; needs matplotlib)",
    )
    args = parser.parse_args(argv)
    if args.plot:
        check_matplotlib(parser)
        check_directory(parser, "--plot", os.path.dirname(args.plot), what=args.plot)
    with blas_threads(1):
        return fit(args)


def fit(args) -> float:
    """Train on the moons ``args`` describes, print progress, draw ``--plot``; the accuracy."""
    data_key, init_key = mr.split(mr.key(args.seed))
    x, labels = datasets.moons(args.points, args.noise, data_key)
    y = (2 * labels - 1).astype(np.float32)  # -1 and +1
    model = nn.MLP([2, 16, 16, 1])
    params = model.init(init_key)
    optimizer = optim.adam(args.lr)
    opt_state = optimizer.init(params)

    def loss_fn(params):
        scores = model.apply(params, x)[:, 0]
        penalty = sum(mnp.sum(mnp.square(p["w"])) for p in params)
        return nn.hinge(scores, y) + args.alpha * penalty, scores

    def step(params, opt_state):
        (loss, scores), grads = mg.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, loss, scores

    step = mg.jit(step)  # forward, backward and update compiled into one program
    for i in range(args.steps):
        params, opt_state, loss, scores = step(params, opt_state)
        train_accuracy = float(np.mean((scores > 0) == (y > 0)))
        if i % 25 == 0 or i == args.steps - 1:
            print(f"step {i:>3}  loss {float(loss):.4f}  accuracy {100 * train_accuracy:.1f}%")
    final_accuracy = float(np.mean((model.apply(params, x)[:, 0] > 0) == (y > 0)))
    print(f"parameters: {sum(leaf.size for leaf in tree_leaves(params))}")
    if args.plot:
        plot_boundary(model, params, x, labels, args.plot)
        print(f"wrote the decision boundary to {args.plot}")
    print(f"training accuracy: {100 * final_accuracy:.1f}%")
    return final_accuracy


def plot_boundary(model, params, x, labels, path) -> None:
    """Draw the sign of the model's score over the plane, with the points on top."""
    import matplotlib  # noqa: PLC0415 - an optional dependency, checked before training

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    lo, hi = x.min(axis=0) - 0.5, x.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    scores = model.apply(params, grid)[:, 0].reshape(gx.shape)
    figure, axes = plt.subplots(figsize=(6, 5))
    axes.contourf(gx, gy, scores > 0, levels=1, cmap="coolwarm", alpha=0.35)
    axes.contour(gx, gy, scores, levels=[0.0], colors="k", linewidths=1)
    axes.scatter(x[:, 0], x[:, 1], c=labels, cmap="coolwarm", edgecolors="k", s=25)
    axes.set_title("two moons: decision boundary of a 2-16-16-1 MLP")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


if __name__ == "__main__":
    run_program("minigrad.examples.moons", main)
