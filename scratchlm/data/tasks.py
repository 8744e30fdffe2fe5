"""Small generated tasks on which a model visibly learns in seconds.

Sequence to sequence (for :class:`scratchlm.models.seq2seq.Seq2Seq`):

    reverse   "cabd" -> "dbac"      the first output depends on the *last* input
    sort      "cabd" -> "abcd"      every output depends on the whole input
    dates     "Tuesday, 3 March 1998" -> "1998-03-03"   (:func:`date_pairs`) dates written in
              many human formats, to ISO form: each output digit comes from one place in the source

Sequence labelling (for :class:`scratchlm.models.tagger.BiRNNTagger`):

    doubled letters   "baab" -> 0110      tag every letter that equals its left *or right*
                                          neighbour. In Finnish spelling a doubled letter is a
                                          long sound ("Jaakko", "Anna"), so the same rule tags
                                          the long sounds of the bundled Finnish names. A
                                          left-to-right tagger cannot know whether the *next*
                                          letter repeats the current one; a bidirectional one can.

Sequence classification (for :class:`scratchlm.models.classifier.SequenceClassifier`):

    name origin   "aapeli" -> Finnish, "brayden" -> English   (:func:`name_origin_splits`) from the
                  two bundled name lists, a real task with no generated data

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


# Human ways of writing a date (strftime codes; %-d style codes are not portable, so a day without
# its leading zero is made by hand from "{day}"). English names, whatever the locale.
DATE_FORMATS = ("{day} {month} {Y}", "{month} {day}, {Y}", "{weekday}, {day} {month} {Y}", "{d}/{m}/{Y}",
                "{d}.{m}.{Y}", "{day} {mon} {Y}", "{mon} {day} {Y}", "{weekday} {month} {day} {Y}",
                "{Y}/{m}/{d}", "{day}-{mon}-{Y}", "{weekday}, {mon} {day}, {Y}", "{month} {day} {Y}")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def date_pairs(count, rng=None, first_year=1900, last_year=2099, lowercase=False):
    """``count`` (human date, ISO date) pairs, e.g. ("Tuesday, 3 March 1998", "1998-03-03").

    Dates are uniform over the calendar days of [first_year, last_year]; each gets one of
    :data:`DATE_FORMATS` at random. With ``lowercase`` the source is lowercased (a smaller vocabulary).
    """
    import datetime

    rng = np.random.default_rng(rng)
    first = datetime.date(first_year, 1, 1).toordinal()
    last = datetime.date(last_year, 12, 31).toordinal()
    pairs = []
    for ordinal, form in zip(rng.integers(first, last + 1, size=count), rng.integers(0, len(DATE_FORMATS), size=count)):
        date = datetime.date.fromordinal(int(ordinal))
        month = MONTHS[date.month - 1]
        text = DATE_FORMATS[form].format(day=date.day, d=f"{date.day:02d}", m=f"{date.month:02d}", Y=f"{date.year:04d}",
                                         month=month, mon=month[:3], weekday=WEEKDAYS[date.weekday()])
        pairs.append((text.lower() if lowercase else text, date.isoformat()))
    return pairs


NAME_ORIGINS = ("Finnish", "English")


def name_origin_splits(seed=0, fractions=(0.7, 0.85)):
    """Finnish first names (label 0) against as many English ones (label 1): train, valid, test.

    Finnish: the bundled name-day calendar (datasets/finnish-names); English: the bundled US baby
    names (datasets/makemore-names), a random sample of the same size. Names are lowercased, and
    a name on both lists (anna, maria, ...) is dropped: its label would be a coin flip. Each class
    is shuffled with ``seed`` and cut at ``fractions``, so every split is balanced.

    Returns three lists of (name, label) pairs.
    """
    from scratchlm.data.corpora import datasets_dir, read_lines

    finnish = sorted({name.lower() for name in read_lines(datasets_dir() / "finnish-names" / "names.txt")})
    english = sorted({name.lower() for name in read_lines(datasets_dir() / "makemore-names" / "names.txt")})
    both = set(finnish) & set(english)
    finnish = [name for name in finnish if name not in both]
    rng = np.random.default_rng(seed)
    english = list(rng.choice([name for name in english if name not in both], size=len(finnish), replace=False))
    splits = ([], [], [])
    for label, names in enumerate((finnish, english)):
        names = [names[i] for i in rng.permutation(len(names))]
        cut1, cut2 = int(fractions[0] * len(names)), int(fractions[1] * len(names))
        for split, part in zip(splits, (names[:cut1], names[cut1:cut2], names[cut2:])):
            split.extend((str(name), label) for name in part)
    return tuple([split[i] for i in rng.permutation(len(split))] for split in splits)


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
