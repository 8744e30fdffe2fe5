"""Pooling over time: one vector for a whole (padded) sequence, for many-to-one tasks.

A sequence classifier needs one summary of hs_1 .. hs_T. Three choices, each over the real
positions t <= n_b of row b only (n_b = lengths[b]; padding is never read)::

    "last"   p = h_{n}                            what the RNN holds after the last real token
             (bidirectional, hs = [->h ; <-h]: p = [->h_{n} ; <-h_1], each direction's last step)
    "mean"   p = (1 / n) sum_{t <= n} h_t
    "max"    p_d = max_{t <= n} h_{t,d}           feature by feature

"Why the last unit's output?" It is the only one that has read the whole sequence, but it is
also the one furthest from the first tokens; mean and max give every position a direct path
to the loss. Backward::

    last:  dh_{n} = dp   (bidirectional: the forward half at t = n, the backward half at t = 1)
    mean:  dh_t = dp / n                 for t <= n
    max:   dh_{t,d} = dp_d  where t is the argmax of feature d (the first one on ties), else 0

Shapes: hs (B, T, F), lengths (B,) int in 1..T or None (every row T long), pooled (B, F).
For "last" with ``bidirectional=True`` F = 2H, the first H features the forward direction.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from scratchlm import backend

POOLINGS = ("last", "mean", "max")


class PoolingCache(NamedTuple):
    shape: tuple          # (B, T, F) of hs
    mask: object          # (B, T) bool, True on real positions
    lengths: object       # (B,) int
    argmax: object        # (B, F) int, the time step that won each feature ("max"), else None
    pooling: str
    bidirectional: bool


def pool_forward(hs, lengths=None, pooling="last", bidirectional=False):
    """Pool hs (B, T, F) over its real time steps into (B, F); returns (pooled, cache)."""
    xp = backend.xp()
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}: expected one of {', '.join(POOLINGS)}")
    if hs.ndim != 3:
        raise ValueError(f"pooling needs hs of shape (B, T, F), got {tuple(hs.shape)}")
    batch, time, features = hs.shape
    if lengths is None:
        lengths = xp.full(batch, time, dtype=np.int64)
    lengths = xp.asarray(lengths)
    if tuple(lengths.shape) != (batch,) or int(lengths.min()) < 1 or int(lengths.max()) > time:
        raise ValueError(f"lengths must be (B,) = ({batch},) ints in 1..{time}")
    if bidirectional and features % 2:
        raise ValueError(f"bidirectional hs must have an even feature size (2H), got {features}")
    mask = xp.arange(time)[None, :] < lengths[:, None]                                 # (B, T)
    rows = xp.arange(batch)
    argmax = None
    if pooling == "last":
        pooled = hs[rows, lengths - 1]                                                 # (B, F)
        if bidirectional:
            half = features // 2
            pooled = xp.concatenate([pooled[:, :half], hs[:, 0, half:]], axis=1)
    elif pooling == "mean":
        pooled = (hs * mask[:, :, None]).sum(axis=1) / lengths[:, None]
    else:
        masked = xp.where(mask[:, :, None], hs, -xp.inf)
        argmax = masked.argmax(axis=1)                                                 # (B, F)
        pooled = xp.take_along_axis(hs, argmax[:, None, :], axis=1)[:, 0]
    return pooled, PoolingCache(hs.shape, mask, lengths, argmax, pooling, bidirectional)


def pool_backward(dpooled, cache):
    """dhs (B, T, F) from the gradient of the pooled vectors dpooled (B, F)."""
    xp = backend.xp()
    (batch, time, features), mask, lengths, argmax, pooling, bidirectional = cache
    rows = xp.arange(batch)
    dhs = xp.zeros((batch, time, features), dtype=dpooled.dtype)
    if pooling == "last":
        if bidirectional:
            half = features // 2
            dhs[rows, lengths - 1, :half] = dpooled[:, :half]
            dhs[:, 0, half:] += dpooled[:, half:]
        else:
            dhs[rows, lengths - 1] = dpooled
    elif pooling == "mean":
        dhs[...] = mask[:, :, None] * (dpooled / lengths[:, None])[:, None, :]
    else:
        xp.put_along_axis(dhs, argmax[:, None, :], dpooled[:, None, :], axis=1)
    return dhs
