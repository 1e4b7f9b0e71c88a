"""SciPy's special functions on other libraries: torch's own, compositions of standard
calls elsewhere, and SciPy on Dask's blocks.

The standard has no special functions. On torch the functions that ``torch.special``
has (ports of the Cephes code SciPy uses too: within a few ulps of SciPy, a few times
1e-12 relative in the far tails) compute them; ``ndtr`` is written as SciPy's from
torch's ``erf`` and ``erfc`` (torch's own ``ndtr`` is 0 below -8, where SciPy's is not).
``gamma`` is ``exp`` of ``lgamma`` with the sign of Γ (``gamma_from_lgamma``): ``lgamma``
within a few ulps of ``|lgamma|`` makes an ``exp`` within ``|lgamma|`` ulps, below 1e-13
relative up to the overflow at 171.6. torch has no ``betaln`` (a sum of three ``lgamma``
loses everything to cancellation for large arguments) or ``stdtr``: those are the
compositions of standard calls of ``array_api_gamma`` and ``array_api_incomplete_beta``.
On any other library (array-api-strict, NumPy through array-api-compat, ...) every one
of them is such a composition (``array_api_gamma``, ``array_api_error_functions``,
``array_api_bessel``, and the one-line ones below), within about 1e-13 relative of
SciPy's (``polygamma``'s lowering is beside its primitive in ``minigrad.scipy.special``).
On Dask arrays every one of them is SciPy's own function on each NumPy block
(``elementwise_by_blocks_array_api``).

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

from minigrad.transforms.jit.array_api_bessel import i0e_standard, i1e_standard
from minigrad.transforms.jit.array_api_error_functions import (
    erf_standard,
    erfc_standard,
    erfcx_standard,
    erfinv_standard,
    log_ndtr_standard,
    ndtr_standard,
    ndtri_standard,
)
from minigrad.transforms.jit.array_api_gamma import betaln_standard, digamma_standard, gammaln_standard
from minigrad.transforms.jit.array_api_incomplete_beta import stdtr_standard
from minigrad.transforms.jit.array_api_rules import (
    UFUNC_LOWERING_LOADERS,
    UFUNC_LOWERINGS,
    elementwise_by_blocks_array_api,
)

__all__ = [
    "ndtr_from_erf",
    "gamma_from_lgamma",
    "expit_standard",
    "logit_standard",
    "xlogy_standard",
    "xlog1py_standard",
    "entr_standard",
    "gamma_standard",
    "load_special_lowerings",
]


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
    at_zero = xp.where(xp.signbit(x), -math.inf, xp.full_like(x, math.inf))
    pole = xp.where(x == 0, at_zero, math.nan)
    return xp.where((x <= 0) & (x == floor), pole, value)


def expit_standard(xp, x):
    """The logistic sigmoid ``1/(1 + e⁻ˣ)``, from ``e^(-|x|)`` (never overflowing).

    Example:
      >>> import numpy as np
      >>> expit_standard(np, np.array([0.0, -800.0]))
      array([0.5, 0. ])
    """
    small = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + small), small / (1.0 + small))


def logit_standard(xp, p):
    """``log(p/(1 - p))``; within 1/4 of 1/2 as ``log1p((2p - 1)/(1 - p))``, whose ``2p - 1``
    is exact (the quotient's logarithm would lose the digits of a result near 0).

    Example:
      >>> import numpy as np
      >>> logit_standard(np, np.array([0.5, 0.75]))
      array([0.        , 1.09861229])
    """
    central = xp.log1p((2.0 * p - 1.0) / (1.0 - p))
    return xp.where(xp.abs(p - 0.5) < 0.25, central, xp.log(p / (1.0 - p)))


def xlogy_standard(xp, x, y):
    """``x log(y)``, 0 where ``x`` is 0 (and ``y`` not NaN), as SciPy's ``xlogy``.

    Example:
      >>> import numpy as np
      >>> xlogy_standard(np, np.array([0.0, 2.0]), np.array([0.0, np.e]))
      array([0., 2.])
    """
    zero = (x == 0) & ~xp.isnan(y)
    return xp.where(zero, 0.0, x * xp.log(xp.where(zero, 1.0, y)))


def xlog1py_standard(xp, x, y):
    """``x log1p(y)``, 0 where ``x`` is 0 (and ``y`` not NaN), as SciPy's ``xlog1py``.

    Example:
      >>> import numpy as np
      >>> xlog1py_standard(np, np.array([0.0, 2.0]), np.array([-1.0, 0.0]))
      array([0., 0.])
    """
    zero = (x == 0) & ~xp.isnan(y)
    return xp.where(zero, 0.0, x * xp.log1p(xp.where(zero, 0.0, y)))


def entr_standard(xp, x):
    """``-x log(x)`` for ``x > 0``, 0 at 0 and ``-inf`` below, as SciPy's ``entr``.

    Example:
      >>> import numpy as np
      >>> entr_standard(np, np.array([1.0, 0.0, -1.0]))
      array([ -0.,   0., -inf])
    """
    positive = xp.where(x > 0, x, 1.0)
    value = xp.where(x > 0, -positive * xp.log(positive), xp.where(x == 0, 0.0, xp.full_like(x, -math.inf)))
    return xp.where(xp.isnan(x), x, value)


def gamma_standard(xp, x):
    """``Γ(x)`` as ``exp(gammaln(x))`` with the sign of Γ and SciPy's values at the poles.

    Example:
      >>> import numpy as np
      >>> gamma_standard(np, np.array([5.0, 0.5]))
      array([24.        ,  1.77245385])
    """
    return gamma_from_lgamma(xp, x, lgamma=functools.partial(gammaln_standard, xp))


def _special_rule(name: str, torch_function, standard_function):
    """The lowering of a SciPy ufunc: ``torch_function(torch.special, xp)`` (the function to
    call) on torch, SciPy on Dask's blocks, ``standard_function(xp, ...)`` elsewhere (and on
    torch where ``torch_function`` is None)."""

    def special_array_api(ctx, *args):
        if ctx.library == "dask.array":
            return elementwise_by_blocks_array_api(ctx, *args)
        if ctx.library == "torch" and torch_function is not None:
            function = torch_function(importlib.import_module("torch.special"), ctx.xp_module)
            hint = f"torch_{ctx.primitive.name}"
        else:
            function = functools.partial(standard_function, ctx.xp_module)
            hint = f"{ctx.primitive.name}_standard"
        return f"{ctx.constant(function, hint)}({', '.join(args)})"

    special_array_api.__name__ = f"{name}_array_api"
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
    # SciPy's ufunc -> (torch.special's function of the same meaning, the composition of
    # standard calls); the name is the ufunc's.
    lowerings = {
        special.erf: ("erf", erf_standard), special.erfc: ("erfc", erfc_standard),
        special.erfcx: ("erfcx", erfcx_standard), special.erfinv: ("erfinv", erfinv_standard),
        special.ndtri: ("ndtri", ndtri_standard), special.log_ndtr: ("log_ndtr", log_ndtr_standard),
        special.i0e: ("i0e", i0e_standard), special.i1e: ("i1e", i1e_standard),
        special.expit: ("expit", expit_standard), special.logit: ("logit", logit_standard),
        special.xlogy: ("xlogy", xlogy_standard), special.xlog1py: ("xlog1py", xlog1py_standard),
        special.entr: ("entr", entr_standard), special.digamma: ("digamma", digamma_standard),
        special.gammaln: ("gammaln", gammaln_standard),
    }  # fmt: skip
    for ufunc, (name, standard_function) in lowerings.items():
        UFUNC_LOWERINGS[ufunc] = _special_rule(name, _torch_named(name), standard_function)
    # SciPy's formula for ndtr (not torch's ndtr); gamma from lgamma (torch has no gamma);
    # betaln and stdtr, which torch lacks, by the compositions on torch too.
    UFUNC_LOWERINGS[special.ndtr] = _special_rule("ndtr", torch_ndtr, ndtr_standard)
    UFUNC_LOWERINGS[special.gamma] = _special_rule("gamma", torch_gamma, gamma_standard)
    UFUNC_LOWERINGS[special.betaln] = _special_rule("betaln", None, betaln_standard)
    UFUNC_LOWERINGS[special.stdtr] = _special_rule("stdtr", None, stdtr_standard)


UFUNC_LOWERING_LOADERS.append(load_special_lowerings)
