"""Absolute discounting, interpolated (Ney, Essen & Kneser 1994).

Subtract a fixed D from every seen count and give the mass taken to the lower order::

    p(w | h) = max(c(h w) - D, 0) / c(h)  +  D N1+(h .) / c(h) * p(w | h')

with N1+(h .) the number of distinct words seen after h, raw counts at every order, down to the
uniform distribution over the vocabulary and ``</s>`` (the recursion is
scratchlm.ngram.interpolated). D is estimated per order as D = n_1 / (n_1 + 2 n_2) from the
counts of counts (n_r = number of n-grams seen exactly r times). Kneser-Ney is this same
recursion with the lower orders' counts replaced by continuation counts.
"""
from __future__ import annotations

import numpy as np

from scratchlm.ngram.counting import NGramCounts
from scratchlm.ngram.interpolated import interpolate_discounted
from scratchlm.ngram.kneser_ney import single_discount


def fit_absolute_discounting(counts: NGramCounts, discount=None):
    """Interpolated absolute discounting; ``discount`` fixes D for every order (0 < D <= 1)."""
    if discount is not None and not 0 < float(discount) <= 1:
        raise ValueError(f"the absolute discount must lie in (0, 1], got {discount!r}")
    raw = [table.counts for table in counts.tables]
    tables, fallback = [], []
    for n, c in enumerate(raw, start=1):
        if discount is not None:
            tables.append(np.array([0.0, float(discount)]))
            continue
        d, fell_back = single_discount(c, n, "absolute discounting")
        tables.append(d)
        if fell_back:
            fallback.append(n)
    log_prob, log_backoff = interpolate_discounted(counts, raw, tables)
    return log_prob, log_backoff, {"discounts": [float(d[1]) for d in tables], "fallback_orders": fallback}
