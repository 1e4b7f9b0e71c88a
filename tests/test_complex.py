"""Complex numbers through every transform, checked against the mathematics.

The conventions (docs/complex.md, JAX's): ``jvp`` is the pushforward of the real-linear
derivative, ``J(t) = lim (f(z + h t) - f(z - h t)) / 2h`` for real ``h``; ``vjp(ct)`` is
its transpose under ``<a, b> = Re(a * b)``, so ``Re(vjp(ct) * t) = Re(ct * J(t))`` for
every ``t``. Taking ``t = 1`` and ``t = 1j`` gives ``vjp(ct) = Re(ct J(1)) - 1j Re(ct
J(1j))``, which is what every reverse-mode test below compares with, built from finite
differences alone. The real-to-real rows of ``tests/op_specs_complex.py`` check the same
rules to second order, batched and compiled.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.core.typecheck import typecheck

Z = np.array([1.1 + 1.2j, -0.7 + 0.4j, 0.3 - 1.6j])
T = np.array([1.0 + 0.5j, -0.2 + 1.0j, 0.6 - 0.3j])  # a tangent
CT = np.array([0.4 - 0.9j, 1.3 + 0.2j, -0.5 + 0.7j])  # a cotangent
H = 1e-6
TOL = dict(rtol=1e-6, atol=1e-8)


def directional(f, z, t):
    """``J(t)`` of ``f`` at ``z`` by central differences along the real ``h * t``."""
    return (np.asarray(f(z + H * t)) - np.asarray(f(z - H * t))) / (2 * H)


def transposed(f, z, ct):
    """The cotangent ``Re(ct J(1)) - 1j Re(ct J(1j))`` of an elementwise ``f``."""
    along_real = np.real(ct * directional(f, z, np.ones_like(z)))
    along_imag = np.real(ct * directional(f, z, 1j * np.ones_like(z)))
    return along_real - 1j * along_imag


HOLOMORPHIC = {
    "exp": np.exp, "log": np.log, "log1p": np.log1p, "expm1": np.expm1, "sqrt": np.sqrt,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh, "arctan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "arcsin": np.arcsin, "arccos": np.arccos,
    "arcsinh": np.arcsinh, "arccosh": np.arccosh, "arctanh": np.arctanh, "exp2": np.exp2,
    "log2": np.log2, "log10": np.log10, "square": np.square, "reciprocal": np.reciprocal,
    "negative": np.negative,
}  # fmt: skip
HOLOMORPHIC_EXPRESSIONS = {
    "mul_div": (lambda z: (z * (2 - 1j) + 3) / (z + 0.5j), None),
    "power_complex_exponent": (lambda z: z ** (0.5 + 0.25j), None),
    "power_of_itself": (lambda z: mnp.power(z, z), lambda z: np.power(z, z)),
    "integer_power": (lambda z: z**3 - 2 * z**-2, None),
}


def _holomorphic_cases():
    for name, np_fun in HOLOMORPHIC.items():
        yield pytest.param(getattr(mnp, name), np_fun, id=name)
    for name, (fun, np_fun) in HOLOMORPHIC_EXPRESSIONS.items():
        yield pytest.param(fun, np_fun or fun, id=name)


@pytest.mark.parametrize("fun, np_fun", list(_holomorphic_cases()))
def test_holomorphic_functions_against_complex_finite_differences(fun, np_fun):
    np.testing.assert_allclose(fun(Z), np_fun(Z), rtol=1e-13)
    derivative = directional(np_fun, Z, np.ones_like(Z))
    # Holomorphic: the difference quotient is the same along 1j (Cauchy-Riemann).
    np.testing.assert_allclose(directional(np_fun, Z, 1j * np.ones_like(Z)), 1j * derivative, **TOL)
    _, tangent = mg.jvp(fun, (Z,), (T,))
    np.testing.assert_allclose(tangent, directional(np_fun, Z, T), **TOL)
    np.testing.assert_allclose(tangent, derivative * T, **TOL)
    _, vjp_fn = mg.vjp(fun, Z)
    (cotangent,) = vjp_fn(CT)
    # The transpose of multiplication by f'(z) is multiplication by f'(z): no conjugate.
    np.testing.assert_allclose(cotangent, transposed(np_fun, Z, CT), **TOL)
    np.testing.assert_allclose(cotangent, derivative * CT, **TOL)


@pytest.mark.parametrize(
    "fun",
    [
        lambda z: mnp.cumsum(z) * mnp.cumprod(z),
        lambda z: np.outer(np.arange(1.0, 4.0), 1j - np.arange(3.0)) @ mnp.exp(z),
        lambda z: mnp.sum(z * z[::-1]) * mnp.sin(z),
    ],
    ids=["cumsum_cumprod", "matmul", "sum_reverse"],
)
def test_holomorphic_maps_of_vectors_use_the_jacobian_and_its_transpose(fun):
    # The complex Jacobian J[i, j] = dF_i/dz_j by differences along basis vectors;
    # jvp is J t and vjp is J^T ct (a transpose, no conjugate).
    jacobian = np.stack([directional(fun, Z, e) for e in np.eye(3, dtype=complex)], axis=1)
    np.testing.assert_allclose(
        np.stack([directional(fun, Z, 1j * e) for e in np.eye(3)], axis=1), 1j * jacobian, **TOL
    )
    np.testing.assert_allclose(mg.jvp(fun, (Z,), (T,))[1], jacobian @ T, **TOL)
    np.testing.assert_allclose(mg.vjp(fun, Z)[1](CT)[0], jacobian.T @ CT, **TOL)
    np.testing.assert_allclose(mg.jacfwd(fun)(Z), jacobian, **TOL)
    np.testing.assert_allclose(mg.jacrev(fun)(Z), jacobian, **TOL)


@pytest.mark.parametrize("name", ["exp", "sin", "log", "tanh", "sqrt"])
def test_grad_holomorphic_is_the_complex_derivative(name):
    for z in Z:
        got = mg.grad(getattr(mnp, name), holomorphic=True)(z)
        want = directional(getattr(np, name), z, 1.0)
        assert got.dtype == np.complex128
        np.testing.assert_allclose(got, want, **TOL)


NON_HOLOMORPHIC = {
    "abs": (mnp.abs, np.abs),
    "real": (mnp.real, np.real),
    "imag": (mnp.imag, np.imag),
    "conj": (mnp.conj, np.conj),
    "angle": (mnp.angle, np.angle),
    "sign": (mnp.sign, np.sign),
    "abs_squared": (lambda z: z * mnp.conj(z), lambda z: z * np.conj(z)),
    "lax_complex_of_parts": (
        lambda z: mg.lax.complex(mnp.imag(z) ** 2, mnp.real(z) * 3.0),
        lambda z: np.imag(z) ** 2 + 3j * np.real(z),
    ),
    "mixed": (lambda z: mnp.exp(mnp.conj(z)) * mnp.abs(z), lambda z: np.exp(np.conj(z)) * np.abs(z)),
}


@pytest.mark.parametrize("name", sorted(NON_HOLOMORPHIC))
def test_non_holomorphic_functions_are_the_real_linear_map_and_its_transpose(name):
    fun, np_fun = NON_HOLOMORPHIC[name]
    out, tangent = mg.jvp(fun, (Z,), (T,))
    np.testing.assert_allclose(out, np_fun(Z), rtol=1e-13)
    assert out.dtype == np_fun(Z).dtype and tangent.dtype == out.dtype
    np.testing.assert_allclose(tangent, directional(np_fun, Z, T), **TOL)
    _, vjp_fn = mg.vjp(fun, Z)
    ct = CT if np.iscomplexobj(out) else np.real(CT)
    (cotangent,) = vjp_fn(ct)
    assert cotangent.dtype == np.complex128
    np.testing.assert_allclose(cotangent, transposed(np_fun, Z, ct), **TOL)


def test_the_examples_of_the_issue_and_of_jax():
    z = 1.1 + 1.2j
    # |z| moves by Re(conj(z) t) / |z|: (1.1 * 1 + 1.2 * 0.5) / |z|.
    _, tangent = mg.jvp(mnp.abs, (z,), (1 + 0.5j,))
    np.testing.assert_allclose(tangent, 1.7 / np.abs(z), rtol=1e-14)
    np.testing.assert_allclose(tangent, 1.0443017, rtol=1e-7)
    # JAX: grad(abs)(z) = conj(z) / |z|, the conjugate of the direction of steepest ascent.
    np.testing.assert_allclose(mg.grad(mnp.abs)(z), np.conj(z) / np.abs(z), rtol=1e-14)
    # JAX's autodiff cookbook: f = x^2 + y^2 at 3 + 4j has grad 6 - 8j (df/dx - 1j df/dy).
    np.testing.assert_allclose(mg.grad(lambda z: mnp.real(z) ** 2 + mnp.imag(z) ** 2)(3.0 + 4.0j), 6 - 8j)
    np.testing.assert_allclose(mg.grad(lambda z: mnp.abs(z) ** 2)(3.0 + 4.0j), 6 - 8j, rtol=1e-14)
    # ... and grad(sin, holomorphic=True)(3 + 4j) = cos(3 + 4j).
    np.testing.assert_allclose(mg.grad(mnp.sin, holomorphic=True)(3.0 + 4.0j), np.cos(3.0 + 4.0j), rtol=1e-14)
    # Gradient descent on a real loss of z steps along the conjugate of grad.
    assert mg.grad(mnp.abs)(0j) == 0  # abs'(0) = 0, as for real numbers


def test_a_complex_cotangent_reaching_a_real_input_keeps_its_real_part():
    x = np.array([2.0, -1.0, 0.5])
    c = np.array([[1.0 + 2.0j, 0.5j, -1.0], [3.0 - 1.0j, 1.0 + 1.0j, 2.0j]])
    out, vjp_fn = mg.vjp(lambda x: x * c, x)  # x is broadcast and made complex
    assert out.dtype == np.complex128
    ct = np.full((2, 3), 1.0 - 0.5j)
    (got,) = vjp_fn(ct)
    assert got.dtype == np.float64 and got.shape == (3,)
    np.testing.assert_allclose(got, np.sum(np.real(ct * c), axis=0), rtol=1e-14)
    # A cotangent along 1j reaches x as -Im(c): the transpose of t -> c t restricted to reals.
    (got,) = vjp_fn(np.full((2, 3), 1j))
    np.testing.assert_allclose(got, np.sum(-np.imag(c), axis=0), rtol=1e-14)
    # And grad of a real function of real inputs through complex steps is the real one.
    got = mg.grad(lambda x: mnp.sum(mnp.abs(mnp.exp(1j * x) * (x + 2.0))))(x)
    np.testing.assert_allclose(got, np.sign(x + 2.0), rtol=1e-14)


def test_grad_of_a_complex_output_raises_unless_holomorphic():
    with pytest.raises(
        TypeError, match="grad: the output of .* is complex \\(complex128\\).*holomorphic=True"
    ):
        mg.grad(mnp.sin)(1.0 + 1.0j)
    with pytest.raises(TypeError, match="is complex"):
        mg.grad(lambda x: x * 1j)(2.0)  # a real input does not help
    with pytest.raises(TypeError, match="holomorphic=True needs complex inputs.*dtype float64"):
        mg.grad(mnp.sin, holomorphic=True)(1.0)
    with pytest.raises(TypeError, match="needs a complex output"):
        mg.grad(mnp.abs, holomorphic=True)(1.0 + 1.0j)
    # vjp pulls back any chosen cotangent, complex outputs included.
    _, vjp_fn = mg.vjp(mnp.sin, 1.0 + 1.0j)
    np.testing.assert_allclose(vjp_fn(1j)[0], 1j * np.cos(1.0 + 1.0j), rtol=1e-14)
    value, g = mg.value_and_grad(lambda z: z * z, holomorphic=True)(np.complex64(1.0 + 2.0j))
    assert value.dtype == g.dtype == np.complex64
    np.testing.assert_allclose(g, 2 + 4j, rtol=1e-6)


def test_promotion_follows_numpy_2():
    f32 = np.ones(2, np.float32)
    cases = [
        (lambda: f32 * 1j, np.complex64),  # a Python complex is weak
        (lambda: f32 + np.ones(2, np.complex128), np.complex128),
        (lambda: f32 + np.complex64(1j), np.complex64),
        (lambda: np.arange(2) + 1j, np.complex128),
        (lambda: np.ones(2, np.complex64) * 2.5, np.complex64),
    ]
    for make, dtype in cases:
        assert make().dtype == dtype  # NumPy itself, as the reference
    as_traced = [
        mg.jit(lambda x: x * 1j)(f32),
        mg.jit(lambda x, w: x + w)(f32, np.ones(2, np.complex128)),
        mg.jit(lambda x: x + np.complex64(1j))(f32),
        mg.jit(lambda k: k + 1j)(np.arange(2)),
        mg.jit(lambda z: z * 2.5)(np.ones(2, np.complex64)),
        mg.vmap(lambda x: mnp.exp(1j * x))(f32),
    ]
    for got, (_, dtype) in zip(as_traced, [*cases, (None, np.complex64)], strict=True):
        assert got.dtype == dtype
    # Gradients have their primal's dtype: float32 through complex64 stays float32.
    g = mg.grad(lambda x: mnp.sum(mnp.abs(x * (1 + 1j))))(f32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, np.sqrt(2.0), rtol=1e-6)
    g = mg.grad(lambda z: mnp.sum(mnp.real(z * z)))(np.ones(2, np.complex64) * (1 + 1j))
    assert g.dtype == np.complex64
    np.testing.assert_allclose(g, 2 + 2j, rtol=1e-6)  # Re(z^2) = x^2 - y^2: 2x + 2y*1j


def _real_loss(z):
    return mnp.sum(mnp.abs(mnp.sin(z) * mnp.conj(z)) + mnp.angle(z) + mnp.real(mnp.log(z)) * mnp.imag(z))


def test_vmap_of_complex_functions_is_the_loop():
    zs = np.stack([Z, Z * (0.5 - 1j), Z + 1j])
    for fun in [
        mg.grad(_real_loss),
        lambda z: mg.jvp(mnp.tan, (z,), (T,))[1],
        lambda z: mnp.sign(z) * mnp.abs(z),
    ]:
        batched = mg.vmap(fun)(zs)
        np.testing.assert_allclose(batched, np.stack([fun(z) for z in zs]), rtol=1e-13)
    typecheck(mg.make_jaxpr(mg.vmap(mg.grad(_real_loss)))(zs))


def test_jit_of_complex_functions_is_eager():
    for fun in [
        _real_loss,
        mg.grad(_real_loss),
        lambda z: mnp.conj(z) * mnp.abs(z) + mg.lax.complex(mnp.real(z), 1.0),
    ]:
        np.testing.assert_allclose(mg.jit(fun)(Z), fun(Z), rtol=1e-13)
        np.testing.assert_allclose(
            mg.jit(fun)(Z.astype(np.complex64)), fun(Z.astype(np.complex64)), rtol=1e-5
        )
        assert mg.jit(fun)(Z.astype(np.complex64)).dtype == np.asarray(fun(Z.astype(np.complex64))).dtype
    typecheck(mg.make_jaxpr(mg.grad(_real_loss))(Z))


def test_numpy_complex_functions_accept_traced_complex_arrays():
    z = np.array([1.0 + 0.0j, 2.0 - 3.0j, -0.0 + 0.5j])

    def parts(z):
        return (mnp.real(z), mnp.imag(z), mnp.conj(z), mnp.conjugate(z), mnp.angle(z, deg=True),
                mnp.iscomplex(z), mnp.isreal(z), z.real, z.imag, z.conj())  # fmt: skip

    want = (np.real(z), np.imag(z), np.conj(z), np.conjugate(z), np.angle(z, deg=True),
            np.iscomplex(z), np.isreal(z), z.real, z.imag, z.conj())  # fmt: skip
    for transform in [
        mg.jit,
        lambda f: lambda z: mg.vmap(f)(z[None]),
        lambda f: lambda z: mg.jvp(f, (z,), (z,))[0],
    ]:
        for got, expected in zip(transform(parts)(z), want, strict=True):
            got = np.asarray(got)
            got = got[0] if got.shape != expected.shape else got
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(got, expected)
    assert mg.jit(lambda z: mnp.iscomplexobj(z) and not mnp.isrealobj(z))(z)


def test_complex_maximum_and_minimum_order_lexicographically_as_numpy():
    a = np.array([1.0 + 1.0j, 2.0 - 1.0j, 1.0 + 1.0j])
    b = np.array([1.0 + 2.0j, 1.0 - 1.0j, 1.0 + 1.0j])
    np.testing.assert_array_equal(mnp.maximum(a, b), np.maximum(a, b))
    np.testing.assert_array_equal(mnp.minimum(a, b), np.minimum(a, b))
    got = mg.grad(lambda a: mnp.sum(mnp.real(mnp.maximum(a, b) * (1 - 2j))))(a)
    # Re((1 - 2j) w) moves by Re((1 - 2j) t): gradient 1 - 2j where a wins, half on a tie.
    np.testing.assert_allclose(got, [0, 1 - 2j, 0.5 - 1j])


def test_var_and_std_of_complex_numbers_are_real():
    np.testing.assert_allclose(mnp.var(Z), np.var(Z), rtol=1e-14)
    assert mnp.std(Z.astype(np.complex64)).dtype == np.float32
    got = mg.grad(mnp.var)(Z)
    # var = mean |z - mean|^2, whose gradient (df/dx - 1j df/dy) is 2 conj(z - mean) / n.
    np.testing.assert_allclose(got, 2 * np.conj(Z - Z.mean()) / Z.size, rtol=1e-13)
