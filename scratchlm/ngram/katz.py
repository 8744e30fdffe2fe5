"""Katz back-off with Good-Turing discounts (Katz 1987).

Good-Turing says an n-gram seen r times should be counted r* = (r + 1) n_{r+1} / n_r times
(n_r = number of n-grams of the order seen exactly r times). Katz trusts large counts and
discounts only r <= k (k = 5), renormalised so that the mass taken equals Good-Turing's
estimate n_1 / (total) of the unseen events::

    d_r = (r*/r - (k+1) n_{k+1} / n_1) / (1 - (k+1) n_{k+1} / n_1)     for 1 <= r <= k,   d_r = 1 above k

    p(w | h) = d_c c(h w) / c(h)                if c(h w) > 0
             = alpha(h) p(w | h')               otherwise
    alpha(h) = (1 - sum_{w: c(h w) > 0} d_c c(h w) / c(h)) / (1 - sum_{w: c(h w) > 0} p(w | h'))

so each context's left-over mass goes to its unseen words in proportion to the lower order.
Raw counts at every order. At the bottom, the unigram left-over mass is spread evenly over
all |O| outcomes (the vocabulary and ``</s>``): p(w) = d_c c(w) / N + left-over / |O|, so
that a word never seen in training (``<unk>``) still has a probability.

Where the textbook recipe breaks on real data, with what we do (documented, tested):

* some n_r (r <= k + 1) is 0, or a d_r falls outside (0, 1]: k is lowered until the d_r are
  valid (k >= 2 is needed: with k = 1, d_1 = 0); if no k works, that order discounts every
  count by 0.5 (d_r = (r - 0.5) / r).
* a context whose every continuation was seen more than k times keeps no mass for unseen
  words; its counts are discounted by 0.5 instead, so no word gets probability zero.
* a context after which every outcome was seen leaves nothing for alpha to give; its
  discounted probabilities are renormalised to sum to 1.
"""
from __future__ import annotations

import warnings

import numpy as np

from scratchlm.ngram.counting import NGramCounts, counts_of_counts

FALLBACK_DISCOUNT = 0.5


def good_turing_ratios(counts_of_order: np.ndarray, k: int, order: int) -> tuple[np.ndarray, int]:
    """d_r for r = 0..k (d_0 unused), with k lowered until valid; and the k used (0: fallback).

    Returns an array ``ratio`` such that an n-gram of count c keeps ratio[min(c, k+1)] * c, with
    ratio[k+1] = 1 (counts above k are not discounted).
    """
    n_r = counts_of_counts(counts_of_order, k + 1).astype(np.float64)
    for kk in range(k, 1, -1):
        if not np.all(n_r[1:kk + 2] > 0):
            continue
        r = np.arange(1, kk + 1, dtype=np.float64)
        r_star = (r + 1) * n_r[2:kk + 2] / n_r[1:kk + 1]
        common = (kk + 1) * n_r[kk + 1] / n_r[1]
        d = (r_star / r - common) / (1 - common)
        if np.all((d > 0) & (d <= 1)):
            return np.concatenate([[1.0], d, np.ones(k + 1 - kk)]), kk
    warnings.warn(f"Katz: Good-Turing discounts of order {order} cannot be estimated (counts of counts "
                  f"{n_r[1:].astype(int).tolist()}); discounting every count of that order by {FALLBACK_DISCOUNT}",
                  stacklevel=4)
    return np.array([1.0] + [(r - FALLBACK_DISCOUNT) / r for r in range(1, k + 2)]), 0


def fit_katz(counts: NGramCounts, k: int = 5):
    """Katz back-off; ``k``: counts above k are not discounted."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    probs, log_backoff, ks = [], [], []
    for n in range(1, counts.order + 1):
        table = counts.table(n)
        c = table.counts.astype(np.float64)
        ratio, used_k = good_turing_ratios(table.counts[table.counts > 0], k, n)
        ks.append(used_k)
        if used_k == 0:
            # the fallback discounts every count, so ratio must apply above k too
            kept = np.maximum(c - FALLBACK_DISCOUNT, 0.0)
        else:
            kept = ratio[np.minimum(table.counts, k + 1)] * c
        total = counts.context_sums(n, c)
        safe_total = np.where(total > 0, total, 1.0)
        if n == 1:
            p = kept / safe_total[0]
            p = np.where(counts.outcomes, p + (1.0 - p.sum()) / counts.num_outcomes, 0.0)
            probs.append(p)
            continue
        # contexts that kept everything: discount by 0.5 instead
        kept_sum = counts.context_sums(n, kept)
        greedy = (total > 0) & (kept_sum >= total)
        kept = np.where(greedy[table.context_rows], np.maximum(c - FALLBACK_DISCOUNT, 0.0), kept)
        p = kept / safe_total[table.context_rows]
        seen_mass = counts.context_sums(n, p)
        lower_mass = counts.context_sums(n, probs[-1][table.suffix_rows])
        is_context = total > 0
        # after such a context every outcome was seen: nothing is left for alpha to weigh
        nothing_unseen = is_context & (lower_mass >= 1.0 - 1e-12)
        p = np.where(nothing_unseen[table.context_rows],
                     p / np.where(seen_mass > 0, seen_mass, 1.0)[table.context_rows], p)
        alpha = np.where(is_context & ~nothing_unseen,
                         (1.0 - seen_mass) / np.where(nothing_unseen, 1.0, 1.0 - lower_mass), 1.0)
        log_backoff.append(np.log(np.maximum(alpha, np.finfo(float).tiny)))
        probs.append(p)
    log_backoff.append(np.zeros(len(counts.table(counts.order))))
    with np.errstate(divide="ignore"):
        log_prob = [np.log(p) for p in probs]
    return log_prob, log_backoff, {"k_per_order": ks}
