"""Beam search: keep the k best partial sequences instead of only the best one.

Greedy decoding commits to the most probable token at every step and can miss a sequence whose
first token is less likely but whose whole is more likely. Beam search keeps k = ``beam_width``
live hypotheses (partial sequences, Hugging Face's ``num_beams``) and their scores, the summed
log-probabilities

    score(y_1 .. y_t) = sum_{s=1..t} log P(y_s | <bos>, prompt, y_<s)

(after the logits processors of :mod:`scratchlm.processors`, which may rule tokens out), and a
separate list of at most k *finished* hypotheses (Hugging Face's ``BeamHypotheses``). Each step:

1. expands every live hypothesis by every token: live x V candidates, ranked by score (ties:
   the candidate from the earlier hypothesis, then the lower token id, first);
2. of the 2k best candidates, those among the first k that end (in ``<eos>``, or by reaching
   ``max_len``) are offered to the finished list, each with its final score
   ``score / length ** length_penalty``; the list keeps its k best;
3. the k best candidates that do not end become the live hypotheses: the beam stays full.

Taking 2k candidates guarantees k that do not end (each hypothesis has one ``<eos>``).

When to stop (``early_stopping``, Hugging Face's three meanings), besides after ``max_len`` tokens:

* ``True``: as soon as k hypotheses have finished.
* ``False`` (the default, a heuristic): once k have finished and the best live hypothesis,
  normalised by its *current* length, scores no higher than the worst finished one.
* ``"never"``: only when no live hypothesis can still beat the worst finished one: the same test
  with the best live score normalised by ``max_len`` when length_penalty > 0 (the most a
  negative sum can gain by growing). This is the canonical beam search: with length_penalty 0
  the two coincide, since a sum of log-probabilities only falls as tokens are added.

Length normalisation. Every token adds a negative log-probability, so raw sums favour short
hypotheses. Finished hypotheses are ranked, and returned, by

    score / length ** alpha        (alpha = length_penalty)

where length counts the generated tokens, ``<eos>`` included, the prompt not: Hugging Face's
``cur_len + 1 - prompt_len``. alpha = 0 ranks by the raw sum, alpha = 1 (Hugging Face's default)
by the mean log-probability per token, alpha < 0 favours shorter sequences (GNMT's variant
((5 + length) / 6) ** alpha is not used). Candidates competing for the beam within one step all
have the same length, so alpha changes which hypotheses finish and win, never which stay live.

The narrowing variant (``narrowing=True``), the textbook's first version, keeps only
``k - (number finished)`` candidates per step, so the beam narrows as hypotheses finish and
exactly the first k finished are returned; it stops when no hypothesis is live.
With ``beam_width = 1`` and alpha = 0 either variant is greedy decoding, exactly. With a beam
at least as wide as the number of candidates nothing is dropped, and beam search is exhaustive.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from scratchlm.lm import LanguageModel
from scratchlm.sampling import _check_ids, score_rules, warm_up

EARLY_STOPPING = (True, False, "never")


def _check_positive_int(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def beam_search(model: LanguageModel, prompt_ids: Sequence[int] = (), beam_width: int = 5,
                max_len: int = 50, n_best: int = 1, length_penalty: float = 0.0,
                early_stopping: bool | str = False, narrowing: bool = False, *,
                repetition_penalty: float = 1.0, no_repeat_ngram_size: int = 0, min_new_tokens: int = 0,
                suppress_tokens: Sequence[int] | None = None,
                bad_words_ids: Sequence[Sequence[int]] | None = None,
                allow_unk: bool = False) -> list[tuple[list[int], float]]:
    """The ``n_best`` best continuations of ``prompt_ids`` that beam search finds, best first.

    Args:
        model: any :class:`~scratchlm.lm.LanguageModel`.
        prompt_ids: the context to continue, without ``<bos>``; may be empty.
        beam_width: k, the number of live hypotheses (Hugging Face's num_beams).
        max_len: at most this many tokens per hypothesis, ``<eos>`` included.
        n_best: how many hypotheses to return, at most ``beam_width`` (Hugging Face's
            num_return_sequences).
        length_penalty: alpha in score / length ** alpha (0: raw sum; 1: mean per token).
        early_stopping: True, False or "never"; see the module docstring.
        narrowing: the narrowing variant of the module docstring instead of the standard search.
        repetition_penalty, no_repeat_ngram_size, min_new_tokens, suppress_tokens,
        bad_words_ids, allow_unk: as in :func:`scratchlm.sampling.generate`; applied to the
            log-probabilities before they are added, as Hugging Face does.

    Returns:
        up to ``n_best`` pairs ``(ids, score)``, best first. ``ids`` is the continuation without
        the prompt and without its final ``<eos>`` (as :func:`scratchlm.sampling.generate`
        returns it): a hypothesis with fewer than ``max_len`` ids finished with ``<eos>``, one
        of exactly ``max_len`` ids was cut off. ``score`` is the summed (processed)
        log-probability of the scored tokens (the ids, plus ``<eos>`` when finished) divided by
        length ** alpha.
    """
    _check_positive_int(beam_width, "beam_width")
    _check_positive_int(max_len, "max_len")
    _check_positive_int(n_best, "n_best")
    if n_best > beam_width:
        raise ValueError(f"n_best ({n_best}) cannot exceed beam_width ({beam_width}): "
                         "at most beam_width hypotheses are kept as finished")
    if (isinstance(length_penalty, bool) or not isinstance(length_penalty, (int, float, np.number))
            or not np.isfinite(length_penalty)):
        raise ValueError(f"length_penalty must be a finite number, got {length_penalty!r}")
    if not any(early_stopping is value or (isinstance(early_stopping, str) and early_stopping == value)
               for value in EARLY_STOPPING):
        raise ValueError(f"early_stopping must be True, False or 'never', got {early_stopping!r}")
    if narrowing and early_stopping is not False:
        raise ValueError("the narrowing beam stops when no hypothesis is live; early_stopping applies "
                         "to the standard search only")
    rules = score_rules(model, repetition_penalty=repetition_penalty, no_repeat_ngram_size=no_repeat_ngram_size,
                        min_new_tokens=min_new_tokens, suppress_tokens=suppress_tokens,
                        bad_words_ids=bad_words_ids, allow_unk=allow_unk)
    prompt = _check_ids(prompt_ids, model, "prompt_ids")
    search = _narrowing_search if narrowing else _standard_search
    finished = search(model, rules, prompt, beam_width, max_len, float(length_penalty), early_stopping)
    return finished[:n_best]


def _expand(model, rules, state, sequences, scores, step):
    """Every candidate of this step, best first: (hypothesis row, token, summed score) arrays.

    sequences: (live, t) prompt and generated ids; scores: (live,) summed log-probabilities.
    Candidates of score -inf (ruled out) are left out.
    """
    candidates = scores[:, None] + rules.apply(model.log_probs(state), sequences, num_generated=step)  # (live, V)
    flat = candidates.ravel()
    order = np.argsort(-flat, kind="stable")  # flat index = row * V + token
    order = order[np.isfinite(flat[order])]
    rows, tokens = np.divmod(order, model.vocab_size)
    return rows, tokens, flat[order]


def _finished_hypothesis(sequence, prompt_len, token, eos_id):
    ids = sequence[prompt_len:].tolist()
    return ids if token == eos_id else ids + [int(token)]


def _standard_search(model, rules, prompt, k, max_len, alpha, early_stopping):
    """Hugging Face's beam search: k live hypotheses at every step, at most k finished ones."""
    state = warm_up(model, prompt)
    sequences = np.array([prompt], dtype=np.int64).reshape(1, len(prompt))  # (live, t)
    scores = np.zeros(1)  # (live,)
    finished: list[tuple[list[int], float]] = []  # best first, at most k
    for step in range(max_len):
        rows, tokens, totals = _expand(model, rules, state, sequences, scores, step)
        rows, tokens, totals = rows[: 2 * k], tokens[: 2 * k], totals[: 2 * k]
        ends = (tokens == model.eos_id) | (step + 1 == max_len)
        offered = [(_finished_hypothesis(sequences[row], len(prompt), token, model.eos_id), total / (step + 1) ** alpha)
                   for row, token, total, end in zip(rows[:k], tokens[:k], totals[:k], ends[:k]) if end]
        # A stable sort: among equal scores the earlier finished hypothesis stays ahead.
        finished = sorted(finished + offered, key=lambda hypothesis: -hypothesis[1])[:k]

        going = np.flatnonzero(~ends)[:k]
        if going.size == 0:
            break
        rows, tokens, scores = rows[going], tokens[going], totals[going]
        sequences = np.concatenate([sequences[rows], tokens[:, None]], axis=1)
        if len(finished) == k:
            if early_stopping is True:
                break
            length = max_len if (early_stopping == "never" and alpha > 0) else step + 1
            if scores[0] / length**alpha <= finished[-1][1]:
                break  # no live hypothesis can (by this test) beat the worst finished one
        state = model.advance(model.select(state, rows), tokens)
    return finished


def _narrowing_search(model, rules, prompt, k, max_len, alpha, early_stopping):
    """The narrowing beam: k - (number finished) candidates kept per step; the first k finished."""
    state = warm_up(model, prompt)
    sequences = np.array([prompt], dtype=np.int64).reshape(1, len(prompt))
    scores = np.zeros(1)
    finished: list[tuple[list[int], float]] = []
    for step in range(max_len):
        rows, tokens, totals = _expand(model, rules, state, sequences, scores, step)
        slots = k - len(finished)
        rows, tokens, totals = rows[:slots], tokens[:slots], totals[:slots]
        ends = (tokens == model.eos_id) | (step + 1 == max_len)
        finished += [(_finished_hypothesis(sequences[row], len(prompt), token, model.eos_id), total / (step + 1) ** alpha)
                     for row, token, total, end in zip(rows, tokens, totals, ends) if end]
        going = np.flatnonzero(~ends)
        if going.size == 0:
            break
        rows, tokens, scores = rows[going], tokens[going], totals[going]
        sequences = np.concatenate([sequences[rows], tokens[:, None]], axis=1)
        state = model.advance(model.select(state, rows), tokens)
    return sorted(finished, key=lambda hypothesis: -hypothesis[1])
