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

from scratchlm import backend
from scratchlm.validation import check_float_array, check_token_ids


def embedding_forward(ids, weight):
    """Look up the rows of ``weight`` named by ``ids``.

    Args:
        ids: (B, T) integer token ids in [0, V); any shape (...) works.
        weight: (V, E) the embedding matrix.

    Returns:
        out: (B, T, E) = weight[ids].
        cache: what embedding_backward needs (the ids and V).
    """
    weight = check_float_array(weight, "embedding weight", ndim=2)
    ids = check_token_ids(ids, "token ids", vocab_size=weight.shape[0])
    out = weight[ids]
    return out, (ids, weight.shape[0])


def embedding_scatter_add(ids, dout, num_embeddings):
    """Kernel seam "embedding_scatter_add": dW (V, E) with dW[v] = sum of dout[n] where ids[n] == v.

    Args:
        ids: (N,) integer token ids.
        dout: (N, E) upstream gradients, one row per id.
        num_embeddings: V.

    Returns:
        dweight: (V, E), dtype of ``dout``.
    """
    xp = backend.xp()
    dweight = xp.zeros((num_embeddings, dout.shape[1]), dtype=dout.dtype)
    xp.add.at(dweight, ids, dout)  # accumulates repeated ids, unlike dweight[ids] += dout
    return dweight


def embedding_backward(dout, cache):
    """Gradient of the loss with respect to the embedding matrix.

    Args:
        dout: (B, T, E) upstream gradient of ``out``.
        cache: from embedding_forward.

    Returns:
        dweight: (V, E).
    """
    ids, num_embeddings = cache
    embed_dim = dout.shape[-1]
    scatter_add = backend.kernel("embedding_scatter_add", embedding_scatter_add)
    return scatter_add(ids.reshape(-1), dout.reshape(-1, embed_dim), num_embeddings)
