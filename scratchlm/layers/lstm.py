"""LSTM: a cell state c carried by gates, PyTorch's nn.LSTM layout and gate order (i, f, g, o).

Forward, for t = 1 .. T (sigma is the logistic sigmoid, * is elementwise):

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh        (B, 4H), split into [a_i, a_f, a_g, a_o]
    i_t = sigma(a_i)    f_t = sigma(a_f)    g_t = tanh(a_g)    o_t = sigma(a_o)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

Backward through time, with dh_t and dc_t the total gradients reaching h_t and c_t (from the
outputs at step t and from step t+1):

    do_t  = dh_t * tanh(c_t)
    dc_t += dh_t * o_t * (1 - tanh(c_t)^2)              c_t reaches the loss through h_t as well
    di_t  = dc_t * g_t      df_t = dc_t * c_{t-1}      dg_t = dc_t * i_t
    dc_{t-1} = dc_t * f_t
    da_t  = [di_t i_t (1 - i_t), df_t f_t (1 - f_t), dg_t (1 - g_t^2), do_t o_t (1 - o_t)]
    dx_t  = da_t W_ih       dh_{t-1} = da_t W_hh
    dW_ih = sum_t da_t^T x_t      dW_hh = sum_t da_t^T h_{t-1}      db_ih = db_hh = sum_t sum_b da_t

Shapes: B batch, T time, E input size, H hidden size. The state is the pair (h, c), each (B, H).
params = {"weight_ih": (4H, E), "weight_hh": (4H, H), "bias_ih": (4H,), "bias_hh": (4H,)}.
"""
from __future__ import annotations

from typing import NamedTuple

from scratchlm import backend
from scratchlm.checks import CELL_PARAM_NAMES, check_recurrent_call, check_shape
from scratchlm.layers.activations import sigmoid

NUM_GATES = 4


class LSTMStepCache(NamedTuple):
    """What lstm_step_backward needs from step t; every array (B, H) except x (B, E)."""

    x: object
    h_prev: object
    c_prev: object
    i: object
    f: object
    g: object
    o: object
    tanh_c: object  # tanh(c_t)
    params: dict


class LSTMCache(NamedTuple):
    """What lstm_backward needs: the cache of every step, t = 1 .. T in order."""

    steps: list


def lstm_step_forward(x, state_prev, params):
    """One LSTM step, t.

    Args:
        x: (B, E) x_t.  state_prev: (h_{t-1}, c_{t-1}), each (B, H), or None for zeros.
        params: see the module docstring.

    Returns:
        state: (h_t, c_t), each (B, H).  cache: an LSTMStepCache, for lstm_step_backward.
    """
    xp = backend.xp()
    H = params["weight_hh"].shape[1]
    zeros = xp.zeros((x.shape[0], H), dtype=x.dtype)
    h_prev, c_prev = (zeros, zeros) if state_prev is None else state_prev
    a = x @ params["weight_ih"].T + params["bias_ih"] + h_prev @ params["weight_hh"].T + params["bias_hh"]
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    g = xp.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H :])
    c = f * c_prev + i * g
    tanh_c = xp.tanh(c)
    h = o * tanh_c
    return (h, c), LSTMStepCache(x, h_prev, c_prev, i, f, g, o, tanh_c, params)


def lstm_step_backward(dstate, cache):
    """Backward of one LSTM step.

    Args:
        dstate: (dh_t, dc_t), each (B, H), the total gradients reaching h_t and c_t.
        cache: from lstm_step_forward.

    Returns:
        dx: (B, E).  dstate_prev: (dh_{t-1}, dc_{t-1}), each (B, H).  dparams: keyed and shaped like params.
    """
    dh, dc = dstate
    x, h_prev, c_prev, i, f, g, o, tanh_c, params = cache
    do = dh * tanh_c
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
    di = dc * g
    df = dc * c_prev
    dg = dc * i
    dc_prev = dc * f
    da = backend.xp().concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g * g), do * o * (1.0 - o)], axis=1)
    dparams = {"weight_ih": da.T @ x, "weight_hh": da.T @ h_prev,
               "bias_ih": da.sum(axis=0), "bias_hh": da.sum(axis=0)}
    return da @ params["weight_ih"], (da @ params["weight_hh"], dc_prev), dparams


def lstm_forward(x, state0, params):
    """Run the LSTM over a sequence.

    Args:
        x: (B, T, E) inputs.  state0: (h_0, c_0), each (B, H), or None for zeros.  params: see above.

    Returns:
        hs: (B, T, H) h_1 .. h_T.  state_T: (h_T, c_T), to carry into the next window.
        cache: an LSTMCache, for lstm_backward.
    """
    check_recurrent_call("lstm", NUM_GATES, x, state0, params)
    state, hs, steps = state0, [], []
    for t in range(x.shape[1]):
        state, step_cache = lstm_step_forward(x[:, t], state, params)
        hs.append(state[0])
        steps.append(step_cache)
    return backend.xp().stack(hs, axis=1), state, LSTMCache(steps)


def lstm_backward(dhs, dstate_T, cache):
    """Backpropagation through time for lstm_forward.

    Args:
        dhs: (B, T, H) gradient of every output h_t.  dstate_T: (dh_T, dc_T), gradients of the
        returned last state (None, or either entry None, for zeros).  cache: from lstm_forward.

    Returns:
        dx: (B, T, E), dstate0: (dh_0, dc_0), dparams: dict keyed like params.
    """
    xp = backend.xp()
    steps = cache.steps
    params = steps[0].params
    batch, hidden = steps[0].c_prev.shape
    check_shape(dhs, "lstm dhs", (batch, len(steps), hidden), "(batch, time, hidden_size) like hs")
    dh, dc = (None, None) if dstate_T is None else dstate_T
    dh = xp.zeros_like(steps[0].c_prev) if dh is None else dh
    dc = xp.zeros_like(steps[0].c_prev) if dc is None else dc
    grads = {name: xp.zeros_like(params[name]) for name in CELL_PARAM_NAMES}
    dxs = [None] * len(steps)
    for t in reversed(range(len(steps))):
        dxs[t], (dh, dc), step_grads = lstm_step_backward((dhs[:, t] + dh, dc), steps[t])
        for name in grads:
            grads[name] += step_grads[name]  # the same weights at every step: their gradients add up
    return xp.stack(dxs, axis=1), (dh, dc), grads
