"""Exercise 1: the backward pass of the embedding lookup.

The forward pass (``scratchlm.exercises.forward.embedding_forward``) reads rows of a (V, E)
matrix W:

    out[b, t] = W[ids[b, t]]

which is the same as one_hot(ids[b, t]) @ W, without building the one-hot vectors.

Your task: given dL/dout, compute dL/dW.

Think about it this way: the one-hot product says dW = sum_{b,t} one_hot(ids[b, t])^T dout[b, t].
Which rows of dW does one position (b, t) touch? What must happen when the same id appears at
two positions (it will: the checker repeats ids on purpose)?

Check your answer with
    scratchlm.exercises.check("embedding_backward", embedding_backward)
"""
import numpy as np


def embedding_backward(dout, cache):
    """dL/dW for out[b, t] = W[ids[b, t]].

    Args:
        dout: (B, T, E) upstream gradient dL/dout.
        cache: an EmbeddingCache from embedding_forward: cache.ids (B, T) int, cache.vocab_size V.

    Returns:
        dweight: (V, E) gradient of the loss with respect to the embedding matrix W.
    """
    raise NotImplementedError(
        "write this: build dweight of shape (V, E) from dout and cache.ids "
        "(rows of ids that never occur get zero gradient)"
    )
