"""Solutions: the LSTM over a sequence, forward and backward with the (dh, dc) carry."""
import numpy as np

from lstm_step import lstm_step_backward, lstm_step_forward


def lstm_forward(x, state0, params):
    """(h_t, c_t) = step(x_t, (h_{t-1}, c_{t-1})) for t = 1..T; returns hs (B, T, H) and (h_T, c_T)."""
    state, hs = state0, []
    for t in range(x.shape[1]):
        state = lstm_step_forward(x[:, t], state, params)
        hs.append(state[0])
    return np.stack(hs, axis=1), state


def lstm_backward(dhs, dstate_last, cache):
    """Walk t = T..1 carrying (dh, dc): dh_t = dhs_t + carried dh; dc_t = carried dc; sum dparams over t."""
    steps = cache.steps
    dh_carried, dc_carried = dstate_last
    dx = np.zeros(dhs.shape[:2] + steps[0].x.shape[1:], dtype=dhs.dtype)
    dparams = {name: np.zeros_like(value) for name, value in steps[0].params.items()}
    for t in reversed(range(len(steps))):
        dx[:, t], (dh_carried, dc_carried), step_grads = lstm_step_backward(
            (dhs[:, t] + dh_carried, dc_carried), steps[t])
        for name, grad in step_grads.items():
            dparams[name] += grad
    return dx, (dh_carried, dc_carried), dparams
