"""Small datasets that need no download: the UCI digits (shipped) and two moons (generated).

The digits are the test set of the "Optical Recognition of Handwritten Digits" data of
the UCI Machine Learning Repository (E. Alpaydin and C. Kaynak, 1998; CC BY 4.0),
https://doi.org/10.24432/C50P49, the same 1797 images that scikit-learn ships. Each is
an 8x8 grid of pixel counts from 0 to 16.

Example:
    >>> import minigrad.random as mr
    >>> X, y = moons(100, 0.1, mr.key(0))
    >>> X.shape, sorted(set(y.tolist()))
    ((100, 2), [0, 1])
"""

from __future__ import annotations

from importlib import resources

import numpy as np

import minigrad.random as mr

__all__ = ["digits", "moons"]


def digits():
    """The 1797 handwritten digits as ``(X, y)``.

    Returns:
      ``X``: float32 of shape ``(1797, 64)``, the 8x8 images row by row, scaled to
      ``[0, 1]``; ``y``: int64 labels 0-9.

    Example:
      >>> X, y = digits()
      >>> float(X.min()), float(X.max()), int(y[0])
      (0.0, 1.0, 0)
    """
    source = resources.files("minigrad.datasets").joinpath("data", "digits.npz")
    with resources.as_file(source) as path, np.load(path, allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"]
    x = (images.reshape(len(images), 64).astype(np.float32) / np.float32(16.0)).astype(np.float32)
    return x, labels.astype(np.int64)


def moons(n: int, noise: float, key):
    """Two interleaving half circles, a classic non-linearly-separable toy problem.

    Args:
      n: the number of points (``n // 2`` on the upper moon, the rest on the lower).
      noise: the standard deviation of Gaussian noise added to each coordinate.
      key: a ``minigrad.random`` key for the noise and the shuffling.

    Returns:
      ``X`` float32 of shape ``(n, 2)`` and ``y`` int64 labels (0 upper, 1 lower), shuffled.

    Example:
      >>> import minigrad.random as mr
      >>> X, y = moons(4, 0.0, mr.key(0))
      >>> int(y.sum())
      2
    """
    n = int(n)
    if n < 2:
        raise ValueError(f"moons: need at least 2 points, got n={n}.")
    n_upper = n // 2
    n_lower = n - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    x = np.concatenate(
        [
            np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1),
            np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_lower, np.int64)])
    noise_key, order_key = mr.split(key)
    x = x + float(noise) * mr.normal(noise_key, (n, 2), np.float64)
    order = mr.permutation(order_key, n)
    return x[order].astype(np.float32), y[order]
