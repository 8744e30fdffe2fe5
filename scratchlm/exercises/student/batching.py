"""Exercises stream_windows and run_windows: the batches of truncated BPTT, and the carried state.

    streams = ids[: B*L].reshape(B, L),   L = N // B          (the last N - B*L ids are dropped)
    window k starts at t0 = k * bptt and has T = min(bptt, L - 1 - t0) steps:
        inputs  = streams[:, t0     : t0 + T]
        targets = streams[:, t0 + 1 : t0 + 1 + T]              the next token of each input

e.g. ids 0..11, B = 2, bptt = 2: streams [[0..5], [6..11]]; windows ([[0 1] [6 7]], [[1 2] [7 8]]),
([[2 3] [8 9]], [[3 4] [9 10]]), ([[4] [10]], [[5] [11]]) (the last one is shorter).
Row b of window k + 1 starts where row b of window k ended, so the state at the end of one
window is the right start state for the next: that is why the streams are cut this way.

Check with:  scratchlm exercise check batching.py
"""
import numpy as np


def stream_windows(ids, batch_size, bptt):
    """Args: ids (N,) int, batch_size B, bptt. Returns: a list of (inputs, targets), each (B, T) int."""
    raise NotImplementedError("write this: reshape into B streams, then cut windows of bptt steps")


def run_windows(windows, h0, params, rnn_forward):
    """Run an RNN over consecutive windows of the same B streams, carrying the state.

    The windows are what stream_windows cut (here already embedded): window k + 1 continues every
    row of window k, so the last state of window k is the start state of window k + 1. Truncated
    BPTT carries that state's VALUE; its gradient is cut (the backward pass of a window stops at
    its start state), which is why training can update after every window.

    Args:
        windows: a list of (B, T_k, E) arrays, consecutive in time.
        h0: (B, H) the start state of the first window.
        params: the RNN's parameters.
        rnn_forward: a given function, rnn_forward(x, h, params) -> (hs (B, T_k, H), h_last (B, H)).

    Returns:
        hs: (B, T_1 + T_2 + ..., H) the states of every step of every window, in order.
        starts: a list with the start state (B, H) of each window (h0 first).
    """
    raise NotImplementedError("write this: loop over the windows, keep each window's start state, "
                              "carry h_last into the next window")
