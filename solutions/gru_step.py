"""Solutions: one GRU step (PyTorch's gates r, z, n), forward and backward."""
import numpy as np


def sigmoid(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def gru_step_forward(x, h_prev, params):
    """r, z = sigmoid(ax + ah); n = tanh(ax_n + r * ah_n); h = (1 - z) n + z h_prev."""
    hidden = h_prev.shape[1]
    ax = x @ params["weight_ih"].T + params["bias_ih"]
    ah = h_prev @ params["weight_hh"].T + params["bias_hh"]
    r = sigmoid(ax[:, :hidden] + ah[:, :hidden])
    z = sigmoid(ax[:, hidden : 2 * hidden] + ah[:, hidden : 2 * hidden])
    n = np.tanh(ax[:, 2 * hidden :] + r * ah[:, 2 * hidden :])
    return (1.0 - z) * n + z * h_prev


def gru_step_backward(dh, cache):
    """dn = dh (1 - z); dz = dh (h_prev - n); dan = dn (1 - n^2); dar = dan ah_n r (1 - r); daz = dz z (1 - z);
    dax = [dar | daz | dan]; dah = [dar | daz | dan r]; dh_prev = dh z + dah W_hh."""
    r, z, n, ah_n, params = cache.r, cache.z, cache.n, cache.ah_n, cache.params
    dn = dh * (1.0 - z)
    dz = dh * (cache.h_prev - n)
    dan = dn * (1.0 - n**2)
    dar = dan * ah_n * r * (1.0 - r)
    daz = dz * z * (1.0 - z)
    dax = np.concatenate([dar, daz, dan], axis=1)
    dah = np.concatenate([dar, daz, dan * r], axis=1)
    dparams = {"weight_ih": dax.T @ cache.x, "weight_hh": dah.T @ cache.h_prev,
               "bias_ih": dax.sum(axis=0), "bias_hh": dah.sum(axis=0)}
    return dax @ params["weight_ih"], dh * z + dah @ params["weight_hh"], dparams
