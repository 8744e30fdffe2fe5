"""Exercises affine_forward and affine_backward: the output layer applied at every time step.

    y[b, t] = x[b, t] W^T + b            x (B, T, E),  W (V, E),  b (V,),  y (B, T, V)

Backward: dx[b, t] = dy[b, t] W. The same W and b are used at every (b, t), so their gradients
are sums over the batch AND the time axis: dW = sum_{b,t} dy[b, t]^T x[b, t], db = sum_{b,t} dy[b, t].
(Reshape to B*T rows and use one matrix product.)

Check with:  scratchlm exercise check affine.py
"""
import numpy as np


def affine_forward(x, weight, bias):
    """y = x W^T + b at every step.

    Args:
        x: (B, T, E).  weight: (V, E).  bias: (V,).

    Returns:
        y: (B, T, V).
    """
    raise NotImplementedError("write this: one matrix product and a bias")


def affine_backward(dy, cache):
    """Gradients of y = x W^T + b.

    Args:
        dy: (B, T, V) upstream gradient.
        cache: cache.x (B, T, E), cache.weight (V, E).

    Returns:
        dx: (B, T, E), dweight: (V, E), dbias: (V,).
    """
    raise NotImplementedError("write this: dx, then dweight and dbias summed over batch and time")
