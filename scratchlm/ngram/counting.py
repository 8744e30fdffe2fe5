"""Counting every n-gram of orders 1..N at once, with NumPy (no Python loop over tokens).

The corpus is a list of sentences of token ids. Each sentence is padded as KenLM and SRILM do::

    <s> w_1 w_2 ... w_m </s>

(one ``<s>``: an n-gram that starts at ``<s>`` is a sentence start of any order, and no n-gram
crosses from one sentence into the next). A model of an unbroken stream (no ``<s>``/``</s>``)
counts each segment as it is.

Order by order, the n-gram starting at every position i is packed into an int64 key (see
:mod:`scratchlm.ngram.trie`): the row of its first n-1 words times V plus its last word.
Sorting those keys (what ``np.unique`` does) gives the table of distinct n-grams as runs of
equal keys, their counts c(w_1..w_n) as run lengths, and for every position the row of its
n-gram, which is the prefix row of the next order. Everything Kneser-Ney needs is then a
``np.bincount``:

    c(h)        = sum_w c(h w)                          context totals
    N_r(h .)    = |{w : c(h w) = r}|                    per-context counts of counts
    N1+(. g)    = |{v : c(v g) > 0}|                    continuation (left-extension) counts
    n_r         = |{g of order n : c(g) = r}|           counts of counts of an order
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass
class NGramTable:
    """The distinct n-grams of one order n, sorted by key (so grouped by context).

    Attributes (R = number of distinct n-grams):
        keys: (R,) int64, context_rows * V + words, sorted.
        context_rows: (R,) int64, row of w_1..w_{n-1} in the table of order n-1 (0 for n = 1).
        words: (R,) int64, the last word w_n.
        counts: (R,) int64, c(w_1..w_n) in the padded corpus.
        suffix_rows: (R,) int64, row of w_2..w_n in the table of order n-1 (-1 for n = 1).
        starts_with_bos: (R,) bool, whether w_1 is ``<s>`` (the n-gram starts a sentence).
    """

    keys: np.ndarray
    context_rows: np.ndarray
    words: np.ndarray
    counts: np.ndarray
    suffix_rows: np.ndarray
    starts_with_bos: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)


def pad_sentences(sentences: Sequence[Sequence[int]], bos_id: int | None, eos_id: int | None):
    """One flat array of the padded sentences.

    Returns:
        tokens: (P,) int64, every sentence as ``<s> w_1 .. w_m </s>`` (markers left out when
            bos_id / eos_id is None), one after the other.
        depth: (P,) int64, the number of tokens before each position in its own sentence.
    """
    lengths = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
    body = np.fromiter(itertools.chain.from_iterable(sentences), dtype=np.int64, count=int(lengths.sum()))
    for marker in (bos_id, eos_id):
        if marker is not None and np.any(body == marker):
            raise ValueError(f"a sentence contains the marker id {marker}: <s> and </s> are added around every sentence")
    lead = int(bos_id is not None)
    padded_lengths = lengths + lead + int(eos_id is not None)
    starts = np.concatenate([[0], np.cumsum(padded_lengths)[:-1]]).astype(np.int64)
    depth = np.arange(int(padded_lengths.sum()), dtype=np.int64) - np.repeat(starts, padded_lengths)
    tokens = np.empty(len(depth), dtype=np.int64)
    if bos_id is not None:
        tokens[starts] = bos_id
    if eos_id is not None:
        tokens[starts + padded_lengths - 1] = eos_id
    body_starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    offset_in_body = np.arange(len(body), dtype=np.int64) - np.repeat(body_starts, lengths)
    tokens[np.repeat(starts + lead, lengths) + offset_in_body] = body
    return tokens, depth


class NGramCounts:
    """All n-gram counts of orders 1..N of a corpus, computed once.

    Args:
        sentences: a list of sentences, each a sequence of int ids in [0, vocab_size) without
            ``<s>``/``</s>`` (they are added here).
        order: N >= 1.
        vocab_size: V.
        bos_id, eos_id: the ids playing ``<s>`` and ``</s>``, or None for an unbroken stream.
        never_predicted: ids that are never an outcome besides ``<s>`` (``<pad>``).

    Attributes:
        tables: N :class:`NGramTable` s; tables[n-1] holds order n. The unigram table is dense
            (row = word id, count 0 for unseen words). The unigram count of ``<s>`` is 0: ``<s>``
            is never predicted, so it is never an outcome (as a context, its total is the sum of
            its bigram counts).
        num_sentences: how many sentences were counted.
        outcomes: (V,) bool, the ids a distribution is over: every id but ``<s>`` and
            ``never_predicted`` (so ``</s>`` and ``<unk>`` are outcomes).
        num_outcomes: outcomes.sum(), the size of the uniform distribution at the bottom.
    """

    def __init__(self, sentences, order: int, vocab_size: int, bos_id: int | None, eos_id: int | None,
                 never_predicted: Sequence[int] = ()):
        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
            raise ValueError(f"order must be an integer >= 1, got {order!r}")
        self.order, self.vocab_size, self.bos_id, self.eos_id = int(order), int(vocab_size), bos_id, eos_id
        self.num_sentences = len(sentences)
        self.outcomes = np.ones(self.vocab_size, dtype=bool)
        self.outcomes[[i for i in (bos_id, *never_predicted) if i is not None]] = False
        self.num_outcomes = int(self.outcomes.sum())
        tokens, depth = pad_sentences(sentences, bos_id, eos_id)
        if len(tokens) and (tokens.min() < 0 or tokens.max() >= vocab_size):
            raise ValueError(f"token ids must lie in [0, {vocab_size}), got ids from {tokens.min()} to {tokens.max()}")
        self.tables = [self._unigrams(tokens)]
        # The n-gram starting at position i ends at i + n - 1, which must lie in i's sentence.
        sentence_end = np.flatnonzero(np.diff(np.append(depth, 0)) <= 0)  # last position of each sentence
        lengths = np.diff(np.concatenate([[-1], sentence_end]))
        remaining = np.repeat(sentence_end, lengths) - np.arange(len(depth)) + 1  # tokens left from i on
        # Positions sorted by the (n-1)-gram starting there, with that (n-1)-gram's row: the
        # n-gram keys in this order are already sorted but for the last word inside each group,
        # so a stable sort (timsort) orders them in nearly linear time once groups are small.
        positions = np.argsort(tokens, kind="stable")
        prefix_rows, left = tokens[positions], remaining[positions]
        row_at_position = tokens  # row of the (n-1)-gram starting at each position
        for n in range(2, self.order + 1):
            fits = left >= n  # the n-gram must end inside its sentence
            positions, prefix_rows, left = positions[fits], prefix_rows[fits], left[fits]
            keys = prefix_rows * self.vocab_size + tokens[positions + n - 1]
            sort = np.argsort(keys, kind="stable")
            positions, keys, left = positions[sort], keys[sort], left[sort]
            is_first = np.empty(len(keys), dtype=bool)
            is_first[:1] = True
            np.not_equal(keys[1:], keys[:-1], out=is_first[1:])
            first = np.flatnonzero(is_first)
            unique_keys = keys[first]
            first_position = positions[first]  # any occurrence: all share suffix and first word
            self.tables.append(NGramTable(
                keys=unique_keys,
                context_rows=unique_keys // self.vocab_size,
                words=unique_keys % self.vocab_size,
                counts=np.diff(np.append(first, len(keys))).astype(np.int64),
                suffix_rows=row_at_position[first_position + 1],
                starts_with_bos=(tokens[first_position] == bos_id) if bos_id is not None
                else np.zeros(len(unique_keys), dtype=bool),
            ))
            prefix_rows = np.cumsum(is_first) - 1  # the row of each position's n-gram
            if n < self.order:
                row_at_position = np.full(len(tokens), -1, dtype=np.int64)
                row_at_position[positions] = prefix_rows

    def _unigrams(self, tokens: np.ndarray) -> NGramTable:
        counts = np.bincount(tokens, minlength=self.vocab_size).astype(np.int64)
        if self.bos_id is not None:
            counts[self.bos_id] = 0
        words = np.arange(self.vocab_size, dtype=np.int64)
        return NGramTable(keys=words, context_rows=np.zeros(self.vocab_size, dtype=np.int64), words=words,
                          counts=counts, suffix_rows=np.full(self.vocab_size, -1, dtype=np.int64),
                          starts_with_bos=words == self.bos_id)

    @property
    def keys_by_order(self) -> list[np.ndarray]:
        return [table.keys for table in self.tables]

    def table(self, n: int) -> NGramTable:
        """The table of order n (1-based)."""
        return self.tables[n - 1]

    def num_rows(self, n: int) -> int:
        """How many rows the table of order n has (1 for n = 0: the empty context)."""
        return 1 if n == 0 else len(self.tables[n - 1])

    def context_sums(self, n: int, values: np.ndarray) -> np.ndarray:
        """sum over w of values(h w), for every context row h of order n-1; shape (rows of n-1,)."""
        return np.bincount(self.tables[n - 1].context_rows, weights=values, minlength=self.num_rows(n - 1))

    def context_count_of_counts(self, n: int, counts: np.ndarray, r: int, or_more: bool = False) -> np.ndarray:
        """N_r(h .) = |{w : counts(h w) = r}|, or N_r+(h .) (counts >= r) with or_more, per context row.

        Args:
            counts: (rows of order n,) the counts to classify (raw or Kneser-Ney adjusted).
            r: the count, 1, 2, ...
        """
        hit = counts >= r if or_more else counts == r
        return np.bincount(self.tables[n - 1].context_rows[hit], minlength=self.num_rows(n - 1)).astype(np.float64)

    def left_extension_counts(self, n: int) -> np.ndarray:
        """N1+(. g) = number of distinct words v with c(v g) > 0, for every n-gram g of order n < N."""
        if not 1 <= n < self.order:
            raise ValueError(f"left-extension counts exist for orders 1..{self.order - 1}, not {n}")
        return np.bincount(self.tables[n].suffix_rows, minlength=len(self.tables[n - 1])).astype(np.int64)


def counts_of_counts(counts: np.ndarray, largest: int) -> np.ndarray:
    """n_r = |{n-grams with count r}| for r = 0..largest; shape (largest + 1,)."""
    return np.bincount(np.minimum(counts, largest + 1), minlength=largest + 2)[: largest + 1].astype(np.int64)
