"""Choosing the next token, and generating text from any language model.

A language model gives scores (log-probabilities) for the next token. Decoding turns them into a
choice in two stages, in the order of Hugging Face's ``generate()``:

1. the *logits processors* of :mod:`scratchlm.processors` edit the scores using what has been
   generated so far: repetition penalty, no-repeat n-grams, bad words, min new tokens, suppressed
   tokens (the special tokens ``<pad>``, ``<bos>`` and, unless asked for, ``<unk>`` always);
2. for sampling, the *warpers* of this module reshape the distribution, then a token is drawn::

    scores z (batch, V)
      -> temperature   z / T                      T -> 0: argmax; T -> inf: uniform
      -> top-k         keep the tokens scoring at least the k-th highest score
      -> top-p         keep the most probable tokens until the rest hold at most 1 - p
      -> softmax       p_i = exp(z_i - max z) / sum_j exp(z_j - max z)
      -> sample        inverse CDF: u ~ U[0, 1), the first token whose cumulative sum exceeds u

   Greedy decoding takes the argmax of the processed scores instead; beam search
   (:mod:`scratchlm.beam`) sums them.

Each warper, like each processor, maps scores to scores and marks a removed token with
``-inf``, so they compose; :func:`filtered_probs` returns the exact distribution of the last
line, so a notebook can plot what each knob does; :func:`sample_next` draws from it;
:func:`greedy_next` is the argmax; :func:`generate` runs a whole continuation through the
:class:`~scratchlm.lm.LanguageModel` interface, with every option of Hugging Face's
``generate()`` under the same name.

Ties and boundaries follow Hugging Face, so that the same knobs give the same distributions:
top-k keeps every token tied with the k-th (a cut inside a tie would have to prefer one of two
equally probable tokens for no reason), top-p drops the least probable tokens while their
total is at most 1 - p, computed as Hugging Face computes it (see :func:`keep_top_p`), and keeps
ties of its last kept token too. Greedy decoding takes the first (lowest-id) maximum.

Logits may contain ``-inf`` (an n-gram model gives ``<bos>`` and ``<pad>`` probability zero);
such tokens get probability zero and are never drawn. Everything here is NumPy on the CPU: the
arrays are (batch, V), small next to a model's own work.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from scratchlm import backend
from scratchlm.lm import LanguageModel, never_generated_ids
from scratchlm.processors import ScoreRules


def _check_logits(logits) -> np.ndarray:
    scores = np.asarray(backend.asnumpy(logits), dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] == 0:
        raise ValueError(f"logits must have shape (batch, V) with V >= 1, got shape {scores.shape}")
    if np.isnan(scores).any() or (scores == np.inf).any():
        raise ValueError("logits must be finite or -inf; got NaN or +inf")
    impossible_rows = np.flatnonzero(np.all(scores == -np.inf, axis=1))
    if impossible_rows.size:
        raise ValueError(
            f"every token has logit -inf in row(s) {impossible_rows.tolist()}: nothing can be drawn"
        )
    return scores


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def _check_knobs(temperature, top_k, top_p, min_tokens_to_keep=1) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.number)) or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    if temperature <= 0:
        raise ValueError(
            f"temperature must be > 0, got {temperature!r} (for the argmax use greedy decoding)"
        )
    if top_k is not None and (not _is_int(top_k) or top_k < 1):
        raise ValueError(f"top_k must be an integer >= 1 or None, got {top_k!r}")
    if top_p is not None:
        if isinstance(top_p, bool) or not isinstance(top_p, (int, float, np.number)) or not 0 < top_p <= 1:
            raise ValueError(f"top_p must be a number in (0, 1] or None, got {top_p!r}")
    if not _is_int(min_tokens_to_keep) or min_tokens_to_keep < 1:
        raise ValueError(f"min_tokens_to_keep must be an integer >= 1, got {min_tokens_to_keep!r}")


def softmax(scores: np.ndarray) -> np.ndarray:
    """p_i = exp(z_i - max_j z_j) / sum_j exp(z_j - max_j z_j), along the last axis.

    Subtracting the maximum changes nothing mathematically but keeps every exponent <= 0, so
    nothing overflows; ``-inf`` scores give exactly 0.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


def apply_temperature(scores: np.ndarray, temperature: float) -> np.ndarray:
    """z <- (z - max z) / T, row by row (Hugging Face's TemperatureLogitsWarper divides by T).

    Subtracting the row maximum first changes no distribution (softmax, top-k and top-p ignore a
    constant per row) but makes every score <= 0 with the best at exactly 0. So when z / T would
    overflow (z = 1e308, or T = 1e-310), the best tokens stay at 0 and the others fall to -inf:
    the distribution is the argmax (shared among exact ties), which is the limit T -> 0.
    scores: (batch, V). Returns a new (batch, V) array.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = scores - scores.max(axis=1, keepdims=True)
        return shifted / temperature


def keep_top_k(scores: np.ndarray, k: int, min_tokens_to_keep: int = 1) -> np.ndarray:
    """Top-k (Fan et al. 2018): keep the tokens whose score is at least the k-th highest::

        z_i <- -inf   if z_i < z_(k)      (z_(k): the k-th largest score of the row)

    with k raised to ``min_tokens_to_keep`` if smaller and capped at V, as in Hugging Face's
    TopKLogitsWarper. A token tied with the k-th is kept, so more than k may stay: z = [3, 2, 2,
    1] with k = 2 keeps three tokens. scores: (batch, V). Returns a new (batch, V) array.
    """
    vocab_size = scores.shape[1]
    k = min(max(k, min_tokens_to_keep), vocab_size)
    kth_largest = np.partition(scores, vocab_size - k, axis=1)[:, vocab_size - k, None]  # (batch, 1)
    return np.where(scores < kth_largest, -np.inf, scores)


def keep_top_p(scores: np.ndarray, p: float, min_tokens_to_keep: int = 1) -> np.ndarray:
    """Nucleus (Holtzman et al. 2020): drop the least probable tokens while they hold at most 1 - p.

    With the probabilities sorted from the least probable up, q_(1) <= q_(2) <= ... <= q_(V), and
    their cumulative sums c_j = q_(1) + ... + q_(j), Hugging Face's TopPLogitsWarper drops::

        token (j)   if c_j <= 1 - p       and j <= V - min_tokens_to_keep

    In exact arithmetic that keeps the smallest set of most probable tokens whose probability is
    at least p, and the most probable token always stays. Where such a set holds exactly p,
    floating-point rounding decides; this function does the same float64 arithmetic as Hugging
    Face, so the two agree: [0.5, 0.2, 0.2, 0.1] with p = 0.9 keeps all four (three would hold
    exactly 0.9), since 1 - 0.9 is 0.09999999999999998 < 0.1. A token tied with the least probable kept token is kept
    too (Hugging Face's unstable sort would keep one of them arbitrarily), as in
    :func:`keep_top_k`. ``p >= 1`` keeps everything. scores: (batch, V). Returns a new array.
    """
    if p >= 1:
        return scores.copy()
    probs = softmax(scores)
    order = np.argsort(scores, axis=1, kind="stable")  # least probable first
    cumulative = np.cumsum(np.take_along_axis(probs, order, axis=1), axis=1)  # (batch, V)
    dropped = cumulative <= 1 - p
    dropped[:, max(scores.shape[1] - min_tokens_to_keep, 0):] = False
    # The dropped tokens are a prefix of `order`; the first kept one is the least probable kept.
    first_kept = np.argmin(dropped, axis=1)  # (batch,)
    threshold = np.take_along_axis(scores, order[np.arange(len(order)), first_kept][:, None], axis=1)
    return np.where(scores < threshold, -np.inf, scores)


def filtered_probs(logits, temperature: float = 1.0, top_k: int | None = None,
                   top_p: float | None = None, min_tokens_to_keep: int = 1) -> np.ndarray:
    """The distribution :func:`sample_next` draws from: temperature, then top-k, then top-p.

        z <- z / T;   z <- keep_top_k(z, top_k);   z <- keep_top_p(z, top_p);   p = softmax(z)

    Args:
        logits: (batch, V) scores z; unnormalised logits or log-probabilities alike (softmax
            ignores a constant per row). May contain -inf; NaN and +inf are errors.
        temperature: T > 0. T = 1 leaves the model's distribution as it is.
        top_k: keep the tokens scoring at least the k-th highest (None: keep all).
        top_p: keep the most probable tokens until the others hold at most 1 - top_p, in (0, 1]
            (None or 1: keep all).
        min_tokens_to_keep: top-k and top-p never keep fewer tokens than this (Hugging Face's
            name; it sets 2 for beam sampling so that a beam always has a second choice).

    Returns:
        probs: (batch, V) float64, each row summing to 1, zero outside the kept tokens.
    """
    _check_knobs(temperature, top_k, top_p, min_tokens_to_keep)
    scores = apply_temperature(_check_logits(logits), temperature)
    if top_k is not None:
        scores = keep_top_k(scores, top_k, min_tokens_to_keep)
    if top_p is not None:
        scores = keep_top_p(scores, top_p, min_tokens_to_keep)
    return softmax(scores)


def sample_categorical(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one token per row of ``probs`` (batch, V) by the inverse CDF; returns (batch,) int.

    With the cumulative sums c_i = p_0 + ... + p_i and one uniform draw u ~ U[0, 1) per row, the
    token is the first i with c_i > u * c_{V-1}; it lands on token i with probability
    (c_i - c_{i-1}) / c_{V-1} = p_i. (Scaling u by the last sum, which is 1 up to rounding,
    keeps the search inside the row.) A token of probability zero adds nothing to the sum, so
    it is never the first to exceed u. Since c is non-decreasing, "the first i with c_i > x" is
    the number of i with c_i <= x, which counts a whole batch at once.
    """
    cdf = np.cumsum(probs, axis=1)  # (batch, V)
    u = rng.random(probs.shape[0])  # (batch,)
    last_possible = probs.shape[1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=1)
    ids = np.count_nonzero(cdf <= (u * cdf[:, -1])[:, None], axis=1)
    # u * c can round up to c itself; the count then runs past the row, and the right token
    # is the last one with non-zero probability.
    return np.minimum(ids, last_possible).astype(np.int64)


def make_rng(rng) -> np.random.Generator:
    """A NumPy Generator from a Generator (used as is), a seed (int), or None (fresh entropy)."""
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}")


def sample_next(logits, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, rng=None, min_tokens_to_keep: int = 1) -> np.ndarray:
    """Draw the next token of each row from :func:`filtered_probs` (logits, T, k, p).

    Args:
        logits: (batch, V) scores; see :func:`filtered_probs`.
        temperature, top_k, top_p, min_tokens_to_keep: as in :func:`filtered_probs`.
        rng: a numpy Generator (advanced in place, so successive calls differ), an int seed, or
            None for fresh entropy. The same seed gives the same tokens.

    Returns:
        ids: (batch,) int64.
    """
    probs = filtered_probs(logits, temperature=temperature, top_k=top_k, top_p=top_p,
                           min_tokens_to_keep=min_tokens_to_keep)
    return sample_categorical(probs, make_rng(rng))


def greedy_next(logits) -> np.ndarray:
    """The most probable token of each row (ties: lower id). logits (batch, V) -> (batch,) int64."""
    return np.argmax(_check_logits(logits), axis=1).astype(np.int64)


def _check_ids(ids, model: LanguageModel, what: str) -> list[int]:
    array = np.asarray(backend.asnumpy(ids))
    if array.ndim != 1:
        raise ValueError(f"{what} must be a 1-D sequence of token ids, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{what} must hold integer token ids, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= model.vocab_size):
        raise ValueError(f"{what} holds ids outside the vocabulary 0..{model.vocab_size - 1}")
    return array.astype(np.int64).tolist()


def warm_up(model: LanguageModel, prompt_ids: Sequence[int]):
    """The state of one context after ``<bos>`` (from ``model.start``) and then the prompt.

    The prompt must not repeat ``<bos>``: ``start`` has already fed it.
    """
    prompt = _check_ids(prompt_ids, model, "prompt_ids")
    if prompt and model.bos_id is not None and prompt[0] == model.bos_id:
        raise ValueError("prompt_ids starts with <bos>, which model.start() has already fed; leave it out")
    state = model.start(1)
    for token in prompt:
        state = model.advance(state, np.array([token]))
    return state


def generate(model: LanguageModel, prompt_ids: Sequence[int] = (), n: int = 1, max_len: int = 100,
             temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
             rng=None, greedy: bool = False, *, min_tokens_to_keep: int = 1,
             repetition_penalty: float = 1.0, no_repeat_ngram_size: int = 0, min_new_tokens: int = 0,
             suppress_tokens: Sequence[int] | None = None,
             bad_words_ids: Sequence[Sequence[int]] | None = None, allow_unk: bool = False,
             num_beams: int = 1, num_return_sequences: int = 1, length_penalty: float = 1.0,
             early_stopping: bool | str = False) -> list[list[int]]:
    """Continue ``prompt_ids``: sampling (default), greedy decoding, or beam search (num_beams > 1).

    The options have the names and meanings of Hugging Face's ``generate()`` (its ``max_new_tokens``
    is ``max_len`` here, its ``do_sample=False`` is ``greedy=True`` or ``num_beams > 1``).
    Sampling and greedy decoding read ``<bos>`` (``model.start``) and the prompt once, copy that
    state to every row with ``model.select``, and then decode all rows together, one batched
    step at a time::

        for each step:  z = model.log_probs(state)                       # (rows still going, V)
                        z = processors(z, prompt + tokens so far)         # scratchlm.processors
                        w = sample_next(z, T, k, p, rng)   or   argmax z
                        rows that drew <eos> stop; the others advance by w

    Args:
        model: any :class:`~scratchlm.lm.LanguageModel` (put a neural model in eval mode first).
        prompt_ids: the context to continue, without ``<bos>``; may be empty.
        n: number of prompt copies decoded side by side (Hugging Face's batch of one prompt).
        max_len: at most this many tokens are generated per continuation, ``<eos>`` included.
        temperature, top_k, top_p, min_tokens_to_keep: the sampling warpers, see
            :func:`filtered_probs`; ignored by greedy decoding and beam search, which do not sample
            (as Hugging Face ignores them when ``do_sample=False``).
        rng: numpy Generator, int seed or None; the same seed gives the same continuations.
        greedy: take the most probable (processed) score at every step instead of sampling.
        repetition_penalty, no_repeat_ngram_size, min_new_tokens, suppress_tokens, bad_words_ids:
            the logits processors, applied in that order before the warpers; see
            :mod:`scratchlm.processors`. The prompt counts as seen.
        allow_unk: let ``<unk>`` be generated. ``<pad>`` and ``<bos>`` never are (see
            :func:`scratchlm.lm.never_generated_ids`).
        num_beams: > 1 hands the search to :func:`scratchlm.beam.beam_search` with this many beams.
        num_return_sequences: continuations returned per prompt copy: samples drawn, or the best
            beam hypotheses (at most num_beams). Greedy decoding has only one.
        length_penalty, early_stopping: beam search only; see :func:`scratchlm.beam.beam_search`
            (Hugging Face's defaults, 1.0 and False).

    Returns:
        n * num_return_sequences lists of generated ids: the continuation only, without the prompt
        and without the ``<eos>`` that ended it. A continuation shorter than ``max_len`` ended with
        ``<eos>``; one of exactly ``max_len`` tokens was cut off (a model whose eos_id is None
        always is). Beam search returns its hypotheses best first.
    """
    for name, value in (("n", n), ("max_len", max_len), ("num_beams", num_beams),
                        ("num_return_sequences", num_return_sequences)):
        if not _is_int(value) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    processor_options = dict(repetition_penalty=repetition_penalty, no_repeat_ngram_size=no_repeat_ngram_size,
                             min_new_tokens=min_new_tokens, suppress_tokens=suppress_tokens,
                             bad_words_ids=bad_words_ids, allow_unk=allow_unk)
    if not greedy and num_beams == 1:
        _check_knobs(temperature, top_k, top_p, min_tokens_to_keep)
    if num_beams > 1:
        if n != 1:
            raise ValueError(f"beam search is deterministic: n copies would all be the same; use n=1, got n={n}")
        # Imported here because beam.py itself builds on this module's warm_up.
        from scratchlm.beam import beam_search
        hypotheses = beam_search(model, prompt_ids, beam_width=num_beams, max_len=max_len,
                                 n_best=num_return_sequences, length_penalty=length_penalty,
                                 early_stopping=early_stopping, **processor_options)
        return [ids for ids, _ in hypotheses]
    if greedy and num_return_sequences != 1:
        raise ValueError(f"greedy decoding has one answer; num_return_sequences must be 1, got {num_return_sequences}")

    rules = score_rules(model, **processor_options)
    rng = make_rng(rng)
    prompt = _check_ids(prompt_ids, model, "prompt_ids")
    rows = n * num_return_sequences
    state = model.select(warm_up(model, prompt), np.zeros(rows, dtype=np.int64))
    sequences = np.tile(np.array(prompt, dtype=np.int64), (rows, 1))  # (rows still going, t)
    continuations: list[list[int]] = [[] for _ in range(rows)]
    going = np.arange(rows)  # which continuation each row of `state` belongs to
    for step in range(max_len):
        scores = rules.apply(model.log_probs(state), sequences, num_generated=step)
        ruled_out = np.flatnonzero(np.all(scores == -np.inf, axis=1))
        if ruled_out.size:
            raise ValueError(f"at step {step} the decoding options rule out every token of continuation(s) "
                             f"{going[ruled_out].tolist()}; relax them")
        if greedy:
            tokens = greedy_next(scores)
        else:
            tokens = sample_next(scores, temperature=temperature, top_k=top_k, top_p=top_p, rng=rng,
                                 min_tokens_to_keep=min_tokens_to_keep)
        sequences = np.concatenate([sequences, tokens[:, None]], axis=1)
        ended = tokens == model.eos_id if model.eos_id is not None else np.zeros(len(tokens), bool)
        if step + 1 == max_len:
            ended[:] = True
        for row in np.flatnonzero(ended):
            generated = sequences[row, len(prompt):]
            continuations[going[row]] = generated[:-1].tolist() if tokens[row] == model.eos_id else generated.tolist()
        if ended.all():
            break
        if ended.any():
            keep = np.flatnonzero(~ended)
            state, tokens, going, sequences = model.select(state, keep), tokens[keep], going[keep], sequences[keep]
        state = model.advance(state, tokens)
    return continuations


def score_rules(model: LanguageModel, repetition_penalty: float = 1.0, no_repeat_ngram_size: int = 0,
                min_new_tokens: int = 0, suppress_tokens=None, bad_words_ids=None,
                allow_unk: bool = False) -> ScoreRules:
    """The logits processors for ``model``, with its special tokens suppressed (see
    :func:`scratchlm.lm.never_generated_ids`); shared by :func:`generate` and beam search."""
    if not isinstance(allow_unk, (bool, np.bool_)):
        raise TypeError(f"allow_unk must be True or False, got {allow_unk!r}")
    return ScoreRules.build(model.vocab_size, model.eos_id, repetition_penalty=repetition_penalty,
                            no_repeat_ngram_size=no_repeat_ngram_size, bad_words_ids=bad_words_ids,
                            min_new_tokens=min_new_tokens, suppress_tokens=suppress_tokens,
                            never_generated=never_generated_ids(model, allow_unk=bool(allow_unk)))
