"""minigrad: composable function transformations (grad, vjp, make_jaxpr, ...) on NumPy.

Example:
    >>> import minigrad as mg
    >>> import minigrad.numpy as mnp
    >>> mg.grad(lambda x: mnp.sin(x) * x)(0.0)
    array(0.)
"""

from minigrad import (  # noqa: F401 - `numpy` installs the tracer operators
    debug,
    lax,  # structured control flow, as mg.lax
    numpy,
    tree,
)
from minigrad.core.config import config, debug_nans
from minigrad.core.errors import ConcretizationError, TracerLeakError
from minigrad.core.ir import ClosedJaxpr, Jaxpr, ShapedArray
from minigrad.transforms.ad import grad, stop_gradient, value_and_grad, vjp
from minigrad.transforms.batching import vmap
from minigrad.transforms.custom import checkpoint, custom_vjp
from minigrad.transforms.forward import jvp
from minigrad.transforms.jacobians import hessian, jacfwd, jacrev
from minigrad.transforms.jit import jit
from minigrad.transforms.staged_program import make_jaxpr

__version__ = "0.1.0"

__all__ = [
    "ClosedJaxpr",
    "ConcretizationError",
    "Jaxpr",
    "ShapedArray",
    "TracerLeakError",
    "checkpoint",
    "config",
    "custom_vjp",
    "debug",
    "debug_nans",
    "grad",
    "jit",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "lax",
    "make_jaxpr",
    "stop_gradient",
    "tree",
    "value_and_grad",
    "vjp",
    "vmap",
]
