"""Every method on the toy corpus, with the expected probabilities derived by hand.

Toy corpus (ngram_corpora.TOY), padded::   <s> a b </s>    <s> a c </s>    <s> b a </s>

    unigram counts (outcomes only):  a 3, b 2, c 1, </s> 3, <unk> 0;  N = 9;  |O| = 5
    bigram counts:  <s> a 2, <s> b 1, a b 1, a c 1, a </s> 1, b </s> 1, b a 1, c </s> 1
    context totals: c(<s>) = 3, c(a) = 3, c(b) = 2, c(c) = 1
    Kneser-Ney unigram adjusted counts N1+(. w):  a 2 (<s>, b), b 2 (<s>, a), c 1 (a), </s> 3 (a, b, c)
"""
import math
import warnings

import numpy as np
import pytest

from scratchlm.ngram import fit_ngram
from scratchlm.ngram.counting import NGramCounts
from scratchlm.ngram.katz import good_turing_ratios
from scratchlm.ngram.kneser_ney import modified_discounts
from scratchlm.ngram.linear_interpolation import interpolate_with_lambdas
from scratchlm.ngram.fit import encode_sentences

from ngram_corpora import TOY


def fit(method, order=2, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_ngram(TOY, order, method, **options)


def test_mle():
    m = fit("mle")
    assert m.prob("b", ["<s>", "a"]) == pytest.approx(1 / 3)   # c(a b) / c(a) = 1/3
    assert m.prob("a", ["<s>"]) == pytest.approx(2 / 3)        # c(<s> a) / c(<s>) = 2/3
    assert m.prob("</s>", ["c"]) == pytest.approx(1.0)         # c(c </s>) / c(c) = 1/1
    assert m.prob("c", ["b"]) == 0.0                           # unseen bigram
    assert fit("mle", order=1).prob("a") == pytest.approx(3 / 9)  # c(a) / N


def test_laplace_and_lidstone():
    m = fit("laplace")
    assert m.prob("b", ["a"]) == pytest.approx(2 / 8)          # (1 + 1) / (3 + 5)
    assert m.prob("a", ["<s>"]) == pytest.approx(3 / 8)        # (2 + 1) / (3 + 5)
    assert m.prob("c", ["b"]) == pytest.approx(1 / 7)          # (0 + 1) / (2 + 5)
    assert m.prob("a", ["zzz"]) == pytest.approx(1 / 5)        # unseen context (<unk>): uniform
    assert fit("laplace", order=1).prob("c") == pytest.approx(2 / 14)  # (1 + 1) / (9 + 5)
    l = fit("lidstone", alpha=0.5)
    assert l.prob("b", ["a"]) == pytest.approx(1.5 / 5.5)      # (1 + .5) / (3 + .5 * 5)


def test_laplace_trigram_uses_the_bigram_after_s():
    m = fit("laplace", order=3)
    assert m.prob("a", ["<s>"]) == pytest.approx(3 / 8)        # first word: c(<s> a) + 1 over c(<s>) + 5
    assert m.prob("b", ["<s>", "a"]) == pytest.approx(2 / 7)   # (c(<s> a b) + 1) / (c(<s> a) + 5) = 2/7
    assert m.prob("a", ["b", "b"]) == pytest.approx(1 / 5)     # unseen context b b: uniform


def test_absolute_discounting():
    m = fit("absdisc", discount=0.5)
    # p1(w) = max(c(w) - .5, 0)/9 + (.5 * 4 types / 9) / 5 = max(c - .5, 0)/9 + 2/45
    # p1(b) = 1.5/9 + 2/45 = 19/90;  p1(c) = .5/9 + 2/45 = 1/10;  p1(<unk>) = 2/45
    assert m.prob("<unk>", ["zz"]) == pytest.approx(2 / 45)   # context <unk> was never seen: p1(<unk>)
    assert fit("absdisc", order=1, discount=0.5).prob("c") == pytest.approx(1 / 10)
    # p(b | a) = (1 - .5)/3 + (.5 * 3 / 3) * p1(b) = 1/6 + 19/180 = 49/180
    assert m.prob("b", ["a"]) == pytest.approx(49 / 180)
    # p(c | b) unseen = gamma(b) p1(c) = (.5 * 2 / 2) * 1/10 = 1/20
    assert m.prob("c", ["b"]) == pytest.approx(1 / 20)


def test_kneser_ney_with_a_fixed_discount():
    m = fit("kn", discount=0.5)
    # p1(w) = max(N1+(. w) - .5, 0)/8 + (.5 * 4 / 8)/5:  p1(a) = p1(b) = 1.5/8 + .05 = .2375,
    # p1(c) = .5/8 + .05 = .1125, p1(<unk>) = .05
    # p(b | a) = (1 - .5)/3 + (.5 * 3/3) * .2375 = 1/6 + .11875
    assert m.prob("b", ["a"]) == pytest.approx(1 / 6 + 0.11875)
    # p(c | b) unseen = (.5 * 2/2) * .1125
    assert m.prob("c", ["b"]) == pytest.approx(0.05625)
    # p(a | <s>) = (2 - .5)/3 + (.5 * 2/3) * .2375
    assert m.prob("a", ["<s>"]) == pytest.approx(0.5 + 0.2375 / 3)
    assert m.prob("<unk>", ["c"]) == pytest.approx(0.5 * 0.05)  # gamma(c) = .5 * 1/1


def test_modified_kneser_ney_with_given_discounts():
    m = fit("mkn", discounts=[(0.5, 1.0, 1.5), (0.4, 0.8, 1.2)])
    # unigram: adjusted a 2, b 2, c 1, </s> 3, total 8;
    # gamma() = (.5 * 1 + 1.0 * 2 + 1.5 * 1) / 8 = .5, so .5 / 5 = .1 of uniform mass for each outcome
    # p1(a) = p1(b) = (2 - 1)/8 + .1 = .225;  p1(c) = .5/8 + .1 = .1625;  p1(</s>) = 1.5/8 + .1 = .2875
    assert m.prob("a", ["zz"]) == pytest.approx(0.225)   # zz -> <unk>, never a context: falls to p1
    assert m.prob("</s>", ["zz"]) == pytest.approx(0.2875)
    assert m.prob("<unk>", ["zz"]) == pytest.approx(0.1)
    # after <s>: a 2 (loses D2 = .8), b 1 (loses D1 = .4); total 3; gamma = (.4 + .8)/3 = .4
    assert m.prob("a", ["<s>"]) == pytest.approx((2 - 0.8) / 3 + 0.4 * 0.225)   # .49
    assert m.prob("b", ["<s>"]) == pytest.approx((1 - 0.4) / 3 + 0.4 * 0.225)   # .29
    assert m.prob("c", ["<s>"]) == pytest.approx(0.4 * 0.1625)                 # .065


def test_modified_discount_formula():
    # n1..n4 = 4, 2, 1, 1 -> Y = 4 / (4 + 2*2) = .5
    # D1 = 1 - 2 Y n2/n1 = .5;  D2 = 2 - 3 Y n3/n2 = 1.25;  D3+ = 3 - 4 Y n4/n3 = 1.0
    adjusted = np.array([1, 1, 1, 1, 2, 2, 3, 4, 7])
    d, fell_back = modified_discounts(adjusted, order=1)
    assert not fell_back
    assert d.tolist() == pytest.approx([0.0, 0.5, 1.25, 1.0])


def test_bad_discounts_fall_back_like_kenlm_discount_fallback():
    # the toy bigram adjusted counts are 2,1,1,1,1,1,1,1: n3 = 0, so D2 cannot be estimated
    with pytest.warns(UserWarning, match="fallback"):
        m = fit_ngram(TOY, 2, "mkn")
    assert m.info["fallback_orders"] == [2]
    assert m.info["discounts"][1] == (0.5, 1.0, 1.5)
    # unigram: n1..n4 = 1, 2, 1, 0 (c; a, b; </s>): Y = 1/5, D1 = 1 - 2(.2)(2) = .2,
    # D2 = 2 - 3(.2)(1/2) = 1.7, D3+ = 3 - 0 = 3 (valid, as lmplz prints: D1=0.2 D2=1.7 D3+=3)
    assert m.info["discounts"][0] == pytest.approx((0.2, 1.7, 3.0))


def test_kenlm_discount_fallback_perplexity():
    # lmplz -o 2 --discount_fallback on the toy corpus, then KenLM's query on the two lines
    # "a b" and "c a a": "Perplexity including OOVs: 4.98333327060912" (KenLM 0.3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = fit_ngram(TOY, 2, "mkn")
    assert m.perplexity([m.encode(["a", "b"]), m.encode(["c", "a", "a"])]) == pytest.approx(4.98333327060912, rel=1e-6)


def test_stupid_backoff():
    m = fit("stupid")
    assert m.prob("b", ["a"]) == pytest.approx(1 / 3)          # c(a b) / c(a)
    assert m.prob("c", ["b"]) == pytest.approx(0.4 * 1 / 9)    # .4 * c(c) / N
    assert not m.is_distribution


def test_linear_interpolation_with_fixed_lambdas():
    ids, vocab = encode_sentences(TOY, None, None)
    counts = NGramCounts(ids, 2, len(vocab), vocab.bos_id, vocab.eos_id, never_predicted=[vocab.pad_id])
    log_prob, _ = interpolate_with_lambdas(counts, np.array([0.8, 0.6]))
    # p1(b) = .8 * 2/9 + .2 / 5 = 0.21777..;  p(b | a) = .6 * 1/3 + .4 * p1(b)
    p1_b = 0.8 * 2 / 9 + 0.2 / 5
    row = int(np.flatnonzero(counts.table(2).keys == vocab.stoi["a"] * len(vocab) + vocab.stoi["b"])[0])
    assert math.exp(log_prob[1][row]) == pytest.approx(0.6 / 3 + 0.4 * p1_b)
    assert math.exp(log_prob[0][vocab.stoi["b"]]) == pytest.approx(p1_b)


def test_katz_good_turing_ratios():
    # n1, n2, n3 = 10, 4, 2 and k = 2:  common = (k+1) n3 / n1 = .6
    # r = 1: r* = 2 * 4/10 = .8, d1 = (.8 - .6)/(1 - .6) = .5;  r = 2: r* = 3 * 2/4 = 1.5, d2 = (.75 - .6)/.4 = .375
    counts = np.array([1] * 10 + [2] * 4 + [3] * 2)
    ratio, k = good_turing_ratios(counts, 2, order=1)
    assert k == 2
    assert ratio.tolist() == pytest.approx([1.0, 0.5, 0.375, 1.0])


def test_katz_on_the_toy_corpus():
    with pytest.warns(UserWarning, match="Good-Turing"):
        m = fit_ngram(TOY, 2, "katz")
    # unigram n1, n2, n3 = 1 (c), 1 (b), 2 (a, </s>): k = 2 works, common = 3 * 2 / 1 = 6,
    # d1 = (2 - 6)/(1 - 6) = .8, d2 = (3 - 6)/(1 - 6) = .6 (r* = 3 * 2/1 = 6, r*/r = 3);
    # kept: a 3, b 1.2, c .8, </s> 3 -> left-over 1/9 spread over 5 outcomes:
    # p1(a) = p1(</s>) = 16/45, p1(b) = 7/45, p1(c) = 5/45, p1(<unk>) = 1/45
    assert m.prob("c", ["zz"]) == pytest.approx(5 / 45)
    # bigrams: n3 = 0 so no k works: every count loses .5 (warned)
    assert m.prob("b", ["a"]) == pytest.approx(0.5 / 3)
    assert m.prob("a", ["<s>"]) == pytest.approx(1.5 / 3)
    # after a, seen b, c, </s> keep 1.5/3 = .5; alpha(a) = .5 / (1 - (7 + 5 + 16)/45) = 22.5/17
    assert m.prob("a", ["a"]) == pytest.approx(22.5 / 17 * 16 / 45)
    assert m.prob("<unk>", ["a"]) == pytest.approx(22.5 / 17 / 45)


def test_witten_bell_on_the_toy_corpus():
    m = fit("wb")
    # p1(w) = (c(w) + N1+(.) / |O|) / (c(.) + N1+(.)) with N = 9, 4 distinct outcomes seen, |O| = 5:
    # p1(b) = (2 + 4/5) / 13 = 14/65;  p1(c) = (1 + 4/5) / 13 = 9/65
    assert fit("wb", order=1).prob("b") == pytest.approx(14 / 65)
    # p(b | a) = (c(a b) + N1+(a .) p1(b)) / (c(a) + N1+(a .)) = (1 + 3 * 14/65) / (3 + 3) = 107/390
    assert m.prob("b", ["a"]) == pytest.approx(107 / 390)
    # unseen bigram b c: gamma(b) p1(c) = 2 / (2 + 2) * 9/65 = 9/130
    assert m.prob("c", ["b"]) == pytest.approx(9 / 130)


def test_witten_bell_reproduces_nltks_worked_values():
    """NLTK's TestWittenBellInterpolatedTrigram (nltk/test/unit/lm/test_models.py), same corpus.

    Vocabulary a b c d z; sentences "abcd" and "egadbe" (e and g are <unk>), order 3. Padded here:
        <s> a b c d </s>        <s> <unk> <unk> a d b <unk> </s>
    NLTK's higher orders follow the same formula, so its expressions are kept below with only the
    unigram p1(c) replaced: NLTK ends at the maximum-likelihood unigram over its padded counts
    (p1(c) = 1/18), scratchlm interpolates the unigrams with the uniform distribution:
        unigram counts a 2, b 2, c 1, d 2, <unk> 3, </s> 2, z 0:  c(.) = 12, N1+(.) = 6
        outcomes: a b c d z <unk> </s>  (|O| = 7; <s> and <pad> are never predicted)
        p1(c) = (1 + 6/7) / (12 + 6) = 13/126
    """
    from scratchlm.text.vocab import Vocabulary

    m = fit_ngram([list("abcd"), list("egadbe")], 3, "wb", vocab=Vocabulary(list("abcdz")))
    p1_c = 13 / 126
    assert m.prob("c") == pytest.approx(p1_c)
    assert m.prob("z") == pytest.approx((6 / 7) / 18)   # seen nowhere: only the uniform share (NLTK: 0)
    # 2 words follow b and b occurred 2 times: gamma(b) = 2 / (2 + 2) = 0.5, mle(c | b) = 1/2
    p_c_given_b = (1 - 0.5) * 0.5 + 0.5 * p1_c
    assert m.prob("c", ["b"]) == pytest.approx(p_c_given_b)
    # 1 word follows "a b", which occurred once: gamma(a b) = 1 / (1 + 1) = 0.5, mle(c | a b) = 1
    assert m.prob("c", ["a", "b"]) == pytest.approx((1 - 0.5) + 0.5 * p_c_given_b)
    # "z b" was never seen: the score of "b c" (NLTK's issue 2332)
    assert m.prob("c", ["z", "b"]) == pytest.approx(p_c_given_b)
