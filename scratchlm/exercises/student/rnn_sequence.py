"""Exercises rnn_forward and rnn_backward: the Elman RNN over a sequence, and BPTT.

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),     t = 1 .. T,  h_0 given

x is (B, T, E) (batch-first: x[:, t - 1] is x_t in code, which counts from 0), hs is
(B, T, H) and holds h_1 .. h_T; the last state h_T is returned too.

Backward (BPTT): given dL/dhs (the loss reads every h_t) and dL/dh_T (the last state may be
used later, e.g. by the next window of truncated BPTT), compute dL/dx, dL/dh_0 and the parameter
gradients. Walk t from T down to 1. The gradient reaching h_t has two sources: the output at
step t and step t + 1, which used h_t as its h_prev. The same parameters are used at every step,
so their gradient is a sum over time. Use your step functions from rnn_step.py (the same
folder): ``from rnn_step import rnn_step_forward, rnn_step_backward``.

Check with:  scratchlm exercise check rnn_sequence.py
"""
import numpy as np


def rnn_forward(x, h0, params):
    """Run the step for t = 1..T.

    Args:
        x: (B, T, E).  h0: (B, H).  params: as for rnn_step_forward.

    Returns:
        hs: (B, T, H), h_last: (B, H).
    """
    raise NotImplementedError("write this: loop over time, carrying h")


def rnn_backward(dhs, dh_last, cache):
    """Backpropagation through time.

    Args:
        dhs: (B, T, H) upstream gradient of every h_t.
        dh_last: (B, H) upstream gradient of the returned last state (adds to the last step's).
        cache: cache.steps, the list of the T step caches (t = 1 .. T), each as in rnn_step_backward.

    Returns:
        dx: (B, T, E), dh0: (B, H), dparams: dict like the step's.
    """
    raise NotImplementedError("write this: loop t = T .. 1, add the gradient carried from step t + 1, "
                              "backpropagate one step, and sum the parameter gradients over time")
