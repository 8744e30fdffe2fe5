"""Relative frequencies: maximum likelihood, and add-alpha (Laplace alpha = 1, Lidstone).

For an n-gram model of order N, with c(h w) counted in the padded training sentences and
c(h) = sum_w c(h w)::

    MLE:        p(w | h) = c(h w) / c(h)
    add-alpha:  p(w | h) = (c(h w) + alpha) / (c(h) + alpha |O|)       (Laplace: alpha = 1)

|O| is the number of outcomes (the vocabulary and ``</s>``; ``<s>`` is never predicted). The
history h is the full N-1 previous tokens, or all of them after ``<s>`` when the sentence has
just begun (so the first word of a trigram model is predicted by the bigram "<s> w").

A history never seen in training gives MLE no answer: c(h) = 0. This package then gives every
word probability 0, so MLE's perplexity on text with unseen n-grams is infinite, reported as
such. Add-alpha gives a never-seen history the uniform distribution 1 / |O|, which is what its
formula gives with c(h) = 0.

Back-off form (model.py): the "full-history" n-grams (order N, or starting with <s>) store the
formula; every shorter n-gram stores the fallback (1 / |O| for add-alpha, 0 for MLE) with no
back-off weight, and a full-history context stores b(h) = alpha |O| / (c(h) + alpha |O|), so
that an unseen word gets b(h) / |O| = alpha / (c(h) + alpha |O|).
"""
from __future__ import annotations

import numpy as np

from scratchlm.ngram.counting import NGramCounts


def _full_history(counts: NGramCounts, n: int) -> np.ndarray:
    """Which n-grams of order n have the longest history the model uses."""
    table = counts.table(n)
    if n == counts.order:
        return np.ones(len(table), dtype=bool)
    return table.starts_with_bos.copy()


def _relative_frequencies(counts: NGramCounts, alpha: float):
    outcomes = counts.num_outcomes
    fallback = 1.0 / outcomes if alpha > 0 else 0.0
    log_prob, log_backoff = [], []
    for n in range(1, counts.order + 1):
        table = counts.table(n)
        c = table.counts.astype(np.float64)
        total = counts.context_sums(n, c)
        full = _full_history(counts, n)
        denominator = total[table.context_rows] + alpha * outcomes
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(full, (c + alpha) / np.where(denominator > 0, denominator, 1.0), fallback)
        if n == 1:
            p = np.where(counts.outcomes, p, 0.0)
        else:
            # the weight of an unseen word after a full-history context h (a row of order n-1)
            context_full = _full_history(counts, n - 1) | (n - 1 == counts.order - 1)
            with np.errstate(divide="ignore"):
                weight = alpha * outcomes / (total + alpha * outcomes) if alpha > 0 else np.ones_like(total)
            log_backoff.append(np.where(context_full & (total > 0), np.log(weight), 0.0))
        with np.errstate(divide="ignore"):
            log_prob.append(np.log(p))
    log_backoff.append(np.zeros(len(counts.table(counts.order))))
    return log_prob, log_backoff


def fit_mle(counts: NGramCounts):
    """Maximum likelihood: p(w | h) = c(h w) / c(h); 0 for anything unseen."""
    log_prob, log_backoff = _relative_frequencies(counts, alpha=0.0)
    return log_prob, log_backoff, {}


def fit_additive(counts: NGramCounts, alpha: float):
    """Add-alpha: p(w | h) = (c(h w) + alpha) / (c(h) + alpha |O|)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)) or not alpha > 0:
        raise ValueError(f"alpha must be a number > 0, got {alpha!r}")
    log_prob, log_backoff = _relative_frequencies(counts, alpha=float(alpha))
    return log_prob, log_backoff, {"alpha": float(alpha)}


def fit_laplace(counts: NGramCounts):
    """Add-one smoothing (Laplace): alpha = 1."""
    return fit_additive(counts, alpha=1.0)


def fit_lidstone(counts: NGramCounts, alpha: float = 0.1):
    """Add-alpha smoothing (Lidstone) with a pseudo-count alpha > 0 (default 0.1)."""
    return fit_additive(counts, alpha=alpha)
