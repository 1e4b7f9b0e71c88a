"""Rows of the operation table for minigrad.numpy.linalg.

See ``op_specs.py`` for how the table is used and ``op_spec_tools.py`` for ``OpSpec``.

Linear algebra needs inputs where its functions are smooth: well-conditioned matrices
for inverses and solves, symmetric positive-definite ones for ``cholesky``, and spectra
with well-separated eigenvalues or singular values for ``eigh`` and ``svd`` (whose
derivatives have ``1 / (λᵢ - λⱼ)`` terms). Matrices come in stacks (a leading batch
axis of 2) as often as not, since every function maps over leading axes. Eigenvectors
and singular vectors are only defined up to sign, so their rows return the products
``v[i, j] · v[0, j]``, which do not depend on it.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minigrad.numpy as mnp
from tests.op_spec_tools import OpSpec, values

_LA = mnp.linalg


def _batch(draw):
    return draw(st.sampled_from([(), (2,)]))


def _orthogonal(rng, batch, n):
    q, r = np.linalg.qr(rng.standard_normal((*batch, n, n)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def well_conditioned(rng, batch, n):
    """Matrices with singular values in about [1, 4]: a random orthogonal-ish mix."""
    return rng.uniform(-0.4, 0.4, (*batch, n, n)) + 2.5 * np.eye(n) * rng.choice([-1, 1], (*batch, 1, n))


def spd(rng, batch, n):
    """Symmetric positive-definite matrices with eigenvalues of at least n."""
    x = rng.standard_normal((*batch, n, n))
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def spread_spectrum(rng, batch, n, offset=0.0):
    """Values ``offset + 1.5 * k`` (k = 0..n-1), jittered by at most 0.2: gaps of >= 1.1."""
    return offset + 1.5 * np.arange(n) + rng.uniform(-0.2, 0.2, (*batch, n))


def symmetric_spread(rng, batch, n):
    """Symmetric matrices whose eigenvalues are at least 1.1 apart (some negative)."""
    q = _orthogonal(rng, batch, n)
    w = spread_spectrum(rng, batch, n, offset=-1.0)
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def singular_spread(rng, batch, m, n):
    """``m × n`` matrices whose singular values are >= 1 and at least 1.1 apart."""
    k = min(m, n)
    u = _orthogonal(rng, batch, m)[..., :k]
    v = _orthogonal(rng, batch, n)[..., :k]
    s = spread_spectrum(rng, batch, k, offset=1.0)
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


def _square(kind="well_conditioned", extra=None):
    """Draw one stack of square matrices (and optionally a right-hand side)."""
    makers = {"well_conditioned": well_conditioned, "spd": spd, "symmetric": symmetric_spread}

    def draw_args(draw, rng):
        batch, n = _batch(draw), draw(st.integers(1, 3))
        a = makers[kind](rng, batch, n)
        return (a,) if extra is None else (a, *extra(draw, rng, batch, n))

    return draw_args


def _rectangular(draw, rng):
    batch = _batch(draw)
    m, n = draw(st.sampled_from([(3, 2), (2, 2), (2, 3), (3, 1)]))
    return (singular_spread(rng, batch, m, n),)


def _tall(draw, rng):
    batch = _batch(draw)
    m, n = draw(st.sampled_from([(3, 2), (2, 2), (3, 3), (3, 1)]))
    return (singular_spread(rng, batch, m, n),)


def _matrix_rhs(draw, rng, batch, n):
    return (values(rng, (*batch, n, draw(st.integers(1, 2))), "real"),)


def _vector_rhs(draw, rng, batch, n):
    return (values(rng, (n,), "real"),)


def _sign_free(vectors, axis):
    """``v[i, j] · v[0, j]`` (columns; ``axis=-1`` for rows): unchanged when a vector flips sign."""
    first = vectors[..., :1, :] if axis == -2 else vectors[..., :, :1]
    return vectors * first


def _joined(*arrays):
    """Several results as one flat array (the table's functions return one array)."""
    return mnp.concatenate([mnp.ravel(x) for x in arrays])


def _eigh(a):
    w, v = _LA.eigh(a)
    return _joined(w, _sign_free(v, -2))


def _svd(a):
    u, s, vh = _LA.svd(a, full_matrices=False)
    return _joined(_sign_free(u, -2), s, _sign_free(vh, -1))


def _svd_full_square(a):
    u, s, vh = _LA.svd(a)
    return _joined(_sign_free(u, -2), s, _sign_free(vh, -1))


def _lstsq_args(draw, rng):
    m, n = draw(st.sampled_from([(3, 2), (3, 3), (2, 1)]))
    return (singular_spread(rng, (), m, n), values(rng, (m, draw(st.integers(1, 2))), "real"))


def _lstsq(a, b):
    x, residuals, _, s = _LA.lstsq(a, b)
    return _joined(x, residuals, s)


def _norm_args(draw, rng):
    """Every form of ``norm``: whole array, one axis (vector ords), two axes (matrix ords)."""
    form = draw(st.sampled_from(["all", "vector", "matrix"]))
    keepdims = draw(st.booleans())
    if form == "all":
        shape = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple))
        return (values(rng, shape, "nonzero"), None, None, keepdims)
    if form == "vector":
        shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        order = draw(st.sampled_from([None, 2, 1, np.inf, -np.inf, 3, 0.5]))
        return (
            values(rng, shape, "distinct" if order in (np.inf, -np.inf) else "nonzero"),
            order,
            axis,
            keepdims,
        )
    order = draw(st.sampled_from([None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]))
    axes = draw(st.sampled_from([(0, 1), (1, 0), (-1, 0), (0, 2), (2, 1)]))
    x = singular_spread(rng, (), 3, 2) if max(axes) < 2 else values(rng, (3, 2, 2), "nonzero")
    return (x, order, axes, keepdims)


def _norm(x, order, axis, keepdims):
    return _LA.norm(x, ord=order, axis=axis, keepdims=keepdims)


def _multi_dot_args(draw, rng):
    sizes = [draw(st.integers(1, 3)) for _ in range(5)]
    first = values(rng, (sizes[1],) if draw(st.booleans()) else sizes[:2], "real")
    middle = [values(rng, sizes[i : i + 2], "real") for i in (1, 2)]
    last = values(rng, (sizes[3],) if draw(st.booleans()) else sizes[3:5], "real")
    return (first, *middle, last)


def _pair(shape_a, shape_b, domain="real"):
    def draw_args(draw, rng):
        return (values(rng, shape_a, domain), values(rng, shape_b, domain))

    return draw_args


def _one(shape, maker=None):
    def draw_args(draw, rng):
        return (values(rng, shape, "real") if maker is None else maker(rng),)

    return draw_args


def _tensorsolve_args(draw, rng):
    return (well_conditioned(rng, (), 4).reshape(2, 2, 2, 2), values(rng, (2, 2), "real"))


def _spec(name, fun, draw_args, arity=1):
    return OpSpec(f"linalg.{name}", fun, arity=arity, draw_args=draw_args, shapes="custom")


SPECS: list[OpSpec] = [
    _spec("inv", _LA.inv, _square()),
    _spec("solve", _LA.solve, _square(extra=_matrix_rhs), arity=2),
    _spec("solve_vector", _LA.solve, _square(extra=_vector_rhs), arity=2),
    _spec("det", _LA.det, _square()),
    _spec("slogdet", lambda a: _LA.slogdet(a).logabsdet, _square()),
    _spec("cholesky", _LA.cholesky, _square("spd")),
    _spec("cholesky_upper", lambda a: _LA.cholesky(a, upper=True), _square("spd")),
    _spec("qr", lambda a: _joined(*_LA.qr(a)), _tall),
    _spec("eigh", _eigh, _square("symmetric")),
    _spec("eigvalsh", _LA.eigvalsh, _square("symmetric")),
    _spec("svd", _svd, _rectangular),
    _spec("svd_full_square", _svd_full_square, _square()),
    _spec("svdvals", _LA.svdvals, _rectangular),
    _spec("svd_compute_uv_false", lambda a: _LA.svd(a, compute_uv=False), _rectangular),
    _spec("pinv", _LA.pinv, _rectangular),
    _spec("lstsq", _lstsq, _lstsq_args, arity=2),
    _spec("matrix_power_3", lambda a: _LA.matrix_power(a, 3), _square()),
    _spec("matrix_power_-2", lambda a: _LA.matrix_power(a, -2), _square()),
    _spec("multi_dot", lambda *xs: _LA.multi_dot(xs), _multi_dot_args, arity=4),
    _spec("tensorsolve", _LA.tensorsolve, _tensorsolve_args, arity=2),
    _spec("tensorinv", lambda a: _LA.tensorinv(a, ind=1), _one((4, 2, 2), lambda r: well_conditioned(r, (), 4).reshape(4, 2, 2))),
    _spec("norm", _norm, _norm_args),
    _spec("vector_norm", lambda x: _LA.vector_norm(x, axis=(0, -1)), _one((2, 3, 2))),
    _spec("matrix_norm_nuc", lambda x: _LA.matrix_norm(x, ord="nuc"), _rectangular),
    _spec("cond", _LA.cond, _rectangular),
    _spec("cond_inf", lambda a: _LA.cond(a, np.inf), _square()),
    _spec("vecdot", _LA.vecdot, _pair((2, 3), (3,)), arity=2),
    _spec("matrix_transpose", _LA.matrix_transpose, _one((2, 3, 2))),
    _spec("outer", _LA.outer, _pair((2,), (3,)), arity=2),
    _spec("trace", lambda x: _LA.trace(x, offset=1), _one((2, 3, 3))),
    _spec("diagonal", lambda x: _LA.diagonal(x, offset=-1), _one((2, 3, 2))),
    _spec("cross", lambda x, y: _LA.cross(x, y, axis=0), _pair((3, 2), (3, 1)), arity=2),
    _spec("tensordot", lambda x, y: _LA.tensordot(x, y, axes=1), _pair((2, 3), (3, 2)), arity=2),
]  # fmt: skip
