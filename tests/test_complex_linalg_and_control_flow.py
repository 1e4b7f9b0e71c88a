"""Complex arrays through ``mnp.linalg`` and ``minigrad.lax`` control flow.

Values against NumPy (and a Python loop); derivatives by ``check_grads``, whose complex
directions check holomorphic and non-holomorphic rules alike; holomorphic gradients
against the complex derivative (a finite difference along a real step); non-holomorphic
ones against JAX where it is installed. The factorizations whose rules conjugate
(``cholesky``, ``qr``, ``eigh``, ``svd``...) are tested in ``test_complex_decompositions``.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.testing import check_grads

la = mnp.linalg
RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3)) + 3.0 * np.eye(3)
STACK = RNG.standard_normal((2, 3, 3)) + 1j * RNG.standard_normal((2, 3, 3)) + 3.0 * np.eye(3)
B = RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))

# (name, minigrad function, NumPy function, arguments)
CASES = [
    ("inv", la.inv, np.linalg.inv, (STACK,)),
    ("solve", la.solve, np.linalg.solve, (A, B)),
    ("det", la.det, np.linalg.det, (STACK,)),
    ("slogdet_sign", lambda a: la.slogdet(a)[0], lambda a: np.linalg.slogdet(a)[0], (STACK,)),
    ("slogdet_logabsdet", lambda a: la.slogdet(a)[1], lambda a: np.linalg.slogdet(a)[1], (STACK,)),
    ("matrix_power", lambda a: la.matrix_power(a, -2), lambda a: np.linalg.matrix_power(a, -2), (A,)),
    ("tensorinv", lambda a: la.tensorinv(a, ind=1), lambda a: np.linalg.tensorinv(a, ind=1), (A,)),
    ("multi_dot", lambda a, b: la.multi_dot([a, a, b]), lambda a, b: np.linalg.multi_dot([a, a, b]), (A, B)),
    ("norm_fro", la.norm, np.linalg.norm, (A,)),
    ("norm_vector", lambda a: la.norm(a, axis=0), lambda a: np.linalg.norm(a, axis=0), (A,)),
    ("norm_1", lambda a: la.norm(a, 1), lambda a: np.linalg.norm(a, 1), (A,)),
    ("norm_inf_vector", lambda a: la.norm(a[0], np.inf), lambda a: np.linalg.norm(a[0], np.inf), (A,)),
    ("norm_3", lambda a: la.norm(a[1], 3), lambda a: np.linalg.norm(a[1], 3), (A,)),
]


@pytest.mark.parametrize("name,ours,numpys,args", CASES, ids=[c[0] for c in CASES])
def test_complex_linalg_values_and_dtypes_match_numpy(name, ours, numpys, args):
    got, want = ours(*args), numpys(*args)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    small = tuple(np.asarray(a, np.complex64) for a in args)
    assert np.asarray(ours(*small)).dtype == np.asarray(numpys(*small)).dtype


@pytest.mark.parametrize("name,ours,numpys,args", CASES, ids=[c[0] for c in CASES])
def test_complex_linalg_derivatives_agree_with_finite_differences(name, ours, numpys, args):
    check_grads(ours, args, order=2 if name != "multi_dot" else 1)


def _complex_derivative(f, z, index):
    """df/dz_index of a holomorphic f, as a central difference along a real step."""
    step = np.zeros_like(z)
    step[index] = 1e-6
    return (f(z + step) - f(z - step)) / 2e-6


def test_holomorphic_gradients_of_det_and_inv_are_the_complex_derivatives():
    grad_det = mg.grad(la.det, holomorphic=True)(A)
    np.testing.assert_allclose(grad_det, np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-10)  # Jacobi
    first_entry_of_inverse = mg.grad(lambda a: la.inv(a)[0, 1], holomorphic=True)(A)
    for index in np.ndindex(3, 3):
        expected = _complex_derivative(lambda a: np.linalg.inv(a)[0, 1], A, index)
        np.testing.assert_allclose(first_entry_of_inverse[index], expected, rtol=1e-6, atol=1e-9)
    with pytest.raises(TypeError, match="holomorphic"):
        mg.grad(la.det)(A)  # a complex output needs holomorphic=True


def test_non_holomorphic_linalg_gradients_match_jax():
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        jla = jax.numpy.linalg
        pairs = [
            (lambda a: la.slogdet(a)[1], lambda a: jla.slogdet(a)[1]),
            (lambda a: mnp.real(la.slogdet(a)[0]) + mnp.imag(la.slogdet(a)[0]) * 0.3,
             lambda a: jax.numpy.real(jla.slogdet(a)[0]) + jax.numpy.imag(jla.slogdet(a)[0]) * 0.3),
            (la.norm, jla.norm),
            (lambda a: mnp.abs(la.det(a)), lambda a: jax.numpy.abs(jla.det(a))),
            (lambda a: mnp.sum(mnp.real(la.inv(a)) * 0.5 + mnp.imag(la.solve(a, B)[:, 0])),
             lambda a: jax.numpy.sum(jax.numpy.real(jla.inv(a)) * 0.5 + jax.numpy.imag(jla.solve(a, B)[:, 0]))),
        ]  # fmt: skip
        for ours, theirs in pairs:
            np.testing.assert_allclose(mg.grad(ours)(A), np.asarray(jax.grad(theirs)(A)), rtol=1e-10)


# ---------------------------------------------------------------------------------------
# lax control flow with complex carries

Z = np.array([0.3 + 0.4j, -0.2 + 0.1j])


def _scan_power_series(z):
    def step(carry, coefficient):
        total, power = carry
        return (total + coefficient * power, power * z), total

    (total, _), partials = mg.lax.scan(
        step, (mnp.zeros_like(z), mnp.ones_like(z)), np.array([1.0, 1.0, 0.5, 1 / 6])
    )
    return total + 0.1j * partials[-1]


def _fori_rotation(z):
    return mg.lax.fori_loop(0, 4, lambda i, w: w * (0.9 + 0.3j) + z * i, z)


def _while_halving(z):
    def body(state):
        count, w = state
        return count + 1, w * 0.5 + z * z

    return mg.lax.while_loop(lambda state: state[0] < 3, body, (0, z))[1]


def _cond_branches(z):
    return mg.lax.cond(mnp.real(z[0]) > 0, lambda w: mnp.exp(w) * 1j, lambda w: w**3, z)


def _python_scan(z):
    total, power, previous = np.zeros_like(z), np.ones_like(z), None
    for coefficient in [1.0, 1.0, 0.5, 1 / 6]:
        previous = total
        total, power = total + coefficient * power, power * z
    return total + 0.1j * previous


def _python_fori(z):
    w = z
    for i in range(4):
        w = w * (0.9 + 0.3j) + z * i
    return w


def _python_while(z):
    w = z
    for _ in range(3):
        w = w * 0.5 + z * z
    return w


CONTROL_FLOW = [
    ("scan", _scan_power_series, _python_scan),
    ("fori_loop", _fori_rotation, _python_fori),
    ("while_loop", _while_halving, _python_while),
    ("cond", _cond_branches, lambda z: np.exp(z) * 1j),
]


@pytest.mark.parametrize("name,looped,python", CONTROL_FLOW, ids=[c[0] for c in CONTROL_FLOW])
def test_complex_carries_through_control_flow(name, looped, python):
    np.testing.assert_allclose(looped(Z), python(Z), rtol=1e-13)
    np.testing.assert_allclose(mg.jit(looped)(Z), python(Z), rtol=1e-13)
    np.testing.assert_allclose(
        mg.vmap(looped)(np.stack([Z, 2 * Z])), np.stack([python(Z), python(2 * Z)]), rtol=1e-13
    )
    # Holomorphic in z: the gradient of one output is its complex derivative.
    check_grads(looped, (Z,), order=2)
    gradient = mg.grad(lambda z: looped(z)[1], holomorphic=True)(Z)
    for index in np.ndindex(2):
        np.testing.assert_allclose(
            gradient[index], _complex_derivative(lambda z: python(z)[1], Z, index), rtol=1e-6
        )
    # A real-valued composition is not holomorphic: checked in both parts of z.
    check_grads(lambda z: mnp.sum(mnp.abs(looped(z)) ** 2 + mnp.angle(looped(z))), (Z,))
