"""The micrograd classic: a tiny tanh MLP fits four points by plain gradient descent.

Run with ``python -m minigrad.examples.micrograd``. The parameters are a pytree (a list
of ``{"w", "b"}`` dicts); gradient descent is one ``tree_map`` over it.
"""

from __future__ import annotations

import argparse

import numpy as np

import minigrad as mg
import minigrad.random as mr
from minigrad import nn
from minigrad.examples.flags import int_at_least, positive_float
from minigrad.tree import tree_map

XS = np.array([[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]])
YS = np.array([1.0, -1.0, -1.0, 1.0])


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.examples.micrograd", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--steps", type=int_at_least(1), default=100, help="gradient descent steps (default 100)"
    )
    parser.add_argument("--lr", type=positive_float, default=0.1, help="learning rate (default 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the initial parameters (default 0)")
    args = parser.parse_args(argv)

    model = nn.MLP([3, 4, 4, 1], activation=nn.tanh)
    params = model.init(mr.key(args.seed))
    params = tree_map(lambda p: p.astype(np.float64), params)

    def loss_fn(params):
        predictions = model.apply(params, XS)[:, 0]
        return nn.mse(predictions, YS)

    loss_and_grad = mg.value_and_grad(loss_fn)
    for step in range(args.steps):
        loss, grads = loss_and_grad(params)
        params = tree_map(lambda p, g: p - args.lr * g, params, grads)
        if step % 10 == 0 or step == args.steps - 1:
            print(f"step {step:>3}  loss {float(loss):.6f}")
    predictions = model.apply(params, XS)[:, 0]
    print("targets:    ", " ".join(f"{y:+.3f}" for y in YS))
    print("predictions:", " ".join(f"{p:+.3f}" for p in predictions))
    final_loss = float(loss_fn(params))
    print(f"final loss: {final_loss:.6f}")
    return final_loss


if __name__ == "__main__":
    main()
