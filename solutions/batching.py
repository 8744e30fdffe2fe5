"""Solutions: the stream batcher of truncated BPTT, and the state carried from window to window."""
import numpy as np


def stream_windows(ids, batch_size, bptt):
    """streams = ids[:B*L].reshape(B, L), L = N // B; window k: inputs streams[:, t0:t0+T],
    targets streams[:, t0+1:t0+1+T], t0 = k * bptt, T = min(bptt, L - 1 - t0)."""
    length = len(ids) // batch_size
    streams = ids[: batch_size * length].reshape(batch_size, length)
    windows = []
    for start in range(0, length - 1, bptt):
        steps = min(bptt, length - 1 - start)
        windows.append((streams[:, start : start + steps], streams[:, start + 1 : start + 1 + steps]))
    return windows


def run_windows(windows, h0, params, rnn_forward):
    """h_start(k + 1) = h_last(k): the state flows across the window boundary (its gradient would not)."""
    h, hs, starts = h0, [], []
    for window in windows:
        starts.append(h)
        window_hs, h = rnn_forward(window, h, params)
        hs.append(window_hs)
    return np.concatenate(hs, axis=1), starts
