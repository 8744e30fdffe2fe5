"""Exercises embedding_forward and embedding_backward: the embedding lookup.

Forward: a (V, E) matrix W holds one row per token id, and

    out[b, t] = W[ids[b, t]]                 ids (B, T) int in [0, V),  out (B, T, E)

which is one_hot(ids[b, t]) @ W without building the one-hot vectors.

Backward: from the one-hot form, dW = sum_{b,t} one_hot(ids[b, t])^T dout[b, t]. Which rows of
dW does one position (b, t) touch? What must happen when the same id appears at two positions
(it will: the checker repeats ids on purpose, and uses every id from 0 to V - 1)?

Check with:  scratchlm exercise check embedding.py
"""
import numpy as np


def embedding_forward(ids, weight):
    """out = W[ids].

    Args:
        ids: (B, T) int token ids.
        weight: (V, E) embedding matrix W.

    Returns:
        out: (B, T, E).
    """
    raise NotImplementedError("write this: one row of weight per id")


def embedding_backward(dout, cache):
    """dL/dW for out[b, t] = W[ids[b, t]].

    Args:
        dout: (B, T, E) upstream gradient dL/dout.
        cache: cache.ids (B, T) int, cache.vocab_size V.

    Returns:
        dweight: (V, E); rows of ids that never occur get zero gradient.
    """
    raise NotImplementedError("write this: build dweight of shape (V, E) from dout and cache.ids")
