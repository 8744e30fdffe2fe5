"""Solution of exercise 2: softmax cross-entropy backward."""
import numpy as np


def softmax_cross_entropy_backward(cache, dloss=1.0):
    """dJ/dz[b, t, v] = dloss * m[b, t] / N * (p[b, t, v] - [v == y[b, t]]).

    One token's loss -log p_y has gradient p - one_hot(y) with respect to its logits; the mean
    divides by the N counted tokens, padding positions (m = 0) get nothing, and the chain rule
    multiplies by dloss.

    Args:
        cache: SoftmaxCrossEntropyCache(probs (B, T, V), targets (B, T), mask (B, T) float, count N).
        dloss: float.

    Returns:
        dlogits: (B, T, V).
    """
    dlogits = cache.probs.copy()
    targets = cache.targets
    np.put_along_axis(dlogits, targets[..., None],
                      np.take_along_axis(dlogits, targets[..., None], axis=-1) - 1.0, axis=-1)
    dlogits *= (cache.mask * (dloss / cache.count))[..., None]
    return dlogits
