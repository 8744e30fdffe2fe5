"""The NumPy pieces of the engine: the pointwise part of one recurrent step, and the row-wise
parts of the embedding and softmax cross-entropy ops.

The engine's sequence ops (``recurrent.py``, ``rows.py``) are written once and call a piece for
each inner part; :func:`scratchlm.kernels.pieces` decides which implementation of a piece runs.
These are the NumPy ones (with the step product of ``step_matmul.py``), run under the numpy backend and wherever a faster backend has no piece
of its own; the Numba (``numba_ops.py``) and CuPy (``cupy_ops.py``) pieces take the same
arguments and return the same values, and the tests hold them to these.

A piece never modifies its inputs and returns new arrays, except that the two LSTM gate pieces
also take ``out=``, a tuple of arrays shaped like their results (not overlapping the inputs),
and then write into those and return them: the LSTM sequence ops pass slices of their time-major
buffers, which saves a copy of every result at every step (``results.py``).
"""
from __future__ import annotations

import numpy as np

from scratchlm import backend
from scratchlm.kernels.results import out_arrays, write_results
from scratchlm.kernels.step_matmul import step_matmul, step_matmul_prepare
from scratchlm.layers.activations import sigmoid


def rnn_gates_forward(a):
    """Piece "rnn_gates_forward": h = tanh(a); a and h are (B, H)."""
    return backend.xp().tanh(a)


def rnn_gates_backward(dh, h):
    """Piece "rnn_gates_backward": da = dh * (1 - h^2); all (B, H)."""
    return dh * (1.0 - h * h)


def lstm_gates_forward(a, c_prev, out=None):
    """Piece "lstm_gates_forward": the pointwise part of one LSTM step.

    Args:
        a: (B, 4H) gate pre-activations [a_i, a_f, a_g, a_o].
        c_prev: (B, H) previous cell state.
        out: optional tuple (h, c, gates, tanh_c) of arrays shaped like the results, to write
            them into (the sequence loop passes slices of its time-major buffers, which saves
            a copy of every result at every step). They must not overlap ``a`` or ``c_prev``.

    Returns:
        h: (B, H), c: (B, H),
        gates: (B, 4H) the activated gates [i, f, g, o],
        tanh_c: (B, H) tanh(c), kept for the backward pass.
        When ``out`` is given, it is returned, filled.

    The sigmoids come from one exponential over the whole contiguous (B, 4H) block, with
    sigma(x) = 1 / (1 + e^{-x}); g is then overwritten with tanh(a_g). The textbook writes sigma
    with tanh (scratchlm/layers/activations.py), but NumPy vectorises exp with AVX2 and tanh only
    with AVX-512: on an AVX2 CPU (AMD EPYC) float32 exp takes 1.6 ns an element against tanh's
    2.6, and this piece takes 65% of the time of the tanh form for B = 1000, H = 128. Both forms
    are exact to a few units in the last place. (g stays np.tanh: 2 sigma(2x) - 1 would lose the
    relative accuracy of tanh near 0 for 15% less time.)
    """
    xp = backend.xp()
    batch, hidden = c_prev.shape
    shapes = [(batch, hidden), (batch, hidden), (batch, 4 * hidden), (batch, hidden)]
    h, c, gates, tanh_c = out_arrays(out, shapes, a.dtype, "lstm_gates_forward", xp.empty)
    xp.negative(a, out=gates)
    # e^{-x} overflows to inf for very negative x (x < -88 in float32), and 1 / (1 + inf) = 0 is
    # then the right value of sigma: the overflow is expected, not an error.
    with np.errstate(over="ignore"):
        xp.exp(gates, out=gates)
    gates += 1.0
    xp.divide(1.0, gates, out=gates)
    xp.tanh(a[:, 2 * hidden : 3 * hidden], out=gates[:, 2 * hidden : 3 * hidden])
    i, f, g, o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
    xp.multiply(f, c_prev, out=c)
    c += i * g
    xp.tanh(c, out=tanh_c)
    xp.multiply(o, tanh_c, out=h)
    return h, c, gates, tanh_c


def lstm_gates_backward(dh, dc, c_prev, gates, tanh_c, out=None):
    """Piece "lstm_gates_backward": backward of lstm_gates_forward.

    Args:
        dh: (B, H) gradient reaching h_t.  dc: (B, H) gradient reaching c_t from step t+1.
        c_prev: (B, H).  gates: (B, 4H) [i, f, g, o].  tanh_c: (B, H).
        out: optional tuple (da, dc_prev) of arrays to write the results into, as in
            lstm_gates_forward; they must not overlap the inputs.

    Returns:
        da: (B, 4H) gradient of the pre-activations.
        dc_prev: (B, H) gradient reaching c_{t-1}.
        When ``out`` is given, it is returned, filled.
    """
    xp = backend.xp()
    hidden = c_prev.shape[1]
    i, f, g, o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
    dc_total = dc + dh * o * (1.0 - tanh_c * tanh_c)
    da = xp.empty_like(gates)
    da[:, :hidden] = dc_total * g * i * (1.0 - i)
    da[:, hidden : 2 * hidden] = dc_total * c_prev * f * (1.0 - f)
    da[:, 2 * hidden : 3 * hidden] = dc_total * i * (1.0 - g * g)
    da[:, 3 * hidden :] = dh * tanh_c * o * (1.0 - o)
    return write_results(out, (da, dc_total * f))


def gru_gates_forward(ax, ah, h_prev):
    """Piece "gru_gates_forward": the pointwise part of one GRU step.

    Args:
        ax: (B, 3H) input part W_ih x_t + b_ih.
        ah: (B, 3H) recurrent part W_hh h_{t-1} + b_hh.
        h_prev: (B, H).

    Returns:
        h: (B, H) new hidden state.
        gates: (B, 3H) the activated gates [r, z, n], kept for the backward pass.
    """
    xp = backend.xp()
    hidden = h_prev.shape[1]
    gates = xp.empty_like(ax)
    gates[:, : 2 * hidden] = sigmoid(ax[:, : 2 * hidden] + ah[:, : 2 * hidden])  # r and z
    r = gates[:, :hidden]
    z = gates[:, hidden : 2 * hidden]
    gates[:, 2 * hidden :] = xp.tanh(ax[:, 2 * hidden :] + r * ah[:, 2 * hidden :])
    n = gates[:, 2 * hidden :]
    return n + z * (h_prev - n), gates


def gru_gates_backward(dh, h_prev, gates, ah_n):
    """Piece "gru_gates_backward": backward of gru_gates_forward.

    Args:
        dh: (B, H) gradient reaching h_t.  h_prev: (B, H).
        gates: (B, 3H) [r, z, n].  ah_n: (B, H) the n part of ah, W_hn h_{t-1} + b_hn.

    Returns:
        dax: (B, 3H), dah: (B, 3H) gradients of the two pre-activation parts,
        dh_prev_direct: (B, H) the gradient reaching h_{t-1} through z_t * h_{t-1}
            (the path through W_hh is dah @ W_hh, added by the caller).
    """
    xp = backend.xp()
    hidden = h_prev.shape[1]
    r = gates[:, :hidden]
    z = gates[:, hidden : 2 * hidden]
    n = gates[:, 2 * hidden :]
    dan = dh * (1.0 - z) * (1.0 - n * n)
    dax = xp.empty_like(gates)
    dax[:, :hidden] = dan * ah_n * r * (1.0 - r)
    dax[:, hidden : 2 * hidden] = dh * (h_prev - n) * z * (1.0 - z)
    dax[:, 2 * hidden :] = dan
    dah = dax.copy()
    dah[:, 2 * hidden :] = dan * r
    return dax, dah, dh * z


def embedding_scatter_add(ids, dout, num_embeddings):
    """Piece "embedding_scatter_add": dW (V, E) with dW[v] = sum of dout[n] where ids[n] == v.

    Args:
        ids: (N,) integer token ids.
        dout: (N, E) upstream gradients, one row per id.
        num_embeddings: V.

    Returns:
        dweight: (V, E), dtype of ``dout``.
    """
    xp = backend.xp()
    dweight = xp.zeros((num_embeddings, dout.shape[1]), dtype=dout.dtype)
    xp.add.at(dweight, ids, dout)  # accumulates repeated ids, unlike dweight[ids] += dout
    return dweight


def cross_entropy_rows_forward(logits, targets):
    """Piece "cross_entropy_rows_forward": per-row NLL and softmax.

    Args:
        logits: (N, V).
        targets: (N,) integer ids in [0, V).

    Returns:
        nll: (N,) -log softmax(logits[n])[targets[n]].
        probs: (N, V) softmax(logits), kept for the backward pass.
    """
    xp = backend.xp()
    rows = xp.arange(logits.shape[0])
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = xp.exp(shifted)
    sum_exp = probs.sum(axis=1)
    probs /= sum_exp[:, None]
    nll = xp.log(sum_exp) - shifted[rows, targets]
    return nll, probs


def cross_entropy_rows_backward(probs, targets, row_weights):
    """Piece "cross_entropy_rows_backward": dlogits = w[n] * (probs[n] - onehot(targets[n])).

    Args:
        probs: (N, V) softmax from the forward pass.
        targets: (N,) integer ids.
        row_weights: (N,) dloss * m[n] / N for each row (0 for padding).

    Returns:
        dlogits: (N, V), a new array (``probs`` is left unchanged).
    """
    xp = backend.xp()
    rows = xp.arange(probs.shape[0])
    dlogits = probs * row_weights[:, None]
    dlogits[rows, targets] -= row_weights
    return dlogits



def sgd_update(param, grad, lr) -> None:
    """Piece "sgd_update": param -= lr * grad, in place (the one piece that changes an input)."""
    param -= lr * grad


PIECES = {
    "rnn_gates_forward": rnn_gates_forward,
    "rnn_gates_backward": rnn_gates_backward,
    "lstm_gates_forward": lstm_gates_forward,
    "lstm_gates_backward": lstm_gates_backward,
    "gru_gates_forward": gru_gates_forward,
    "gru_gates_backward": gru_gates_backward,
    "embedding_scatter_add": embedding_scatter_add,
    "cross_entropy_rows_forward": cross_entropy_rows_forward,
    "cross_entropy_rows_backward": cross_entropy_rows_backward,
    "step_matmul_prepare": step_matmul_prepare,
    "step_matmul": step_matmul,
    "sgd_update": sgd_update,
}
