"""Exercises rnn_step_forward and rnn_step_backward: one step of the Elman RNN.

    a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh          x (B, E), h_prev (B, H), a (B, H)
    h = tanh(a)

Parameters (PyTorch's names): weight_ih (H, E), weight_hh (H, H), bias_ih (H,), bias_hh (H,).

Backward: given dL/dh, compute dL/dx, dL/dh_prev and the four parameter gradients. First
through the tanh (d tanh(a)/da = 1 - tanh(a)^2, and tanh(a) is h), then through the sum and the
two matrix products. Let the shapes guide you: dW_ih has the shape of W_ih, (H, E); a bias
gradient has the shape of the bias, (H,), so the batch axis has to go somewhere.

Check with:  scratchlm exercise check rnn_step.py
"""
import numpy as np


def rnn_step_forward(x, h_prev, params):
    """h = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh).

    Returns:
        h: (B, H).
    """
    raise NotImplementedError("write this: the pre-activation a, then h = tanh(a)")


def rnn_step_backward(dh, cache):
    """Backward pass of one Elman step.

    Args:
        dh: (B, H) upstream gradient dL/dh.
        cache: cache.x (B, E), cache.h_prev (B, H), cache.h (B, H), cache.params.

    Returns:
        dx: (B, E), dh_prev: (B, H), dparams: dict with the keys and shapes of cache.params.
    """
    raise NotImplementedError("write this: da = dh * (derivative of tanh), then dx, dh_prev and dparams")
