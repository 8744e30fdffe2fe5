"""Exercises lstm_step_forward and lstm_step_backward: one LSTM step (PyTorch's gate order).

    a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh      (B, 4H): blocks i | f | g | o of H columns each
    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    c = f * c_prev + i * g
    h = o * tanh(c)

Parameters: weight_ih (4H, E), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,), rows i, f, g, o.

Backward: given dL/dh and dL/dc (the cell state also flows on to the next step, so it has its
own upstream gradient), compute dL/dx, dL/dh_prev, dL/dc_prev and the parameter gradients.
Work from the output back: h -> (o, c); c collects two gradients (through h and from the next
step); c -> (f, c_prev, i, g); each gate -> its block of a (the cache holds the activated gates:
sigmoid' = s (1 - s) and tanh' = 1 - t^2 in terms of them); then a -> x, h_prev and the
parameters as in the Elman step. Put the blocks of da back together in the order i, f, g, o.

Check with:  scratchlm exercise check lstm_step.py  (it says which gate's rows are wrong)
"""
import numpy as np


def sigmoid(a):
    """sigma(a) = 1 / (1 + exp(-a)), without overflow."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def lstm_step_forward(x, state_prev, params):
    """One LSTM step.

    Args:
        x: (B, E).  state_prev: (h_prev, c_prev), each (B, H).  params: as above.

    Returns:
        (h, c), each (B, H).
    """
    raise NotImplementedError("write this: a, the four gates, then c and h")


def lstm_step_backward(dstate, cache):
    """Backward pass of one LSTM step.

    Args:
        dstate: (dh, dc), each (B, H).
        cache: cache.x (B, E); cache.h_prev, cache.c_prev, cache.i, cache.f, cache.g, cache.o,
            cache.tanh_c, each (B, H); cache.params.

    Returns:
        dx: (B, E), (dh_prev, dc_prev): each (B, H), dparams: dict like cache.params.
    """
    raise NotImplementedError("write this: dc = dc_next + (gradient through h = o * tanh(c)); then the "
                              "gate gradients, da = [da_i, da_f, da_g, da_o], and from da the rest")
