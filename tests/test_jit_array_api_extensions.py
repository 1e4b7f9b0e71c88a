"""jit on other libraries beyond elementwise code: random bits, linalg, FFTs, control flow,
scatter-add with repeated indices, x.at[index] updates, complex numbers from their parts,
debug_nans in loop bodies.

Every program runs on NumPy (the reference) and, jitted, on torch, array-api-strict and
Dask arrays; float results must agree within 1e-12, random bits exactly.
"""

import itertools
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad import random as mr
from minigrad.transforms.jit import array_api_scatter
from minigrad.transforms.jit.array_api_random import random_bits_words
from minigrad.transforms.jit.array_api_rules import element_positions
from minigrad.transforms.jit.array_api_scatter import scatter_rows, segment_sum
from tests.test_jit_array_api import LIBRARIES, _put

array_api_compat = pytest.importorskip("array_api_compat")

RTOL = 1e-12


def _check(lib, got, want):
    """``got`` (arrays of ``lib``) equals ``want`` within 1e-12 of each array's largest
    entry: LAPACK and FFT libraries round entries that cancel to zero differently."""
    got_leaves, got_tree = mg.tree.tree_flatten(got)
    want_leaves, want_tree = mg.tree.tree_flatten(want)
    assert got_tree == want_tree
    for g, w in zip(got_leaves, want_leaves, strict=True):
        assert array_api_compat.array_namespace(g).__name__.endswith(lib.__name__)
        g, w = mg.device_get(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        scale = float(np.max(np.abs(w), initial=0.0))
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=RTOL * scale)


def _library(lib) -> str:
    return array_api_compat.array_namespace(lib.asarray(np.zeros(1))).__name__.removeprefix(
        "array_api_compat."
    )


# -- random bits ----------------------------------------------------------------------------


def draws(key):
    first, second = mr.split(key)
    return {
        "bits": mg.random.randint(first, (3, 5), 0, 2**31 - 1),
        "uniform": mr.uniform(second, (7,), dtype=np.float64),
        "uniform32": mr.uniform(key, (2, 3)),
        "permutation": mr.permutation(first, 9),
        "fold_in": mr.fold_in(key, 12345),
        "bernoulli": mr.bernoulli(second, 0.3, (6,)),
        "split": mr.split(second, 4),
    }


@pytest.mark.parametrize("lib", LIBRARIES)
def test_random_bits_are_numpys_bit_for_bit(lib):
    key = mr.key(2024)
    want = draws(key)
    got = mg.device_get(mg.jit(draws)(_put(lib, key)))
    for name in want:
        assert got[name].dtype == want[name].dtype, name
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_random_bits_of_a_batch_of_keys_and_normals(lib):
    keys = mr.split(mr.key(7), 3)

    def sample(keys):
        return mg.vmap(lambda k: mr.uniform(k, (4,), dtype=np.float64))(keys), mr.normal(
            keys[0], (5,), np.float64
        )

    want = sample(keys)
    got = mg.device_get(mg.jit(sample)(_put(lib, keys)))
    np.testing.assert_array_equal(got[0], want[0])  # exact: bits scaled by a power of two
    np.testing.assert_allclose(got[1], want[1], rtol=RTOL)  # log, cos: the library's libm


def test_the_int64_threefry_matches_the_published_answer():
    # Threefry-2x32, 20 rounds, key (0, 0), counter (0, 0): Random123's known answer.
    words = random_bits_words(np, "cpu", np.uint32([0, 0]), (2,))
    assert [hex(int(w)) for w in words] == ["0x6b200159", "0x99ba4efe"]


# -- linear algebra ---------------------------------------------------------------------------


def _spd(rng, batch=()):
    a = rng.normal(size=(*batch, 3, 3))
    return a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)


def _sign_free(v):
    """Eigen- or singular vectors with each column's sign fixed by its first entry."""
    return v * np.sign(v[..., :1, :])


LINALG = {
    "inv": lambda a: mnp.linalg.inv(a),
    "solve": lambda a: mnp.linalg.solve(a, a[..., :2] + 1.0),
    "cholesky": lambda a: mnp.linalg.cholesky(a),
    "qr": lambda a: mnp.linalg.qr(a[..., :2]),
    "svd": lambda a: mnp.linalg.svd(a, compute_uv=False),
    "det": lambda a: mnp.linalg.det(a),
    "slogdet": lambda a: mnp.linalg.slogdet(a),
    "eigvalsh": lambda a: mnp.linalg.eigvalsh(a),
    "eigh": lambda a: (lambda w, v: (w, v * mnp.sign(v[..., :1, :])))(*mnp.linalg.eigh(a)),
    "pinv": lambda a: mnp.linalg.pinv(a[..., :2]),
    "grad_slogdet_solve": mg.grad(
        lambda a: mnp.linalg.slogdet(a)[1] + mnp.sum(mnp.linalg.solve(a, a[..., 0]))
    ),
    "grad_cholesky": mg.grad(lambda a: mnp.sum(mnp.linalg.cholesky(a) ** 2)),
    "grad_eigh": mg.grad(lambda a: mnp.sum(mnp.linalg.eigvalsh(a) ** 3)),
}


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_under_jit(lib, name):
    a = _spd(np.random.default_rng(3))
    fun = LINALG[name]
    _check(lib, mg.jit(fun)(lib.asarray(a)), fun(a))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_batched_linalg_and_triangular_solves(lib):
    # Dask's linalg takes single matrices: there, a stack is computed matrix by matrix.
    a = _spd(np.random.default_rng(4), (2, 3))

    def f(a):
        lower = mnp.linalg.cholesky(a)
        q, r = mnp.linalg.qr(a)
        return (
            mg.scipy.linalg.solve_triangular(lower, a[..., :1], lower=True),
            mnp.linalg.inv(a),
            mnp.linalg.solve(a, a[..., :2] * 2.0),
            q @ r,
            mnp.linalg.svd(a, compute_uv=False),
        )

    pytest.importorskip("scipy")
    _check(lib, mg.jit(f)(lib.asarray(a)), f(a))


# -- FFTs -------------------------------------------------------------------------------------

FFTS = {
    "fft": lambda x: mnp.fft.fft(x.astype(np.complex128), n=6),
    "ifft2": lambda x: mnp.fft.ifft2(x + 1j * x[::-1]),
    "rfft": lambda x: mnp.fft.rfft(x),
    "irfft": lambda x: mnp.fft.irfft(mnp.fft.rfft(x, axis=0), n=5, axis=0),
    "rfftn": lambda x: mnp.fft.rfftn(x, norm="ortho"),
    "irfftn": lambda x: mnp.fft.irfftn(mnp.fft.rfftn(x)),
    "grad_rfft": mg.grad(lambda x: mnp.sum(mnp.abs(mnp.fft.rfft(x)) ** 2)),
    "grad_irfft": mg.grad(lambda x: mnp.sum(mnp.sin(mnp.fft.irfft(mnp.fft.rfft(x) * 1.5)))),
}


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("name", sorted(FFTS))
def test_ffts_under_jit(lib, name):
    x = np.random.default_rng(5).normal(size=(4, 5))
    _check(lib, mg.jit(FFTS[name])(lib.asarray(x)), FFTS[name](x))


# -- control flow ---------------------------------------------------------------------------


def loops(x):
    counted = mg.lax.fori_loop(0, 3, lambda i, c: c * 1.5 + i, x)
    doubled = mg.lax.while_loop(lambda c: c[0] < 10.0, lambda c: c * 2.0, x + 1.0)
    none = mg.lax.while_loop(lambda c: c[0] > 1e9, lambda c: c * 2.0, x)
    branch = mg.lax.cond(x[0] > 0, lambda x: x * 2.0, lambda x: -x, x)
    switched = mg.lax.switch(2, [mnp.sin, mnp.cos, mnp.tanh], x)
    total, prefix = mg.lax.scan(lambda c, y: (c + y, c * y), 0.0, x)
    _, backwards = mg.lax.scan(lambda c, y: (c + y, c), 0.0, x, reverse=True)
    _, nothing = mg.lax.scan(lambda c, y: (c, c * y), 1.0, x[:0])
    return counted, doubled, none, branch, switched, total, prefix, backwards, nothing


def loop_gradients(x):
    def loss(x):
        carry, ys = mg.lax.scan(lambda c, y: (c * mnp.sin(y), c + y), 1.0, x)
        branch = mg.lax.cond(mnp.sum(x) > 0, lambda x: mnp.sum(x**2), lambda x: mnp.sum(x), x)
        counted = mg.lax.fori_loop(0, 4, lambda i, c: mnp.tanh(c * x[0]), x[1])
        return carry + mnp.sum(ys**2) + branch + counted

    return mg.value_and_grad(loss)(x)


def traced_bounds(x, n):
    return mg.lax.fori_loop(0, n, lambda i, c: c + i * x, x)


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("program", [loops, loop_gradients])
def test_control_flow_under_jit(lib, program):
    x = np.random.default_rng(6).normal(size=5) + 0.5
    _check(lib, mg.jit(program)(lib.asarray(x)), program(x))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_loops_with_traced_bounds_and_under_vmap(lib):
    x = np.arange(3.0)
    _check(lib, mg.jit(traced_bounds)(lib.asarray(x), lib.asarray(np.int64(4))), traced_bounds(x, 4))

    def halvings(x):
        return mg.vmap(lambda v: mg.lax.while_loop(lambda c: c > 1.0, lambda c: c * 0.5, v))(x)

    x = np.array([0.5, 3.0, 100.0])
    _check(lib, mg.jit(halvings)(lib.asarray(x)), halvings(x))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_a_loop_body_compiles_once_per_library(lib):
    f = mg.jit(lambda x: mg.lax.scan(lambda c, y: (c + y, c), 0.0, x))
    source = f.lower(lib.asarray(np.arange(3.0))).source
    assert "_scan" in source  # the loop is a call of the compiled body, not unrolled
    _check(lib, f(lib.asarray(np.arange(3.0))), f(np.arange(3.0)))


# -- scatter-add with repeated indices --------------------------------------------------------


def test_segment_sum_by_hand():
    index = np.array([3, 0, 3, 3, 1, 0])
    updates = np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0], [0.5, 0.25], [7.0, 8.0], [1.0, 1.0]])
    want = [[11.0, 21.0], [7.0, 8.0], [0.0, 0.0], [101.5, 202.25], [0.0, 0.0]]
    np.testing.assert_array_equal(segment_sum(np, "cpu", 5, index, updates), want)
    np.testing.assert_array_equal(segment_sum(np, "cpu", 2, index[:0], updates[:0]), np.zeros((2, 2)))


def scatter_programs(x):
    rows = mnp.array([0, 2, 2, -1, 2])
    pairs = (mnp.array([0, 1, 1, 0]), mnp.array([2, 0, 0, 2]))

    def loss(x):
        return (
            mnp.sum(mnp.sin(x[rows]) * mnp.arange(5.0)[:, None])
            + mnp.sum(x[:, mnp.array([1, 1, 0])] ** 2)
            + mnp.sum(x[pairs] ** 3)
        )

    return loss(x), mg.grad(loss)(x)


@pytest.mark.parametrize("one_hot", [True, False], ids=["one_hot", "sorted_segments"])
@pytest.mark.parametrize("lib", LIBRARIES)
def test_scatter_add_with_repeated_indices(lib, one_hot, monkeypatch):
    monkeypatch.setattr(array_api_scatter, "ONE_HOT_LIMIT", 1 << 30 if one_hot else 0)
    x = np.random.default_rng(8).normal(size=(4, 3))
    f = mg.jit(lambda x: scatter_programs(x))  # a new function: a new cache, compiled again
    _check(lib, f(lib.asarray(x)), scatter_programs(x))
    source = f.lower(lib.asarray(x)).source
    if _library(lib) == "array_api_strict":  # torch has index_put_; Dask always one-hot
        assert ("segment_sum" in source) != one_hot
    if _library(lib) == "dask.array":
        assert "segment_sum" not in source


@pytest.mark.parametrize("lib", LIBRARIES)
def test_negative_steps_and_their_gradients(lib):
    # torch takes no negative steps: they become flips, in gathers and in their gradients.
    def loss(x):
        return mnp.sum(x[::-1, 2:0:-1] ** 2 * mnp.arange(1.0, 3.0)) + mnp.sum(mnp.sin(x[1, ::-2, 1:]))

    x = np.random.default_rng(9).normal(size=(4, 3, 2))
    _check(lib, mg.jit(mg.value_and_grad(loss))(lib.asarray(x)), mg.value_and_grad(loss)(x))


# -- x.at[index] updates ----------------------------------------------------------------------

# (index, x's shape): repeated and negative indices, index arrays next to slices, integers
# and new axes (adjacent or not), negative steps, basic indices only.
_AT_INDICES = [
    ((np.array([0, 2, 0, -1]),), (5, 3)),
    ((np.array([0, 2, 0]), slice(None, None, -1)), (5, 3)),
    ((slice(1, 4), np.array([2, 0, 2])), (5, 3)),
    ((np.array([[0, 1], [3, 3]]), slice(None), np.array([1, 0])), (4, 3, 2)),
    ((np.array([1, 1]), 0, np.array([1, 1])), (4, 3, 2)),
    ((None, np.array([1, 1]), slice(None, None, 2)), (4, 3, 2)),
    ((Ellipsis, None, 1), (4, 3, 2)),
    ((slice(None, None, -2), 1), (4, 3, 2)),
]
_AT_DTYPES = [np.float64, np.int64, np.bool_, np.complex128]


def _at_values(rng, shape, dtype):
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    values = rng.normal(size=shape) * 3
    if dtype == np.complex128:
        return values + 1j * rng.normal(size=shape)
    return values.astype(dtype)


@pytest.mark.parametrize("one_hot", [True, False], ids=["one_hot", "sorted_segments"])
@pytest.mark.parametrize("method", ["set", "add", "multiply", "min", "max"])
@pytest.mark.parametrize("lib", LIBRARIES)
def test_at_updates_match_numpy(lib, method, one_hot, monkeypatch):
    # Repeated indices: the last write wins for set, every update counts for the others
    # (np.add.at and friends), whichever way the library combines them.
    monkeypatch.setattr(array_api_scatter, "ONE_HOT_LIMIT", 1 << 30 if one_hot else 0)
    rng = np.random.default_rng(10)
    for (index, shape), dtype in itertools.product(_AT_INDICES, _AT_DTYPES):
        if dtype == np.complex128 and method in ("min", "max"):
            continue
        x = _at_values(rng, shape, dtype)
        updates = _at_values(rng, np.zeros(shape)[index].shape, dtype)
        f = mg.jit(lambda x, u, index=index: getattr(mnp.asarray(x).at[index], method)(u))
        got = mg.device_get(f(*_put(lib, (x, updates))))
        want = getattr(mnp.asarray(x).at[index], method)(updates)
        assert got.dtype == want.dtype, (index, dtype)
        np.testing.assert_allclose(got, want, rtol=1e-13, err_msg=f"{index} {dtype}")


@pytest.mark.parametrize("lib", LIBRARIES)
def test_at_min_max_propagate_nans(lib):
    x, updates = np.array([np.nan, 1.0, 2.0, 3.0]), np.array([5.0, np.nan, -1.0, 7.0])
    index = np.array([0, 1, 1, 3])
    for method in ("min", "max"):
        f = mg.jit(lambda x, u, method=method: getattr(mnp.asarray(x).at[index], method)(u))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's "invalid value" of NaNs
            want = getattr(mnp.asarray(x).at[index], method)(updates)
            got = mg.device_get(f(*_put(lib, (x, updates))))
        np.testing.assert_array_equal(got, want)


def test_at_min_of_complex_numbers_is_refused_by_name():
    torch = pytest.importorskip("torch")
    f = mg.jit(lambda x: x.at[np.array([0, 0])].min(x[:2]))
    with pytest.raises(NotImplementedError, match=r"scatter \(min\) of complex numbers .* torch arrays"):
        f(torch.asarray(np.ones(3, np.complex128)))


def test_scatter_rows_and_element_positions_by_hand():
    positions = element_positions(np, "cpu", (3, 4), (("slice", 2, 0, -1), ("array", 0)), [np.array([3, -4])])
    np.testing.assert_array_equal(positions, [[11, 8], [7, 4]])
    table, where = np.array([[1.0, -1.0], [2.0, -2.0], [3.0, -3.0]]), np.array([2, 0, 2])
    updates = np.array([[4.0, 1.0], [5.0, 1.0], [0.5, 1.0]])
    want = {
        "set": [[5.0, 1.0], [2.0, -2.0], [0.5, 1.0]],
        "add": [[6.0, 0.0], [2.0, -2.0], [7.5, -1.0]],
        "mul": [[5.0, -1.0], [2.0, -2.0], [6.0, -3.0]],
        "min": [[1.0, -1.0], [2.0, -2.0], [0.5, -3.0]],
        "max": [[5.0, 1.0], [2.0, -2.0], [4.0, 1.0]],
    }
    for mode, rows in want.items():
        for one_hot in (True, False):
            np.testing.assert_array_equal(scatter_rows(np, "cpu", mode, one_hot, table, where, updates), rows)


# -- complex numbers from their parts -------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("lib", LIBRARIES)
def test_complex_from_parts_is_exact_bit_for_bit(lib, dtype):
    # Infinities, NaNs, subnormals and the sign of zero in either part, as NumPy's
    # complex_impl writes them (x + 1j * y would make nan of 1j * inf).
    tiny = np.finfo(dtype).smallest_subnormal
    values = np.array([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan, tiny, -tiny, -1e30], dtype=dtype)
    x, y = (a.ravel() for a in np.meshgrid(values, values))
    got = mg.device_get(mg.jit(mg.lax.complex)(*_put(lib, (x, y))))
    want = mg.lax.complex(x, y)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.view(dtype), want.view(dtype))  # NaNs equal, zeros by sign
    np.testing.assert_array_equal(np.signbit(got.view(dtype)), np.signbit(want.view(dtype)))


# -- debug_nans -------------------------------------------------------------------------------


@pytest.mark.parametrize("lib", LIBRARIES)
def test_debug_nans_blames_the_line_inside_a_loop_body(lib):
    def body(c, y):
        return c * y, mnp.sqrt(c - 2.0)  # sqrt of a negative number on the second step

    f = mg.jit(lambda x: mg.lax.scan(body, 3.0, x))
    with mg.debug_nans(True), pytest.raises(FloatingPointError) as caught:
        f(lib.asarray(np.array([0.5, 1.0, 1.0])))
    message = str(caught.value)
    assert "sqrt produced nan from finite inputs" in message
    assert f"test_jit_array_api_extensions.py:{body.__code__.co_firstlineno + 1}" in message
