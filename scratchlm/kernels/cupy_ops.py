"""CuPy GPU pieces for the "cupy" backend (see scratchlm/kernels/__init__.py).

This module is imported only when the "cupy" backend is switched on (``backend.use("cupy")``),
so ``import cupy`` at its top never runs on a machine without CuPy.

Under this backend every array lives on the GPU for the whole run: the engine's sequence ops
(``recurrent.py``, ``rows.py``) get ``cupy`` from ``backend.xp()`` and call the pieces below,
which take and return CuPy arrays; the step products stay CuPy's ``matmul`` (cuBLAS). What a kernel buys on the GPU
is fewer launches and fewer trips through device memory: the NumPy piece's gate math (``numpy_pieces.py``) is about a
dozen elementwise launches per step, each reading and writing whole arrays; here it is one
``cupy.ElementwiseKernel`` launch per step that reads each input once and writes each output once
(one GPU thread per (batch row, hidden unit)). The arithmetic follows the NumPy pieces', including
sigma(a) = (1 + tanh(a / 2)) / 2 (scratchlm/layers/activations.py).

The embedding backward uses ``cupyx.scatter_add`` (atomic adds, so repeated ids accumulate).

Status: written against CuPy's documented API; no GPU was available when it was written, so it
has not been run on one. tests/kernels/ run every piece here against the NumPy piece, and every
op against the textbook, as soon as a machine with CuPy and a GPU runs the suite (and on the
CPU through tests/cupy_emulator.py everywhere else).
"""
from __future__ import annotations

import cupy
import cupyx

from scratchlm.kernels.results import out_arrays

# ElementwiseKernel compiles on first call (and caches on disk), so defining them here is cheap.
# "raw" arguments are indexed by hand; the loop index i runs over the (B, H) non-raw arguments.
# The wrappers allocate every output and pass it in (CuPy cannot size a raw output itself).

_lstm_forward = cupy.ElementwiseKernel(
    "raw T a, T c_prev, int64 hidden",
    "T h, T c, T tanh_c, raw T gates",
    """
    const ptrdiff_t b = i / hidden, j = i % hidden, row = b * 4 * hidden;
    const T half = 0.5, one = 1;
    const T gi = (tanh(a[row + j] * half) + one) * half;
    const T gf = (tanh(a[row + hidden + j] * half) + one) * half;
    const T gg = tanh(a[row + 2 * hidden + j]);
    const T go = (tanh(a[row + 3 * hidden + j] * half) + one) * half;
    gates[row + j] = gi;
    gates[row + hidden + j] = gf;
    gates[row + 2 * hidden + j] = gg;
    gates[row + 3 * hidden + j] = go;
    c = gf * c_prev + gi * gg;
    tanh_c = tanh(c);
    h = go * tanh_c;
    """,
    "scratchlm_lstm_gates_forward",
)

_lstm_backward = cupy.ElementwiseKernel(
    "T dh, T dc, T c_prev, raw T gates, T tanh_c, int64 hidden",
    "T dc_prev, raw T da",
    """
    const ptrdiff_t b = i / hidden, j = i % hidden, row = b * 4 * hidden;
    const T one = 1;
    const T gi = gates[row + j], gf = gates[row + hidden + j];
    const T gg = gates[row + 2 * hidden + j], go = gates[row + 3 * hidden + j];
    const T dc_total = dc + dh * go * (one - tanh_c * tanh_c);
    da[row + j] = dc_total * gg * gi * (one - gi);
    da[row + hidden + j] = dc_total * c_prev * gf * (one - gf);
    da[row + 2 * hidden + j] = dc_total * gi * (one - gg * gg);
    da[row + 3 * hidden + j] = dh * tanh_c * go * (one - go);
    dc_prev = dc_total * gf;
    """,
    "scratchlm_lstm_gates_backward",
)

_gru_forward = cupy.ElementwiseKernel(
    "raw T ax, raw T ah, T h_prev, int64 hidden",
    "T h, raw T gates",
    """
    const ptrdiff_t b = i / hidden, j = i % hidden, row = b * 3 * hidden;
    const T half = 0.5, one = 1;
    const T r = (tanh((ax[row + j] + ah[row + j]) * half) + one) * half;
    const T z = (tanh((ax[row + hidden + j] + ah[row + hidden + j]) * half) + one) * half;
    const T n = tanh(ax[row + 2 * hidden + j] + r * ah[row + 2 * hidden + j]);
    gates[row + j] = r;
    gates[row + hidden + j] = z;
    gates[row + 2 * hidden + j] = n;
    h = n + z * (h_prev - n);
    """,
    "scratchlm_gru_gates_forward",
)

_gru_backward = cupy.ElementwiseKernel(
    "T dh, T h_prev, raw T gates, T ah_n, int64 hidden",
    "T dh_direct, raw T dax, raw T dah",
    """
    const ptrdiff_t b = i / hidden, j = i % hidden, row = b * 3 * hidden;
    const T one = 1;
    const T r = gates[row + j], z = gates[row + hidden + j], n = gates[row + 2 * hidden + j];
    const T dan = dh * (one - z) * (one - n * n);
    const T dar = dan * ah_n * r * (one - r);
    const T daz = dh * (h_prev - n) * z * (one - z);
    dax[row + j] = dar;
    dax[row + hidden + j] = daz;
    dax[row + 2 * hidden + j] = dan;
    dah[row + j] = dar;
    dah[row + hidden + j] = daz;
    dah[row + 2 * hidden + j] = dan * r;
    dh_direct = dh * z;
    """,
    "scratchlm_gru_gates_backward",
)

_rnn_backward = cupy.ElementwiseKernel(
    "T dh, T h", "T da", "da = dh * ((T)1 - h * h)", "scratchlm_rnn_gates_backward"
)

_cross_entropy_backward = cupy.ElementwiseKernel(
    "T probs, raw I targets, raw T row_weights, int64 vocab_size",
    "T dlogits",
    """
    const ptrdiff_t n = i / vocab_size, v = i % vocab_size;
    dlogits = probs * row_weights[n];
    if (v == (ptrdiff_t)targets[n]) dlogits -= row_weights[n];
    """,
    "scratchlm_cross_entropy_backward",
)


@cupy.fuse()
def _shifted_exp(logits, row_max):
    return cupy.exp(logits - row_max)


def _contiguous(*arrays):
    """The kernels index their raw arguments as C-contiguous blocks; copy only views that are not."""
    return [cupy.ascontiguousarray(a) for a in arrays]


def _require_contiguous(out, what):
    """``out`` itself, if C-contiguous: the kernels write their raw outputs as contiguous blocks."""
    for k, array in enumerate(out):
        if not array.flags.c_contiguous:
            raise ValueError(f"{what}: out[{k}] must be C-contiguous")
    return out


def lstm_gates_forward(a, c_prev, out=None):
    """Piece "lstm_gates_forward": one launch computes h, c, the gates and tanh(c).

    With ``out`` the launch writes straight into the caller's arrays (they must be contiguous:
    ``gates`` is indexed by hand).
    """
    a, c_prev = _contiguous(a, c_prev)
    shapes = (c_prev.shape, c_prev.shape, a.shape, c_prev.shape)
    out = _require_contiguous(out_arrays(out, shapes, a.dtype, "lstm_gates_forward", cupy.empty), "lstm_gates_forward")
    h, c, gates, tanh_c = out
    _lstm_forward(a, c_prev, c_prev.shape[1], h, c, tanh_c, gates)
    return out


def lstm_gates_backward(dh, dc, c_prev, gates, tanh_c, out=None):
    """Piece "lstm_gates_backward": one launch for da and dc_prev (into ``out`` if given)."""
    dh, dc, c_prev, gates, tanh_c = _contiguous(dh, dc, c_prev, gates, tanh_c)
    shapes = (gates.shape, c_prev.shape)
    out = _require_contiguous(out_arrays(out, shapes, gates.dtype, "lstm_gates_backward", cupy.empty), "lstm_gates_backward")
    da, dc_prev = out
    _lstm_backward(dh, dc, c_prev, gates, tanh_c, c_prev.shape[1], dc_prev, da)
    return out


def gru_gates_forward(ax, ah, h_prev):
    """Piece "gru_gates_forward": one launch for h and the gates."""
    ax, ah, h_prev = _contiguous(ax, ah, h_prev)
    gates = cupy.empty_like(ax)
    h = cupy.empty_like(h_prev)
    _gru_forward(ax, ah, h_prev, h_prev.shape[1], h, gates)
    return h, gates


def gru_gates_backward(dh, h_prev, gates, ah_n):
    """Piece "gru_gates_backward": one launch for dax, dah and the direct dh_prev."""
    dh, h_prev, gates, ah_n = _contiguous(dh, h_prev, gates, ah_n)
    dax = cupy.empty_like(gates)
    dah = cupy.empty_like(gates)
    dh_direct = cupy.empty_like(h_prev)
    _gru_backward(dh, h_prev, gates, ah_n, h_prev.shape[1], dh_direct, dax, dah)
    return dax, dah, dh_direct


def rnn_gates_backward(dh, h):
    """Piece "rnn_gates_backward": da = dh (1 - h^2) in one launch."""
    return _rnn_backward(dh, h)


def embedding_scatter_add(ids, dout, num_embeddings):
    """Piece "embedding_scatter_add": atomic adds on the device."""
    dweight = cupy.zeros((num_embeddings, dout.shape[1]), dtype=dout.dtype)
    cupyx.scatter_add(dweight, ids, dout)
    return dweight


def cross_entropy_rows_forward(logits, targets):
    """Piece "cross_entropy_rows_forward": the shift and exp fused into one launch."""
    row_max = logits.max(axis=1, keepdims=True)
    probs = _shifted_exp(logits, row_max)
    sum_exp = probs.sum(axis=1)
    probs /= sum_exp[:, None]
    rows = cupy.arange(logits.shape[0])
    nll = cupy.log(sum_exp) - (logits[rows, targets] - row_max[:, 0])
    return nll, probs


def cross_entropy_rows_backward(probs, targets, row_weights):
    """Piece "cross_entropy_rows_backward": w[n] (probs - onehot) in one launch."""
    probs, targets, row_weights = _contiguous(probs, targets, row_weights)
    return _cross_entropy_backward(probs, targets, row_weights, probs.shape[1])


PIECES = {
    "embedding_scatter_add": embedding_scatter_add,
    "cross_entropy_rows_forward": cross_entropy_rows_forward,
    "cross_entropy_rows_backward": cross_entropy_rows_backward,
    "rnn_gates_backward": rnn_gates_backward,
    "lstm_gates_forward": lstm_gates_forward,
    "lstm_gates_backward": lstm_gates_backward,
    "gru_gates_forward": gru_gates_forward,
    "gru_gates_backward": gru_gates_backward,
}
