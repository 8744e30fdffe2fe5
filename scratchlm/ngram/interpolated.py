"""The recursion shared by the interpolated methods: discount, then interpolate with the lower order.

Absolute discounting, Kneser-Ney and modified Kneser-Ney all have this form (Chen & Goodman
1998, eq. 13 and 17), down to a uniform distribution over the |O| outcomes (the vocabulary and
``</s>``, not ``<s>``) so that no word ever has probability zero::

    p(w | h) = max(a(h w) - D(a(h w)), 0) / a(h .)  +  gamma(h) p(w | h')
    gamma(h) = sum_j D_j N_j(h .) / a(h .)           (the mass the discounts took from h)
    p(w)     = max(a(w) - D(a(w)), 0) / a(.)  +  gamma() / |O|

where a(.) are the counts of the order (raw counts, or Kneser-Ney's adjusted counts), a(h .) =
sum_w a(h w), N_j(h .) = |{w : a(h w) = j}| (the last j meaning "j or more"), and the discount
D(a) is looked up in a small table per order: D = [0, D] for one discount, [0, D1, D2, D3+] for
modified Kneser-Ney.

In back-off form (model.py) the stored p*(h w) is the whole sum above and b(h) = gamma(h); a
context h that never occurs has no row, and falls through to h' with weight 1, as it should.
"""
from __future__ import annotations

import warnings

import numpy as np

from scratchlm.ngram.counting import NGramCounts, counts_of_counts

# The discounts used where the data cannot estimate them (KenLM's --discount_fallback): D1, D2, D3+.
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)


def interpolate_discounted(counts: NGramCounts, ngram_counts: list[np.ndarray], discounts: list[np.ndarray]):
    """Interpolated probabilities and back-off weights of every n-gram, bottom order first.

    Args:
        counts: the corpus tables (contexts, suffixes, outcomes).
        ngram_counts: N arrays, a(g) for every row of each order's table (int).
        discounts: N arrays [0, D_1, .., D_k] per order; D_k applies to every count >= k.
    Returns:
        (log_prob, log_backoff): two lists of N float64 arrays, one value per table row.
    """
    probs, log_backoff = [], []
    for n in range(1, counts.order + 1):
        table = counts.table(n)
        a = np.asarray(ngram_counts[n - 1], dtype=np.float64)
        discount = np.asarray(discounts[n - 1], dtype=np.float64)
        largest = len(discount) - 1
        kept = np.maximum(a - discount[np.minimum(a, largest).astype(np.int64)], 0.0)
        taken = np.zeros(counts.num_rows(n - 1))
        for j in range(1, largest + 1):
            taken += discount[j] * counts.context_count_of_counts(n, a, j, or_more=j == largest)
        total = counts.context_sums(n, a)
        is_context = total > 0
        safe_total = np.where(is_context, total, 1.0)
        gamma = np.where(is_context, taken / safe_total, 1.0)
        if n == 1:
            lower = np.where(counts.outcomes, 1.0 / counts.num_outcomes, 0.0)
        else:
            lower = probs[-1][table.suffix_rows]
            log_backoff.append(np.log(gamma))
        p = kept / safe_total[table.context_rows] + gamma[table.context_rows] * lower
        if n == 1:
            p = np.where(counts.outcomes, p, 0.0)
        probs.append(p)
    log_backoff.append(np.zeros(len(counts.table(counts.order))))
    with np.errstate(divide="ignore"):
        return [np.log(p) for p in probs], log_backoff


def single_discount(counts_of_order: np.ndarray, order: int, what: str) -> tuple[np.ndarray, bool]:
    """[0, D] with D = n_1 / (n_1 + 2 n_2), or the fallback D = 0.5 when n_1 = 0."""
    n_r = counts_of_counts(counts_of_order, 2)
    if n_r[1] > 0:
        return np.array([0.0, n_r[1] / (n_r[1] + 2.0 * n_r[2])]), False
    warnings.warn(f"{what}: no n-gram of order {order} has count 1, so D = n1 / (n1 + 2 n2) is 0; "
                  f"using the fallback D = {FALLBACK_DISCOUNTS[0]}", stacklevel=4)
    return np.array([0.0, FALLBACK_DISCOUNTS[0]]), True


def interpolate_with_one_discount(counts: NGramCounts, ngram_counts: list[np.ndarray], discount, what: str):
    """The interpolated recursion with one discount D per order, estimated or fixed.

    Shared by absolute discounting (``ngram_counts`` = raw counts) and Kneser-Ney (``ngram_counts``
    = adjusted counts: continuation counts below the highest order).

    Args:
        ngram_counts: one count array per order, lowest first.
        discount: None to estimate D = n_1 / (n_1 + 2 n_2) per order, or a fixed D in (0, 1].
        what: the method's name, for messages.
    Returns:
        (log_prob, log_backoff, info) with info["discounts"] = one D per order, lowest first,
        and info["fallback_orders"] = the orders whose D could not be estimated.
    """
    if discount is not None and not 0 < float(discount) <= 1:
        raise ValueError(f"the {what} discount must lie in (0, 1], got {discount!r}")
    tables, fallback = [], []
    for n, c in enumerate(ngram_counts, start=1):
        if discount is not None:
            tables.append(np.array([0.0, float(discount)]))
            continue
        d, fell_back = single_discount(c, n, what)
        tables.append(d)
        if fell_back:
            fallback.append(n)
    log_prob, log_backoff = interpolate_discounted(counts, ngram_counts, tables)
    return log_prob, log_backoff, {"discounts": [float(d[1]) for d in tables], "fallback_orders": fallback}
