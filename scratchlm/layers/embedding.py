"""Embedding: look up one vector per token id; the backward pass is a scatter-add.

Forward, for a weight matrix W of shape (V, E) and token ids x:

    out[b, t] = W[x[b, t]]

Backward: row v of dW is the sum of the upstream gradients of every position holding id v,

    dW[v] = sum over (b, t) with x[b, t] == v of dout[b, t]

A token that occurs twice in a batch must receive *both* gradients; ``dW[x] += dout`` would keep
only one of them (fancy-index assignment does not accumulate), which is why the backward pass is
a scatter-add (``add.at``) and why the tests repeat ids on purpose.
"""
from __future__ import annotations

from typing import NamedTuple

from scratchlm import backend
from scratchlm.checks import check_float_array, check_token_ids


class EmbeddingCache(NamedTuple):
    """What embedding_backward needs."""

    ids: object  # (B, T) the token ids
    vocab_size: int  # V, the number of rows of the weight


def embedding_forward(ids, weight):
    """Look up the rows of ``weight`` named by ``ids``.

    Args:
        ids: (B, T) integer token ids in [0, V); any shape (...) works.
        weight: (V, E) the embedding matrix.

    Returns:
        out: (B, T, E) = weight[ids].
        cache: an EmbeddingCache (the ids and V), for embedding_backward.
    """
    weight = check_float_array(weight, "embedding weight", ndim=2)
    ids = check_token_ids(ids, "token ids", vocab_size=weight.shape[0])
    out = weight[ids]
    return out, EmbeddingCache(ids, weight.shape[0])


def embedding_backward(dout, cache):
    """Gradient of the loss with respect to the embedding matrix.

    Args:
        dout: (B, T, E) upstream gradient of ``out``.
        cache: from embedding_forward.

    Returns:
        dweight: (V, E).
    """
    xp = backend.xp()
    ids, vocab_size = cache
    dweight = xp.zeros((vocab_size, dout.shape[-1]), dtype=dout.dtype)
    xp.add.at(dweight, ids.reshape(-1), dout.reshape(-1, dout.shape[-1]))  # accumulates repeated ids, unlike dweight[ids] += dout
    return dweight
