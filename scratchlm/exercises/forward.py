"""The forward passes of the exercises: the textbook layers themselves.

Each backward exercise gets the cache of its forward pass. The forward pass is the one in
``scratchlm/layers``, imported here under the names the exercises use, and it returns a *cache*:
a small named tuple holding exactly what the backward pass needs, under the names of the
equations (``cache.x``, ``cache.h_prev``, ``cache.i``, ...). Read the forward pass first
(``help(lstm_step_forward)``, or the file in ``scratchlm/layers``); the backward pass runs the
same equations in reverse order, reading the cache. The temporal affine layer's cache is named
here (the layer's own is a plain tuple).

Notation (stated once for the project, in ``scratchlm/layers/__init__.py``): time runs t = 1 .. T
with h_0 the initial state, and arrays are batch-first, so x_t is ``x[:, t - 1]``. B batch, T time
steps, E input (embedding) size, H hidden size, V vocabulary size. Parameters follow PyTorch:
``weight_ih`` (G*H, E), ``weight_hh`` (G*H, H), ``bias_ih`` and ``bias_hh`` (G*H,), with G = 1
for the Elman RNN, G = 4 for the LSTM (gate rows i, f, g, o) and G = 3 for the GRU (r, z, n).
The checker runs them in float64, the precision in which gradients are checked.

    embedding_forward(ids, weight)                 -> out, EmbeddingCache(ids, vocab_size)
    affine_forward(x, weight, bias)                -> y, AffineCache(x, weight)
    softmax_cross_entropy_forward(logits, targets, mask)
                                                   -> loss, SoftmaxCrossEntropyCache(probs, targets, mask, count)
    rnn_step_forward(x, h_prev, params)            -> h, RNNStepCache(x, h_prev, h, params)
    rnn_forward(x, h0, params)                     -> hs, h_T, RNNCache(steps)
    lstm_step_forward(x, (h_prev, c_prev), params) -> (h, c), LSTMStepCache(x, h_prev, c_prev, i, f, g, o, tanh_c, params)
    lstm_forward(x, (h0, c0), params)              -> hs, (h_T, c_T), LSTMCache(steps)
    gru_step_forward(x, h_prev, params)            -> h, GRUStepCache(x, h_prev, r, z, n, ah_n, params)
    attention_forward(queries, keys, mask, params, "general")
                                                   -> context, weights, AttentionCache(queries, keys, weights, u, params, score)

Attention has sizes of its own: S source positions, H_q query size, H_k key size; queries
(B, T, H_q), keys (B, S, H_k), mask (B, S), the "general" score's weight (H_q, H_k).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from scratchlm.layers.activations import sigmoid
from scratchlm.layers.attention import AttentionCache, attention_forward
from scratchlm.layers.embedding import EmbeddingCache, embedding_forward
from scratchlm.layers.gru import GRUStepCache, gru_step_forward
from scratchlm.layers.lstm import LSTMCache, LSTMStepCache, lstm_forward, lstm_step_forward
from scratchlm.layers.rnn import RNNCache, RNNStepCache, rnn_forward, rnn_step_forward
from scratchlm.layers.softmax_cross_entropy import SoftmaxCrossEntropyCache, softmax_cross_entropy_forward

__all__ = [
    "AffineCache",
    "AttentionCache",
    "EmbeddingCache",
    "GRUStepCache",
    "LSTMCache",
    "LSTMStepCache",
    "RNNCache",
    "RNNStepCache",
    "SoftmaxCrossEntropyCache",
    "affine_forward",
    "attention_forward",
    "embedding_forward",
    "gru_step_forward",
    "lstm_forward",
    "lstm_step_forward",
    "rnn_forward",
    "rnn_step_forward",
    "sigmoid",
    "softmax_cross_entropy_forward",
]


class AffineCache(NamedTuple):
    """What affine_backward needs."""

    x: np.ndarray  # (B, T, E)
    weight: np.ndarray  # (V, E)


def affine_forward(x, weight, bias):
    """y_t = x_t W^T + b at every step; x (B, T, E), W (V, E), b (V,) -> y (B, T, V)."""
    return x @ weight.T + bias, AffineCache(x, weight)
