"""Rows of the operation table for elementwise and scalar mathematics (issue: the whole differentiable NumPy).

See ``op_specs.py`` for how the table is used and ``op_spec_tools.py`` for ``OpSpec``.
Piecewise functions (rounding, remainders) are drawn away from their jumps, where
finite differences cannot see a derivative; functions without one (predicates, integer
arithmetic) appear multiplied into a differentiable one, so every transform meets them.
"""

from __future__ import annotations

import numpy as np

import minigrad.numpy as mnp
from tests.op_spec_tools import OpSpec, base_shapes, broadcast_shapes, values


def _away_from_jumps(x, step, offset=0.0):
    """``x`` moved at least 0.05 ``step`` away from every ``offset + k * step``."""
    phase = (x - offset) / step
    near = np.abs(phase - np.rint(phase)) < 0.05
    return np.where(near, x + 0.1 * step, x)


def _stepped(step, offset=0.0, scale=1.0):
    def draw_args(draw, rng):
        x = values(rng, draw(base_shapes), "real") * scale
        return (_away_from_jumps(np.asarray(x), step, offset),)

    return draw_args


def _dividend_and_divisor(draw, rng):
    # The divisor broadcasts against the dividend (so its gradient is summed over axes).
    shapes = draw(broadcast_shapes(2))
    y = values(rng, shapes[1], "nonzero")
    x = values(rng, np.broadcast_shapes(*shapes), "real") * 3.0
    return (_away_from_jumps(x, y), y)  # jumps where x / y is an integer


def _heaviside_args(draw, rng):
    shape = draw(base_shapes)
    at_zero = rng.random(shape) < 0.5
    return (values(rng, shape, "nonzero"), np.asarray(at_zero))


def _heaviside(x, at_zero):
    # Where x1 is exactly 0 the result is x2 (here x itself), with gradient 1.
    return mnp.heaviside(mnp.where(at_zero, 0.0, x), x) * x


def _integer_functions(x):
    """gcd, lcm, shifts and integer division of integers made from x (piecewise constant)."""
    k = mnp.floor(x * 4.0).astype(np.int64)
    ints = mnp.gcd(k, 6) + mnp.lcm(k, 4) + (k << 2) + (k >> 1) + k // 3 + k % 5 + mnp.fmod(k, 3)
    ints = ints + mnp.bitwise_count(k) + mnp.ldexp(1.0, k % 4) * 0.5
    return x * ints.astype(np.float64)


def _predicate_functions(x, y):
    """Every predicate, turned back into floats."""
    # Thresholds only at 0, which the "nonzero" domain (|x| >= 0.5) never comes near: a
    # threshold inside the domain lets finite differences step across it.
    infinite = mnp.where(x > 0, np.inf, -np.inf)
    flags = [
        mnp.isnan(mnp.where(x > 0, np.nan, x)),
        mnp.isinf(infinite),
        mnp.isposinf(infinite),
        mnp.isneginf(infinite),
        mnp.signbit(x),
        mnp.isclose(x, y),
        mnp.isclose(x, x + 1e-9),
        mnp.isreal(x),
        mnp.iscomplex(x),
        mnp.broadcast_to(mnp.any(x > 0) | mnp.all(y > 0), x.shape),
        mnp.nextafter(x, y) != x,
        mnp.spacing(x) < 1e-15,
    ]
    return mnp.stack([mnp.asarray(f, dtype=np.float64) for f in flags]) * (x + y)


def _nan_to_num(x):
    # Finite everywhere here; test_numpy_math.py checks the replaced values' zero gradient.
    return mnp.nan_to_num(x) * x


def _divmod(x, y):
    quotient, rest = mnp.divmod(x, y)
    return quotient * x + rest * y


def _complex_parts(x):
    return mnp.real(x) * 2.0 + mnp.imag(x) + mnp.conj(x) * x + mnp.angle(x) * x + x.real + x.conjugate()


SPECS: list[OpSpec] = [
    # hyperbolic and inverse trigonometric functions
    OpSpec("sinh", mnp.sinh),
    OpSpec("cosh", mnp.cosh),
    # (scaled: the batching test stretches inputs by up to 1.5, and |x| must stay below 1)
    OpSpec("arcsin", lambda x: mnp.arcsin(x * 0.7), domain="unit"),
    OpSpec("arccos", lambda x: mnp.arccos(x * 0.7), domain="unit"),
    OpSpec("arcsinh", mnp.arcsinh),
    OpSpec("arccosh", lambda x: mnp.arccosh(x + 1.0), domain="positive"),
    OpSpec("arctanh", lambda x: mnp.arctanh(x * 0.7), domain="unit"),
    OpSpec("arctan2", mnp.arctan2, arity=2, domain="nonzero"),
    OpSpec("hypot", mnp.hypot, arity=2, domain="nonzero"),
    OpSpec("deg2rad_rad2deg", lambda x: mnp.deg2rad(x) * mnp.rad2deg(x)),
    OpSpec("sinc", mnp.sinc),
    OpSpec("sinc_near_zero", lambda x: mnp.sinc(x * 1e-3) + mnp.sinc(x * 0.3)),
    # rounding, times x so the zero derivative meets the product rule
    OpSpec("floor", lambda x: mnp.floor(x) * x, draw_args=_stepped(1.0, scale=2.0), shapes="custom"),
    OpSpec("ceil", lambda x: mnp.ceil(x) * x, draw_args=_stepped(1.0, scale=2.0), shapes="custom"),
    OpSpec("trunc_fix", lambda x: (mnp.trunc(x) + mnp.fix(x)) * x, draw_args=_stepped(1.0, scale=2.0), shapes="custom"),
    OpSpec("rint", lambda x: mnp.rint(x) * x, draw_args=_stepped(1.0, 0.5, scale=2.0), shapes="custom"),
    OpSpec("round", lambda x: mnp.round(x, 1) * x + x.round(1), draw_args=_stepped(0.1, 0.05), shapes="custom"),
    OpSpec("fabs", mnp.fabs, domain="nonzero"),
    OpSpec("copysign", mnp.copysign, arity=2, domain="nonzero"),
    OpSpec("heaviside", _heaviside, draw_args=_heaviside_args, shapes="custom"),
    # extrema, logarithms of sums, powers, replacements
    OpSpec("fmax", lambda x, y: mnp.fmax(x, y + 0.05), arity=2, domain="distinct", shapes="same"),
    OpSpec("fmin", lambda x, y: mnp.fmin(x, y + 0.05), arity=2, domain="distinct", shapes="same"),
    OpSpec("logaddexp", mnp.logaddexp, arity=2),
    OpSpec("logaddexp2", mnp.logaddexp2, arity=2),
    OpSpec("float_power", mnp.float_power, arity=2, domain="positive"),
    OpSpec("nan_to_num", _nan_to_num),
    OpSpec("ldexp", lambda x: mnp.ldexp(x, np.array([3, -2])), draw_args=lambda d, r: (values(r, (2, 2), "real"),), shapes="custom"),
    OpSpec("frexp_modf", lambda x: mnp.frexp(x)[0] * x + mnp.modf(x)[0] + mnp.modf(x)[1] * x, draw_args=_stepped(1.0, scale=3.0), shapes="custom"),
    # remainders and integer division
    OpSpec("remainder", mnp.remainder, draw_args=_dividend_and_divisor, shapes="custom"),
    OpSpec("fmod", mnp.fmod, draw_args=_dividend_and_divisor, shapes="custom"),
    OpSpec("divmod_operators", lambda x, y: _divmod(x, y) + (x % y) * (x // y), draw_args=_dividend_and_divisor, shapes="custom"),
    # no derivative of their own
    OpSpec("integer_functions", _integer_functions, draw_args=_stepped(0.25, scale=2.0), shapes="custom"),
    OpSpec("predicate_functions", _predicate_functions, arity=2, domain="nonzero", shapes="same"),
    OpSpec("complex_parts", _complex_parts, domain="nonzero"),
]  # fmt: skip
