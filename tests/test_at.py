"""``x.at[index]`` updates: NumPy's semantics (np.ufunc.at for repeats), every index form,
derivatives against finite differences and by hand, vmap against a loop, and jit
against eager evaluation, with the update written in place when the operand is dead."""

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.testing import check_grads

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 5))

# (index, values shape): ints, slices (negative steps), None, ..., integer arrays with
# repeats, boolean masks, mixed advanced and basic entries
INDICES = [
    ((1,), (5,)),
    ((slice(None, None, -2), 3), (2,)),
    ((Ellipsis, 1), (4,)),
    ((None, 2, slice(1, 4)), (1, 3)),
    ((np.array([0, 2, 0]),), (3, 5)),
    ((np.array([1, 3, 1]), np.array([4, 0, 4])), (3,)),
    ((slice(None), np.array([[0, 1], [1, 1]])), (4, 2, 2)),
    ((X[:, 0] > 0,), (int((X[:, 0] > 0).sum()), 5)),
    ((np.array([3, 0]), slice(None)), (2, 5)),
]
NUMPY_UFUNCS = {"add": np.add, "multiply": np.multiply, "min": np.minimum, "max": np.maximum}


def numpy_update(x, index, values, method):
    out = x.copy()
    if method == "set":
        out[index] = values
    else:
        NUMPY_UFUNCS[method].at(out, index, values)
    return out


@pytest.mark.parametrize("index, shape", INDICES, ids=range(len(INDICES)))
@pytest.mark.parametrize("method", ["set", "add", "multiply", "min", "max"])
def test_matches_numpy_in_every_transform_free_and_jitted_form(index, shape, method):
    values = RNG.normal(size=shape)
    x = X.copy()
    expected = numpy_update(x, index, values, method)
    out = getattr(mnp.asarray(x).at[index], method)(values)
    np.testing.assert_allclose(out, expected)
    np.testing.assert_array_equal(x, X)  # the input is never modified
    jitted = mg.jit(lambda a, v: getattr((a * 1.0).at[index], method)(v))
    np.testing.assert_allclose(jitted(x, values), expected)
    np.testing.assert_array_equal(x, X)


def test_divide_power_apply_get_and_broadcast_values():
    x = np.arange(1.0, 7.0)
    a = mnp.asarray(x)
    np.testing.assert_allclose(a.at[[1, 1]].divide(2.0), [1, 0.5, 3, 4, 5, 6])
    np.testing.assert_allclose(a.at[2:4].power(np.array([2.0, 0.5])), [1, 2, 9, 2, 5, 6])
    np.testing.assert_allclose(a.at[::2].apply(mnp.negative), [-1, 2, -3, 4, -5, 6])
    np.testing.assert_allclose(a.at[-1].get(), 6.0)
    np.testing.assert_allclose(a.at[:3].set(0.0), [0, 0, 0, 4, 5, 6])
    # values are cast to x's dtype, as NumPy's assignment does
    ints = mnp.asarray(np.arange(3))
    np.testing.assert_array_equal(ints.at[0].set(2.7), [2, 1, 2])
    with pytest.raises(ValueError, match=r"cannot be broadcast to the indexed shape \(3,\)"):
        a.at[:3].set(np.ones(2))
    with pytest.raises(NotImplementedError, match="mode='drop'"):
        a.at[0].set(1.0, mode="drop")


def test_asarray_result_is_an_ndarray_whose_operations_are_plain():
    a = mnp.asarray([1.0, 2.0])
    assert isinstance(a, np.ndarray) and repr(a) == "array([1., 2.])"
    assert type(a + 1.0) is np.ndarray and type(a[0:1]) is np.ndarray and type(mnp.sin(a)) is np.ndarray
    assert type(a.at[0].set(3.0)) is np.ndarray


PLAIN = np.arange(6.0).reshape(2, 3)


@pytest.mark.parametrize(
    "operation",
    [
        lambda a: a + PLAIN,
        lambda a: PLAIN * a,
        lambda a: a @ PLAIN.T,
        lambda a: np.sin(a),
        lambda a: np.sum(a, axis=0),
        lambda a: a[0],
        lambda a: a.T,
        lambda a: a.reshape(3, 2),
        lambda a: np.reshape(a, 6),
        lambda a: np.transpose(a),
        lambda a: a.copy(),
        lambda a: copy.deepcopy(a),
        lambda a: a.astype(np.float32),
        lambda a: a.ravel(),
        lambda a: a.squeeze(),
        lambda a: a.view(),
    ],
)
def test_everything_made_from_an_asarray_result_is_a_plain_ndarray(operation):
    # Only mnp.asarray/mnp.array results carry .at; what is computed from them is what
    # NumPy computes from the plain array, type and all.
    result = operation(mnp.asarray(PLAIN))
    assert type(result) is np.ndarray
    np.testing.assert_array_equal(result, operation(PLAIN), strict=True)


def test_asarray_results_compare_strictly_equal_to_numpy_results():
    np.testing.assert_array_equal(mnp.asarray(PLAIN), PLAIN, strict=True)
    np.testing.assert_array_equal(
        mnp.array([1, 2], dtype=np.float32), np.array([1, 2], np.float32), strict=True
    )
    np.testing.assert_array_equal(mnp.asarray(3.0), np.asarray(3.0), strict=True)


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
def test_asarray_results_pickle_as_plain_ndarrays_readable_without_minigrad(protocol):
    data = pickle.dumps({"w": mnp.asarray(PLAIN)}, protocol=protocol)
    assert b"minigrad" not in data
    loaded = pickle.loads(data)["w"]
    assert type(loaded) is np.ndarray
    np.testing.assert_array_equal(loaded, PLAIN, strict=True)
    # A reader with NumPy alone (minigrad made unimportable) loads it.
    reader = "import pickle, sys; sys.modules['minigrad'] = None; print(pickle.loads(sys.stdin.buffer.read())['w'].sum())"
    out = subprocess.run([sys.executable, "-c", reader], input=data, capture_output=True, check=True)
    assert out.stdout.strip() == b"15.0"


def test_the_one_visible_difference_and_the_way_to_a_plain_array():
    a = mnp.asarray(PLAIN)
    assert type(a) is not np.ndarray and isinstance(a, np.ndarray) and isinstance(a, mg.Array)
    plain = np.asarray(a)  # the same memory, NumPy's own type
    assert type(plain) is np.ndarray and np.shares_memory(plain, PLAIN)
    assert type(mnp.zeros(3)) is np.ndarray  # creation functions stay plain outside transforms


def test_gradients_with_respect_to_the_array_and_the_values_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    v = np.array([10.0, 20.0, 30.0])
    index = np.array([0, 2, 0])

    def set_loss(x, v):
        return mnp.sum(x.at[index].set(v) * np.arange(1.0, 5.0))

    gx, gv = mg.grad(set_loss, argnums=(0, 1))(x, v)
    np.testing.assert_allclose(gx, [0.0, 2.0, 0.0, 4.0])  # overwritten elements get none
    np.testing.assert_allclose(gv, [0.0, 3.0, 1.0])  # only the last write to 0 survives

    def add_loss(x, v):
        return mnp.sum(x.at[index].add(v) ** 2)

    out = x.copy()
    np.add.at(out, index, v)
    gx, gv = mg.grad(add_loss, argnums=(0, 1))(x, v)
    np.testing.assert_allclose(gx, 2 * out)
    np.testing.assert_allclose(gv, 2 * out[index])

    # ties between x and the values share the derivative equally
    gx, gv = mg.grad(lambda x, v: mnp.sum(x.at[1].max(v)), argnums=(0, 1))(x, np.array(2.0))
    np.testing.assert_allclose(gx, [1.0, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(gv, 0.5)


@pytest.mark.parametrize(
    "method, index",
    [
        ("set", (np.array([0, 2, 0]),)),
        ("add", (np.array([0, 2, 0]),)),
        ("multiply", (slice(1, 3),)),
        ("multiply", (np.array([3, 0]),)),
        ("divide", (1,)),
        ("power", (np.array([0, 2]),)),
        ("min", (np.array([1, 1, 3]),)),
        ("max", (slice(None, None, -1),)),
    ],
)
def test_derivatives_against_finite_differences_to_second_order(method, index):
    x = np.array([1.3, 0.7, 2.1, 1.6])
    shape = np.zeros(4)[index].shape
    v = np.linspace(0.4, 1.9, int(np.prod(shape))).reshape(shape)

    def f(x, v):
        return mnp.sin(getattr(mnp.asarray(x).at[index], method)(v))

    check_grads(f, (x, v), order=2)


def test_multiply_derivative_with_repeated_indices_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="indexed at most once"):
        mg.grad(lambda v: mnp.sum(mnp.ones(3).at[np.array([0, 0])].multiply(v)))(np.ones(2))
    # the derivative with respect to x needs no uniqueness
    g = mg.grad(lambda x: mnp.sum(x.at[np.array([0, 0])].multiply(np.array([2.0, 3.0]))))(np.ones(3))
    np.testing.assert_allclose(g, [6.0, 1.0, 1.0])


@pytest.mark.parametrize("method", ["set", "add", "multiply", "max"])
def test_vmap_matches_a_loop_for_batched_arrays_values_and_indices(method):
    xs = RNG.normal(size=(3, 4, 5))
    vs = RNG.normal(size=(3, 2, 5))
    idx = np.array([[0, 3], [1, 1], [2, 0]])
    cases = [
        (lambda x, v: getattr(mnp.asarray(x).at[np.array([3, 1])], method)(v), (0, 0), (xs, vs)),
        (lambda x, v: getattr(mnp.asarray(x).at[np.array([3, 1])], method)(v), (None, 0), (xs[0], vs)),
        (lambda x, v: getattr(mnp.asarray(x).at[np.array([3, 1])], method)(v), (0, None), (xs, vs[0])),
        (lambda x, v, i: getattr(mnp.asarray(x).at[i], method)(v), (0, 0, 0), (xs, vs, idx)),
        (lambda x, v, i: getattr(mnp.asarray(x).at[:, 2], method)(v[0, :4]), (0, 0, None), (xs, vs, idx)),
        (lambda x, v, i: getattr(mnp.asarray(x).at[1:, i], method)(v[:, 0]), (None, 0, 0), (xs[0], vs, idx)),
    ]
    for f, in_axes, args in cases:
        batched = mg.vmap(f, in_axes=in_axes)(*args)
        size = 3
        looped = [f(*(a if ax is None else a[n] for a, ax in zip(args, in_axes))) for n in range(size)]
        np.testing.assert_allclose(batched, np.stack(looped))
        np.testing.assert_allclose(mg.jit(mg.vmap(f, in_axes=in_axes))(*args), batched)


def test_grad_of_vmap_and_jvp_and_make_jaxpr():
    x = np.array([1.0, 2.0, 3.0])
    per_example = mg.vmap(mg.grad(lambda v: mnp.sum(mnp.zeros(3).at[1].set(v) ** 2)))(x)
    np.testing.assert_allclose(per_example, 2 * x)
    _, tangent = mg.jvp(lambda x: x.at[0].multiply(3.0), (x,), (np.ones(3),))
    np.testing.assert_allclose(tangent, [3.0, 1.0, 1.0])
    assert "scatter" in str(mg.make_jaxpr(lambda x: x.at[0].add(1.0))(x))


def test_jit_writes_into_a_dead_buffer_and_copies_a_live_one():
    def dead(x):
        y = mnp.exp(x)
        return y.at[0].set(0.0)

    source = mg.jit(dead).lower(np.ones(3)).source
    assert "_scatter_into" in source and ".copy()" not in source
    x = np.ones(3)
    np.testing.assert_allclose(mg.jit(dead)(x), [0.0, np.e, np.e])

    def live(x):
        y = mnp.exp(x)
        return y.at[0].set(0.0), y  # y is still read: the update works on a copy

    source = mg.jit(live).lower(np.ones(3)).source
    assert "_scatter_into" not in source
    updated, original = mg.jit(live)(x)
    np.testing.assert_allclose(original, np.full(3, np.e))
    np.testing.assert_allclose(updated, [0.0, np.e, np.e])
    # an input is never written
    np.testing.assert_allclose(mg.jit(lambda a: a.at[1].add(5.0))(x), [1.0, 6.0, 1.0])
    np.testing.assert_array_equal(x, np.ones(3))
