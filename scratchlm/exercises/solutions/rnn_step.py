"""Solution of exercise 3: one Elman step backward."""


def rnn_step_backward(dh, cache):
    """Backward pass of h = tanh(a), a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh::

        da       = dh * (1 - h^2)          tanh'(a) = 1 - tanh(a)^2 = 1 - h^2
        dx       = da W_ih                 (B, H) @ (H, E) -> (B, E)
        dh_prev  = da W_hh                 (B, H) @ (H, H) -> (B, H)
        dW_ih    = da^T x                  (H, B) @ (B, E) -> (H, E)
        dW_hh    = da^T h_prev             (H, B) @ (B, H) -> (H, H)
        db_ih    = db_hh = sum_b da        both biases enter a the same way

    Args:
        dh: (B, H). cache: RNNStepCache(x, h_prev, h, params).

    Returns:
        dx (B, E), dh_prev (B, H), dparams keyed like cache.params.
    """
    x, h_prev, h, params = cache.x, cache.h_prev, cache.h, cache.params
    da = dh * (1.0 - h**2)
    dbias = da.sum(axis=0)
    dparams = {
        "weight_ih": da.T @ x,
        "weight_hh": da.T @ h_prev,
        "bias_ih": dbias,
        "bias_hh": dbias.copy(),
    }
    return da @ params["weight_ih"], da @ params["weight_hh"], dparams
