"""A list of names read as one text, with every k-th name held out *in its place*.

The lecture trains its character LSTM on the name-day calendar read as one text, in the
calendar's (alphabetical) order: ``Aadolf Aamu Aapeli Aapo Aappo ...``. Cutting that text in two
(the first 90% to train on, the last 10% to validate) would validate on names that all start
with the last letters of the alphabet, and a shuffled list is no longer the lecture's text. So
every k-th name is held out where it stands::

    names        Aadolf Aamu Aapeli Aapo Aappo Aarne Aarni Aarno Aaro Aaron Aarre ...
    index i      0      1    2      3    4     5     6     7     8    9     10
    k = 10       train  train train train test train train train train valid train ...
                 (i % k == k - 1: validation;  i % k == k // 2 - 1: test;  the rest: training)

    text         "Aadolf Aamu Aapeli Aapo Aappo Aarne ... Aaro Aaron Aarre ..."   every name + " "
    train_text   "Aadolf Aamu Aapeli Aapo Aarne ... Aaro Aarre ..."               held-out names removed

The counting rule. Each name is followed by one space, which ends it as ``<eos>`` ends an item.
A held-out name counts its characters *and the space after it*: len(name) + 1 predictions, the
same count as the item model's letters plus ``<eos>``. The space *before* a held-out name ends the
name before it and is not counted. ``counted(split)`` marks exactly those positions of ``text``.

What is fair about it:

* Nothing of a held-out name is trained on: the training stream is ``train_text``, from which the
  held-out names (and their spaces) are removed, so they are neither predicted nor read as input
  during training. (Masking their loss in the full text would still feed them to the model as
  context, and the model would learn what follows them.)
* At scoring time every model reads the whole true ``text`` from its start and is charged only
  at the counted positions: the context of a held-out name is the real calendar before it,
  held-out names included, for the LSTM and the n-gram baselines alike
  (:func:`scratchlm.metrics.evaluate_counted`).

The held-out names are evenly spread over the alphabet, so the validation and test names look
like the training names; but neighbouring names share prefixes (Aarne Aarni Aarno), so a model
that has learned the list's order finds a held-out name partly predictable from the one before
it. That is the task the lecture sets, and the n-gram baselines get the same context.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

SEPARATOR = " "
SPLITS = ("train", "valid", "test")
DEFAULT_EVERY = 10


def split_of(index: int, every: int) -> str:
    """Which split name number ``index`` (0-based) belongs to: every ``every``-th name is
    validation (index % every == every - 1), the one half-way between is test
    (index % every == every // 2 - 1), the rest train. ``every`` >= 4 keeps the two apart and
    the first name (the lecture's prompt) in training."""
    position = index % every
    if position == every - 1:
        return "valid"
    if position == every // 2 - 1:
        return "test"
    return "train"


@dataclass(frozen=True)
class NameStream:
    """A names list as one text, every ``every``-th name held out in place (module docstring).

    It reads like a :class:`~scratchlm.data.corpora.Corpus` of kind ``"stream"`` (``name``,
    ``kind``, ``train``, ``valid``, ``test``, ``whole()``, ``splits()``), so tokenizers and
    trainers take it as they take any stream; what it adds is :meth:`counted`, the positions of
    ``text`` that a split scores.

    names: the list in its order (no name may contain the separator).
    every: k, the spacing of the held-out names.
    """

    name: str
    names: tuple[str, ...]
    every: int = DEFAULT_EVERY
    source: str = ""
    kind = "stream"

    def __post_init__(self):
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 4:
            raise ValueError(f"every must be a whole number >= 4 (so that validation and test differ), got {self.every!r}")
        if len(self.names) < self.every:
            raise ValueError(f"a list of {len(self.names)} names has no held-out name when every {self.every}-th is held out")
        for item in self.names:
            if not item or SEPARATOR in item:
                raise ValueError(f"every name must be non-empty and hold no {SEPARATOR!r}, got {item!r}")
        object.__setattr__(self, "names", tuple(self.names))

    def split_names(self, split: str) -> list[str]:
        """The names of ``split`` ("train", "valid" or "test"), in list order."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        return [item for i, item in enumerate(self.names) if split_of(i, self.every) == split]

    @property
    def text(self) -> str:
        """The whole list as the model reads it: every name followed by one space."""
        return "".join(item + SEPARATOR for item in self.names)

    @property
    def train(self) -> str:
        """The training stream: the training names only, each followed by one space."""
        return "".join(item + SEPARATOR for item in self.split_names("train"))

    @property
    def valid(self) -> str:
        """The validation names, each followed by a space (what is counted, not how it is read)."""
        return "".join(item + SEPARATOR for item in self.split_names("valid"))

    @property
    def test(self) -> str:
        """The test names, each followed by a space (what is counted, not how it is read)."""
        return "".join(item + SEPARATOR for item in self.split_names("test"))

    def splits(self) -> dict:
        return {split: getattr(self, split) for split in SPLITS}

    def whole(self) -> str:
        """The whole text (to fit a character vocabulary on)."""
        return self.text

    def counted(self, split: str) -> np.ndarray:
        """Boolean mask over the characters of :attr:`text`, shape (len(text),): True on the
        characters of the names of ``split`` and on the space after each of them."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        mask = np.zeros(len(self.text), dtype=bool)
        start = 0
        for i, item in enumerate(self.names):
            stop = start + len(item) + len(SEPARATOR)
            mask[start:stop] = split_of(i, self.every) == split
            start = stop
        return mask

    def __repr__(self) -> str:
        sizes = ", ".join(f"{split}={len(self.split_names(split))}" for split in SPLITS)
        return f"NameStream({self.name!r}, every={self.every}, names: {sizes}; {len(self.text):,} characters)"


def name_stream(names: Sequence[str], every: int = DEFAULT_EVERY, name: str = "names", source: str = "") -> NameStream:
    """``names`` (in their order) as a :class:`NameStream` with every ``every``-th name held out."""
    return NameStream(name, tuple(names), every, source)
