"""``minigrad.scipy.special``: SciPy's special functions, differentiable.

Values come from SciPy's ufuncs (accurate to a few ulp in float64); the derivative
rules, batching and ``jit`` lowering are minigrad's, so ``grad``, ``jvp``, ``vmap`` and
``jit`` apply to every function, to any order. Importing this module needs SciPy
(``pip install 'minigrad[scipy]'``).

Example:
    >>> import minigrad as mg
    >>> from minigrad.scipy import special
    >>> round(float(mg.grad(special.erf)(0.0)), 12)  # 2/√π
    1.128379167096
"""

from minigrad.scipy.special._bessel import i0e, i1e
from minigrad.scipy.special._error_functions import erf, erfc, erfcx, erfinv, log_ndtr, ndtr, ndtri
from minigrad.scipy.special._gamma_functions import betaln, digamma, gamma, gammaln, polygamma
from minigrad.scipy.special._logarithms import entr, expit, logit, xlog1py, xlogy
from minigrad.scipy.special._normalizers import log_softmax, logsumexp, softmax

__all__ = [
    "betaln", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "expit", "gamma", "gammaln",
    "i0e", "i1e", "log_ndtr", "log_softmax", "logit", "logsumexp", "ndtr", "ndtri", "polygamma",
    "softmax", "xlog1py", "xlogy",
]  # fmt: skip
