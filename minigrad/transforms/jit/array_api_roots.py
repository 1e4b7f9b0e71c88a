"""Polynomial roots on other libraries: eigenvalues where the library has them, else Aberth's
iteration in standard calls.

NumPy finds the roots of a polynomial as the eigenvalues of its companion matrix. The
standard's ``linalg`` has eigenvalues of symmetric matrices only, so:

- torch builds the companion matrix with standard calls and takes ``torch.linalg.eigvals``
  (LAPACK's ``geev``, as NumPy);
- Dask runs NumPy's own ``roots_impl`` on each block, the coefficients of one
  polynomial in one block;
- any other library (array-api-strict) runs the Aberth-Ehrlich iteration
  ``zᵢ ← zᵢ - p(zᵢ) / (p'(zᵢ) - p(zᵢ) Σⱼ≠ᵢ 1/(zᵢ - zⱼ))``, all roots at once and
  cubically convergent for simple roots, from points spread on a circle that holds
  every root (Fujiwara's bound), for ``ABERTH_STEPS`` steps and then ``POLISH_STEPS`` Newton
  steps on each root. A root found so is as accurate as an eigenvalue (for a simple root,
  to about the rounding of ``p`` near it); the order of the roots is not NumPy's, which
  is not promised either (NumPy's is LAPACK's).

Example:
    >>> import numpy as np
    >>> found = aberth_roots(np, None, np.array([1.0, -3.0, 2.0]))
    >>> np.sort_complex(found).round(12)
    array([1.+0.j, 2.+0.j])
"""

from __future__ import annotations

import functools
import importlib
import math

import numpy as np

from minigrad.ops.spectral import roots_impl, roots_p
from minigrad.transforms.jit.array_api_rules import array_api_rule

__all__ = ["ABERTH_STEPS", "POLISH_STEPS", "aberth_roots", "companion_eigvals_torch"]

ABERTH_STEPS = 60
POLISH_STEPS = 2


def _horner(coefficients, z):
    """``(p(z), p'(z))`` for coefficients (highest power first) along the last axis of
    ``coefficients``, at every ``z`` (the roots axis)."""
    value = coefficients[..., :1]
    slope = 0.0 * z
    for k in range(1, coefficients.shape[-1]):
        slope = slope * z + value
        value = value * z + coefficients[..., k : k + 1]
    return value, slope


def aberth_roots(xp, device, p):
    """The ``n - 1`` complex roots of the polynomials ``p`` (``n`` coefficients, highest power
    first and non-zero, along the last axis), by Aberth's iteration.

    Example:
      >>> import numpy as np
      >>> np.sort_complex(aberth_roots(np, None, np.array([1.0, 0.0, 1.0]))).round(12)
      array([-0.-1.j, -0.+1.j])
    """
    degree = p.shape[-1] - 1
    real_dtype = xp.float32 if p.dtype in (xp.float32, xp.complex64) else xp.float64
    complex_dtype = xp.complex64 if real_dtype == xp.float32 else xp.complex128
    monic = xp.astype(p, complex_dtype) / xp.astype(p[..., :1], complex_dtype)
    # Fujiwara: every root lies within 2 max(|a₁|, |a₂|^½, ..., |a_m / 2|^(1/m)).
    bounds = [xp.abs(monic[..., k : k + 1]) ** (1.0 / k) for k in range(1, degree)]
    bounds.append((0.5 * xp.abs(monic[..., degree:])) ** (1.0 / degree))
    radius = 2.0 * functools.reduce(xp.maximum, bounds)
    radius = xp.where(radius > 0, radius, 1.0)  # all roots at 0: any start converges
    angles = 2.0 * math.pi * np.arange(degree) / degree + 0.4  # off the real axis
    spread = xp.asarray(np.exp(1j * angles), dtype=complex_dtype, device=device)
    z = xp.astype(radius, complex_dtype) * spread
    others = ~xp.eye(degree, dtype=xp.bool, device=device)
    for _ in range(ABERTH_STEPS):
        value, slope = _horner(monic, z)
        gaps = z[..., :, None] - z[..., None, :]
        pull = xp.sum(xp.where(others, 1.0 / xp.where(others, gaps, 1.0), 0.0), axis=-1)
        denominator = slope - value * pull
        step = value / xp.where(denominator == 0, 1.0, denominator)
        z = z - xp.where(denominator == 0, 0.0, step)
    for _ in range(POLISH_STEPS):
        value, slope = _horner(monic, z)
        z = z - xp.where(slope == 0, 0.0, value / xp.where(slope == 0, 1.0, slope))
    return z


def companion_eigvals_torch(xp, device, p):
    """torch: the eigenvalues of the companion matrix of ``p``, as NumPy finds the roots."""
    torch_linalg = importlib.import_module("torch.linalg")
    n = p.shape[-1]
    top = -p[..., None, 1:] / p[..., None, :1]
    shift = xp.eye(n - 2, n - 1, dtype=p.dtype, device=device)
    shift = xp.broadcast_to(shift, (*p.shape[:-1], n - 2, n - 1))
    return torch_linalg.eigvals(xp.concat([top, shift], axis=-2))


def _roots_by_blocks(p, dtype):
    dask_array = importlib.import_module("dask.array")
    whole = p.rechunk({p.ndim - 1: -1})  # one polynomial's coefficients in one block
    chunks = (*whole.chunks[:-1], (p.shape[-1] - 1,))
    meta = np.empty((0,) * p.ndim, dtype)  # the kind of block: none is computed to learn it
    return dask_array.map_blocks(roots_impl, whole, dtype=dtype, chunks=chunks, meta=meta)


@array_api_rule(roots_p)
def roots_array_api(ctx, p):
    out = ctx.out_avals[0]
    if out.shape[-1] == 0:
        return f"{ctx.xp}.zeros({out.shape}, dtype={ctx.dtype(out.dtype)}, device={ctx.constant(ctx.device, 'device')})"
    if ctx.library == "dask.array":
        blocks = functools.partial(_roots_by_blocks, dtype=out.dtype)
        return f"{ctx.constant(blocks, 'roots_by_blocks')}({p})"
    if ctx.library == "torch":
        function = companion_eigvals_torch
    else:
        function = aberth_roots
    bound = functools.partial(function, ctx.xp_module, ctx.device)
    result = f"{ctx.constant(bound, function.__name__)}({p})"
    return f"{ctx.xp}.astype({result}, {ctx.dtype(out.dtype)})"
