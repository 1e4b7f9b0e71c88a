"""A scatter_add whose constant index arrays tell its positions apart becomes an
assignment into zeros (``scatter_add_to_distinct_positions`` in ops/scatter.py)."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import nn
from minigrad.ops.index import scatter_add, scatter_add_p
from minigrad.ops.scatter import scatter_p


def test_cross_entropy_gradient_assigns_instead_of_accumulating():
    rng = np.random.default_rng(0)
    logits, targets = rng.standard_normal((4, 5, 7)), rng.integers(0, 7, (4, 5))
    gradient = mg.grad(lambda l, t: nn.cross_entropy(l, t))
    program = mg.jit(gradient).lower(logits, targets).program
    assert [eqn.params.get("mode") for eqn in program.jaxpr.eqns if eqn.primitive is scatter_p] == ["set"]
    assert not [eqn for eqn in program.jaxpr.eqns if eqn.primitive is scatter_add_p]
    np.testing.assert_allclose(mg.jit(gradient)(logits, targets), gradient(logits, targets), rtol=1e-12)


@pytest.mark.parametrize(
    "rows, distinct",
    [
        (np.array([0, 1, 2, 3]), True),
        (np.array([0, 2, 0, 3]), False),  # a repeated row accumulates
        (np.array([-1, 1, 2, 3]), False),  # -1 and 3 are the same row of 4
        (np.array([-1, 1, 2, 0]), True),
    ],
)
def test_only_positions_known_to_be_distinct_are_assigned(rows, distinct):
    def fun(updates, columns):
        return [scatter_add(updates, [rows, columns], (("array", 0), ("array", 1)), (4, 3))]

    updates, columns = np.arange(1.0, 5.0), np.array([2, 0, 2, 1])
    program = mg.jit(lambda u, c: fun(u, c)[0]).lower(updates, columns).program
    found = [
        (eqn.primitive, eqn.params.get("mode"))
        for eqn in program.jaxpr.eqns
        if "scatter" in eqn.primitive.name
    ]
    assert found == ([(scatter_p, "set")] if distinct else [(scatter_add_p, None)])
    expected = np.zeros((4, 3))
    np.add.at(expected, (rows, columns), updates)
    np.testing.assert_array_equal(mg.jit(lambda u, c: fun(u, c)[0])(updates, columns), expected)


def test_index_arrays_known_only_at_run_time_still_accumulate():
    rng = np.random.default_rng(1)
    table, ids = rng.standard_normal((5, 3)), np.array([[0, 4, 0], [4, 4, 1]])
    gradient = mg.grad(lambda t: mnp.sum(t[ids] ** 2))
    program = mg.jit(gradient).lower(table).program
    assert not [eqn for eqn in program.jaxpr.eqns if eqn.primitive is scatter_p]
    np.testing.assert_allclose(mg.jit(gradient)(table), gradient(table), rtol=1e-12)
