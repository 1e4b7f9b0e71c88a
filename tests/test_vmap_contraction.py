"""vmap of products with shared weights stays a contraction (issue 17, item 1).

A vmapped ``W @ x`` folds the batch into the rows of one matrix product (matmul's
batching rule), and ``sum(a @ b)`` over batch axes becomes one product contracting them
(reduce_sum's rewrite in ``ops/linalg.py``). Values are checked against per-example
NumPy loops; programs are checked for the (batch x out x in) tensor the old rules built.
"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.interpreter import eval_jaxpr
from minigrad.core.ir import Eqn, Jaxpr, ShapedArray, Var
from minigrad.core.typecheck import typecheck
from minigrad.ops.elementwise import mul_p
from minigrad.ops.linalg import einsum_p, matmul, matmul_p
from minigrad.ops.shape import reduce_sum_p, reshape_p, transpose_p
from minigrad.transforms.jit.passes import dce, simplify

RNG = np.random.default_rng(17)


def randn(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------------------------
# the batching rule


@pytest.mark.parametrize("example_shape", [(3, 1), (3, 4), (2, 3, 4), (5, 2, 3, 1)])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_vmap_batched_lhs_shared_weight_matches_loop(example_shape, dim):
    weight = randn(example_shape[-1], 6)
    xs = randn(7, *example_shape)
    moved = np.moveaxis(xs, 0, dim)
    got = mg.vmap(matmul, in_axes=(dim, None))(moved, weight)
    np.testing.assert_allclose(got, np.stack([x @ weight for x in xs]), rtol=1e-12)


@pytest.mark.parametrize("example_shape", [(3, 1), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_vmap_batched_rhs_shared_weight_matches_loop(example_shape, dim):
    weight = randn(6, example_shape[-2])
    xs = randn(7, *example_shape)
    moved = np.moveaxis(xs, 0, dim)
    got = mg.vmap(matmul, in_axes=(None, dim))(weight, moved)
    np.testing.assert_allclose(got, np.stack([weight @ x for x in xs]), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_vmap_shared_weight_keeps_dtype(dtype):
    weight, xs = np.arange(6, dtype=dtype).reshape(3, 2), np.arange(8, dtype=dtype).reshape(4, 2, 1)
    got = mg.vmap(matmul, in_axes=(None, 0))(weight, xs)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.stack([weight @ x for x in xs]))


def test_vmap_of_vmap_with_shared_weight():
    weight, xs = randn(4, 3), randn(2, 5, 3)
    inner = mg.vmap(lambda x: mnp.matmul(weight, x))
    np.testing.assert_allclose(mg.vmap(inner)(xs), np.einsum("ij,abj->abi", weight, xs), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# the per-example MLP: values and programs


SIZES = (12, 9, 4)
BATCH = 5


def init_params():
    return [(randn(o, i), randn(o)) for i, o in zip(SIZES[:-1], SIZES[1:])]


def predict(params, x):
    for weight, bias in params[:-1]:
        x = mnp.tanh(mnp.dot(weight, x) + bias)
    weight, bias = params[-1]
    return mnp.dot(weight, x) + bias


def example_loss(params, x, y):
    return -mnp.sum(predict(params, x) * y)


def numpy_example_grads(params, x, y):
    """Hand-written backward pass of ``example_loss`` for one example."""
    activations = [x]
    for weight, bias in params[:-1]:
        activations.append(np.tanh(weight @ activations[-1] + bias))
    ct, grads = -y, []
    for layer in range(len(params) - 1, -1, -1):
        weight = params[layer][0]
        grads.append((np.outer(ct, activations[layer]), ct))
        if layer:
            ct = (weight.T @ ct) * (1 - activations[layer] ** 2)
    return grads[::-1]


def summed_per_example_grads(params, xs, ys):
    grads = mg.vmap(mg.grad(example_loss), in_axes=(None, 0, 0))(params, xs, ys)
    return mg.tree_util.tree_map(lambda g: g.sum(0), grads)


def batch_loss(params, xs, ys):
    return mnp.sum(mg.vmap(example_loss, in_axes=(None, 0, 0))(params, xs, ys))


def expected_grads(params, xs, ys):
    per_example = [numpy_example_grads(params, x, y) for x, y in zip(xs, ys)]
    return [tuple(sum(g[layer][i] for g in per_example) for i in range(2)) for layer in range(len(params))]


def largest_intermediate(closed):
    return max(var.aval.size for eqn in closed.jaxpr.eqns for var in eqn.outvars)


@pytest.mark.parametrize(
    "fun", [summed_per_example_grads, mg.grad(batch_loss)], ids=["vmap_grad", "grad_vmap"]
)
def test_mlp_gradient_values_and_no_batch_by_weight_tensor(fun):
    params, xs, ys = init_params(), randn(BATCH, SIZES[0]), randn(BATCH, SIZES[-1])
    expected = expected_grads(params, xs, ys)
    for got in (fun(params, xs, ys), mg.jit(fun)(params, xs, ys)):
        for (gw, gb), (ew, eb) in zip(got, expected):
            np.testing.assert_allclose(gw, ew, rtol=1e-10)
            np.testing.assert_allclose(gb, eb, rtol=1e-10)
    lowered = mg.jit(fun).lower(params, xs, ys)
    typecheck(lowered.program.jaxpr)
    # The largest weight gradient is 9 x 12; batched per example it would be 5 x 9 x 12.
    largest_weight = max(o * i for i, o in zip(SIZES[:-1], SIZES[1:]))
    assert largest_intermediate(lowered.program) < BATCH * largest_weight


# ---------------------------------------------------------------------------------------
# the rewrite of sum(a @ b)


def summed_product_program(a_shape, b_shape, axes):
    a, b = Var(ShapedArray(a_shape, np.dtype("float64"))), Var(ShapedArray(b_shape, np.dtype("float64")))
    product_aval = matmul_p.shape_rule(a.aval, b.aval)
    product = Var(product_aval)
    out = Var(reduce_sum_p.shape_rule(product_aval, axes=axes))
    eqns = [Eqn(matmul_p, [a, b], [product]), Eqn(reduce_sum_p, [product], [out], {"axes": axes})]
    return Jaxpr((), [a, b], eqns, [out])


@pytest.mark.parametrize(
    "a_shape, b_shape, axes",
    [
        ((6, 4, 1), (6, 1, 3), (0,)),  # per-example outer products summed
        ((6, 4, 2), (6, 2, 3), (0,)),
        ((2, 6, 4, 2), (2, 6, 2, 3), (1,)),  # a kept batch axis in front
        ((2, 6, 4, 2), (2, 6, 2, 3), (0, 1)),
        ((6, 2, 5, 4, 2), (6, 2, 5, 2, 3), (0, 2)),
    ],
)
def test_sum_of_matmul_becomes_one_product(a_shape, b_shape, axes):
    program = summed_product_program(a_shape, b_shape, axes)
    rewritten = dce(simplify(program))
    typecheck(rewritten)
    assert [eqn.primitive for eqn in rewritten.eqns].count(matmul_p) == 1
    assert reduce_sum_p not in [eqn.primitive for eqn in rewritten.eqns]
    assert (
        max(var.aval.size for eqn in rewritten.eqns for var in eqn.outvars)
        < program.eqns[0].outvars[0].aval.size
    )
    a, b = randn(*a_shape), randn(*b_shape)
    np.testing.assert_allclose(eval_jaxpr(rewritten, [], a, b)[0], np.sum(a @ b, axis=axes), rtol=1e-12)


@pytest.mark.parametrize(("states_width", "copies_gradient"), [(64, True), (3, False)])
def test_sum_of_matmul_copies_the_smaller_operand(states_width, copies_gradient):
    # An output layer's weight gradient, states^T @ ct summed over the batch, with the
    # states stacked by a scan in (time, batch) order. Contracting (batch, time) copies
    # the states out of their memory order; contracting (time, batch) copies the
    # gradient instead: that order is taken when the gradient is the smaller.
    time, batch, out = 5, 4, 6
    stacked = Var(ShapedArray((time, batch, states_width), np.dtype("float64")))
    ct = Var(ShapedArray((batch, time, out), np.dtype("float64")))
    states_t = Var(ShapedArray((batch, states_width, time), np.dtype("float64")))
    product = Var(ShapedArray((batch, states_width, out), np.dtype("float64")))
    summed = Var(ShapedArray((states_width, out), np.dtype("float64")))
    eqns = [
        Eqn(transpose_p, [stacked], [states_t], {"permutation": (1, 2, 0)}),
        Eqn(matmul_p, [states_t, ct], [product]),
        Eqn(reduce_sum_p, [product], [summed], {"axes": (0,)}),
    ]
    program = Jaxpr((), [stacked, ct], eqns, [summed])
    rewritten = dce(simplify(program))
    typecheck(rewritten)
    transposed = {eqn.invars[0] for eqn in rewritten.eqns if eqn.primitive is transpose_p}
    assert (ct in transposed) == copies_gradient
    s, g = randn(time, batch, states_width), randn(batch, time, out)
    expected = np.einsum("tbh,bto->ho", s, g)
    np.testing.assert_allclose(eval_jaxpr(rewritten, [], s, g)[0], expected, rtol=1e-12)


@pytest.mark.parametrize(
    "a_shape, b_shape, axes",
    [
        ((6, 4, 2), (6, 2, 3), (1,)),  # a matrix axis is summed
        ((6, 4, 2), (1, 2, 3), (0,)),  # one operand is broadcast over the batch
        ((6, 4, 2), (2, 3), (0,)),  # one product over the rows instead (matmul_over_rows)
    ],
)
def test_sum_of_matmul_left_alone_when_not_a_batch_contraction(a_shape, b_shape, axes):
    program = summed_product_program(a_shape, b_shape, axes)
    rewritten = dce(simplify(program))
    folded = [reshape_p, matmul_p, reshape_p] if len(b_shape) == 2 else [matmul_p]
    assert [eqn.primitive for eqn in rewritten.eqns] == [*folded, reduce_sum_p]
    a, b = randn(*a_shape), randn(*b_shape)
    np.testing.assert_allclose(eval_jaxpr(rewritten, [], a, b)[0], np.sum(a @ b, axis=axes), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# transposes that move only size-1 axes (the batching rules' reshape chains)


@pytest.mark.parametrize(
    "shape, permutation, becomes_reshape",
    [
        ((4, 1, 6), (0, 2, 1), True),
        ((1, 3, 1, 2), (2, 1, 0, 3), True),
        ((4, 6, 1), (1, 0, 2), False),
        ((2, 1, 3), (2, 1, 0), False),
    ],
)
def test_transpose_of_unit_axes(shape, permutation, becomes_reshape):
    x = Var(ShapedArray(shape, np.dtype("float64")))
    out = Var(ShapedArray(tuple(shape[i] for i in permutation), np.dtype("float64")))
    program = Jaxpr((), [x], [Eqn(transpose_p, [x], [out], {"permutation": permutation})], [out])
    rewritten = simplify(program)
    typecheck(rewritten)
    assert [eqn.primitive for eqn in rewritten.eqns] == [reshape_p if becomes_reshape else transpose_p]
    value = randn(*shape)
    np.testing.assert_array_equal(eval_jaxpr(rewritten, [], value)[0], np.transpose(value, permutation))


def test_vmapped_layer_program_has_no_reshape_chains():
    weight, bias, xs = randn(6, 8), randn(6), randn(4, 8)
    lowered = mg.jit(mg.vmap(lambda x: mnp.tanh(mnp.dot(weight, x) + bias))).lower(xs)
    primitives = [eqn.primitive for eqn in lowered.program.jaxpr.eqns]
    assert reshape_p not in primitives
    np.testing.assert_allclose(
        mg.jit(mg.vmap(lambda x: mnp.tanh(mnp.dot(weight, x) + bias)))(xs),
        np.tanh(xs @ weight.T + bias),
        rtol=1e-12,
    )


# ---------------------------------------------------------------------------------------
# the rewrite of sum(a * b) over a large broadcast product


def summed_broadcast_product_program(a_shape, b_shape, axes, dtype="float64"):
    a, b = Var(ShapedArray(a_shape, np.dtype(dtype))), Var(ShapedArray(b_shape, np.dtype(dtype)))
    product = Var(mul_p.shape_rule(a.aval, b.aval))
    out = Var(reduce_sum_p.shape_rule(product.aval, axes=axes))
    eqns = [Eqn(mul_p, [a, b], [product]), Eqn(reduce_sum_p, [product], [out], {"axes": axes})]
    return Jaxpr((), [a, b], eqns, [out])


@pytest.mark.parametrize(
    "a_shape, b_shape, axes",
    [
        ((128, 300, 1), (128, 1, 200), (0,)),  # per-example outer products summed
        ((300, 1), (128, 1, 200), (0, 1)),  # a lower-rank operand, an axis of one only
        ((64, 80, 1), (1, 80, 40), (1,)),  # a matrix product written as mul and sum
        ((64, 80, 1), (1, 80, 40), (0, 1, 2)),
        ((2, 64, 80, 1), (2, 1, 80, 40), (2,)),
    ],
)
def test_sum_of_large_broadcast_product_becomes_einsum(a_shape, b_shape, axes):
    program = summed_broadcast_product_program(a_shape, b_shape, axes)
    rewritten = dce(simplify(program))
    typecheck(rewritten)
    primitives = [eqn.primitive for eqn in rewritten.eqns]
    assert einsum_p in primitives and mul_p not in primitives and reduce_sum_p not in primitives
    a, b = randn(*a_shape), randn(*b_shape)
    np.testing.assert_allclose(eval_jaxpr(rewritten, [], a, b)[0], np.sum(a * b, axis=axes), rtol=1e-10)


@pytest.mark.parametrize(
    "a_shape, b_shape, axes, dtype",
    [
        ((8, 30, 1), (8, 1, 20), (0,), "float64"),  # too small for einsum's overhead
        ((128, 300), (128, 300), (0,), "float64"),  # nothing broadcast
        ((128, 300, 1), (128, 1, 200), (0,), "int64"),
    ],
)
def test_sum_of_broadcast_product_left_alone(a_shape, b_shape, axes, dtype):
    program = summed_broadcast_product_program(a_shape, b_shape, axes, dtype)
    assert [eqn.primitive for eqn in dce(simplify(program)).eqns] == [mul_p, reduce_sum_p]


# ---------------------------------------------------------------------------------------
# a transposed product is the product of the transposes, written row-major


@pytest.mark.parametrize(
    "a_shape, b_shape", [((5, 3), (3, 4)), ((2, 5, 3), (3, 4)), ((5, 3), (2, 3, 4)), ((2, 5, 3), (2, 3, 4))]
)
def test_transposed_matmul_is_matmul_of_transposes(a_shape, b_shape):
    a, b = Var(ShapedArray(a_shape, np.dtype("float64"))), Var(ShapedArray(b_shape, np.dtype("float64")))
    product = Var(matmul_p.shape_rule(a.aval, b.aval))
    ndim = product.aval.ndim
    permutation = (*range(ndim - 2), ndim - 1, ndim - 2)
    out = Var(ShapedArray(tuple(product.aval.shape[i] for i in permutation), np.dtype("float64")))
    eqns = [
        Eqn(matmul_p, [a, b], [product]),
        Eqn(transpose_p, [product], [out], {"permutation": permutation}),
    ]
    rewritten = dce(simplify(Jaxpr((), [a, b], eqns, [out])))
    typecheck(rewritten)
    if len(a_shape) > 2 and len(b_shape) == 2:
        # One product over a's rows (matmul_over_rows), read through a transposed view.
        (product,) = [eqn for eqn in rewritten.eqns if eqn.primitive is matmul_p]
        assert product.invars[0].aval.ndim == 2 and rewritten.eqns[-1].primitive is transpose_p
    else:
        assert rewritten.eqns[-1].primitive is matmul_p
    x, y = randn(*a_shape), randn(*b_shape)
    np.testing.assert_allclose(eval_jaxpr(rewritten, [], x, y)[0], np.swapaxes(x @ y, -1, -2), rtol=1e-12)


def test_weight_gradient_comes_out_row_major():
    params, xs, ys = init_params(), randn(BATCH, SIZES[0]), randn(BATCH, SIZES[-1])
    grads = mg.jit(mg.grad(batch_loss))(params, xs, ys)
    assert all(np.asarray(gw).flags.c_contiguous for gw, _ in grads)


# ---------------------------------------------------------------------------------------
# matmul operands flattened across their memory order are copied by rows


def flattened_operand_program(x_shape, permutation, flat_shape, other_shape, position):
    """``reshape(transpose(x)) @ other`` (position 0) or ``other @ reshape(transpose(x))``."""
    x = Var(ShapedArray(x_shape, np.dtype("float64")))
    other = Var(ShapedArray(other_shape, np.dtype("float64")))
    transposed = Var(ShapedArray(tuple(x_shape[i] for i in permutation), np.dtype("float64")))
    flat = Var(ShapedArray(flat_shape, np.dtype("float64")))
    operands = [flat, other] if position == 0 else [other, flat]
    product = Var(matmul_p.shape_rule(*(v.aval for v in operands)))
    eqns = [
        Eqn(transpose_p, [x], [transposed], {"permutation": permutation}),
        Eqn(reshape_p, [transposed], [flat], {"new_sizes": flat_shape}),
        Eqn(matmul_p, operands, [product]),
    ]
    return Jaxpr((), [x, other], eqns, [product])


def reshaped_operands(program):
    """The permutation of each transpose whose result is reshaped."""
    producers = {v: eqn for eqn in program.eqns for v in eqn.outvars}
    return [
        producers[eqn.invars[0]].params["permutation"]
        for eqn in program.eqns
        if eqn.primitive is reshape_p and eqn.invars[0] in producers
    ]


@pytest.mark.parametrize(
    "x_shape, permutation, flat_shape, other_shape, position, copied_as",
    [
        # a weight's gradient hoisted out of a scan: (batch, time, features) inputs
        # contracted over (time, batch); copied as (time, batch, features) rows
        ((4, 5, 3), (2, 1, 0), (3, 20), (20, 6), 0, [(1, 0, 2)]),
        # the same with a kept batch axis in front
        ((2, 4, 5, 3), (0, 3, 2, 1), (2, 3, 20), (2, 20, 6), 0, [(0, 2, 1, 3)]),
        # a right operand of (time, out, batch) contracted over (time, batch): copied
        # as (out, time, batch) rows
        ((4, 6, 5), (0, 2, 1), (20, 6), (3, 20), 1, [(1, 0, 2)]),
    ],
)
def test_flattened_operand_is_copied_by_rows(
    x_shape, permutation, flat_shape, other_shape, position, copied_as
):
    program = flattened_operand_program(x_shape, permutation, flat_shape, other_shape, position)
    rewritten = dce(simplify(program))
    typecheck(rewritten)
    assert reshaped_operands(rewritten) == copied_as
    assert [eqn.primitive for eqn in rewritten.eqns].count(matmul_p) == 1
    x, other = randn(*x_shape), randn(*other_shape)
    flat = np.transpose(x, permutation).reshape(flat_shape)
    expected = flat @ other if position == 0 else other @ flat
    np.testing.assert_allclose(eval_jaxpr(rewritten, [], x, other)[0], expected, rtol=1e-12)


@pytest.mark.parametrize(
    "x_shape, permutation, flat_shape, other_shape, position",
    [
        ((5, 4, 3), (2, 0, 1), (3, 20), (20, 6), 0),  # the reshape is a view BLAS reads transposed
        ((3, 5, 4), (0, 1, 2), (3, 20), (20, 6), 0),  # no transpose to undo
        ((4, 5, 3), (1, 0, 2), (20, 3), (3, 6), 0),  # the matrix axis is merged: rows already
        ((6, 4, 5), (1, 2, 0), (20, 6), (3, 20), 1),  # a right operand's view, read transposed
    ],
)
def test_flattened_operand_left_alone(x_shape, permutation, flat_shape, other_shape, position):
    program = flattened_operand_program(x_shape, permutation, flat_shape, other_shape, position)
    rewritten = dce(simplify(program))
    assert [eqn.primitive for eqn in rewritten.eqns].count(transpose_p) <= 1
    assert [eqn.primitive for eqn in rewritten.eqns][-1] is matmul_p
    assert reshaped_operands(rewritten) == ([permutation] if permutation != (0, 1, 2) else [])
    x, other = randn(*x_shape), randn(*other_shape)
    flat = np.transpose(x, permutation).reshape(flat_shape)
    expected = flat @ other if position == 0 else other @ flat
    np.testing.assert_allclose(eval_jaxpr(rewritten, [], x, other)[0], expected, rtol=1e-12)


def test_scan_input_weight_gradient_reads_the_forward_copy():
    # A recurrent layer over (batch, time, features) inputs, as the names example's GRU:
    # the input weight's gradient, hoisted out of the backward scan, contracts (time,
    # batch) of the inputs; it reuses the forward pass's time-major copy instead of
    # gathering the inputs a second time, and agrees with eager and finite differences.
    def loss(w_in, w_h, inputs):
        def step(h, x):
            h = mnp.tanh(x @ w_in + h @ w_h)
            return h, h

        h0 = mnp.zeros((inputs.shape[0], w_h.shape[0]))
        _, states = mg.lax.scan(step, h0, mnp.swapaxes(inputs, 0, 1))
        return mnp.sum(states**2)

    w_in, w_h, inputs = randn(3, 4) * 0.5, randn(4, 4) * 0.5, randn(5, 6, 3)
    grad = mg.grad(loss, argnums=(0, 1))
    source = mg.jit(grad).lower(w_in, w_h, inputs).source
    assert ".transpose((2, 1, 0))" not in source
    for jitted, eager in zip(mg.jit(grad)(w_in, w_h, inputs), grad(w_in, w_h, inputs), strict=True):
        np.testing.assert_allclose(jitted, eager, rtol=1e-10, atol=1e-12)
    mg.testing.check_grads(loss, (w_in, w_h, inputs), modes=("rev",))
