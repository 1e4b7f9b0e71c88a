"""Forward mode: every primitive's JVP rule against reverse mode and finite differences.

The defining property of a linearisation: for any tangent ``v`` and cotangent ``u``,
``<u, J v>`` computed by ``jvp`` equals ``<J^T u, v>`` computed by ``vjp``. Together with
the finite-difference checks, this ties each primitive's JVP rule to its VJP rule.
"""

import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.primitive import Primitive
from minigrad.core.typecheck import typecheck
from minigrad.ops import elementwise, index, linalg, reduce, shape
from minigrad.testing import check_grads
from tests.op_specs import op_args
from tests.transform_specs import ALL_SPECS, EXTRA_SPECS, split_arrays


def _inner(xs, ys) -> float:
    return float(sum(np.vdot(np.asarray(x, np.float64), np.asarray(y, np.float64)) for x, y in zip(xs, ys)))


def _random_like(rng, x):
    return rng.standard_normal(np.shape(x)).astype(np.asarray(x).dtype)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.name)
def test_jvp_and_vjp_agree(spec):
    @settings(max_examples=6)
    @given(op_args(spec))
    def check(args):
        fun, arrays = split_arrays(spec, args)
        rng = np.random.default_rng(0)
        tangents = tuple(_random_like(rng, a) for a in arrays)
        out, tangent_out = mg.jvp(fun, arrays, tangents)
        np.testing.assert_allclose(out, fun(*arrays), rtol=1e-12, atol=1e-12)
        assert np.shape(tangent_out) == np.shape(out)
        assert np.asarray(tangent_out).dtype == np.asarray(out).dtype
        out_again, vjp_fn = mg.vjp(fun, *arrays)
        cotangent = _random_like(rng, out_again)
        forward = _inner([cotangent], [tangent_out])
        backward = _inner(vjp_fn(cotangent), tangents)
        tolerance = 1e-5 if any(a.dtype == np.float32 for a in arrays) else 1e-9
        assert forward == pytest.approx(backward, rel=tolerance, abs=tolerance)

    check()


@pytest.mark.parametrize("spec", [s for s in EXTRA_SPECS if s.name != "stop_gradient"], ids=lambda s: s.name)
def test_jvp_matches_finite_differences(spec):
    # OP_SPECS are checked in both modes by test_op_grads; these are the extra ones
    # (stop_gradient's derivative is zero on purpose, so finite differences disagree).
    @settings(max_examples=6)
    @given(op_args(spec))
    def check(args):
        fun, arrays = split_arrays(spec, args)
        if arrays[0].dtype == np.float32:
            arrays = tuple(a.astype(np.float64) for a in arrays)
        check_grads(fun, arrays, order=2, modes=("fwd", "rev"))

    check()


def _ops_primitives():
    modules = (elementwise, shape, reduce, index, linalg)
    found = {p.name for m in modules for p in vars(m).values() if isinstance(p, Primitive)}
    return found | {p.name for p in elementwise.ELEMENTWISE_PRIMITIVES}


def _primitives_used(spec) -> set:
    seen = set()

    @settings(max_examples=10, database=None, derandomize=True)
    @given(op_args(spec))
    def collect(args):
        fun, arrays = split_arrays(spec, args)
        seen.update(eqn.primitive.name for eqn in mg.make_jaxpr(fun)(*arrays).eqns)

    collect()
    return seen


def test_the_spec_tables_reach_every_primitive():
    seen = set().union(*(_primitives_used(spec) for spec in ALL_SPECS))
    assert _ops_primitives() - seen == set()


def test_hand_computed_tangents():
    x = np.array([0.0, 0.5, 1.0])
    t = np.array([1.0, 2.0, -1.0])
    _, tangent = mg.jvp(mnp.sin, (x,), (t,))
    np.testing.assert_allclose(tangent, np.cos(x) * t)
    _, tangent = mg.jvp(lambda a, b: a * b, (np.array(2.0), x), (np.array(1.0), np.zeros(3)))
    np.testing.assert_allclose(tangent, x)  # a scalar's tangent broadcast over the product
    _, tangent = mg.jvp(lambda a: mnp.sum(a**3), (x,), (t,))
    np.testing.assert_allclose(tangent, np.sum(3 * x**2 * t))
    _, tangent = mg.jvp(lambda a: a @ a.T, (np.eye(2),), (np.ones((2, 2)),))
    np.testing.assert_allclose(tangent, np.full((2, 2), 2.0))


def test_jvp_of_jvp_is_the_second_derivative():
    def second(x):
        return mg.jvp(lambda y: mg.jvp(mnp.sin, (y,), (np.array(1.0),))[1], (x,), (np.array(1.0),))[1]

    np.testing.assert_allclose(second(np.array(0.7)), -np.sin(0.7))


def test_jvp_takes_pytrees_and_keeps_dtypes():
    params = {"w": np.ones(3, np.float32), "b": np.float32(2.0)}
    tangents = {"w": np.arange(3, dtype=np.float32), "b": np.float32(1.0)}
    out, tangent = mg.jvp(lambda p: (p["w"] * p["b"]).sum(), (params,), (tangents,))
    assert out == 6.0 and tangent == pytest.approx(2.0 * 3 + 3.0)
    assert tangent.dtype == np.float32


def test_python_control_flow_works_under_jvp():
    def f(x):
        return mnp.sin(x) if x > 0 else x**2

    assert mg.jvp(f, (np.array(1.0),), (np.array(1.0),))[1] == pytest.approx(np.cos(1.0))
    assert mg.jvp(f, (np.array(-3.0),), (np.array(1.0),))[1] == pytest.approx(-6.0)


def test_outputs_that_ignore_the_input_get_zero_tangents():
    out, tangent = mg.jvp(lambda x, n: (np.ones(2), x * 2.0, n + 1), (np.array(1.0), np.array(3)), (1.0, 0))
    np.testing.assert_array_equal(tangent[0], np.zeros(2))
    assert tangent[1] == 2.0
    assert out[2] == 4 and tangent[2] == 0


def test_jvp_errors_name_the_problem():
    with pytest.raises(TypeError, match="tuples"):
        mg.jvp(mnp.sin, np.array(1.0), np.array(1.0))
    with pytest.raises(ValueError, match=r"tangent of shape \(2,\).*primal of shape \(3,\)"):
        mg.jvp(mnp.sin, (np.ones(3),), (np.ones(2),))
    with pytest.raises(ValueError, match="structure"):
        mg.jvp(lambda a, b: a * b, (1.0, 2.0), ((1.0,), 2.0))


def test_forward_mode_programs_typecheck():
    def f(x, w):
        return mnp.tanh(x @ w).sum(axis=0) * x[0, :2].max()

    x, w = np.ones((3, 4)), np.ones((4, 2))
    typecheck(mg.make_jaxpr(lambda x: mg.jvp(lambda x: f(x, w), (x,), (x,)))(x))
    typecheck(mg.make_jaxpr(lambda w: mg.jvp(lambda w: f(x, w), (w,), (w,))[1])(w))


def test_check_grads_second_order_in_both_modes():
    def f(x, y):
        return mnp.sum(mnp.sin(x)[:, None] * y**2 + x[::-1, None] @ y[None, :1])

    check_grads(f, (np.array([0.3, -1.0, 2.0]), np.array([0.5, 1.5])), order=2, modes=("fwd", "rev"))


def test_check_grads_catches_a_wrong_jvp_rule():
    sin_p = elementwise.sin_p
    saved = sin_p.jvp

    def wrong_sin_jvp(primals, tangents, ans):
        return elementwise.mul(tangents[0], elementwise.cos(elementwise.mul(primals[0], 1.01)))

    sin_p.def_jvp(wrong_sin_jvp)
    try:
        with pytest.raises(AssertionError, match="jvp"):
            check_grads(mnp.sin, (np.array([0.5, 1.0]),), modes=("fwd",))
    finally:
        sin_p.def_jvp(saved)


def test_jvp_tangent_of_another_dtype_is_a_type_error():
    with pytest.raises(TypeError, match=r"primals\[0\] has dtype float32 but its tangent has dtype float64"):
        mg.jvp(mnp.sin, (np.ones(2, np.float32),), (np.ones(2),))
    with pytest.raises(TypeError, match=r"primals\[1\]\['w'\]"):
        mg.jvp(lambda a, p: a * p["w"], (1.0, {"w": np.float32(2)}), (1.0, {"w": np.float64(1)}))
