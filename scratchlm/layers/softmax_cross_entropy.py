"""Softmax cross-entropy over a sequence, with a padding mask.

For logits z (B, T, V), targets y (B, T) and a mask m (B, T) (1 = this token is predicted and
counted, 0 = padding), with N = sum of m the number of counted tokens:

    log p[b, t, v] = z[b, t, v] - logsumexp_v' z[b, t, v']
    loss           = -(1 / N) sum_{b, t} m[b, t] log p[b, t, y[b, t]]

the mean negative log-likelihood in nats per predicted token. The log-sum-exp subtracts the
row maximum first, so large logits cannot overflow:

    logsumexp(z) = max(z) + log sum_v exp(z_v - max(z))

Backward (softmax and cross-entropy together give the short form):

    dz[b, t, :] = dloss * (m[b, t] / N) * (softmax(z[b, t]) - onehot(y[b, t]))
"""
from __future__ import annotations

from scratchlm import backend
from scratchlm.validation import check_float_array, check_mask, check_shape, check_token_ids


def log_softmax(logits):
    """Numerically stable log-softmax over the last axis (any shape; same shape out)."""
    xp = backend.xp()
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy_rows_forward(logits, targets):
    """Kernel seam "softmax_cross_entropy_forward": per-row NLL and softmax.

    Args:
        logits: (N, V).
        targets: (N,) integer ids in [0, V).

    Returns:
        nll: (N,) -log softmax(logits[n])[targets[n]].
        probs: (N, V) softmax(logits), kept for the backward pass.
    """
    xp = backend.xp()
    rows = xp.arange(logits.shape[0])
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = xp.exp(shifted)
    sum_exp = probs.sum(axis=1)
    probs /= sum_exp[:, None]
    nll = xp.log(sum_exp) - shifted[rows, targets]
    return nll, probs


def cross_entropy_rows_backward(probs, targets, row_weights):
    """Kernel seam "softmax_cross_entropy_backward": dlogits = w[n] * (probs[n] - onehot(targets[n])).

    Args:
        probs: (N, V) softmax from the forward pass.
        targets: (N,) integer ids.
        row_weights: (N,) dloss * m[n] / N for each row (0 for padding).

    Returns:
        dlogits: (N, V), a new array (``probs`` is left unchanged).
    """
    xp = backend.xp()
    rows = xp.arange(probs.shape[0])
    dlogits = probs * row_weights[:, None]
    dlogits[rows, targets] -= row_weights
    return dlogits


def softmax_cross_entropy_forward(logits, targets, mask=None):
    """Mean cross-entropy of ``logits`` against ``targets`` over the unmasked tokens.

    Args:
        logits: (B, T, V) unnormalised scores.
        targets: (B, T) integer ids in [0, V); ids at masked-out positions are ignored.
        mask: (B, T) bool (True = count this token), or None to count every token.

    Returns:
        loss: float, mean NLL in nats per counted token.
        cache: what softmax_cross_entropy_backward needs.
    """
    xp = backend.xp()
    logits = check_float_array(logits, "logits", ndim=3)
    batch, time, vocab_size = logits.shape
    targets = check_token_ids(targets, "targets", ndim=2)
    check_shape(targets, "targets", (batch, time), "(batch, time) of the logits")
    if mask is None:
        mask = xp.ones((batch, time), dtype=bool)
    else:
        mask = check_mask(mask, "mask", (batch, time))
    count = int(mask.sum())
    if count == 0:
        raise ValueError("mask selects no tokens; expected at least one True entry to average the loss over")
    # Padding positions may hold any id (e.g. -100 or <pad>); point them at id 0 so indexing is safe.
    safe_targets = xp.where(mask, targets, 0).reshape(-1)
    check_token_ids(safe_targets, "targets (at unmasked positions)", vocab_size=vocab_size)

    forward_rows = backend.kernel("softmax_cross_entropy_forward", cross_entropy_rows_forward)
    nll, probs = forward_rows(logits.reshape(-1, vocab_size), safe_targets)
    row_weights = mask.reshape(-1).astype(logits.dtype) / logits.dtype.type(count)
    loss = float((nll * row_weights).sum())
    return loss, (probs, safe_targets, row_weights, logits.shape)


def softmax_cross_entropy_backward(cache, dloss=1.0):
    """Gradient of the loss with respect to the logits.

    Args:
        cache: from softmax_cross_entropy_forward.
        dloss: upstream gradient of the scalar loss (1.0 when the loss is the objective).

    Returns:
        dlogits: (B, T, V).
    """
    probs, targets, row_weights, shape = cache
    backward_rows = backend.kernel("softmax_cross_entropy_backward", cross_entropy_rows_backward)
    dlogits = backward_rows(probs, targets, row_weights * row_weights.dtype.type(dloss))
    return dlogits.reshape(shape)
