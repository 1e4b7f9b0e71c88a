"""Rows of the operation table for minigrad.scipy (special functions, distributions, linear algebra).

See ``op_specs.py`` for how the table is used and ``op_spec_tools.py`` for ``OpSpec``.

SciPy is an optional dependency (a test extra): without it the table has no rows here,
and ``test_scipy_*.py`` skip themselves. Functions defined on part of the line get
their own intervals (``logit`` and ``ndtri`` on (0, 1), the gamma family away from its
poles); the scaled Bessel functions have a kink at 0 (from ``exp(-|x|)``), so their
arguments stay away from it.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from tests.op_spec_tools import OpSpec, base_shapes, broadcast_shapes

try:
    from minigrad.scipy import linalg, special, stats
except ImportError:  # SciPy is not installed: nothing of minigrad.scipy to check
    linalg = special = stats = None


def _interval(low, high, *, away_from_zero=False):
    """Draw broadcasting arguments uniformly in ``[low, high]`` (optionally with random signs)."""

    def values(rng, shape):
        out = rng.uniform(low, high, shape)
        return out * rng.choice([-1.0, 1.0], shape) if away_from_zero else out

    return values


def _elementwise(name, fun, *domains):
    def draw_args(draw, rng):
        shapes = draw(broadcast_shapes(len(domains)))
        return tuple(domain(rng, shape) for domain, shape in zip(domains, shapes, strict=True))

    return OpSpec(name, fun, arity=len(domains), shapes="custom", draw_args=draw_args)


def _along_axes(name, fun):
    def draw_args(draw, rng):
        shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
        axis = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
        return rng.standard_normal(shape) * 3.0, axis

    def call(x, axis):
        return fun(x, axis=axis)

    return OpSpec(name, call, shapes="custom", draw_args=draw_args)


def _logsumexp_weighted(x, b, axis):
    return special.logsumexp(x, axis=axis, b=b)


def _draw_weighted(draw, rng):
    shape = draw(base_shapes.filter(bool))
    axis = draw(st.one_of(st.none(), st.integers(0, len(shape) - 1)))
    return rng.standard_normal(shape), rng.uniform(0.5, 2.0, shape), axis


def _special_specs():
    real = _interval(-3.0, 3.0)
    positive = _interval(0.5, 4.0)
    probability = _interval(0.05, 0.95)
    return [
        _elementwise("special.erf", special.erf, real),
        _elementwise("special.erfc", special.erfc, real),
        _elementwise("special.erfcx", special.erfcx, real),
        _elementwise("special.erfinv", special.erfinv, _interval(-0.9, 0.9)),
        _elementwise("special.ndtr", special.ndtr, real),
        _elementwise("special.ndtri", special.ndtri, probability),
        _elementwise("special.log_ndtr", special.log_ndtr, _interval(-8.0, 3.0)),
        _elementwise("special.gammaln", special.gammaln, positive),
        _elementwise("special.gamma", special.gamma, positive),
        _elementwise("special.digamma", special.digamma, positive),
        _elementwise("special.polygamma2", lambda x: special.polygamma(2, x), positive),
        _elementwise("special.betaln", special.betaln, positive, positive),
        _elementwise("special.expit", special.expit, real),
        _elementwise("special.logit", special.logit, probability),
        _elementwise("special.xlogy", special.xlogy, real, positive),
        _elementwise("special.xlog1py", special.xlog1py, real, _interval(-0.5, 3.0)),
        _elementwise("special.entr", special.entr, positive),
        _elementwise("special.i0e", special.i0e, _interval(0.3, 4.0, away_from_zero=True)),
        _elementwise("special.i1e", special.i1e, _interval(0.3, 4.0, away_from_zero=True)),
        _along_axes("special.logsumexp", special.logsumexp),
        _along_axes("special.softmax", special.softmax),
        _along_axes("special.log_softmax", special.log_softmax),
        OpSpec(
            "special.logsumexp_b", _logsumexp_weighted, arity=2, shapes="custom", draw_args=_draw_weighted
        ),
    ]


def _matrices(*kinds):
    """Draw a stack (or not) of matrices: well-conditioned, triangular, SPD, and right-hand sides."""

    def draw_args(draw, rng):
        batch = draw(st.sampled_from([(), (2,)]))
        n = draw(st.integers(1, 3))

        def dominant():
            # |diagonal| in [2.1, 2.9], off-diagonal entries in [-0.4, 0.4] (n <= 3): the
            # matrix and each of its triangles are well conditioned (condition number < 2).
            return rng.uniform(-0.4, 0.4, (*batch, n, n)) + 2.5 * np.eye(n) * rng.choice(
                [-1, 1], (*batch, 1, n)
            )

        out = []
        for kind in kinds:
            if kind == "rhs":
                out.append(rng.standard_normal((*batch, n, 2)))
            elif kind == "spd":
                x = rng.standard_normal((*batch, n, n))
                out.append(x @ np.swapaxes(x, -1, -2) + n * np.eye(n))
            elif kind == "small":  # expm: a moderate norm, so finite differences stay accurate
                out.append(rng.uniform(-0.7, 0.7, (*batch, n, n)))
            elif kind == "triangular":
                # Unpermuted: a triangular solve reads one triangle, whose diagonal must
                # stay large (rows shuffled, it could hold an entry near zero).
                out.append(dominant())
            else:  # well conditioned, with a random row order (so an LU must pivot)
                out.append(dominant()[..., rng.permutation(n), :])
        return tuple(out)

    return draw_args


def _lu_solve(a, b, trans):
    return linalg.lu_solve(linalg.lu_factor(a), b, trans=trans)


def _cho_solve(a, b, lower):
    return linalg.cho_solve(linalg.cho_factor(a, lower=lower), b)


def _linalg_specs():
    def row(name, fun, *kinds):
        return OpSpec(name, fun, arity=len(kinds), shapes="custom", draw_args=_matrices(*kinds))

    return [
        row(
            "linalg.solve_triangular",
            lambda a, b: linalg.solve_triangular(a, b, lower=True),
            "triangular",
            "rhs",
        ),
        row(
            "linalg.solve_triangular_upper_T",
            lambda a, b: linalg.solve_triangular(a, b, trans="T"),
            "triangular",
            "rhs",
        ),
        row(
            "linalg.solve_triangular_unit",
            lambda a, b: linalg.solve_triangular(a, b, unit_diagonal=True),
            "small",
            "rhs",
        ),
        row("linalg.cho_factor", lambda a: linalg.cho_factor(a)[0], "spd"),
        row("linalg.cho_solve", lambda a, b: _cho_solve(a, b, False), "spd", "rhs"),
        row("linalg.cho_solve_lower", lambda a, b: _cho_solve(a, b, True), "spd", "rhs"),
        row("linalg.lu_factor", lambda a: linalg.lu_factor(a)[0], "general"),
        row("linalg.lu_solve", lambda a, b: _lu_solve(a, b, 0), "general", "rhs"),
        row("linalg.lu_solve_T", lambda a, b: _lu_solve(a, b, 1), "general", "rhs"),
        row("linalg.expm", linalg.expm, "small"),
    ]


def _stats_specs():
    real, positive = _interval(-3.0, 3.0), _interval(0.5, 2.0)
    degrees = _interval(1.5, 6.0)
    return [
        _elementwise("stats.norm.logpdf", stats.norm.logpdf, real, real, positive),
        _elementwise("stats.norm.logcdf", stats.norm.logcdf, real, real, positive),
        _elementwise("stats.t.logpdf", stats.t.logpdf, real, degrees, real, positive),
        _elementwise(
            "stats.t.cdf", lambda x, loc, scale: stats.t.cdf(x, 3.5, loc, scale), real, real, positive
        ),
        _elementwise("stats.bernoulli.logpmf", lambda p: stats.bernoulli.logpmf(1.0, p), _interval(0.1, 0.9)),
    ]


SPECS: list[OpSpec] = [] if special is None else [*_special_specs(), *_stats_specs(), *_linalg_specs()]
