"""Exercise 2: the backward pass of softmax cross-entropy.

The forward pass (``scratchlm.exercises.forward.softmax_cross_entropy_forward``) computes, with
p = softmax(z) over the vocabulary axis, targets y and a mask m (1 = token counts, 0 = padding):

    L = -(1/N) sum_{b,t} m[b, t] log p[b, t, y[b, t]],        N = sum_{b,t} m[b, t]

Your task: given dloss = dJ/dL (1.0 when L itself is the objective), compute dJ/dz.

Derive it for one position first: d(-log p_y)/dz_v = p_v - [v == y]. Then ask what the mean
over N counted tokens, the mask and dloss each do to it.

Check your answer with
    scratchlm.exercises.check("softmax_cross_entropy_backward", softmax_cross_entropy_backward)
"""
import numpy as np


def softmax_cross_entropy_backward(cache, dloss=1.0):
    """dJ/dlogits for the mean cross-entropy over the unmasked tokens.

    Args:
        cache: a SoftmaxCrossEntropyCache from softmax_cross_entropy_forward: cache.probs (B, T, V),
            cache.targets (B, T) int, cache.mask (B, T) float (1.0 counts, 0.0 padding), cache.count N.
        dloss: float, the upstream gradient of the scalar loss.

    Returns:
        dlogits: (B, T, V).
    """
    raise NotImplementedError(
        "write this: start from cache.probs, subtract 1 at each target, "
        "then apply the mask, the 1/N of the mean and dloss"
    )
