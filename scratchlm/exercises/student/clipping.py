"""Exercise clip_grad_norm: clipping the gradients by their global norm (PyTorch's clip_grad_norm_).

    n    = sqrt( sum over arrays g of sum over entries of g**2 )       one norm for ALL gradients
    coef = max_norm / (n + 1e-6)
    g   <- g * coef for every array, only when coef < 1

Change the arrays in place (the trainer keeps references to them) and return n, the norm
before clipping.

Check with:  scratchlm exercise check clipping.py
"""
import math

import numpy as np


def clip_grad_norm(grads, max_norm):
    """Args: grads, a dict name -> array (changed in place); max_norm > 0. Returns: n, a float."""
    raise NotImplementedError("write this: the global norm, then scale every array in place if needed")
