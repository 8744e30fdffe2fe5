"""Modified Kneser-Ney against an independent dictionary implementation, and against KenLM.

The reference below is Chen & Goodman's recursion written as directly as possible (Counters of
string tuples, one probability at a time); the package computes the same numbers with sorted
arrays. The KenLM numbers were produced by KenLM 0.3.0's lmplz and query on the corpus
``lcg_corpus(1000, 1000, seed=1)`` (train) and ``lcg_corpus(100, 1000, seed=7)`` (test, 11 OOV
words), written one sentence per line::

    lmplz -o N -S 200M < train.txt > lm.arpa        (no --discount_fallback needed)
    query -v summary lm.arpa < test.txt             -> "Perplexity including OOVs"
"""
from collections import Counter

import numpy as np
import pytest

from scratchlm.ngram import fit_ngram

from ngram_corpora import lcg_corpus


def reference_mkn(sentences, order):
    """p(w | h) of interpolated modified Kneser-Ney, computed the slow, obvious way."""
    counts = Counter()
    for s in sentences:
        padded = ("<s>",) + tuple(s) + ("</s>",)
        for n in range(1, order + 1):
            for i in range(len(padded) - n + 1):
                counts[padded[i:i + n]] += 1
    outcomes = sorted({w for s in sentences for w in s} | {"</s>", "<unk>"})

    left_extensions = Counter(g[1:] for g in counts if len(g) >= 2)  # N1+(. g): one per distinct v g

    def adjusted(g):
        if len(g) == order or g[0] == "<s>":
            return counts[g]
        return left_extensions[g]

    table = {n: {g: adjusted(g) for g in counts if len(g) == n and g != ("<s>",)} for n in range(1, order + 1)}
    discounts = {}
    for n in range(1, order + 1):
        n_r = Counter(a for a in table[n].values() if a > 0)
        y = n_r[1] / (n_r[1] + 2 * n_r[2])
        discounts[n] = [0.0] + [j - (j + 1) * y * n_r[j + 1] / n_r[j] for j in (1, 2, 3)]

    def d(n, a):
        return discounts[n][min(a, 3)]

    def p(w, h):
        n = len(h) + 1
        following = {g[-1]: a for g, a in table[n].items() if g[:-1] == h}
        total = sum(following.values())
        lower = 1 / len(outcomes) if n == 1 else p(w, h[1:])
        if total == 0:
            return lower
        gamma = sum(d(n, a) for a in following.values()) / total
        return max(following.get(w, 0) - d(n, following.get(w, 0)), 0) / total + gamma * lower

    return p, discounts, table


def test_modified_kneser_ney_equals_the_dictionary_reference():
    train = lcg_corpus(300, 300, seed=2)
    model = fit_ngram(train, 3, "mkn")
    assert model.info["fallback_orders"] == []
    reference, discounts, _ = reference_mkn(train, 3)
    for n in (1, 2, 3):
        assert model.info["discounts"][n - 1] == pytest.approx(tuple(discounts[n][1:]), rel=1e-12)
    histories = [("<s>",), ("<s>", "w0"), ("w0", "w1"), ("w1", "w8"), ("w39", "w39"), ("zz", "w3"), ("w3",)]
    words = ["w0", "w1", "w8", "w13", "w39", "w299", "</s>", "<unk>"]
    for h in histories:
        for w in words:
            known_h = tuple(t if t in model.vocab or t == "<s>" else "<unk>" for t in h)
            assert model.prob(w, list(h)) == pytest.approx(reference(w, known_h[-2:]), rel=1e-10), (h, w)


@pytest.mark.parametrize("order, kenlm_perplexity, kenlm_discounts", [
    (2, 28.99617648581492, [(0.308767, 1.35295, 2.34346), (0.740508, 1.21428, 1.1311)]),
    (3, 30.034236228630544, [(0.308767, 1.35295, 2.34346), (0.776486, 1.26757, 1.73894),
                             (0.875481, 1.09744, 1.77433)]),
    (4, 30.65801453095283, [(0.308767, 1.35295, 2.34346), (0.776486, 1.26757, 1.73894),
                            (0.90102, 1.29233, 2.11375), (0.928144, 1.35361, 1.85767)]),
])
def test_matches_kenlm_lmplz(order, kenlm_perplexity, kenlm_discounts):
    model = fit_ngram(lcg_corpus(1000, 1000, seed=1), order, "mkn")
    test = [model.encode(s) for s in lcg_corpus(100, 1000, seed=7)]
    assert sum(t.count(model.vocab.unk_id) for t in test) == 11
    assert model.perplexity(test) == pytest.approx(kenlm_perplexity, rel=1e-6)
    # lmplz prints its discounts with 6 significant digits
    np.testing.assert_allclose(np.array(model.info["discounts"]), np.array(kenlm_discounts), rtol=5e-6)


def test_interpolated_kneser_ney_has_one_discount_per_order():
    train = lcg_corpus(300, 300, seed=2)
    _, _, adjusted = reference_mkn(train, 3)
    model = fit_ngram(train, 3, "kn")
    for n in (1, 2, 3):
        n_r = Counter(a for a in adjusted[n].values() if a > 0)
        assert model.info["discounts"][n - 1] == pytest.approx(n_r[1] / (n_r[1] + 2 * n_r[2]), rel=1e-12)
