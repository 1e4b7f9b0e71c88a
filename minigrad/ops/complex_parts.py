"""The parts of a complex number: ``real``, ``imag``, ``conj`` and ``complex(x, y)``.

These four maps are linear over the reals but not over the complex numbers (none is
multiplication by a complex constant), so, unlike the elementwise primitives, each has
two rules: its JVP is the map itself applied to the tangent, and its VJP is the map's
*transpose* under the pairing ``<a, b> = Re(a * b)`` (no conjugation; JAX's convention,
see docs/complex.md). Written out, for a real cotangent ``c`` and a complex one ``w``:

====================  ==================  =====================================
primitive             JVP of tangent t    VJP of cotangent
====================  ==================  =====================================
``real(z)``           ``real(t)``         ``c + 0j``
``imag(z)``           ``imag(t)``         ``-1j * c``
``conj(z)``           ``conj(t)``         ``conj(w)``
``complex(x, y)``     ``tx + 1j * ty``    ``real(w)`` for x, ``-imag(w)`` for y
====================  ==================  =====================================

Each rule uses only these primitives and casts, so the module sits below the
arithmetic, whose rules (``abs`` of a complex number) need ``real`` and ``conj``.

Example:
    >>> import numpy as np
    >>> real(np.array([1.0 + 2.0j])), imag(np.array([1.0 + 2.0j]))
    (array([1.]), array([2.]))
"""

from __future__ import annotations

import numpy as np

from minigrad.core.ir import ShapedArray
from minigrad.core.lowering import lower_by_impl, lower_ufunc
from minigrad.core.primitive import Primitive
from minigrad.core.trace import bind, bind_args, get_aval
from minigrad.ops.operands import ELEMENTWISE_PRIMITIVES, broadcast_shapes, weak_operands
from minigrad.ops.selection import convert_element_type
from minigrad.ops.shape import elementwise_batch_rule

__all__ = [
    "real", "imag", "conj", "complex", "real_dtype", "complex_dtype",
    "real_p", "imag_p", "conj_p", "complex_p",
]  # fmt: skip


def real_dtype(dtype) -> np.dtype:
    """The dtype of the real and imaginary parts of ``dtype`` (complex64 -> float32).

    Example:
      >>> real_dtype(np.complex64), real_dtype(np.float64)
      (dtype('float32'), dtype('float64'))
    """
    dtype = np.dtype(dtype)
    return np.finfo(dtype).dtype if dtype.kind == "c" else dtype


def complex_dtype(dtype) -> np.dtype:
    """The complex dtype whose parts have ``dtype`` (float32 -> complex64).

    Example:
      >>> complex_dtype(np.float32), complex_dtype(np.float64)
      (dtype('complex64'), dtype('complex128'))
    """
    return np.result_type(dtype, np.complex64)


def _elementwise_primitive(name: str) -> Primitive:
    prim = Primitive(name)
    prim.def_batch(elementwise_batch_rule(prim))
    ELEMENTWISE_PRIMITIVES.append(prim)
    return prim


def _complex_operand_rule(name):
    def part_shape_rule(z):
        if z.dtype.kind != "c":
            raise TypeError(
                f"{name}: the operand has dtype {z.dtype}, not a complex dtype. "
                f"minigrad.numpy.{name} accepts real arrays too (and returns what NumPy does)."
            )
        return ShapedArray(z.shape, real_dtype(z.dtype) if name in ("real", "imag") else z.dtype)

    part_shape_rule.__name__ = f"{name}_shape_rule"
    return part_shape_rule


# ---------------------------------------------------------------------------------------
# real(z) and imag(z)


def _real_impl(z):
    return np.real(z).copy()  # a copy: a view would let later in-place work write into z


real_p = _elementwise_primitive("real")
real_p.def_impl(_real_impl)
real_p.def_shape_rule(_complex_operand_rule("real"))
real_p.def_lowering(lower_by_impl)


def real_transpose(ct, ans, z):
    return convert_element_type(ct, get_aval(z).dtype)  # c -> c + 0j


real_p.def_vjp(real_transpose)


@real_p.def_jvp
def real_jvp(primals, tangents, ans):
    return real(tangents[0])


def real(z):
    """The real part of a complex array (``z.real``)."""
    return bind(real_p, z)


def _imag_impl(z):
    return np.imag(z).copy()


imag_p = _elementwise_primitive("imag")
imag_p.def_impl(_imag_impl)
imag_p.def_shape_rule(_complex_operand_rule("imag"))
imag_p.def_lowering(lower_by_impl)


def imag_transpose(ct, ans, z):
    # imag(t) = Re(-1j * t), so the transpose is c -> -1j * c = conj(0 + 1j * c).
    return conj(complex(0.0, ct))


imag_p.def_vjp(imag_transpose)


@imag_p.def_jvp
def imag_jvp(primals, tangents, ans):
    return imag(tangents[0])


def imag(z):
    """The imaginary part of a complex array (``z.imag``)."""
    return bind(imag_p, z)


# ---------------------------------------------------------------------------------------
# conj(z)


conj_p = _elementwise_primitive("conj")
conj_p.def_impl(np.conjugate)
conj_p.def_shape_rule(_complex_operand_rule("conj"))
conj_p.def_lowering(lower_ufunc(np.conjugate))


def conj_transpose(ct, ans, z):
    return conj(ct)


conj_p.def_vjp(conj_transpose)


@conj_p.def_jvp
def conj_jvp(primals, tangents, ans):
    return conj(tangents[0])


def conj(z):
    """The complex conjugate of a complex array."""
    return bind(conj_p, z)


# ---------------------------------------------------------------------------------------
# complex(x, y) = x + 1j * y


def complex_impl(x, y):
    # Not x + 1j * y: 1j * inf is nan + inf*j, which would spoil the real part.
    out = np.empty(np.broadcast_shapes(np.shape(x), np.shape(y)), complex_dtype(x.dtype))
    out.real = x
    out.imag = y
    return out


complex_p = _elementwise_primitive("complex")
complex_p.def_impl(complex_impl)
complex_p.def_lowering(lower_by_impl)


@complex_p.def_shape_rule
def complex_shape_rule(x, y):
    if x.dtype != y.dtype or x.dtype.kind != "f":
        raise TypeError(
            f"complex: the real and imaginary parts must be real floating-point arrays of one "
            f"dtype, got {x.dtype} and {y.dtype}. Cast them first (x.astype(np.float64)), or "
            "write x + 1j * y, which promotes as NumPy does."
        )
    return ShapedArray(broadcast_shapes("complex", x.shape, y.shape), complex_dtype(x.dtype))


def complex_real_transpose(ct, ans, x, y):
    return real(ct)


def complex_imag_transpose(ct, ans, x, y):
    return imag(conj(ct))  # -imag(ct)


complex_p.def_vjp(complex_real_transpose, complex_imag_transpose)


@complex_p.def_jvp
def complex_jvp(primals, tangents, ans):
    x_tangent, y_tangent = tangents
    if x_tangent is None and y_tangent is None:
        return None
    zero = np.zeros((), get_aval(primals[0]).dtype)
    return complex(zero if x_tangent is None else x_tangent, zero if y_tangent is None else y_tangent)


def complex(x, y):  # noqa: A001 - jax.lax's name
    """``x + 1j * y`` from real arrays ``x`` and ``y`` of one dtype (as ``jax.lax.complex``).

    Example:
      >>> complex(np.array([1.0]), 2.0)
      array([1.+2.j])
    """
    return bind_args(complex_p, weak_operands((x, y)), {})
