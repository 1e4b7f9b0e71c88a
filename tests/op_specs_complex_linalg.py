"""Rows of the operation table for the factorizations of complex matrices.

Like ``op_specs_complex``, every row is a real function of real arguments: the real and
imaginary parts of a complex matrix come in separately, so the table's real finite
differences (and its batching, jit and second-order checks) reach the complex rules.
Each row returns the real and imaginary parts of results that do not depend on the
phases of eigenvectors and singular vectors, which are not unique: products
``v[i, j] · conj(v[0, j])`` (a phase multiplies both factors and cancels), or
reconstructions such as ``U diag(s) Vh``. ``cholesky`` and ``qr`` are unique as LAPACK
computes them (real diagonals), so their factors are returned as they are.

Inputs are drawn where the functions are smooth, as in ``op_specs_linalg``: Hermitian
positive-definite matrices for ``cholesky``, and spectra whose eigenvalues or singular
values are at least 1.1 apart.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minigrad.numpy as mnp
from tests.op_spec_tools import OpSpec, values
from tests.op_specs_linalg import spread_spectrum

_LA = mnp.linalg


def _unitary(rng, batch, n):
    """Random unitary matrices (Q of a complex Gaussian matrix)."""
    gaussian = rng.standard_normal((*batch, n, n)) + 1j * rng.standard_normal((*batch, n, n))
    return np.linalg.qr(gaussian)[0]


def hermitian_positive_definite(rng, batch, n):
    """``z zᴴ + n I`` for a complex Gaussian ``z``: eigenvalues of at least ``n``."""
    z = rng.standard_normal((*batch, n, n)) + 1j * rng.standard_normal((*batch, n, n))
    return z @ np.conj(np.swapaxes(z, -1, -2)) + n * np.eye(n)


def hermitian_spread(rng, batch, n):
    """Hermitian matrices whose eigenvalues are at least 1.1 apart (some negative)."""
    q = _unitary(rng, batch, n)
    w = spread_spectrum(rng, batch, n, offset=-1.0)
    return (q * w[..., None, :]) @ np.conj(np.swapaxes(q, -1, -2))


def complex_singular_spread(rng, batch, m, n):
    """Complex ``m × n`` matrices with singular values >= 1, at least 1.1 apart."""
    k = min(m, n)
    u, v = _unitary(rng, batch, m)[..., :k], _unitary(rng, batch, n)[..., :k]
    s = spread_spectrum(rng, batch, k, offset=1.0)
    return (u * s[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))


def _parts(z):
    return np.real(z).copy(), np.imag(z).copy()


def _draw_square(maker):
    def draw_args(draw, rng):
        batch, n = draw(st.sampled_from([(), (2,)])), draw(st.integers(1, 3))
        return _parts(maker(rng, batch, n))

    return draw_args


def _draw_rectangular(shapes):
    def draw_args(draw, rng):
        batch = draw(st.sampled_from([(), (2,)]))
        return _parts(complex_singular_spread(rng, batch, *draw(st.sampled_from(shapes))))

    return draw_args


def _draw_lstsq(draw, rng):
    m, n = draw(st.sampled_from([(3, 2), (3, 3), (2, 1)]))
    b = values(rng, (m, draw(st.integers(1, 2))), "real")
    return (*_parts(complex_singular_spread(rng, (), m, n)), b)


def _real_view(*arrays):
    """The real and imaginary parts of several results, as one flat real array."""
    flat = mnp.concatenate([mnp.ravel(x) for x in arrays])
    return mnp.concatenate([mnp.real(flat), mnp.imag(flat)]) if flat.dtype.kind == "c" else flat


def _of_complex(f):
    def on_parts(re, im, *rest):
        return f(re + 1j * im, *rest)

    on_parts.__name__ = getattr(f, "__name__", "on_parts")
    return on_parts


def _phase_free(vectors, axis):
    """``v[i, j] · conj(v[0, j])`` (columns; ``axis=-1`` for rows): no phase."""
    first = vectors[..., :1, :] if axis == -2 else vectors[..., :, :1]
    return vectors * mnp.conj(first)


def _cholesky(a):
    return _real_view(_LA.cholesky(a), _LA.cholesky(a, upper=True))


def _qr(a):
    return _real_view(*_LA.qr(a))


def _eigh(a):
    w, v = _LA.eigh(a)
    return _real_view(w, _phase_free(v, -2))


def _svd(a):
    u, s, vh = _LA.svd(a, full_matrices=False)
    return _real_view(_phase_free(u, -2), s, _phase_free(vh, -1), (u * s[..., None, :]) @ vh)


def _lstsq(a, b):
    x, residuals, _, s = _LA.lstsq(a, b)
    return _real_view(x, residuals, s)


def _norms(a):
    return _real_view(
        _LA.norm(a, 2, axis=(-2, -1)), _LA.norm(a, -2, axis=(-2, -1)), _LA.matrix_norm(a, ord="nuc")
    )


def _spec(name, fun, draw_args, arity=2):
    return OpSpec(
        f"complex_linalg.{name}", _of_complex(fun), arity=arity, draw_args=draw_args, shapes="custom"
    )


_TALL = [(3, 2), (2, 2), (3, 3), (3, 1)]
_ANY = [(3, 2), (2, 2), (2, 3), (3, 1)]

SPECS: list[OpSpec] = [
    _spec("cholesky", _cholesky, _draw_square(hermitian_positive_definite)),
    _spec("qr", _qr, _draw_rectangular(_TALL)),
    _spec("eigh", _eigh, _draw_square(hermitian_spread)),
    _spec("eigvalsh", _LA.eigvalsh, _draw_square(hermitian_spread)),
    _spec("svd", _svd, _draw_rectangular(_ANY)),
    _spec("svdvals", _LA.svdvals, _draw_rectangular(_ANY)),
    _spec("pinv", lambda a: _real_view(_LA.pinv(a)), _draw_rectangular(_ANY)),
    _spec("lstsq", _lstsq, _draw_lstsq, arity=3),
    _spec("norms", _norms, _draw_rectangular(_ANY)),
]
