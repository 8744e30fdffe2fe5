"""Exercises softmax_cross_entropy_forward and _backward: the loss of a language model.

With p = softmax(z) over the vocabulary axis, targets y and a mask m (1 = the token counts,
0 = padding):

    L = -(1/N) sum_{b,t} m[b, t] log p[b, t, y[b, t]],        N = sum_{b,t} m[b, t]

Forward, stably: log p = z - max(z) - log sum exp(z - max(z)) per row; subtracting the maximum
keeps every exponent <= 0 (the checker uses logits near +-900, where exp(z) overflows).

Backward: given dloss = dJ/dL, compute dJ/dz. For one position d(-log p_y)/dz_v = p_v - [v == y];
then ask what the mean over N counted tokens, the mask and dloss each do to it.

Check with:  scratchlm exercise check softmax_cross_entropy.py
"""
import numpy as np


def softmax_cross_entropy_forward(logits, targets, mask):
    """The mean NLL over the counted tokens.

    Args:
        logits: (B, T, V) scores z.  targets: (B, T) int.  mask: (B, T) bool.

    Returns:
        loss: a float.
    """
    raise NotImplementedError("write this: a stable log-softmax, pick the targets, mean over the mask")


def softmax_cross_entropy_backward(cache, dloss=1.0):
    """dJ/dlogits.

    Args:
        cache: cache.probs (B, T, V), cache.targets (B, T) int, cache.mask (B, T) float 1.0/0.0,
            cache.count N.
        dloss: float, the upstream gradient of the scalar loss.

    Returns:
        dlogits: (B, T, V).
    """
    raise NotImplementedError("write this: start from cache.probs, subtract 1 at each target, "
                              "then apply the mask, the 1/N of the mean and dloss")
