"""Exercise stream_windows: the batches of truncated BPTT over one long stream of ids.

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
