"""A matrix product whose right operand is packed once and reused: the recurrent step's GEMM.

Every step of a recurrent layer multiplies a small block of rows by the same weight matrix:
h_{t-1} W_hh^T forward and da_t W_hh backward, with B (the batch) rows. A BLAS ``gemm`` call
first copies ("packs") both operands into the panel layout its inner kernel reads, at every
call; with only B rows to multiply, copying the whole weight costs about a third as much as the
arithmetic (measured at B = 64, H = 512: OpenBLAS ran the step product at 75-85 GFLOP/s). Here
the weight is packed once per sequence and every step reuses it.

Layout. ``pack(w)`` cuts W (K, N) into column panels of NR columns (the last one padded with
zeros) and stores each panel row after row: ``packed[p, k, :] = W[k, p*NR : (p+1)*NR]``, so the
inner loop reads it front to back.

Inner kernel. A tile of up to MR = 8 rows of C by one panel, C[i0:i0+8, panel] =
A[i0:i0+8, :] @ panel, accumulates in 2 * 8 vector registers of 64 bytes each (16 float32 or
8 float64 lanes): for each k, load the panel's row k (two vectors), and for each of the 8 rows
broadcast A[i, k] and fuse-multiply-add it into that row's two accumulators. Numba has no way to
say "keep these 16 vectors in registers", so this one loop is written in LLVM IR
(:func:`_make_tile`); everything around it is ordinary Numba. 16 independent accumulators hide
the latency of the fused multiply-adds, and each loaded panel vector serves 8 rows.

Measured on the benchmark machine (one core, AVX-512): 105-112 GFLOP/s at the char LSTM's step
shapes against OpenBLAS's 75-88 on the same shapes (docs/benchmarks.md). Results differ from
BLAS in the last bits (fused multiply-adds, another summation order); tests/test_kernels.py holds
them to the reference within 1e-12 (float64) and 1e-5 (float32).
"""
from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

VECTOR_BYTES = 64  # one AVX-512 register; LLVM splits it into two on AVX2 machines
VECTORS_PER_ROW = 2  # accumulators per row of a tile
MAX_TILE_ROWS = 8  # MR: rows of C per tile
# Above this many multiply-adds a product is split over Numba's threads (below, the start-up
# of a parallel region costs more than it saves).
PARALLEL_MIN_MULTIPLY_ADDS = 1 << 22


def panel_width(dtype) -> int:
    """NR: the columns in one packed panel (32 for float32, 16 for float64)."""
    return VECTORS_PER_ROW * VECTOR_BYTES // np.dtype(dtype).itemsize


def _make_tile(rows: int):
    """An intrinsic computing one tile: C[rows, NR] = A[rows, K] @ panel (K, NR), C overwritten.

    Arguments (all arrays 1-D and C-contiguous, offsets and strides in elements):
    a, a_offset, a_row_stride, packed, panel_offset, c, c_offset, c_row_stride, k.
    """

    @intrinsic
    def tile(typingctx, a, a_offset, a_row_stride, packed, panel_offset, c, c_offset, c_row_stride, k):
        signature = types.void(a, a_offset, a_row_stride, packed, panel_offset, c, c_offset, c_row_stride, k)

        def codegen(context, builder, sig, args):
            a_arg, a_off, lda, packed_arg, panel_off, c_arg, c_off, ldc, k_count = args
            element = context.get_value_type(sig.args[0].dtype)
            lanes = VECTOR_BYTES // context.get_abi_sizeof(element)
            vector = ir.VectorType(element, lanes)
            index = ir.IntType(64)
            suffix = "f32" if sig.args[0].dtype == types.float32 else "f64"
            fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vector, [vector] * 3),
                                                 f"llvm.fma.v{lanes}{suffix}")
            a_data = context.make_array(sig.args[0])(context, builder, a_arg).data
            packed_data = context.make_array(sig.args[3])(context, builder, packed_arg).data
            c_data = context.make_array(sig.args[5])(context, builder, c_arg).data
            zero = ir.Constant(vector, [0.0] * lanes)
            broadcast_mask = ir.Constant(ir.VectorType(ir.IntType(32), lanes), [0] * lanes)

            def const(value):
                return ir.Constant(index, value)

            def vector_pointer(data, offset):
                return builder.bitcast(builder.gep(data, [offset]), vector.as_pointer())

            entry = builder.basic_block
            loop = builder.append_basic_block("tile_k_loop")
            done = builder.append_basic_block("tile_done")
            builder.cbranch(builder.icmp_signed(">", k_count, const(0)), loop, done)

            # for k in range(K): acc[r][v] = fma(broadcast(A[r, k]), panel[k, v], acc[r][v])
            builder.position_at_end(loop)
            kk = builder.phi(index)
            acc = [[builder.phi(vector) for _ in range(VECTORS_PER_ROW)] for _ in range(rows)]
            row_start = builder.add(panel_off, builder.mul(kk, const(VECTORS_PER_ROW * lanes)))
            panel_row = [builder.load(vector_pointer(packed_data, builder.add(row_start, const(v * lanes))), align=1)
                         for v in range(VECTORS_PER_ROW)]
            updated = []
            for r in range(rows):
                a_index = builder.add(builder.add(a_off, builder.mul(const(r), lda)), kk)
                scalar = builder.load(builder.gep(a_data, [a_index]))
                splat = builder.insert_element(ir.Constant(vector, ir.Undefined), scalar, ir.Constant(ir.IntType(32), 0))
                splat = builder.shuffle_vector(splat, ir.Constant(vector, ir.Undefined), broadcast_mask)
                updated.append([builder.call(fma, [splat, panel_row[v], acc[r][v]]) for v in range(VECTORS_PER_ROW)])
            k_next = builder.add(kk, const(1))
            latch = builder.basic_block
            kk.add_incoming(const(0), entry)
            kk.add_incoming(k_next, latch)
            for r in range(rows):
                for v in range(VECTORS_PER_ROW):
                    acc[r][v].add_incoming(zero, entry)
                    acc[r][v].add_incoming(updated[r][v], latch)
            builder.cbranch(builder.icmp_signed("<", k_next, k_count), loop, done)

            # C[r, v] = acc[r][v] (zeros when K = 0)
            builder.position_at_end(done)
            final = [[builder.phi(vector) for _ in range(VECTORS_PER_ROW)] for _ in range(rows)]
            for r in range(rows):
                for v in range(VECTORS_PER_ROW):
                    final[r][v].add_incoming(zero, entry)
                    final[r][v].add_incoming(updated[r][v], latch)
            for r in range(rows):
                c_row = builder.add(c_off, builder.mul(const(r), ldc))
                for v in range(VECTORS_PER_ROW):
                    builder.store(final[r][v], vector_pointer(c_data, builder.add(c_row, const(v * lanes))), align=1)
            return context.get_dummy_value()

        return signature, codegen

    return tile


# Tiles of 8 rows, and of 4, 2 and 1 for the rows left over (any B is a sum of those).
_tile8, _tile4, _tile2, _tile1 = (_make_tile(rows) for rows in (8, 4, 2, 1))


@numba.njit(cache=True, inline="always")
def _tile(rows, a, a_offset, lda, packed, panel_offset, c, c_offset, ldc, k):
    if rows == 8:
        _tile8(a, a_offset, lda, packed, panel_offset, c, c_offset, ldc, k)
    elif rows == 4:
        _tile4(a, a_offset, lda, packed, panel_offset, c, c_offset, ldc, k)
    elif rows == 2:
        _tile2(a, a_offset, lda, packed, panel_offset, c, c_offset, ldc, k)
    else:
        _tile1(a, a_offset, lda, packed, panel_offset, c, c_offset, ldc, k)


@numba.njit(cache=True, inline="always")
def _panel(p, a, m, k, packed, c, n):
    """Columns p*NR .. (p+1)*NR of C (M, N) = A (M, K) @ W, all arrays flat and C-contiguous."""
    width = packed.shape[2]
    flat_packed = packed.reshape(-1)
    panel_offset = p * k * width
    columns = min(width, n - p * width)
    # The last panel may stick out past column N: its tiles go through a scratch block first.
    scratch = np.empty(MAX_TILE_ROWS * width, dtype=c.dtype) if columns < width else c[:0]
    i0 = 0
    while i0 < m:
        left = m - i0
        rows = 8 if left >= 8 else (4 if left >= 4 else (2 if left >= 2 else 1))
        if columns == width:
            _tile(rows, a, i0 * k, k, flat_packed, panel_offset, c, i0 * n + p * width, n, k)
        else:
            _tile(rows, a, i0 * k, k, flat_packed, panel_offset, scratch, 0, width, k)
            for r in range(rows):
                for j in range(columns):
                    c[(i0 + r) * n + p * width + j] = scratch[r * width + j]
        i0 += rows


@numba.njit(cache=True)
def _matmul_serial(a, m, k, packed, c, n):
    for p in range(packed.shape[0]):
        _panel(p, a, m, k, packed, c, n)


@numba.njit(cache=True, parallel=True)
def _matmul_parallel(a, m, k, packed, c, n):
    for p in numba.prange(packed.shape[0]):
        _panel(p, a, m, k, packed, c, n)


def pack(w: np.ndarray) -> np.ndarray:
    """W (K, N) -> packed (ceil(N / NR), K, NR): column panels, the last padded with zeros."""
    k, n = w.shape
    width = panel_width(w.dtype)
    panels = -(-n // width)
    padded = np.zeros((k, panels * width), dtype=w.dtype)
    padded[:, :n] = w
    return np.ascontiguousarray(padded.reshape(k, panels, width).transpose(1, 0, 2))


def matmul(a: np.ndarray, packed: np.ndarray, n: int, out: np.ndarray) -> np.ndarray:
    """out (M, N) = a (M, K) @ W, where ``packed = pack(W)`` and N is W's column count.

    ``a`` and ``out`` must be C-contiguous, of the packed matrix's dtype (float32 or float64).
    """
    m, k = a.shape
    parallel = numba.get_num_threads() > 1 and m * k * n >= PARALLEL_MIN_MULTIPLY_ADDS
    (_matmul_parallel if parallel else _matmul_serial)(a.reshape(-1), m, k, packed, out.reshape(-1), n)
    return out
