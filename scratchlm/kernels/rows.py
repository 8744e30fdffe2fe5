"""The engine's embedding and softmax cross-entropy: row-wise pieces over flattened (N, .) rows.

Same contracts as the pair in ``scratchlm/layers/embedding.py`` and the pair in
``scratchlm/layers/softmax_cross_entropy.py`` (their docstrings hold the equations). The work
per row runs in a piece (:func:`scratchlm.kernels.pieces`): "embedding_scatter_add",
"cross_entropy_rows_forward" (NLL and softmax of every row in one pass where the backend can) and
"cross_entropy_rows_backward".
"""
from __future__ import annotations

from scratchlm import backend, kernels
from scratchlm.checks import check_float_array, check_mask, check_shape, check_token_ids
from scratchlm.layers.embedding import EmbeddingCache


def embedding_forward(ids, weight):
    """out (B, T, E) = weight[ids], and the EmbeddingCache: the textbook's lookup without its checks.

    A model checks its token ids once, at its entry (under CuPy each check of an id range makes the
    host wait for the GPU), so the engine does not check them again here.
    """
    return weight[ids], EmbeddingCache(ids, weight.shape[0])


def embedding_backward(dout, cache):
    """dweight (V, E) from dout (B, T, E): the scatter-add of the embedding_forward cache's ids."""
    ids, num_embeddings = cache
    scatter_add = kernels.pieces(backend.name())["embedding_scatter_add"]
    return scatter_add(ids.reshape(-1), dout.reshape(-1, dout.shape[-1]), num_embeddings)


def softmax_cross_entropy_forward(logits, targets, mask=None):
    """Mean NLL per counted token of logits (B, T, V) against targets (B, T); mask (B, T) or None.

    Returns the loss (float) and the cache for :func:`softmax_cross_entropy_backward`.
    """
    xp = backend.xp()
    logits = check_float_array(logits, "logits", ndim=3)
    batch, time, vocab_size = logits.shape
    targets = check_token_ids(targets, "targets", ndim=2)
    check_shape(targets, "targets", (batch, time), "(batch, time) of the logits")
    mask = xp.ones((batch, time), dtype=bool) if mask is None else check_mask(mask, "mask", (batch, time))
    count = int(mask.sum())
    if count == 0:
        raise ValueError("mask selects no tokens; expected at least one True entry to average the loss over")
    # Padding positions may hold any id (e.g. -100 or <pad>); point them at id 0 so indexing is safe.
    safe_targets = xp.where(mask, targets, 0).reshape(-1)
    check_token_ids(safe_targets, "targets (at unmasked positions)", vocab_size=vocab_size)

    forward_rows = kernels.pieces(backend.name())["cross_entropy_rows_forward"]
    nll, probs = forward_rows(logits.reshape(-1, vocab_size), safe_targets)
    row_weights = mask.reshape(-1).astype(logits.dtype) / logits.dtype.type(count)
    loss = float((nll * row_weights).sum())
    return loss, (probs, safe_targets, row_weights, logits.shape)


def softmax_cross_entropy_backward(cache, dloss=1.0):
    """dlogits (B, T, V) = dloss * (m / N) * (softmax - onehot(targets)), row by row."""
    probs, targets, row_weights, shape = cache
    backward_rows = kernels.pieces(backend.name())["cross_entropy_rows_backward"]
    dlogits = backward_rows(probs, targets, row_weights * row_weights.dtype.type(dloss))
    return dlogits.reshape(shape)
