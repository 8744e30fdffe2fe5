"""Naive Bayes over character n-grams: the count-based baseline of sequence classification.

A string is a bag of its character n-grams (orders 1..N, with ``^`` and ``$`` marking its ends,
so "ana" gives a, n, a, ^a, an, na, a$, ...). Naive Bayes assumes the n-grams independent given
the class y and picks the class of highest posterior::

    y^ = argmax_y  log P(y) + sum_{g in bag(x)} log P(g | y)
    P(y)     = (documents of class y) / (documents)
    P(g | y) = (c_y(g) + alpha) / (sum_g' c_y(g') + alpha |G|)      add-alpha (Laplace for alpha = 1)

with c_y(g) the count of n-gram g in the training strings of class y and G the n-grams seen in
training. An n-gram never seen in training is not in G and is left out of the sum (as with
scikit-learn's CountVectorizer + MultinomialNB).
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np


def character_ngrams(text: str, max_order: int) -> list[str]:
    """Every character n-gram of orders 1..max_order of ^text$ (the markers alone are not counted)."""
    padded = f"^{text}$"
    grams = []
    for n in range(1, max_order + 1):
        grams += [padded[i:i + n] for i in range(len(padded) - n + 1) if padded[i:i + n] not in ("^", "$")]
    return grams


class NaiveBayesClassifier:
    """Multinomial naive Bayes over character n-grams of orders 1..max_order, add-alpha smoothed."""

    def __init__(self, max_order: int = 3, alpha: float = 1.0):
        if not isinstance(max_order, int) or max_order < 1:
            raise ValueError(f"max_order must be a positive int, got {max_order!r}")
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0, got {alpha!r}")
        self.max_order, self.alpha = max_order, float(alpha)

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> "NaiveBayesClassifier":
        labels = np.asarray(labels)
        if len(texts) != len(labels) or len(texts) == 0:
            raise ValueError(f"need one label per text and at least one text, got {len(texts)} texts and {len(labels)} labels")
        self.classes = np.unique(labels)
        counts = {y: Counter() for y in self.classes}
        for text, y in zip(texts, labels):
            counts[y].update(character_ngrams(text, self.max_order))
        self.vocabulary = {g: i for i, g in enumerate(sorted(set().union(*counts.values())))}
        table = np.zeros((len(self.classes), len(self.vocabulary)))
        for row, y in enumerate(self.classes):
            for g, c in counts[y].items():
                table[row, self.vocabulary[g]] = c
        self.log_prior = np.log(np.array([np.mean(labels == y) for y in self.classes]))
        smoothed = table + self.alpha
        self.log_likelihood = np.log(smoothed / smoothed.sum(axis=1, keepdims=True))     # (classes, |G|)
        return self

    def log_posteriors(self, texts: Sequence[str]) -> np.ndarray:
        """(N, classes): log P(y) + sum_g log P(g | y), up to a constant per text."""
        scores = np.tile(self.log_prior, (len(texts), 1))
        for row, text in enumerate(texts):
            ids = [self.vocabulary[g] for g in character_ngrams(text, self.max_order) if g in self.vocabulary]
            scores[row] += self.log_likelihood[:, ids].sum(axis=1)
        return scores

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.classes[self.log_posteriors(texts).argmax(axis=1)]
