"""Every differentiable operation's derivatives against central finite differences.

Driven by the table in ``op_specs.py``: hypothesis draws shapes (broadcasting, size-1 and
0-d cases) and values in float64; ``check_grads`` compares reverse and forward mode, to
second order, with finite differences.
"""

import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
from minigrad.core.typecheck import typecheck
from minigrad.testing import check_grads
from tests.op_specs import OP_SPECS, op_args
from tests.transform_specs import split_arrays


@pytest.mark.parametrize("spec", OP_SPECS, ids=lambda s: s.name)
def test_gradients_match_finite_differences(spec):
    @settings(max_examples=8)
    @given(op_args(spec))
    def check(args):
        fun, arrays = split_arrays(spec, args)
        check_grads(fun, arrays, order=spec.order, modes=("fwd", "rev"))

    check()


@pytest.mark.parametrize("spec", OP_SPECS, ids=lambda s: s.name)
def test_values_and_programs_are_well_typed(spec):
    @settings(max_examples=3)
    @given(op_args(spec))
    def check(args):
        fun, arrays = split_arrays(spec, args)
        eager = fun(*arrays)
        closed = mg.make_jaxpr(fun)(*arrays)
        typecheck(closed)
        assert [a.shape for a in closed.out_avals] == [np.shape(eager)]

        def scalar(*xs):
            return (fun(*xs) ** 2).sum()

        typecheck(mg.make_jaxpr(mg.grad(scalar, argnums=tuple(range(len(arrays)))))(*arrays))

    check()
