"""SciPy's special functions on other libraries: torch's own, and SciPy on Dask's blocks.

The standard has no special functions, so a program with ``erf`` or ``gammaln`` is
refused on array-api-strict. On torch the functions that ``torch.special`` has (ports
of the Cephes code SciPy uses too: within a few ulps of SciPy, a few times 1e-12
relative in the far tails) compute them; ``ndtr`` is written as SciPy's from torch's
``erf`` and ``erfc`` (torch's own ``ndtr`` is 0 below -8, where SciPy's is not).
``gamma`` is ``exp`` of torch's ``lgamma`` with the sign of Γ (``gamma_from_lgamma``):
``lgamma`` within a few ulps of ``|lgamma|`` makes an ``exp`` within ``|lgamma|`` ulps,
below 1e-13 relative up to the overflow at 171.6. torch has no ``betaln`` (a sum of three
``lgamma`` loses everything to cancellation for large arguments) or ``stdtr``, so those
are refused there (``polygamma``'s lowering is beside its primitive in
``minigrad.scipy.special``). On Dask arrays every one of them is SciPy's own function on
each NumPy block (``elementwise_by_blocks_array_api``).

SciPy is optional, and loaded only when a program uses it: the lowerings are registered
when a program first asks for one, SciPy being loaded by then.

Example:
    >>> from scipy import special
    >>> load_special_lowerings()
    >>> UFUNC_LOWERINGS[special.erf].__name__
    'erf_array_api'
"""

from __future__ import annotations

import functools
import importlib
import math
import sys

from minigrad.transforms.jit.array_api_rules import (
    UFUNC_LOWERING_LOADERS,
    UFUNC_LOWERINGS,
    elementwise_by_blocks_array_api,
)

__all__ = ["ndtr_from_erf", "gamma_from_lgamma", "load_special_lowerings"]


def ndtr_from_erf(xp, x, *, erf, erfc):
    """The standard normal distribution function as SciPy's (Cephes) ``ndtr`` computes it
    from ``erf`` and ``erfc``: ``erf`` near 0, ``erfc`` of ``|x| / sqrt(2)`` in the tails,
    so that the lower tail keeps its tiny values.

    Example:
      >>> import numpy as np
      >>> from scipy import special
      >>> ndtr_from_erf(np, np.array([0.0, -30.0]), erf=special.erf, erfc=special.erfc)
      array([5.00000000e-001, 4.90671393e-198])
    """
    z = x * math.sqrt(0.5)
    magnitude = xp.abs(z)
    tail = 0.5 * erfc(magnitude)
    tail = xp.where(z > 0, 1.0 - tail, tail)
    return xp.where(magnitude < math.sqrt(0.5), 0.5 + 0.5 * erf(z), tail)


def gamma_from_lgamma(xp, x, *, lgamma):
    """The gamma function as SciPy's, from ``lgamma`` (``log|Γ|``) and the sign of Γ: negative
    on (-1, 0), (-3, -2), ...; at the poles SciPy's values (±inf at ±0, NaN at the
    negative integers and -inf).

    Example:
      >>> import numpy as np
      >>> from scipy import special
      >>> gamma_from_lgamma(np, np.array([5.0, -0.5, -0.0, -1.0]), lgamma=special.gammaln)
      array([24.       , -3.5449077,       -inf,        nan])
    """
    floor = xp.floor(x)
    magnitude = xp.exp(lgamma(x))
    value = xp.where((x < 0) & (floor % 2 != 0), -magnitude, magnitude)
    at_zero = xp.where(xp.signbit(x), -math.inf, math.inf)
    pole = xp.where(x == 0, at_zero, math.nan)
    return xp.where((x <= 0) & (x == floor), pole, value)


def _special_rule(torch_function):
    """The lowering of a SciPy ufunc: ``torch_function(torch.special, xp)`` (the function
    to call) on torch, SciPy on Dask's blocks, refused elsewhere."""

    def special_array_api(ctx, *args):
        if ctx.library != "torch":
            return elementwise_by_blocks_array_api(ctx, *args)
        function = torch_function(importlib.import_module("torch.special"), ctx.xp_module)
        return f"{ctx.constant(function, f'torch_{ctx.primitive.name}')}({', '.join(args)})"

    special_array_api.__name__ = f"{torch_function.__name__.removeprefix('torch_')}_array_api"
    return special_array_api


def _torch_named(name: str):
    def torch_function(torch_special, xp):
        return getattr(torch_special, name)

    torch_function.__name__ = f"torch_{name}"
    return torch_function


def torch_ndtr(torch_special, xp):
    return functools.partial(ndtr_from_erf, xp, erf=torch_special.erf, erfc=torch_special.erfc)


def torch_gamma(torch_special, xp):
    return functools.partial(gamma_from_lgamma, xp, lgamma=torch_special.gammaln)


def load_special_lowerings() -> None:
    """Register the lowerings of SciPy's ufuncs, once ``scipy.special`` is imported (a
    program can hold them only then; importing it here would load SciPy with minigrad)."""
    special = sys.modules.get("scipy.special")
    if special is None or special.erf in UFUNC_LOWERINGS:
        return
    # SciPy's ufunc -> how torch computes it: torch.special's function of the same meaning.
    torch_special = {
        special.erf: "erf", special.erfc: "erfc", special.erfcx: "erfcx", special.erfinv: "erfinv",
        special.ndtri: "ndtri", special.log_ndtr: "log_ndtr", special.i0e: "i0e", special.i1e: "i1e",
        special.expit: "expit", special.logit: "logit", special.xlogy: "xlogy",
        special.xlog1py: "xlog1py", special.entr: "entr", special.digamma: "digamma",
        special.gammaln: "gammaln",
    }  # fmt: skip
    for ufunc, torch_name in torch_special.items():
        UFUNC_LOWERINGS[ufunc] = _special_rule(_torch_named(torch_name))
    UFUNC_LOWERINGS[special.ndtr] = _special_rule(torch_ndtr)  # SciPy's formula, not torch's ndtr
    UFUNC_LOWERINGS[special.gamma] = _special_rule(torch_gamma)  # torch has no gamma


UFUNC_LOWERING_LOADERS.append(load_special_lowerings)
