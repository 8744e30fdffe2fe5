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

from typing import NamedTuple

from scratchlm import backend
from scratchlm.checks import check_float_array, check_mask, check_shape, check_token_ids


class SoftmaxCrossEntropyCache(NamedTuple):
    """What softmax_cross_entropy_backward needs."""

    probs: object  # (B, T, V) softmax(z)
    targets: object  # (B, T) y, with id 0 at masked-out positions
    mask: object  # (B, T) m as 1.0 / 0.0 in the logits' dtype
    count: int  # N, the number of counted tokens


def log_softmax(logits):
    """Numerically stable log-softmax over the last axis (any shape; same shape out)."""
    xp = backend.xp()
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_cross_entropy_forward(logits, targets, mask=None):
    """Mean cross-entropy of ``logits`` against ``targets`` over the unmasked tokens.

    Args:
        logits: (B, T, V) unnormalised scores.
        targets: (B, T) integer ids in [0, V); ids at masked-out positions are ignored.
        mask: (B, T) bool (True = count this token), or None to count every token.

    Returns:
        loss: float, mean NLL in nats per counted token.
        cache: a SoftmaxCrossEntropyCache, for softmax_cross_entropy_backward.
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
    targets = xp.where(mask, targets, 0)
    check_token_ids(targets, "targets (at unmasked positions)", vocab_size=vocab_size)

    log_probs = log_softmax(logits)                                                   # (B, T, V)
    log_p_target = xp.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]  # (B, T)
    weights = mask.astype(logits.dtype)                                               # m, (B, T)
    loss = -float((log_p_target * weights).sum()) / count
    return loss, SoftmaxCrossEntropyCache(xp.exp(log_probs), targets, weights, count)


def softmax_cross_entropy_backward(cache, dloss=1.0):
    """Gradient of the loss with respect to the logits.

    Args:
        cache: from softmax_cross_entropy_forward.
        dloss: upstream gradient of the scalar loss (1.0 when the loss is the objective).

    Returns:
        dlogits: (B, T, V).
    """
    xp = backend.xp()
    probs, targets, mask, count = cache
    onehot = (xp.arange(probs.shape[-1]) == targets[..., None]).astype(probs.dtype)  # (B, T, V)
    scale = mask * probs.dtype.type(dloss / count)                                   # dloss * m / N, (B, T)
    return (probs - onehot) * scale[..., None]
