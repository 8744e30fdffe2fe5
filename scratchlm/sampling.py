"""Choosing the next token, and generating text from any language model.

A language model gives scores (logits, or log-probabilities) for the next token. A *decoding rule*
turns them into a choice. This module writes out the usual rules, one step each, in the order
they are applied (the order Hugging Face's ``generate`` uses)::

    logits z (batch, V)
      -> temperature   z / T                      T -> 0: argmax; T -> inf: uniform
      -> softmax       p_i = exp(z_i - max z) / sum_j exp(z_j - max z)
      -> top-k         keep the k most probable tokens, renormalise
      -> top-p         keep the smallest set whose probability reaches p, renormalise
      -> sample        inverse CDF: u ~ U[0, 1), the first token whose cumulative sum exceeds u

:func:`filtered_probs` returns the exact distribution of the last line, so a notebook can plot
what each knob does; :func:`sample_next` draws from it; :func:`greedy_next` is the argmax;
:func:`generate` runs a whole continuation through the :class:`~scratchlm.lm.LanguageModel`
interface.

Ties are broken the same way everywhere: among tokens of equal probability, the lower id ranks
first. So top-k keeps exactly k tokens, top-p's "smallest set" is unique, and the argmax is the
first maximum.

Logits may contain ``-inf`` (an n-gram model gives ``<bos>`` and ``<pad>`` probability zero);
such tokens get probability zero and are never drawn. Everything here is NumPy on the CPU: the
arrays are (batch, V), small next to a model's own work.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from scratchlm import backend
from scratchlm.lm import LanguageModel

# Cumulative sums are rounded; a prefix that misses p by less than this fraction of p still
# "reaches" it, so 0.5 + 0.2 + 0.2 (= 0.8999999999999999 in floating point) reaches p = 0.9.
TOP_P_ROUNDING = 1e-9


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


def _check_knobs(temperature, top_k, top_p) -> None:
    if not isinstance(temperature, (int, float, np.number)) or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    if temperature <= 0:
        raise ValueError(
            f"temperature must be > 0, got {temperature!r} (for the argmax use greedy decoding)"
        )
    if top_k is not None:
        if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
            raise ValueError(f"top_k must be an integer >= 1 or None, got {top_k!r}")
    if top_p is not None:
        if not isinstance(top_p, (int, float, np.number)) or not 0 < top_p <= 1:
            raise ValueError(f"top_p must be a number in (0, 1] or None, got {top_p!r}")


def softmax(scores: np.ndarray) -> np.ndarray:
    """p_i = exp(z_i - max_j z_j) / sum_j exp(z_j - max_j z_j), along the last axis.

    Subtracting the maximum changes nothing mathematically but keeps every exponent <= 0, so
    nothing overflows even for z / T with T = 1e-4; ``-inf`` scores give exactly 0.
    """
    shifted = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


def rank_tokens(values: np.ndarray) -> np.ndarray:
    """Token ids of each row sorted from the largest value down; equal values: lower id first.

    values: (batch, V). Returns (batch, V) int. A stable sort of -values keeps tied ids in
    increasing order, which is the tie-breaking rule of this whole module.
    """
    return np.argsort(-values, axis=1, kind="stable")


def keep_top_k(probs: np.ndarray, k: int) -> np.ndarray:
    """Zero all but the k most probable tokens of each row, then renormalise.

    probs: (batch, V), rows summing to 1. Exactly min(k, V) tokens are kept (ties: lower ids);
    a kept token may still have probability zero if fewer than k tokens are possible.
    """
    order = rank_tokens(probs)
    dropped = order[:, k:]
    truncated = probs.copy()
    np.put_along_axis(truncated, dropped, 0.0, axis=1)
    return truncated / truncated.sum(axis=1, keepdims=True)


def keep_top_p(probs: np.ndarray, p: float) -> np.ndarray:
    """Nucleus (Holtzman et al. 2020): keep the smallest set of tokens whose probability reaches p.

    Rank the tokens by probability (ties: lower id first) and keep the shortest prefix of that
    ranking whose probabilities sum to at least p; then renormalise. A token is in the prefix
    exactly when the tokens ranked before it sum to *less* than p, so the most probable token is
    always kept. probs: (batch, V), rows summing to 1.
    """
    if p >= 1:
        return probs
    order = rank_tokens(probs)
    sorted_probs = np.take_along_axis(probs, order, axis=1)
    mass_before = np.cumsum(sorted_probs, axis=1) - sorted_probs  # (batch, V)
    dropped_sorted = mass_before >= p * (1 - TOP_P_ROUNDING)
    truncated = probs.copy()
    np.put_along_axis(truncated, order, np.where(dropped_sorted, 0.0, sorted_probs), axis=1)
    return truncated / truncated.sum(axis=1, keepdims=True)


def filtered_probs(logits, temperature: float = 1.0, top_k: int | None = None,
                   top_p: float | None = None) -> np.ndarray:
    """The distribution :func:`sample_next` draws from: temperature, then top-k, then top-p.

        p = softmax(z / T);   p <- keep_top_k(p, top_k);   p <- keep_top_p(p, top_p)

    Args:
        logits: (batch, V) scores z; unnormalised logits or log-probabilities alike (softmax
            ignores a constant per row). May contain -inf; NaN and +inf are errors.
        temperature: T > 0. T = 1 leaves the model's distribution as it is.
        top_k: keep the k most probable tokens (None: keep all).
        top_p: keep the smallest set of tokens whose probability reaches top_p, in (0, 1]
            (None or 1: keep all).

    Returns:
        probs: (batch, V) float64, each row summing to 1, zero outside the kept tokens.
    """
    _check_knobs(temperature, top_k, top_p)
    scores = _check_logits(logits)
    probs = softmax(scores / temperature)
    if top_k is not None:
        probs = keep_top_k(probs, top_k)
    if top_p is not None:
        probs = keep_top_p(probs, top_p)
    return probs


def sample_categorical(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one token per row of ``probs`` (batch, V) by the inverse CDF; returns (batch,) int.

    With the cumulative sums c_i = p_0 + ... + p_i and one uniform draw u ~ U[0, 1) per row, the
    token is the first i with c_i > u * c_{V-1}; it lands on token i with probability
    (c_i - c_{i-1}) / c_{V-1} = p_i. (Scaling u by the last sum, which is 1 up to rounding,
    keeps the search inside the row.) A token of probability zero adds nothing to the sum, so
    it is never the first to exceed u.
    """
    cdf = np.cumsum(probs, axis=1)  # (batch, V)
    u = rng.random(probs.shape[0])  # (batch,)
    last_possible = probs.shape[1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=1)
    ids = np.empty(probs.shape[0], dtype=np.int64)
    for row in range(probs.shape[0]):
        ids[row] = np.searchsorted(cdf[row], u[row] * cdf[row, -1], side="right")
    # u * c can round up to c itself; the search then runs past the row, and the right token
    # is the last one with non-zero probability.
    return np.minimum(ids, last_possible)


def make_rng(rng) -> np.random.Generator:
    """A NumPy Generator from a Generator (used as is), a seed (int), or None (fresh entropy)."""
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}")


def sample_next(logits, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, rng=None) -> np.ndarray:
    """Draw the next token of each row from :func:`filtered_probs` (logits, T, k, p).

    Args:
        logits: (batch, V) scores; see :func:`filtered_probs`.
        temperature, top_k, top_p: as in :func:`filtered_probs`.
        rng: a numpy Generator (advanced in place, so successive calls differ), an int seed, or
            None for fresh entropy. The same seed gives the same tokens.

    Returns:
        ids: (batch,) int64.
    """
    probs = filtered_probs(logits, temperature=temperature, top_k=top_k, top_p=top_p)
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
             rng=None, greedy: bool = False) -> list[list[int]]:
    """Continue ``prompt_ids`` ``n`` times, sampling (or, with greedy=True, taking the argmax).

    The model reads ``<bos>`` (``model.start``) and the prompt once; that state is then copied
    to ``n`` rows with ``model.select`` and the n continuations are drawn together, one batched
    step at a time::

        for each step:  logp = model.log_probs(state)            # (rows still going, V)
                        w    = sample_next(logp, T, k, p, rng)   # or argmax
                        rows that drew <eos> stop; the others advance by w

    Args:
        model: any :class:`~scratchlm.lm.LanguageModel` (put a neural model in eval mode first).
        prompt_ids: the context to continue, without ``<bos>``; may be empty.
        n: number of continuations, drawn as one batch.
        max_len: at most this many tokens are drawn per continuation, ``<eos>`` included.
        temperature, top_k, top_p: see :func:`filtered_probs` (ignored when greedy=True).
        rng: numpy Generator, int seed or None; the same seed gives the same continuations.
        greedy: take the most probable token at every step instead of sampling.

    Returns:
        n lists of generated ids: the continuation only, without the prompt and without the
        ``<eos>`` that ended it. A continuation shorter than ``max_len`` ended with ``<eos>``;
        one of exactly ``max_len`` tokens was cut off (a model whose eos_id is None always is).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 1:
        raise ValueError(f"max_len must be an integer >= 1, got {max_len!r}")
    if not greedy:
        _check_knobs(temperature, top_k, top_p)
    rng = make_rng(rng)

    state = model.select(warm_up(model, prompt_ids), np.zeros(n, dtype=np.int64))
    continuations: list[list[int]] = [[] for _ in range(n)]
    going = np.arange(n)  # which continuation each row of `state` belongs to
    for step in range(max_len):
        logp = model.log_probs(state)  # (len(going), V)
        if greedy:
            tokens = greedy_next(logp)
        else:
            tokens = sample_next(logp, temperature=temperature, top_k=top_k, top_p=top_p, rng=rng)
        ended = tokens == model.eos_id if model.eos_id is not None else np.zeros(len(tokens), bool)
        for row in np.flatnonzero(~ended):
            continuations[going[row]].append(int(tokens[row]))
        if ended.all() or step + 1 == max_len:
            break
        if ended.any():
            keep = np.flatnonzero(~ended)
            state, tokens, going = model.select(state, keep), tokens[keep], going[keep]
        state = model.advance(state, tokens)
    return continuations
