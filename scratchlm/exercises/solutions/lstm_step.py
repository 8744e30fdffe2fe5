"""Solution of exercise 4: one LSTM step backward."""
import numpy as np


def lstm_step_backward(dstate, cache):
    """Backward pass of one LSTM step (gate order i, f, g, o)::

        dc       = dc_next + dh * o * (1 - tanh(c)^2)     c reaches the loss two ways
        do       = dh * tanh(c)
        di       = dc * g          dg = dc * i          df = dc * c_prev
        dc_prev  = dc * f
        da_i = di * i (1 - i)   da_f = df * f (1 - f)   da_g = dg * (1 - g^2)   da_o = do * o (1 - o)
        da       = [da_i | da_f | da_g | da_o]            (B, 4H)
        dx = da W_ih,  dh_prev = da W_hh,  dW_ih = da^T x,  dW_hh = da^T h_prev,  db = sum_b da

    Args:
        dstate: (dh, dc), each (B, H). cache: from lstm_step_forward.

    Returns:
        dx (B, E), (dh_prev, dc_prev) each (B, H), dparams keyed like cache.params.
    """
    dh, dc_next = dstate
    i, f, g, o = cache.i, cache.f, cache.g, cache.o
    tanh_c, params = cache.tanh_c, cache.params

    dc = dc_next + dh * o * (1.0 - tanh_c**2)
    do = dh * tanh_c
    di = dc * g
    dg = dc * i
    df = dc * cache.c_prev
    dc_prev = dc * f

    da = np.concatenate(
        [di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g**2), do * o * (1.0 - o)], axis=1
    )
    dbias = da.sum(axis=0)
    dparams = {
        "weight_ih": da.T @ cache.x,
        "weight_hh": da.T @ cache.h_prev,
        "bias_ih": dbias,
        "bias_hh": dbias.copy(),
    }
    return da @ params["weight_ih"], (da @ params["weight_hh"], dc_prev), dparams
