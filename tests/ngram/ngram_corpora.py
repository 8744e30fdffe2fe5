"""Corpora shared by the n-gram tests (a plain module: tests import it by name).

TOY is the corpus of the worked examples (hand-derived numbers in the test comments)::

    <s> a b </s>      <s> a c </s>      <s> b a </s>

vocabulary ids: <pad>=0 <unk>=1 <s>=2 </s>=3 a=4 b=5 c=6, so V = 7 and the outcomes are
O = {<unk>, </s>, a, b, c}, |O| = 5.
"""
from __future__ import annotations

TOY = [["a", "b"], ["a", "c"], ["b", "a"]]


def lcg_corpus(num_sentences: int, vocab_size: int, seed: int = 1) -> list[list[str]]:
    """A reproducible corpus from a pure-Python linear congruential generator.

    Sentences of 1-12 words; each word depends on the previous one (so higher orders help) and
    word frequencies are skewed (so discounts can be estimated). No NumPy RNG: the text, and so
    the KenLM reference numbers computed from it, can never change with a library version.
    """
    state = seed
    def next_uniform():
        nonlocal state
        state = (1103515245 * state + 12345) % 2**31
        return state / 2**31
    sentences = []
    for _ in range(num_sentences):
        length = 1 + int(next_uniform() * 12)
        previous, words = 0, []
        for _ in range(length):
            if next_uniform() < 0.6:  # a habitual successor: n-grams repeat
                word = (7 * previous + 1) % vocab_size
            else:  # a skewed random word: small ids far more likely
                word = int(vocab_size * next_uniform() ** 3)
            words.append(f"w{word}")
            previous = word
        sentences.append(words)
    return sentences
