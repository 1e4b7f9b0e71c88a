"""Operation specs beyond ``op_specs.OP_SPECS``, so the transform tests reach every
primitive: comparisons and logic, argmax/argmin, casts, the sigmoid, scatter_add, and
indexing where the index arrays are themselves arguments (batched under ``vmap``).

``ALL_SPECS`` is the table the forward-mode and batching tests walk;
``DIFFERENTIABLE_SPECS`` those of its entries with derivatives.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minigrad.numpy as mnp
from minigrad.ops import elementwise as ew
from minigrad.ops import index as ix
from tests.op_specs import OP_SPECS, OpSpec, base_shapes, values


def _two_same(domain="real"):
    def draw_args(draw, rng):
        shape = draw(base_shapes)
        return (np.asarray(values(rng, shape, domain)), np.asarray(values(rng, shape, domain)))

    return draw_args


def _predicates(x, y):
    """Every comparison and logical primitive, turned back into floats."""
    gt, lt = x > y, x < y
    flags = [
        mnp.equal(x, x),
        mnp.not_equal(x, y),
        mnp.greater_equal(x, y),
        mnp.less_equal(x, y),
        mnp.logical_and(gt, mnp.logical_not(lt)),
        mnp.logical_or(gt, lt),
        mnp.logical_xor(gt, lt),
        mnp.isfinite(x),
    ]
    return mnp.stack([mnp.asarray(f, dtype=np.float64) for f in flags]) * x


def _arg_extrema(x):
    # Integer outputs, used as indices so the result is a float function of x.
    flat = mnp.reshape(x, (-1,))
    return flat[mnp.argmax(x)] - flat[mnp.argmin(x)] + mnp.asarray(mnp.argmax(x, axis=-1), dtype=np.float64)


def _axis_args(draw, rng):
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
    return (values(rng, shape, "distinct"),)


def _gather_args(draw, rng):
    x = values(rng, (4, 3), "real")
    rows = rng.integers(0, 4, size=draw(st.integers(1, 3)))
    cols = rng.integers(0, 3, size=rows.shape)
    return (x, rows, cols)


def _gather(x, rows, cols):
    # An adjacent pair of index arrays, then one followed by a newaxis and a slice.
    # (mnp.getitem, since x may be a NumPy array, which cannot be indexed by a tracer.)
    return mnp.getitem(x, (rows, cols)) * 2.0 + mnp.getitem(x, rows)[:, None, 1:].sum()


def _scatter_args(draw, rng):
    rows = rng.integers(0, 4, size=draw(st.integers(1, 3)))
    return (values(rng, (rows.size, 2), "real"), rows)


def _scatter(updates, rows):
    return ix.scatter_add(updates, [rows], (("array", 0), ("slice", None, None, None)), (4, 2))


def _cast_args(draw, rng):
    return (np.asarray(values(rng, draw(base_shapes), "real"), np.float32),)


EXTRA_SPECS: list[OpSpec] = [
    OpSpec("predicates", _predicates, draw_args=_two_same("distinct"), shapes="custom"),
    OpSpec("argmax_argmin", _arg_extrema, draw_args=_axis_args, shapes="custom"),
    OpSpec("astype", lambda x: mnp.asarray(x, dtype=np.float64) * 3.0, draw_args=_cast_args, shapes="custom"),
    OpSpec("logistic", ew.logistic),
    OpSpec("stop_gradient", lambda x: mnp.stop_gradient(x) * x),
    OpSpec("gather_traced_indices", _gather, draw_args=_gather_args, shapes="custom"),
    OpSpec("scatter_add", _scatter, draw_args=_scatter_args, shapes="custom"),
]

ALL_SPECS: list[OpSpec] = OP_SPECS + EXTRA_SPECS


def _arrays_not_scalars(args):
    # The value drawers give NumPy scalars for 0-d shapes; those are arrays too.
    return tuple(np.asarray(a) if isinstance(a, np.generic) else a for a in args)


def _with_inputs(spec, args, is_input):
    """``(fun, inputs)``: the arguments ``is_input`` picks become the function's inputs;
    the others are closed over."""
    args = _arrays_not_scalars(args)
    positions = [i for i, a in enumerate(args) if is_input(a)]

    def fun(*inputs):
        full = list(args)
        for i, a in zip(positions, inputs, strict=True):
            full[i] = a
        return spec.fun(*full)

    return fun, tuple(args[i] for i in positions)


def split_arrays(spec, args):
    """Float-array arguments are the inputs; axes, modes, masks and index arrays are closed over."""
    return _with_inputs(spec, args, lambda a: isinstance(a, np.ndarray) and a.dtype.kind == "f")


def array_arguments(spec, args):
    """Every array argument (index arrays included) is an input."""
    return _with_inputs(spec, args, lambda a: isinstance(a, np.ndarray))
