"""Pointwise nonlinearities used inside the recurrent cells.

    sigmoid(a) = 1 / (1 + e^{-a}) = (1 + tanh(a / 2)) / 2

The tanh form is used because it never overflows (e^{-a} does for a < -709 in float64) and costs
one transcendental call. Derivatives, written in terms of the outputs the cells keep anyway:

    sigmoid'(a) = s (1 - s)  with s = sigmoid(a)
    tanh'(a)    = 1 - t^2    with t = tanh(a)
"""
from __future__ import annotations

from scratchlm import backend


def sigmoid(a):
    """Logistic function of ``a`` (any shape), computed without overflow."""
    xp = backend.xp()
    s = xp.tanh(a * 0.5)
    s += 1.0
    s *= 0.5
    return s
