"""Batching: ``vmap(f)(xs)`` equals stacking ``f(x)`` over the examples, for every
primitive, mapped axes 0, 1, None and mixtures, and index arrays that are batched too."""

import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.primitive import all_primitives
from minigrad.core.typecheck import typecheck
from tests.op_specs import op_args
from tests.transform_specs import ALL_SPECS, array_arguments, split_arrays

BATCH = 3


def _example(array, b):
    """Example ``b`` of a batch: a different array in the same domain as ``array``."""
    if array.dtype.kind == "f":
        wiggle = np.cos(np.arange(array.size)).reshape(array.shape).astype(array.dtype)
        return (array * (1 + 0.25 * b) + 0.01 * b * wiggle).astype(array.dtype)
    return np.roll(array, b) if array.ndim else array  # index arrays and masks: permuted


def _stack(examples, axis):
    return np.stack(examples, axis=axis)


def _check_vmap(fun, arrays, axes):
    examples = [
        [_example(a, b) if axis is not None else a for a, axis in zip(arrays, axes)] for b in range(BATCH)
    ]
    batched = [
        _stack([ex[i] for ex in examples], axis) if axis is not None else arrays[i]
        for i, axis in enumerate(axes)
    ]
    expected = np.stack([np.asarray(fun(*ex)) for ex in examples])
    got = mg.vmap(fun, in_axes=tuple(axes))(*batched)
    assert np.shape(got) == expected.shape
    assert np.asarray(got).dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def _axes(mode, arrays):
    if mode == "axis0":
        return [0] * len(arrays)
    if mode == "axis1":
        return [1 if a.ndim else 0 for a in arrays]
    if mode == "last":
        return [-1] * len(arrays)
    # mixed: the first argument is mapped, the others shared by every example
    return [0] + [None] * (len(arrays) - 1)


@pytest.mark.parametrize("mode", ["axis0", "axis1", "last", "mixed"])
@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.name)
def test_vmap_equals_stacking_per_example(spec, mode):
    @settings(max_examples=4)
    @given(op_args(spec))
    def check(args):
        fun, arrays = split_arrays(spec, args)
        _check_vmap(fun, arrays, _axes(mode, arrays))

    check()


@pytest.mark.parametrize(
    "spec", [s for s in ALL_SPECS if s.name in ("where", "gather_traced_indices", "scatter_add")]
)
def test_vmap_over_index_arrays_and_masks(spec):
    @settings(max_examples=6)
    @given(op_args(spec))
    def check(args):
        fun, arrays = array_arguments(spec, args)
        for axes in ([0] * len(arrays), [None] + [0] * (len(arrays) - 1)):
            _check_vmap(fun, arrays, axes)

    check()


# ---------------------------------------------------------------------------------------
# Indexing: every placement of NumPy's advanced indices, with x and the index arrays
# batched or not.

I = np.array([3, 0, 3])  # noqa: E741 - indices into axis 0 (size 4)
J = np.array([2, 1, 0])  # into axis 1 (size 3)
K = np.array([1, 0, 1])  # into axis 2 (size 2)

# mnp.getitem rather than x[...]: a shared x is a NumPy array, which a tracer cannot index.
INDEXERS = {
    "front": lambda x, i, j, k: mnp.getitem(x, i),
    "middle": lambda x, i, j, k: mnp.getitem(x, (slice(None), j)),
    "adjacent_pair": lambda x, i, j, k: mnp.getitem(x, (i, j)),
    "split_pair": lambda x, i, j, k: mnp.getitem(x, (i, slice(None), k)),
    "adjacent_after_slice": lambda x, i, j, k: mnp.getitem(x, (slice(None), j, k)),
    "int_and_array": lambda x, i, j, k: mnp.getitem(x, (1, j)),
    "int_after_slice": lambda x, i, j, k: mnp.getitem(x, (slice(None), 0, k)),
    "newaxis_between": lambda x, i, j, k: mnp.getitem(x, (i, None, j)),
    "newaxis_before": lambda x, i, j, k: mnp.getitem(x, (None, slice(None), j)),
    "outer_product": lambda x, i, j, k: mnp.getitem(x, (i[:, None], j[None, :])),
    "strided_then_array": lambda x, i, j, k: mnp.getitem(x, (slice(None, None, -1), slice(1, None), k)),
}


@pytest.mark.parametrize(
    ("x_axis", "index_axis"), [(0, None), (1, None), (None, 0), (None, 1), (0, 0), (1, 1), (2, 0)]
)
@pytest.mark.parametrize("name", sorted(INDEXERS))
def test_gather_and_its_transpose_batch(name, x_axis, index_axis):
    index_fun = INDEXERS[name]
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((BATCH, 4, 3, 2))
    idx = [np.stack([np.roll(a, b) for b in range(BATCH)]) for a in (I, J, K)]
    x_in = np.moveaxis(xs, 0, x_axis) if x_axis is not None else xs[0]
    idx_in = [np.moveaxis(a, 0, index_axis) if index_axis is not None else a[0] for a in idx]

    def example(b):
        x = xs[b] if x_axis is not None else xs[0]
        return x, [a[b] if index_axis is not None else a[0] for a in idx]

    gathered = mg.vmap(index_fun, in_axes=(x_axis, index_axis, index_axis, index_axis))(x_in, *idx_in)
    expected = np.stack([index_fun(x, *ix) for x, ix in map(example, range(BATCH))])
    np.testing.assert_array_equal(gathered, expected)

    # The transpose: vmap of the VJP scatters (adds) cotangents back, repeats included.
    cts = rng.standard_normal(expected.shape)

    def pullback(x, i, j, k, ct):
        return mg.vjp(lambda x: index_fun(x, i, j, k), x)[1](ct)[0]

    for ct_axis in (0, None):
        scattered = mg.vmap(pullback, in_axes=(x_axis, index_axis, index_axis, index_axis, ct_axis))(
            x_in, *idx_in, cts if ct_axis == 0 else cts[0]
        )
        expected_cts = []
        for b in range(BATCH):
            x, ix = example(b)
            ct = cts[b] if ct_axis == 0 else cts[0]
            expected_cts.append(pullback(x, *ix, ct))
        np.testing.assert_allclose(scattered, np.stack(expected_cts), atol=1e-12)


# ---------------------------------------------------------------------------------------
# Shared operands stay shared


def _shapes_in(program):
    return [v.aval.shape for eqn in program.eqns for v in eqn.outvars]


def test_weights_shared_by_every_example_are_not_broadcast():
    x = np.ones((5, 3))
    w, b = np.ones((3, 4)), np.ones(4)

    def layer(x, w, b):
        return mnp.tanh(x @ w + b) * mnp.einsum("ji,j->i", w, x)[None, :1]

    program = mg.make_jaxpr(mg.vmap(layer, in_axes=(0, None, None)))(x, w, b)
    typecheck(program)
    assert all(eqn.primitive.name != "broadcast_to" for eqn in program.eqns), str(program)
    assert (5, 3, 4) not in _shapes_in(program)
    np.testing.assert_allclose(
        mg.vmap(layer, in_axes=(0, None, None))(x, w, b), np.stack([layer(row, w, b) for row in x])
    )


def test_gather_with_shared_indices_does_not_copy_them():
    program = mg.make_jaxpr(mg.vmap(lambda x, i: x[i], in_axes=(0, None)))(np.ones((5, 4)), I)
    assert [eqn.primitive.name for eqn in program.eqns] == ["gather"]


# ---------------------------------------------------------------------------------------
# in_axes and out_axes


def test_in_axes_pytree_prefix_and_out_axes():
    params = {"w": np.arange(6.0).reshape(2, 3), "b": np.ones(3)}
    xs = np.arange(8.0).reshape(4, 2)

    def predict(params, x):
        return {"y": x @ params["w"] + params["b"], "norm": (x**2).sum()}

    out = mg.vmap(predict, in_axes=({"w": None, "b": None}, 0), out_axes={"y": 1, "norm": 0})(params, xs)
    assert out["y"].shape == (3, 4) and out["norm"].shape == (4,)
    np.testing.assert_allclose(out["y"], (xs @ params["w"] + params["b"]).T)
    np.testing.assert_allclose(mg.vmap(predict, in_axes=[None, 0])(params, xs)["norm"], (xs**2).sum(1))


def test_unmapped_outputs_are_broadcast_or_kept():
    xs = np.arange(3.0)
    out = mg.vmap(lambda x: (x * 2.0, np.ones(2), 7.0))(xs)
    np.testing.assert_array_equal(out[1], np.ones((3, 2)))
    np.testing.assert_array_equal(out[2], np.full(3, 7.0))
    kept = mg.vmap(lambda x, w: (x * w, w + 1.0), in_axes=(0, None), out_axes=(0, None))(xs, np.ones(2))
    np.testing.assert_array_equal(kept[1], np.full(2, 2.0))
    np.testing.assert_array_equal(
        mg.vmap(lambda x: x * np.ones(2), out_axes=-1)(xs), np.outer(np.ones(2), xs)
    )


def test_vmap_errors_say_what_to_do():
    with pytest.raises(ValueError, match=r"different sizes(.|\n)*size 3(.|\n)*size 4"):
        mg.vmap(lambda a, b: a + b)(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="prefix"):
        mg.vmap(lambda a, b: a + b, in_axes=(0, 0, 0))(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="in_axes=2"):
        mg.vmap(mnp.sin, in_axes=2)(np.ones((3, 2)))
    with pytest.raises(ValueError, match="no argument is mapped"):
        mg.vmap(mnp.sin, in_axes=None)(np.ones(3))
    with pytest.raises(ValueError, match="out_axes=None"):
        mg.vmap(mnp.sin, out_axes=None)(np.ones(3))
    with pytest.raises(TypeError, match="ints or None"):
        mg.vmap(mnp.sin, in_axes="0")(np.ones(3))


def test_python_control_flow_on_mapped_values_raises():
    def relu_branch(x):
        return x if x > 0 else 0.0 * x

    with pytest.raises(mg.ConcretizationError, match=r"mnp\.where"):
        mg.vmap(relu_branch)(np.array([1.0, -1.0]))

    def scaled(x, power):
        return x**2 if power > 1 else x  # `power` is shared, so its value is known

    np.testing.assert_array_equal(mg.vmap(scaled, in_axes=(0, None))(np.arange(3.0), 2), [0.0, 1.0, 4.0])


# ---------------------------------------------------------------------------------------
# Composition with other transforms and with closures over their tracers


def test_closures_over_outer_tracers():
    xs = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    w0 = np.array([0.3, -0.7])

    def loss(w):
        return mg.vmap(lambda x: mnp.tanh(x @ w))(xs).sum()

    expected = sum((1 - np.tanh(x @ w0) ** 2) * x for x in xs)
    np.testing.assert_allclose(mg.grad(loss)(w0), expected)
    _, tangent = mg.jvp(loss, (w0,), (np.array([1.0, 0.0]),))
    assert tangent == pytest.approx(expected[0])
    outer = mg.vmap(lambda x: mg.vmap(lambda y: x * y)(np.arange(3.0)))(np.arange(2.0))
    np.testing.assert_array_equal(outer, np.outer(np.arange(2.0), np.arange(3.0)))


def test_nested_vmaps_and_derivatives():
    xs = np.random.default_rng(0).standard_normal((2, 3, 4))

    def f(v):
        return (mnp.sin(v) * v[::-1]).sum()

    np.testing.assert_allclose(mg.vmap(mg.vmap(f))(xs), np.array([[f(v) for v in row] for row in xs]))
    np.testing.assert_allclose(
        mg.vmap(mg.vmap(f), in_axes=2, out_axes=1)(xs),
        np.array([[f(xs[i, :, k]) for i in range(2)] for k in range(4)]).T,
    )
    per_example = np.stack([mg.grad(f)(v) for v in xs[0]])
    np.testing.assert_allclose(mg.vmap(mg.grad(f))(xs[0]), per_example)
    np.testing.assert_allclose(mg.grad(lambda m: mg.vmap(f)(m).sum())(xs[0]), per_example)
    np.testing.assert_allclose(
        mg.vmap(mg.grad(mg.grad(lambda s: mnp.sin(s) * s)))(xs[0, 0]),
        [mg.grad(mg.grad(lambda s: mnp.sin(s) * s))(s) for s in xs[0, 0]],
    )


def test_vmapped_programs_typecheck():
    def f(x, w):
        return (
            mnp.concatenate([x @ w, mnp.pad(x, 1)[1:3, 1:3]]).max()
            + mnp.argmax(x)
            + x[np.array([0, 0])].sum()
        )

    x, w = np.ones((4, 2)), np.ones((2, 2))
    typecheck(mg.make_jaxpr(mg.vmap(f, in_axes=(0, None)))(np.ones((3, 4, 2)), w))
    typecheck(mg.make_jaxpr(mg.vmap(mg.grad(f), in_axes=(0, None)))(np.ones((3, 4, 2)), w))
    typecheck(mg.make_jaxpr(mg.grad(lambda w: mg.vmap(f, in_axes=(0, None))(np.ones((3, 4, 2)), w).sum()))(w))
    assert f(x, w) == pytest.approx(2.0 + 0 + 4.0)  # max of x @ w, argmax, two rows of ones


@pytest.mark.parametrize("name", sorted(all_primitives()))
def test_every_primitive_has_a_batching_rule(name):
    primitive = all_primitives()[name]
    if primitive.replay is not None:
        return  # a call primitive (jit) replays its body under vmap
    rule = primitive.batch
    assert rule is not None, f"{name} has no batching rule"
    assert rule.__name__ != "<lambda>", f"{name} has a lambda batching rule"


def test_keyword_arguments_are_mapped_over_axis_0():
    xs = np.ones((3, 2))
    scales = np.arange(3.0)
    got = mg.vmap(lambda x, *, scale: x * scale)(xs, scale=scales)
    np.testing.assert_allclose(got, xs * scales[:, None])
    # in_axes speaks for the positional arguments only.
    got = mg.vmap(lambda x, scale: x * scale, in_axes=None)(np.ones(2), scale=scales)
    np.testing.assert_allclose(got, np.ones((3, 2)) * scales[:, None])
    with pytest.raises(ValueError, match=r"kwargs\['scale'\] is 0-d.*always mapped"):
        mg.vmap(lambda x, scale: x * scale)(xs, scale=2.0)


def test_shared_python_number_is_weak():
    # A Python number shared by every example promotes as it does eagerly.
    out = mg.vmap(lambda x, s: x * s, in_axes=(0, None))(np.ones((3, 2), np.float32), 0.5)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.full((3, 2), 0.5, np.float32))
    grads = mg.vmap(mg.grad(lambda x, s: (x * s).sum()), in_axes=(0, None))(np.ones((3, 2), np.float32), 0.5)
    assert grads.dtype == np.float32
