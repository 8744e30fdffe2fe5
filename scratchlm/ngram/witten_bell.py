"""Witten-Bell smoothing, interpolated (Witten & Bell 1991; Chen & Goodman 1998, eq. 8).

How much should a context trust its own counts? Witten and Bell's answer: as much as it has
seen *repeats*. Every time a word followed h for the first time, the lower order "had to" supply
a new word; so the weight given to the lower order is the share of first times among all the
events after h::

    p(w | h) = ( c(h w) + N1+(h .) p(w | h') ) / ( c(h .) + N1+(h .) )
             = (1 - gamma(h)) c(h w) / c(h .)  +  gamma(h) p(w | h')
    gamma(h) = N1+(h .) / ( c(h .) + N1+(h .) )

with c(h .) = sum_w c(h w) the number of tokens seen after h, N1+(h .) = |{w : c(h w) > 0}| the
number of distinct ones, and h' the context h without its first word. A context that always
continues the same way (N1+ = 1, c = 100) keeps 100/101 of its mass; one where nearly every
token is new (N1+ = 9, c = 10) hands 9/19 to the lower order. Raw counts at every order; the
unigrams are interpolated the same way with the uniform distribution over the |O| outcomes (the
vocabulary and ``</s>``)::

    p(w) = ( c(w) + N1+(.) / |O| ) / ( c(.) + N1+(.) )

so no word ever has probability zero. A context never seen has no row and backs off with weight
1 (gamma = 1), i.e. p(w | h) = p(w | h').

Difference from NLTK's ``WittenBellInterpolated``: NLTK stops the recursion at the maximum
likelihood unigram c(w) / c(.) (an unseen word gets probability 0) and counts the padding
markers ``<s>``/``</s>`` as unigrams; here the unigrams are themselves Witten-Bell-interpolated
with the uniform distribution and ``<s>`` is never an outcome. Every order above the unigram
follows the same formula as NLTK's.
"""
from __future__ import annotations

import numpy as np

from scratchlm.ngram.counting import NGramCounts


def fit_witten_bell(counts: NGramCounts):
    """Interpolated Witten-Bell probabilities and back-off weights of every n-gram.

    Args:
        counts: the corpus tables.
    Returns:
        (log_prob, log_backoff, info): N float64 arrays each, bottom order first, in the back-off
        form of :class:`~scratchlm.ngram.model.NGramLM` (the stored p* is the whole interpolated
        sum and the back-off weight of h is gamma(h)); info["mean_gamma"] is the average
        gamma over the contexts of each order, lowest first.
    """
    probs, log_backoff, mean_gamma = [], [], []
    for n in range(1, counts.order + 1):
        table = counts.table(n)
        c = np.asarray(table.counts, dtype=np.float64)
        seen_after = counts.context_sums(n, c)                                   # c(h .)
        distinct_after = counts.context_count_of_counts(n, c, 1, or_more=True)  # N1+(h .)
        is_context = seen_after > 0
        denominator = np.where(is_context, seen_after + distinct_after, 1.0)
        gamma = np.where(is_context, distinct_after / denominator, 1.0)
        if n == 1:
            lower = np.where(counts.outcomes, 1.0 / counts.num_outcomes, 0.0)
        else:
            lower = probs[-1][table.suffix_rows]
            log_backoff.append(np.log(gamma))
        p = c / denominator[table.context_rows] + gamma[table.context_rows] * lower
        if n == 1:
            p = np.where(counts.outcomes, p, 0.0)
        probs.append(p)
        mean_gamma.append(float(gamma[is_context].mean()) if is_context.any() else 1.0)
    log_backoff.append(np.zeros(len(counts.table(counts.order))))
    with np.errstate(divide="ignore"):
        return [np.log(p) for p in probs], log_backoff, {"mean_gamma": mean_gamma}
