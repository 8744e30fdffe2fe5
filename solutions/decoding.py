"""Solutions: temperature, top-k and top-p filtering, and sampling by the inverse CDF."""
import numpy as np


def filter_probs(logits, temperature, top_k, top_p):
    """p = softmax(z / T); keep tokens >= the k-th largest; keep tokens before which the mass is < p; renormalise."""
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    probs = np.exp(z)
    probs /= probs.sum(axis=1, keepdims=True)
    if top_k is not None:
        kth = np.sort(probs, axis=1)[:, ::-1][:, min(top_k, probs.shape[1]) - 1][:, None]
        probs = np.where(probs >= kth, probs, 0.0)
        probs /= probs.sum(axis=1, keepdims=True)
    if top_p is not None:
        order = np.argsort(-probs, axis=1, kind="stable")
        ranked = np.take_along_axis(probs, order, axis=1)
        before = np.cumsum(ranked, axis=1) - ranked  # the mass of the tokens ranked above each one
        keep = np.zeros_like(probs, dtype=bool)
        np.put_along_axis(keep, order, before < top_p, axis=1)
        probs = np.where(keep, probs, 0.0)
        probs /= probs.sum(axis=1, keepdims=True)
    return probs


def sample_tokens(probs, rng):
    """One id per row: the first i whose cumulative probability exceeds u ~ U[0, 1)."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random((probs.shape[0], 1)) * cdf[:, -1:]
    ids = (cdf <= u).sum(axis=1)
    last_possible = probs.shape[1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=1)
    return np.minimum(ids, last_possible)
