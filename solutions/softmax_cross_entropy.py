"""Solutions: the mean masked softmax cross-entropy, forward (stable) and backward."""
import numpy as np


def softmax_cross_entropy_forward(logits, targets, mask):
    """L = -(1/N) sum_{b,t} m[b,t] log p[b,t,y[b,t]], p = softmax(z), N = sum m.

    log p = z - max z - log sum exp(z - max z): subtracting the row maximum keeps every exponent
    <= 0, so nothing overflows.
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]  # (B, T)
    weights = mask.astype(np.float64)
    return float(-(picked * weights).sum() / weights.sum())


def softmax_cross_entropy_backward(cache, dloss=1.0):
    """dJ/dz[b, t, v] = dloss * m[b, t] / N * (p[b, t, v] - [v == y[b, t]])."""
    dlogits = cache.probs.copy()
    targets = cache.targets[..., None]
    np.put_along_axis(dlogits, targets, np.take_along_axis(dlogits, targets, axis=-1) - 1.0, axis=-1)
    dlogits *= (cache.mask * (dloss / cache.count))[..., None]
    return dlogits
