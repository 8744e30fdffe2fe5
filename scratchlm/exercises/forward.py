"""The forward passes of the exercises: given, complete, and read by you.

Each exercise asks for a backward pass. Its forward pass is here, written out, and it returns a
*cache*: a dict holding exactly what the backward pass needs. Read the forward pass first; the
backward pass runs the same equations in reverse order, using the cache.

The functions compute the same values as the reference layers in ``scratchlm/layers`` (the tests
check that), but keep every intermediate under a plain name, so an exercise does not depend on how
the reference layers arrange their caches. They use NumPy and float64, the precision in which
gradients are checked.

Shapes: B batch, T time steps, E input (embedding) size, H hidden size, V vocabulary size.
Parameters follow PyTorch: ``weight_ih`` (G*H, E), ``weight_hh`` (G*H, H), ``bias_ih`` and
``bias_hh`` (G*H,), with G = 1 for the Elman RNN and G = 4 for the LSTM (gate rows in the order
i, f, g, o).
"""
from __future__ import annotations

import numpy as np


def sigmoid(a: np.ndarray) -> np.ndarray:
    """sigma(a) = 1 / (1 + exp(-a)), computed without overflow for large |a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def embedding_forward(ids: np.ndarray, weight: np.ndarray):
    """out[b, t] = weight[ids[b, t]]: a row lookup, the same as one_hot(ids) @ weight.

    Args:
        ids: (B, T) int token ids in [0, V).
        weight: (V, E) embedding matrix.

    Returns:
        out: (B, T, E).
        cache: {"ids": (B, T), "vocab_size": V}.
    """
    out = weight[ids]
    cache = {"ids": ids, "vocab_size": weight.shape[0]}
    return out, cache


def softmax_cross_entropy_forward(logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None):
    """L = -(1/N) sum_{b,t: mask} log p[b, t, targets[b, t]],  p = softmax(logits) over the last axis.

    N is the number of unmasked tokens (all B*T when ``mask`` is None): the loss is the mean
    negative log-likelihood per predicted token.

    Args:
        logits: (B, T, V) scores.
        targets: (B, T) int ids of the correct next tokens.
        mask: (B, T) bool, True where the token counts (False for padding), or None.

    Returns:
        loss: float.
        cache: {"probs": (B, T, V) softmax probabilities, "targets": (B, T),
                "mask": (B, T) float 1.0 / 0.0, "count": N}.
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    weights = np.ones(targets.shape) if mask is None else np.asarray(mask, dtype=np.float64)
    count = weights.sum()
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]  # (B, T)
    loss = -(picked * weights).sum() / count
    cache = {"probs": np.exp(log_probs), "targets": targets, "mask": weights, "count": count}
    return float(loss), cache


def rnn_step_forward(x: np.ndarray, h_prev: np.ndarray, params: dict):
    """One Elman RNN step:  h = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh).

    Args:
        x: (B, E) input at this step.
        h_prev: (B, H) previous hidden state.
        params: {"weight_ih": (H, E), "weight_hh": (H, H), "bias_ih": (H,), "bias_hh": (H,)}.

    Returns:
        h: (B, H) new hidden state.
        cache: {"x": x, "h_prev": h_prev, "h": h, "params": params}.
    """
    a = x @ params["weight_ih"].T + params["bias_ih"] + h_prev @ params["weight_hh"].T + params["bias_hh"]
    h = np.tanh(a)
    cache = {"x": x, "h_prev": h_prev, "h": h, "params": params}
    return h, cache


def lstm_step_forward(x: np.ndarray, state_prev: tuple, params: dict):
    """One LSTM step (PyTorch's equations and gate order i, f, g, o)::

        a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh          (B, 4H), split into four (B, H) blocks
        i = sigmoid(a[:, 0:H])     input gate
        f = sigmoid(a[:, H:2H])    forget gate
        g = tanh(a[:, 2H:3H])      candidate cell
        o = sigmoid(a[:, 3H:4H])   output gate
        c = f * c_prev + i * g
        h = o * tanh(c)

    Args:
        x: (B, E) input at this step.
        state_prev: (h_prev, c_prev), each (B, H).
        params: {"weight_ih": (4H, E), "weight_hh": (4H, H), "bias_ih": (4H,), "bias_hh": (4H,)}.

    Returns:
        state: (h, c), each (B, H).
        cache: {"x", "h_prev", "c_prev", "i", "f", "g", "o", "c", "tanh_c", "params"}.
    """
    h_prev, c_prev = state_prev
    hidden = h_prev.shape[1]
    a = x @ params["weight_ih"].T + params["bias_ih"] + h_prev @ params["weight_hh"].T + params["bias_hh"]
    i = sigmoid(a[:, 0:hidden])
    f = sigmoid(a[:, hidden : 2 * hidden])
    g = np.tanh(a[:, 2 * hidden : 3 * hidden])
    o = sigmoid(a[:, 3 * hidden : 4 * hidden])
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o,
             "c": c, "tanh_c": tanh_c, "params": params}
    return (h, c), cache


def rnn_forward(x: np.ndarray, h0: np.ndarray, params: dict):
    """The Elman RNN over a whole sequence: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Runs :func:`rnn_step_forward` for t = 0 .. T-1, starting from h_{-1} = h0.

    Args:
        x: (B, T, E) inputs.
        h0: (B, H) initial hidden state.
        params: as for :func:`rnn_step_forward`.

    Returns:
        hs: (B, T, H) hidden states h_0 .. h_{T-1}.
        h_last: (B, H) the final state h_{T-1} (the same array as hs[:, -1]).
        cache: {"steps": [the step cache of t = 0, ..., of t = T-1]}.
    """
    h = h0
    hs, steps = [], []
    for t in range(x.shape[1]):
        h, step_cache = rnn_step_forward(x[:, t], h, params)
        hs.append(h)
        steps.append(step_cache)
    return np.stack(hs, axis=1), h, {"steps": steps}
