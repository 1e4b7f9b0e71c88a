"""NumPy functions the Array API standard lacks, composed of standard calls as NumPy computes them.

Each lowering here gives NumPy's result: either exactly (``ldexp``, ``frexp``'s exponent,
``spacing``, ``fmod``, ``gcd``, ``lcm``, ``bitwise_count``, ``searchsorted`` with NaNs
sorted last: every step is exact) or by NumPy's own formula, so within a rounding or two (``exp2`` as
``pow(2, x)``, ``logaddexp2`` and ``sinc`` as NumPy's C code writes them, the 2-norm as
the root of a sum of squares, overflowing where NumPy's does). A library that has the
NumPy function itself (Dask's ``fmod``, torch's ``gcd``) computes it, where
the standard composition would depend on how exactly the library computes a step
(NumPy's ``remainder`` is exact for non-negative operands; torch's rounds, and torch's
own ``fmod`` of floats is wrong for large quotients, so torch's is a long division).

``partition`` and ``argpartition`` are the standard's stable sort: a sort is a valid
partition, and the order NumPy's introselect leaves on either side of the kth elements
is not part of what ``partition`` promises (so results agree with NumPy's up to that
order).

On Dask arrays, whose blocks are NumPy arrays, the elementwise ones are NumPy's own
functions on each block instead. The compositions with several steps are Python
functions of the namespace, called by the generated code (``_ldexp0(a, b)``), and run
on any Array API namespace:

Example:
    >>> import numpy as np
    >>> ldexp_standard(np, "cpu", np.array([2.0**-1074, 3.0, 5e-324]), np.array([2000, -1075, 1074]))
    array([5.67251933e+278, 9.88131292e-324, 1.00000000e+000])
"""

from __future__ import annotations

import functools
import math

import numpy as np

from minigrad.ops.elementwise import exp2_p
from minigrad.ops.floating import frexp_exponent_p, ldexp_p, spacing_p
from minigrad.ops.integer import bitwise_count_p, gcd_p, lcm_p
from minigrad.ops.logaddexp import logaddexp2_p
from minigrad.ops.reduce import root_sum_squares_p
from minigrad.ops.rounding import fmod_p
from minigrad.ops.sorting import argpartition_p, partition_p, searchsorted_p
from minigrad.ops.trigonometry import sinc_p
from minigrad.transforms.jit.array_api import numpy_dtype
from minigrad.transforms.jit.array_api_rules import (
    array_api_rule,
    elementwise_by_blocks_array_api,
    unsupported,
)

__all__ = [
    "ldexp_standard",
    "frexp_exponent_standard",
    "spacing_standard",
    "fmod_standard",
    "gcd_standard",
    "bitwise_count_standard",
    "searchsorted_standard",
    "fmod_by_subtraction",
]


def elementwise_rule(primitive):
    """Register the decorated function as the Array API lowering of the elementwise
    ``primitive``, but on Dask arrays, whose blocks are NumPy arrays, NumPy's own function
    runs on each block instead (``elementwise_by_blocks_array_api``): NumPy's results
    exactly, and fewer tasks than a composition."""

    def register(rule):
        def lowering(ctx, *args):
            if ctx.library == "dask.array":
                return elementwise_by_blocks_array_api(ctx, *args)
            return rule(ctx, *args)

        lowering.__name__ = rule.__name__
        array_api_rule(primitive)(lowering)
        return rule

    return register


def _constant(xp, device, value, like):
    return xp.asarray(value, dtype=like.dtype, device=device)


def _call(ctx, function, hint: str, *args) -> str:
    """A call of ``function(xp, device, *args)`` from the generated code."""
    bound = functools.partial(function, ctx.xp_module, ctx.device)
    return f"{ctx.constant(bound, hint)}({', '.join(args)})"


# -- powers of two --------------------------------------------------------------------------


@elementwise_rule(exp2_p)
def exp2_array_api(ctx, x):
    # pow is correctly rounded or nearly so in every library, as NumPy's exp2.
    return f"{ctx.xp}.pow({ctx.array(2.0, ctx.out_avals[0].dtype, 'two')}, {x})"


def _power_of_two(xp, device, n, like):
    """``2.0 ** n`` exactly, for integers ``n`` (int64) in the normal exponent range of
    ``like``'s dtype: a product of the powers ``2 ** ±2**k`` that ``n``'s bits select,
    each partial product a power of two in range, so no step rounds (pow need not be exact)."""
    magnitude = xp.abs(n)
    info = np.finfo(numpy_dtype(xp, like.dtype))
    up = down = xp.ones(n.shape, dtype=like.dtype, device=device)
    k = 0
    while 2**k <= info.maxexp - 1:
        selected = xp.bitwise_and(xp.bitwise_right_shift(magnitude, k), 1) == 1
        up = xp.where(selected, up * _constant(xp, device, 2.0 ** (2**k), like), up)
        down = xp.where(selected, down * _constant(xp, device, 2.0 ** -(2**k), like), down)
        k += 1
    return xp.where(n >= 0, up, down)


def ldexp_standard(xp, device, x, n):
    """``x * 2**n`` with one rounding, as C's ``ldexp`` (after musl's ``scalbn``).

    Exponents past the normal range are applied in steps that cannot round: up by the
    largest normal power; down by a power that keeps 53 (24) bits of headroom above the
    subnormals, so that only the last multiplication rounds.

    Example:
      >>> import numpy as np
      >>> ldexp_standard(np, "cpu", np.array([0.75, -1.0]), np.array([2, -1074]))
      array([ 3.e+000, -5.e-324])
    """
    info = np.finfo(numpy_dtype(xp, x.dtype))
    top, bottom = info.maxexp - 1, info.minexp
    shrink = bottom + info.nmant + 1  # 2**-969 for float64, 2**-102 for float32
    n, one = xp.astype(n, xp.int64), _constant(xp, device, 1.0, x)
    n = xp.clip(n, 2 * (bottom - info.nmant) - 2, 3 * top)  # beyond these, 0 or inf anyway
    for _ in range(2):
        big = n > top
        x = x * xp.where(big, _constant(xp, device, 2.0**top, x), one)  # no spurious overflow
        n = xp.where(big, n - top, n)
    for _ in range(2):
        small = n < bottom
        x = x * xp.where(small, _constant(xp, device, 2.0**shrink, x), one)
        n = xp.where(small, n - shrink, n)
    n = xp.clip(n, bottom, top)
    return x * _power_of_two(xp, device, n, x)


@elementwise_rule(ldexp_p)
def ldexp_array_api(ctx, x, n):
    # Not the library's ldexp: torch's is x * 2**n, which rounds 2**n out of range.
    return _call(ctx, ldexp_standard, "ldexp", x, n)


def frexp_exponent_standard(xp, device, x):
    """``np.frexp(x)[1]``: the ``e`` of ``x = m * 2**e`` with ``0.5 <= |m| < 1`` (0 for 0,
    infinities and NaN), as int32. ``floor(log2|x|) + 1`` may be one off next to a power
    of two, where ``log2`` rounds; the exact ``m`` says which way.

    Example:
      >>> import numpy as np
      >>> frexp_exponent_standard(np, "cpu", np.array([1.0, 0.4999999999999999, 0.0, 5e-324]))
      array([    1,    -1,     0, -1073], dtype=int32)
    """
    regular = xp.isfinite(x) & (x != 0)
    magnitude = xp.where(regular, xp.abs(x), xp.ones_like(x))
    e = xp.astype(xp.floor(xp.log2(magnitude)), xp.int64) + 1
    m = ldexp_standard(xp, device, magnitude, -e)
    e = xp.where(m >= 1, e + 1, xp.where(m < 0.5, e - 1, e))
    return xp.astype(xp.where(regular, e, xp.zeros_like(e)), xp.int32)


@elementwise_rule(frexp_exponent_p)
def frexp_exponent_array_api(ctx, x):
    return _call(ctx, frexp_exponent_standard, "frexp_exponent", x)


def spacing_standard(xp, device, x):
    """``np.spacing(x)``: the distance to the next float away from zero (positive at -0.0).

    Example:
      >>> import numpy as np
      >>> spacing_standard(np, "cpu", np.array([1.0, -1.0, -0.0]))
      array([ 2.22044605e-016, -2.22044605e-016,  4.94065646e-324])
    """
    away = xp.where(
        xp.signbit(x) & (x != 0), _constant(xp, device, -math.inf, x), _constant(xp, device, math.inf, x)
    )
    return xp.nextafter(x, away) - x


@elementwise_rule(spacing_p)
def spacing_array_api(ctx, x):
    return _call(ctx, spacing_standard, "spacing", x)


@elementwise_rule(logaddexp2_p)
def logaddexp2_array_api(ctx, x, y):
    return _call(ctx, logaddexp2_standard, "logaddexp2", x, y)


def logaddexp2_standard(xp, device, x, y):
    """``log2(2**x + 2**y)`` as NumPy's C code: ``x + 1`` where ``x == y`` (infinities
    included), else the larger plus ``log2(1 + 2**-|x - y|)``.

    Example:
      >>> import numpy as np
      >>> logaddexp2_standard(np, "cpu", np.array([3.0, -np.inf]), np.array([3.0, 1.0]))
      array([4., 1.])
    """
    rest = xp.pow(_constant(xp, device, 2.0, x), -xp.abs(x - y))
    combined = xp.maximum(x, y) + xp.log1p(rest) * _constant(xp, device, 1 / math.log(2), x)
    return xp.where(x == y, x + 1, combined)


@elementwise_rule(sinc_p)
def sinc_array_api(ctx, x):
    # As np.sinc: pi * x with 1e-20 in place of 0, then sin(y) / y.
    dtype = ctx.out_avals[0].dtype
    tiny, pi = ctx.array(1e-20, dtype, "tiny"), ctx.array(math.pi, dtype, "pi")
    scaled = f"{pi} * {ctx.xp}.where({x} == 0, {tiny}, {x})"
    return f"(lambda y: {ctx.xp}.sin(y) / y)({scaled})"


# -- remainders and integers ----------------------------------------------------------------


def fmod_standard(xp, device, x, y):
    """C's ``fmod``: the remainder of ``x / y`` truncated, with the sign of ``x``.

    For floats, the remainder of the magnitudes (an exact step in NumPy's ``remainder``,
    which adjusts nothing when both operands are non-negative) signed as ``x``; for
    integers, the floor remainder moved to ``x``'s side.

    Example:
      >>> import numpy as np
      >>> fmod_standard(np, "cpu", np.array([-7.5, 7.5, -0.0]), np.array([2.0, -2.0, 3.0]))
      array([-1.5,  1.5, -0. ])
    """
    if xp.isdtype(x.dtype, "real floating"):
        return xp.copysign(xp.remainder(xp.abs(x), xp.abs(y)), x)
    floor_remainder = xp.remainder(x, y)
    moved = (floor_remainder != 0) & ((floor_remainder < 0) != (x < 0))
    return xp.where(moved, floor_remainder - y, floor_remainder)


def fmod_by_subtraction(xp, device, x, y):
    """C's ``fmod`` of floats by long division: from ``|x|``, subtract ``|y| * 2**k`` for
    the largest ``k`` that leaves it non-negative, until less than ``|y|`` remains. Each
    subtraction is exact (its operands are within a factor 2: Sterbenz), and lowers the
    exponent, so there are at most as many steps as the exponents of ``x`` and ``y``
    differ (one read of a flag from the device per step). For libraries whose own
    ``fmod`` and ``remainder`` round (torch).

    Example:
      >>> import numpy as np
      >>> fmod_by_subtraction(np, "cpu", np.array([1e308, -7.5, 3.0]), np.array([0.49999999999999994, 2.0, np.inf]))
      array([ 0.22019556, -1.5       ,  3.        ])
    """
    defined = xp.isfinite(x) & ~xp.isnan(y) & (y != 0)  # else nan, as C's fmod
    divisor = xp.where(defined, xp.abs(y), xp.ones_like(y))
    left = xp.where(defined & xp.isfinite(y), xp.abs(x), xp.zeros_like(x))  # |x| < inf = |y|: x itself
    while bool(xp.any(left >= divisor)):
        big = left >= divisor
        shift = xp.astype(frexp_exponent_standard(xp, device, left), xp.int64)
        shift = shift - xp.astype(frexp_exponent_standard(xp, device, divisor), xp.int64)
        step = ldexp_standard(xp, device, divisor, shift)
        step = xp.where(step > left, ldexp_standard(xp, device, divisor, shift - 1), step)
        left = xp.where(big, left - step, left)
    left = xp.where(xp.isinf(y) & defined, xp.abs(x), left)
    nan = xp.asarray(math.nan, dtype=x.dtype, device=device)
    return xp.where(defined, xp.copysign(left, x), nan)


@elementwise_rule(fmod_p)
def fmod_array_api(ctx, x, y):
    if ctx.library == "torch" and ctx.out_avals[0].dtype.kind == "f":
        # torch's fmod is nan or wrong once |x / y| is large (fmod(1e308,
        # 0.49999999999999994) is nan), and its remainder rounds.
        return _call(ctx, fmod_by_subtraction, "fmod", x, y)
    if getattr(ctx.xp_module, "fmod", None) is not None:
        return f"{ctx.xp}.fmod({x}, {y})"  # the library's own C fmod (torch's integers, Dask, CuPy)
    return _call(ctx, fmod_standard, "fmod", x, y)


def gcd_standard(xp, device, a, b):
    """``np.gcd``: the greatest common divisor of ``|a|`` and ``|b|`` by Euclid's
    algorithm, run for as many steps as the dtype's largest operands can need
    (consecutive Fibonacci numbers are the slowest: 92 steps for int64).

    Example:
      >>> import numpy as np
      >>> gcd_standard(np, "cpu", np.array([12, -4, 0]), np.array([18, 6, 0]))
      array([6, 2, 0])
    """
    a, b = xp.broadcast_arrays(xp.abs(a), xp.abs(b))
    bits = np.iinfo(numpy_dtype(xp, a.dtype)).bits
    previous, current, steps = 0, 1, 0
    while current < 2**bits:  # the number of Fibonacci numbers below the dtype's range
        previous, current, steps = current, previous + current, steps + 1
    zero = xp.zeros_like(b)
    for _ in range(steps):
        nonzero = b != 0
        a, b = (
            xp.where(nonzero, b, a),
            # |C's truncated remainder|: NumPy's Euclid runs on unsigned magnitudes, and
            # |INT64_MIN| is negative here (a floor remainder by it would be too).
            xp.where(
                nonzero, xp.abs(fmod_standard(xp, device, a, xp.where(nonzero, b, xp.ones_like(b)))), zero
            ),
        )
    return a


@elementwise_rule(gcd_p)
def gcd_array_api(ctx, a, b):
    if getattr(ctx.xp_module, "gcd", None) is not None:
        # torch's own, whose sign differs from NumPy's next to INT64_MIN (-2 for 6 and it).
        return f"{ctx.xp}.abs({ctx.xp}.gcd({a}, {b}))"
    return _call(ctx, gcd_standard, "gcd", a, b)


@elementwise_rule(lcm_p)
def lcm_array_api(ctx, a, b):
    # Not torch's own lcm: it dies of SIGFPE on some int64 operands (INT64_MIN among them).
    return _call(ctx, lcm_standard, "lcm", a, b)


def lcm_standard(xp, device, a, b):
    """``np.lcm``: ``|a| // gcd(a, b) * |b|``, 0 where either is 0.

    Example:
      >>> import numpy as np
      >>> lcm_standard(np, "cpu", np.array([4, -6, 0]), np.array([6, 4, 5]))
      array([12, 12,  0])
    """
    own_gcd = getattr(xp, "gcd", None)  # torch's (a loop of 92 steps otherwise)
    divisor = gcd_standard(xp, device, a, b) if own_gcd is None else xp.abs(own_gcd(a, b))
    safe = xp.where(divisor == 0, xp.ones_like(divisor), divisor)
    return xp.floor_divide(xp.abs(a), safe) * xp.abs(b)  # wraps around where NumPy's does


def bitwise_count_standard(xp, device, x):
    """``np.bitwise_count``: the number of 1 bits of ``|x|``, as uint8 (one shift per bit,
    so the sign bit of ``|INT64_MIN|`` counts once, as in NumPy).

    Example:
      >>> import numpy as np
      >>> bitwise_count_standard(np, "cpu", np.array([7, -8, 0]))
      array([3, 1, 0], dtype=uint8)
    """
    dtype = numpy_dtype(xp, x.dtype)
    magnitude = xp.abs(x) if dtype.kind == "i" else x
    count = xp.zeros(x.shape, dtype=x.dtype, device=device)
    for k in range(np.iinfo(dtype).bits):
        count = count + xp.bitwise_and(xp.bitwise_right_shift(magnitude, k), 1)
    return xp.astype(count, xp.uint8)


@elementwise_rule(bitwise_count_p)
def bitwise_count_array_api(ctx, x):
    return _call(ctx, bitwise_count_standard, "bitwise_count", x)


# -- searching and norms --------------------------------------------------------------------


def searchsorted_standard(xp, device, a, v, *, side):
    """``np.searchsorted(a, v, side)`` with NumPy's order, NaNs after everything (the
    standard leaves NaNs to the library: torch's binary search steps past them).

    Example:
      >>> import numpy as np
      >>> searchsorted_standard(np, "cpu", np.array([0.0, np.inf, np.nan]), np.array([np.inf, np.nan]), side="right")
      array([2, 3])
    """
    if not xp.isdtype(a.dtype, "real floating"):
        return xp.astype(xp.searchsorted(a, v, side=side), xp.int64)
    numbers = xp.sum(xp.astype(~xp.isnan(a), xp.int64))  # the NaNs are the last entries
    infinity = xp.asarray(math.inf, dtype=a.dtype, device=device)
    found = xp.searchsorted(xp.where(xp.isnan(a), infinity, a), xp.where(xp.isnan(v), infinity, v), side=side)
    found = xp.minimum(xp.astype(found, xp.int64), numbers)  # no number goes after a NaN
    nan_place = numbers if side == "left" else xp.asarray(a.shape[0], dtype=xp.int64, device=device)
    return xp.where(xp.isnan(v), nan_place, found)


@array_api_rule(searchsorted_p)
def searchsorted_array_api(ctx, a, v, *, side):
    if ctx.in_avals[0].dtype.kind == "c":
        raise unsupported(ctx, "of complex numbers (the standard's searchsorted orders real numbers only)")
    search = functools.partial(searchsorted_standard, ctx.xp_module, ctx.device, side=side)
    return f"{ctx.constant(search, 'searchsorted')}({a}, {v})"


# -- partition ------------------------------------------------------------------------------
# NumPy's partition leaves the elements on either side of the kth positions in an order
# of its own (introselect's); minigrad promises only what NumPy promises, that each kth
# element is where a sort puts it, smaller ones before and larger ones after. A sort is
# such an arrangement, and the standard has one (stable, so signed zeros keep their order).


@array_api_rule(partition_p)
def partition_array_api(ctx, x, *, kth, axis):
    return f"{ctx.xp}.sort({x}, axis={int(axis)}, stable=True)"


@array_api_rule(argpartition_p)
def argpartition_array_api(ctx, x, *, kth, axis):
    xp = ctx.xp
    return f"{xp}.astype({xp}.argsort({x}, axis={int(axis)}, stable=True), {ctx.dtype(np.int64)})"


@array_api_rule(root_sum_squares_p)
def root_sum_squares_array_api(ctx, x, *, axes):
    # As the NumPy implementation: no scaling, so it overflows where NumPy's does.
    if not axes:
        return f"{ctx.xp}.sqrt({x} * {x})"
    return f"{ctx.xp}.sqrt({ctx.xp}.sum({x} * {x}, axis={tuple(axes)!r}))"
