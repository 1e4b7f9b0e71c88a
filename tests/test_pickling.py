"""Primitives pickle by name and jitted functions by recipe (minigrad.distributed relies on it)."""

import copy
import pickle

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.primitive import Primitive, all_primitives


def scaled_sine(x):
    return 2.0 * mnp.sin(x)


@pytest.mark.parametrize("name", sorted(all_primitives()))
def test_registered_primitives_unpickle_as_themselves(name):
    primitive = all_primitives()[name]
    assert pickle.loads(pickle.dumps(primitive)) is primitive


def test_unregistered_primitive_refuses_to_pickle_and_says_why():
    private_p = Primitive("private_example", register=False)
    with pytest.raises(pickle.PicklingError, match="not registered"):
        pickle.dumps(private_p)


def test_copies_of_a_primitive_are_the_primitive():
    private_p = Primitive("private_copy_example", register=False)
    assert copy.copy(private_p) is private_p
    assert copy.deepcopy([private_p])[0] is private_p


def test_program_with_primitives_round_trips_and_keeps_identity():
    jaxpr = mg.make_jaxpr(scaled_sine)(1.0)
    copied = pickle.loads(pickle.dumps(jaxpr.jaxpr.eqns))
    assert [eqn.primitive for eqn in copied] == [eqn.primitive for eqn in jaxpr.jaxpr.eqns]
    assert all(a.primitive is b.primitive for a, b in zip(copied, jaxpr.jaxpr.eqns, strict=True))


def test_jitted_function_pickles_by_recipe_and_shares_the_cache():
    jitted = mg.jit(scaled_sine, cache_limit=7)
    x = np.linspace(0.0, 1.0, 3)
    np.testing.assert_array_equal(jitted(x), 2.0 * np.sin(x))
    copied = pickle.loads(pickle.dumps(jitted))
    assert copied is not jitted
    assert copied.cache_size() == 1  # the same function and settings: the same cache
    np.testing.assert_array_equal(copied(x), jitted(x))
    assert jitted.cache_size() == 1


def test_jitted_function_keeps_its_static_arguments():
    def power(x, n):
        return x**n

    jitted = mg.jit(power, static_argnums=1)
    assert float(jitted(np.float64(3.0), 2)) == 9.0
    copied = copy.deepcopy(jitted)  # by the same recipe as pickling
    assert copied.cache_size() == 1  # same function, same static settings, same cache
    assert float(copied(np.float64(3.0), 2)) == 9.0
    assert copied.cache_size() == 1
