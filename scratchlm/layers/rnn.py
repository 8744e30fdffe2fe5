"""Elman RNN: one tanh layer fed with the input and its own previous output (PyTorch's nn.RNN).

Forward, for t = 1 .. T:

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh        (B, H)
    h_t = tanh(a_t)                                     (B, H)

Backward through time, with dh_t the total gradient reaching h_t (from the output at step t plus
what step t+1 sends back):

    da_t     = dh_t * (1 - h_t^2)
    dx_t     = da_t W_ih          dh_{t-1} = da_t W_hh
    dW_ih    = sum_t da_t^T x_t   dW_hh    = sum_t da_t^T h_{t-1}
    db_ih    = db_hh = sum_t sum_b da_t

Shapes: B batch, T time, E input size, H hidden size.
params = {"weight_ih": (H, E), "weight_hh": (H, H), "bias_ih": (H,), "bias_hh": (H,)}.
"""
from __future__ import annotations

from typing import NamedTuple

from scratchlm import backend
from scratchlm.checks import CELL_PARAM_NAMES, check_recurrent_call, check_shape

NUM_GATES = 1


class RNNStepCache(NamedTuple):
    """What rnn_step_backward needs from step t."""

    x: object  # (B, E) x_t
    h_prev: object  # (B, H) h_{t-1}
    h: object  # (B, H) h_t
    params: dict


class RNNCache(NamedTuple):
    """What rnn_backward needs: the cache of every step, t = 1 .. T in order."""

    steps: list


def rnn_step_forward(x, h_prev, params):
    """One Elman step, t.

    Args:
        x: (B, E) x_t.  h_prev: (B, H) h_{t-1}, or None for zeros.  params: see the module docstring.

    Returns:
        h: (B, H) h_t.  cache: an RNNStepCache, for rnn_step_backward.
    """
    xp = backend.xp()
    if h_prev is None:  # the zero state h_0 = 0
        h_prev = xp.zeros((x.shape[0], params["weight_hh"].shape[1]), dtype=x.dtype)
    a = x @ params["weight_ih"].T + params["bias_ih"] + h_prev @ params["weight_hh"].T + params["bias_hh"]
    h = xp.tanh(a)
    return h, RNNStepCache(x, h_prev, h, params)


def rnn_step_backward(dh, cache):
    """Backward of one Elman step.

    Args:
        dh: (B, H) the total gradient reaching h_t.  cache: from rnn_step_forward.

    Returns:
        dx: (B, E).  dh_prev: (B, H) the gradient reaching h_{t-1}.  dparams: keyed and shaped like params.
    """
    x, h_prev, h, params = cache
    da = dh * (1.0 - h * h)
    dparams = {"weight_ih": da.T @ x, "weight_hh": da.T @ h_prev,
               "bias_ih": da.sum(axis=0), "bias_hh": da.sum(axis=0)}
    return da @ params["weight_ih"], da @ params["weight_hh"], dparams


def rnn_forward(x, h0, params):
    """Run the Elman RNN over a sequence.

    Args:
        x: (B, T, E) inputs.  h0: (B, H) initial state, or None for zeros.  params: see above.

    Returns:
        hs: (B, T, H) h_1 .. h_T.  h_T: (B, H) the last state, to carry into the next window.
        cache: an RNNCache, for rnn_backward.
    """
    check_recurrent_call("rnn", NUM_GATES, x, h0, params)
    h, hs, steps = h0, [], []
    for t in range(x.shape[1]):
        h, step_cache = rnn_step_forward(x[:, t], h, params)
        hs.append(h)
        steps.append(step_cache)
    return backend.xp().stack(hs, axis=1), h, RNNCache(steps)


def rnn_backward(dhs, dh_T, cache):
    """Backpropagation through time for rnn_forward.

    Args:
        dhs: (B, T, H) gradient of every output h_t.  dh_T: (B, H) gradient of the returned last
        state, or None for zeros.  cache: from rnn_forward.

    Returns:
        dx: (B, T, E), dh0: (B, H), dparams: dict keyed like params.
    """
    xp = backend.xp()
    steps = cache.steps
    params = steps[0].params
    batch, hidden = steps[0].h.shape
    check_shape(dhs, "rnn dhs", (batch, len(steps), hidden), "(batch, time, hidden_size) like hs")
    dh = xp.zeros_like(steps[0].h) if dh_T is None else dh_T
    grads = {name: xp.zeros_like(params[name]) for name in CELL_PARAM_NAMES}
    dxs = [None] * len(steps)
    for t in reversed(range(len(steps))):
        dxs[t], dh, step_grads = rnn_step_backward(dhs[:, t] + dh, steps[t])
        for name in grads:
            grads[name] += step_grads[name]  # the same weights at every step: their gradients add up
    return xp.stack(dxs, axis=1), dh, grads
