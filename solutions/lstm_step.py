"""Solutions: one LSTM step (gates i, f, g, o), forward and backward."""
import numpy as np


def sigmoid(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def lstm_step_forward(x, state_prev, params):
    """a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh; i, f, o = sigmoid, g = tanh; c = f c_prev + i g; h = o tanh(c)."""
    h_prev, c_prev = state_prev
    hidden = h_prev.shape[1]
    a = x @ params["weight_ih"].T + params["bias_ih"] + h_prev @ params["weight_hh"].T + params["bias_hh"]
    i = sigmoid(a[:, :hidden])
    f = sigmoid(a[:, hidden : 2 * hidden])
    g = np.tanh(a[:, 2 * hidden : 3 * hidden])
    o = sigmoid(a[:, 3 * hidden :])
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def lstm_step_backward(dstate, cache):
    """dc = dc_next + dh o (1 - tanh(c)^2); do = dh tanh(c); di = dc g; dg = dc i; df = dc c_prev;
    dc_prev = dc f; da = [di i(1-i) | df f(1-f) | dg (1-g^2) | do o(1-o)]; then as in the Elman step."""
    dh, dc_next = dstate
    i, f, g, o, tanh_c = cache.i, cache.f, cache.g, cache.o, cache.tanh_c
    dc = dc_next + dh * o * (1.0 - tanh_c**2)
    do = dh * tanh_c
    di = dc * g
    dg = dc * i
    df = dc * cache.c_prev
    dc_prev = dc * f
    da = np.concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g**2), do * o * (1.0 - o)], axis=1)
    dbias = da.sum(axis=0)
    dparams = {"weight_ih": da.T @ cache.x, "weight_hh": da.T @ cache.h_prev, "bias_ih": dbias,
               "bias_hh": dbias.copy()}
    return da @ cache.params["weight_ih"], (da @ cache.params["weight_hh"], dc_prev), dparams
