"""The n-gram baselines every neural model of the course is compared with.

:func:`baseline_models` fits them on the same ids the neural models see, so the comparison
tables put both through the same evaluation code (scratchlm.metrics): an add-one bigram (the
makemore baseline) and modified Kneser-Ney of orders 3 and 5 (the strongest count model).
"""
from __future__ import annotations

import numpy as np

from scratchlm.ngram.fit import fit_ngram


def baseline_models(train, kind: str, vocab, quick: bool = False):
    """[(label, fitted NGramLM)] for a training split.

    Args:
        train: for kind "lines", a list of items (sequences of ids without <bos>/<eos>); for kind
            "stream", one long sequence of ids (an unbroken text: no sentence markers).
        kind: "lines" or "stream".
        vocab: the tokenizer's Vocabulary (its size and its <bos>/<eos> ids).
        quick: only the add-one bigram and a modified-KN trigram.
    """
    if kind == "lines":
        sentences = [np.asarray(item, dtype=np.int64) for item in train]
        fit = lambda order, method: fit_ngram(sentences, order, method, vocab=vocab)
    elif kind == "stream":
        # one unbroken sequence: no sentence markers, so only the vocabulary's size is used
        stream = [np.asarray(train, dtype=np.int64)]
        fit = lambda order, method: fit_ngram(stream, order, method, vocab_size=len(vocab), bos_id=None, eos_id=None)
    else:
        raise ValueError(f"kind must be 'lines' or 'stream', got {kind!r}")
    models = [("add-one bigram", fit(2, "laplace")), ("modified Kneser-Ney 3-gram", fit(3, "mkn"))]
    if not quick:
        models.append(("modified Kneser-Ney 5-gram", fit(5, "mkn")))
    return models
