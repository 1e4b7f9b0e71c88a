"""Gradient descent from scratch: fit a line to noisy points with ``grad``.

Run with ``python -m minigrad.examples.fit_line``. The loss falls from 2.5 to the
noise level (about 0.01) in 100 steps; ``docs/make_figures.py`` draws its curve.
"""

import argparse

import numpy as np

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.examples.flags import int_at_least, positive_float


def make_data(n: int = 50, seed: int = 0):
    """Points near the line y = 2x + 1, x in [-1, 1]."""
    rng = np.random.default_rng(seed)
    x = np.linspace(-1.0, 1.0, n)
    y = 2.0 * x + 1.0 + 0.1 * rng.standard_normal(n)
    return x, y


def loss(params, x, y):
    """Mean squared error of the line ``params = (slope, intercept)``."""
    slope, intercept = params
    return mnp.mean((slope * x + intercept - y) ** 2)


def fit(steps: int = 100, learning_rate: float = 0.1):
    """Plain gradient descent from (0, 0); returns the final params and each step's loss.

    Example:
      >>> params, losses = fit(steps=100)
      >>> print(f"{float(params[0]):.2f} {float(params[1]):.2f}")
      2.06 1.01
      >>> bool(losses[-1] < 0.01 < 2.0 < losses[0])
      True
    """
    x, y = make_data()
    params = (np.float64(0.0), np.float64(0.0))
    value_and_grad = mg.value_and_grad(loss)
    losses = []
    for _ in range(steps):
        value, grads = value_and_grad(params, x, y)
        losses.append(float(value))
        params = tuple(p - learning_rate * g for p, g in zip(params, grads, strict=True))
    return params, losses


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.examples.fit_line", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--steps", type=int_at_least(1), default=100, help="gradient descent steps (default 100)"
    )
    parser.add_argument("--lr", type=positive_float, default=0.1, help="learning rate (default 0.1)")
    args = parser.parse_args(argv)
    params, losses = fit(args.steps, args.lr)
    print(f"slope {float(params[0]):.3f}, intercept {float(params[1]):.3f}")
    print(f"loss {losses[0]:.3f} -> {losses[-1]:.4f}")


if __name__ == "__main__":
    main()
