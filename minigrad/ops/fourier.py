"""Discrete Fourier transforms: ``fft`` (complex to complex), ``rfft`` (real to the
non-negative half of the spectrum) and ``irfft`` (that half back to real values), each
over any set of axes and with NumPy's ``norm`` ("backward", "ortho", "forward").

Every one is linear, so its JVP is itself applied to the tangent and its VJP is its
transpose. Cotangents of complex values follow JAX: a cotangent ``c`` of ``z = u + iv``
stands for ``∂L/∂u - i ∂L/∂v``, paired with a tangent by ``Re(Σ c · dz)`` (no
conjugate), so the VJP of a complex-linear map is its plain transpose. With ``θ = 2π j·k/N``:

- ``fft`` and ``ifft``: the DFT matrix ``exp(∓iθ)`` is symmetric, so each is its own
  transpose, with the same ``norm``. ``fft`` can zero-pad its input first (NumPy's
  ``n=``, without a second large array in the program); the transpose of that padding
  is a crop of the transformed cotangent.
- ``rfft`` keeps the bins ``k`` of the last axis up to ``n//2``. Its transpose is
  ``x̄_j = Re Σ_k c_k exp(-iθ)``, a plain sum over the kept bins. ``irfft`` computes
  ``Re Σ_k W_k c_k exp(+iθ) / N`` with ``W`` = 2 on the interior bins (each stands
  for itself and its mirror image) and 1 on bin 0 and bin ``n/2``. So the transpose of
  ``rfft`` is an ``irfft`` of the conjugate (``conjugate=True``: ``exp(-iθ)``) with the
  interior bins halved (``halved=True``), and the transpose of ``irfft`` is the conjugate
  of an ``rfft`` (``exp(+iθ)``) with the interior bins doubled (``doubled=True``). The
  ``1/N`` moves between them: "backward" and "forward" swap, "ortho" stays. Each flag
  flips across a transpose, so the family is closed and derivatives of any order stay
  in it. (NumPy's ``hfft`` and ``ihfft`` are the ``conjugate=True`` forms.)
- Over no axes, ``rfft`` is the embedding of real arrays among complex ones and
  ``irfft`` takes the real part; they are how real inputs enter ``fft`` and how
  gradients leave complex values, with the same pair of transposes.

Example:
    >>> import numpy as np
    >>> rfft(np.array([1.0, 2.0, 3.0, 4.0]), axes=(0,))
    array([10.+0.j, -2.+2.j, -2.+0.j])
    >>> irfft(np.array([10.0, -2.0 + 2.0j, -2.0]), axes=(0,), n=4)
    array([1., 2., 3., 4.])
"""

from __future__ import annotations

import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.lowering import lower_by_impl
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, get_aval
from minigrad.ops.shape import slice_axis

__all__ = [
    "fft",
    "rfft",
    "irfft",
    "to_complex",
    "real_part",
    "swapped_norm",
    "NORMS",
    "fft_p",
    "rfft_p",
    "irfft_p",
]

NORMS = ("backward", "ortho", "forward")

# The norm whose scale factor, on the inverse transform, equals that of `norm` on the
# forward one: how 1/N moves across a transpose (NumPy's hfft uses the same swap).
_SWAPPED = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def swapped_norm(norm: str) -> str:
    return _SWAPPED[norm]


def _complex_dtype(dtype) -> np.dtype:
    return np.result_type(dtype, np.complex64)


def _real_dtype(dtype) -> np.dtype:
    return np.finfo(dtype).dtype


def _check_axes(opname, aval, axes):
    if len(set(axes)) != len(axes) or any(not 0 <= a < aval.ndim for a in axes):
        raise ValueError(
            f"{opname}: axes {axes} must be distinct non-negative axes of an array of shape {aval.shape}."
        )


def _interior(shape, axis, size):
    """The index of the bins of ``axis`` that stand for themselves and their mirror."""
    index = [slice(None)] * len(shape)
    index[axis] = slice(1, (size + 1) // 2)  # bins 1 .. ceil(n/2)-1, of n output points
    return tuple(index)


def _shift_axes(axes, dim):
    """Axes of the unbatched operand, renumbered for an operand batched at ``dim``."""
    return tuple(a + (a >= dim) for a in axes)


# ---------------------------------------------------------------------------------------
# fft: complex to complex, forward (exp(-iθ)) or inverse (exp(+iθ)/N)


fft_p = Primitive("fft")


@fft_p.def_impl
def fft_impl(x, *, axes, inverse, norm, sizes):
    if len(axes) == 1:
        transform = np.fft.ifft if inverse else np.fft.fft
        return transform(x, sizes[0], axis=axes[0], norm=norm)
    return (np.fft.ifftn if inverse else np.fft.fftn)(x, s=sizes, axes=axes, norm=norm)


@fft_p.def_shape_rule
def fft_shape_rule(x, *, axes, inverse, norm, sizes):
    if x.dtype.kind != "c":
        raise TypeError(f"fft: the operand must be complex, got {x.dtype} (convert with to_complex).")
    _check_axes("fft", x, axes)
    if len(sizes) != len(axes) or any(n < x.shape[a] for a, n in zip(axes, sizes)):
        raise ValueError(
            f"fft: sizes {sizes} must pad axes {axes} of an array of shape {x.shape}, not crop them."
        )
    return ShapedArray(_padded_shape(x.shape, axes, sizes), x.dtype)


def _padded_shape(shape, axes, sizes):
    padded = list(shape)
    for axis, n in zip(axes, sizes):
        padded[axis] = n
    return tuple(padded)


def fft(x, axes, inverse=False, norm="backward", sizes=None):
    """The complex DFT of ``x`` over ``axes`` (``inverse``: the inverse DFT), each axis
    first zero-padded to its entry of ``sizes`` (default: its own length)."""
    axes = tuple(axes)
    shape = get_aval(x).shape
    sizes = tuple(shape[a] for a in axes) if sizes is None else tuple(int(n) for n in sizes)
    return bind(fft_p, x, axes=axes, inverse=bool(inverse), norm=norm, sizes=sizes)


def fft_vjp(ct, ans, x, *, axes, inverse, norm, sizes):
    # The DFT matrix is symmetric; the transpose of the zero-padding is a crop.
    ct_x = fft(ct, axes, inverse, norm)
    for axis in axes:
        if get_aval(x).shape[axis] < get_aval(ct_x).shape[axis]:
            ct_x = slice_axis(ct_x, axis, 0, get_aval(x).shape[axis])
    return ct_x


fft_p.def_vjp(fft_vjp)


@fft_p.def_jvp
def fft_jvp(primals, tangents, ans, *, axes, inverse, norm, sizes):
    return fft(tangents[0], axes, inverse, norm, sizes)


@fft_p.def_batch
def fft_batch(args, dims, *, axes, inverse, norm, sizes):
    (x,), (dim,) = args, dims
    return fft(x, _shift_axes(axes, dim), inverse, norm, sizes), dim


fft_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# rfft: real to the bins 0 .. n//2 of the last of `axes` (all bins of the others)


rfft_p = Primitive("rfft")


@rfft_p.def_impl
def rfft_impl(x, *, axes, norm, doubled, conjugate):
    if not axes:
        return x.astype(_complex_dtype(x.dtype))
    if len(axes) == 1:
        out = np.fft.rfft(x, axis=axes[0], norm=norm)
    else:
        out = np.fft.rfftn(x, axes=axes, norm=norm)
    if doubled:
        out[_interior(out.shape, axes[-1], x.shape[axes[-1]])] *= 2
    return np.conjugate(out, out=out) if conjugate else out


@rfft_p.def_shape_rule
def rfft_shape_rule(x, *, axes, norm, doubled, conjugate):
    if x.dtype.kind != "f":
        raise TypeError(f"rfft: the operand must be real floating point, got {x.dtype}.")
    _check_axes("rfft", x, axes)
    shape = list(x.shape)
    if axes:
        shape[axes[-1]] = shape[axes[-1]] // 2 + 1
    return ShapedArray(tuple(shape), _complex_dtype(x.dtype))


def rfft(x, axes, norm="backward", doubled=False, conjugate=False):
    """The DFT of real ``x`` over ``axes``, the last one halved; over no axes, ``x`` as complex.

    ``doubled`` multiplies the interior bins by 2 and ``conjugate`` conjugates the result
    (both as in the transpose of ``irfft``).
    """
    axes = tuple(axes)
    # Over no axes the flags and the norm mean nothing: one spelling keeps programs tidy.
    flags = {"doubled": bool(doubled) and bool(axes), "conjugate": bool(conjugate) and bool(axes)}
    return bind(rfft_p, x, axes=axes, norm=norm if axes else "backward", **flags)


def to_complex(x):
    """Real ``x`` as a complex array (``rfft`` over no axes); its transpose is ``real_part``."""
    return rfft(x, ())


def rfft_vjp(ct, ans, x, *, axes, norm, doubled, conjugate):
    n = get_aval(x).shape[axes[-1]] if axes else None
    return irfft(ct, axes, n, swapped_norm(norm), halved=not doubled, conjugate=not conjugate)


rfft_p.def_vjp(rfft_vjp)


@rfft_p.def_jvp
def rfft_jvp(primals, tangents, ans, *, axes, norm, doubled, conjugate):
    return rfft(tangents[0], axes, norm, doubled, conjugate)


@rfft_p.def_batch
def rfft_batch(args, dims, *, axes, norm, doubled, conjugate):
    (x,), (dim,) = args, dims
    return rfft(x, _shift_axes(axes, dim), norm, doubled, conjugate), dim


rfft_p.def_lowering(lower_by_impl)


# ---------------------------------------------------------------------------------------
# irfft: the bins 0 .. n//2 of the last of `axes` back to n real points


irfft_p = Primitive("irfft")


@irfft_p.def_impl
def irfft_impl(c, *, axes, n, norm, halved, conjugate):
    if not axes:
        return np.real(c).copy()
    if halved or conjugate:
        c = np.conjugate(c) if conjugate else c.copy()
        if halved:
            c[_interior(c.shape, axes[-1], n)] *= 0.5
    if len(axes) == 1:
        return np.fft.irfft(c, n, axis=axes[0], norm=norm)
    sizes = [c.shape[a] for a in axes[:-1]] + [n]
    return np.fft.irfftn(c, s=sizes, axes=axes, norm=norm)


@irfft_p.def_shape_rule
def irfft_shape_rule(c, *, axes, n, norm, halved, conjugate):
    if c.dtype.kind != "c":
        raise TypeError(f"irfft: the operand must be complex, got {c.dtype} (convert with to_complex).")
    _check_axes("irfft", c, axes)
    shape = list(c.shape)
    if axes:
        if n < 1 or shape[axes[-1]] != n // 2 + 1:
            raise ValueError(
                f"irfft: {n} output points need {n // 2 + 1} bins on axis {axes[-1]}, got shape {c.shape}."
            )
        shape[axes[-1]] = n
    return ShapedArray(tuple(shape), _real_dtype(c.dtype))


def irfft(c, axes, n=None, norm="backward", halved=False, conjugate=False):
    """Real values from the half spectrum ``c`` over ``axes``, ``n`` points on the last one;
    over no axes, the real part of ``c``.

    ``halved`` multiplies the interior bins by 1/2 and ``conjugate`` conjugates them first
    (both as in the transpose of ``rfft``).
    """
    axes = tuple(axes)
    n = int(n) if axes else None
    flags = {"halved": bool(halved) and bool(axes), "conjugate": bool(conjugate) and bool(axes)}
    return bind(irfft_p, c, axes=axes, n=n, norm=norm if axes else "backward", **flags)


def real_part(c):
    """The real part of complex ``c`` (``irfft`` over no axes); its transpose is ``to_complex``."""
    return irfft(c, ())


def irfft_vjp(ct, ans, c, *, axes, n, norm, halved, conjugate):
    return rfft(ct, axes, swapped_norm(norm), doubled=not halved, conjugate=not conjugate)


irfft_p.def_vjp(irfft_vjp)


@irfft_p.def_jvp
def irfft_jvp(primals, tangents, ans, *, axes, n, norm, halved, conjugate):
    return irfft(tangents[0], axes, n, norm, halved, conjugate)


@irfft_p.def_batch
def irfft_batch(args, dims, *, axes, n, norm, halved, conjugate):
    (c,), (dim,) = args, dims
    return irfft(c, _shift_axes(axes, dim), n, norm, halved, conjugate), dim


irfft_p.def_lowering(lower_by_impl)
