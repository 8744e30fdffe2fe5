"""The textbook: one file per layer, each a forward/backward pair with an explicit cache.

    embedding.py               embedding_forward / embedding_backward (scatter-add)
    linear.py                  linear_forward / linear_backward (over any leading axes)
    softmax_cross_entropy.py   log_softmax; softmax_cross_entropy_forward / _backward (masked mean)
    dropout.py                 dropout_forward / dropout_backward (inverted dropout)
    activations.py             sigmoid (overflow-free)
    rnn.py, lstm.py, gru.py    <cell>_step_forward / _step_backward: one step, with a named cache
                               (RNNStepCache, LSTMStepCache, GRUStepCache), and
                               <cell>_forward / <cell>_backward: a loop over the step functions
    bidirectional.py           bidirectional_forward / _backward: two directions of any cell

Notation, used by the layers, the exercises, the notebooks and the docs:

* Time runs t = 1 .. T. h_0 (and c_0 for the LSTM) is the state before the first input; x_t is
  the input at step t and h_t the output after it. In the arrays, which are batch-first
  (B, T, ...) and indexed from 0, x_t is ``x[:, t - 1]`` and h_t is ``hs[:, t - 1]``; the
  sequence functions return h_T as the state to carry into the next window.
* Vectors are rows: a batch of B vectors is a (B, n) array, so the lecture's W x_t is
  ``x_t @ W.T``. B batch, T time, E input size, H hidden size, V vocabulary size, G the number of
  gates (1 Elman, 4 LSTM, 3 GRU).
* Cell parameters are dicts named and laid out like PyTorch's: weight_ih (G*H, E), weight_hh
  (G*H, H), bias_ih (G*H,), bias_hh (G*H,); LSTM gates i, f, g, o; GRU gates r, z, n.
* ``*_forward(...) -> (out, ..., cache)`` and ``*_backward(dout, ..., cache) -> gradients``; a
  backward pass never changes its cache. dX is the gradient of the loss with respect to X.
* Array math goes through ``scratchlm.backend.xp()``, so the same code runs on CuPy arrays.

The textbook is what the "reference" backend runs. The default backends run the engine in
``scratchlm/kernels`` instead, which computes the same values faster; a model asks
``scratchlm.backend.op(name)`` for each op and gets one or the other.

:data:`CELLS` maps a cell name to its functions, for code that is generic over the cell.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

from scratchlm.layers import gru, lstm, rnn
from scratchlm.layers.dropout import dropout_backward, dropout_forward
from scratchlm.layers.embedding import embedding_backward, embedding_forward
from scratchlm.layers.gru import GRUCache, GRUStepCache, gru_backward, gru_forward, gru_step_backward, gru_step_forward
from scratchlm.layers.linear import linear_backward, linear_forward
from scratchlm.layers.lstm import LSTMCache, LSTMStepCache, lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from scratchlm.layers.rnn import RNNCache, RNNStepCache, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from scratchlm.layers.softmax_cross_entropy import (
    log_softmax,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)


class Cell(NamedTuple):
    """The functions and gate count of one recurrent cell type."""

    num_gates: int
    step_forward: Callable
    step_backward: Callable
    forward: Callable
    backward: Callable


CELLS = {
    "rnn": Cell(rnn.NUM_GATES, rnn_step_forward, rnn_step_backward, rnn_forward, rnn_backward),
    "lstm": Cell(lstm.NUM_GATES, lstm_step_forward, lstm_step_backward, lstm_forward, lstm_backward),
    "gru": Cell(gru.NUM_GATES, gru_step_forward, gru_step_backward, gru_forward, gru_backward),
}

__all__ = [
    "CELLS",
    "Cell",
    "GRUCache",
    "GRUStepCache",
    "LSTMCache",
    "LSTMStepCache",
    "RNNCache",
    "RNNStepCache",
    "dropout_backward",
    "dropout_forward",
    "embedding_backward",
    "embedding_forward",
    "gru_backward",
    "gru_forward",
    "gru_step_backward",
    "gru_step_forward",
    "linear_backward",
    "linear_forward",
    "log_softmax",
    "lstm_backward",
    "lstm_forward",
    "lstm_step_backward",
    "lstm_step_forward",
    "rnn_backward",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "softmax_cross_entropy_backward",
    "softmax_cross_entropy_forward",
]
