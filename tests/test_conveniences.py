"""Issue 12's conveniences: namespaces without imports, new-style tree names, dataclass
and class pytrees, ravel_pytree, jit as a decorator factory with a per-function cache,
disable_jit, jacobian and Array."""

import dataclasses
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.flatten_util import ravel_pytree
from minigrad.tree_util import register_pytree_node_class, tree_map


def test_namespaces_load_on_first_use_in_a_fresh_interpreter():
    code = (
        "import sys, minigrad as mg\n"
        "assert 'minigrad.nn' not in sys.modules\n"
        "names = ['random', 'nn', 'optim', 'io', 'datasets', 'debug', 'numpy', 'tree', 'flatten_util',"
        " 'tree_util']\n"
        "mods = [getattr(mg, n).__name__ for n in names]\n"
        "assert mods == ['minigrad.' + n for n in names], mods\n"
        "assert 'nn' in dir(mg)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


SCIPY_LOADS_LAZILY = """
import sys, minigrad as mg
assert 'scipy' not in sys.modules and 'minigrad.scipy' not in sys.modules
assert 'scipy' in dir(mg)
namespace = mg.scipy
assert namespace.__name__ == 'minigrad.scipy' and 'scipy' not in sys.modules
value = float(mg.scipy.special.erf(0.5))
assert abs(value - 0.5204998778130465) < 1e-12, value
assert 'scipy.special' in sys.modules
print("ok")
"""


def test_mg_scipy_loads_on_first_use_and_scipy_only_when_a_function_is_reached():
    root = pathlib.Path(mg.__file__).parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", SCIPY_LOADS_LAZILY], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_tree_util_is_jaxs_name_for_the_tree_functions():
    assert tree_map is mg.tree.tree_map and register_pytree_node_class is mg.tree.register_pytree_node_class
    assert set(mg.tree_util.__all__) <= set(mg.tree.__all__)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        mg.nope  # noqa: B018


def test_new_style_tree_names_agree_with_the_old_ones():
    tree = {"b": [1.0, 2.0], "a": (3.0, None)}
    assert mg.tree.leaves(tree) == mg.tree.tree_leaves(tree) == [3.0, 1.0, 2.0]
    leaves, treedef = mg.tree.flatten(tree)
    assert mg.tree.unflatten(treedef, leaves) == tree
    assert mg.tree.structure(tree) == treedef
    assert mg.tree.map(lambda x, y: x * y, tree, tree) == {"b": [1.0, 4.0], "a": (9.0, None)}
    assert mg.tree.reduce(lambda a, b: a + b, tree) == 6.0
    assert mg.tree.all(tree) and not mg.tree.all([1.0, 0.0])
    assert mg.tree.leaves_with_path(tree) == mg.tree.flatten_with_path(tree)[0]
    labelled = mg.tree.map_with_path(lambda path, x: (path, x), {"w": [5.0, 6.0]})
    assert labelled == {"w": [("['w'][0]", 5.0), ("['w'][1]", 6.0)]}
    # the builtins inside minigrad.tree are untouched
    assert "map" not in vars(mg.tree) and "all" not in vars(mg.tree)


def test_tree_transpose_swaps_nesting_and_checks_sizes():
    outer, inner = mg.tree.structure((0, 0, 0)), mg.tree.structure([0, 0])
    assert mg.tree.transpose(outer, inner, ([1, 2], [3, 4], [5, 6])) == [(1, 3, 5), (2, 4, 6)]
    with pytest.raises(TypeError, match="tree_transpose"):
        mg.tree.transpose(outer, inner, ([1, 2], [3, 4]))


@mg.tree.register_dataclass
@dataclasses.dataclass
class Linear:
    w: np.ndarray
    b: np.ndarray
    activation: str = dataclasses.field(default="tanh", metadata={"static": True})


def test_registered_dataclass_is_a_pytree_under_grad_and_jit():
    params = Linear(np.array([1.0, -2.0]), np.array(0.5))
    x = np.array([0.3, 0.7])

    def loss(p):
        return mnp.tanh(p.w @ x + p.b) ** 2 if p.activation == "tanh" else p.b

    grads = mg.grad(loss)(params)
    assert isinstance(grads, Linear) and grads.activation == "tanh"
    z = params.w @ x + params.b
    dz = 2 * np.tanh(z) * (1 - np.tanh(z) ** 2)
    np.testing.assert_allclose(grads.w, dz * x)
    np.testing.assert_allclose(grads.b, dz)
    np.testing.assert_allclose(mg.jit(loss)(params), loss(params))
    # meta fields are part of the structure
    assert mg.tree.structure(params) != mg.tree.structure(Linear(params.w, params.b, "relu"))


def test_register_dataclass_with_explicit_fields_and_bad_ones():
    @dataclasses.dataclass
    class Point:
        x: float
        y: float
        label: str

    mg.tree.register_dataclass(Point, data_fields=["x", "y"], meta_fields=["label"])
    assert mg.tree.leaves(Point(1.0, 2.0, "p")) == [1.0, 2.0]

    @dataclasses.dataclass
    class Other:
        x: float

    with pytest.raises(ValueError, match="must split its init fields"):
        mg.tree.register_dataclass(Other, data_fields=["x", "y"], meta_fields=[])
    with pytest.raises(TypeError, match="is not a dataclass"):
        mg.tree.register_dataclass(int)


def test_register_pytree_node_class():
    @mg.tree.register_pytree_node_class
    class Box:
        def __init__(self, value, tag):
            self.value, self.tag = value, tag

        def tree_flatten(self):
            return (self.value,), self.tag

        @classmethod
        def tree_unflatten(cls, tag, children):
            return cls(children[0], tag)

    out = mg.grad(lambda b: mnp.sum(b.value**3))(Box(np.array([1.0, 2.0]), "t"))
    assert out.tag == "t"
    np.testing.assert_allclose(out.value, [3.0, 12.0])
    with pytest.raises(TypeError, match="has no tree_flatten"):
        mg.tree.register_pytree_node_class(type("Bare", (), {}))


def test_ravel_pytree_round_trip_dtypes_and_gradients():
    tree = {"a": np.arange(6.0).reshape(2, 3), "b": np.float32(2.0), "c": [np.array([1, 2], np.int32)]}
    flat, unravel = ravel_pytree(tree)
    assert flat.shape == (9,) and flat.dtype == np.float64
    back = unravel(flat)
    assert back["b"].dtype == np.float32 and back["c"][0].dtype == np.int32
    np.testing.assert_array_equal(back["a"], tree["a"])
    # gradient through unravel is the gradient of the tree, raveled
    w = {"x": np.array([1.0, 2.0]), "y": np.array(3.0)}
    flat_w, unravel_w = ravel_pytree(w)
    g = mg.grad(lambda v: unravel_w(v)["x"] @ unravel_w(v)["x"] * unravel_w(v)["y"])(flat_w)
    np.testing.assert_allclose(g, [6.0, 12.0, 5.0])
    flat_jit = mg.jit(lambda t: ravel_pytree(t)[0])(w)
    np.testing.assert_array_equal(flat_jit, flat_w)
    with pytest.raises(ValueError, match=r"expected a vector of shape \(3,\)"):
        unravel_w(np.zeros(4))


def test_jit_as_a_decorator_factory_with_static_argnames():
    traces = []

    @mg.jit(static_argnames="n")
    def power(x, n):
        traces.append(n)
        return x**n

    np.testing.assert_allclose(power(np.array([2.0]), n=3), [8.0])
    np.testing.assert_allclose(power(np.array([3.0]), n=3), [27.0])
    np.testing.assert_allclose(power(np.array([3.0]), 2), [9.0])
    assert traces == [3, 2]

    @mg.jit(static_argnums=1)
    def scale(x, k):
        return x * k

    np.testing.assert_allclose(scale(np.ones(2), 4.0), [4.0, 4.0])


def test_jit_wrappers_of_one_function_share_their_cache():
    traces = []

    def f(x):
        traces.append(1)
        return x + 1.0

    for i in range(5):
        np.testing.assert_allclose(mg.jit(f)(np.full(3, float(i))), i + 1.0)
    assert len(traces) == 1
    assert mg.jit(f).cache_size() == 1
    # other static settings are another cache
    mg.jit(f, cache_limit=2)(np.ones(3))
    assert len(traces) == 2


def test_disable_jit_runs_the_python_function():
    seen = []

    @mg.jit
    def f(x):
        seen.append(type(x))
        return mnp.sin(x)

    x = np.array([0.5])
    with mg.disable_jit():
        np.testing.assert_allclose(f(x), np.sin(x))
        np.testing.assert_allclose(mg.grad(lambda v: f(v).sum())(x), np.cos(x))
    assert seen[0] is np.ndarray
    f(x)
    assert seen[-1] is not np.ndarray  # traced again once the block is left
    assert f.cache_size() == 1


def test_jacobian_is_jacrev_and_array_is_the_isinstance_type():
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(mg.jacobian(lambda v: v**2)(x), np.diag(2 * x))
    assert mg.jacobian is mg.jacrev
    assert isinstance(np.ones(2), mg.Array) and not isinstance([1.0], mg.Array)
    checks = []

    def f(v):
        checks.append(isinstance(v, mg.Array))
        return v.sum()

    mg.grad(f)(x)
    mg.jit(f)(x)
    mg.vmap(f)(np.ones((2, 2)))
    assert checks == [True, True, True]
    with pytest.raises(TypeError, match="isinstance"):
        mg.Array()
