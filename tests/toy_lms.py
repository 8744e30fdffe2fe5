"""Tiny language models for the tests of sampling, beam search and metrics.

Both implement :class:`scratchlm.lm.LanguageModel` in the plainest way, so that what the tests
check is the code written against the interface, not the models:

* :class:`TableBigramLM` reads P(next | previous token) from a table written in the test; the
  worked numbers in the tests come straight from that table.
* :class:`HistoryLM` gives every full history its own pseudo-random distribution (not a Markov
  chain), small enough to enumerate every sequence, so beam search can be compared with
  exhaustive search on a model where looking ahead matters at every step.
"""
from __future__ import annotations

import numpy as np

from scratchlm.lm import LanguageModel


class TableBigramLM(LanguageModel):
    """log P(w_t = j | w_{t-1} = i) = log table[i, j]; the state is the previous token id.

    table: (V, V) probabilities, rows summing to 1 (zeros allowed: they give -inf). The row of
    ``bos_id`` is the distribution of the first token.
    """

    def __init__(self, table, bos_id: int, eos_id: int | None):
        table = np.asarray(table, dtype=np.float64)
        assert table.ndim == 2 and table.shape[0] == table.shape[1]
        assert np.allclose(table.sum(axis=1), 1.0)
        self.vocab_size = table.shape[0]
        with np.errstate(divide="ignore"):
            self.log_table = np.log(table)
        self.bos_id, self.eos_id = bos_id, eos_id

    def start(self, batch_size):
        return np.full(batch_size, self.bos_id, dtype=np.int64)

    def log_probs(self, state):
        return self.log_table[state]

    def advance(self, state, tokens):
        return np.asarray(tokens, dtype=np.int64).copy()

    def select(self, state, rows):
        return state[np.asarray(rows)]


class HistoryLM(LanguageModel):
    """P(. | history) drawn from a Dirichlet(1, ..., 1) seeded by (seed, history).

    The state is the list of histories (tuples of ids), one per row. Ids in ``impossible`` get
    probability exactly zero (log-probability -inf) after every history, like an n-gram model's
    <pad> and <bos>. bos_id is None: the model has no <bos> token in its vocabulary.
    """

    def __init__(self, vocab_size: int, eos_id: int | None, seed: int = 0, impossible=()):
        self.vocab_size, self.eos_id, self.bos_id = vocab_size, eos_id, None
        self.seed, self.impossible = seed, tuple(impossible)

    def distribution(self, history) -> np.ndarray:
        rng = np.random.default_rng([self.seed, len(history), *history])
        probs = rng.dirichlet(np.ones(self.vocab_size))
        probs[list(self.impossible)] = 0.0
        return probs / probs.sum()

    def start(self, batch_size):
        return [()] * batch_size

    def log_probs(self, state):
        with np.errstate(divide="ignore"):
            return np.log(np.stack([self.distribution(history) for history in state]))

    def advance(self, state, tokens):
        return [history + (int(token),) for history, token in zip(state, tokens)]

    def select(self, state, rows):
        return [state[row] for row in rows]
