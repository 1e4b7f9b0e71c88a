"""Linear algebra and FFTs in Array API calls: the standard's ``linalg`` and ``fft`` extensions.

A library that has the extension function computes the primitive itself (torch's and
array-api-strict's LAPACK, CuPy's cuSOLVER/cuFFT, Dask's blocked algorithms); one that
lacks it is refused when the program is compiled, with an error naming the function and
the library. Dask's functions take single matrices: a stack of them is computed matrix
by matrix (``each_matrix``, a loop written into the task graph) and stacked back. Dask
has no ``det``, ``slogdet``, ``eigh``, ``eigvalsh`` or ``pinv``: those run as NumPy's own
function on each block of whole matrices (``numpy_on_blocks``), so each result is exactly
NumPy's, and the blocks are Dask's to schedule. The ``doubled``/``halved``/``conjugate``
flags of ``rfft``/``irfft`` (their transposes) become a multiplication by a constant
vector and a ``conj``.

Example:
    >>> from minigrad.ops.fourier import fft_p
    >>> from minigrad.transforms.jit.array_api_rules import array_api_lowering
    >>> array_api_lowering(fft_p).__name__
    'fft_array_api'
"""

from __future__ import annotations

import functools
import importlib
import math

import numpy as np

from minigrad.ops.decompositions import cholesky_p, det_p, qr_p, slogdet_p
from minigrad.ops.fourier import fft_p, irfft_p, rfft_p
from minigrad.ops.solvers import inv_p, pinv_p, solve_p, triangular_solve_p
from minigrad.ops.spectral import eigh_p, eigvalsh_p, svd_p, svdvals_p
from minigrad.transforms.jit.array_api_rules import NoArrayApiLoweringError, array_api_rule

__all__ = ["extension_function", "each_matrix", "linalg_call", "numpy_on_blocks", "cholesky_array_api"]


def extension_function(ctx, extension: str, function: str) -> str:
    """``{xp}.{extension}.{function}`` if the library has it, else a ``NotImplementedError``.

    Example:
      >>> import numpy as np
      >>> class Context:
      ...     xp, xp_module, library = "_xp", np, "numpy"
      >>> extension_function(Context(), "linalg", "eigh")
      '_xp.linalg.eigh'
    """
    found = getattr(getattr(ctx.xp_module, extension, None), function, None)
    if found is None:
        raise NoArrayApiLoweringError(
            f"jit: {function} on {ctx.library} arrays needs the Array API {extension} extension's "
            f"{extension}.{function}, which {ctx.library} does not have. Compute this part on "
            "NumPy arrays (mg.device_get), or on a library that has it (torch, array-api-strict, CuPy)."
        )
    return f"{ctx.xp}.{extension}.{function}"


def each_matrix(xp, function, *stacks, shared=()):
    """``function(*shared, *matrices)`` of each matrix of ``stacks`` (one batch shape), its
    results (arrays, or tuples of them) stacked back: for a library whose linalg takes
    single matrices (Dask).

    Example:
      >>> import numpy as np
      >>> each_matrix(np, np.trace, np.ones((2, 3, 3, 3))).shape
      (2, 3)
    """
    batch = tuple(stacks[0].shape[:-2])
    if not batch:
        return function(*shared, *stacks)
    count = math.prod(batch)
    flat = [xp.reshape(s, (count, *s.shape[-2:])) for s in stacks]
    results = [function(*shared, *(f[i] for f in flat)) for i in range(count)]

    def stacked(parts):
        return xp.reshape(xp.stack(parts), (*batch, *parts[0].shape))

    if isinstance(results[0], tuple):
        return tuple(stacked([r[k] for r in results]) for k in range(len(results[0])))
    return stacked(results)


def linalg_call(ctx, function: str, *args: str, **params) -> str:
    """A call of the library's ``linalg.{function}`` (keyword ``params``), matrix by matrix
    (``each_matrix``) where the library takes single matrices (Dask) and ``args`` are stacks."""
    if ctx.library == "dask.array" and (ctx.in_avals[0].ndim > 2 or function in _ONE_CHUNKED_SIDE):
        extension_function(ctx, "linalg", function)  # refused by name if Dask lacks it
        one = functools.partial(getattr(ctx.xp_module.linalg, function), **params)
        if function in _ONE_CHUNKED_SIDE:
            one = functools.partial(_on_long_side_chunks, one)
        each = ctx.constant(functools.partial(each_matrix, ctx.xp_module, one), f"each_{function}")
        return f"{each}({', '.join(args)})"
    keywords = "".join(f", {name}={value!r}" for name, value in params.items())
    return f"{extension_function(ctx, 'linalg', function)}({', '.join(args)}{keywords})"


# Dask's QR and SVD (tall-and-skinny QR, or short-and-fat) take a matrix chunked along
# its long side only, and a wide one's first block at least square: any other chunking
# fails inside Dask.
_ONE_CHUNKED_SIDE = frozenset({"qr", "svd"})


def _on_long_side_chunks(function, matrix):
    """``function`` of a Dask ``matrix`` rechunked so that its short side is one chunk."""
    rows, columns = matrix.shape
    if rows >= columns:
        return function(matrix.rechunk({1: -1}))
    return function(matrix.rechunk({0: -1, 1: max(rows, matrix.chunks[1][0])}))


def numpy_on_blocks(function, signature: str, metas, *arrays, **params):
    """NumPy's ``function(*matrices, **params)`` on each block of the Dask ``arrays``, each
    block holding whole matrices (the last two axes in one chunk). ``signature`` is the
    gufunc signature (``"(m,n)->(n,m)"``); ``metas`` are empty NumPy arrays of each result's
    dimensions and dtype, given so that Dask runs nothing to learn them (its guess would
    cast complex results to real).

    Example:
      >>> import numpy as np
      >>> stack = np.eye(2) * [[[2.0]], [[3.0]]]
      >>> try:
      ...     import dask.array as da
      ... except ImportError:  # Dask is an optional extra: NumPy's determinants themselves
      ...     print(np.linalg.det(stack))
      ... else:
      ...     a = da.from_array(stack, chunks=1)  # blocks cut through the matrices
      ...     print(numpy_on_blocks(np.linalg.det, "(n,n)->()", (np.empty(0),), a).compute())
      [4. 9.]
    """
    dask_array = importlib.import_module("dask.array")
    whole = [a.rechunk({a.ndim - 2: -1, a.ndim - 1: -1}) for a in arrays]
    bound = functools.partial(function, **params) if params else function
    meta = tuple(metas) if len(metas) > 1 else metas[0]
    return dask_array.apply_gufunc(bound, signature, *whole, meta=meta)


def numpy_call(ctx, function: str, signature: str, *args: str, **params) -> str:
    """Dask (which has no ``linalg.{function}``): NumPy's, block by block (``numpy_on_blocks``);
    any other library: its own ``linalg.{function}``, refused by name if it lacks it."""
    if ctx.library != "dask.array":
        keywords = "".join(f", {name}={value!r}" for name, value in params.items())
        return f"{extension_function(ctx, 'linalg', function)}({', '.join(args)}{keywords})"
    metas = tuple(np.empty((0,) * aval.ndim, aval.dtype) for aval in ctx.out_avals)
    bound = functools.partial(numpy_on_blocks, getattr(np.linalg, function), signature, metas, **params)
    return f"{ctx.constant(bound, f'numpy_{function}_on_blocks')}({', '.join(args)})"


# -- linear algebra -----------------------------------------------------------------------


@array_api_rule(inv_p)
def inv_array_api(ctx, a):
    return linalg_call(ctx, "inv", a)


@array_api_rule(solve_p)
def solve_array_api(ctx, a, b):
    return linalg_call(ctx, "solve", a, b)


@array_api_rule(triangular_solve_p)
def triangular_solve_array_api(ctx, a, b, *, lower):
    # The standard has no triangular solver; a solve of the triangle gives the same X.
    triangle = f"{ctx.xp}.{'tril' if lower else 'triu'}({a})"
    return linalg_call(ctx, "solve", triangle, b)


@array_api_rule(pinv_p)
def pinv_array_api(ctx, a, *, rtol):
    return numpy_call(ctx, "pinv", "(m,n)->(n,m)", a, rtol=float(rtol))


@array_api_rule(det_p)
def det_array_api(ctx, a):
    return numpy_call(ctx, "det", "(n,n)->()", a)


@array_api_rule(slogdet_p)
def slogdet_array_api(ctx, a):
    return f"tuple({numpy_call(ctx, 'slogdet', '(n,n)->(),()', a)})"


@array_api_rule(cholesky_p)
def cholesky_array_api(ctx, a):
    if ctx.library == "dask.array":
        # array-api-compat's Dask cholesky passes no `lower` to dask, whose default is the
        # upper factor: without this, the result would be silently transposed.
        return linalg_call(ctx, "cholesky", a, lower=True)
    return linalg_call(ctx, "cholesky", a)


@array_api_rule(qr_p)
def qr_array_api(ctx, a):
    return f"tuple({linalg_call(ctx, 'qr', a, mode='reduced')})"


@array_api_rule(eigh_p)
def eigh_array_api(ctx, a):
    return f"tuple({numpy_call(ctx, 'eigh', '(n,n)->(n),(n,n)', a)})"


@array_api_rule(eigvalsh_p)
def eigvalsh_array_api(ctx, a):
    return numpy_call(ctx, "eigvalsh", "(n,n)->(n)", a)


@array_api_rule(svd_p)
def svd_array_api(ctx, a, *, full_matrices):
    m, n = ctx.in_avals[0].shape[-2:]
    full_matrices = full_matrices and m != n  # of square matrices the two are the same
    if full_matrices and ctx.library == "dask.array":
        raise NoArrayApiLoweringError(
            f"jit: svd with full_matrices=True of {m}x{n} matrices on dask.array arrays: Dask computes "
            "only the reduced SVD. Pass full_matrices=False, or compute it on NumPy arrays (mg.device_get)."
        )
    return f"tuple({linalg_call(ctx, 'svd', a, full_matrices=bool(full_matrices))})"


@array_api_rule(svdvals_p)
def svdvals_array_api(ctx, a):
    if ctx.library == "dask.array":
        # array-api-compat's Dask svdvals asks dask for the full SVD, which it refuses.
        return f"{linalg_call(ctx, 'svd', a, full_matrices=False)}[1]"
    return linalg_call(ctx, "svdvals", a)


# -- FFTs ---------------------------------------------------------------------------------


def _whole_along(ctx, x: str, axes) -> str:
    """``x`` with each transformed axis in one chunk: Dask transforms no other kind."""
    if ctx.library != "dask.array":
        return x
    return f"{x}.rechunk({ {int(a): -1 for a in axes}!r})"


def _norm(norm) -> str:
    return repr(norm if norm is not None else "backward")


@array_api_rule(fft_p)
def fft_array_api(ctx, x, *, axes, inverse, norm, sizes):
    x = _whole_along(ctx, x, axes)
    if len(axes) == 1:
        function = extension_function(ctx, "fft", "ifft" if inverse else "fft")
        return f"{function}({x}, n={int(sizes[0])}, axis={int(axes[0])}, norm={_norm(norm)})"
    function = extension_function(ctx, "fft", "ifftn" if inverse else "fftn")
    return f"{function}({x}, s={tuple(sizes)!r}, axes={tuple(axes)!r}, norm={_norm(norm)})"


def _interior_scale(ctx, shape, axis: int, size: int, factor: float, dtype) -> str:
    """A constant broadcasting along ``axis``: ``factor`` on the bins 1 .. ceil(size/2)-1
    (those that stand for themselves and their mirror image), 1 elsewhere."""
    scale = np.ones(shape[axis], dtype=dtype)
    scale[1 : (size + 1) // 2] = factor
    broadcast = [1] * len(shape)
    broadcast[axis] = shape[axis]
    return ctx.array(scale.reshape(broadcast), dtype, "scale")


@array_api_rule(rfft_p)
def rfft_array_api(ctx, x, *, axes, norm, doubled, conjugate):
    out = ctx.out_avals[0]
    if not axes:
        return f"{ctx.xp}.astype({x}, {ctx.dtype(out.dtype)})"
    x = _whole_along(ctx, x, axes)
    if len(axes) == 1:
        code = f"{extension_function(ctx, 'fft', 'rfft')}({x}, axis={int(axes[0])}, norm={_norm(norm)})"
    else:
        code = f"{extension_function(ctx, 'fft', 'rfftn')}({x}, axes={tuple(axes)!r}, norm={_norm(norm)})"
    if doubled:
        size = ctx.in_avals[0].shape[axes[-1]]
        code = f"{code} * {_interior_scale(ctx, out.shape, axes[-1], size, 2.0, out.dtype)}"
    return f"{ctx.xp}.conj({code})" if conjugate else code


@array_api_rule(irfft_p)
def irfft_array_api(ctx, c, *, axes, n, norm, halved, conjugate):
    if not axes:
        return f"{ctx.xp}.asarray({ctx.xp}.real({c}), copy=True)"
    dtype = ctx.in_avals[0].dtype
    c = _whole_along(ctx, c, axes)
    if conjugate:
        c = f"{ctx.xp}.conj({c})"
    if halved:
        c = f"{c} * {_interior_scale(ctx, ctx.in_avals[0].shape, axes[-1], n, 0.5, dtype)}"
    if len(axes) == 1:
        return f"{extension_function(ctx, 'fft', 'irfft')}({c}, n={int(n)}, axis={int(axes[0])}, norm={_norm(norm)})"
    sizes = (*(ctx.in_avals[0].shape[a] for a in axes[:-1]), int(n))
    function = extension_function(ctx, "fft", "irfftn")
    return f"{function}({c}, s={sizes!r}, axes={tuple(axes)!r}, norm={_norm(norm)})"
