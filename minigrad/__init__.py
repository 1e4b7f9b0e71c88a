"""minigrad: composable function transformations (grad, vjp, make_jaxpr, ...) on NumPy.

``import minigrad as mg`` is all a program needs: the libraries (``mg.random``,
``mg.nn``, ``mg.optim``, ``mg.io``, ``mg.datasets``, ``mg.scipy``, ...) load on first
use, so the import itself stays fast (``mg.scipy`` imports SciPy only when one of its
functions is first reached).

Example:
    >>> import minigrad as mg
    >>> import minigrad.numpy as mnp
    >>> mg.grad(lambda x: mnp.sin(x) * x)(0.0)
    array(0.)
    >>> mg.random.normal(mg.random.key(0)).shape
    ()
"""

import importlib

from minigrad import (  # noqa: F401 - `numpy` installs the tracer operators
    debug,
    lax,  # structured control flow, as mg.lax
    numpy,
    tree,
)
from minigrad.core.array_type import Array
from minigrad.core.config import config, debug_nans, disable_jit
from minigrad.core.dtypes import float0
from minigrad.core.errors import ConcretizationError, TracerLeakError
from minigrad.core.ir import ClosedJaxpr, Jaxpr, ShapedArray
from minigrad.transforms.ad import grad, stop_gradient, value_and_grad, vjp
from minigrad.transforms.batching import vmap
from minigrad.transforms.custom import checkpoint, custom_vjp
from minigrad.transforms.custom_jvp import custom_jvp
from minigrad.transforms.forward import jvp
from minigrad.transforms.jacobians import hessian, jacfwd, jacobian, jacrev
from minigrad.transforms.jit import jit
from minigrad.transforms.jit.array_api import device_get, device_put
from minigrad.transforms.linear import linear_transpose, linearize
from minigrad.transforms.staged_program import make_jaxpr

__version__ = "0.1.0"

# Subpackages loaded on first attribute access (`mg.nn`), as `import minigrad.nn` would:
# importing them all up front would slow down `import minigrad` for every program.
# A new namespace joins by adding its name here.
_LAZY_SUBMODULES = frozenset(
    {"random", "nn", "optim", "io", "datasets", "flatten_util", "tree_util", "testing", "viz", "scipy"}
)


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        module = importlib.import_module(f"minigrad.{name}")
        globals()[name] = module  # later lookups skip this function
        return module
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_LAZY_SUBMODULES})


__all__ = [
    "Array",
    "ClosedJaxpr",
    "ConcretizationError",
    "Jaxpr",
    "ShapedArray",
    "TracerLeakError",
    "checkpoint",
    "config",
    "custom_jvp",
    "custom_vjp",
    "debug",
    "debug_nans",
    "device_get",
    "device_put",
    "disable_jit",
    "float0",
    "grad",
    "jit",
    "hessian",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "lax",
    "linear_transpose",
    "linearize",
    "make_jaxpr",
    "stop_gradient",
    "tree",
    "value_and_grad",
    "vjp",
    "vmap",
]
