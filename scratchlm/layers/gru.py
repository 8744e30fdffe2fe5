"""GRU: PyTorch's nn.GRU layout and gate order (r, z, n).

Forward, for t = 1 .. T. The input part ax and the recurrent part ah are kept apart because the
reset gate multiplies only the recurrent part of the candidate n:

    ax_t = W_ih x_t + b_ih,   ah_t = W_hh h_{t-1} + b_hh      (B, 3H), each split into [r, z, n] parts
    r_t = sigma(ax_r + ah_r)
    z_t = sigma(ax_z + ah_z)
    n_t = tanh(ax_n + r_t * ah_n)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Backward through time, with dh_t the total gradient reaching h_t:

    dn_t = dh_t * (1 - z_t)        dz_t = dh_t * (h_{t-1} - n_t)
    dan  = dn_t * (1 - n_t^2)      dr_t = dan * ah_n
    dar  = dr_t r_t (1 - r_t)      daz  = dz_t z_t (1 - z_t)
    dax_t = [dar, daz, dan]        dah_t = [dar, daz, dan * r_t]
    dx_t = dax_t W_ih              dh_{t-1} = dh_t * z_t + dah_t W_hh
    dW_ih = sum_t dax_t^T x_t      dW_hh = sum_t dah_t^T h_{t-1}
    db_ih = sum_t sum_b dax_t      db_hh = sum_t sum_b dah_t

Shapes: B batch, T time, E input size, H hidden size.
params = {"weight_ih": (3H, E), "weight_hh": (3H, H), "bias_ih": (3H,), "bias_hh": (3H,)}.
"""
from __future__ import annotations

from typing import NamedTuple

from scratchlm import backend
from scratchlm.checks import CELL_PARAM_NAMES, check_recurrent_call, check_shape
from scratchlm.layers.activations import sigmoid

NUM_GATES = 3


class GRUStepCache(NamedTuple):
    """What gru_step_backward needs from step t; every array (B, H) except x (B, E)."""

    x: object
    h_prev: object
    r: object
    z: object
    n: object
    ah_n: object  # W_hn h_{t-1} + b_hn, the part of ah that r multiplies
    params: dict


class GRUCache(NamedTuple):
    """What gru_backward needs: the cache of every step, t = 1 .. T in order."""

    steps: list


def gru_step_forward(x, h_prev, params):
    """One GRU step, t.

    Args:
        x: (B, E) x_t.  h_prev: (B, H) h_{t-1}, or None for zeros.  params: see the module docstring.

    Returns:
        h: (B, H) h_t.  cache: a GRUStepCache, for gru_step_backward.
    """
    H = params["weight_hh"].shape[1]
    if h_prev is None:  # the zero state h_0 = 0
        h_prev = backend.xp().zeros((x.shape[0], H), dtype=x.dtype)
    ax = x @ params["weight_ih"].T + params["bias_ih"]
    ah = h_prev @ params["weight_hh"].T + params["bias_hh"]
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H : 2 * H] + ah[:, H : 2 * H])
    ah_n = ah[:, 2 * H :]
    n = backend.xp().tanh(ax[:, 2 * H :] + r * ah_n)
    h = (1.0 - z) * n + z * h_prev
    return h, GRUStepCache(x, h_prev, r, z, n, ah_n, params)


def gru_step_backward(dh, cache):
    """Backward of one GRU step.

    Args:
        dh: (B, H) the total gradient reaching h_t.  cache: from gru_step_forward.

    Returns:
        dx: (B, E).  dh_prev: (B, H) the gradient reaching h_{t-1}.  dparams: keyed and shaped like params.
    """
    xp = backend.xp()
    x, h_prev, r, z, n, ah_n, params = cache
    dn = dh * (1.0 - z)
    dz = dh * (h_prev - n)
    dan = dn * (1.0 - n * n)
    dr = dan * ah_n
    dar = dr * r * (1.0 - r)
    daz = dz * z * (1.0 - z)
    dax = xp.concatenate([dar, daz, dan], axis=1)
    dah = xp.concatenate([dar, daz, dan * r], axis=1)
    dparams = {"weight_ih": dax.T @ x, "weight_hh": dah.T @ h_prev,
               "bias_ih": dax.sum(axis=0), "bias_hh": dah.sum(axis=0)}
    return dax @ params["weight_ih"], dh * z + dah @ params["weight_hh"], dparams


def gru_forward(x, h0, params):
    """Run the GRU over a sequence.

    Args:
        x: (B, T, E) inputs.  h0: (B, H) initial state, or None for zeros.  params: see above.

    Returns:
        hs: (B, T, H) h_1 .. h_T.  h_T: (B, H) the last state, to carry into the next window.
        cache: a GRUCache, for gru_backward.
    """
    check_recurrent_call("gru", NUM_GATES, x, h0, params)
    h, hs, steps = h0, [], []
    for t in range(x.shape[1]):
        h, step_cache = gru_step_forward(x[:, t], h, params)
        hs.append(h)
        steps.append(step_cache)
    return backend.xp().stack(hs, axis=1), h, GRUCache(steps)


def gru_backward(dhs, dh_T, cache):
    """Backpropagation through time for gru_forward.

    Args:
        dhs: (B, T, H) gradient of every output h_t.  dh_T: (B, H) gradient of the returned last
        state, or None for zeros.  cache: from gru_forward.

    Returns:
        dx: (B, T, E), dh0: (B, H), dparams: dict keyed like params.
    """
    xp = backend.xp()
    steps = cache.steps
    params = steps[0].params
    batch, hidden = steps[0].h_prev.shape
    check_shape(dhs, "gru dhs", (batch, len(steps), hidden), "(batch, time, hidden_size) like hs")
    dh = xp.zeros_like(steps[0].h_prev) if dh_T is None else dh_T
    grads = {name: xp.zeros_like(params[name]) for name in CELL_PARAM_NAMES}
    dxs = [None] * len(steps)
    for t in reversed(range(len(steps))):
        dxs[t], dh, step_grads = gru_step_backward(dhs[:, t] + dh, steps[t])
        for name in grads:
            grads[name] += step_grads[name]  # the same weights at every step: their gradients add up
    return xp.stack(dxs, axis=1), dh, grads
