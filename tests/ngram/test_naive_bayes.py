"""Naive Bayes over character n-grams, on a corpus small enough to work by hand."""
import math

import numpy as np
import pytest

from scratchlm.ngram.naive_bayes import NaiveBayesClassifier, character_ngrams


def test_character_ngrams_mark_the_ends():
    assert character_ngrams("ab", 2) == ["a", "b", "^a", "ab", "b$"]


def test_worked_example():
    # unigrams only: "ab" is class 0, "b" is class 1; G = {a, b}; priors 1/2 each
    # class 0: c(a) = 1, c(b) = 1 -> P(a|0) = P(b|0) = (1 + 1) / (2 + 2) = 1/2
    # class 1: c(a) = 0, c(b) = 1 -> P(a|1) = (0 + 1) / (1 + 2) = 1/3, P(b|1) = 2/3
    nb = NaiveBayesClassifier(max_order=1, alpha=1.0).fit(["ab", "b"], [0, 1])
    scores = nb.log_posteriors(["a", "bb", "z"])
    half = math.log(0.5)
    np.testing.assert_allclose(scores[0], [half + half, half + math.log(1 / 3)])
    np.testing.assert_allclose(scores[1], [half + 2 * half, half + 2 * math.log(2 / 3)])
    np.testing.assert_allclose(scores[2], [half, half])            # "z" is not in G: the priors alone
    assert nb.predict(["a", "bb"]).tolist() == [0, 1]


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="max_order"):
        NaiveBayesClassifier(max_order=0)
    with pytest.raises(ValueError, match="one label per text"):
        NaiveBayesClassifier().fit(["a", "b"], [0])
