"""``minigrad.lax``: structured control flow as higher-order primitives, as ``jax.lax``.

Each construct is one equation holding its branches or loop body as sub-programs, so a
loop of a million steps is a program of constant size, and every transform (``grad``,
``jvp``, ``vmap``, ``jit``, ``make_jaxpr``) applies to it and to their compositions.
See docs/transforms/control_flow.md.

Example:
    >>> import numpy as np
    >>> import minigrad as mg
    >>> mg.lax.fori_loop(0, 5, lambda i, x: x + i, 0.0)
    array(10.)
"""

from minigrad.lax import (
    array_api,  # noqa: F401 - registers the loops' Array API lowerings
    scan_hoist,  # noqa: F401 - registers scan's rewrite for jit
)
from minigrad.lax.associative import associative_scan
from minigrad.lax.conditionals import cond, select, switch
from minigrad.lax.loops import fori_loop, while_loop
from minigrad.lax.scan import map, scan  # noqa: A004 - jax.lax's name
from minigrad.ops.complex_parts import complex, conj, imag, real  # noqa: A004 - jax.lax's names
from minigrad.transforms.ad import stop_gradient

__all__ = [
    "cond",
    "switch",
    "while_loop",
    "fori_loop",
    "scan",
    "map",
    "associative_scan",
    "select",
    "stop_gradient",
    "complex",
    "real",
    "imag",
    "conj",
]
