"""Inverted dropout: zero each unit with probability p at training time, scale the rest by 1/(1-p).

Forward, with a fresh mask m of independent Bernoulli(1 - p) draws:

    out = x * m / (1 - p)        (training)
    out = x                      (evaluation, or p = 0)

Scaling at training time ("inverted" dropout) keeps E[out] = x, so evaluation needs no
rescaling. Backward applies the same mask: dx = dout * m / (1 - p).
"""
from __future__ import annotations

from scratchlm import backend


def dropout_forward(x, p, rng, training=True):
    """Apply inverted dropout to ``x``.

    Args:
        x: any shape, e.g. (B, T, H).
        p: probability of zeroing a unit, 0 <= p < 1.
        rng: a random generator with ``random(shape)`` (``numpy.random.Generator``), the model's
            seeded dropout stream.
        training: False turns dropout off (out = x).

    Returns:
        out: same shape as x.
        cache: the scaled mask m / (1 - p) (same shape as x), or None when nothing was dropped.
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x, None
    keep = 1.0 - p
    kept = backend.asarray(rng.random(x.shape) < keep)
    scaled_mask = kept.astype(x.dtype) / x.dtype.type(keep)
    return x * scaled_mask, scaled_mask


def dropout_backward(dout, cache):
    """Gradient of inverted dropout: ``dout`` times the same scaled mask (shape of ``dout``)."""
    if cache is None:
        return dout
    return dout * cache
