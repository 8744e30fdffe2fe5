"""Exercises gru_step_forward and gru_step_backward: one GRU step (PyTorch's layout, gates r, z, n).

    ax = x W_ih^T + b_ih,   ah = h_prev W_hh^T + b_hh        (B, 3H), blocks r | z | n
    r = sigmoid(ax_r + ah_r)
    z = sigmoid(ax_z + ah_z)
    n = tanh(ax_n + r * ah_n)            the reset gate scales only the recurrent part
    h = (1 - z) * n + z * h_prev         z keeps the old state

Backward: h reaches h_prev directly (z * h_prev) and through ah. From dh: dn and dz; through
the tanh to dan; r's gradient is dan * ah_n (cache.ah_n holds ah_n); then the blocks of dax
[dar, daz, dan] and of dah [dar, daz, dan * r]; the weights get dW_ih = dax^T x and
dW_hh = dah^T h_prev; dh_prev = dh * z + dah W_hh.

Check with:  scratchlm exercise check gru_step.py
"""
import numpy as np


def sigmoid(a):
    """sigma(a) = 1 / (1 + exp(-a)), without overflow."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def gru_step_forward(x, h_prev, params):
    """Args: x (B, E), h_prev (B, H), params (weight_ih (3H, E), weight_hh (3H, H), biases (3H,)).

    Returns:
        h: (B, H).
    """
    raise NotImplementedError("write this: ax, ah, the gates r, z, n, then h")


def gru_step_backward(dh, cache):
    """Args: dh (B, H); cache.x, cache.h_prev, cache.r, cache.z, cache.n, cache.ah_n, cache.params.

    Returns:
        dx: (B, E), dh_prev: (B, H), dparams: dict like cache.params.
    """
    raise NotImplementedError("write this: dn, dz, then dax and dah block by block, then the rest")
