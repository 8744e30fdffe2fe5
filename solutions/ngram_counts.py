"""Solution: counting n-grams in padded sentences."""
from collections import Counter


def count_ngrams(sentences, n):
    """Every n-gram of every sentence padded as <s> w_1 .. w_m </s> (one <s>)."""
    counts = Counter()
    for sentence in sentences:
        padded = ["<s>"] + list(sentence) + ["</s>"]
        for start in range(len(padded) - n + 1):
            counts[tuple(padded[start : start + n])] += 1
    return counts
