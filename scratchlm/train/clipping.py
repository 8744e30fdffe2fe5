"""Gradient clipping: keep one bad step from throwing the parameters far away.

Recurrent networks occasionally meet a "cliff" in the loss surface where the gradient explodes
(Pascanu, Mikolov & Bengio 2013). Clipping bounds the step:

* by global norm: rescale *all* gradients together when their joint length exceeds a bound,
  which keeps the direction of the step and only shortens it;
* by value: cut every coordinate into [-c, c], which may change the direction.

Both work in place on a dict of gradient arrays (the ``grads`` of ``model.loss_and_grads``).
"""
from __future__ import annotations

import math

import numpy as np

from scratchlm import backend


def global_norm(grads: dict) -> float:
    """The length of all gradients seen as one long vector::

        ||g|| = sqrt( sum over arrays a of sum over elements of a ** 2 )
    """
    xp = backend.xp()
    total = 0.0
    for grad in grads.values():
        total += float(xp.sum(grad.astype(xp.float64) ** 2))
    return math.sqrt(total)


def clip_grad_norm(grads: dict, max_norm: float) -> float:
    """Rescale ``grads`` in place so that their global norm is at most about ``max_norm``.

    Exactly ``torch.nn.utils.clip_grad_norm_``::

        n    = ||g||                          (the global norm, before clipping)
        coef = max_norm / (n + 1e-6)
        g   <- g * coef                       only when coef < 1

    The 1e-6 keeps the division finite when every gradient is 0, and makes the clipped norm
    land just below ``max_norm``. A non-finite norm is not hidden, as in torch: a NaN norm
    gives coef = NaN and every gradient becomes NaN; an infinite norm gives coef = 0, so the
    finite entries become 0 and the infinite ones NaN (0 * inf).

    Args:
        grads: dict name -> gradient array; changed in place.
        max_norm: the bound, a positive number.

    Returns:
        n, the global norm *before* clipping (the trainer records it at every step: a spike in
        this curve is the exploding gradient that clipping caught).
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
    norm = global_norm(grads)
    coef = max_norm / (norm + 1e-6)
    if not coef >= 1.0:  # coef < 1, or NaN (torch's clamp(coef, max=1) keeps a NaN)
        with np.errstate(invalid="ignore"):  # 0 * inf = NaN is the intended result, not an accident
            for grad in grads.values():
                grad *= coef
    return norm


def clip_grad_value(grads: dict, clip_value: float) -> None:
    """Cut every gradient coordinate into ``[-clip_value, clip_value]``, in place
    (``torch.nn.utils.clip_grad_value_``)."""
    if not clip_value > 0:
        raise ValueError(f"clip_value must be a positive number, got {clip_value!r}")
    xp = backend.xp()
    for grad in grads.values():
        xp.clip(grad, -clip_value, clip_value, out=grad)
