"""Exercise 5: backpropagation through time for the Elman RNN.

The forward pass (``scratchlm.exercises.forward.rnn_forward``) runs the step of exercise 3 for
t = 0 .. T-1:

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),      h_{-1} = h0

and returns every h_t (as hs, (B, T, H)) and the last state h_{T-1}.

Your task: given dL/dhs (the loss reads every h_t) and dL/dh_last (the last state may also be
used later, e.g. by the next window), compute dL/dx, dL/dh0 and the parameter gradients.

Walk t from T-1 down to 0. The gradient reaching h_t has two sources: the output at step t
(dhs[:, t]) and step t+1, which used h_t as its h_prev. The same parameters are used at every
step, so their gradient is a sum over time. You may use your rnn_step_backward from exercise 3
on each step's cache (they are in cache["steps"]): with both files in your working folder,
``from rnn_step import rnn_step_backward``.

Check your answer with
    scratchlm.exercises.check("rnn_backward", rnn_backward)
"""
import numpy as np


def rnn_backward(dhs, dh_last, cache):
    """Backpropagation through time for rnn_forward.

    Args:
        dhs: (B, T, H) upstream gradient of every hidden state h_0 .. h_{T-1}.
        dh_last: (B, H) upstream gradient of the returned last state (adds to dhs[:, -1]).
        cache: from rnn_forward: {"steps": [the rnn_step_forward cache of t = 0, ..., T-1]}.

    Returns:
        dx: (B, T, E).
        dh0: (B, H) gradient of the initial state.
        dparams: {"weight_ih": (H, E), "weight_hh": (H, H), "bias_ih": (H,), "bias_hh": (H,)}.
    """
    raise NotImplementedError(
        "write this: loop t = T-1 .. 0, add the gradient carried from step t+1 to dhs[:, t], "
        "backpropagate one step, and sum the parameter gradients over time"
    )
