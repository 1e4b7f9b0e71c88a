"""``minigrad.scipy``: differentiable versions of SciPy's special functions,
distributions and matrix functions (installed with the extra ``minigrad[scipy]``).

SciPy computes the values (it is the well-kept library for special functions and
LAPACK wrappers); minigrad adds the derivative rules, batching and ``jit`` lowering,
so every transform applies. Importing this package needs nothing beyond minigrad:
``special``, ``stats`` and ``linalg`` load on first use, and raise an ``ImportError``
with the install command when SciPy is missing.

Example:
    >>> import minigrad as mg
    >>> import minigrad.scipy
    >>> float(mg.grad(minigrad.scipy.special.gammaln)(3.0))  # digamma(3) = 1.5 - γ
    0.9227843350984671
"""

from __future__ import annotations

import importlib

__all__ = ["linalg", "special", "stats"]


def __getattr__(name: str):
    # PEP 562: load a submodule (and SciPy with it) only when it is first used, so that
    # `import minigrad.scipy` stays cheap and works without SciPy.
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
