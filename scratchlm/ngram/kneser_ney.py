"""Kneser-Ney smoothing: interpolated (one discount per order) and modified (three per order).

Kneser & Ney (1995) noticed that a lower order matters only when the higher order has little
to say, so the lower order should predict how *many different contexts* a word completes, not
how often it occurs ("Francisco" is frequent but follows only "San"). Every order below the
top therefore counts with adjusted counts (Chen & Goodman 1998; KenLM's ``lmplz``)::

    a(g) = c(g)                       if g has the top order N, or starts with <s>
         = N1+(. g) = |{v : c(v g) > 0}|   otherwise (the number of distinct left extensions)

(nothing can precede ``<s>``, so an n-gram starting a sentence keeps its raw count), and the
probabilities follow the interpolated recursion of :mod:`scratchlm.ngram.interpolated`, down to
the uniform distribution over the vocabulary and ``</s>``.

Discounts are estimated per order n from the counts of counts n_r of the adjusted counts
(n_r = how many n-grams of order n have a(g) = r):

* interpolated KN (``kn``), Ney et al. 1994:  D = n_1 / (n_1 + 2 n_2)
* modified KN (``mkn``), Chen & Goodman 1998 eq. 26, with Y = n_1 / (n_1 + 2 n_2):
      D_1 = 1 - 2 Y n_2 / n_1,   D_2 = 2 - 3 Y n_3 / n_2,   D_3+ = 3 - 4 Y n_4 / n_3
  a count of 1 loses D_1, of 2 loses D_2, of 3 or more loses D_3+;
  gamma(h) = (D_1 N_1(h .) + D_2 N_2(h .) + D_3+ N_3+(h .)) / a(h .).

This is exactly what KenLM's lmplz estimates (its defaults: no pruning, unigrams interpolated
with the uniform distribution over every word but ``<s>``).

Toy corpora: on small or artificial data some n_r is 0 (no n-gram seen exactly twice, say), or
a discount falls outside [0, j]; the formula is then meaningless (KenLM stops with
"BadDiscountException" unless given ``--discount_fallback``). Here, as with that flag, the
order gets the fallback discounts D_1, D_2, D_3+ = 0.5, 1.0, 1.5 (``kn``: D = 0.5), and a
warning says so.
"""
from __future__ import annotations

import warnings

import numpy as np

from scratchlm.ngram.counting import NGramCounts, counts_of_counts
from scratchlm.ngram.interpolated import (
    FALLBACK_DISCOUNTS,
    interpolate_discounted,
    interpolate_with_one_discount,
)



def adjusted_counts(counts: NGramCounts) -> list[np.ndarray]:
    """Kneser-Ney's a(g) for every row of every order (raw at the top and after <s>)."""
    adjusted = []
    for n in range(1, counts.order + 1):
        table = counts.table(n)
        if n == counts.order:
            adjusted.append(table.counts.copy())
        else:
            adjusted.append(np.where(table.starts_with_bos, table.counts, counts.left_extension_counts(n)))
    return adjusted


def modified_discounts(adjusted: np.ndarray, order: int) -> tuple[np.ndarray, bool]:
    """[0, D_1, D_2, D_3+] of one order from its counts of counts, and whether it fell back.

    Args:
        adjusted: the adjusted counts a(g) of every n-gram of the order.
        order: n, only for the warning.
    """
    n_r = counts_of_counts(adjusted, 4).astype(np.float64)
    if np.all(n_r[1:4] > 0):
        y = n_r[1] / (n_r[1] + 2 * n_r[2])
        d = np.array([0.0] + [j - (j + 1) * y * n_r[j + 1] / n_r[j] for j in (1, 2, 3)])
        if all(0 <= d[j] <= j for j in (1, 2, 3)):
            return d, False
        why = f"a discount is out of range (D1, D2, D3+ = {d[1]:.4g}, {d[2]:.4g}, {d[3]:.4g})"
    else:
        why = f"counts of counts n1..n3 = {n_r[1]:.0f}, {n_r[2]:.0f}, {n_r[3]:.0f} include a zero"
    warnings.warn(f"modified Kneser-Ney: cannot estimate the discounts of order {order} ({why}); using the fallback "
                  f"D1, D2, D3+ = {FALLBACK_DISCOUNTS}, as KenLM's --discount_fallback does", stacklevel=4)
    return np.array((0.0,) + FALLBACK_DISCOUNTS), True


def fit_modified_kneser_ney(counts: NGramCounts, discounts=None):
    """Modified Kneser-Ney (Chen & Goodman 1998), KenLM lmplz's model.

    Args:
        counts: the corpus tables.
        discounts: optional list of N triples (D_1, D_2, D_3+), lowest order first, to use
            instead of the estimates.
    Returns:
        (log_prob, log_backoff, info) with info["discounts"] = N triples, lowest order first,
        and info["fallback_orders"] = the orders whose discounts fell back.
    """
    adjusted = adjusted_counts(counts)
    if discounts is not None:
        if len(discounts) != counts.order or any(len(d) != 3 for d in discounts):
            raise ValueError(f"discounts must be {counts.order} triples (D1, D2, D3+), lowest order first")
        tables, fallback = [np.array((0.0, *map(float, d))) for d in discounts], []
    else:
        tables, fallback = [], []
        for n, a in enumerate(adjusted, start=1):
            d, fell_back = modified_discounts(a, n)
            tables.append(d)
            if fell_back:
                fallback.append(n)
    log_prob, log_backoff = interpolate_discounted(counts, adjusted, tables)
    info = {"discounts": [tuple(float(x) for x in d[1:]) for d in tables], "fallback_orders": fallback}
    return log_prob, log_backoff, info


def fit_kneser_ney(counts: NGramCounts, discount=None):
    """Interpolated Kneser-Ney with one discount per order, D = n_1 / (n_1 + 2 n_2).

    Args:
        discount: optional fixed D for every order (0 < D <= 1), instead of the estimates.
    Returns:
        (log_prob, log_backoff, info) with info["discounts"] = one D per order, lowest first.
    """
    adjusted = adjusted_counts(counts)
    return interpolate_with_one_discount(counts, adjusted, discount, "Kneser-Ney")
