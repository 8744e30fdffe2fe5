"""Katz back-off against an independent dictionary implementation of the same definition.

The reference is Katz's recursion written one probability at a time over Counters of string
tuples, with the rules documented in scratchlm/ngram/katz.py: Good-Turing ratios for counts
<= k (k lowered until they are valid), the unigram left-over spread over all outcomes, and a
context that would keep everything discounted by 0.5 instead.
"""
from collections import Counter

import pytest

from scratchlm.ngram import fit_ngram

from ngram_corpora import lcg_corpus


def good_turing(n_r, k):
    """{r: d_r} for r <= k, lowering k until every d_r lies in (0, 1]."""
    for kk in range(k, 1, -1):
        if any(n_r[r] == 0 for r in range(1, kk + 2)):
            continue
        common = (kk + 1) * n_r[kk + 1] / n_r[1]
        d = {r: ((r + 1) * n_r[r + 1] / n_r[r] / r - common) / (1 - common) for r in range(1, kk + 1)}
        if all(0 < x <= 1 for x in d.values()):
            return d, kk
    raise AssertionError("the reference corpus must not need the fallback")


def reference_katz(sentences, order, k=5):
    counts = Counter()
    for s in sentences:
        padded = ("<s>",) + tuple(s) + ("</s>",)
        for n in range(1, order + 1):
            for i in range(len(padded) - n + 1):
                counts[padded[i:i + n]] += 1
    del counts[("<s>",)]
    outcomes = sorted({w for s in sentences for w in s} | {"</s>", "<unk>"})
    ratios, ks = {}, []
    for n in range(1, order + 1):
        ratios[n], used = good_turing(Counter(c for g, c in counts.items() if len(g) == n), k)
        ks.append(used)

    def kept(n, c):
        return ratios[n].get(c, 1.0) * c

    total = sum(c for g, c in counts.items() if len(g) == 1)
    leftover = 1 - sum(kept(1, c) for g, c in counts.items() if len(g) == 1) / total

    def p(w, h):
        if not h:
            return kept(1, counts[(w,)]) / total + leftover / len(outcomes)
        n = len(h) + 1
        following = {g[-1]: c for g, c in counts.items() if len(g) == n and g[:-1] == h}
        if not following:
            return p(w, h[1:])
        context_total = sum(following.values())
        discounted = {v: kept(n, c) / context_total for v, c in following.items()}
        if sum(discounted.values()) >= 1:  # every count above k: discount by 0.5 instead
            discounted = {v: (c - 0.5) / context_total for v, c in following.items()}
        if w in discounted:
            return discounted[w]
        alpha = (1 - sum(discounted.values())) / (1 - sum(p(v, h[1:]) for v in following))
        return alpha * p(w, h[1:])

    return p, ks


def test_katz_equals_the_dictionary_reference():
    train = lcg_corpus(300, 300, seed=2)
    model = fit_ngram(train, 3, "katz")
    reference, ks = reference_katz(train, 3)
    assert model.info["k_per_order"] == ks == [3, 5, 5]
    histories = [("<s>",), ("<s>", "w0"), ("w0", "w1"), ("w1", "w8"), ("w0", "w0"), ("zz", "w3"), ("w3",)]
    for h in histories:
        for w in ["w0", "w1", "w8", "w13", "w299", "</s>", "<unk>"]:
            known_h = tuple(t if t in model.vocab or t == "<s>" else "<unk>" for t in h)
            assert model.prob(w, list(h)) == pytest.approx(reference(w, known_h[-2:]), rel=1e-10), (h, w)
