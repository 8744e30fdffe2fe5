"""Solutions: one Elman RNN step, forward and backward."""
import numpy as np


def rnn_step_forward(x, h_prev, params):
    """h = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh)."""
    a = x @ params["weight_ih"].T + params["bias_ih"] + h_prev @ params["weight_hh"].T + params["bias_hh"]
    return np.tanh(a)


def rnn_step_backward(dh, cache):
    """da = dh (1 - h^2); dx = da W_ih; dh_prev = da W_hh; dW_ih = da^T x; dW_hh = da^T h_prev; db = sum_b da."""
    params = cache.params
    da = dh * (1.0 - cache.h**2)  # tanh'(a) = 1 - tanh(a)^2 = 1 - h^2
    dbias = da.sum(axis=0)
    dparams = {
        "weight_ih": da.T @ cache.x,
        "weight_hh": da.T @ cache.h_prev,
        "bias_ih": dbias,
        "bias_hh": dbias.copy(),
    }
    return da @ params["weight_ih"], da @ params["weight_hh"], dparams
