"""``minigrad.scipy.stats``: probability distributions written with minigrad functions
(``norm``, ``t``, ``bernoulli``, ``multivariate_normal``), as modules of functions like
``jax.scipy.stats``, differentiable in every continuous parameter.

Example:
    >>> import minigrad as mg
    >>> from minigrad.scipy.stats import norm
    >>> float(mg.grad(norm.logpdf, argnums=1)(1.0, 0.0))  # d/dloc = (x - loc) / scale²
    1.0
"""

from minigrad.scipy.stats import bernoulli, multivariate_normal, norm, t

__all__ = ["bernoulli", "multivariate_normal", "norm", "t"]
