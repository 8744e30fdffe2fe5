"""Logits processors: rules that change the next-token scores before a token is chosen.

Decoding (sampling, greedy, beam search) takes the model's scores for the next token, lets a
list of *processors* edit them, and only then chooses. Each processor here is one small function
``scores (B, V) -> scores (B, V)`` that sees what has been generated so far; each is Hugging Face
``generate()``'s processor of the same name, with the same semantics:

=====================  =====================================================================
option                 what happens to the score z_w of token w
=====================  =====================================================================
repetition_penalty     z_w / r if z_w > 0, z_w * r otherwise, for every w already seen (CTRL)
no_repeat_ngram_size   -inf for every w that would complete an n-gram already in the sequence
bad_words_ids          -inf for the last token of a listed sequence whose other tokens end the
                       sequence so far (a one-token entry is always -inf)
min_new_tokens         -inf for ``<eos>`` until that many new tokens have been generated
suppress_tokens        -inf for the listed ids (and for the special tokens, always)
=====================  =====================================================================

:class:`ScoreRules` holds the settings and applies them in Hugging Face's order, which is the
order of the table (``_get_logits_processor`` in transformers' ``generation/utils.py``):
repetition penalty, no-repeat n-grams, bad words, min new tokens, suppressed tokens. The
warpers that reshape a distribution for sampling (temperature, top-k, top-p) come after all of
them; they live in :mod:`scratchlm.sampling`. Only the repetition penalty changes a finite
score into another finite score, so it is the only step whose place in the order matters.

"Seen" and "the sequence so far" mean the prompt and the generated tokens, as in Hugging Face,
where ``input_ids`` holds both. Every row of a decoding batch has generated the same number of
tokens (a row that ends leaves the batch), so the sequences are one (B, t) array.

scratchlm's models give log-probabilities, which are all <= 0, so the repetition penalty always
multiplies here: a seen token's log-probability log p becomes r log p, i.e. p becomes p ** r
before renormalising. (Hugging Face applies it to raw logits, which can be positive; on the same
scores the two agree.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def repetition_penalty(scores: np.ndarray, sequences: np.ndarray, penalty: float) -> np.ndarray:
    """CTRL's rule (Keskar et al. 2019) for every token that occurs in its row's sequence so far::

        z_w <- z_w / r   if z_w > 0
        z_w <- z_w * r   otherwise                  (r = penalty; r > 1 discourages repeats)

    A token counts once however often it occurred. Example: z = [2, -1, -3, 0.5], sequence
    [0, 1, 1], r = 2 -> [1, -2, -3, 0.5].

    scores: (B, V); sequences: (B, t) int, prompt and generated tokens. Returns a new (B, V) array.
    """
    seen = np.zeros(scores.shape, dtype=bool)
    seen[np.arange(scores.shape[0])[:, None], sequences] = True
    penalised = np.where(scores > 0, scores / penalty, scores * penalty)
    return np.where(seen, penalised, scores)


def no_repeat_ngrams(scores: np.ndarray, sequences: np.ndarray, n: int) -> np.ndarray:
    """Forbid every token that would repeat an n-gram of the row's sequence so far::

        z_w <- -inf   if (y_{t-n+2}, ..., y_t, w) equals some n consecutive tokens of y_1 .. y_t

    Example, n = 2, sequence [a, b, a]: the bigrams are (a, b) and (b, a); the last token is a, so
    b is forbidden. n = 1 forbids every token seen. scores: (B, V); sequences: (B, t) int.
    """
    scores = scores.copy()
    length = sequences.shape[1]
    if length < n:
        return scores
    windows = sliding_window_view(sequences, n, axis=1)  # (B, t - n + 1, n): every n-gram
    prefix = sequences[:, length - n + 1:]  # (B, n - 1): the last n - 1 tokens
    repeats = np.all(windows[:, :, : n - 1] == prefix[:, None, :], axis=2)  # (B, t - n + 1)
    rows, starts = np.nonzero(repeats)
    scores[rows, windows[rows, starts, n - 1]] = -np.inf
    return scores


def no_bad_words(scores: np.ndarray, sequences: np.ndarray, bad_words_ids: Sequence[Sequence[int]]) -> np.ndarray:
    """Forbid the listed token sequences::

        for each bad sequence (b_1, ..., b_L):
            z_{b_L} <- -inf   if the row's sequence so far ends with (b_1, ..., b_{L-1})

    so a one-token entry is forbidden everywhere. Example: bad [[5], [3, 4]]; after [.., 3] both
    5 and 4 are forbidden, after [.., 2] only 5. scores: (B, V); sequences: (B, t) int.
    """
    scores = scores.copy()
    length = sequences.shape[1]
    for bad in bad_words_ids:
        *prefix, last = bad
        if len(prefix) > length:
            continue
        ends_with_prefix = np.all(sequences[:, length - len(prefix):] == prefix, axis=1)
        scores[ends_with_prefix, last] = -np.inf
    return scores


def min_new_tokens(scores: np.ndarray, num_generated: int, minimum: int, eos_id: int | None) -> np.ndarray:
    """No ``<eos>`` before ``minimum`` new tokens::

        z_<eos> <- -inf   while num_generated < minimum

    ``num_generated`` counts the tokens generated so far, not the prompt; so with minimum = 2 the
    first and second new tokens cannot be ``<eos>``, the third can. scores: (B, V).
    """
    scores = scores.copy()
    if eos_id is not None and num_generated < minimum:
        scores[:, eos_id] = -np.inf
    return scores


def suppress_tokens(scores: np.ndarray, token_ids: Sequence[int]) -> np.ndarray:
    """z_w <- -inf for every w in ``token_ids``, in every row and at every step. scores: (B, V)."""
    scores = scores.copy()
    scores[:, list(token_ids)] = -np.inf
    return scores


def _check_id(value, vocab_size: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < vocab_size:
        raise ValueError(f"{what} must hold token ids in 0..{vocab_size - 1}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class ScoreRules:
    """The processors' settings, checked once, applied in Hugging Face's order by :meth:`apply`.

    Defaults leave the scores as they are. ``never_generated`` are ids suppressed on top of
    ``suppress_tokens`` (the special tokens, see :func:`scratchlm.lm.never_generated_ids`).
    """

    vocab_size: int
    eos_id: int | None = None
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    bad_words_ids: tuple[tuple[int, ...], ...] = ()
    min_new_tokens: int = 0
    suppress_tokens: tuple[int, ...] = ()
    never_generated: tuple[int, ...] = ()

    @classmethod
    def build(cls, vocab_size: int, eos_id: int | None = None, repetition_penalty: float = 1.0,
              no_repeat_ngram_size: int = 0, bad_words_ids=None, min_new_tokens: int = 0,
              suppress_tokens=None, never_generated=()) -> "ScoreRules":
        """The rules, with every setting checked (``ValueError``/``TypeError`` naming it)."""
        if (isinstance(repetition_penalty, bool) or not isinstance(repetition_penalty, (int, float, np.number))
                or not np.isfinite(repetition_penalty) or repetition_penalty <= 0):
            raise ValueError(f"repetition_penalty must be a finite number > 0 (1: no penalty), got {repetition_penalty!r}")
        for name, value in (("no_repeat_ngram_size", no_repeat_ngram_size), ("min_new_tokens", min_new_tokens)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0 (0: off), got {value!r}")
        bad = []
        for entry in bad_words_ids or ():
            if isinstance(entry, (str, bytes)) or not isinstance(entry, Sequence) or len(entry) == 0:
                raise TypeError(f"bad_words_ids must be a list of non-empty lists of token ids, got entry {entry!r}")
            entry = tuple(_check_id(token, vocab_size, "bad_words_ids") for token in entry)
            # As in Hugging Face, [<eos>] alone is dropped: whether a sequence may end yet is
            # min_new_tokens's business, and banning <eos> outright would never let it end.
            if entry != (eos_id,):
                bad.append(entry)
        suppressed = tuple(_check_id(token, vocab_size, "suppress_tokens") for token in (suppress_tokens or ()))
        return cls(vocab_size=int(vocab_size), eos_id=eos_id, repetition_penalty=float(repetition_penalty),
                   no_repeat_ngram_size=int(no_repeat_ngram_size), bad_words_ids=tuple(bad),
                   min_new_tokens=int(min_new_tokens), suppress_tokens=suppressed,
                   never_generated=tuple(int(i) for i in never_generated))

    def apply(self, scores: np.ndarray, sequences: np.ndarray, num_generated: int) -> np.ndarray:
        """The scores after every active processor, in Hugging Face's order.

        scores: (B, V) float64 next-token scores; sequences: (B, t) int, the prompt and the
        ``num_generated`` tokens generated so far in each row. Returns a new (B, V) array.
        """
        if self.repetition_penalty != 1.0:
            scores = repetition_penalty(scores, sequences, self.repetition_penalty)
        if self.no_repeat_ngram_size > 0:
            scores = no_repeat_ngrams(scores, sequences, self.no_repeat_ngram_size)
        if self.bad_words_ids:
            scores = no_bad_words(scores, sequences, self.bad_words_ids)
        if self.min_new_tokens > 0:
            scores = min_new_tokens(scores, num_generated, self.min_new_tokens, self.eos_id)
        if self.suppress_tokens or self.never_generated:
            scores = suppress_tokens(scores, self.suppress_tokens + self.never_generated)
        return scores
