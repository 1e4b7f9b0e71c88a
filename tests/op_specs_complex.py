"""Rows of the operation table for complex numbers: real functions of real arguments
whose insides are complex, so the ordinary real finite differences check every complex
rule, forward and reverse, to second order (and batching and jit, like every row).

``z = x + 1j * y`` is built from the two real arguments; each row reads both the real
and the imaginary part of its result with different weights, so a sign error or a
conjugate where none belongs shows. Holomorphic functions with a branch cut on the
negative real axis (``log``, ``sqrt``, ``power``) draw positive ``x``.
"""

from __future__ import annotations

import minigrad as mg
import minigrad.numpy as mnp
from tests.op_spec_tools import OpSpec


def _both_parts(f):
    def real_and_imaginary(x, y):
        w = f(x + 1j * y)
        return mnp.real(w) + 0.7 * mnp.imag(w)

    real_and_imaginary.__name__ = f.__name__ if hasattr(f, "__name__") else "f"
    return real_and_imaginary


def _complex_of_parts(x, y):
    z = mg.lax.complex(x, y)
    w = z * mg.lax.complex(y, 2.0 * x)
    return mnp.real(w) - 0.3 * mnp.imag(w) + mnp.real(mg.lax.conj(z)) * mnp.imag(z)


def _conj(x, y):
    z = x + 1j * y
    return mnp.real(mnp.conj(z) * z * z) + 0.4 * mnp.imag(mnp.conj(z * z)) + mnp.imag(z.conj() * 1j)


def _abs(x, y):
    z = x + 1j * y
    return mnp.abs(z) + 0.5 * mnp.abs(z * z + 1j)


def _angle(x, y):
    return mnp.angle(x + 1j * y) + mnp.angle((x + 1j * y) * (1.0 - 2.0j), deg=True) * 0.01


def _power(x, y):
    z = x + 1j * y
    return _both_parts(lambda w: w ** (0.5 + 0.25j) + mnp.power(w, z) + w**3)(x, y)


HOLOMORPHIC = {
    "exp": mnp.exp,
    "log": mnp.log,
    "sqrt": mnp.sqrt,
    "sin": mnp.sin,
    "cos": mnp.cos,
    "tan": lambda z: mnp.tan(0.3 * z),
    "tanh": lambda z: mnp.tanh(0.3 * z),
    "arctan": lambda z: mnp.arctan(0.3 * z),
    "log1p": mnp.log1p,
    "expm1": mnp.expm1,
    "square_reciprocal": lambda z: mnp.square(z) + mnp.reciprocal(z),
    "mul_div": lambda z: (z * (2.0 - 1.0j) + 3.0) / (z + 0.5j),
    "sinh_cosh": lambda z: mnp.sinh(z) + mnp.cosh(z) * 0.5,
    "sum_prod": lambda z: mnp.sum(z) + mnp.prod(z + 1.0),
}
POSITIVE = ("log", "sqrt", "log1p")

SPECS: list[OpSpec] = [
    *[
        OpSpec(f"complex_{name}", _both_parts(f), arity=2, domain="positive" if name in POSITIVE else "real")
        for name, f in HOLOMORPHIC.items()
    ],
    OpSpec("complex_power", _power, arity=2, domain="positive"),
    OpSpec("complex_lax_complex", _complex_of_parts, arity=2),
    OpSpec("complex_conj", _conj, arity=2),
    OpSpec("complex_abs", _abs, arity=2, domain="nonzero"),
    OpSpec("complex_angle", _angle, arity=2, domain="nonzero"),
]
