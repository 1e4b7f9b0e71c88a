"""The gamma function family: ``gamma``, ``gammaln``, ``digamma``, ``polygamma`` and
``betaln``, as elementwise primitives whose values come from SciPy.

The family differentiates into itself: ``gammaln' = digamma``,
``digamma' = polygamma(1, ·)``, ``polygamma(n, ·)' = polygamma(n + 1, ·)``, so
derivatives of any order are exact rules, never finite differences.

Under ``jit`` on torch tensors ``polygamma`` is SciPy's formula on ``torch.special``'s
``zeta`` (``torch_polygamma``); on Dask, SciPy's on each block; on other libraries
(array-api-strict) the standard has no such function, and it is the Hurwitz sum and
Euler-Maclaurin series of standard calls in ``array_api_gamma``.

Example:
    >>> import minigrad as mg
    >>> round(float(mg.grad(mg.grad(gammaln))(1.0)), 12)  # polygamma(1, 1) = π²/6
    1.644934066848
"""

from __future__ import annotations

import functools
import importlib
import math

import numpy as np

from minigrad.core.lowering import lower_by_impl
from minigrad.core.trace import bind
from minigrad.ops.elementwise import add, declare_elementwise, mul, sub
from minigrad.scipy._requirement import require_scipy
from minigrad.scipy.special._operands import real_float_operands
from minigrad.transforms.jit.array_api_gamma import polygamma_standard
from minigrad.transforms.jit.array_api_rules import array_api_rule, elementwise_by_blocks_array_api

_special = require_scipy("special")

__all__ = ["gamma", "gammaln", "digamma", "polygamma", "betaln"]


def polygamma_linear(g, ans, x, *, n):
    return mul(g, _polygamma(x, n + 1))


def polygamma_impl(x, *, n):
    # SciPy's polygamma is a Python function over zeta (and psi for n = 0); it computes
    # in float64, so the result is cast back to x's dtype.
    return np.asarray(_special.polygamma(n, x), dtype=x.dtype)


def polygamma_shape_rule(x, *, n):
    return x


polygamma_p = declare_elementwise(
    "polygamma", polygamma_impl, polygamma_linear, shape_rule=polygamma_shape_rule
)
polygamma_p.def_lowering(lower_by_impl)


def torch_polygamma(x, *, n: int):
    """SciPy's ``polygamma(n, x)`` of a torch tensor: ``(-1)ⁿ⁺¹ n! ζ(n + 1, x)``, as SciPy
    computes it, on torch's Hurwitz ``zeta`` (within an ulp or two of SciPy's); torch's
    own ``polygamma(1, x)`` is off by up to 5e-10 relative.

    Example:
      >>> try:
      ...     import torch
      ... except ImportError:  # torch is an optional extra: ζ(2) = π²/6 itself
      ...     print(round(math.pi**2 / 6, 12))
      ... else:
      ...     print(round(float(torch_polygamma(torch.tensor(1.0, dtype=torch.float64), n=1)), 12))
      1.644934066848
    """
    torch_special = importlib.import_module("torch.special")
    if n == 0:
        return torch_special.digamma(x)
    return (-1.0) ** (n + 1) * float(math.factorial(n)) * torch_special.zeta(float(n + 1), x)


@array_api_rule(polygamma_p)
def polygamma_array_api(ctx, x, *, n):
    if ctx.library == "dask.array":
        return elementwise_by_blocks_array_api(ctx, x, n=n)  # SciPy on each block
    if ctx.library == "torch":
        return f"{ctx.constant(torch_polygamma, 'torch_polygamma')}({x}, n={int(n)})"
    function = functools.partial(polygamma_standard, ctx.xp_module)  # standard calls only
    return f"{ctx.constant(function, 'polygamma_standard')}({x}, n={int(n)})"


def _polygamma(x, n: int):
    return bind(polygamma_p, x, n=n)


def polygamma(n, x):
    """The ``n``-th derivative of ``digamma``: ``ψ⁽ⁿ⁾(x)``, for a non-negative integer ``n``.

    Args:
      n: a Python int (the order is static; derivatives raise it by one).
      x: real array-like.

    Example:
      >>> round(float(polygamma(1, 1.0)), 12)  # π²/6
      1.644934066848
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise TypeError(
            f"minigrad.scipy.special.polygamma: the order n must be a non-negative Python int, "
            f"got {n!r}. An array of orders is not supported; call it once per order."
        )
    (x,) = real_float_operands("polygamma", x)
    return _polygamma(x, int(n))


def digamma_linear(g, ans, x):
    return mul(g, _polygamma(x, 1))


digamma_p = declare_elementwise("digamma", _special.digamma, digamma_linear)


def digamma(x):
    """The logarithmic derivative of the gamma function, ``ψ(x) = Γ'(x)/Γ(x)``.

    Example:
      >>> round(float(digamma(1.0)), 15)  # -γ, the Euler-Mascheroni constant
      -0.577215664901533
    """
    (x,) = real_float_operands("digamma", x)
    return bind(digamma_p, x)


def gammaln_linear(g, ans, x):
    return mul(g, digamma(x))


gammaln_p = declare_elementwise("gammaln", _special.gammaln, gammaln_linear)


def gammaln(x):
    """``log|Γ(x)|``, without the overflow of ``log(gamma(x))`` (``gammaln(1000.0)`` is finite).

    Example:
      >>> round(float(gammaln(1000.0)), 9)
      5905.220423209
    """
    (x,) = real_float_operands("gammaln", x)
    return bind(gammaln_p, x)


def gamma_linear(g, ans, x):
    return mul(g, mul(ans, digamma(x)))


gamma_p = declare_elementwise("gamma", _special.gamma, gamma_linear)


def gamma(x):
    """The gamma function ``Γ(x)`` (``Γ(n) = (n - 1)!``).

    Example:
      >>> float(gamma(5.0))
      24.0
    """
    (x,) = real_float_operands("gamma", x)
    return bind(gamma_p, x)


def betaln_a_linear(g, ans, a, b):
    return mul(g, sub(digamma(a), digamma(add(a, b))))


def betaln_b_linear(g, ans, a, b):
    return mul(g, sub(digamma(b), digamma(add(a, b))))


betaln_p = declare_elementwise("betaln", _special.betaln, betaln_a_linear, betaln_b_linear)


def betaln(a, b):
    """``log|B(a, b)|``, the logarithm of the beta function, computed without overflow.

    Example:
      >>> round(float(betaln(2.0, 3.0)), 15)  # log(1/12)
      -2.484906649788
    """
    a, b = real_float_operands("betaln", a, b)
    return bind(betaln_p, a, b)
