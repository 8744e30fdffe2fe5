"""The n-gram tables form a trie: every n-gram is (row of its prefix, last word).

Each order n keeps its n-grams in one table, sorted by an int64 *key*::

    key(w_1 .. w_n) = row_{n-1}(w_1 .. w_{n-1}) * V + w_n          (V = vocabulary size)

where row_{n-1}(.) is the position of the prefix in the sorted table of order n-1, and the
unigram table is dense (row_1(w) = w). Sorting by key groups the n-grams of one context
together, so per-context sums are ``np.bincount`` over the prefix rows, and finding an n-gram
is one ``np.searchsorted``. Keys stay small (rows * V, never V**n), so 5-grams over a large
vocabulary fit in int64 where packing the n ids side by side would not.
"""
from __future__ import annotations

import numpy as np


def find_keys(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Row of each of ``keys`` in ``sorted_keys``, or -1 where it is absent.

    Args:
        sorted_keys: (R,) int64, sorted ascending, no repeats.
        keys: (M,) int64.
    Returns:
        (M,) int64 rows.
    """
    if len(sorted_keys) == 0:
        return np.full(len(keys), -1, dtype=np.int64)
    rows = np.searchsorted(sorted_keys, keys)
    clipped = np.minimum(rows, len(sorted_keys) - 1)
    return np.where(sorted_keys[clipped] == keys, clipped, -1).astype(np.int64)


def ngram_rows(keys_by_order: list[np.ndarray], vocab_size: int, tokens: np.ndarray,
               depth: np.ndarray) -> list[np.ndarray]:
    """Rows of the n-grams that end at every position of a token array, for n = 1..N.

    ``rows[n-1][t]`` is the row (in the table of order n) of tokens[t-n+1 .. t], or -1 when that
    n-gram is not in the table or reaches further back than the history allows.

    Args:
        keys_by_order: N arrays of sorted keys; keys_by_order[0] is the dense unigram table.
        vocab_size: V.
        tokens: (P,) int ids; -1 marks "no token" (an empty slot of a language-model state).
        depth: (P,) int, how many tokens before position t belong to t's history (0 at the
            start of a sentence or segment), so an n-gram ending at t exists only if
            depth[t] >= n - 1.
    Returns:
        a list of N arrays of shape (P,), int64.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    rows = [np.where(tokens >= 0, tokens, -1)]
    for n in range(2, len(keys_by_order) + 1):
        prefix = np.empty_like(tokens)
        prefix[:1] = -1
        prefix[1:] = rows[-1][:-1]  # the (n-1)-gram ending just before t
        usable = (prefix >= 0) & (tokens >= 0) & (depth >= n - 1)
        row = np.full(len(tokens), -1, dtype=np.int64)
        row[usable] = find_keys(keys_by_order[n - 1], prefix[usable] * vocab_size + tokens[usable])
        rows.append(row)
    return rows
