"""Matrix products compiled for this CPU: what ``jit`` runs for ``a @ b`` of two matrices.

NumPy hands a product to its BLAS, and the BLAS picks its kernels by the CPU, or by
what the machine's settings tell it (``OPENBLAS_CORETYPE``): on a CPU with 512-bit
vectors it may well run kernels written for 256-bit ones at half the arithmetic a
cycle. numba's LLVM compiles for the CPU it runs on, as XLA does for JAX, so with the
``fast`` extra installed ``jit`` writes the products of float32 and float64 matrices
as calls of a kernel compiled here, the way GotoBLAS taught everyone to write one:

- The tile: ``ROWS`` rows of C by two vectors' width of columns (8 x 32 float32,
  8 x 16 float64) stay in 16 vector registers while k runs; each step loads two
  vectors of a row of B and multiplies them by each of the 8 numbers of A's column
  (one fused multiply-add per register). Written in LLVM's own IR (``tile`` in
  ``gemm_kernel``), since numba's loops did not keep a block of accumulators in
  registers (8 to 22 GFLOP/s tried, against 250 for the IR).
- The blocks: k runs ``DEPTH`` at a time, so the 8 rows of A a tile reads and the
  ``DEPTH`` rows of B's panel stay in the caches while every tile of a block uses them;
  the first block writes C, the later ones add to it.
- No copies where none are needed: the tile reads A through any strides (a transposed
  A costs nothing) and B in place when its rows are contiguous. A transposed B (the
  ``w.T`` of a backward pass, or of ``x @ w.T``) is copied panel by panel first,
  ``lanes`` x ``lanes`` numbers at a time transposed in registers (``transpose`` in
  ``gemm_kernel``; measured on (128, 784) @ (512, 784).T: 432 us, against 415 us with
  B's rows contiguous and 614 us copying number by number); so are a ragged last panel
  of B and the last rows of A, padded with zeros. A ragged tile is computed into a
  scratch tile whose valid part is then copied into C.

The sums run in another order than the BLAS's, so results differ in the last bits, as
they differ between BLAS builds. Compiling takes about a second per dtype, once a
process: like the small-array loops (``fusion_tier``), the kernel is compiled only
once the products a process has run would have saved that time (or after
``TIER_UP_CALLS`` products, when set), and then kept only if it beats NumPy's product
on this machine (``_beats_numpy``). Until then, and for products it does not fit
(other dtypes, small or batched ones, a B with neither axis contiguous),
``matrix_product`` is ``a @ b``. Compiled programs call the kernel's ``multiply``
directly: the lowering has checked the shapes already.

Example:
    >>> import numpy as np
    >>> a, b = np.ones((16, 4), np.float32), np.ones((4, 64), np.float32)
    >>> product = matrix_product(a, b)
    >>> product.shape, float(product[0, 0])
    ((16, 64), 4.0)
"""

from __future__ import annotations

import importlib
import logging
import threading
import time

import numpy as np

from minigrad.core.lowering import FRESH, Code
from minigrad.ops.linalg import matmul_p
from minigrad.transforms.jit.fusion import fusion_available

__all__ = [
    "TIER_UP_CALLS", "matrix_product", "fits_compiled_product", "compiled_product", "kernel_state", "lower_matmul",
    "vector_lanes", "tile_columns",
]  # fmt: skip

logger = logging.getLogger("minigrad.jit")

VECTOR_BYTES = 64  # one AVX-512 register; LLVM splits it in two on a CPU with 256-bit ones
ROWS = 8  # rows of a tile: 8 x 2 accumulators + 2 of B + 1 of A fit in 32 registers
VECTORS = 2  # vectors of columns of a tile
DEPTH = 256  # k of a block: a 256 x 32 float32 panel of B (32 KB) stays in the L1 cache
ROW_BLOCK = 128  # rows of A per block: 128 x 256 float32 (128 KB) stay in the L2 cache
COLUMN_BLOCK = 2048  # columns of a copied B block: 256 x 2048 float32 is 2 MB

# Products before the kernel is compiled. None: once NumPy's products of the dtype
# would have run long enough for the kernel's saving to pay for its compilation.
# Tests set it to 1 to take the kernel's path on purpose; benchmarks/run.py too.
TIER_UP_CALLS: int | None = None
# Measured on a shared 2-core x86_64 VM (numba 0.68): about 1.2 s to compile a dtype's
# kernel; NumPy's float32 products under AVX2 kernels ran about 6e10 multiply-adds a
# second (3e10 for float64), the compiled kernel about twice as many.
COMPILE_SECONDS = 1.2
NUMPY_MULTIPLY_ADDS_PER_SECOND = {np.dtype(np.float32): 6e10, np.dtype(np.float64): 3e10}
SAVED_FRACTION = 0.5


def vector_lanes(dtype) -> int:
    """Numbers of ``dtype`` in one vector register of the kernel.

    Example:
      >>> vector_lanes(np.float32), vector_lanes(np.float64)
      (16, 8)
    """
    return VECTOR_BYTES // np.dtype(dtype).itemsize


def tile_columns(dtype) -> int:
    """Columns of C in one tile of the kernel: a product needs at least that many.

    Example:
      >>> tile_columns(np.float32), tile_columns(np.float64)
      (32, 16)
    """
    return VECTORS * vector_lanes(dtype)


def _fits(rows: int, depth: int, columns: int, dtype) -> bool:
    # At least a tile's rows and columns: smaller products run faster as NumPy's.
    return dtype in _STATES and rows >= ROWS and columns >= tile_columns(dtype) and depth >= 1


def fits_compiled_product(a_aval, b_aval) -> bool:
    """Whether ``jit`` writes the product of operands of these avals as a call of the
    kernel: matrices of one float dtype, with at least a tile's rows and columns, and
    numba installed.

    Example:
      >>> from minigrad.core.ir import ShapedArray
      >>> f32 = np.dtype(np.float32)
      >>> fits_compiled_product(ShapedArray((128, 64), f32), ShapedArray((64, 10), f32))  # 10 columns
      False
    """
    if a_aval.ndim != 2 or b_aval.ndim != 2 or b_aval.dtype != a_aval.dtype:
        return False
    (rows, depth), columns = a_aval.shape, b_aval.shape[1]
    return _fits(rows, depth, columns, a_aval.dtype) and fusion_available()


def lower_matmul(ctx, a, b) -> Code:
    """``jit``'s code for ``matmul``: a call of the kernel's ``multiply`` for its dtype
    when the operands fit (``fits_compiled_product``), else the primitive's own
    lowering (``a @ b``).

    Example:
      >>> import minigrad as mg
      >>> source = mg.jit(lambda a, b: a @ b).lower(np.ones((8, 4)), np.ones((4, 16))).source
      >>> ("float64_product(a, b)" in source) == fusion_available()
      True
    """
    a_aval, b_aval = ctx.in_avals
    if fits_compiled_product(a_aval, b_aval):
        dtype = a_aval.dtype
        return Code(f"{ctx.constant(_MULTIPLY[dtype], f'{dtype.name}_product')}({a}, {b})", FRESH)
    return matmul_p.lowering(ctx, a, b)


class _Kernel:
    """The kernel of one dtype: the compiled product once chosen (``product``), else
    what NumPy's products have run up (``calls``, ``saved_seconds``)."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self.product = None  # the compiled product, once compiled and faster than NumPy's
        self.settled = False  # compiled (and kept or not), or failed: nothing more to do
        self.calls = 0
        self.saved_seconds = 0.0
        self.compile_seconds = None
        self.lock = threading.Lock()

    def multiply(self, a, b):
        """``a @ b`` for matrices of this dtype whose shapes fit (``_fits``): by the
        kernel once it is ready, for aligned operands whose B has a contiguous axis
        (NumPy copies any other B anyway); else NumPy's product, counted."""
        product = self.product
        if product is None:
            if not self.settled:
                self._owe(a.shape[0] * a.shape[1] * b.shape[1])
            return a @ b
        dtype = self.dtype
        if a.dtype != dtype or b.dtype != dtype or dtype.itemsize not in b.strides:
            return a @ b
        if not (a.flags.aligned and b.flags.aligned):
            return a @ b
        out = np.empty((a.shape[0], b.shape[1]), dtype)
        product(a, b, out)
        return out

    def _owe(self, multiply_adds: int) -> None:
        # Threads may lose an update of each other's: the count is a heuristic.
        self.calls += 1
        self.saved_seconds += multiply_adds / NUMPY_MULTIPLY_ADDS_PER_SECOND[self.dtype] * SAVED_FRACTION
        if TIER_UP_CALLS is not None:
            due = self.calls >= TIER_UP_CALLS
        else:
            due = self.saved_seconds >= COMPILE_SECONDS
        if due and fusion_available() and self.lock.acquire(blocking=False):
            try:
                if not self.settled:
                    _settle(self)
            finally:
                self.lock.release()


_STATES = {np.dtype(np.float32): _Kernel(np.float32), np.dtype(np.float64): _Kernel(np.float64)}
# Bound once, so that every compiled program holds the same function as its constant.
_MULTIPLY = {dtype: kernel.multiply for dtype, kernel in _STATES.items()}


def kernel_state(dtype) -> _Kernel:
    """The kernel's state for ``dtype`` (float32 or float64): tests and benchmarks read
    ``product``, ``settled`` and ``compile_seconds``.

    Example:
      >>> state = kernel_state(np.float32)
      >>> state.product is None or state.settled
      True
    """
    return _STATES[np.dtype(dtype)]


def matrix_product(a, b):
    """``a @ b`` for any two arrays, by the compiled kernel when it is ready and fits
    (two aligned float32 or float64 matrices of at least a tile's size).

    Args:
      a: an (m, k) array.
      b: a (k, n) array.

    Returns:
      What ``a @ b`` returns; from the kernel, a new C-contiguous (m, n) array.

    Example:
      >>> a = np.arange(6.0).reshape(2, 3)
      >>> matrix_product(a, np.eye(3))
      array([[0., 1., 2.],
             [3., 4., 5.]])
    """
    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != 2 or b.ndim != 2:
        return a @ b
    (rows, depth), columns = a.shape, b.shape[1]
    if b.dtype != a.dtype or not _fits(rows, depth, columns, a.dtype):
        return a @ b
    return _STATES[a.dtype].multiply(a, b)


def compiled_product(dtype):
    """The compiled kernel for ``dtype``, compiled now if need be (tests call it to
    check the kernel on any machine, whether or not ``matrix_product`` chose it).

    ``kernel(a, b, c)`` writes ``a @ b`` into ``c``, a C-contiguous array of
    ``dtype``; ``a`` and ``b`` may have any strides.

    Example:
      >>> a, b, c = np.ones((8, 2), np.float32), np.ones((2, 32), np.float32), np.zeros((8, 32), np.float32)
      >>> if fusion_available():  # numba installed
      ...     compiled_product(np.float32)(a, b, c)
      ...     assert (c == 2).all()
    """
    return _compile(np.dtype(dtype))


def _settle(kernel: _Kernel) -> None:
    start = time.perf_counter()
    try:
        product = _compile(kernel.dtype)
    except Exception as error:  # numba refused the kernel: keep NumPy's products, and say so
        logger.warning(
            "jit: the compiled %s matrix product failed to build, keeping NumPy's: %r", kernel.dtype, error
        )
        kernel.settled = True
        return
    kernel.compile_seconds = time.perf_counter() - start
    if _beats_numpy(product, kernel.dtype):
        kernel.product = product
        logger.info("jit: compiled %s matrix products in %.2f s", kernel.dtype, kernel.compile_seconds)
    else:
        logger.info("jit: NumPy's %s matrix products are as fast here: the kernel is not used", kernel.dtype)
    kernel.settled = True


def _beats_numpy(product, dtype) -> bool:
    """Whether the kernel runs a (128, 256) @ (256, 256) product in at most 0.9 times
    NumPy's time on this machine (best of five each, interleaved: about 2 ms)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((128, 256)).astype(dtype)
    b = rng.standard_normal((256, 256)).astype(dtype)
    out = np.empty((128, 256), dtype)
    ours, numpys = [], []
    for _ in range(5):
        start = time.perf_counter()
        product(a, b, out)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        numpys.append(time.perf_counter() - start)
    return min(ours) <= 0.9 * min(numpys)


_COMPILED: dict = {}
_COMPILE_LOCK = threading.Lock()


def _compile(dtype):
    with _COMPILE_LOCK:
        product = _COMPILED.get(dtype)
        if product is None:
            build = importlib.import_module("minigrad.transforms.jit.gemm_kernel").build
            product = _COMPILED[dtype] = build(dtype)
        return product
