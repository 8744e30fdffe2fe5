"""Beam search: keep the k best partial sequences instead of only the best one.

Greedy decoding commits to the most probable token at every step and can miss a sequence whose
first token is less likely but whose whole is more likely. Beam search keeps ``beam_width``
hypotheses (partial sequences) and their scores, the summed log-probabilities

    score(y_1 .. y_t) = sum_{s=1..t} log P(y_s | <bos>, prompt, y_<s)

and at every step:

1. expands every live hypothesis by every token of the vocabulary (live x V candidates);
2. keeps the ``beam_width - (number finished so far)`` candidates of highest score (ties: the
   candidate from the earlier hypothesis, then the lower token id, comes first);
3. sets aside the kept candidates that end in ``<eos>`` as *finished*; the others stay live.

So the beam narrows as hypotheses finish, and at most ``beam_width`` hypotheses ever finish. The
search stops when no hypothesis is live or after ``max_len`` tokens; hypotheses still live then
are returned as they are, next to the finished ones. With ``beam_width = 1`` only the best
candidate is kept at every step: that is greedy decoding, exactly. With a beam at least as wide
as the number of candidates nothing is ever dropped, and beam search is exhaustive search.

Length normalisation. Every token adds a negative log-probability, so raw sums favour short
hypotheses. Finished hypotheses of different lengths are therefore ranked by

    score / length ** alpha        (alpha = length_penalty)

where length counts the scored tokens (the generated ones, ``<eos>`` included, not the prompt).
alpha = 0 ranks by the raw sum, alpha = 1 by the mean log-probability per token; values in
between (GNMT used about 0.6, with the variant ((5 + length) / 6) ** alpha, not used here) trade
the two off. Candidates competing within one step all have the same length, so alpha changes
only the final ranking, never which candidates are kept.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from scratchlm.lm import LanguageModel
from scratchlm.sampling import warm_up


def _check_positive_int(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def beam_search(model: LanguageModel, prompt_ids: Sequence[int] = (), beam_width: int = 5,
                max_len: int = 50, n_best: int = 1,
                length_penalty: float = 0.0) -> list[tuple[list[int], float]]:
    """The ``n_best`` best continuations of ``prompt_ids`` that beam search finds, best first.

    Args:
        model: any :class:`~scratchlm.lm.LanguageModel`.
        prompt_ids: the context to continue, without ``<bos>``; may be empty.
        beam_width: k, the number of hypotheses kept (1 = greedy decoding).
        max_len: at most this many tokens per hypothesis, ``<eos>`` included.
        n_best: how many hypotheses to return, at most ``beam_width``.
        length_penalty: alpha >= 0 in score / length ** alpha (0: raw sum; 1: mean per token).

    Returns:
        up to ``n_best`` pairs ``(ids, score)``, best first. ``ids`` is the continuation without
        the prompt and without its final ``<eos>`` (as :func:`scratchlm.sampling.generate`
        returns it): a hypothesis with fewer than ``max_len`` ids finished with ``<eos>``, one
        of exactly ``max_len`` ids was cut off. ``score`` is the summed log-probability of the
        scored tokens (the ids, plus ``<eos>`` when finished) divided by length ** alpha.
    """
    _check_positive_int(beam_width, "beam_width")
    _check_positive_int(max_len, "max_len")
    _check_positive_int(n_best, "n_best")
    if n_best > beam_width:
        raise ValueError(f"n_best ({n_best}) cannot exceed beam_width ({beam_width}): "
                         "at most beam_width hypotheses finish")
    if not isinstance(length_penalty, (int, float, np.number)) or not length_penalty >= 0:
        raise ValueError(f"length_penalty must be a number >= 0, got {length_penalty!r}")

    state = warm_up(model, prompt_ids)
    live_ids: list[list[int]] = [[]]
    live_scores = np.zeros(1)  # (live,) summed log-probabilities
    finished: list[tuple[list[int], float, int]] = []  # (ids, summed log-prob, length)
    vocab_size = model.vocab_size

    for step in range(max_len):
        candidates = live_scores[:, None] + model.log_probs(state)  # (live, V)
        flat = candidates.ravel()
        slots = min(beam_width - len(finished), int(np.isfinite(flat).sum()))
        best = np.argsort(-flat, kind="stable")[:slots]  # flat index = row * V + token
        rows, tokens = np.divmod(best, vocab_size)

        keep_rows, keep_tokens, keep_scores = [], [], []
        for row, token, score in zip(rows, tokens, flat[best]):
            if token == model.eos_id:
                finished.append((live_ids[row], float(score), step + 1))
            else:
                keep_rows.append(row)
                keep_tokens.append(token)
                keep_scores.append(score)

        live_ids = [live_ids[row] + [int(token)] for row, token in zip(keep_rows, keep_tokens)]
        live_scores = np.array(keep_scores)
        if not live_ids or step + 1 == max_len:
            break
        state = model.advance(model.select(state, np.array(keep_rows)), np.array(keep_tokens))

    hypotheses = finished + [(ids, float(score), max_len) for ids, score in zip(live_ids, live_scores)]
    ranked = sorted(
        ((ids, total / length**length_penalty) for ids, total, length in hypotheses),
        key=lambda hypothesis: -hypothesis[1],
    )
    return ranked[:n_best]
