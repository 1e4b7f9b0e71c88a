"""The table of differentiable operations every gradient test is driven by.

The core rows are below; each family added later keeps its rows in a file of its own
(``op_specs_<family>.py``, a list named ``SPECS``), so families grow side by side.
A row's fields and argument drawers are in ``op_spec_tools.py``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minigrad.numpy as mnp
from tests import (
    op_specs_arrays,
    op_specs_complex,
    op_specs_complex_linalg,
    op_specs_fft,
    op_specs_linalg,
    op_specs_math,
    op_specs_scipy,
)
from tests.op_spec_tools import OpSpec, base_shapes, broadcast_shapes, op_args, values

__all__ = ["OP_SPECS", "OpSpec", "base_shapes", "broadcast_shapes", "op_args", "values"]


# ---------------------------------------------------------------------------------------
# Custom argument drawers for operations with structure beyond broadcasting.


def _axis_args(domain, min_size=1):
    def draw_args(draw, rng):
        shape = draw(st.lists(st.integers(min_size, 3), min_size=1, max_size=3).map(tuple))
        return (values(rng, shape, domain),)

    return draw_args


def _reduction(name, fun, domain="real", min_size=1, min_ndim=0, min_axes=0):
    """A reduction checked over axis=None, one axis and several, with and without keepdims."""

    def draw_args(draw, rng):
        shape = draw(st.lists(st.integers(min_size, 3), min_size=min_ndim, max_size=3).map(tuple))
        ndim = len(shape)
        axis = draw(
            st.one_of(
                st.none(),
                st.integers(-ndim, ndim - 1) if ndim else st.none(),
                st.lists(st.integers(0, ndim - 1), unique=True, min_size=min_axes, max_size=ndim).map(tuple)
                if ndim
                else st.none(),
            )
        )
        keepdims = draw(st.booleans())
        return (values(rng, shape, domain), axis, keepdims)

    def call(x, axis, keepdims):
        return fun(x, axis=axis, keepdims=keepdims)

    return OpSpec(name, call, draw_args=draw_args, shapes="custom")


def _matmul_args(draw, rng):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    kind = draw(st.sampled_from(["mm", "mv", "vm", "vv", "batched", "broadcast_batch"]))
    shapes = {
        "mm": ((n, k), (k, m)),
        "mv": ((n, k), (k,)),
        "vm": ((k,), (k, m)),
        "vv": ((k,), (k,)),
        "batched": ((2, n, k), (2, k, m)),
        "broadcast_batch": ((2, 1, n, k), (3, k, m)),
    }[kind]
    return tuple(values(rng, s, "real") for s in shapes)


def _einsum_spec(subscripts, *shapes):
    def draw_args(draw, rng):
        return tuple(values(rng, s, "real") for s in shapes)

    def call(*operands):
        return mnp.einsum(subscripts, *operands)

    return OpSpec(f"einsum[{subscripts}]", call, arity=len(shapes), draw_args=draw_args, shapes="custom")


def _index_spec(name, index, shape=(4, 3, 2)):
    def draw_args(draw, rng):
        return (values(rng, shape, "real"),)

    def call(x):
        return x[index]

    return OpSpec(f"index[{name}]", call, draw_args=draw_args, shapes="custom")


def _at_spec(method, index, values_shape, shape=(4, 3)):
    """``x.at[index].method(v)``: derivatives with respect to both ``x`` and ``v``."""

    def draw_args(draw, rng):
        return (values(rng, shape, "real"), values(rng, values_shape, "real"))

    def call(x, v):
        return getattr(mnp.asarray(x).at[index], method)(v)

    return OpSpec(f"at[{method}]", call, arity=2, draw_args=draw_args, shapes="custom")


def _where_args(draw, rng):
    shapes = draw(broadcast_shapes(3))
    return (rng.random(shapes[0]) > 0.5, values(rng, shapes[1], "real"), values(rng, shapes[2], "real"))


def _concatenate_args(draw, rng):
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
    axis = draw(st.integers(0, len(shape) - 1))
    other = list(shape)
    other[axis] = draw(st.integers(1, 3))
    return (values(rng, shape, "real"), values(rng, tuple(other), "real"), axis)


def _pad_args(draw, rng):
    shape = draw(st.lists(st.integers(2, 3), min_size=1, max_size=2).map(tuple))
    widths = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    return (values(rng, shape, "real"), widths, mode)


def _pad(x, widths, mode):
    return mnp.pad(x, widths, mode=mode)


def _clip_bounds_args(draw, rng):
    """x and bounds of shapes that broadcast, x at least 0.2 away from either bound (below,
    inside or above), where the derivatives are smooth."""
    x_shape, low_shape, high_shape = draw(broadcast_shapes(3))
    low = rng.uniform(-1.0, -0.6, low_shape)
    high = rng.uniform(0.6, 1.0, high_shape)
    x = rng.choice([-1.5, 0.0, 1.5], x_shape) + rng.uniform(-0.3, 0.3, x_shape)
    return (x, low, high)


def _clip_args(draw, rng):
    shape = draw(base_shapes)
    x = values(rng, shape, "real")
    # Keep values away from the bounds, where the derivative jumps.
    x = np.where(np.abs(np.abs(x) - 0.5) < 0.05, x + 0.2, x)
    return (x,)


def _split_sum(x):
    parts = mnp.split(x, [1, 3], axis=0)
    return parts[0].sum() * 1.0 + (parts[1] * 2.0).sum() + (parts[2] ** 2).sum()


OP_SPECS: list[OpSpec] = [
    # elementwise, unary
    OpSpec("negative", mnp.negative),
    OpSpec("exp", mnp.exp),
    OpSpec("log", mnp.log, domain="positive"),
    OpSpec("log1p", mnp.log1p, domain="positive"),
    OpSpec("expm1", mnp.expm1),
    OpSpec("sqrt", mnp.sqrt, domain="positive"),
    OpSpec("sin", mnp.sin),
    OpSpec("cos", mnp.cos),
    OpSpec("tan", mnp.tan, domain="unit"),
    OpSpec("tanh", mnp.tanh),
    OpSpec("arctan", mnp.arctan),
    OpSpec("abs", mnp.abs, domain="nonzero"),
    OpSpec("sign", mnp.sign, domain="nonzero"),
    OpSpec("square", mnp.square),
    OpSpec("reciprocal", mnp.reciprocal, domain="nonzero"),
    OpSpec("log2", mnp.log2, domain="positive"),
    OpSpec("log10", mnp.log10, domain="positive"),
    OpSpec("exp2", mnp.exp2),
    OpSpec("cbrt", mnp.cbrt, domain="nonzero"),
    OpSpec("integer_pow3", lambda x: x**3),
    OpSpec("integer_pow_neg2", lambda x: x**-2, domain="nonzero"),
    OpSpec("clip", lambda x: mnp.clip(x, -0.5, 0.5), draw_args=_clip_args, shapes="custom"),
    OpSpec("clip_traced_bounds", mnp.clip, draw_args=_clip_bounds_args, shapes="custom"),
    # elementwise, binary (broadcasting)
    OpSpec("add", mnp.add, arity=2),
    OpSpec("subtract", mnp.subtract, arity=2),
    OpSpec("multiply", mnp.multiply, arity=2),
    OpSpec("divide", lambda x, y: mnp.divide(x, y * y + 0.5), arity=2),
    OpSpec("power", mnp.power, arity=2, domain="positive"),
    OpSpec("maximum", lambda x, y: mnp.maximum(x, y + 0.05), arity=2, domain="distinct", shapes="same"),
    OpSpec("minimum", lambda x, y: mnp.minimum(x, y + 0.05), arity=2, domain="distinct", shapes="same"),
    OpSpec("where", mnp.where, draw_args=_where_args, shapes="custom"),
    OpSpec("operators", lambda x, y: (2.0 - x) * y / 3.0 + (-x) ** 2 - x @ np.ones((3, 3)) + abs(x) @ y.T @ x, arity=2,
           draw_args=lambda d, r: (values(r, (2, 3), "nonzero"), values(r, (2, 3), "real")), shapes="custom"),
    OpSpec("reflected", lambda x: np.float64(2.0) - np.ones(x.shape) * x / np.full(x.shape, 3.0) + np.ones(x.shape) ** x),
    # reductions
    _reduction("sum", mnp.sum),
    _reduction("mean", mnp.mean),
    _reduction("max", mnp.max, domain="distinct"),
    _reduction("min", mnp.min, domain="distinct"),
    _reduction("prod", mnp.prod, domain="nonzero"),
    _reduction("var", mnp.var),
    _reduction("std", mnp.std, min_size=2, min_ndim=1, min_axes=1),
    _reduction("logsumexp", mnp.logsumexp),
    # shape and movement
    OpSpec("reshape", lambda x: mnp.reshape(x, (-1,)) * np.arange(x.size)),
    OpSpec("transpose", lambda x: mnp.transpose(x) * np.arange(x.size).reshape(x.shape[::-1])),
    OpSpec("swapaxes", lambda x: mnp.swapaxes(x, 0, -1), draw_args=_axis_args("real"), shapes="custom"),
    OpSpec("moveaxis", lambda x: mnp.moveaxis(x, 0, -1), draw_args=_axis_args("real"), shapes="custom"),
    OpSpec("squeeze", mnp.squeeze),
    OpSpec("expand_dims", lambda x: mnp.expand_dims(x, 0)),
    OpSpec("broadcast_to", lambda x: mnp.broadcast_to(x, (2, *x.shape)) * np.arange(2).reshape((2,) + (1,) * x.ndim)),
    OpSpec("concatenate", lambda x, y, axis: mnp.concatenate([x, y], axis=axis), draw_args=_concatenate_args, shapes="custom"),
    OpSpec("stack", lambda x, y: mnp.stack([x, y], axis=-1), arity=2, shapes="same"),
    OpSpec("split", _split_sum, draw_args=lambda draw, rng: (values(rng, (4, 2), "real"),), shapes="custom"),
    OpSpec("flip", mnp.flip, draw_args=_axis_args("real"), shapes="custom"),
    OpSpec("pad", _pad, draw_args=_pad_args, shapes="custom"),
    OpSpec("ravel", lambda x: mnp.ravel(x) ** 2),
    # indexing
    _index_spec("int", 1),
    _index_spec("negative_int", (-1, 0)),
    _index_spec("slices", (slice(1, None), slice(None, None, 2))),
    _index_spec("negative_step", (slice(None, None, -1), slice(2, 0, -1))),
    _index_spec("ellipsis_newaxis", (Ellipsis, None, 1)),
    _index_spec("int_array", np.array([0, 2, 2, -1])),
    _index_spec("int_arrays_2d", (np.array([[0, 1], [3, 3]]), slice(None), np.array([1, 0]))),
    _index_spec("bool_mask", np.array([True, False, True, True])),
    _at_spec("set", (np.array([0, 2, 0]), slice(None, None, -1)), (3, 3)),
    _at_spec("add", np.array([[1, 1], [3, 0]]), (2, 2, 3)),
    _at_spec("multiply", (slice(1, 3), np.array([2, 0])), (2, 2)),
    _at_spec("max", (Ellipsis, 1), (4,)),
    _at_spec("min", np.array([3, 3, 1]), (3, 3)),
    OpSpec("take", lambda x: mnp.take(x, np.array([2, 0, 0]), axis=-1), draw_args=lambda d, r: (values(r, (2, 3), "real"),), shapes="custom"),
    # linear algebra
    OpSpec("matmul", mnp.matmul, arity=2, draw_args=_matmul_args, shapes="custom"),
    OpSpec("dot", mnp.dot, arity=2, draw_args=_matmul_args, shapes="custom"),
    OpSpec("outer", mnp.outer, arity=2),
    _einsum_spec("ij,jk->ik", (2, 3), (3, 2)),
    _einsum_spec("ij,ij->", (2, 3), (2, 3)),
    _einsum_spec("ii->i", (3, 3)),
    _einsum_spec("ijk->j", (2, 3, 2)),
    _einsum_spec("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
    _einsum_spec("i,j,k->ijk", (2,), (3,), (2,)),
    _einsum_spec("...ij,...jk->...ik", (2, 2, 3), (3, 2)),
    _einsum_spec("ij,jk", (2, 3), (3, 2)),
    OpSpec("tensordot", lambda a, b: mnp.tensordot(a, b, axes=([0, 2], [1, 0])), arity=2,
           draw_args=lambda d, r: (values(r, (2, 3, 2), "real"), values(r, (2, 2, 3), "real")), shapes="custom"),
    OpSpec("inner", mnp.inner, arity=2, draw_args=lambda d, r: (values(r, (2, 3), "real"), values(r, (3,), "real")), shapes="custom"),
]  # fmt: skip

OP_SPECS += [
    *op_specs_math.SPECS,
    *op_specs_arrays.SPECS,
    *op_specs_linalg.SPECS,
    *op_specs_fft.SPECS,
    *op_specs_scipy.SPECS,
    *op_specs_complex.SPECS,
    *op_specs_complex_linalg.SPECS,
]
