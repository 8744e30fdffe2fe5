"""fit_ngram: sentences in, a fitted NGramLM out, for every smoothing method of the course.

    model = fit_ngram(sentences, order=3, method="mkn")          # sentences: lists of strings
    model.perplexity(model_ids)  /  scratchlm.metrics.evaluate(model, ...)

Sentences are lists of tokens (strings: words, or characters for a character model). Without a
vocabulary, the vocabulary is closed over the training data: every training token plus
``<unk>`` (and the markers), tokens sorted so the same corpus always gives the same ids; at
evaluation, tokens outside it are scored as ``<unk>``. A Vocabulary of your own (say, a
tokenizer's) can be passed instead, and then the sentences may already be ids. Ids without a
Vocabulary object work too: give ``vocab_size`` (and ``bos_id``/``eos_id``, None for a model of
an unbroken stream of text, such as a novel read as one long sequence).

The distribution of every context is over the vocabulary plus ``</s>``; ``<s>`` and ``<pad>``
are never predicted (log-probability -inf).
"""
from __future__ import annotations

import inspect
import itertools
from typing import Sequence

import numpy as np

from scratchlm.ngram.counting import NGramCounts
from scratchlm.ngram.model import NGramLM
from scratchlm.text.vocab import SPECIALS, Vocabulary

MARKER_STRINGS = frozenset(("<s>", "</s>") + tuple(s for s in SPECIALS if s != "<unk>"))


def _methods():
    # Imported here so that each method's module imports nothing of this one.
    from scratchlm.ngram.absolute_discounting import fit_absolute_discounting
    from scratchlm.ngram.katz import fit_katz
    from scratchlm.ngram.kneser_ney import fit_kneser_ney, fit_modified_kneser_ney
    from scratchlm.ngram.linear_interpolation import fit_linear_interpolation
    from scratchlm.ngram.mle import fit_laplace, fit_lidstone, fit_mle
    from scratchlm.ngram.stupid_backoff import fit_stupid_backoff
    from scratchlm.ngram.witten_bell import fit_witten_bell

    return {"mle": fit_mle, "laplace": fit_laplace, "lidstone": fit_lidstone, "absdisc": fit_absolute_discounting,
            "katz": fit_katz, "interp": fit_linear_interpolation, "kn": fit_kneser_ney,
            "mkn": fit_modified_kneser_ney, "wb": fit_witten_bell, "stupid": fit_stupid_backoff}


METHODS = ("mle", "laplace", "lidstone", "absdisc", "katz", "interp", "kn", "mkn", "wb", "stupid")
METHOD_NAMES = {
    "mle": "maximum likelihood (no smoothing)",
    "laplace": "add-one (Laplace)",
    "lidstone": "add-alpha (Lidstone)",
    "absdisc": "absolute discounting, interpolated",
    "katz": "Katz back-off (Good-Turing)",
    "interp": "linear interpolation (EM lambdas)",
    "kn": "interpolated Kneser-Ney",
    "mkn": "modified Kneser-Ney",
    "wb": "Witten-Bell, interpolated",
    "stupid": "stupid backoff (not a distribution)",
}


def build_vocabulary(sentences: Sequence[Sequence[str]], tokens: set | None = None) -> Vocabulary:
    """The closed vocabulary of ``sentences``: every token, sorted, after the special tokens.

    ``tokens``, the set of tokens of ``sentences``, may be given when already known.
    """
    if tokens is None:
        tokens = set(itertools.chain.from_iterable(sentences))
    return Vocabulary(sorted(tokens - {"<unk>"}))


def encode_sentences(sentences, vocab: Vocabulary | None, vocab_size: int | None):
    """Sentences as lists of ids, and the vocabulary (built from them when none is given)."""
    sentences = list(sentences)
    for index, sentence in enumerate(sentences):
        if isinstance(sentence, (str, bytes)) or not hasattr(sentence, "__len__"):
            raise TypeError(f"sentence {index} must be a list of tokens (split it first), got {type(sentence).__name__}")
    first = next((s[0] for s in sentences if len(s)), None)
    if first is None or isinstance(first, str):
        if vocab_size is not None and vocab is None:
            raise TypeError("string tokens need a Vocabulary (vocab=...), not only vocab_size")
        used = set(itertools.chain.from_iterable(sentences))
        if any(not isinstance(t, str) for t in used):
            raise TypeError("every token of every sentence must be a string (or every one an int id)")
        markers = used & MARKER_STRINGS
        if markers:
            raise ValueError(f"sentences must not contain the markers {sorted(markers)}: "
                             "<s> and </s> are added around every sentence")
        if vocab is None:
            vocab = build_vocabulary(sentences, used)
        lookup, unk = vocab.stoi.get, itertools.repeat(vocab.unk_id)
        return [list(map(lookup, s, unk)) for s in sentences], vocab
    if vocab is None and vocab_size is None:
        raise TypeError("sentences of ids need vocab=Vocabulary or vocab_size=V")
    return [np.asarray(s, dtype=np.int64) for s in sentences], vocab


def fit_ngram(sentences, order: int, method: str = "mkn", vocab: Vocabulary | None = None, *,
              heldout=None, vocab_size: int | None = None, bos_id: int | None = Vocabulary.bos_id,
              eos_id: int | None = Vocabulary.eos_id, smoothing: str | None = None, **options) -> NGramLM:
    """Count ``sentences`` and fit an n-gram model of order ``order`` with ``method``.

    Args:
        sentences: lists of tokens: strings, or ids of ``vocab`` (or below ``vocab_size``),
            without ``<s>``/``</s>`` (added here).
        order: N >= 1 (2 = bigram).
        method: one of ``mle, laplace, lidstone, absdisc, katz, interp, kn, mkn, wb, stupid``
            (``smoothing=`` is accepted as another name for it).
        vocab: a Vocabulary; None builds the closed vocabulary of ``sentences``.
        heldout: sentences for ``interp``'s EM (None: the last 10% of ``sentences``).
        vocab_size, bos_id, eos_id: for id sentences without a Vocabulary object; bos_id /
            eos_id None model an unbroken stream (no sentence markers).
        **options: the method's own: ``alpha`` (lidstone; stupid: its back-off factor, 0.4),
            ``discount`` (absdisc, kn), ``discounts`` (mkn: N triples), ``k`` (katz, 5),
            ``max_iterations`` (interp).
    Returns:
        the fitted :class:`~scratchlm.ngram.model.NGramLM`.
    """
    if smoothing is not None:
        method = smoothing
    if method not in METHODS:
        raise ValueError(f"unknown n-gram method {method!r}; expected one of {', '.join(METHODS)}")
    fit_method = _methods()[method]
    accepted = [name for name in inspect.signature(fit_method).parameters if name != "counts"]
    internal = ("heldout", "training_sentences", "never_predicted")
    unknown = sorted(set(options) - set(accepted) | set(options) & set(internal))
    if unknown:
        public = [name for name in accepted if name not in internal]
        raise TypeError(f"method {method!r} takes no option {', '.join(unknown)}; its options: {', '.join(public) or 'none'}")
    ids, vocab = encode_sentences(sentences, vocab, vocab_size)
    if vocab is not None:
        vocab_size, bos_id, eos_id = len(vocab), vocab.bos_id, vocab.eos_id
    if not any(len(s) for s in ids) and (eos_id is None or not ids):
        raise ValueError("there is nothing to count: no sentences, or only empty ones")
    never_predicted = [vocab.pad_id] if vocab is not None else []
    counts = NGramCounts(ids, order, vocab_size, bos_id, eos_id, never_predicted=never_predicted)
    if method == "interp":
        options["heldout"] = None if heldout is None else encode_sentences(heldout, vocab, vocab_size)[0]
        options["training_sentences"] = ids
        options["never_predicted"] = never_predicted
    elif heldout is not None:
        raise ValueError(f"heldout data is used only by method 'interp', not {method!r}")
    log_prob, log_backoff, info = fit_method(counts, **options)
    info = {"ngrams_per_order": [len(t) for t in counts.tables], "num_sentences": counts.num_sentences, **info}
    return NGramLM(vocab_size, bos_id, eos_id, [t.keys for t in counts.tables], log_prob, log_backoff, method,
                   vocab=vocab, unseen_context_log_backoff=info.pop("unseen_context_log_backoff", 0.0),
                   is_distribution=method != "stupid", info=info)
