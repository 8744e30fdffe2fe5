"""Attention over encoder states: additive (Bahdanau et al. 2015) and multiplicative (Luong et al. 2015).

An encoder-decoder without attention squeezes the whole source into one vector, the encoder's
last state (the *bottleneck*). Attention lets every decoder step t look back at all source states
k_1 .. k_S and take a weighted average of them, weighted by how well each one matches the
decoder's query q_t::

    e_tj     = score(q_t, k_j)                                  alignment scores     j = 1 .. S
    alpha_tj = exp(e_tj) / sum_{j' real} exp(e_tj')             attention weights (0 on padding)
    c_t      = sum_j alpha_tj k_j                               context vector

with three scores::

    "dot"       score(q, k) = q . k                             (Luong; needs H_q == H_k)
    "general"   score(q, k) = q . (W k)                         (Luong)
    "additive"  score(q, k) = v . tanh(W_q q + W_k k)           (Bahdanau, "concat" in Luong)

The source padding mask m (B, S) (True = real source position) removes padded positions from the
softmax: their e_tj is -inf, so alpha_tj = 0 and they add nothing to c_t.

Backward, for the upstream gradient dc_t (the keys are also the values, so they collect two
gradients)::

    dalpha_tj = dc_t . k_j                    dk_j  = sum_t alpha_tj dc_t       (as values)
    de_tj     = alpha_tj (dalpha_tj - sum_j' alpha_tj' dalpha_tj')             (softmax backward)
    dot:      dq_t = sum_j de_tj k_j          dk_j += sum_t de_tj q_t
    general:  dq_t = sum_j de_tj (W k_j)      dk_j += W^T sum_t de_tj q_t      dW = sum de_tj q_t k_j^T
    additive: u_tj = tanh(W_q q_t + W_k k_j)  du_tj = de_tj v   da_tj = du_tj * (1 - u_tj^2)
              dv = sum de_tj u_tj   dq_t = W_q^T sum_j da_tj   dk_j += W_k^T sum_t da_tj
              dW_q = sum da_tj q_t^T          dW_k = sum da_tj k_j^T

Shapes: B batch, T queries (decoder steps), S source positions, H_q query size, H_k key size,
A the additive layer's size. Every decoder step t is independent of the others here (the
queries are given), so all T steps run at once; T = 1 is one decoder step.

    queries (B, T, H_q)   keys (B, S, H_k)   mask (B, S) bool or None (all real)
    context (B, T, H_k)   weights (B, T, S)
    params  dot: {}
            general: {"weight": (H_q, H_k)}                                   (nn.Linear(H_k, H_q, bias=False))
            additive: {"query.weight": (A, H_q), "key.weight": (A, H_k), "v.weight": (1, A)}
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from scratchlm import backend

SCORES = ("dot", "general", "additive")


class AttentionCache(NamedTuple):
    """What attention_backward needs from the forward pass."""

    queries: object     # (B, T, H_q)
    keys: object        # (B, S, H_k)
    weights: object     # (B, T, S) alpha
    u: object           # (B, T, S, A) tanh(W_q q + W_k k) for "additive", else None
    params: dict
    score: str


def init_attention_params(score, query_size, key_size, attention_size=None, rng=None, dtype="float64"):
    """Parameters of one attention score, drawn as nn.Linear does: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    attention_size (A) is used by "additive" only (None: A = key_size).
    """
    check_score(score)
    rng = np.random.default_rng(rng)

    def linear_weight(out_features, in_features):
        bound = 1.0 / np.sqrt(in_features)
        return backend.asarray(rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype))

    if score == "dot":
        if query_size != key_size:
            raise ValueError(f"dot attention needs queries and keys of one size, got {query_size} and {key_size}")
        return {}
    if score == "general":
        return {"weight": linear_weight(query_size, key_size)}
    size = key_size if attention_size is None else attention_size
    return {"query.weight": linear_weight(size, query_size), "key.weight": linear_weight(size, key_size),
            "v.weight": linear_weight(1, size)}


def attention_forward(queries, keys, mask, params, score="dot"):
    """Context vectors and attention weights of every query over the keys.

    Args:
        queries: (B, T, H_q) decoder states.
        keys: (B, S, H_k) encoder states (also the values that are averaged).
        mask: (B, S) bool, True on real source positions (at least one per row), or None.
        params: the score's parameters (see the module docstring).
        score: "dot", "general" or "additive".

    Returns:
        context: (B, T, H_k).
        weights: (B, T, S), rows sum to 1, 0 on padding.
        cache: an AttentionCache for attention_backward.
    """
    xp = backend.xp()
    check_score(score)
    _check_shapes(queries, keys, mask, params, score)
    u = None
    if score == "dot":
        scores = queries @ keys.transpose(0, 2, 1)                                   # (B, T, S)
    elif score == "general":
        scores = queries @ (keys @ params["weight"].T).transpose(0, 2, 1)            # (B, T, S)
    else:
        query_part = queries @ params["query.weight"].T                              # (B, T, A)
        key_part = keys @ params["key.weight"].T                                     # (B, S, A)
        u = xp.tanh(query_part[:, :, None, :] + key_part[:, None, :, :])             # (B, T, S, A)
        scores = u @ params["v.weight"][0]                                           # (B, T, S)
    if mask is not None:
        scores = xp.where(mask[:, None, :], scores, -xp.inf)
    weights = xp.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    context = weights @ keys                                                         # (B, T, H_k)
    return context, weights, AttentionCache(queries, keys, weights, u, params, score)


def attention_backward(dcontext, cache):
    """Gradients of attention_forward's context with respect to queries, keys and parameters.

    Args:
        dcontext: (B, T, H_k) upstream gradient of the context vectors.
        cache: from attention_forward.

    Returns:
        dqueries: (B, T, H_q), dkeys: (B, S, H_k), dparams: dict keyed like params.
    """
    queries, keys, weights, u, params, score = cache
    dweights = dcontext @ keys.transpose(0, 2, 1)                                    # (B, T, S)
    dkeys = weights.transpose(0, 2, 1) @ dcontext                                    # (B, S, H_k), as values
    dscores = weights * (dweights - (weights * dweights).sum(axis=-1, keepdims=True))
    dparams = {}
    if score == "dot":
        dqueries = dscores @ keys
        dkeys += dscores.transpose(0, 2, 1) @ queries
    elif score == "general":
        weight = params["weight"]
        dqueries = dscores @ (keys @ weight.T)
        dprojected_keys = dscores.transpose(0, 2, 1) @ queries                       # (B, S, H_q)
        dkeys += dprojected_keys @ weight
        dparams["weight"] = _sum_outer(dprojected_keys, keys)
    else:
        v = params["v.weight"][0]
        dparams["v.weight"] = (dscores[..., None] * u).sum(axis=(0, 1, 2))[None, :]
        dpre = dscores[..., None] * v * (1.0 - u * u)                                # (B, T, S, A)
        dquery_part, dkey_part = dpre.sum(axis=2), dpre.sum(axis=1)                  # (B, T, A), (B, S, A)
        dqueries = dquery_part @ params["query.weight"]
        dkeys += dkey_part @ params["key.weight"]
        dparams["query.weight"] = _sum_outer(dquery_part, queries)
        dparams["key.weight"] = _sum_outer(dkey_part, keys)
    return dqueries, dkeys, dparams


def _sum_outer(a, b):
    """sum over batch and position of a_n b_n^T: a (B, N, P), b (B, N, Q) -> (P, Q)."""
    return a.reshape(-1, a.shape[-1]).T @ b.reshape(-1, b.shape[-1])


def check_score(score):
    if score not in SCORES:
        raise ValueError(f"unknown attention score {score!r}: expected one of {', '.join(SCORES)}")


def _check_shapes(queries, keys, mask, params, score):
    if queries.ndim != 3 or keys.ndim != 3 or queries.shape[0] != keys.shape[0]:
        raise ValueError(f"attention needs queries (B, T, H_q) and keys (B, S, H_k) with one B, "
                         f"got {tuple(queries.shape)} and {tuple(keys.shape)}")
    batch, source_length, key_size = keys.shape
    query_size = queries.shape[2]
    expected = {"dot": {},
                "general": {"weight": (query_size, key_size)},
                "additive": {"query.weight": (None, query_size), "key.weight": (None, key_size), "v.weight": (1, None)}}[score]
    if set(params) != set(expected):
        raise ValueError(f"{score} attention takes the parameters {sorted(expected) or 'none'}, got {sorted(params)}")
    for name, shape in expected.items():
        actual = tuple(params[name].shape)
        if len(actual) != 2 or any(want is not None and want != got for want, got in zip(shape, actual)):
            raise ValueError(f"{score} attention parameter {name} has shape {actual}, expected "
                             f"{tuple('A' if d is None else d for d in shape)}")
    if score == "dot" and query_size != key_size:
        raise ValueError(f"dot attention needs queries and keys of one size, got {query_size} and {key_size}")
    if score == "additive" and not (params["query.weight"].shape[0] == params["key.weight"].shape[0] == params["v.weight"].shape[1]):
        raise ValueError("additive attention's query.weight (A, H_q), key.weight (A, H_k) and v.weight (1, A) must share A")
    if mask is not None:
        if tuple(mask.shape) != (batch, source_length) or mask.dtype != bool:
            raise ValueError(f"attention mask must be bool of shape (B, S) = {(batch, source_length)}, "
                             f"got {mask.dtype} {tuple(mask.shape)}")
        if not bool(mask.any(axis=1).all()):
            raise ValueError("every row of the attention mask needs at least one real (True) source position")
