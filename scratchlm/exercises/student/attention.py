"""Exercises attention_forward and attention_backward: Luong's "general" attention over a source.

A decoder state q_t (the query) looks at every encoder state k_1 .. k_S (the keys, which are
also the values that are averaged), scores each, and takes the average weighted by the softmax
of the scores over the REAL source positions (mask m_j = True; padding gets weight 0)::

    e_tj     = q_t . (W k_j)        = q_t W k_j^T                         scores
    alpha_tj = exp(e_tj) / sum_{j' : m_j'} exp(e_tj')   (0 where m_j is False)   weights
    c_t      = sum_j alpha_tj k_j                                          context

Shapes (B batch, T decoder steps, S source positions, H_q query size, H_k key size; the
steps t are independent here, so all T run at once)::

    queries (B, T, H_q)   keys (B, S, H_k)   mask (B, S) bool   params {"weight": (H_q, H_k)}
    scores, weights (B, T, S)   context (B, T, H_k)

This is scratchlm.layers.attention with score="general" (W is laid out like PyTorch's
nn.Linear(H_k, H_q, bias=False).weight: W k_j is keys @ W.T). The softmax is over the source
axis S (the last one): each step's weights sum to 1. Put -inf at padded positions before the
softmax and subtract each row's maximum (it cancels) so that exp never overflows.

Backward, from the upstream gradient dc_t. The keys enter twice (as values and through the
scores), so dkeys collects two terms; alpha depends on e, so the softmax's Jacobian is needed::

    dalpha_tj = dc_t . k_j                                            (B, T, S)
    de_tj     = alpha_tj (dalpha_tj - sum_j' alpha_tj' dalpha_tj')     softmax backward, over S
    dq_t      = sum_j de_tj (W k_j)                                    (B, T, H_q)
    dk_j      = sum_t alpha_tj dc_t  +  W^T sum_t de_tj q_t            (B, S, H_k) values + scores
    dW        = sum_{b,t,j} de_tj q_t^T k_j                            (H_q, H_k)

Padded positions have alpha = 0, so they get no gradient.

Check with:  scratchlm exercise check attention.py
"""
import numpy as np


def attention_forward(queries, keys, mask, params):
    """Context vectors and attention weights of every query over the keys ("general" score).

    Args:
        queries: (B, T, H_q).  keys: (B, S, H_k).
        mask: (B, S) bool, True on real source positions (at least one per row).
        params: {"weight": (H_q, H_k)}.

    Returns:
        context: (B, T, H_k).
        weights: (B, T, S), each row sums to 1, 0 on padding.
    """
    raise NotImplementedError("write this: the scores, the masked softmax over S, then the context")


def attention_backward(dcontext, cache):
    """Gradients of the context with respect to the queries, the keys and W.

    Args:
        dcontext: (B, T, H_k) upstream gradient.
        cache: cache.queries (B, T, H_q), cache.keys (B, S, H_k), cache.weights (B, T, S) alpha,
            cache.params {"weight": (H_q, H_k)} (cache.score is "general"; cache.u is None).

    Returns:
        dqueries: (B, T, H_q), dkeys: (B, S, H_k), dparams: {"weight": (H_q, H_k)}.
    """
    raise NotImplementedError("write this: dalpha, the softmax backward de, then dq, dk (two terms) and dW")
