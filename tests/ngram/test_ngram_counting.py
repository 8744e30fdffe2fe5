"""Vectorised counting against a brute-force Python count of the same padded sentences."""
from collections import Counter

import numpy as np
import pytest

from scratchlm.ngram.counting import NGramCounts, counts_of_counts, pad_sentences
from scratchlm.ngram.fit import encode_sentences

from ngram_corpora import lcg_corpus


def brute_force_counts(sentences, order, bos, eos):
    counts = Counter()
    for sentence in sentences:
        padded = [bos] + list(sentence) + [eos]
        for n in range(1, order + 1):
            for i in range(len(padded) - n + 1):
                counts[tuple(padded[i:i + n])] += 1
    return counts


def table_as_dict(counts: NGramCounts, n: int):
    """{ngram ids: count} read back from the trie (context rows -> words)."""
    ids = np.empty((len(counts.table(n)), n), dtype=np.int64)
    row = np.arange(len(counts.table(n)))
    for position in range(n - 1, -1, -1):
        table = counts.table(position + 1)
        ids[:, position] = table.words[row]
        row = table.context_rows[row]
    return {tuple(int(x) for x in r): int(c) for r, c in zip(ids, counts.table(n).counts) if c > 0}


@pytest.mark.parametrize("order", [1, 2, 4])
def test_counts_equal_a_brute_force_count(order):
    sentences, vocab = encode_sentences(lcg_corpus(60, 15, seed=3) + [[]], None, None)
    counts = NGramCounts(sentences, order, len(vocab), vocab.bos_id, vocab.eos_id)
    expected = brute_force_counts(sentences, order, vocab.bos_id, vocab.eos_id)
    for n in range(1, order + 1):
        want = {g: c for g, c in expected.items() if len(g) == n and g != (vocab.bos_id,)}
        assert table_as_dict(counts, n) == want
    assert counts.table(1).counts[vocab.bos_id] == 0  # <s> is never an outcome


def test_no_ngram_crosses_a_sentence_boundary():
    counts = NGramCounts([[4], [5]], 3, 6, bos_id=2, eos_id=3)
    assert set(table_as_dict(counts, 3)) == {(2, 4, 3), (2, 5, 3)}
    assert set(table_as_dict(counts, 2)) == {(2, 4), (4, 3), (2, 5), (5, 3)}


def test_stream_mode_counts_segments_without_markers():
    counts = NGramCounts([[4, 5, 4, 5]], 2, 6, bos_id=None, eos_id=None)
    assert table_as_dict(counts, 2) == {(4, 5): 2, (5, 4): 1}
    assert counts.table(1).counts.tolist() == [0, 0, 0, 0, 2, 2]


def test_continuation_counts_and_context_statistics_by_brute_force():
    sentences, vocab = encode_sentences(lcg_corpus(80, 12, seed=5), None, None)
    counts = NGramCounts(sentences, 3, len(vocab), vocab.bos_id, vocab.eos_id)
    all_counts = brute_force_counts(sentences, 3, vocab.bos_id, vocab.eos_id)
    for n in (1, 2):
        left = counts.left_extension_counts(n)
        for g, row in _rows(counts, n).items():
            assert left[row] == sum(1 for h in all_counts if len(h) == n + 1 and h[1:] == g)
    # context totals c(h) and N1(h .), N2+(h .) of the trigram order
    c = counts.table(3).counts
    totals, n1, n2plus = counts.context_sums(3, c), counts.context_count_of_counts(3, c, 1), \
        counts.context_count_of_counts(3, c, 2, or_more=True)
    for h, row in _rows(counts, 2).items():
        following = [v for g, v in all_counts.items() if len(g) == 3 and g[:2] == h]
        assert totals[row] == sum(following)
        assert n1[row] == sum(1 for v in following if v == 1)
        assert n2plus[row] == sum(1 for v in following if v >= 2)


def _rows(counts, n):
    return {g: i for i, g in enumerate(_ids(counts, n))}


def _ids(counts, n):
    ids = np.empty((len(counts.table(n)), n), dtype=np.int64)
    row = np.arange(len(counts.table(n)))
    for position in range(n - 1, -1, -1):
        table = counts.table(position + 1)
        ids[:, position] = table.words[row]
        row = table.context_rows[row]
    return [tuple(int(x) for x in r) for r in ids]


def test_counts_of_counts():
    # counts 1,1,2,3,5,5,5 -> n_0..n_4 = 0, 2, 1, 1, 0 (5 is above the largest r asked for)
    assert counts_of_counts(np.array([1, 1, 2, 3, 5, 5, 5]), 4).tolist() == [0, 2, 1, 1, 0]


def test_padding_layout():
    tokens, depth = pad_sentences([[7, 8], [], [9]], bos_id=2, eos_id=3)
    assert tokens.tolist() == [2, 7, 8, 3, 2, 3, 2, 9, 3]
    assert depth.tolist() == [0, 1, 2, 3, 0, 1, 0, 1, 2]


def test_bad_order_and_ids_are_rejected():
    with pytest.raises(ValueError, match="order"):
        NGramCounts([[4]], 0, 6, 2, 3)
    with pytest.raises(ValueError, match="token ids"):
        NGramCounts([[9]], 2, 6, 2, 3)
