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
  (one fused multiply-add per register). Written in LLVM's own IR (``_tile``), since
  numba cannot keep a block of accumulators in registers through Python code.
- The blocks: k runs ``DEPTH`` at a time, so the 8 rows of A a tile reads and the
  ``DEPTH`` rows of B's panel stay in the caches while every tile of a block uses them;
  the first block writes C, the later ones add to it.
- No copies where none are needed: the tile reads A through any strides (a transposed
  A costs nothing) and B in place when its rows are contiguous. A transposed B (the
  ``w.T`` of a backward pass, or of ``x @ w.T``) is copied panel by panel first,
  ``lanes`` x ``lanes`` numbers at a time transposed in registers (``transpose`` in
  ``gemm_kernel``; measured on (128, 784) @ (512, 784).T: 432 us, against 415 us with
  B's rows contiguous and 614 us copying number by number); so are a ragged last panel of B and the last rows of A, padded with zeros. A ragged
  tile is computed into a scratch tile whose valid part is then copied into C.

The sums run in another order than the BLAS's, so results differ in the last bits, as
they differ between BLAS builds. Compiling takes about a second per dtype, once a
process: like the small-array loops (``fusion_tier``), the kernel is compiled only
once the products a process has run would have saved that time (or after
``TIER_UP_CALLS`` products, when set), and then kept only if it beats NumPy's product
on this machine (``_beats_numpy``). Until then, and for products it does not fit
(other dtypes, small ones, a B with neither axis contiguous), ``matrix_product`` is
``a @ b``.

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


def _lanes(dtype) -> int:
    return VECTOR_BYTES // np.dtype(dtype).itemsize


def fits_compiled_product(a_aval, b_aval) -> bool:
    """Whether ``jit`` writes the product of operands of these avals as a
    ``matrix_product`` call: matrices of one float dtype, with at least a tile's rows
    and columns (smaller ones run faster as NumPy's), and numba installed.

    Example:
      >>> from minigrad.core.ir import ShapedArray
      >>> f32 = np.dtype(np.float32)
      >>> fits_compiled_product(ShapedArray((128, 64), f32), ShapedArray((64, 10), f32))  # 10 columns
      False
    """
    dtype = a_aval.dtype
    if (
        a_aval.ndim != 2
        or b_aval.ndim != 2
        or b_aval.dtype != dtype
        or dtype not in NUMPY_MULTIPLY_ADDS_PER_SECOND
    ):
        return False
    (rows, depth), columns = a_aval.shape, b_aval.shape[1]
    return rows >= ROWS and columns >= VECTORS * _lanes(dtype) and depth >= 1 and fusion_available()


def lower_matmul(ctx, a, b) -> Code:
    """``jit``'s code for ``matmul``: a ``matrix_product`` call when the operands fit
    (``fits_compiled_product``), else the primitive's own lowering (``a @ b``)."""
    if fits_compiled_product(*ctx.in_avals):
        return Code(f"{ctx.constant(matrix_product, 'matrix_product')}({a}, {b})", FRESH)
    return matmul_p.lowering(ctx, a, b)


class _KernelState:
    """Per dtype: the compiled product once chosen (``product``), else what is owed."""

    def __init__(self):
        self.product = None  # the compiled product, once compiled and faster than NumPy's
        self.settled = False  # compiled (and kept or not), or failed: nothing more to do
        self.calls = 0
        self.saved_seconds = 0.0
        self.compile_seconds = None
        self.lock = threading.Lock()


_STATES = {np.dtype(np.float32): _KernelState(), np.dtype(np.float64): _KernelState()}


def kernel_state(dtype) -> _KernelState:
    """The kernel's state for ``dtype`` (float32 or float64): tests and benchmarks read
    ``product``, ``settled`` and ``compile_seconds``."""
    return _STATES[np.dtype(dtype)]


def matrix_product(a, b):
    """``a @ b`` for two matrices, by the compiled kernel when it is ready and fits.

    Args:
      a: an (m, k) array.
      b: a (k, n) array.

    Returns:
      A new C-contiguous (m, n) array.

    Example:
      >>> a = np.arange(6.0).reshape(2, 3)
      >>> matrix_product(a, np.eye(3))
      array([[0., 1., 2.],
             [3., 4., 5.]])
    """
    dtype = a.dtype
    state = _STATES.get(dtype)
    if state is None or type(a) is not np.ndarray or type(b) is not np.ndarray or b.dtype != dtype:
        return a @ b
    product = state.product
    if product is None:
        if not state.settled:
            _owe(state, dtype, a.shape[0] * a.shape[1] * b.shape[1])
        return a @ b
    (rows, depth), columns = a.shape, b.shape[1]
    itemsize = dtype.itemsize
    if (
        rows < ROWS
        or columns < VECTORS * _lanes(dtype)
        or depth < 1
        or itemsize not in b.strides  # neither rows nor columns contiguous: NumPy copies it anyway
        or not (a.flags.aligned and b.flags.aligned)
    ):
        return a @ b
    out = np.empty((rows, columns), dtype)
    product(a, b, out)
    return out


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


def _owe(state: _KernelState, dtype, multiply_adds: int) -> None:
    # Threads may lose an update of each other's: the count is a heuristic.
    state.calls += 1
    state.saved_seconds += multiply_adds / NUMPY_MULTIPLY_ADDS_PER_SECOND[dtype] * SAVED_FRACTION
    due = (
        state.calls >= TIER_UP_CALLS if TIER_UP_CALLS is not None else state.saved_seconds >= COMPILE_SECONDS
    )
    if due and fusion_available() and state.lock.acquire(blocking=False):
        try:
            if not state.settled:
                _settle(state, dtype)
        finally:
            state.lock.release()


def _settle(state: _KernelState, dtype) -> None:
    start = time.perf_counter()
    try:
        product = _compile(dtype)
    except Exception as error:  # numba refused the kernel: keep NumPy's products, and say so
        logger.warning(
            "jit: the compiled %s matrix product failed to build, keeping NumPy's: %r", dtype, error
        )
        state.settled = True
        return
    state.compile_seconds = time.perf_counter() - start
    if _beats_numpy(product, dtype):
        state.product = product
        logger.info("jit: compiled %s matrix products in %.2f s", dtype, state.compile_seconds)
    else:
        logger.info(
            "jit: NumPy's %s matrix products are as fast here: the compiled kernel is not used", dtype
        )
    state.settled = True


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
            product = _COMPILED[dtype] = importlib.import_module("minigrad.transforms.jit.gemm_kernel").build(
                dtype
            )
        return product
