"""From a corpus to the token ids a trainer eats: choose a tokenizer, fit it, encode the splits.

    corpus = load_corpus("finnish-names")                      # scratchlm.data
    tokenizer = fit_tokenizer(corpus, "char")
    train, valid, test = encode_corpus(tokenizer, corpus)      # lists of items, or 1-D id arrays

What each tokenizer is fitted on:

* char: the characters of *all* splits. The alphabet is not a secret of the training data, and a
  character seen only in the validation names would otherwise have no id at all.
* word, bpe: the training split only; unseen words become ``<unk>`` (word) or are spelled with
  smaller pieces and bytes (bpe), exactly as they would be on new text.
"""
from __future__ import annotations

import numpy as np

from scratchlm.text import TOKENIZERS, BPETokenizer, CharTokenizer, Tokenizer, WordTokenizer


def fit_tokenizer(corpus, kind: str = "char", max_vocab: int | None = None, min_count: int = 1,
                  word_split: str = "words", bpe_merges: int = 1000) -> Tokenizer:
    """A tokenizer of ``kind`` ("char", "word" or "bpe") fitted on ``corpus`` as described above."""
    if kind not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer {kind!r}: expected one of {', '.join(TOKENIZERS)}")
    splits = [corpus.train, corpus.valid, corpus.test]
    if kind == "char":
        if corpus.kind == "lines":
            return CharTokenizer.fit([item for split in splits for item in split])
        return CharTokenizer.fit([split for split in splits if split])
    if kind == "word":
        return WordTokenizer.fit(corpus.train, min_count=min_count, max_vocab=max_vocab, split=word_split)
    return BPETokenizer.fit(corpus.train, num_merges=bpe_merges)


def encode_split(tokenizer: Tokenizer, split, kind: str, unknown: str | None = None):
    """``kind="lines"``: a list of id lists, one per item; ``"stream"``: a 1-D int64 array.

    ``unknown``: the tokenizer's policy for tokens outside its vocabulary (None: its default).
    """
    options = {} if unknown is None else {"unknown": unknown}
    if kind == "lines":
        return [tokenizer.encode(item, **options) for item in split]
    return np.asarray(tokenizer.encode(split, **options), dtype=np.int64)


def encode_corpus(tokenizer: Tokenizer, corpus) -> tuple:
    """The train, validation and test splits of ``corpus`` as token ids (see :func:`encode_split`)."""
    return tuple(encode_split(tokenizer, split, corpus.kind) for split in (corpus.train, corpus.valid, corpus.test))
