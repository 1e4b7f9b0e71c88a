"""jit follows its arguments' array library: torch, array-api-strict and Dask give NumPy's results.

Each program runs on NumPy (the reference, float64) and, jitted, on arrays of another
library; the results must be arrays of that library equal to NumPy's within 1e-12.
"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind

array_api_compat = pytest.importorskip("array_api_compat")

LIBRARIES = []
try:
    import array_api_strict

    LIBRARIES.append(pytest.param(array_api_strict, id="array_api_strict"))
except ImportError:  # pragma: no cover
    array_api_strict = None
try:
    import torch

    LIBRARIES.append(pytest.param(torch, id="torch"))
except ImportError:  # pragma: no cover
    torch = None

try:
    import dask.array as dask_array

    LIBRARIES.append(pytest.param(dask_array, id="dask"))
except ImportError:  # pragma: no cover - dask is optional
    dask_array = None

if not LIBRARIES:  # pragma: no cover
    pytest.skip("neither array-api-strict nor torch is installed", allow_module_level=True)

RTOL = 1e-12


def _rng(seed=0):
    return np.random.default_rng(seed)


def _put(lib, tree):
    return mg.device_put(tree, lib.asarray(np.zeros(1)))


def _check(lib, got, want):
    got_leaves, got_tree = mg.tree.tree_flatten(got)
    want_leaves, want_tree = mg.tree.tree_flatten(want)
    assert got_tree == want_tree
    for g, w in zip(got_leaves, want_leaves, strict=True):
        assert array_api_compat.array_namespace(g).__name__.endswith(lib.__name__)
        g = mg.device_get(g)
        assert g.dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=1e-300)


def elementwise_chain(x, y):
    return mnp.exp(mnp.sin(x) * 2.0 - y) / (1.0 + mnp.abs(y)) + mnp.sqrt(mnp.abs(x))


def reductions(x, y):
    return mnp.sum(x, axis=0), mnp.max(y, axis=1), mnp.mean(x * y), mnp.min(x), mnp.prod(y[:, :2], axis=1)


def indexing(x, y):
    return x[1:, ::2], x[0], y[:, 1], x[:, None, 2], x[mnp.array([0, 2, 2])], x[::-1, None, -1:0:-2], y[2::-3]


def where_and_compare(x, y):
    return mnp.where(x > y, x, y * 3.0), mnp.maximum(x, 0.5), (x <= y).astype(np.float64)


def shapes(x, y):
    return mnp.concatenate([x, y], axis=0).T.reshape(-1), mnp.transpose(x)[None] + y[:, :1].T


def gathers_and_their_gradients(x, y):
    def loss(x):
        return mnp.sum(mnp.sin(x[mnp.array([0, 2, 2, -1])]) * y[:4, :1]) + mnp.sum(
            x[:, mnp.array([1, 1])] ** 2
        )

    return loss(x), mg.grad(loss)(x)


def cumulative_pad_cbrt(x, y):
    def loss(x):
        return mnp.sum(mnp.cumsum(x, axis=1) * y) + mnp.sum(mnp.cbrt(x) ** 2 * x[1:3].sum())

    return mnp.cumsum(y, axis=0), mnp.pad(x, ((1, 2), (0, 1))), mnp.cbrt(x), mg.grad(loss)(x)


def sorting(x, y):
    ties = mnp.round(x * 2.0)
    return mnp.argsort(ties, axis=0), mnp.argsort(-ties, axis=1), mnp.argsort(ties, axis=1, descending=True)


def mlp(params, x):
    h = mnp.tanh(x @ params["w1"] + params["b1"])
    return h @ params["w2"] + params["b2"]


def mlp_loss(params, x, y):
    return mnp.mean((mlp(params, x) - y) ** 2)


def _params(rng):
    return {
        "w1": rng.normal(size=(3, 8)),
        "b1": rng.normal(size=8),
        "w2": rng.normal(size=(8, 2)),
        "b2": rng.normal(size=2),
    }


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize(
    "program",
    [
        elementwise_chain,
        reductions,
        indexing,
        where_and_compare,
        shapes,
        gathers_and_their_gradients,
        cumulative_pad_cbrt,
        sorting,
    ],
)
def test_programs_give_numpys_results(lib, program):
    rng = _rng()
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    want = program(x, y)
    got = mg.jit(program)(lib.asarray(x), lib.asarray(y))
    _check(lib, got, want)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_mlp_forward_and_jitted_value_and_grad(lib):
    rng = _rng(1)
    params, x, y = _params(rng), rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    _check(lib, mg.jit(mlp)(_put(lib, params), lib.asarray(x)), mlp(params, x))
    step = mg.jit(mg.value_and_grad(mlp_loss))
    want = step(params, x, y)
    got = step(_put(lib, params), lib.asarray(x), lib.asarray(y))
    _check(lib, got, want)
    assert step.cache_size() == 2  # one program for NumPy, one for the library


@pytest.mark.parametrize("lib", LIBRARIES)
def test_python_numbers_join_a_librarys_arrays(lib):
    f = mg.jit(lambda x, s: x * s + 1)
    _check(lib, f(lib.asarray(np.arange(3.0)), 2.5), np.arange(3.0) * 2.5 + 1)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_results_never_alias_the_inputs(lib):
    x = lib.asarray(np.arange(4.0))
    out, view = mg.jit(lambda x: (x, x.reshape(2, 2)))(x)
    out[0] = 10.0
    view[0, 1] = 20.0
    np.testing.assert_array_equal(mg.device_get(x), np.arange(4.0))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_library_is_in_the_cache_key_trace_log_and_source(lib):
    f = mg.jit(lambda x: mnp.sin(x) * 2.0)
    x = np.ones(3)
    f(x)
    f(lib.asarray(x))
    assert f.cache_size() == 2
    library = array_api_compat.array_namespace(lib.asarray(x)).__name__.removeprefix("array_api_compat.")
    assert f"({library}, device" in f.trace_log()[-1]
    assert "changed from f64[3] to f64[3] (" in f.trace_log()[-1]
    source = f.lower(lib.asarray(x)).source
    assert "_xp.sin(a)" in source and "out=" not in source
    assert "out=" in f.lower(x).source or "_sin" in f.lower(x).source  # NumPy keeps its writer


@pytest.mark.parametrize("lib", LIBRARIES)
def test_closed_over_constants_move_to_the_arguments_library(lib):
    table = np.arange(3.0)
    f = mg.jit(lambda x: x + table)
    _check(lib, f(lib.asarray(np.ones(3))), np.ones(3) + table)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_mixing_numpy_and_another_library_is_refused(lib):
    f = mg.jit(lambda x, y: x + y)
    with pytest.raises(TypeError, match="device_put"):
        f(lib.asarray(np.ones(2)), np.ones(2))


# A primitive of the user's, with an implementation (so eager and NumPy jit run it) but no
# Array API lowering: jit on another library must refuse it by name.
twice_p = Primitive("user_twice", register=False)
twice_p.def_impl(lambda x: 2 * x)
twice_p.def_shape_rule(lambda x: x)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_primitive_without_an_array_api_lowering_is_named(lib):
    f = mg.jit(lambda x: bind(twice_p, x))
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 2.0])
    with pytest.raises(NotImplementedError, match="'user_twice'.*" + lib.__name__.split(".")[0]):
        f(lib.asarray(np.ones(2)))


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize(
    "transform",
    [
        lambda x: mg.grad(lambda v: mnp.sum(v**2))(x),
        lambda x: mg.vmap(mnp.sin)(x),
        lambda x: mg.jvp(mnp.sin, (x,), (x,)),
        lambda x: mg.vjp(mnp.sin, x),
        lambda x: mnp.sin(x),
    ],
    ids=["grad", "vmap", "jvp", "vjp", "mnp.sin"],
)
def test_eager_transforms_refuse_foreign_arrays(lib, transform):
    with pytest.raises(TypeError, match="mg.jit"):
        transform(lib.asarray(np.ones(3)))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_device_put_and_get_round_trip(lib):
    tree = {"a": np.arange(3.0), "b": [np.ones((2, 2), np.float32), 1.5]}
    moved = _put(lib, tree)
    assert all(array_api_compat.is_array_api_obj(leaf) for leaf in mg.tree.tree_leaves(moved))
    back = mg.device_get(moved)
    np.testing.assert_array_equal(back["a"], tree["a"])
    assert back["b"][0].dtype == np.float32
    assert mg.device_put(tree, np)["b"][1] == 1.5


@pytest.mark.skipif(torch is None, reason="torch is not installed")
def test_torch_scatter_add_accumulates_repeated_indices():
    f = mg.jit(mg.grad(lambda x: mnp.sum(x[mnp.array([0, 2, 2, 2])] ** 2)))
    x = np.arange(4.0)
    _check(torch, f(torch.asarray(x)), f(x))


@pytest.mark.skipif(torch is None, reason="torch is not installed")
def test_einsum_runs_on_torchs_own():
    f = mg.jit(lambda a, b: mnp.einsum("ij,jk->ik", a, b))
    a, b = _rng().normal(size=(2, 3)), _rng(1).normal(size=(3, 4))
    _check(torch, f(torch.asarray(a), torch.asarray(b)), a @ b)
    assert "_xp.einsum('ij,jk->ik'" in f.lower(torch.asarray(a), torch.asarray(b)).source


@pytest.mark.parametrize("lib", LIBRARIES)
def test_debug_nans_names_the_primitive_and_line_on_other_libraries(lib):
    def f(x):
        y = mnp.exp(x) * 2.0
        return mnp.log(y - 2.0) + y  # log of 0 and of a negative number

    x = lib.asarray(np.array([1.0, 0.0, -1.0]))
    jitted = mg.jit(f)
    with mg.debug_nans(True), pytest.raises(FloatingPointError) as caught:
        jitted(x)
    message = str(caught.value)
    line = f.__code__.co_firstlineno + 2
    assert "log produced -inf/nan from finite inputs (f64[3])" in message
    assert f"test_jit_array_api.py:{line}" in message and "arrays" in message
    assert jitted.cache_size() == 1  # the checking version is not cached as another program
    with mg.debug_nans(True):
        _check(lib, jitted(lib.asarray(np.array([1.0, 2.0]))), f(np.array([1.0, 2.0])))
