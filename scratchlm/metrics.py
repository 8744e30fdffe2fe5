"""Perplexity and bits per token: how surprised a language model is by held-out text.

For held-out tokens w_1 .. w_N, each predicted from its own context,

    total NLL      = - sum_i log P(w_i | context_i)          (nats)
    perplexity     = exp(total NLL / N)
    bits per token = total NLL / (N ln 2)  = log2(perplexity)

N counts the *predicted* tokens: ``<bos>`` is fed to the model and never predicted, so it is not
counted; ``<eos>`` is predicted (the model must say where a sequence ends), so it is. A model that
spreads its probability evenly over V tokens has perplexity V: it is as unsure as a fair V-sided
die. For a character model, bits per token is bits per character (``<eos>`` standing in for the
newline). To compare models with different tokenizations, divide by the same unit instead:
``result.bits_per(number_of_characters)``.

Two shapes of held-out data:

* :func:`evaluate` takes a list of sequences (names, sentences), each scored from ``<bos>`` and
  ending with ``<eos>``.
* :func:`evaluate_stream` takes one long stream of ids (a novel, tiny Shakespeare), cut into a few
  contiguous pieces that are scored side by side, each from the start state.
* :func:`evaluate_counted` reads one whole stream and counts only some of its positions (held-out
  names in their place in a list, ``scratchlm.data.heldout``): the model sees the true text before
  each counted token, counted or not.

Everything goes through :class:`~scratchlm.lm.LanguageModel`, so neural and n-gram models are
measured by the same code. A token of probability zero gives an infinite NLL and an infinite
perplexity: that is the truth about an unsmoothed model, and it is reported, not hidden.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from scratchlm.lm import LanguageModel

# exp(x) overflows a float64 above this; a perplexity that large is reported as inf.
LARGEST_EXPONENT = math.log(sys.float_info.max)


@dataclass(frozen=True)
class EvaluationResult:
    """Totals over the predicted tokens of some held-out data.

    Attributes:
        total_nll: - sum of log P(w_i | context), in nats.
        num_tokens: N, the number of predicted tokens (``<eos>`` counted, ``<bos>`` not).
    """

    total_nll: float
    num_tokens: int

    @property
    def nll_per_token(self) -> float:
        """Mean negative log-likelihood in nats: the training loss, measured on held-out data."""
        return self.total_nll / self.num_tokens

    @property
    def perplexity(self) -> float:
        """exp(total NLL / N)."""
        if self.nll_per_token > LARGEST_EXPONENT:
            return math.inf
        return math.exp(self.nll_per_token)

    @property
    def bits_per_token(self) -> float:
        """total NLL / (N ln 2) = log2(perplexity)."""
        return self.nll_per_token / math.log(2)

    def bits_per(self, num_units: int) -> float:
        """total NLL / (num_units ln 2): bits per character, byte or word of the same text."""
        if num_units < 1:
            raise ValueError(f"num_units must be >= 1, got {num_units}")
        return self.total_nll / (num_units * math.log(2))


def _check_sequence(model: LanguageModel, sequence: Sequence[int], what: str) -> np.ndarray:
    ids = np.asarray(sequence)
    if ids.ndim != 1 or ids.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D sequence of token ids, got shape {ids.shape}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"{what} must hold integer token ids, got dtype {ids.dtype}")
    if ids.min() < 0 or ids.max() >= model.vocab_size:
        raise ValueError(f"{what} holds ids outside the vocabulary 0..{model.vocab_size - 1}")
    if model.bos_id is not None and ids[0] == model.bos_id:
        raise ValueError(f"{what} starts with <bos>, which model.start() has already fed; leave it out")
    return ids


def token_log_probs(model: LanguageModel, sequence: Sequence[int]) -> np.ndarray:
    """log P(w_t | <bos>, w_<t) for every token of ``sequence``, shape (T,) float64, for plots.

    ``sequence`` is scored from ``model.start`` (so without ``<bos>``); end it with ``<eos>`` to
    score the end of the sequence too. -token_log_probs is each token's surprisal in nats.
    """
    ids = _check_sequence(model, sequence, "sequence")
    return np.asarray(model.sequence_log_probs(ids), dtype=np.float64)


def evaluate(model: LanguageModel, sequences: Iterable[Sequence[int]]) -> EvaluationResult:
    """Total NLL and token count of ``sequences``, each scored from ``<bos>``.

    Args:
        model: any LanguageModel (put a neural model in eval mode first).
        sequences: lists of ids without ``<bos>``; each must end with ``<eos>`` when the model has
            one (``model.eos_id`` not None), because predicting the end is part of the task.

    Returns:
        an :class:`EvaluationResult` (``.perplexity``, ``.bits_per_token``, ``.total_nll``,
        ``.num_tokens``).
    """
    total_nll, num_tokens = 0.0, 0
    for index, sequence in enumerate(sequences):
        ids = _check_sequence(model, sequence, f"sequence {index}")
        if model.eos_id is not None and ids[-1] != model.eos_id:
            raise ValueError(
                f"sequence {index} does not end with <eos> (id {model.eos_id}); perplexity counts "
                "<eos> as a predicted token, so append it (or use evaluate_stream for a stream)"
            )
        total_nll -= float(np.sum(model.sequence_log_probs(ids)))
        num_tokens += len(ids)
    if num_tokens == 0:
        raise ValueError("sequences is empty: there is nothing to evaluate")
    return EvaluationResult(total_nll=total_nll, num_tokens=num_tokens)


def perplexity(model: LanguageModel, sequences: Iterable[Sequence[int]]) -> float:
    """exp(total NLL / number of predicted tokens) over ``sequences``; see :func:`evaluate`."""
    return evaluate(model, sequences).perplexity


def evaluate_stream(model: LanguageModel, stream: Sequence[int], num_pieces: int = 16) -> EvaluationResult:
    """Total NLL and token count of one long stream of ids, every token predicted and counted.

    The stream is cut into ``num_pieces`` contiguous pieces of (nearly) equal length, as PyTorch's
    word-language-model example batches its test set. The pieces are read side by side, one batch
    row each, carrying the state from token to token::

        state = model.start(num_pieces)
        for t:  add log P(piece_r[t] | piece_r[:t]) for every row r;  state <- advance by piece_r[t]

    Each piece starts from ``model.start`` (after ``<bos>``), so its first few tokens see a
    shorter context than they would in the whole stream; more pieces run faster and cost a
    little more of that. num_pieces = 1 scores the stream exactly as one sequence.

    Args:
        model: any LanguageModel.
        stream: the ids, without ``<bos>``; shape (N,).
        num_pieces: how many rows to read in parallel (clipped to N).
    """
    ids = _check_sequence(model, stream, "stream")
    if isinstance(num_pieces, bool) or not isinstance(num_pieces, (int, np.integer)) or num_pieces < 1:
        raise ValueError(f"num_pieces must be an integer >= 1, got {num_pieces!r}")
    pieces = np.array_split(ids, min(num_pieces, len(ids)))
    lengths = np.array([len(piece) for piece in pieces])
    # Pieces differ in length by at most one. The short ones are padded at the final step, the
    # one step at which nothing is fed, and their score there is skipped.
    padded = np.stack([np.pad(piece, (0, lengths.max() - len(piece)), mode="edge") for piece in pieces])

    total_nll = 0.0
    state = model.start(len(pieces))
    rows = np.arange(len(pieces))
    for t in range(lengths.max()):
        logp = model.log_probs(state)  # (pieces, V)
        scored = t < lengths
        total_nll -= float(np.sum(logp[rows[scored], padded[scored, t]]))
        if t + 1 < lengths.max():
            state = model.advance(state, padded[:, t])
    return EvaluationResult(total_nll=total_nll, num_tokens=len(ids))


def evaluate_counted(model: LanguageModel, stream: Sequence[int], counted) -> EvaluationResult:
    """Total NLL over the ``counted`` positions of one stream, read whole from the start.

        total NLL = - sum_{t : counted[t]} log P(w_t | w_0 .. w_{t-1}),     N = number of counted t

    Every model reads the same true text ``w_0 .. w_{t-1}`` before position t, counted or not, and
    is charged only where ``counted`` is True; so two models scored with the same mask are scored
    on exactly the same characters in exactly the same contexts (each model uses as much of the
    context as it can: an n-gram model its last n-1 tokens, an RNN all of it). The stream is
    scored from ``model.start`` as one sequence (``model.sequence_log_probs``), the first token
    from the empty context.

    Args:
        model: any LanguageModel (put a neural model in eval mode first).
        stream: the ids, shape (N,), without ``<bos>``.
        counted: bool, shape (N,): which predictions count.
    """
    ids = _check_sequence(model, stream, "stream")
    mask = np.asarray(counted)
    if mask.dtype != bool or mask.shape != ids.shape:
        raise ValueError(f"counted must be a bool array of the stream's shape {ids.shape}, got {mask.dtype} {mask.shape}")
    num_tokens = int(mask.sum())
    if num_tokens == 0:
        raise ValueError("counted marks no position: there is nothing to evaluate")
    log_probs = np.asarray(model.sequence_log_probs(ids), dtype=np.float64)  # (N,)
    return EvaluationResult(total_nll=-float(np.sum(log_probs[mask])), num_tokens=num_tokens)
