"""Stupid backoff (Brants et al. 2007): fast, simple scores that are NOT probabilities.

    S(w | h) = c(h w) / c(h)            if c(h w) > 0
             = alpha * S(w | h')        otherwise (alpha = 0.4)
    S(w)     = c(w) / (number of predicted tokens)

No discounting: the seen words of a context already take all of its mass, and alpha is paid on
top, so the scores of a context sum to more than 1. It is meant for ranking with huge corpora,
not for perplexity; a "perplexity" of these scores is printed only to compare, and flagged.
Every back-off step costs alpha, including steps past contexts absent from the tables.
"""
from __future__ import annotations

import math

import numpy as np

from scratchlm.ngram.counting import NGramCounts


def fit_stupid_backoff(counts: NGramCounts, alpha: float = 0.4):
    """Relative frequencies at every order, and log alpha as every back-off weight."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)) or not 0 < alpha <= 1:
        raise ValueError(f"the stupid-backoff factor alpha must lie in (0, 1], got {alpha!r}")
    log_prob, log_backoff = [], []
    for n in range(1, counts.order + 1):
        table = counts.table(n)
        c = table.counts.astype(np.float64)
        total = counts.context_sums(n, c)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_prob.append(np.log(c / total[table.context_rows]))
        log_backoff.append(np.full(len(table), math.log(alpha) if n < counts.order else 0.0))
    return log_prob, log_backoff, {"alpha": float(alpha), "unseen_context_log_backoff": math.log(alpha)}
