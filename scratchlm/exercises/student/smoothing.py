"""Exercises add_k_probs, interpolated_probs and kneser_ney_probs: smoothed bigram probabilities.

Each gets counts[h, w], the bigram counts of a training corpus: rows h are the W words and then
<s> (row W); columns w are the W words and then </s> (column W), the |O| = W + 1 outcomes
(<s> is never predicted). A row of zeros is a context never seen in training. Return P of the
same shape with P[h, w] = p(w | h); every row sums to 1.

add-k (Lidstone; k = 1 is Laplace):
    p(w | h) = (c(h w) + k) / (c(h) + k |O|),      c(h) = sum_w c(h w)

linear interpolation with lambdas (l1, l2), down to the uniform distribution:
    p1(w)    = l1 c(w) / sum_w c(w) + (1 - l1) / |O|,      c(w) = sum_h c(h w) (column sums)
    p(w | h) = l2 c(h w) / c(h) + (1 - l2) p1(w);          p1(w) itself when c(h) = 0

interpolated Kneser-Ney with one discount D at both orders:
    N1+(. w) = number of contexts h with c(h w) > 0            (continuation counts)
    p1(w)    = max(N1+(. w) - D, 0) / sum_w N1+(. w) + gamma0 / |O|,
               gamma0 = D |{w : N1+(. w) > 0}| / sum_w N1+(. w)
    p(w | h) = max(c(h w) - D, 0) / c(h) + gamma(h) p1(w),  gamma(h) = D |{w : c(h w) > 0}| / c(h);
               p1(w) itself when c(h) = 0

Check with:  scratchlm exercise check smoothing.py
"""
import numpy as np


def add_k_probs(counts, k):
    """Args: counts (W + 1, W + 1), k > 0. Returns: P (W + 1, W + 1)."""
    raise NotImplementedError("write this: add k to every count, normalise every row")


def interpolated_probs(counts, lambdas):
    """Args: counts (W + 1, W + 1), lambdas (l1, l2). Returns: P (W + 1, W + 1)."""
    raise NotImplementedError("write this: the unigram mixture p1, then the bigram mixture")


def kneser_ney_probs(counts, discount):
    """Args: counts (W + 1, W + 1), discount D in (0, 1]. Returns: P (W + 1, W + 1)."""
    raise NotImplementedError("write this: continuation counts, the unigram level, then the bigram level")
