"""The forward passes that pose the backward exercises, and the caches they hand to students.

Each cache is a small named tuple with plain names (``cache.x``, ``cache.h_prev``, ``cache.i``,
...), the names of the lecture's equations. Time runs t = 1..T with h_0 the initial state, and
everything is batch-first: x (B, T, E), hs (B, T, H).

Shapes: B batch, T time steps, E input size, H hidden size, V vocabulary (or output) size.
Parameters follow PyTorch: ``weight_ih`` (G*H, E), ``weight_hh`` (G*H, H), ``bias_ih`` and
``bias_hh`` (G*H,), with G = 1 (Elman), 4 (LSTM: gate rows i, f, g, o) or 3 (GRU: r, z, n).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


def sigmoid(a: np.ndarray) -> np.ndarray:
    """sigma(a) = 1 / (1 + exp(-a)), without overflow for large |a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class EmbeddingCache(NamedTuple):
    ids: np.ndarray  # (B, T) int
    vocab_size: int  # V


class AffineCache(NamedTuple):
    x: np.ndarray  # (B, T, E)
    weight: np.ndarray  # (V, E)


class SoftmaxCrossEntropyCache(NamedTuple):
    probs: np.ndarray  # (B, T, V)
    targets: np.ndarray  # (B, T) int
    mask: np.ndarray  # (B, T) float, 1.0 counts and 0.0 is padding
    count: float  # N, the number of counted tokens


class RNNStepCache(NamedTuple):
    x: np.ndarray  # (B, E)
    h_prev: np.ndarray  # (B, H)
    h: np.ndarray  # (B, H)
    params: dict


class LSTMStepCache(NamedTuple):
    x: np.ndarray  # (B, E)
    h_prev: np.ndarray  # (B, H)
    c_prev: np.ndarray  # (B, H)
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    tanh_c: np.ndarray
    params: dict


class GRUStepCache(NamedTuple):
    x: np.ndarray  # (B, E)
    h_prev: np.ndarray  # (B, H)
    r: np.ndarray
    z: np.ndarray
    n: np.ndarray
    ah_n: np.ndarray  # (B, H) h_prev W_hn^T + b_hn, the part of n's pre-activation that r scales
    params: dict


class SequenceCache(NamedTuple):
    steps: list  # the step caches of t = 1 .. T, in that order


def embedding_forward(ids, weight):
    """out[b, t] = W[ids[b, t]]; ids (B, T), W (V, E) -> out (B, T, E)."""
    return weight[ids], EmbeddingCache(ids, weight.shape[0])


def affine_forward(x, weight, bias):
    """y_t = x_t W^T + b at every step; x (B, T, E), W (V, E), b (V,) -> y (B, T, V)."""
    return x @ weight.T + bias, AffineCache(x, weight)


def softmax_cross_entropy_forward(logits, targets, mask):
    """L = -(1/N) sum_{b,t} m[b,t] log softmax(z[b,t])[y[b,t]],  N = sum m."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    weights = np.asarray(mask, dtype=np.float64)
    count = float(weights.sum())
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    loss = -float((picked * weights).sum()) / count
    return loss, SoftmaxCrossEntropyCache(np.exp(log_probs), targets, weights, count)


def _preactivation(x, h_prev, params):
    return x @ params["weight_ih"].T + params["bias_ih"] + h_prev @ params["weight_hh"].T + params["bias_hh"]


def rnn_step_forward(x, h_prev, params):
    """h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)."""
    h = np.tanh(_preactivation(x, h_prev, params))
    return h, RNNStepCache(x, h_prev, h, params)


def lstm_step_forward(x, state_prev, params):
    """PyTorch's LSTM step (gate rows i, f, g, o); returns ((h, c), cache)."""
    h_prev, c_prev = state_prev
    hidden = h_prev.shape[1]
    a = _preactivation(x, h_prev, params)
    i = sigmoid(a[:, :hidden])
    f = sigmoid(a[:, hidden : 2 * hidden])
    g = np.tanh(a[:, 2 * hidden : 3 * hidden])
    o = sigmoid(a[:, 3 * hidden :])
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    return (h, c), LSTMStepCache(x, h_prev, c_prev, i, f, g, o, tanh_c, params)


def gru_step_forward(x, h_prev, params):
    """PyTorch's GRU step (gate rows r, z, n); returns (h, cache)."""
    hidden = h_prev.shape[1]
    ax = x @ params["weight_ih"].T + params["bias_ih"]
    ah = h_prev @ params["weight_hh"].T + params["bias_hh"]
    r = sigmoid(ax[:, :hidden] + ah[:, :hidden])
    z = sigmoid(ax[:, hidden : 2 * hidden] + ah[:, hidden : 2 * hidden])
    ah_n = ah[:, 2 * hidden :]
    n = np.tanh(ax[:, 2 * hidden :] + r * ah_n)
    h = (1.0 - z) * n + z * h_prev
    return h, GRUStepCache(x, h_prev, r, z, n, ah_n, params)


def rnn_forward(x, h0, params):
    """The Elman step for t = 1..T from h_0; returns (hs (B, T, H), h_T, cache)."""
    h, hs, steps = h0, [], []
    for t in range(x.shape[1]):
        h, step = rnn_step_forward(x[:, t], h, params)
        hs.append(h)
        steps.append(step)
    return np.stack(hs, axis=1), h, SequenceCache(steps)


def lstm_forward(x, state0, params):
    """The LSTM step for t = 1..T from (h_0, c_0); returns (hs (B, T, H), (h_T, c_T), cache)."""
    state, hs, steps = state0, [], []
    for t in range(x.shape[1]):
        state, step = lstm_step_forward(x[:, t], state, params)
        hs.append(state[0])
        steps.append(step)
    return np.stack(hs, axis=1), state, SequenceCache(steps)
