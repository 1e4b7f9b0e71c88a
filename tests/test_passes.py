"""Tests for minigrad.transforms.jit.passes: each pass alone preserves meaning and types."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.interpreter import eval_jaxpr
from minigrad.core.ir import ClosedJaxpr, Eqn, Jaxpr, Literal, ShapedArray, Var
from minigrad.core.typecheck import typecheck
from minigrad.ops.elementwise import add_p, div_p, integer_pow_p, mul_p, neg_p, sin_p
from minigrad.ops.shape import broadcast_to_p, reduce_sum_p, reshape_p, transpose_p
from minigrad.transforms.jit.passes import (
    cse,
    dce,
    drop_zero_cotangent_work,
    fold_constants,
    inline_consts,
    optimize,
    simplify,
)

F64 = np.dtype("float64")
PASSES = [dce, cse, fold_constants, simplify, drop_zero_cotangent_work]


def _loss(w, x):
    h = mnp.tanh(x @ w)
    return mnp.mean(mnp.logsumexp(h, axis=1)) + mnp.sum(mnp.maximum(w, 0.0) ** 2)


W = np.random.default_rng(0).standard_normal((3, 4))
X = np.random.default_rng(1).standard_normal((5, 3))
CONST = np.arange(4.0)

FUNCTIONS = {
    "grad_program": (mg.grad(_loss), (W, X)),
    "value_and_grad": (mg.value_and_grad(_loss, argnums=(0, 1)), (W, X)),
    "repeats": (lambda x: mnp.sin(x) + mnp.sin(x) * mnp.cos(x) + mnp.cos(x), (X,)),
    "constants": (lambda x: x * (CONST[:3] * 2.0 + 1.0) + mnp.ones(3) * 0.0, (X,)),
    "movement": (lambda x: x.T.T.reshape(5, 3).reshape(15).reshape(5, 3) + 1.0, (X,)),
    "broadcast_sum": (lambda x: mnp.sum(mnp.broadcast_to(2.0 * x[0, 0], (3, 4)), axis=1) + x[0], (X,)),
    "identities": (lambda x: mnp.negative(-(x * 1.0 + 0.0)) / 1.0 - 0.0, (X,)),
    "nested_jit": (lambda x: mg.jit(lambda y: mnp.exp(y) * 2.0)(x) + 1.0, (X,)),
}


def _program(name):
    fun, args = FUNCTIONS[name]
    return mg.make_jaxpr(fun)(*args), args


def _run(jaxpr, consts, args):
    flat = mg.tree.tree_leaves(args)
    return eval_jaxpr(jaxpr, consts, *flat)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("program_pass", PASSES, ids=lambda p: p.__name__)
def test_each_pass_preserves_meaning_and_types(name, program_pass):
    closed, args = _program(name)
    expected = _run(closed.jaxpr, closed.consts, args)
    jaxpr = inline_consts(closed)
    typecheck(jaxpr)
    transformed = program_pass(jaxpr)
    typecheck(transformed)
    assert [v.aval for v in transformed.invars] == [v.aval for v in jaxpr.invars]
    assert transformed.out_avals == jaxpr.out_avals
    got = _run(transformed, (), args)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_optimize_preserves_meaning_and_shrinks(name):
    closed, args = _program(name)
    optimized = optimize(closed)
    typecheck(optimized)
    assert len(optimized.eqns) <= len(closed.eqns)
    for g, e in zip(
        _run(optimized.jaxpr, optimized.consts, args), _run(closed.jaxpr, closed.consts, args), strict=True
    ):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def _var(shape=(3,), dtype=F64):
    return Var(ShapedArray(shape, dtype))


def _lit(value, dtype=F64):
    value = np.asarray(value, dtype)
    return Literal(value, ShapedArray(value.shape, value.dtype))


def test_dce_removes_only_unused_work():
    x, a, b, c = _var(), _var(), _var(), _var()
    program = Jaxpr((), [x], [Eqn(sin_p, [x], [a]), Eqn(neg_p, [a], [b]), Eqn(neg_p, [x], [c])], [c])
    result = dce(program)
    assert [e.primitive for e in result.eqns] == [neg_p]
    assert result.eqns[0].outvars[0] is c


def test_cse_merges_identical_equations_with_equal_params_and_literals():
    x, a, b, c, d = _var(), _var((1, 3)), _var((1, 3)), _var(), _var()
    program = Jaxpr(
        (),
        [x],
        [
            Eqn(reshape_p, [x], [a], {"new_sizes": (1, 3)}),
            Eqn(reshape_p, [x], [b], {"new_sizes": (1, 3)}),
            Eqn(mul_p, [x, _lit(2.0)], [c]),
            Eqn(mul_p, [x, _lit(2.0)], [d]),
        ],
        [a, b, c, d],
    )
    result = cse(program)
    assert len(result.eqns) == 2
    assert result.outvars[0] is result.outvars[1] and result.outvars[2] is result.outvars[3]


def test_cse_merges_a_repeat_whose_twin_reads_a_variable_read_only_once_so_far():
    # `neg a` is the only reader of `a` until `b`, a repeat of `a`, is merged into it;
    # then `neg b` is a repeat of `neg a`, and its sum reads one variable twice.
    x, a, na, b, nb, total = (_var() for _ in range(6))
    program = Jaxpr(
        (),
        [x],
        [
            Eqn(sin_p, [x], [a]),
            Eqn(neg_p, [a], [na]),
            Eqn(sin_p, [x], [b]),
            Eqn(neg_p, [b], [nb]),
            Eqn(add_p, [na, nb], [total]),
        ],
        [total],
    )
    result = cse(program)
    assert [e.primitive for e in result.eqns] == [sin_p, neg_p, add_p]
    assert result.eqns[2].invars[0] is result.eqns[2].invars[1] is na


def test_cse_keeps_different_params_apart():
    x, a, b = _var((2, 3)), _var((3, 2)), _var((6,))
    program = Jaxpr(
        (),
        [x],
        [Eqn(reshape_p, [x], [a], {"new_sizes": (3, 2)}), Eqn(reshape_p, [x], [b], {"new_sizes": (6,)})],
        [a, b],
    )
    assert len(cse(program).eqns) == 2


def test_fold_constants_evaluates_literal_only_equations():
    x, a, b = _var(), _var(), _var()
    program = Jaxpr((), [x], [Eqn(sin_p, [_lit([0.0, 0.0, 0.0])], [a]), Eqn(add_p, [x, a], [b])], [b])
    result = fold_constants(program)
    assert [e.primitive for e in result.eqns] == [add_p]
    np.testing.assert_array_equal(result.eqns[0].invars[1].val, np.zeros(3))


def test_simplify_identities():
    x = _var()
    cases = [
        Eqn(mul_p, [x, _lit(1.0)], [_var()]),
        Eqn(mul_p, [_lit(1.0), x], [_var()]),
        Eqn(add_p, [x, _lit(0.0)], [_var()]),
        Eqn(broadcast_to_p, [x], [_var()], {"shape": (3,)}),
        Eqn(reshape_p, [x], [_var()], {"new_sizes": (3,)}),
    ]
    for eqn in cases:
        result = simplify(Jaxpr((), [x], [eqn], eqn.outvars))
        assert result.outvars[0] is x, eqn.primitive


def test_simplify_keeps_float_times_zero_but_folds_integer_times_zero():
    x = _var()
    float_program = Jaxpr((), [x], [Eqn(mul_p, [x, _lit(0.0)], [y := _var()])], [y])
    kept = simplify(float_program)
    assert len(kept.eqns) == 1
    with np.errstate(invalid="ignore"):
        out = eval_jaxpr(kept, (), np.array([np.inf, np.nan, 1.0]))[0]
    assert np.isnan(out[0]) and np.isnan(out[1]) and out[2] == 0.0  # inf*0 and nan*0 stay nan
    i = _var(dtype=np.dtype("int64"))
    int_program = Jaxpr(
        (), [i], [Eqn(mul_p, [i, _lit(0, np.int64)], [z := _var(dtype=np.dtype("int64"))])], [z]
    )
    folded = simplify(int_program)
    assert folded.eqns == () and type(folded.outvars[0]) is Literal
    np.testing.assert_array_equal(folded.outvars[0].val, np.zeros(3, np.int64))


def test_simplify_double_transpose_and_negation():
    x = _var((2, 3, 4))
    a, b = _var((3, 4, 2)), _var((4, 2, 3))
    program = Jaxpr(
        (),
        [x],
        [
            Eqn(transpose_p, [x], [a], {"permutation": (1, 2, 0)}),
            Eqn(transpose_p, [a], [b], {"permutation": (1, 2, 0)}),
        ],
        [b],
    )
    result = dce(simplify(program))
    assert len(result.eqns) == 1 and result.eqns[0].params["permutation"] == (2, 0, 1)
    value = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(
        eval_jaxpr(result, (), value)[0], value.transpose(1, 2, 0).transpose(1, 2, 0)
    )
    n1, n2 = _var(), _var()
    y = _var()
    negs = Jaxpr((), [y], [Eqn(neg_p, [y], [n1]), Eqn(neg_p, [n1], [n2])], [n2])
    assert dce(simplify(negs)).outvars[0] is y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("primitive", "literal_first", "constant"),
    [(mul_p, True, 2.5), (mul_p, False, [[-0.0, 3.0, np.inf]]), (div_p, True, 0.0), (div_p, False, -7.0)],
)
def test_simplify_moves_a_negation_into_a_literal_factor_with_the_same_bits(
    primitive, literal_first, constant, dtype
):
    # -(c * x) -> (-c) * x and -(x / c) -> x / (-c): one equation, and the same bits
    # as the two NumPy calls, signed zeros and infinities included.
    x, scaled, negated = _var((2, 3), dtype), _var((2, 3), dtype), _var((2, 3), dtype)
    c = _lit(constant, dtype)
    operands = [c, x] if literal_first else [x, c]
    program = Jaxpr((), [x], [Eqn(primitive, operands, [scaled]), Eqn(neg_p, [scaled], [negated])], [negated])
    result = dce(simplify(program))
    typecheck(result)
    assert [e.primitive for e in result.eqns] == [primitive]
    value = np.array([[1.5, -0.0, 0.0], [np.inf, np.nan, -3e-300]], dtype)
    with np.errstate(all="ignore"):  # inf * 0, x / 0
        expected, got = eval_jaxpr(program, (), value)[0], eval_jaxpr(result, (), value)[0]
    np.testing.assert_array_equal(got, expected)  # NaN where NaN (its sign bit is no value's)
    numbers = ~np.isnan(expected)
    np.testing.assert_array_equal(np.signbit(got[numbers]), np.signbit(expected[numbers]))
    # Integers and a product of two variables keep their negation.
    i, j, k = _var((3,), np.dtype("int64")), _var((3,), np.dtype("int64")), _var((3,), np.dtype("int64"))
    kept = Jaxpr((), [i], [Eqn(mul_p, [i, _lit(2, "int64")], [j]), Eqn(neg_p, [j], [k])], [k])
    assert [e.primitive for e in dce(simplify(kept)).eqns] == [mul_p, neg_p]
    y, z, w = _var(), _var(), _var()
    two_variables = Jaxpr((), [y], [Eqn(mul_p, [y, y], [z]), Eqn(neg_p, [z], [w])], [w])
    assert [e.primitive for e in dce(simplify(two_variables)).eqns] == [mul_p, neg_p]


def test_simplify_sum_of_broadcast_scalar():
    s = _var(())
    full, total = _var((3, 4)), _var((4,))
    program = Jaxpr(
        (),
        [s],
        [
            Eqn(broadcast_to_p, [s], [full], {"shape": (3, 4)}),
            Eqn(reduce_sum_p, [full], [total], {"axes": (0,)}),
        ],
        [total],
    )
    result = dce(simplify(program))
    typecheck(result)
    assert reduce_sum_p not in [e.primitive for e in result.eqns]
    np.testing.assert_allclose(eval_jaxpr(result, (), np.float64(2.5))[0], np.full(4, 7.5))


def test_drop_zero_cotangent_work():
    x = _var((2, 3))
    ones = _lit(np.ones((2, 3)))
    zeros = _lit(np.zeros((2, 3)))
    halves = _lit(np.full((2, 3), 0.5))
    a, b, c = _var((2, 3)), _var((2, 3)), _var((2, 3))
    program = Jaxpr(
        (),
        [x],
        [Eqn(mul_p, [ones, x], [a]), Eqn(add_p, [a, zeros], [b]), Eqn(mul_p, [b, halves], [c])],
        [c],
    )
    result = drop_zero_cotangent_work(program)
    assert len(result.eqns) == 1
    assert result.eqns[0].invars[0] is x and result.eqns[0].invars[1].aval.shape == ()
    value = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(eval_jaxpr(result, (), value)[0], value * 0.5)


def test_drop_zero_cotangent_work_keeps_broadcasting_adds_as_broadcasts():
    x = _var((3,))
    out = _var((2, 3))
    program = Jaxpr((), [x], [Eqn(add_p, [_lit(np.zeros((2, 3))), x], [out])], [out])
    result = drop_zero_cotangent_work(program)
    typecheck(result)
    assert result.eqns[0].primitive is broadcast_to_p
    np.testing.assert_array_equal(eval_jaxpr(result, (), np.arange(3.0))[0], np.tile(np.arange(3.0), (2, 1)))


def test_reverse_mode_seed_work_disappears():
    # grad of mean(x * w): the seed 1/n arrives as a full constant array and as `mul 1.0`.
    closed = mg.make_jaxpr(mg.grad(lambda x: mnp.mean(x * 3.0)))(np.ones((4, 5)))
    optimized = optimize(closed)
    assert len(optimized.eqns) == 0  # the gradient is a constant: everything folds
    np.testing.assert_allclose(optimized.jaxpr.outvars[0].val, np.full((4, 5), 3.0 / 20))


def test_inline_consts_turns_constants_into_literals():
    closed = mg.make_jaxpr(lambda x: x * CONST)(np.ones(4))
    assert isinstance(closed, ClosedJaxpr) and len(closed.consts) == 1
    jaxpr = inline_consts(closed)
    assert jaxpr.constvars == () and type(jaxpr.eqns[0].invars[1]) is Literal


def test_simplify_reads_through_broadcasts_that_elementwise_ops_would_do_anyway():
    x, row = _var((2, 3)), _var((3,))
    wide, out = _var((2, 3)), _var((2, 3))
    program = Jaxpr(
        (),
        [x, row],
        [Eqn(broadcast_to_p, [row], [wide], {"shape": (2, 3)}), Eqn(mul_p, [x, wide], [out])],
        [out],
    )
    result = dce(simplify(program))
    typecheck(result)
    assert [e.primitive for e in result.eqns] == [mul_p] and result.eqns[0].invars[1] is row
    # A broadcast that decides the result's shape stays.
    small, big = _var((3,)), _var((2, 3))
    kept = Jaxpr(
        (),
        [small, row],
        [
            Eqn(broadcast_to_p, [row], [big], {"shape": (2, 3)}),
            Eqn(mul_p, [small, big], [out2 := _var((2, 3))]),
        ],
        [out2],
    )
    assert len(dce(simplify(kept)).eqns) == 2


# ---------------------------------------------------------------------------------------
# reverse mode of slices that tile an axis: one concatenate, not zero-filled scatters


def _gate_loss(x):
    # Three gates read side by side from one array, as a GRU cell reads its projections.
    return mnp.sum(mnp.sin(x[..., :2]) * mnp.cos(x[..., 2:4]) + x[..., 4:] ** 2)


def test_cotangents_of_slices_that_tile_an_axis_are_concatenated():
    x = np.random.default_rng(0).standard_normal((3, 6))
    program = optimize(mg.make_jaxpr(mg.grad(_gate_loss))(x))
    names = [eqn.primitive.name for eqn in program.jaxpr.eqns]
    assert "scatter_add" not in names and names.count("concatenate") == 1
    typecheck(program.jaxpr)
    (got,) = eval_jaxpr(program.jaxpr, program.consts, x)
    a, b, c = x[:, :2], x[:, 2:4], x[:, 4:]
    expected = np.concatenate([np.cos(a) * np.cos(b), -np.sin(a) * np.sin(b), 2 * c], axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-14)


@pytest.mark.parametrize(
    "loss",
    [
        lambda x: mnp.sum(mnp.sin(x[:, :2]) + x[:, 4:] ** 2),  # a gap: columns 2-3 get zeros
        lambda x: mnp.sum(mnp.sin(x[:, :4]) + x[:, 2:] ** 2),  # overlapping slices
        lambda x: mnp.sum(mnp.sin(x[:2, :3]) * x[2:, 3:]),  # different axes
        lambda x: mnp.sum(mnp.sin(x[:, ::2]) + x[:, 1::2] ** 2),  # strided slices
    ],
    ids=["gap", "overlap", "two_axes", "strided"],
)
def test_slices_that_do_not_tile_one_axis_keep_their_scatters(loss):
    x = np.random.default_rng(1).standard_normal((4, 6))
    program = optimize(mg.make_jaxpr(mg.grad(loss))(x))
    assert "concatenate" not in [eqn.primitive.name for eqn in program.jaxpr.eqns]
    (got,) = eval_jaxpr(program.jaxpr, program.consts, x)
    np.testing.assert_allclose(got, mg.grad(loss)(x), rtol=1e-14)
    np.testing.assert_allclose(mg.jit(mg.grad(loss))(x), mg.grad(loss)(x), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_simplify_powers_one_and_zero(dtype):
    # x ** 1 is x and x ** 0 is ones, for every x: NumPy's power agrees on inf and NaN.
    x = Var(ShapedArray((2, 3), np.dtype(dtype)))
    first = Eqn(integer_pow_p, [x], [Var(x.aval)], {"y": 1})
    assert simplify(Jaxpr((), [x], [first], first.outvars)).outvars[0] is x
    zeroth = Eqn(integer_pow_p, [x], [Var(x.aval)], {"y": 0})
    ones = simplify(Jaxpr((), [x], [zeroth], zeroth.outvars)).outvars[0]
    assert type(ones) is Literal and ones.aval == x.aval
    values = (
        np.array([[np.inf, -np.inf, np.nan], [0.0, -0.0, 3.0]])
        if dtype != np.int64
        else np.arange(6).reshape(2, 3)
    )
    np.testing.assert_array_equal(ones.val, np.power(values.astype(dtype), 0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_jitted_hessian_of_squares_equals_eager_and_finite_differences(dtype):
    def rosen(v):
        return mnp.sum(100.0 * (v[1:] - v[:-1] ** 2) ** 2 + (1.0 - v[:-1]) ** 2)

    hessian = mg.hessian(rosen)
    base = np.random.default_rng(3).standard_normal(12)
    for x in (base.astype(dtype), base.astype(dtype)[::-1], np.broadcast_to(np.asarray(0.5, dtype), (12,))):
        lowered = mg.jit(hessian).lower(x)
        program = str(lowered.program)
        assert "integer_pow[y=1]" not in program and "integer_pow[y=0]" not in program
        np.testing.assert_allclose(
            mg.jit(hessian)(x), hessian(x), rtol=1e-6 if dtype == np.float32 else 1e-13
        )
    x = base
    step = 1e-5
    columns = [(mg.grad(rosen)(x + step * e) - mg.grad(rosen)(x - step * e)) / (2 * step) for e in np.eye(12)]
    np.testing.assert_allclose(mg.jit(hessian)(x), np.array(columns).T, rtol=1e-6, atol=1e-6)
