"""NGramLM: an n-gram model stored as back-off tables, behind the common LanguageModel interface.

Every smoothing method in this package, once fitted, is written in one form, the form of an
ARPA file: for every n-gram g = h w in the tables, a log-probability log p(w | h), and for every
n-gram used as a context, a back-off weight log b(h). The probability of any word after any
history is then (Katz 1987; the ARPA convention)::

    p(w | h) = p*(h w)                  if h w is in the tables
             = b(h) * p(w | h')         otherwise, h' = h without its first word
    with b(h) = 1 when h is not a context in the tables, and p(w | empty) = p*(w).

Interpolated models fit this form too: their stored p*(h w) is already the interpolated
probability, and b(h) is the interpolation weight gamma(h) of the lower order. (Stupid backoff,
which is not a distribution, also charges its constant alpha for contexts absent from the
tables: ``unseen_context_log_backoff``.)

Perplexity conventions (those of KenLM and SRILM): each sentence is scored as
``<s> w_1 .. w_m </s>``; every word and the final ``</s>`` is predicted and counted, ``<s>`` is
not; words outside the vocabulary are scored as ``<unk>``::

    perplexity = exp( - sum of log p(w_t | history_t) / number of predicted tokens )

All log-probabilities here are natural logarithms (ARPA files use log10; see arpa.py).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from scratchlm.lm import LanguageModel
from scratchlm.ngram.counting import pad_sentences
from scratchlm.ngram.trie import ngram_rows


class NGramLM(LanguageModel):
    """An n-gram language model of order N in back-off form (see the module docstring).

    Args:
        vocab_size: V.
        bos_id, eos_id: ids of ``<s>`` and ``</s>``, or None for a model of an unbroken stream.
        keys: N arrays; keys[n-1] (shape (R_n,), int64, sorted) names the n-grams of order n as
            context row * V + last word (scratchlm.ngram.trie); keys[0] is arange(V).
        log_prob: N arrays (R_n,) float64, log p*(h w) of every n-gram (-inf: impossible).
        log_backoff: N arrays (R_n,) float64, log b(h) of every n-gram as a context (0 where it
            is not one, and for the top order).
        method: the smoothing method's name.
        vocab: the scratchlm Vocabulary, when the model was built from strings (None for ids).
        unseen_context_log_backoff: log b(h) for a context h that is not in the tables: 0 for
            every normalised model, log alpha for stupid backoff.
        is_distribution: False for stupid backoff (its scores do not sum to 1).
        info: anything worth reporting (discounts, lambdas, counts per order).

    The state of :class:`~scratchlm.lm.LanguageModel` is a (batch, N-1) int64 array of the last
    N-1 tokens, -1 where the history is shorter.
    """

    def __init__(self, vocab_size: int, bos_id: int | None, eos_id: int | None, keys, log_prob, log_backoff,
                 method: str, vocab=None, unseen_context_log_backoff: float = 0.0, is_distribution: bool = True,
                 info: dict | None = None):
        if not (len(keys) == len(log_prob) == len(log_backoff)) or len(keys) < 1:
            raise ValueError("keys, log_prob and log_backoff must be lists with one array per order")
        self.vocab_size = int(vocab_size)
        self.bos_id, self.eos_id = bos_id, eos_id
        self.order = len(keys)
        self.keys = [np.asarray(k, dtype=np.int64) for k in keys]
        self.log_prob = [np.asarray(p, dtype=np.float64) for p in log_prob]
        self.log_backoff = [np.asarray(b, dtype=np.float64) for b in log_backoff]
        for n, (k, p, b) in enumerate(zip(self.keys, self.log_prob, self.log_backoff), start=1):
            if not (k.shape == p.shape == b.shape):
                raise ValueError(f"order {n}: keys, log_prob and log_backoff must have the same shape")
        if len(self.keys[0]) != self.vocab_size:
            raise ValueError(f"the unigram table must have one row per id ({self.vocab_size}), got {len(self.keys[0])}")
        self.context_rows = [k // self.vocab_size for k in self.keys]
        self.words = [k % self.vocab_size for k in self.keys]
        self.method = method
        self.vocab = vocab
        self.unseen_context_log_backoff = float(unseen_context_log_backoff)
        self.is_distribution = is_distribution
        self.info = dict(info or {})

    def __repr__(self) -> str:
        sizes = ", ".join(str(len(k)) for k in self.keys)
        return f"NGramLM(method={self.method!r}, order={self.order}, vocab_size={self.vocab_size}, n-grams=[{sizes}])"

    # ----------------------------------------------------------------- scoring whole texts
    def _score_positions(self, tokens: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """log p(tokens[t] | the depth[t] tokens before it, at most N-1), for every position t.

        Vectorised over positions: one searchsorted per order finds every n-gram ending at t
        (scratchlm.ngram.trie.ngram_rows); then, from the top order down, a position takes the
        stored probability of its longest n-gram found, after adding the back-off weight of each
        longer context it had to leave.
        """
        rows = ngram_rows(self.keys, self.vocab_size, tokens, depth)
        score = np.zeros(len(tokens), dtype=np.float64)
        settled = np.zeros(len(tokens), dtype=bool)
        for n in range(self.order, 0, -1):
            found = (rows[n - 1] >= 0) & ~settled
            score[found] += self.log_prob[n - 1][rows[n - 1][found]]
            settled |= found
            if n == 1:
                break
            backing_off = ~settled & (depth >= n - 1)
            context = np.empty_like(tokens)  # row of the (n-1)-gram ending at t-1: w's context
            context[:1] = -1
            context[1:] = rows[n - 2][:-1]
            context = context[backing_off]
            score[backing_off] += np.where(context >= 0, self.log_backoff[n - 2][np.maximum(context, 0)],
                                           self.unseen_context_log_backoff)
        return score

    def token_log_probs(self, sentences: Sequence[Sequence[int]]) -> np.ndarray:
        """log p of every predicted token of ``sentences``, all in one flat array.

        Args:
            sentences: sequences of ids without ``<s>``/``</s>`` (they are added here).
        Returns:
            (number of predicted tokens,) float64: w_1 .. w_m and ``</s>`` of each sentence in turn.
        """
        return self._score_sentences(sentences)[0]

    def _score_sentences(self, sentences):
        """(log p of every predicted token, the predicted tokens)."""
        tokens, depth = pad_sentences(sentences, self.bos_id, self.eos_id)
        self._check_ids(tokens)
        scores = self._score_positions(tokens, depth)
        if self.bos_id is None:
            return scores, tokens
        predicted = depth > 0
        return scores[predicted], tokens[predicted]

    def sequence_log_probs(self, sequence: Sequence[int]) -> np.ndarray:
        """log P(w_t | w_<t) for every token of ``sequence`` (shape (T,)), scored after ``<s>``.

        ``sequence`` holds ids without ``<s>``; end it with ``</s>`` to score the end of the
        sentence. The same numbers as the generic LanguageModel definition, computed at once.
        """
        ids = np.asarray(sequence, dtype=np.int64).reshape(-1)
        lead = [] if self.bos_id is None else [self.bos_id]
        tokens = np.concatenate([np.asarray(lead, dtype=np.int64), ids])
        self._check_ids(tokens)
        scores = self._score_positions(tokens, np.arange(len(tokens), dtype=np.int64))
        return scores[len(lead):]

    def evaluate(self, sentences: Sequence[Sequence[int]]) -> dict:
        """Total log-probability, predicted-token count and perplexity of ``sentences`` (ids).

        Returns a dict with ``log_prob`` (natural log, summed), ``num_tokens`` (words + one
        ``</s>`` per sentence), ``perplexity`` = exp(-log_prob / num_tokens) (inf when a token
        has probability 0, as MLE gives unseen n-grams), and ``num_unk`` (tokens scored as <unk>).
        """
        scores, tokens = self._score_sentences(sentences)
        if len(scores) == 0:
            raise ValueError("there is nothing to evaluate: no sentences")
        total = float(np.sum(scores))
        num_unk = 0 if self.vocab is None else int(np.count_nonzero(tokens == self.vocab.unk_id))
        perplexity = math.exp(-total / len(scores)) if math.isfinite(total) and -total / len(scores) < 709 else math.inf
        return {"log_prob": total, "num_tokens": len(scores), "perplexity": perplexity, "num_unk": num_unk}

    def perplexity(self, sentences: Sequence[Sequence[int]]) -> float:
        """exp(- total log p / number of predicted tokens); see :meth:`evaluate`."""
        return self.evaluate(sentences)["perplexity"]

    # ------------------------------------------------------- the LanguageModel interface
    def start(self, batch_size: int) -> np.ndarray:
        state = np.full((batch_size, self.order - 1), -1, dtype=np.int64)
        if self.bos_id is not None and self.order > 1:
            state[:, -1] = self.bos_id
        return state

    def advance(self, state: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        tokens = np.asarray(tokens, dtype=np.int64).reshape(-1)
        if len(tokens) != len(state):
            raise ValueError(f"advance needs one token per state row ({len(state)}), got {len(tokens)}")
        if self.order == 1:
            return state
        return np.concatenate([state[:, 1:], tokens[:, None]], axis=1)

    def select(self, state: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return state[np.asarray(rows, dtype=np.int64)]

    def log_probs(self, state: np.ndarray) -> np.ndarray:
        """log p(w | state row) for every id w, shape (batch, V) float64.

        Built from the bottom up: start from the unigram log-probabilities; for each longer
        context h of the row (while the history allows), multiply by b(h) and then overwrite the
        words seen after h with their stored p*(h w).
        """
        state = np.asarray(state, dtype=np.int64)
        batch = len(state)
        out = np.tile(self.log_prob[0], (batch, 1))
        if self.order == 1:
            return out
        # depth of each slot = how many real tokens precede it in its row
        valid = state >= 0
        first_valid = np.where(valid.any(axis=1), np.argmax(valid, axis=1), state.shape[1])
        depth = np.maximum(np.arange(state.shape[1])[None, :] - first_valid[:, None], -1)
        rows = ngram_rows(self.keys, self.vocab_size, state.reshape(-1), depth.reshape(-1))
        for n in range(2, self.order + 1):
            available = (state.shape[1] - first_valid) >= n - 1  # the row holds n-1 tokens of history
            context = rows[n - 2].reshape(batch, -1)[:, -1]  # row of each state's last n-1 tokens
            unseen = available & (context < 0)
            out[unseen] += self.unseen_context_log_backoff
            seen = np.flatnonzero(available & (context >= 0))
            out[seen] += self.log_backoff[n - 2][context[seen], None]
            # the n-grams "context w" are one contiguous run of table n per context
            lo = np.searchsorted(self.keys[n - 1], context[seen] * self.vocab_size)
            hi = np.searchsorted(self.keys[n - 1], (context[seen] + 1) * self.vocab_size)
            run_lengths = hi - lo
            entries = np.arange(run_lengths.sum()) - np.repeat(np.cumsum(run_lengths) - run_lengths - lo, run_lengths)
            out[np.repeat(seen, run_lengths), self.words[n - 1][entries]] = self.log_prob[n - 1][entries]
        return out

    # ------------------------------------------------------------------ conveniences
    def prob(self, word, context: Sequence = ()) -> float:
        """p(word | context) for one word; tokens are strings (with a vocabulary) or ids.

        ``context`` lists the preceding tokens; put ``"<s>"`` first for a sentence start.
        """
        ids = self.encode(list(context) + [word])
        state = self.start(1)
        state[:] = -1
        history = ids[:-1][-(self.order - 1):] if self.order > 1 else []
        if len(history):
            state[0, -len(history):] = history
        return float(np.exp(self.log_probs(state)[0, ids[-1]]))

    def encode(self, tokens: Sequence) -> list[int]:
        """Ids of ``tokens`` (strings through the vocabulary, ``<s>``/``</s>`` as the markers)."""
        if all(isinstance(t, (int, np.integer)) for t in tokens):
            return [int(t) for t in tokens]
        if self.vocab is None:
            raise TypeError("this model was built from ids (no vocabulary): pass ids, not strings")
        markers = {"<s>": self.bos_id, "</s>": self.eos_id}
        return [markers[t] if t in markers else self.vocab.stoi.get(t, self.vocab.unk_id) for t in tokens]

    def num_ngrams(self) -> list[int]:
        """How many n-grams each order's table holds."""
        return [len(k) for k in self.keys]

    def _check_ids(self, tokens: np.ndarray) -> None:
        if len(tokens) and (tokens.min() < 0 or tokens.max() >= self.vocab_size):
            raise ValueError(f"token ids must lie in [0, {self.vocab_size}), got {tokens.min()}..{tokens.max()}")
