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

from scratchlm.ngram.counting import NGramCounts
from scratchlm.ngram.interpolated import interpolate_with_one_discount


def fit_absolute_discounting(counts: NGramCounts, discount=None):
    """Interpolated absolute discounting; ``discount`` fixes D for every order (0 < D <= 1)."""
    return interpolate_with_one_discount(counts, [table.counts for table in counts.tables], discount, "absolute discounting")
