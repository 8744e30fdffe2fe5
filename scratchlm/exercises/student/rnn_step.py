"""Exercise 3: the backward pass of one Elman RNN step.

The forward pass (``scratchlm.exercises.forward.rnn_step_forward``):

    a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh          x (B, E), h_prev (B, H), a (B, H)
    h = tanh(a)

Your task: given dL/dh, compute dL/dx, dL/dh_prev and the gradients of the four parameters.

Go backwards one operation at a time: first through the tanh (d tanh(a)/da = 1 - tanh(a)^2,
and tanh(a) is h, which the cache holds), then through the sum and the two matrix products.
Let the shapes guide you: dW_ih must have the shape of W_ih, (H, E); a bias gradient has the
shape of the bias, (H,), so the batch axis has to go somewhere.

Check your answer with
    scratchlm.exercises.check("rnn_step_backward", rnn_step_backward)
"""
import numpy as np


def rnn_step_backward(dh, cache):
    """Backward pass of h = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh).

    Args:
        dh: (B, H) upstream gradient dL/dh.
        cache: an RNNStepCache from rnn_step_forward: cache.x (B, E), cache.h_prev (B, H), cache.h (B, H),
            cache.params {"weight_ih": (H, E), "weight_hh": (H, H), "bias_ih": (H,), "bias_hh": (H,)}.

    Returns:
        dx: (B, E).
        dh_prev: (B, H).
        dparams: {"weight_ih": (H, E), "weight_hh": (H, H), "bias_ih": (H,), "bias_hh": (H,)}.
    """
    raise NotImplementedError(
        "write this: da = dh * (derivative of tanh), then dx, dh_prev and the four entries of dparams"
    )
