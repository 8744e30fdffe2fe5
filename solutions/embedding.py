"""Solutions: the embedding lookup, forward and backward (a scatter-add)."""
import numpy as np


def embedding_forward(ids, weight):
    """out[b, t] = W[ids[b, t]]: ids (B, T), W (V, E) -> out (B, T, E)."""
    return weight[ids]


def embedding_backward(dout, cache):
    """dW = sum_{b,t} one_hot(ids[b, t])^T dout[b, t]: position (b, t) adds dout[b, t] to row ids[b, t].

    ``np.add.at`` accumulates when an id repeats; ``dW[ids] += dout`` would not (fancy-index
    assignment writes each repeated row once).
    """
    embed_dim = dout.shape[-1]
    dweight = np.zeros((cache.vocab_size, embed_dim), dtype=dout.dtype)
    np.add.at(dweight, cache.ids.reshape(-1), dout.reshape(-1, embed_dim))
    return dweight
