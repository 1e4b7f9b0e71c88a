"""What a row of the operation table is (``OpSpec``) and how its arguments are drawn.

Each ``OpSpec`` names a function of ``minigrad.numpy``, how to draw its array arguments
(shapes that broadcast, the domain of the values) and which derivative orders to check.
Hypothesis draws the shapes and a seed; values come from NumPy with that seed, placed
in the operation's domain (positive for ``log``, away from kinks for ``abs``, ...).
The table itself is ``op_specs.OP_SPECS``.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import numpy as np
from hypothesis import strategies as st


@attrs.frozen
class OpSpec:
    name: str
    fun: Callable
    arity: int = 1
    domain: str = "real"  # real | positive | nonzero | unit | distinct
    order: int = 2
    shapes: str = "broadcast"  # broadcast | same | custom
    draw_args: Callable | None = None  # (draw, rng) -> tuple of args, for custom shapes


def values(rng, shape, domain):
    shape = tuple(shape)
    if domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "nonzero":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    if domain == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if domain == "distinct":
        # Elements at least 0.1 apart: no ties, so max/min/sort are smooth here.
        size = int(np.prod(shape, dtype=np.int64))
        return (rng.permutation(size) * 0.1 + rng.uniform(-0.03, 0.03, size)).reshape(shape) - 0.05 * size
    return rng.standard_normal(shape)


base_shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


@st.composite
def broadcast_shapes(draw, arity):
    """``arity`` shapes that broadcast together: leading axes dropped, axes set to 1."""
    base = draw(base_shapes)
    shapes = []
    for _ in range(arity):
        drop = draw(st.integers(0, len(base)))
        shape = list(base[drop:])
        for i in range(len(shape)):
            if draw(st.booleans()) and draw(st.booleans()):
                shape[i] = 1
        shapes.append(tuple(shape))
    return shapes


@st.composite
def op_args(draw, spec: OpSpec):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if spec.draw_args is not None:
        return spec.draw_args(draw, rng)
    if spec.shapes == "same":
        shapes = [draw(base_shapes)] * spec.arity
    else:
        shapes = draw(broadcast_shapes(spec.arity))
    return tuple(values(rng, shape, spec.domain) for shape in shapes)
