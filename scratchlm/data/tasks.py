"""Small generated tasks on which a model visibly learns in seconds.

Sequence to sequence (for :class:`scratchlm.models.seq2seq.Seq2Seq`):

    reverse   "cabd" -> "dbac"      the first output depends on the *last* input
    sort      "cabd" -> "abcd"      every output depends on the whole input

Sequence labelling (for :class:`scratchlm.models.tagger.BiRNNTagger`):

    doubled letters   "baab" -> 0110      tag every letter that equals its left *or right*
                                          neighbour. In Finnish spelling a doubled letter is a
                                          long sound ("Jaakko", "Anna"), so the same rule tags
                                          the long sounds of the bundled Finnish names. A
                                          left-to-right tagger cannot know whether the *next*
                                          letter repeats the current one; a bidirectional one can.

Strings are plain Python ``str``; :func:`encode_pairs` and :func:`encode_tagging` turn them into
padded id arrays with a :class:`scratchlm.text.vocab.Vocabulary`.
"""
from __future__ import annotations

import numpy as np

from scratchlm.text.vocab import Vocabulary

SEQ2SEQ_TASKS = ("reverse", "sort")


def random_strings(count, min_length, max_length, alphabet, rng=None):
    """``count`` strings with lengths uniform in [min_length, max_length] and letters uniform in alphabet."""
    if not 1 <= min_length <= max_length:
        raise ValueError(f"need 1 <= min_length <= max_length, got {min_length} and {max_length}")
    if len(alphabet) < 1:
        raise ValueError("alphabet must hold at least one letter")
    rng = np.random.default_rng(rng)
    letters = list(alphabet)
    lengths = rng.integers(min_length, max_length + 1, size=count)
    return ["".join(rng.choice(letters, size=length)) for length in lengths]


def seq2seq_pairs(task, count, min_length=3, max_length=8, alphabet="abcdefgh", rng=None):
    """``count`` (source, target) string pairs of ``task`` ("reverse" or "sort")."""
    if task not in SEQ2SEQ_TASKS:
        raise ValueError(f"unknown task {task!r}: expected one of {', '.join(SEQ2SEQ_TASKS)}")
    sources = random_strings(count, min_length, max_length, alphabet, rng)
    if task == "reverse":
        return [(s, s[::-1]) for s in sources]
    return [(s, "".join(sorted(s))) for s in sources]


def doubled_letter_tags(word):
    """1 for every letter equal to its left or right neighbour (case-blind), else 0.

    >>> doubled_letter_tags("Jaakko")
    [0, 1, 1, 1, 1, 0]
    """
    letters = word.lower()
    tags = []
    for t, letter in enumerate(letters):
        same_as_left = t > 0 and letters[t - 1] == letter
        same_as_right = t + 1 < len(letters) and letters[t + 1] == letter
        tags.append(int(same_as_left or same_as_right))
    return tags


def encode_pairs(pairs, vocab: Vocabulary):
    """Id arrays for a batch of (source, target) pairs whose sources all have the same length.

    Returns source (B, S) int, target (B, T) int ending in <eos> and right-padded with <pad>, and
    the target mask (B, T) bool (True on real tokens and <eos>). The encoder of
    :class:`~scratchlm.models.seq2seq.Seq2Seq` reads no padding, so a batch's sources must share
    one length: group pairs with :func:`batches_by_source_length` first.
    """
    source_lengths = {len(source) for source, _ in pairs}
    if len(source_lengths) != 1:
        raise ValueError(f"the sources of one batch must have one length, got lengths {sorted(source_lengths)}")
    source = np.array([vocab.encode(list(s)) for s, _ in pairs], dtype=np.int64)
    longest = max(len(target) for _, target in pairs) + 1
    target = np.full((len(pairs), longest), vocab.pad_id, dtype=np.int64)
    for row, (_, text) in enumerate(pairs):
        ids = vocab.encode(list(text)) + [vocab.eos_id]
        target[row, : len(ids)] = ids
    return source, target, target != vocab.pad_id


def batches_by_source_length(pairs, batch_size, rng=None):
    """Split pairs into batches whose sources share a length (bucketing), in random order."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    rng = np.random.default_rng(rng)
    buckets = {}
    for pair in pairs:
        buckets.setdefault(len(pair[0]), []).append(pair)
    batches = []
    for bucket in buckets.values():
        order = rng.permutation(len(bucket))
        for start in range(0, len(bucket), batch_size):
            batches.append([bucket[i] for i in order[start : start + batch_size]])
    return [batches[i] for i in rng.permutation(len(batches))]


def encode_tagging(words, vocab: Vocabulary):
    """Ids, doubled-letter tags and lengths of a batch of words, right-padded with <pad>.

    Returns inputs (B, T) int, tags (B, T) int (0 on padding) and lengths (B,) int.
    """
    lengths = np.array([len(word) for word in words], dtype=np.int64)
    if lengths.min() < 1:
        raise ValueError("every word must have at least one letter")
    inputs = np.full((len(words), lengths.max()), vocab.pad_id, dtype=np.int64)
    tags = np.zeros_like(inputs)
    for row, word in enumerate(words):
        inputs[row, : len(word)] = vocab.encode(list(word))
        tags[row, : len(word)] = doubled_letter_tags(word)
    return inputs, tags, lengths
