"""ELMo's scalar mix: a learned, softmax-weighted sum of a pretrained model's layers (Peters et al. 2018, eq. 1).

A bidirectional LM has K + 1 representations of every token: the token layer h_0 and the K
recurrent layers h_1 .. h_K. Which one serves a downstream task best is not known in advance
(lower layers hold more of the word's form, higher layers more of its context), so ELMo lets the
task learn a mixture, with one weight per layer and one overall scale::

    s     = softmax(w)                          (L,)     L = K + 1 layers, weights sum to 1
    mix_t = gamma * sum_j s_j h_{j,t}           (B, T, D)

Only w and gamma are trained; the layers h_j are features from a frozen model. Backward, for the
upstream gradient dmix (B, T, D)::

    dh_j    = gamma s_j dmix
    dgamma  = sum_{b,t,d} dmix * sum_j s_j h_j
    ds_j    = gamma sum_{b,t,d} dmix * h_j
    dw      = s * (ds - sum_j s_j ds_j)                   (softmax backward)

Shapes: layers is a list of L arrays (B, T, D), all of one shape.
params = {"scalar_parameters": (L,), "gamma": (1,)}, the names of AllenNLP's ScalarMix.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from scratchlm import backend


class ScalarMixCache(NamedTuple):
    layers: list      # L arrays (B, T, D)
    s: object         # (L,) softmax(w)
    gamma: object     # (1,)
    mixed: object     # (B, T, D) sum_j s_j h_j, before the scale


def init_scalar_mix_params(num_layers, dtype="float64"):
    """w = 0 (every layer weighted 1/L at the start) and gamma = 1, as ELMo initialises them."""
    if not isinstance(num_layers, (int, np.integer)) or num_layers < 1:
        raise ValueError(f"num_layers must be a positive int, got {num_layers!r}")
    return {"scalar_parameters": backend.asarray(np.zeros(num_layers, dtype=dtype)),
            "gamma": backend.asarray(np.ones(1, dtype=dtype))}


def scalar_mix_forward(layers, params):
    """gamma * sum_j softmax(w)_j layers[j].

    Args:
        layers: list of L arrays (B, T, D) (or any one shape shared by all).
        params: {"scalar_parameters": (L,), "gamma": (1,)}.

    Returns:
        mix: shaped like each layer.
        cache: a ScalarMixCache for scalar_mix_backward.
    """
    xp = backend.xp()
    w, gamma = params["scalar_parameters"], params["gamma"]
    if len(layers) != w.shape[0]:
        raise ValueError(f"scalar mix has {w.shape[0]} weights but {len(layers)} layers were given")
    shapes = {tuple(layer.shape) for layer in layers}
    if len(shapes) != 1:
        raise ValueError(f"every layer of a scalar mix must have one shape, got {sorted(shapes)}")
    s = xp.exp(w - w.max())
    s /= s.sum()
    mixed = s[0] * layers[0]
    for j in range(1, len(layers)):
        mixed = mixed + s[j] * layers[j]
    return gamma[0] * mixed, ScalarMixCache(layers, s, gamma, mixed)


def scalar_mix_backward(dmix, cache):
    """Gradients of scalar_mix_forward.

    Args:
        dmix: upstream gradient, shaped like the mix.
        cache: from scalar_mix_forward.

    Returns:
        dlayers: list of L arrays shaped like the layers (a model on frozen features drops them).
        dparams: {"scalar_parameters": (L,), "gamma": (1,)}.
    """
    xp = backend.xp()
    layers, s, gamma, mixed = cache
    dlayers = [gamma[0] * s[j] * dmix for j in range(len(layers))]
    ds = xp.stack([gamma[0] * (dmix * layer).sum() for layer in layers])
    dw = s * (ds - (s * ds).sum())
    dgamma = (dmix * mixed).sum().reshape(1)
    return dlayers, {"scalar_parameters": dw, "gamma": dgamma}
