"""``minigrad.testing.check_grads`` on complex inputs and outputs: it accepts correct
rules, holomorphic or not, and rejects a rule that is right for real numbers only."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.numpy as mnp
from minigrad.ops import complex_parts, elementwise
from minigrad.testing import check_grads

Z = np.array([1.0 + 2.0j, -0.5 + 0.3j])
X = np.array([0.3, -1.2, 2.0])


@pytest.mark.parametrize(
    "fun",
    [
        mnp.exp,
        lambda z: z**3 / (z + 2.0),  # holomorphic
        mnp.abs,
        mnp.conj,
        mnp.angle,
        lambda z: mnp.real(z) * mnp.imag(z) + mnp.sum(mnp.abs(z) ** 2),  # real functions of z
        lambda z: z * mnp.conj(z) + z,  # complex and not holomorphic
    ],
    ids=["exp", "rational", "abs", "conj", "angle", "real_valued", "non_holomorphic"],
)
def test_check_grads_accepts_complex_functions_to_second_order(fun):
    check_grads(fun, (Z,), order=2)
    check_grads(fun, (Z.astype(np.complex64),))


def test_check_grads_accepts_mixed_real_and_complex_arguments():
    check_grads(lambda x: x * (1.0 + 2.0j), (X,), order=2)  # real to complex
    check_grads(lambda x, z: mnp.sum(x[:2] * z) * z, (X, Z), order=2)
    check_grads(mnp.fft.rfft, (X,))


def test_check_grads_expects_jaxs_gradient_of_a_real_function_of_z():
    # grad(abs)(z) = conj(z) / |z| (JAX's convention): the checker holds the library to it.
    z = np.array(3.0 + 4.0j)
    np.testing.assert_allclose(mg.grad(mnp.abs)(z), (3.0 - 4.0j) / 5.0)
    check_grads(mnp.abs, (z,), modes=("rev",))


def _swap_rules(primitive, jvp_rule, vjp_rule):
    saved = primitive.jvp, primitive.vjp
    primitive.def_jvp(jvp_rule)
    primitive.def_vjp(vjp_rule)
    return saved


def test_check_grads_catches_a_rule_right_only_for_real_numbers():
    # exp's derivative conjugated: identical for real inputs, wrong for complex ones.
    def conjugated_exp_vjp(ct, ans, x):
        return elementwise.mul(ct, complex_parts.conj(ans))

    def conjugated_exp_jvp(primals, tangents, ans):
        return elementwise.mul(tangents[0], complex_parts.conj(ans))

    saved_jvp, saved_vjp = _swap_rules(elementwise.exp_p, conjugated_exp_jvp, conjugated_exp_vjp)
    try:
        check_grads(mnp.exp, (X,), order=1)  # real inputs cannot tell
        with pytest.raises(AssertionError, match=r"check_grads \(jvp\).*disagrees"):
            check_grads(mnp.exp, (Z,), modes=("fwd",))
        with pytest.raises(AssertionError, match=r"check_grads \(vjp\): the gradient of args\[0\]"):
            check_grads(mnp.exp, (Z,), modes=("rev",))
        # A non-holomorphic composition reads both parts: still caught.
        with pytest.raises(AssertionError, match="disagrees"):
            check_grads(lambda z: mnp.abs(mnp.exp(z)), (Z,), modes=("rev",))
    finally:
        elementwise.exp_p.jvp, elementwise.exp_p.vjp = saved_jvp, saved_vjp
    check_grads(mnp.exp, (Z,))


def test_check_grads_catches_an_adjoint_where_the_transpose_belongs():
    # Reverse mode is the transpose of forward mode: a conjugated cotangent is wrong.
    saved_jvp, saved_vjp = elementwise.exp_p.jvp, elementwise.exp_p.vjp

    def adjoint_exp_vjp(ct, ans, x):
        return elementwise.mul(ct, complex_parts.conj(ans))

    elementwise.exp_p.def_vjp(adjoint_exp_vjp)
    try:
        check_grads(mnp.exp, (Z,), modes=("fwd",))  # forward mode is untouched
        with pytest.raises(AssertionError, match="vjp"):
            check_grads(lambda z: mnp.exp(z) * (2.0 - 1.0j), (Z,), modes=("rev",))
    finally:
        elementwise.exp_p.jvp, elementwise.exp_p.vjp = saved_jvp, saved_vjp
