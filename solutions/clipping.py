"""Solution: gradient clipping by the global norm (PyTorch's clip_grad_norm_)."""
import math

import numpy as np


def clip_grad_norm(grads, max_norm):
    """n = sqrt(sum over arrays of sum of squares); coef = max_norm / (n + 1e-6); scale in place if coef < 1."""
    norm = math.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads.values()))
    coef = max_norm / (norm + 1e-6)
    if coef < 1.0:
        for g in grads.values():
            g *= coef
    return norm
