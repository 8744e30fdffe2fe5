"""Solutions: the Elman RNN over a sequence, forward and backpropagation through time."""
import numpy as np

from rnn_step import rnn_step_backward, rnn_step_forward


def rnn_forward(x, h0, params):
    """h_t = step(x_t, h_{t-1}) for t = 1..T from h_0; returns hs (B, T, H) and h_T."""
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = rnn_step_forward(x[:, t], h, params)
        hs.append(h)
    return np.stack(hs, axis=1), h


def rnn_backward(dhs, dh_last, cache):
    """Walk t = T..1: dh_t = dhs_t + (dh_prev of step t+1), dh_last starting the carry; sum dparams over t."""
    steps = cache.steps
    dx = np.zeros(dhs.shape[:2] + steps[0].x.shape[1:], dtype=dhs.dtype)
    dparams = {name: np.zeros_like(value) for name, value in steps[0].params.items()}
    dh_carried = dh_last
    for t in reversed(range(len(steps))):
        dx[:, t], dh_carried, step_grads = rnn_step_backward(dhs[:, t] + dh_carried, steps[t])
        for name, grad in step_grads.items():
            dparams[name] += grad  # the same weights at every step: the gradients add up
    return dx, dh_carried, dparams
