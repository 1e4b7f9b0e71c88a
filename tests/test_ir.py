"""The IR records and the JAX-style printout of programs."""

import attrs
import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.ir import Params, ShapedArray, Var


def test_printout_of_the_seed_example():
    def z(x1, x2):
        return x1 * x2 + mnp.sin(x1)

    text = str(mg.make_jaxpr(z)(np.float32(2.0), np.float32(3.0)))
    assert text == (
        "{ lambda ; a:f32[] b:f32[]. let\n"
        "    c:f32[] = mul a b\n"
        "    d:f32[] = sin a\n"
        "    e:f32[] = add c d\n"
        "  in (e,) }"
    )


def test_printout_with_params_literals_and_constants():
    weights = np.ones((3, 2), np.float32)

    def f(x):
        return mnp.sum(mnp.tanh(x @ weights) * 2.0, axis=0)

    text = str(mg.make_jaxpr(f)(np.ones((4, 3), np.float32)))
    assert text == (
        "{ lambda a:f32[3,2]; b:f32[4,3]. let\n"
        "    c:f32[4,2] = matmul b a\n"
        "    d:f32[4,2] = tanh c\n"
        "    e:f32[4,2] = mul d 2.0:f32[]\n"
        "    f:f32[2] = reduce_sum[axes=(0,)] e\n"
        "  in (f,) }"
    )


def test_printout_of_several_outputs_and_no_equations():
    text = str(mg.make_jaxpr(lambda x, y: (y, x))(np.int32(1), np.ones(2, bool)))
    assert text == "{ lambda ; a:i32[] b:bool[2]. let  in (b, a) }"


def test_printout_of_a_gradient_program_has_one_equation_per_line():
    closed = mg.make_jaxpr(mg.grad(lambda x: mnp.sin(x) * x))(np.float64(1.0))
    lines = str(closed).splitlines()
    assert lines[0] == "{ lambda ; a:f64[]. let"
    assert lines[-1].strip().startswith("in (")
    assert len(lines) == len(closed.eqns) + 2
    assert all(" = " in line for line in lines[1:-1])
    assert any(line.split(" = ")[1].startswith("cos") for line in lines[1:-1])


def test_many_variables_get_two_letter_names():
    def f(x):
        for _ in range(30):
            x = mnp.sin(x)
        return x

    text = str(mg.make_jaxpr(f)(np.float64(1.0)))
    assert "ba:f64[] = sin z" in text


def test_records_are_frozen_and_avals_compare_by_value():
    aval = ShapedArray((2, 3), np.float32)
    assert aval == ShapedArray([2, 3], "float32")
    assert hash(aval) == hash(ShapedArray((2, 3), np.float32))
    assert str(aval) == "f32[2,3]"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        aval.shape = (1,)
    assert Var(aval) != Var(aval)
    closed = mg.make_jaxpr(mnp.sin)(np.ones(2))
    assert isinstance(closed.jaxpr.eqns, tuple)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        closed.jaxpr.eqns = ()


def test_params_are_hashable_and_compare_by_value():
    assert Params({"axes": (0,)}) == Params({"axes": (0,)})
    assert hash(Params({"axes": (0,), "b": 1})) == hash(Params({"b": 1, "axes": (0,)}))
    assert dict(Params({"axes": (1,)})) == {"axes": (1,)}


def test_make_jaxpr_traces_keyword_arguments():
    closed = mg.make_jaxpr(lambda x, *, w: x * w)(np.ones(2), w=np.float64(2.0))
    assert len(closed.jaxpr.invars) == 2
    assert [str(v.aval) for v in closed.jaxpr.invars] == ["f64[2]", "f64[]"]
