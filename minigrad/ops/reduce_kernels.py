"""How compiled programs reduce rows of an array: by a matrix-vector product or a transposed copy.

NumPy reduces over a short axis one row at a time: summing a (1024, 27) float32 array
along its last axis calls its inner loop 1,024 times (25 us; the maximum 56 us), and
summing a (1024, 192) array over its first axis adds 1,024 rows in turn (28 us). Two
layouts cover the reductions training steps make (a softmax over a few classes, the bias
gradient of a batch of time steps):

- a sum over the *leading* axes of a row-major array is ``ones @ rows``, and a sum over
  a short *trailing* axis ``rows @ ones``: one BLAS matrix-vector product, 9 us and 5 us
  for the arrays above. NumPy's own row-by-row sum over leading axes adds in order, and
  so does its sum of up to 128 elements (in eight lanes; pairwise summation starts
  above), so a product that adds in order within a few lanes is no less accurate. A
  trailing axis longer than ``SHORT_SUM`` is left to NumPy, whose pairwise summation
  keeps the error of long sums small;
- the maximum or minimum over a short trailing axis reads a transposed copy (the
  reduced axis outermost), so the inner loop runs along the rows: 16 us instead of 56.

Times are medians on a 2-core x86_64 VM, one CPU, NumPy 2.4.6 with OpenBLAS 0.3.31.
Each function takes what the lowering knows of the shapes. An operand that is not
row-major at run time (a transposed view, or the result of arithmetic on one, which
NumPy lays out like its operand) is copied for the trailing reductions, whose rows are
short either way, and left to NumPy's reduction for the leading sum.

Example:
    >>> import numpy as np
    >>> x = np.arange(6.0).reshape(2, 3)
    >>> sum_leading(x, 1, 2, 3, (3,)), sum_trailing(x, 2, 3, (2,)), extremum_trailing(np.maximum, x, 2, 3, (2,))
    (array([3., 5., 7.]), array([ 3., 12.]), array([2., 5.]))
"""

from __future__ import annotations

import functools

import numpy as np

from minigrad.core.lowering import FRESH, Code

__all__ = [
    "SHORT_SUM", "SHORT_EXTREMUM", "MAX_ROWS", "CACHED_ONES", "MIN_ROWS", "MIN_SIZE", "MIN_ROWS_EXTREMUM",
    "sum_leading", "sum_trailing", "extremum_trailing", "row_plan", "lower_by_rows",
]  # fmt: skip

# A trailing axis this long or shorter is reduced as rows (measured on 1,024 float32
# rows: the matrix-vector sum beat NumPy's at 27, 64 and 128 elements, 8.8 us against
# 38.7 at 128, a layer norm's width; the transposed maximum at 27 and 64, not at 128).
SHORT_SUM = 128
SHORT_EXTREMUM = 64

# Below these sizes NumPy's reduction costs less than a call of these functions (about
# 2 us each; NumPy's sum of (32, 10) float32 rows 1.8 us, of (64, 8) 2.4 us; its maximum
# of (64, 8) 4.2 us against 4.0).
MIN_ROWS = 64
MIN_SIZE = 1024
MIN_ROWS_EXTREMUM = 128

# Beyond this many rows a reduction stays NumPy's. The ones vectors of the products are
# cached per length and dtype up to CACHED_ONES elements (64 of them hold at most 32 MiB)
# and made anew above.
MAX_ROWS = 2**20
CACHED_ONES = 2**16


def _ones(length: int, dtype: np.dtype) -> np.ndarray:
    return _cached_ones(length, dtype) if length <= CACHED_ONES else np.ones(length, dtype)


@functools.lru_cache(maxsize=64)
def _cached_ones(length: int, dtype: np.dtype) -> np.ndarray:
    ones = np.ones(length, dtype)
    ones.flags.writeable = False
    return ones


def row_plan(shape: tuple, axes: tuple) -> tuple | None:
    """``("leading" | "trailing", rows, columns)`` when ``axes`` are ``shape``'s first or
    last axes, or None.

    Example:
      >>> row_plan((32, 32, 27), (2,)), row_plan((32, 32, 27), (0, 1)), row_plan((4, 5), (0, 1))
      (('trailing', 1024, 27), ('leading', 1024, 27), None)
    """
    count, ndim = len(axes), len(shape)
    if not 0 < count < ndim:
        return None
    inner = int(np.prod(shape[count:], dtype=np.int64))
    outer = int(np.prod(shape[:count], dtype=np.int64))
    if axes == tuple(range(count)):
        return ("leading", outer, inner)
    outer = int(np.prod(shape[: ndim - count], dtype=np.int64))
    inner = int(np.prod(shape[ndim - count :], dtype=np.int64))
    if axes == tuple(range(ndim - count, ndim)):
        return ("trailing", outer, inner)
    return None


def sum_leading(x, count, rows, columns, shape):
    """The sum of ``x`` over its first ``count`` axes (``rows`` of ``columns`` elements),
    shaped ``shape``."""
    if not x.flags.c_contiguous:
        return np.add.reduce(x, tuple(range(count)))
    return (_ones(rows, x.dtype) @ x.reshape(rows, columns)).reshape(shape)


def sum_trailing(x, rows, columns, shape):
    """The sum of ``x`` over its last axes (``columns`` elements in each of ``rows``),
    shaped ``shape``. An operand that is not row-major is copied first (its rows are
    short: NumPy would reduce it one short row at a time too)."""
    return (np.ascontiguousarray(x).reshape(rows, columns) @ _ones(columns, x.dtype)).reshape(shape)


def extremum_trailing(ufunc, x, rows, columns, shape):
    """``ufunc.reduce`` (``np.maximum`` or ``np.minimum``) of ``x`` over its last axes,
    from a copy with the reduced elements outermost, shaped ``shape``."""
    return ufunc.reduce(np.reshape(x, (rows, columns)).T.copy(), 0).reshape(shape)


def lower_by_rows(ctx, x, axes, ufunc) -> Code | None:
    """The code reducing ``x`` over ``axes`` with ``ufunc`` (``np.add``, ``np.maximum``,
    ``np.minimum``) as rows, or None where NumPy's own reduction is as good."""
    (aval,), out = ctx.in_avals, ctx.out_avals[0]
    plan = row_plan(aval.shape, tuple(axes))
    if plan is None or aval.dtype not in (np.float32, np.float64):
        return None
    where, rows, columns = plan
    if rows < MIN_ROWS or columns < 1 or rows * columns < MIN_SIZE:
        return None
    shape = tuple(out.shape)
    if ufunc is np.add and where == "leading" and rows <= MAX_ROWS:
        call = f"{ctx.constant(sum_leading, 'sum_leading')}({x}, {len(axes)}, {rows}, {columns}, {shape!r})"
    elif ufunc is np.add and where == "trailing" and columns <= SHORT_SUM:
        call = f"{ctx.constant(sum_trailing, 'sum_trailing')}({x}, {rows}, {columns}, {shape!r})"
    elif (
        ufunc in (np.maximum, np.minimum)
        and where == "trailing"
        and columns <= SHORT_EXTREMUM
        and rows >= MIN_ROWS_EXTREMUM
    ):
        name = ctx.constant(extremum_trailing, "extremum_trailing")
        call = f"{name}({ctx.constant(ufunc, ufunc.__name__)}, {x}, {rows}, {columns}, {shape!r})"
    else:
        return None
    return Code(call, FRESH)
