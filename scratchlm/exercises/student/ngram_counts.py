"""Exercise count_ngrams: the counts an n-gram model is built from.

Every sentence (a list of word strings) is padded as  <s> w_1 .. w_m </s>  (ONE <s>, as KenLM
and SRILM do: an n-gram that starts at <s> marks a sentence start of any order). Count every
n-gram that fits inside a padded sentence; no n-gram crosses from one sentence into the next.
e.g. the sentence [a, b] has the bigrams (<s>, a), (a, b), (b, </s>) and the trigrams
(<s>, a, b), (a, b, </s>); the empty sentence has one bigram (<s>, </s>) and no trigram.

Check with:  scratchlm exercise check ngram_counts.py
"""
from collections import Counter


def count_ngrams(sentences, n):
    """Args: sentences, a list of lists of strings; n >= 2. Returns: a dict (or Counter) tuple -> count."""
    raise NotImplementedError("write this: pad each sentence, slide a window of n tokens")
