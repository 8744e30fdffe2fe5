"""Numba CPU pieces for the "numba" backend (see scratchlm/kernels/__init__.py).

Each entry of :data:`PIECES` takes the same arguments and returns the same values as the NumPy
piece of the same name in ``scratchlm/kernels/numpy_pieces.py`` (called "the reference" below), and runs
inside the engine's sequence ops (``recurrent.py``, ``rows.py``); the equations are in the
textbook layers' docstrings.
What changes is how the work is scheduled, following what was measured on the benchmark machine
(docs/benchmarks.md):

* **Transcendentals stay in NumPy.** NumPy's ``tanh`` and ``exp`` are SIMD-vectorised; a scalar
  ``math.tanh`` inside a Numba loop was 10-60x slower (the pip build of llvmlite has no vector
  math library). So a forward kernel is a sandwich: one NumPy ``tanh``/``exp`` call over a whole
  block, with the cheap arithmetic around it fused into single Numba passes.
* **Everything else is fused.** The backward gate math has no transcendentals at all: one Numba
  loop reads each input once and writes each output once, where the reference makes a
  temporary array for every ``*`` and ``-``.
* **The recurrent step's product has a kernel of its own.** BLAS repacks the weight at every
  call; with a batch of rows that costs a third of the step's product. ``step_matmul_prepare``
  packs W_hh once per sequence and ``step_matmul`` multiplies by the packed panels
  (scratchlm/kernels/packed_matmul.py).
* **Same arithmetic, same order.** The loops repeat the reference's operations in the reference's
  order and in the arrays' own precision (``one`` below is 1 in the array dtype, so float32
  math stays float32, as it does in NumPy). Numba does not contract ``a * b + c`` into a fused
  multiply-add unless fastmath is on, and it is off here, so the results match the reference
  to the last bit or nearly so (the conformance tests allow 1e-12 relative in float64 and 1e-5
  in float32). The step product is the exception: it uses fused multiply-adds and its own
  summation order, so it differs from BLAS in the last bits, well inside those bounds.

Every kernel is compiled on first use for the dtypes and layouts it meets and cached on disk
(``cache=True``), so later processes load it in milliseconds.
"""
from __future__ import annotations

import numba
import numpy as np

from scratchlm.kernels import packed_matmul
from scratchlm.kernels.results import check_out, out_arrays

SUPPORTED_DTYPES = (np.dtype("float32"), np.dtype("float64"))


def _one(array) -> np.floating:
    """1 in the dtype of ``array``; raises TypeError for dtypes the kernels are not built for."""
    if array.dtype not in SUPPORTED_DTYPES:
        raise TypeError(f"the numba kernels support float32 and float64 arrays, got dtype {array.dtype}")
    return array.dtype.type(1.0)


def _half(array) -> np.floating:
    """1/2 in the dtype of ``array`` (the sigmoid is (1 + tanh(a * 1/2)) * 1/2)."""
    return array.dtype.type(0.5)


# --------------------------------------------------------------------------------------------
# Embedding: dW[v] = sum of dout[n] over the n with ids[n] == v
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _scatter_add_rows(ids, dout, dweight):
    """dweight[ids[n]] += dout[n] for n in order (repeated ids accumulate)."""
    num_embeddings = dweight.shape[0]
    for n in range(ids.shape[0]):
        row = ids[n]
        if row < 0 or row >= num_embeddings:
            raise IndexError("token id outside [0, num_embeddings) in embedding_scatter_add")
        for e in range(dout.shape[1]):
            dweight[row, e] += dout[n, e]


def embedding_scatter_add(ids, dout, num_embeddings):
    """Piece "embedding_scatter_add": a loop in place of ``np.add.at`` (not in nopython mode)."""
    _one(dout)
    dweight = np.zeros((num_embeddings, dout.shape[1]), dtype=dout.dtype)
    _scatter_add_rows(ids, dout, dweight)
    return dweight


# --------------------------------------------------------------------------------------------
# Softmax cross-entropy over rows
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _shift_rows(logits, row_max, targets, shifted, target_shifted):
    """shifted[n] = logits[n] - row_max[n]; target_shifted[n] = shifted[n, targets[n]]."""
    vocab_size = logits.shape[1]
    for n in range(logits.shape[0]):
        for v in range(vocab_size):
            shifted[n, v] = logits[n, v] - row_max[n]
        target = targets[n]
        if target < 0 or target >= vocab_size:
            raise IndexError("target id outside [0, vocab_size) in cross_entropy_rows_forward")
        target_shifted[n] = shifted[n, target]


# Reassociation lets LLVM split the sum over several vector accumulators; the order of adding
# positive numbers changes the result only at rounding level, and the sum is kept in float64.
@numba.njit(cache=True, fastmath={"reassoc"})
def _row_sum(row):
    total = 0.0
    for v in range(row.shape[0]):
        total += row[v]
    return total


@numba.njit(cache=True)
def _normalise_rows(exp_shifted, target_shifted, sum_exp, nll):
    """In place: exp_shifted[n] /= its row sum; nll[n] = log(row sum) - target_shifted[n].

    The sum is accumulated in float64 and then stored in ``sum_exp`` (the array dtype), so the
    division runs in the array dtype as in NumPy (a float64 division per float32 entry would
    cost more than all the rest).
    """
    for n in range(exp_shifted.shape[0]):
        sum_exp[n] = _row_sum(exp_shifted[n])
        row_sum = sum_exp[n]
        for v in range(exp_shifted.shape[1]):
            exp_shifted[n, v] = exp_shifted[n, v] / row_sum
        nll[n] = np.log(row_sum) - target_shifted[n]


def cross_entropy_rows_forward(logits, targets):
    """Piece "cross_entropy_rows_forward": (nll (N,), probs (N, V)) in three passes.

    Reference: max, subtract, exp, sum and divide, each a full pass, two with a temporary.
    Here: NumPy's row max, one Numba pass (shift), NumPy's vectorised exp in place, and one
    Numba pass (row sum in float64, normalise, NLL) over rows that are still in cache.
    """
    _one(logits)
    probs = np.empty_like(logits)
    target_shifted = np.empty(logits.shape[0], dtype=logits.dtype)
    _shift_rows(logits, logits.max(axis=1), targets, probs, target_shifted)
    np.exp(probs, out=probs)
    sum_exp = np.empty(logits.shape[0], dtype=logits.dtype)
    nll = np.empty(logits.shape[0], dtype=logits.dtype)
    _normalise_rows(probs, target_shifted, sum_exp, nll)
    return nll, probs


@numba.njit(cache=True)
def _weighted_probs_minus_onehot(probs, targets, row_weights, dlogits):
    for n in range(probs.shape[0]):
        weight = row_weights[n]
        for v in range(probs.shape[1]):
            dlogits[n, v] = probs[n, v] * weight
        dlogits[n, targets[n]] -= weight


def cross_entropy_rows_backward(probs, targets, row_weights):
    """Piece "cross_entropy_rows_backward": one pass writing w[n] (probs[n] - onehot)."""
    _one(probs)
    dlogits = np.empty_like(probs)
    _weighted_probs_minus_onehot(probs, targets, row_weights, dlogits)
    return dlogits


# --------------------------------------------------------------------------------------------
# Elman RNN: h = tanh(a) stays NumPy's (it is one vectorised call already)
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _rnn_backward_loop(dh, h, one, da):
    for b in range(dh.shape[0]):
        for j in range(dh.shape[1]):
            da[b, j] = dh[b, j] * (one - h[b, j] * h[b, j])


def rnn_gates_backward(dh, h):
    """Piece "rnn_gates_backward": da = dh (1 - h^2) in one pass."""
    da = np.empty(dh.shape, dtype=dh.dtype)
    _rnn_backward_loop(dh, h, _one(dh), da)
    return da


# --------------------------------------------------------------------------------------------
# LSTM (gates i, f, g, o)
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _lstm_tanh_arguments(a, half, out):
    """out = the arguments of the one tanh call: a/2 for the sigmoid gates i, f, o; a for g.

    sigma(a) = (1 + tanh(a / 2)) / 2 (scratchlm/layers/activations.py), so after ``tanh(out)``
    the g block is already g, and i, f, o need one more multiply-add each.
    """
    hidden = a.shape[1] // 4
    for b in range(a.shape[0]):
        for j in range(2 * hidden):
            out[b, j] = a[b, j] * half
        for j in range(2 * hidden, 3 * hidden):
            out[b, j] = a[b, j]
        for j in range(3 * hidden, 4 * hidden):
            out[b, j] = a[b, j] * half


@numba.njit(cache=True)
def _lstm_cell_update(gates, c_prev, one, half, c):
    """In place: tanh values -> sigmoid gates; c = f * c_prev + i * g."""
    hidden = c_prev.shape[1]
    for b in range(c_prev.shape[0]):
        for j in range(2 * hidden):
            gates[b, j] = (gates[b, j] + one) * half
        for j in range(3 * hidden, 4 * hidden):
            gates[b, j] = (gates[b, j] + one) * half
        for j in range(hidden):
            i = gates[b, j]
            f = gates[b, hidden + j]
            g = gates[b, 2 * hidden + j]
            c[b, j] = f * c_prev[b, j] + i * g


@numba.njit(cache=True)
def _lstm_output(gates, tanh_c, h):
    hidden = h.shape[1]
    for b in range(h.shape[0]):
        for j in range(hidden):
            h[b, j] = gates[b, 3 * hidden + j] * tanh_c[b, j]


def lstm_gates_forward(a, c_prev, out=None):
    """Piece "lstm_gates_forward": two NumPy tanh calls, three fused Numba passes.

    With ``out`` the passes write straight into the caller's arrays (no copy afterwards).
    """
    one, half = _one(a), _half(a)
    shapes = (c_prev.shape, c_prev.shape, a.shape, c_prev.shape)
    out = out_arrays(out, shapes, a.dtype, "lstm_gates_forward", np.empty)
    h, c, gates, tanh_c = out
    _lstm_tanh_arguments(a, half, gates)
    np.tanh(gates, out=gates)
    _lstm_cell_update(gates, c_prev, one, half, c)
    np.tanh(c, out=tanh_c)
    _lstm_output(gates, tanh_c, h)
    return out


@numba.njit(cache=True)
def _lstm_backward_loop(dh, dc, c_prev, gates, tanh_c, one, da, dc_prev):
    hidden = c_prev.shape[1]
    for b in range(c_prev.shape[0]):
        for j in range(hidden):
            i = gates[b, j]
            f = gates[b, hidden + j]
            g = gates[b, 2 * hidden + j]
            o = gates[b, 3 * hidden + j]
            tc = tanh_c[b, j]
            dc_total = dc[b, j] + dh[b, j] * o * (one - tc * tc)
            da[b, j] = dc_total * g * i * (one - i)
            da[b, hidden + j] = dc_total * c_prev[b, j] * f * (one - f)
            da[b, 2 * hidden + j] = dc_total * i * (one - g * g)
            da[b, 3 * hidden + j] = dh[b, j] * tc * o * (one - o)
            dc_prev[b, j] = dc_total * f


def lstm_gates_backward(dh, dc, c_prev, gates, tanh_c, out=None):
    """Piece "lstm_gates_backward": the whole backward gate math in one pass (into ``out`` if given)."""
    one = _one(gates)
    out = out_arrays(out, (gates.shape, c_prev.shape), gates.dtype, "lstm_gates_backward", np.empty)
    da, dc_prev = out
    _lstm_backward_loop(dh, dc, c_prev, gates, tanh_c, one, da, dc_prev)
    return out


# --------------------------------------------------------------------------------------------
# GRU (gates r, z, n)
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _gru_sigmoid_arguments(ax, ah, half, gates):
    """gates[:, :2H] = (ax + ah) / 2, the argument of tanh in sigma = (1 + tanh(a/2)) / 2."""
    hidden = ax.shape[1] // 3
    for b in range(ax.shape[0]):
        for j in range(2 * hidden):
            gates[b, j] = (ax[b, j] + ah[b, j]) * half


@numba.njit(cache=True)
def _gru_candidate_argument(ax, ah, one, half, gates):
    """In place: tanh values -> r, z; gates[:, 2H:] = ax_n + r * ah_n (the argument of tanh)."""
    hidden = ax.shape[1] // 3
    for b in range(ax.shape[0]):
        for j in range(2 * hidden):
            gates[b, j] = (gates[b, j] + one) * half
        for j in range(hidden):
            gates[b, 2 * hidden + j] = ax[b, 2 * hidden + j] + gates[b, j] * ah[b, 2 * hidden + j]


@numba.njit(cache=True)
def _gru_interpolate(gates, h_prev, h):
    """h = n + z * (h_prev - n)."""
    hidden = h_prev.shape[1]
    for b in range(h_prev.shape[0]):
        for j in range(hidden):
            n = gates[b, 2 * hidden + j]
            h[b, j] = n + gates[b, hidden + j] * (h_prev[b, j] - n)


def gru_gates_forward(ax, ah, h_prev):
    """Piece "gru_gates_forward": two NumPy tanh calls, three fused Numba passes."""
    one, half = _one(ax), _half(ax)
    hidden = h_prev.shape[1]
    gates = np.empty(ax.shape, dtype=ax.dtype)
    _gru_sigmoid_arguments(ax, ah, half, gates)
    np.tanh(gates[:, : 2 * hidden], out=gates[:, : 2 * hidden])
    _gru_candidate_argument(ax, ah, one, half, gates)
    np.tanh(gates[:, 2 * hidden :], out=gates[:, 2 * hidden :])
    h = np.empty(h_prev.shape, dtype=ax.dtype)
    _gru_interpolate(gates, h_prev, h)
    return h, gates


@numba.njit(cache=True)
def _gru_backward_loop(dh, h_prev, gates, ah_n, one, dax, dah, dh_direct):
    hidden = h_prev.shape[1]
    for b in range(h_prev.shape[0]):
        for j in range(hidden):
            r = gates[b, j]
            z = gates[b, hidden + j]
            n = gates[b, 2 * hidden + j]
            dan = dh[b, j] * (one - z) * (one - n * n)
            dar = dan * ah_n[b, j] * r * (one - r)
            daz = dh[b, j] * (h_prev[b, j] - n) * z * (one - z)
            dax[b, j] = dar
            dax[b, hidden + j] = daz
            dax[b, 2 * hidden + j] = dan
            dah[b, j] = dar
            dah[b, hidden + j] = daz
            dah[b, 2 * hidden + j] = dan * r
            dh_direct[b, j] = dh[b, j] * z


def gru_gates_backward(dh, h_prev, gates, ah_n):
    """Piece "gru_gates_backward": the whole backward gate math in one pass."""
    dax = np.empty(gates.shape, dtype=gates.dtype)
    dah = np.empty(gates.shape, dtype=gates.dtype)
    dh_direct = np.empty(h_prev.shape, dtype=gates.dtype)
    _gru_backward_loop(dh, h_prev, gates, ah_n, _one(gates), dax, dah, dh_direct)
    return dax, dah, dh_direct


# --------------------------------------------------------------------------------------------
# The recurrent step's product, with the weight packed once per sequence
# --------------------------------------------------------------------------------------------


class PackedWeight:
    """A (K, N) matrix packed into column panels (scratchlm/kernels/packed_matmul.py)."""

    def __init__(self, weight):
        _one(weight)
        self.shape = tuple(weight.shape)
        self.dtype = weight.dtype
        self.panels = packed_matmul.pack(weight)


def step_matmul_prepare(weight):
    """Piece "step_matmul_prepare": pack W once; every step then reads the packed panels."""
    return PackedWeight(weight)


def step_matmul(x, prepared, out):
    """Piece "step_matmul": out = x @ W with W packed by step_matmul_prepare.

    The shapes are checked here, before the loops run (they do not check bounds).
    """
    if not isinstance(prepared, PackedWeight):
        raise TypeError(f"step_matmul needs the result of the numba step_matmul_prepare, got {type(prepared).__name__}")
    rows_k, columns = prepared.shape
    if x.ndim != 2 or x.shape[1] != rows_k or x.dtype != prepared.dtype:
        raise ValueError(f"step_matmul: x must be a (B, {rows_k}) {prepared.dtype} array, got shape "
                         f"{x.shape} and dtype {x.dtype}")
    check_out((out,), [(x.shape[0], columns)], prepared.dtype, "step_matmul")
    target = out if out.flags.c_contiguous else np.empty(out.shape, dtype=out.dtype)
    packed_matmul.matmul(np.ascontiguousarray(x), prepared.panels, columns, target)
    if target is not out:
        out[...] = target
    return out


# --------------------------------------------------------------------------------------------
# The plain SGD update, in one pass
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _subtract_scaled(param, grad, lr):
    for i in range(param.shape[0]):
        param[i] -= lr * grad[i]


def sgd_update(param, grad, lr):
    """Piece "sgd_update": param -= lr * grad in one pass, without NumPy's temporary.

    The arithmetic is NumPy's for a Python-float lr (lr rounded to the array dtype, a product,
    then a difference), so the result is the same to the bit. Arrays that are not contiguous, or differ in shape or
    dtype, take the reference's path.
    """
    if (param.dtype in SUPPORTED_DTYPES and grad.dtype == param.dtype and grad.shape == param.shape
            and param.flags.c_contiguous and grad.flags.c_contiguous):
        _subtract_scaled(param.reshape(-1), grad.reshape(-1), param.dtype.type(lr))
    else:
        param -= lr * grad


PIECES = {
    "embedding_scatter_add": embedding_scatter_add,
    "cross_entropy_rows_forward": cross_entropy_rows_forward,
    "cross_entropy_rows_backward": cross_entropy_rows_backward,
    "rnn_gates_backward": rnn_gates_backward,
    "lstm_gates_forward": lstm_gates_forward,
    "lstm_gates_backward": lstm_gates_backward,
    "gru_gates_forward": gru_gates_forward,
    "gru_gates_backward": gru_gates_backward,
    "step_matmul_prepare": step_matmul_prepare,
    "step_matmul": step_matmul,
    "sgd_update": sgd_update,
}
