"""A matrix product whose right operand is packed once and reused: the recurrent step's GEMM.

Every step of a recurrent layer multiplies a small block of rows by the same weight matrix:
h_{t-1} W_hh^T forward and da_t W_hh backward, with B (the batch) rows. A BLAS ``gemm`` call
first copies ("packs") both operands into the panel layout its inner kernel reads, at every
call; with only B rows to multiply, copying the whole weight can cost a third as much as the
arithmetic. Here the weight is packed once per sequence and every step reuses it.

Layout. ``pack(w)`` cuts W (K, N) into column panels of NR columns (the last one padded with
zeros) and stores each panel row after row: ``packed[p, k, :] = W[k, p*NR : (p+1)*NR]``, so the
inner loop reads it front to back.

Inner kernel. A tile of MR rows of C by one panel, C[i0:i0+MR, panel] = A[i0:i0+MR, :] @ panel,
accumulates in MR x V vector registers (a panel is V vectors wide): for each k, load the panel's
row k (V vectors), and for each of the MR rows broadcast A[i, k] and multiply-add it into that
row's V accumulators.
Numba has no way to say "keep these vectors in registers", so this one loop is written in LLVM
IR (:func:`_make_tile`); everything around it is ordinary Numba.

The tile fits the CPU it is compiled for (:data:`VARIANTS`, picked by :func:`detect_variant`):
the accumulators, the panel vectors and the broadcast must all fit in the vector registers, or
the loop spills to memory and runs at half speed. Enough accumulators must also be in flight to
hide the latency of the multiply-adds.

=========  ==============  =======  =======================================  ========================
variant    vector          MR x V   registers: accumulators + panel + bcast  for
=========  ==============  =======  =======================================  ========================
avx512     64 bytes (zmm)  8 x 2    16 + 2 + 1 of 32                         CPUs with AVX-512F
avx2       32 bytes (ymm)  4 x 3    12 + 3 + 1 of 16                         AVX2 + FMA
generic    16 bytes        4 x 2    8 + 2 + 1 of 16                          anything else (SSE2
                                                                             without FMA, aarch64)
=========  ==============  =======  =======================================  ========================

NR = V vectors: 32 / 24 / 8 float32 columns (16 / 12 / 4 float64). The AVX-512 kernel on an
AVX2 machine (LLVM splits each 64-byte vector in two, 32 accumulators for 16 registers) ran at
half of OpenBLAS's speed; the 4 x 3 tile runs faster than OpenBLAS there (docs/benchmarks.md),
as did 6 x 2 (BLIS's "haswell" shape) within a few percent. The multiply-add is LLVM's
``fmuladd``: one fused instruction where the CPU has FMA, a multiply and an add where it has not.

The variant follows the CPU Numba compiles for, so ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES``
(e.g. ``haswell``, ``znver1``, ``skylake-avx512``, ``generic``) select another CPU's variant,
and tests/kernels/test_packed_matmul.py compiles each of them on whatever machine runs it.
Numba's disk cache keys compiled code by that CPU too, so a cached tile never runs on another.

Whether this product or BLAS's is faster for a given shape depends on the CPU; the numba backend
measures both at first use (scratchlm/kernels/chooser.py). Results differ from BLAS in the last
bits (fused multiply-adds, another summation order); the kernel tests hold them to NumPy's
product within 1e-12 (float64) and 1e-5 (float32).
"""
from __future__ import annotations

import dataclasses
import functools

import numba
import numpy as np
from llvmlite import binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@dataclasses.dataclass(frozen=True)
class Variant:
    """One shape of the tile kernel: vector width, and the row counts of its tiles."""

    name: str
    vector_bytes: int
    # MR first, then the smaller tiles that cover the rows left over (any B is a sum of these).
    tile_rows: tuple[int, int, int, int]
    vectors_per_row: int = 2  # V: the panel's width in vectors, and accumulators per row


VARIANTS = {
    "avx512": Variant("avx512", 64, (8, 4, 2, 1)),
    "avx2": Variant("avx2", 32, (4, 3, 2, 1), 3),
    "generic": Variant("generic", 16, (4, 3, 2, 1)),
}

# One 16-lane multiply-add: how the target compiles it tells its vector registers and FMA.
_PROBE_IR = """
declare <16 x float> @llvm.fmuladd.v16f32(<16 x float>, <16 x float>, <16 x float>)
define <16 x float> @probe(<16 x float> %a, <16 x float> %b, <16 x float> %c) {
  %r = call <16 x float> @llvm.fmuladd.v16f32(<16 x float> %a, <16 x float> %b, <16 x float> %c)
  ret <16 x float> %r
}
"""


def numba_target() -> tuple[str, str, str]:
    """(target triple, CPU name, CPU features) that Numba compiles for.

    The host CPU, unless ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES`` name another one.
    """
    from numba.core.registry import cpu_target

    return cpu_target.target_context.codegen().magic_tuple()


@functools.lru_cache(maxsize=None)
def detect_variant(triple: str, cpu_name: str, features: str) -> str:
    """The name of the variant in :data:`VARIANTS` for a target CPU.

    Asks LLVM itself: the probe's assembly uses 64-byte ``zmm`` registers and ``vfmadd`` on an
    AVX-512 target, ``ymm`` and ``vfmadd`` on AVX2 + FMA; anything else gets "generic". That
    keeps one rule for named CPUs (NUMBA_CPU_NAME=haswell), feature strings and the host alike.
    """
    try:
        machine = llvm.Target.from_triple(triple).create_target_machine(cpu=cpu_name, features=features)
        module = llvm.parse_assembly(_PROBE_IR)
        module.triple = triple
        assembly = machine.emit_assembly(module).lower()
    except RuntimeError:  # a target this LLVM build cannot emit code for: nothing to fit the tile to
        return "generic"
    if "vfmadd" in assembly and "zmm" in assembly:
        return "avx512"
    if "vfmadd" in assembly and "ymm" in assembly:
        return "avx2"
    return "generic"


VARIANT = VARIANTS[detect_variant(*numba_target())]
ROWS_A, ROWS_B, ROWS_C, ROWS_D = VARIANT.tile_rows
# Above this many multiply-adds the threaded product may pay off (below it the start-up of a
# parallel region costs more than it saves); the chooser decides by measurement above it.
PARALLEL_MIN_MULTIPLY_ADDS = 1 << 22


def panel_width(dtype) -> int:
    """NR: the columns in one packed panel (two vectors of the variant's width)."""
    return VARIANT.vectors_per_row * VARIANT.vector_bytes // np.dtype(dtype).itemsize


def _make_tile(rows: int):
    """An intrinsic computing one tile: C[rows, NR] = A[rows, K] @ panel (K, NR), C overwritten.

    Arguments (all arrays 1-D and C-contiguous, offsets and strides in elements):
    a, a_offset, a_row_stride, packed, panel_offset, c, c_offset, c_row_stride, k.
    """
    vectors_per_row = VARIANT.vectors_per_row

    @intrinsic
    def tile(typingctx, a, a_offset, a_row_stride, packed, panel_offset, c, c_offset, c_row_stride, k):
        signature = types.void(a, a_offset, a_row_stride, packed, panel_offset, c, c_offset, c_row_stride, k)

        def codegen(context, builder, sig, args):
            a_arg, a_off, lda, packed_arg, panel_off, c_arg, c_off, ldc, k_count = args
            element = context.get_value_type(sig.args[0].dtype)
            lanes = VARIANT.vector_bytes // context.get_abi_sizeof(element)
            vector = ir.VectorType(element, lanes)
            index = ir.IntType(64)
            suffix = "f32" if sig.args[0].dtype == types.float32 else "f64"
            multiply_add = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(vector, [vector] * 3), f"llvm.fmuladd.v{lanes}{suffix}")
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

            # for k in range(K): acc[r][v] = broadcast(A[r, k]) * panel[k, v] + acc[r][v]
            builder.position_at_end(loop)
            kk = builder.phi(index)
            acc = [[builder.phi(vector) for _ in range(vectors_per_row)] for _ in range(rows)]
            row_start = builder.add(panel_off, builder.mul(kk, const(vectors_per_row * lanes)))
            panel_row = [builder.load(vector_pointer(packed_data, builder.add(row_start, const(v * lanes))), align=1)
                         for v in range(vectors_per_row)]
            updated = []
            for r in range(rows):
                a_index = builder.add(builder.add(a_off, builder.mul(const(r), lda)), kk)
                scalar = builder.load(builder.gep(a_data, [a_index]))
                splat = builder.insert_element(ir.Constant(vector, ir.Undefined), scalar, ir.Constant(ir.IntType(32), 0))
                splat = builder.shuffle_vector(splat, ir.Constant(vector, ir.Undefined), broadcast_mask)
                updated.append([builder.call(multiply_add, [splat, panel_row[v], acc[r][v]])
                                for v in range(vectors_per_row)])
            k_next = builder.add(kk, const(1))
            latch = builder.basic_block
            kk.add_incoming(const(0), entry)
            kk.add_incoming(k_next, latch)
            for r in range(rows):
                for v in range(vectors_per_row):
                    acc[r][v].add_incoming(zero, entry)
                    acc[r][v].add_incoming(updated[r][v], latch)
            builder.cbranch(builder.icmp_signed("<", k_next, k_count), loop, done)

            # C[r, v] = acc[r][v] (zeros when K = 0)
            builder.position_at_end(done)
            final = [[builder.phi(vector) for _ in range(vectors_per_row)] for _ in range(rows)]
            for r in range(rows):
                for v in range(vectors_per_row):
                    final[r][v].add_incoming(zero, entry)
                    final[r][v].add_incoming(updated[r][v], latch)
            for r in range(rows):
                c_row = builder.add(c_off, builder.mul(const(r), ldc))
                for v in range(vectors_per_row):
                    builder.store(final[r][v], vector_pointer(c_data, builder.add(c_row, const(v * lanes))), align=1)
            return context.get_dummy_value()

        return signature, codegen

    return tile


_tile_a, _tile_b, _tile_c, _tile_d = (_make_tile(rows) for rows in VARIANT.tile_rows)


@numba.njit(cache=True, inline="always")
def _tile(rows, a, a_offset, lda, packed, panel_offset, c, c_offset, ldc, k):
    if rows == ROWS_A:
        _tile_a(a, a_offset, lda, packed, panel_offset, c, c_offset, ldc, k)
    elif rows == ROWS_B:
        _tile_b(a, a_offset, lda, packed, panel_offset, c, c_offset, ldc, k)
    elif rows == ROWS_C:
        _tile_c(a, a_offset, lda, packed, panel_offset, c, c_offset, ldc, k)
    else:
        _tile_d(a, a_offset, lda, packed, panel_offset, c, c_offset, ldc, k)


@numba.njit(cache=True, inline="always")
def _panel(p, a, m, k, packed, c, n):
    """Columns p*NR .. (p+1)*NR of C (M, N) = A (M, K) @ W, all arrays flat and C-contiguous."""
    width = packed.shape[2]
    flat_packed = packed.reshape(-1)
    panel_offset = p * k * width
    columns = min(width, n - p * width)
    # The last panel may stick out past column N: its tiles go through a scratch block first.
    scratch = np.empty(ROWS_A * width, dtype=c.dtype) if columns < width else c[:0]
    i0 = 0
    while i0 < m:
        left = m - i0
        rows = ROWS_A if left >= ROWS_A else (ROWS_B if left >= ROWS_B else (ROWS_C if left >= ROWS_C else ROWS_D))
        if columns == width:
            _tile(rows, a, i0 * k, k, flat_packed, panel_offset, c, i0 * n + p * width, n, k)
        else:
            _tile(rows, a, i0 * k, k, flat_packed, panel_offset, scratch, 0, width, k)
            for r in range(rows):
                for j in range(columns):
                    c[(i0 + r) * n + p * width + j] = scratch[r * width + j]
        i0 += rows


@numba.njit(cache=True)
def _matmul_serial(a, packed, c):
    m, k = a.shape
    n = c.shape[1]
    a_flat, c_flat = a.reshape(-1), c.reshape(-1)
    for p in range(packed.shape[0]):
        _panel(p, a_flat, m, k, packed, c_flat, n)


@numba.njit(cache=True, parallel=True)
def _matmul_parallel(a, packed, c):
    m, k = a.shape
    n = c.shape[1]
    a_flat, c_flat = a.reshape(-1), c.reshape(-1)
    for p in numba.prange(packed.shape[0]):
        _panel(p, a_flat, m, k, packed, c_flat, n)


@numba.njit(cache=True)
def _pack_rows_first(w, packed):
    """packed[p, k, j] = W[k, p*NR + j] (zero past column N), reading each row of W in order."""
    k_count, n = w.shape
    width = packed.shape[2]
    for k in range(k_count):
        for p in range(packed.shape[0]):
            for j in range(width):
                column = p * width + j
                packed[p, k, j] = w[k, column] if column < n else 0


@numba.njit(cache=True)
def _pack_columns_first(w, packed):
    """The same, reading each column of W in order (W a transposed view, such as W_hh.T)."""
    k_count, n = w.shape
    width = packed.shape[2]
    for p in range(packed.shape[0]):
        for j in range(width):
            column = p * width + j
            for k in range(k_count):
                packed[p, k, j] = w[k, column] if column < n else 0


def pack(w: np.ndarray) -> np.ndarray:
    """W (K, N) -> packed (ceil(N / NR), K, NR): column panels, the last padded with zeros.

    One pass over W in the order it lies in memory (W_hh.T, a transposed view, is read column by
    column), so packing costs about one copy.
    """
    k, n = w.shape
    width = panel_width(w.dtype)
    packed = np.empty((-(-n // width), k, width), dtype=w.dtype)
    if abs(w.strides[1]) <= abs(w.strides[0]):
        _pack_rows_first(w, packed)
    else:
        _pack_columns_first(w, packed)
    return packed


def matmul(a: np.ndarray, packed: np.ndarray, out: np.ndarray, threaded: bool = False) -> np.ndarray:
    """out (M, N) = a (M, K) @ W, where ``packed = pack(W)``.

    ``a`` and ``out`` must be C-contiguous, of the packed matrix's dtype (float32 or float64).
    ``threaded`` splits the panels over Numba's threads (``numba.get_num_threads()``).
    """
    (_matmul_parallel if threaded else _matmul_serial)(a, packed, out)
    return out


# --------------------------------------------------------------------------------------------
# The recurrent step's product: BLAS or the packed kernel, whichever is faster here
# --------------------------------------------------------------------------------------------


class PreparedWeight:
    """W (K, N), ready for many products x @ W: for BLAS a contiguous copy, for the kernel packed panels.

    Each form is made the first time a product needs it, so only the chosen one is built (both
    while the choice is being measured). Which product runs is decided at the first product with
    a given number of rows B (by :func:`scratchlm.kernels.chooser.choose`, measured once per
    machine and shape) and kept here, so the steps after the first pay one dictionary look-up.
    The weight must not change while it is prepared: it is read when a form is made.
    """

    def __init__(self, weight: np.ndarray):
        if weight.dtype not in (np.float32, np.float64):
            raise TypeError(f"step_matmul_prepare: the packed kernel supports float32 and float64 arrays, "
                            f"got dtype {weight.dtype}")
        if weight.ndim != 2:
            raise ValueError(f"step_matmul_prepare: the weight must be 2-D (K, N), got shape {weight.shape}")
        self._weight = weight
        self.shape = tuple(weight.shape)
        self.dtype = weight.dtype
        self._contiguous = None
        self._panels = None
        self.product_for_rows: dict[int, object] = {}

    @property
    def contiguous(self) -> np.ndarray:
        """W as a C-contiguous array (BLAS multiplies by it up to 2x faster than by a transposed view)."""
        if self._contiguous is None:
            self._contiguous = np.ascontiguousarray(self._weight)
        return self._contiguous

    @property
    def panels(self) -> np.ndarray:
        """W packed by :func:`pack`."""
        if self._panels is None:
            self._panels = pack(self._weight)
        return self._panels


def prepare(weight: np.ndarray) -> PreparedWeight:
    """Prepare W (K, N) once per sequence for :func:`step_product`."""
    return PreparedWeight(weight)


def _blas_product(x, prepared, out):
    return np.matmul(x, prepared.contiguous, out=out)


def _packed_product(x, prepared, out):
    return matmul(x, prepared.panels, out)


def _packed_threaded_product(x, prepared, out):
    return matmul(x, prepared.panels, out, threaded=True)


def product_candidates(rows: int, prepared: PreparedWeight) -> dict:
    """The ways to compute x (rows, K) @ W, in order of preference for this CPU.

    The packed kernel first where the CPU has a fitted tile (AVX-512 or AVX2 + FMA), BLAS first
    on the generic variant; the threaded kernel only where Numba has more than one thread and
    the product is big enough that starting the threads can pay off.
    """
    candidates = {"packed": _packed_product, "blas": _blas_product}
    if VARIANT.name == "generic":
        candidates = {"blas": _blas_product, "packed": _packed_product}
    k, n = prepared.shape
    if numba.get_num_threads() > 1 and rows * k * n >= PARALLEL_MIN_MULTIPLY_ADDS:
        candidates["packed threaded"] = _packed_threaded_product
    return candidates


def _check_and_choose(x, prepared, out):
    """The product to use for x's number of rows, after checking every argument (first call, or bad input)."""
    from scratchlm.kernels import chooser
    from scratchlm.kernels.results import check_out

    if not isinstance(prepared, PreparedWeight):
        raise TypeError(f"step_matmul needs the result of the numba step_matmul_prepare (packed_matmul.prepare), "
                        f"got {type(prepared).__name__}")
    k, n = prepared.shape
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != k or x.dtype != prepared.dtype:
        raise ValueError(f"step_matmul: x must be a (B, {k}) {prepared.dtype} array, got shape "
                         f"{getattr(x, 'shape', None)} and dtype {getattr(x, 'dtype', type(x).__name__)}")
    check_out((out,), [(x.shape[0], n)], prepared.dtype, "step_matmul")
    rows = x.shape[0]
    product = prepared.product_for_rows.get(rows)
    if product is None:
        contiguous_x = np.ascontiguousarray(x)
        scratch = np.empty(out.shape, dtype=out.dtype)
        key = chooser.shape_key(prepared.dtype, rows, k, n) + f", numba_threads={numba.get_num_threads()}"
        product = chooser.choose("step_matmul", product_candidates(rows, prepared),
                                 lambda: (contiguous_x, prepared, scratch), key)
        prepared.product_for_rows[rows] = product
    return product


def step_product(x: np.ndarray, prepared: PreparedWeight, out: np.ndarray) -> np.ndarray:
    """out (B, N) = x (B, K) @ W, with W prepared by :func:`prepare`; returns ``out``.

    The shapes and dtypes are checked at every call, before the loops run (they do not check
    bounds); everything else, once per number of rows.
    """
    rows = x.shape[0]
    product = prepared.product_for_rows.get(rows) if isinstance(prepared, PreparedWeight) else None
    if (product is None or x.dtype != prepared.dtype or x.shape[1] != prepared.shape[0]
            or out.dtype != prepared.dtype or out.shape != (rows, prepared.shape[1])):
        product = _check_and_choose(x, prepared, out)
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    target = out if out.flags.c_contiguous else np.empty(out.shape, dtype=out.dtype)
    product(x, prepared, target)
    if target is not out:
        out[...] = target
    return out
