"""Solutions: bigram probabilities with add-k, linear interpolation and interpolated Kneser-Ney.

counts[h, w]: rows h = the W words then <s> (row W); columns w = the W words then </s> (column W).
"""
import numpy as np


def add_k_probs(counts, k):
    """p(w | h) = (c(h w) + k) / (c(h) + k |O|), |O| = counts.shape[1]."""
    return (counts + k) / (counts.sum(axis=1, keepdims=True) + k * counts.shape[1])


def interpolated_probs(counts, lambdas):
    """p1(w) = l1 c(w) / N + (1 - l1) / |O|;  p(w | h) = l2 c(h w) / c(h) + (1 - l2) p1(w), or p1(w) if c(h) = 0."""
    lambda1, lambda2 = lambdas
    outcomes = counts.shape[1]
    unigram = counts.sum(axis=0)
    p1 = lambda1 * unigram / unigram.sum() + (1 - lambda1) / outcomes
    totals = counts.sum(axis=1, keepdims=True)
    seen = totals > 0
    p2 = lambda2 * counts / np.where(seen, totals, 1.0) + (1 - lambda2) * p1
    return np.where(seen, p2, p1)


def kneser_ney_probs(counts, discount):
    """Interpolated Kneser-Ney with one discount D at both orders, down to the uniform 1/|O|."""
    outcomes = counts.shape[1]
    continuation = (counts > 0).sum(axis=0).astype(np.float64)  # N1+(. w)
    total = continuation.sum()
    gamma0 = discount * (continuation > 0).sum() / total
    p1 = np.maximum(continuation - discount, 0.0) / total + gamma0 / outcomes
    totals = counts.sum(axis=1, keepdims=True)
    seen = totals > 0
    safe = np.where(seen, totals, 1.0)
    gamma = discount * (counts > 0).sum(axis=1, keepdims=True) / safe
    p2 = np.maximum(counts - discount, 0.0) / safe + gamma * p1
    return np.where(seen, p2, p1)
