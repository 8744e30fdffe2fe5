"""Solution: the stream batcher of truncated BPTT."""


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
