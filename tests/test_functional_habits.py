"""PyTorch's and micrograd's autograd attributes on a traced array explain minigrad's
functional way instead of failing with a bare AttributeError; other attributes behave
as on any object."""

import copy
import pickle

import pytest

import minigrad as mg

HABITS = ["backward", "grad", "requires_grad", "requires_grad_", "zero_grad", "retain_grad", "detach"]


def under_every_tracer(probe):
    """Call ``probe(x)`` on a traced value under grad, jvp, jit and vmap."""

    def f(x):
        probe(x)
        return x * 2.0

    mg.grad(f)(1.0)
    mg.jvp(f, (1.0,), (1.0,))
    mg.jit(f)(1.0)
    mg.vmap(f)(mg.numpy.ones(2))


@pytest.mark.parametrize("name", HABITS)
def test_autograd_attributes_point_to_mg_grad(name):
    def probe(x):
        with pytest.raises(AttributeError) as caught:
            getattr(x, name)
        message = str(caught.value)
        assert f"`.{name}" in message
        assert "mg.grad(loss)(params, x)" in message and "docs/micrograd.md" in message
        assert caught.value.name == name

    under_every_tracer(probe)


def test_detach_points_to_stop_gradient():
    def probe(x):
        with pytest.raises(AttributeError, match=r"mg\.stop_gradient\(x\)"):
            x.detach()

    under_every_tracer(probe)


def test_other_missing_attributes_raise_the_usual_error():
    def probe(x):
        with pytest.raises(AttributeError) as caught:
            _ = x.no_such_thing
        assert str(caught.value) == f"{type(x).__name__!r} object has no attribute 'no_such_thing'"
        assert not hasattr(x, "_fields") and not hasattr(x, "__array_interface__")
        assert hasattr(x, "__array__") and hasattr(x, "__array_priority__")

    under_every_tracer(probe)


def test_copy_and_pickle_still_work_on_a_tracer():
    seen = []

    def f(x):
        seen.append((type(copy.copy(x)), type(copy.deepcopy(x)), type(pickle.dumps(x))))
        return x * 2.0

    mg.grad(f)(1.0)
    assert seen and seen[0][2] is bytes and seen[0][0] is seen[0][1]
