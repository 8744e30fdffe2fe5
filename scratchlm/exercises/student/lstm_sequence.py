"""Exercises lstm_forward and lstm_backward: the LSTM over a sequence, with the (dh, dc) carry.

    (h_t, c_t) = lstm_step(x_t, (h_{t-1}, c_{t-1})),     t = 1 .. T,  (h_0, c_0) given

Forward: return hs (B, T, H) = h_1 .. h_T and the last state (h_T, c_T).

Backward: given dL/dhs and the gradient of the last state (dh_T, dc_T), walk t = T .. 1. Two
gradients are carried back from step t + 1 to step t: dh (added to dhs at t) and dc (the cell
state is read only by the next step). Sum the parameter gradients over time. Use your step
functions: ``from lstm_step import lstm_step_forward, lstm_step_backward``.

Check with:  scratchlm exercise check lstm_sequence.py
"""
import numpy as np


def lstm_forward(x, state0, params):
    """Args: x (B, T, E), state0 (h0, c0) each (B, H). Returns: hs (B, T, H), (h_last, c_last)."""
    raise NotImplementedError("write this: loop over time, carrying (h, c)")


def lstm_backward(dhs, dstate_last, cache):
    """Args: dhs (B, T, H), dstate_last (dh_last, dc_last), cache.steps (T step caches).

    Returns:
        dx: (B, T, E), (dh0, dc0): each (B, H), dparams: dict like the step's.
    """
    raise NotImplementedError("write this: loop t = T .. 1 carrying dh and dc, and sum dparams over time")
