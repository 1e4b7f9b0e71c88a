"""The compiled matrix product itself: a register tile in LLVM IR, blocks in numba.

``gemm.py`` says when it runs and why; this module builds it. ``build(dtype)`` returns
a numba function ``product(a, b, c)`` writing ``a @ b`` into the C-contiguous ``c``.
It is compiled once, for operands of any strides, and works on their raw addresses
and byte strides.

The tile (``tile``, ``ROWS`` x ``VECTORS`` vectors of C) is written with llvmlite's IR
builder inside a numba intrinsic: its accumulators are stack slots that LLVM promotes
to registers, and each step of k is ``VECTORS`` loads of B, then per row of A one
scalar load broadcast to a vector and ``VECTORS`` fused multiply-adds. Everything else
(blocking, copying B's panels, ragged edges) is plain numba code around it.

Example:
    >>> build  # doctest: +ELLIPSIS
    <function build at ...>
"""

from __future__ import annotations

import importlib

import numpy as np

from minigrad.transforms.jit.gemm import (
    COLUMN_BLOCK,
    DEPTH,
    ROW_BLOCK,
    ROWS,
    VECTOR_BYTES,
    VECTORS,
    tile_columns,
    vector_lanes,
)

__all__ = ["build"]


def build(dtype):
    """The product kernel for ``dtype`` (float32 or float64), compiled (about a second).

    Example:
      >>> from minigrad.transforms.jit.fusion import fusion_available
      >>> a, b, c = np.ones((8, 3)), np.ones((3, 16)), np.full((8, 16), 3.0)
      >>> if fusion_available():  # numba installed
      ...     build(np.float64)(a, b, c)
      >>> float(c[0, 0])
      3.0
    """
    numba = importlib.import_module("numba")
    dtype = np.dtype(dtype)
    tile, transpose, load, store = _intrinsics(dtype)
    itemsize = dtype.itemsize
    lanes, columns = vector_lanes(dtype), tile_columns(dtype)
    zero = dtype.type(0)

    def copy_panels(b, b_rs, b_cs, depth, width, packed):
        # B's block of `depth` rows and `width` columns, as panels of `columns` columns
        # whose rows are contiguous, the last one padded with zeros. A transposed B
        # (contiguous down its columns) goes a square of `lanes` numbers at a time
        # through the registers (`transpose`); what is left, number by number.
        packed_address = packed.ctypes.data
        squares = b_rs == itemsize
        for panel in range(0, width, columns):
            base = panel * depth
            used = min(columns, width - panel)
            k_done = 0
            if squares and used == columns:
                k_done = depth - depth % lanes
                for k0 in range(0, k_done, lanes):
                    for j0 in range(0, columns, lanes):
                        source = b + (panel + j0) * b_cs + k0 * b_rs
                        target = packed_address + (base + k0 * columns + j0) * itemsize
                        transpose(source, b_cs, target, columns * itemsize)
            for j in range(used):
                source = b + (panel + j) * b_cs
                for k in range(k_done, depth):
                    packed[base + k * columns + j] = load(source + k * b_rs)
            for j in range(used, columns):
                for k in range(depth):
                    packed[base + k * columns + j] = zero

    def copy_edge_rows(a, a_rs, a_cs, used, depth, edge_rows):
        # The last `used` (< ROWS) rows of A's block, contiguous, padded with zero rows.
        for i in range(ROWS):
            for k in range(depth):
                edge_rows[i * depth + k] = load(a + i * a_rs + k * a_cs) if i < used else zero

    def ragged_tile(rows, rows_rs, rows_cs, panel, panel_rs, target, c_rs, depth, accumulate, used_rows,
                    used_columns, scratch):  # fmt: skip
        # A tile cut by C's last rows or columns: computed whole into `scratch`, then its
        # valid part written (or added) into C.
        scratch_address = scratch.ctypes.data
        tile(rows, rows_rs, rows_cs, panel, panel_rs, scratch_address, columns * itemsize, depth, False)
        for i in range(used_rows):
            for j in range(used_columns):
                address = target + i * c_rs + j * itemsize
                value = scratch[i * columns + j]
                store(address, load(address) + value if accumulate else value)

    def product(a_array, b_array, c_array):
        m, k = a_array.shape
        n = b_array.shape[1]
        a, a_rs, a_cs = a_array.ctypes.data, a_array.strides[0], a_array.strides[1]
        b, b_rs, b_cs = b_array.ctypes.data, b_array.strides[0], b_array.strides[1]
        c, c_rs = c_array.ctypes.data, c_array.strides[0]
        if k == 0:
            for i in range(m):
                for j in range(n):
                    store(c + i * c_rs + j * itemsize, zero)
            return
        direct_b = b_cs == itemsize
        depth_max = min(DEPTH, k)
        width_max = min(COLUMN_BLOCK, n) if not direct_b else columns
        packed = np.empty(depth_max * (width_max + columns), dtype)
        packed_address = packed.ctypes.data
        edge_rows = np.empty(ROWS * depth_max, dtype)
        edge_address = edge_rows.ctypes.data
        scratch = np.empty(ROWS * columns, dtype)
        full_rows = m - m % ROWS
        for j0 in range(0, n, COLUMN_BLOCK):
            width = min(COLUMN_BLOCK, n - j0)
            full_columns = width - width % columns
            for k0 in range(0, k, DEPTH):
                depth = min(DEPTH, k - k0)
                accumulate = k0 > 0
                b_block = b + k0 * b_rs + j0 * b_cs
                if not direct_b:
                    copy_panels(b_block, b_rs, b_cs, depth, width, packed)
                elif full_columns < width:  # the ragged last panel only
                    copy_panels(
                        b_block + full_columns * b_cs, b_rs, b_cs, depth, width - full_columns, packed
                    )
                if full_rows < m:
                    copy_edge_rows(
                        a + full_rows * a_rs + k0 * a_cs, a_rs, a_cs, m - full_rows, depth, edge_rows
                    )
                for i0 in range(0, m, ROW_BLOCK):
                    for jr in range(0, width, columns):
                        used_columns = min(columns, width - jr)
                        if not direct_b:
                            panel, panel_rs = packed_address + jr * depth * itemsize, columns * itemsize
                        elif used_columns < columns:
                            panel, panel_rs = packed_address, columns * itemsize
                        else:
                            panel, panel_rs = b_block + jr * itemsize, b_rs
                        for ir in range(i0, min(i0 + ROW_BLOCK, m), ROWS):
                            used_rows = min(ROWS, m - ir)
                            if used_rows < ROWS:
                                rows, rows_rs, rows_cs = edge_address, depth * itemsize, itemsize
                            else:
                                rows, rows_rs, rows_cs = a + ir * a_rs + k0 * a_cs, a_rs, a_cs
                            target = c + ir * c_rs + (j0 + jr) * itemsize
                            if used_rows == ROWS and used_columns == columns:
                                tile(rows, rows_rs, rows_cs, panel, panel_rs, target, c_rs, depth, accumulate)
                            else:
                                ragged_tile(
                                    rows, rows_rs, rows_cs, panel, panel_rs, target, c_rs, depth, accumulate,
                                    used_rows, used_columns, scratch,
                                )  # fmt: skip

    copy_panels, copy_edge_rows, ragged_tile = (
        numba.njit(helper, inline="always") for helper in (copy_panels, copy_edge_rows, ragged_tile)
    )
    # Operands typed as read-only arrays of any strides: numba takes writable ones and
    # every layout for them too, so one compilation serves every call.
    number_type = numba.from_dtype(dtype)
    operand = numba.types.Array(number_type, 2, "A", readonly=True)
    signature = numba.types.void(operand, operand, numba.types.Array(number_type, 2, "C"))
    return numba.njit(signature, nogil=True, error_model="numpy", cache=False)(product)


def _intrinsics(dtype):
    """numba intrinsics for ``dtype``: ``tile``, ``transpose`` (a square of ``lanes``
    numbers), and ``load``/``store`` of one number at a raw address (numba has no
    pointers of its own)."""
    numba = importlib.import_module("numba")
    ir = importlib.import_module("llvmlite.ir")
    cgutils = importlib.import_module("numba.core.cgutils")
    types = numba.types
    intrinsic = importlib.import_module("numba.extending").intrinsic
    itemsize = dtype.itemsize
    lanes = vector_lanes(dtype)
    number_type = numba.from_dtype(dtype)
    scalar = ir.FloatType() if itemsize == 4 else ir.DoubleType()
    vector = ir.VectorType(scalar, lanes)
    bytes_pointer = ir.IntType(8).as_pointer()

    def typed(builder, address, offset, kind):
        base = builder.inttoptr(address, bytes_pointer)
        return builder.bitcast(builder.gep(base, [offset]), kind.as_pointer())

    @intrinsic
    def load(typingctx, address):
        def codegen(context, builder, signature, args):
            zero = ir.Constant(args[0].type, 0)
            return builder.load(typed(builder, args[0], zero, scalar), align=itemsize)

        return number_type(types.uintp), codegen

    @intrinsic
    def store(typingctx, address, value):
        def codegen(context, builder, signature, args):
            zero = ir.Constant(args[0].type, 0)
            builder.store(args[1], typed(builder, args[0], zero, scalar), align=itemsize)
            return context.get_dummy_value()

        return types.void(types.uintp, number_type), codegen

    @intrinsic
    def tile(typingctx, a, a_rs, a_cs, b, b_rs, c, c_rs, depth, accumulate):
        signature = types.void(
            types.uintp, types.intp, types.intp, types.uintp, types.intp, types.uintp, types.intp, types.intp,
            types.boolean,
        )  # fmt: skip

        def codegen(context, builder, signature, args):
            a, a_rs, a_cs, b, b_rs, c, c_rs, depth, accumulate = args
            index = a_rs.type

            def constant(value):
                return ir.Constant(index, value)

            name = f"llvm.fma.v{lanes}f{itemsize * 8}"
            fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vector, [vector] * 3), name)
            zeros = ir.Constant(vector, [0.0] * lanes)
            accumulators = [
                [cgutils.alloca_once_value(builder, zeros) for _ in range(VECTORS)] for _ in range(ROWS)
            ]
            broadcast = ir.Constant(ir.VectorType(ir.IntType(32), lanes), [0] * lanes)
            first_lane = ir.Constant(ir.IntType(32), 0)
            row_offsets = [builder.mul(a_rs, constant(i)) for i in range(ROWS)]
            with cgutils.for_range(builder, depth) as loop:
                b_row = builder.mul(loop.index, b_rs)
                b_vectors = [
                    builder.load(
                        typed(builder, b, builder.add(b_row, constant(v * VECTOR_BYTES)), vector),
                        align=itemsize,
                    )
                    for v in range(VECTORS)
                ]
                a_column = builder.mul(loop.index, a_cs)
                for i in range(ROWS):
                    number = builder.load(
                        typed(builder, a, builder.add(row_offsets[i], a_column), scalar), align=itemsize
                    )
                    spread = builder.insert_element(ir.Constant(vector, ir.Undefined), number, first_lane)
                    spread = builder.shuffle_vector(spread, ir.Constant(vector, ir.Undefined), broadcast)
                    for v in range(VECTORS):
                        slot = accumulators[i][v]
                        builder.store(builder.call(fma, [spread, b_vectors[v], builder.load(slot)]), slot)

            def write(adding: bool):
                for i in range(ROWS):
                    row = builder.mul(c_rs, constant(i))
                    for v in range(VECTORS):
                        where = typed(builder, c, builder.add(row, constant(v * VECTOR_BYTES)), vector)
                        value = builder.load(accumulators[i][v])
                        if adding:
                            value = builder.fadd(builder.load(where, align=itemsize), value)
                        builder.store(value, where, align=itemsize)

            with builder.if_else(accumulate) as (then, otherwise):
                with then:
                    write(True)
                with otherwise:
                    write(False)
            return context.get_dummy_value()

        return signature, codegen

    @intrinsic
    def transpose(typingctx, source, source_rs, target, target_rs):
        # Rows r of the square at source + r * source_rs, written as its columns to
        # target + c * target_rs. Blocks of s x s numbers are swapped across the
        # diagonal for s = lanes / 2, ..., 1: each swap is one two-register shuffle
        # per row (one instruction on AVX-512), lanes * log2(lanes) in all.
        def codegen(context, builder, signature, args):
            source, source_rs, target, target_rs = args
            index = source_rs.type
            rows = [
                builder.load(
                    typed(builder, source, builder.mul(source_rs, ir.Constant(index, r)), vector),
                    align=itemsize,
                )
                for r in range(lanes)
            ]
            size = lanes // 2
            while size:
                swapped = list(rows)
                for r in range(lanes):
                    if r % (2 * size) >= size:
                        continue
                    upper = [
                        lane if lane % (2 * size) < size else lanes + lane - size for lane in range(lanes)
                    ]
                    lower = [
                        lane + size if lane % (2 * size) < size else lanes + lane for lane in range(lanes)
                    ]
                    for row, mask in ((r, upper), (r + size, lower)):
                        indices = ir.Constant(ir.VectorType(ir.IntType(32), lanes), mask)
                        swapped[row] = builder.shuffle_vector(rows[r], rows[r + size], indices)
                rows = swapped
                size //= 2
            for c, row in enumerate(rows):
                builder.store(
                    row,
                    typed(builder, target, builder.mul(target_rs, ir.Constant(index, c)), vector),
                    align=itemsize,
                )
            return context.get_dummy_value()

        return types.void(types.uintp, types.intp, types.uintp, types.intp), codegen

    return tile, transpose, load, store
