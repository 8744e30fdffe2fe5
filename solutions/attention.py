"""Solutions: Luong's "general" attention with a source mask, forward and backward."""
import numpy as np


def attention_forward(queries, keys, mask, params):
    """e = q W k^T; alpha = softmax of e over the real source positions; c = alpha k."""
    scores = queries @ (keys @ params["weight"].T).transpose(0, 2, 1)
    scores = np.where(mask[:, None, :], scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ keys, weights


def attention_backward(dcontext, cache):
    """dalpha = dc k^T; de = alpha (dalpha - sum_j alpha dalpha); dq = de (k W^T);
    with P = de^T q (B, S, H_q): dk = alpha^T dc + P W and dW = sum over b, j of P_bj^T k_bj."""
    queries, keys, weights, weight = cache.queries, cache.keys, cache.weights, cache.params["weight"]
    dweights = dcontext @ keys.transpose(0, 2, 1)
    dscores = weights * (dweights - (weights * dweights).sum(axis=-1, keepdims=True))
    dqueries = dscores @ (keys @ weight.T)
    dprojected = dscores.transpose(0, 2, 1) @ queries
    dkeys = weights.transpose(0, 2, 1) @ dcontext + dprojected @ weight
    dweight = dprojected.reshape(-1, dprojected.shape[-1]).T @ keys.reshape(-1, keys.shape[-1])
    return dqueries, dkeys, {"weight": dweight}
