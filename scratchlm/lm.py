"""The one interface every language model implements.

A language model, seen from outside, is three operations on a *state* (whatever summarises the
context so far: an RNN's hidden vectors, an n-gram model's last n-1 tokens)::

    state = model.start(batch_size)        # the state after <bos>, one row per sequence
    logp  = model.log_probs(state)         # (batch, V) float64: log P(next token | context)
    state = model.advance(state, tokens)   # tokens: (batch,) int ids, appended to each context

plus ``model.select(state, rows)``, which keeps or repeats rows of a batched state (beam search
reorders its hypotheses with it, generation repeats one prompt n times with it).

Which ids are never generated. ``<pad>`` fills batches and ``<bos>`` is only ever fed, so decoding
never produces either; ``<unk>`` stands for "some word outside the vocabulary" and is produced
only when the caller asks for it. :func:`never_generated_ids` reads these ids from the model: its
``bos_id``, and, when the model knows its :class:`~scratchlm.text.vocab.Vocabulary` as
``model.vocab`` (the n-gram models built from text do; give a neural model its tokenizer's with
``model.vocab = tokenizer.vocab``), that vocabulary's ``<pad>``, ``<bos>`` and ``<unk>``.

Perplexity (``scratchlm.metrics``), sampling and generation (``scratchlm.sampling``) and beam
search (``scratchlm.beam``) are written once against these four methods, so they serve neural
and n-gram models alike.

:meth:`LanguageModel.sequence_log_probs` scores whole sequences through the same four methods;
a model may override it with a faster equivalent computation (an RNN scores a whole sequence in
one forward pass), and tests check that the override agrees with this generic definition.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Sequence

import numpy as np

State = Any


class LanguageModel(ABC):
    """Base class of every scratchlm language model.

    Attributes every subclass sets:
        vocab_size: V, the number of token ids the model predicts over.
        bos_id: the id that starts every context (it is fed, never predicted), or None.
        eos_id: the id that ends a sequence (it is predicted and scored), or None for models of
            an unbroken stream of text.

    Optional attribute:
        vocab: the :class:`~scratchlm.text.vocab.Vocabulary` whose ids the model predicts, or None.
            Decoding reads the special tokens to leave out from it (see :func:`never_generated_ids`).
    """

    vocab_size: int
    bos_id: int | None = None
    eos_id: int | None = None
    vocab = None

    @abstractmethod
    def start(self, batch_size: int) -> State:
        """The state of ``batch_size`` empty contexts (just after ``<bos>``)."""

    @abstractmethod
    def log_probs(self, state: State) -> np.ndarray:
        """Log-probabilities of the next token, a NumPy float64 array of shape (batch, V)."""

    @abstractmethod
    def advance(self, state: State, tokens: np.ndarray) -> State:
        """The state after appending ``tokens`` (shape (batch,), int) to each context."""

    @abstractmethod
    def select(self, state: State, rows: np.ndarray) -> State:
        """The state made of rows ``rows`` (shape (k,), int) of ``state``, in that order."""

    def sequence_log_probs(self, sequence: Sequence[int]) -> np.ndarray:
        """log P(w_t | w_<t) for every token of ``sequence`` (shape (T,), float64).

        The sequence is scored from :meth:`start`, i.e. after ``<bos>``; ``<bos>`` itself is not
        part of ``sequence`` and not scored. Include ``<eos>`` at the end to score it.
        """
        tokens = np.asarray(sequence)
        scores = np.empty(len(tokens), dtype=np.float64)
        state = self.start(1)
        for t, token in enumerate(tokens):
            scores[t] = self.log_probs(state)[0, token]
            if t + 1 < len(tokens):
                state = self.advance(state, tokens[t : t + 1])
        return scores


def never_generated_ids(model: LanguageModel, allow_unk: bool = False) -> list[int]:
    """The ids that sampling, greedy decoding and beam search never produce, sorted.

    These are the model's ``bos_id`` and, when ``model.vocab`` is set, that vocabulary's ``<pad>``
    and ``<bos>``, and its ``<unk>`` unless ``allow_unk``. (A stream model has no ``bos_id`` of its
    own, yet its vocabulary still holds a ``<bos>`` that must not appear in its text.) ``<eos>`` is
    not among them: it ends a generated sequence.
    """
    ids = set() if model.bos_id is None else {int(model.bos_id)}
    vocab = getattr(model, "vocab", None)
    if vocab is not None:
        if len(vocab) != model.vocab_size:
            raise ValueError(f"model.vocab has {len(vocab)} tokens but the model predicts {model.vocab_size}")
        ids |= {vocab.pad_id, vocab.bos_id}
        if not allow_unk:
            ids.add(vocab.unk_id)
    return sorted(ids)
