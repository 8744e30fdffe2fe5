"""Solution of exercise 1: the embedding backward pass is a scatter-add."""
import numpy as np


def embedding_backward(dout, cache):
    """dL/dW for out[b, t] = W[ids[b, t]].

    dW = sum_{b,t} one_hot(ids[b, t])^T dout[b, t]: position (b, t) adds dout[b, t] to row
    ids[b, t]. ``np.add.at`` accumulates when an id repeats; ``dW[ids] += dout`` would not
    (fancy-index assignment writes each repeated row once).

    Args:
        dout: (B, T, E). cache: EmbeddingCache(ids (B, T), vocab_size V).

    Returns:
        dweight: (V, E).
    """
    ids = cache.ids
    embed_dim = dout.shape[-1]
    dweight = np.zeros((cache.vocab_size, embed_dim), dtype=dout.dtype)
    np.add.at(dweight, ids.reshape(-1), dout.reshape(-1, embed_dim))
    return dweight
