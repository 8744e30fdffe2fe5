"""The product a recurrent layer computes at every step with the same matrix.

Forward, each step multiplies the previous state by the recurrent weight, h_{t-1} W_hh^T;
backward, each step multiplies the gate gradients by it, da_t W_hh. The right operand is the
same for all T steps of a sequence, so a backend may prepare it once and reuse it:

    prepared = step_matmul_prepare(W)          # once per sequence; W (K, N)
    step_matmul(x_t, prepared, out=y_t)        # every step: y_t = x_t W, x_t (B, K), y_t (B, N)

Pieces "step_matmul_prepare" and "step_matmul" (see scratchlm/kernels/__init__.py). This NumPy version prepares a C-contiguous
copy of W (BLAS multiplies by it up to 2x faster than by a transposed view such as W_hh.T) and
multiplies with ``matmul``. The numba backend packs W into the panel layout of its own inner
kernel instead (scratchlm/kernels/packed_matmul.py). What ``step_matmul_prepare`` returns is
only ever handed back to the same backend's ``step_matmul``. A sequence of a single step, as in
generation, uses neither: preparing would cost more than its one product
(``_step_product`` in scratchlm/kernels/recurrent.py).
"""
from __future__ import annotations

from scratchlm import backend


def step_matmul_prepare(weight):
    """Piece "step_matmul_prepare": ``weight`` (K, N) ready for many step_matmul calls."""
    return backend.xp().ascontiguousarray(weight)


def step_matmul(x, prepared, out):
    """Piece "step_matmul": ``out`` (B, N) = ``x`` (B, K) @ W, W prepared by step_matmul_prepare.

    Returns ``out``.
    """
    return backend.xp().matmul(x, prepared, out=out)
