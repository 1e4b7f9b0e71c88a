"""minigrad.numpy.fft against numpy.fft, and the transposes its derivatives rest on.

The op table (``op_specs_fft.py``) checks derivatives against finite differences and
batching against loops; here: values and dtypes against NumPy for every function, norm,
``n``/``s`` and axes, ``jit`` against eager, each primitive's transpose by the identity
that defines it, JAX's convention for complex inputs, and the errors.
"""

import itertools
import re

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.typecheck import typecheck
from minigrad.ops import fourier as fo
from tests.test_docs import DOCS

NORMS = [None, "backward", "ortho", "forward"]
RNG = np.random.default_rng(0)
REAL = RNG.standard_normal((3, 4, 5))
COMPLEX = REAL + 1j * RNG.standard_normal(REAL.shape)

ONE_AXIS = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
SEVERAL_AXES = ["fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2", "rfft2", "irfft2"]
REAL_INPUT_ONLY = {"rfft", "ihfft", "rfftn", "rfft2"}

ONE_AXIS_KWARGS = [{}, {"n": 3}, {"n": 8}, {"axis": 0}, {"axis": 1, "n": 7}, {"axis": -2, "n": 1}]
SEVERAL_AXES_KWARGS = [
    {},
    {"axes": (0, 2)},
    {"axes": (2, 0)},
    {"axes": (1,)},
    {"s": (2, 5, 3), "axes": (1, 0, 2)},
    {"s": (6, 2), "axes": (-1, 0)},
]


def _inputs(name):
    return [REAL] if name in REAL_INPUT_ONLY else [REAL, COMPLEX]


def _check_like_numpy(name, a, kwargs):
    expected = getattr(np.fft, name)(a, **kwargs)
    got = getattr(mnp.fft, name)(a, **kwargs)
    assert isinstance(got, np.ndarray)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    jitted = mg.jit(lambda a: getattr(mnp.fft, name)(a, **kwargs))(a)
    np.testing.assert_allclose(jitted, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ONE_AXIS)
def test_one_axis_transforms_match_numpy(name, norm):
    for a in _inputs(name):
        for kwargs in ONE_AXIS_KWARGS:
            _check_like_numpy(name, a, {**kwargs, "norm": norm})


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", SEVERAL_AXES)
def test_several_axes_transforms_match_numpy(name, norm):
    for a in _inputs(name):
        for kwargs in SEVERAL_AXES_KWARGS:
            if name.endswith("2") and len(kwargs.get("axes", (0, 1))) != 2:
                continue
            _check_like_numpy(name, a, {**kwargs, "norm": norm})


@pytest.mark.parametrize("name", ONE_AXIS + SEVERAL_AXES)
def test_dtypes_follow_numpy(name):
    dtypes = [np.float32, np.float64, np.int32, np.bool_]
    if name not in REAL_INPUT_ONLY:
        dtypes += [np.complex64, np.complex128]
    for dtype in dtypes:
        a = np.ones((2, 4), dtype)
        assert getattr(mnp.fft, name)(a).dtype == getattr(np.fft, name)(a).dtype, dtype
    assert getattr(mnp.fft, name)([[1.0, 2.0], [3.0, 4.0]]).shape == getattr(np.fft, name)(np.eye(2)).shape


def test_frequencies_and_shifts_match_numpy():
    for n in (1, 2, 5, 8):
        for d in (1.0, 0.3, 2):
            np.testing.assert_array_equal(mnp.fft.fftfreq(n, d), np.fft.fftfreq(n, d))
            np.testing.assert_array_equal(mnp.fft.rfftfreq(n, d), np.fft.rfftfreq(n, d))
    for axes in (None, 0, (1, 2), -1, (2, 0)):
        for name in ("fftshift", "ifftshift"):
            for a in (REAL, COMPLEX):
                np.testing.assert_array_equal(getattr(mnp.fft, name)(a, axes), getattr(np.fft, name)(a, axes))
    d = np.float64(0.3)
    np.testing.assert_array_equal(mg.jit(mnp.fft.fftfreq, static_argnums=0)(5, d), np.fft.fftfreq(5, d))
    np.testing.assert_array_equal(mg.jit(mnp.fft.rfftfreq, static_argnums=0)(5, d), np.fft.rfftfreq(5, d))
    np.testing.assert_array_equal(mg.jit(mnp.fft.fftshift)(COMPLEX), np.fft.fftshift(COMPLEX))
    np.testing.assert_array_equal(mg.jit(mnp.fft.ifftshift)(REAL), np.fft.ifftshift(REAL))
    # A traced spacing: d/dd of k / (n d) is -k / (n d²); the bins of fftfreq(4) sum to
    # k = -2 and the last of rfftfreq(4) is k = 2, so at d = 2: 2/16 - 3 · 2/16.
    grad = mg.grad(lambda d: mnp.fft.fftfreq(4, d).sum() + 3 * mnp.fft.rfftfreq(4, d)[-1])(np.float64(2.0))
    np.testing.assert_allclose(grad, -0.25)


def test_jit_of_gradients_equals_eager():
    w = RNG.standard_normal(3)

    def loss(x):
        spectrum = mnp.fft.rfft(x, norm="ortho")
        smooth = mnp.fft.irfft(spectrum * w, n=x.shape[-1], norm="ortho")
        return (smooth**2).sum() + (mnp.fft.hfft(mnp.fft.ifft(x), n=5) ** 2).sum()

    x = RNG.standard_normal((2, 4))
    eager = mg.grad(loss)(x)
    np.testing.assert_allclose(mg.jit(mg.grad(loss))(x), eager, rtol=1e-12)
    np.testing.assert_allclose(mg.grad(mg.jit(loss))(x), eager, rtol=1e-12)
    typecheck(mg.make_jaxpr(mg.grad(loss))(x))


def test_vmap_over_any_axis_equals_a_loop():
    xs = RNG.standard_normal((3, 4, 6))
    for in_axis in (0, 1, 2):
        got = mg.vmap(lambda x: mnp.fft.rfftn(x, axes=(-1, 0), norm="ortho"), in_axes=in_axis)(xs)
        expected = np.stack(
            [np.fft.rfftn(x, axes=(-1, 0), norm="ortho") for x in np.moveaxis(xs, in_axis, 0)]
        )
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------
# Transposes. JAX pairs a cotangent c with a tangent dz by Re Σ c·dz (no conjugate), so
# the VJP of a linear map A is the A^T that satisfies Re Σ c·(A x) == Re Σ (A^T c)·x.


def _random_like(aval_shape, dtype):
    x = RNG.standard_normal(aval_shape)
    return x + 1j * RNG.standard_normal(aval_shape) if np.dtype(dtype).kind == "c" else x


def _pairing(a, b):
    return np.real(np.sum(a * b))


PRIMITIVE_CASES = [
    # (function of one array, input shape, input dtype)
    *[
        (lambda z, axes=axes, inverse=inverse, norm=norm: fo.fft(z, axes, inverse, norm), (3, 4, 5), complex)
        for axes in [(0,), (2,), (2, 0), (0, 1, 2)]
        for inverse in (False, True)
        for norm in fo.NORMS
    ],
    *[
        (lambda x, axes=axes, norm=norm, flags=flags: fo.rfft(x, axes, norm, *flags), shape, float)
        for shape, axes in [
            ((6,), (0,)),
            ((5,), (0,)),
            ((3, 4, 5), (2, 0)),
            ((3, 4, 6), (1, 0, 2)),
            ((2, 3), ()),
        ]
        for norm in fo.NORMS
        for flags in itertools.product((False, True), repeat=2)
    ],
    *[
        (lambda c, axes=axes, n=n, norm=norm, flags=flags: fo.irfft(c, axes, n, norm, *flags), shape, complex)
        for shape, axes, n in [
            ((4,), (0,), 6),
            ((3,), (0,), 5),
            ((1,), (0,), 1),
            ((3, 4, 3), (2, 0), 4),
            ((3, 4, 4), (1, 0, 2), 7),
            ((2, 3), (), None),
        ]
        for norm in fo.NORMS
        for flags in itertools.product((False, True), repeat=2)
    ],
]


@pytest.mark.parametrize("case", range(len(PRIMITIVE_CASES)))
def test_each_primitive_vjp_is_its_transpose(case):
    fun, shape, dtype = PRIMITIVE_CASES[case]
    x = _random_like(shape, dtype)
    y, vjp_fun = mg.vjp(fun, x)
    ct = _random_like(y.shape, y.dtype)
    (x_ct,) = vjp_fun(ct)
    assert x_ct.dtype == x.dtype and x_ct.shape == x.shape
    np.testing.assert_allclose(_pairing(ct, fun(x)), _pairing(x_ct, x), rtol=1e-10)
    # Linear: the JVP is the map itself.
    np.testing.assert_allclose(mg.jvp(fun, (x,), (x,))[1], y, rtol=1e-12)


@pytest.mark.parametrize("name", ONE_AXIS + SEVERAL_AXES)
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_public_transforms_vjp_is_their_transpose(name, norm):
    kwargs = {"n": 7} if name in ONE_AXIS else {"s": (2, 6)}
    fun = lambda a: getattr(mnp.fft, name)(a, norm=norm, **kwargs)  # noqa: E731
    for x in _inputs(name):
        y, vjp_fun = mg.vjp(fun, x)
        ct = _random_like(y.shape, y.dtype)
        (x_ct,) = vjp_fun(ct)
        assert x_ct.dtype == x.dtype and x_ct.shape == x.shape
        np.testing.assert_allclose(_pairing(ct, y), _pairing(x_ct, x), rtol=1e-10)


def test_adjoint_of_fft_is_n_times_ifft():
    # The conjugate transpose (the adjoint) is conj(VJP(conj(ct))); for fft it is n·ifft.
    z, ct = COMPLEX[0, 0], COMPLEX[1, 1]
    _, vjp_fun = mg.vjp(mnp.fft.fft, z)
    adjoint = np.conj(vjp_fun(np.conj(ct))[0])
    np.testing.assert_allclose(adjoint, 5 * np.fft.ifft(ct), rtol=1e-12)


def _wirtinger_by_finite_differences(f, z, eps=1e-6):
    """JAX's gradient of a real f of complex z: ∂f/∂x - i ∂f/∂y, element by element."""
    grad = np.zeros_like(z)
    for index in np.ndindex(z.shape):
        step = np.zeros_like(z)
        step[index] = eps
        d_real = (f(z + step) - f(z - step)) / (2 * eps)
        d_imag = (f(z + 1j * step) - f(z - 1j * step)) / (2 * eps)
        grad[index] = d_real - 1j * d_imag
    return grad


@pytest.mark.parametrize(
    "f",
    [
        lambda z: (mnp.fft.irfft(mnp.fft.fft(z, norm="ortho"), n=7) ** 2).sum(),
        lambda z: (mnp.fft.hfft(mnp.fft.ifftn(z), n=5) ** 3).sum(),
        lambda z: mnp.fft.irfft2(mnp.fft.fftshift(z), s=(3, 3))[0, 1],
    ],
    ids=["fft_irfft", "ifftn_hfft", "fftshift_irfft2"],
)
def test_gradients_of_complex_inputs_follow_jax(f):
    z = COMPLEX[:2, :3, 0]
    np.testing.assert_allclose(mg.grad(f)(z), _wirtinger_by_finite_differences(f, z), rtol=1e-6, atol=1e-8)


def test_float32_stays_float32():
    x = RNG.standard_normal(8).astype(np.float32)
    assert mnp.fft.rfft(x).dtype == np.complex64
    grad = mg.grad(lambda x: (mnp.fft.irfft(mnp.fft.rfft(x)) ** 2).sum())(x)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-5)


def test_hand_computed_gradients():
    # fft(x)[k] = Σ x_j e^{-2πijk/n}: bin 1 of a 4-point fft has derivatives e^{-iπj/2}.
    x = np.array([1.0, 2.0, 3.0, 4.0])
    bin_one = mg.jacfwd(lambda x: mnp.fft.fft(x)[1])(x)
    np.testing.assert_allclose(bin_one, [1, -1j, -1, 1j], atol=1e-15)
    first = mg.grad(lambda x: mnp.fft.hfft(x)[0])(x)  # x0 + 2 x1 + 2 x2 + x3, for n = 6 points
    np.testing.assert_allclose(first, [1, 2, 2, 1])
    spectrum_bin_one = mg.jacfwd(lambda x: mnp.fft.ihfft(x)[1:2])(x)  # conj(fft(x))[1] / 4
    np.testing.assert_allclose(spectrum_bin_one, [[0.25, 0.25j, -0.25, -0.25j]], atol=1e-15)


# ---------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: mnp.fft.fft(REAL, norm="unitary"), ValueError, r"fft: norm='unitary' is not one of"),
        (lambda: mnp.fft.rfft(COMPLEX), TypeError, r"rfft: the input must be real, got complex128; use fft"),
        (lambda: mnp.fft.ihfft(COMPLEX), TypeError, r"ihfft: the input must be real"),
        (lambda: mnp.fft.fft(REAL, n=0), ValueError, r"fft: invalid number of data points n=0"),
        (
            lambda: mnp.fft.fft(np.ones((2, 0))),
            ValueError,
            r"fft: invalid number of data points n=0 \(the length of axis 1\)",
        ),
        (
            lambda: mnp.fft.irfft(np.ones(1)),
            ValueError,
            r"irfft: invalid number of data points n=0 \(from 1 input bins\)",
        ),
        (lambda: mnp.fft.fftn(REAL, axes=(0, -3)), ValueError, r"fftn: repeated axes \(0, 0\)"),
        (lambda: mnp.fft.rfftn(REAL, s=(2, 3), axes=(0,)), ValueError, r"rfftn: s=\(2, 3\) and axes=\(0,\)"),
        (lambda: mnp.fft.rfftn(REAL, axes=()), ValueError, r"rfftn: at least one axis"),
        (lambda: mnp.fft.fft(np.float64(1.0)), ValueError, r"fft: axis -1 is out of bounds"),
        (lambda: mnp.fft.fft(np.array(["a"])), TypeError, r"fft: expected numbers"),
        (lambda: mnp.fft.fftfreq(0), ValueError, r"fftfreq: n=0 must be a positive"),
        (lambda: mnp.fft.rfftfreq(3, device="gpu"), ValueError, r"rfftfreq: minigrad arrays live on the CPU"),
    ],
)
def test_errors_name_the_function_and_the_fix(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_api_page_names_every_fft_export():
    text = (DOCS / "api/numpy.md").read_text()
    section = text[text.index("## `fft`") :]
    missing = [name for name in mnp.fft.__all__ if not re.search(rf"`{re.escape(name)}[`(]", section)]
    assert not missing, f"api/numpy.md's fft section does not document {missing}"


def test_fft_pads_inside_its_primitive_and_its_gradient_crops():
    # n > length: no padded copy in the program, and the cotangent is cropped back.
    z = np.array([1.0 + 2.0j, -0.5j, 3.0, 0.25 - 1.0j, 2.0])
    program = str(mg.make_jaxpr(lambda z: mnp.fft.fft(z, n=8))(z))
    assert "pad" not in program and "sizes=(8,)" in program
    np.testing.assert_allclose(mnp.fft.fft(z, n=8), np.fft.fft(z, n=8), rtol=1e-13)
    weights = np.arange(8.0)
    grad = mg.grad(lambda x: mnp.sum(weights * mnp.real(mnp.fft.fft(x, n=8))))(z.real)
    np.testing.assert_allclose(grad, np.real(np.fft.fft(np.eye(8)[:5], axis=1)) @ weights, rtol=1e-12)
