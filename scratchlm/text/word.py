"""Word tokenizer: words and punctuation marks are tokens; rare words become ``<unk>``.

Two ways to cut text into words:

* ``split="words"`` (default): a word is a run of letters, digits and underscores, with inner
  apostrophes kept (``don't``, ``o'er``); every other non-space character (punctuation, symbols)
  is a token on its own; the four special-token strings (``<unk>`` ...) stay whole::

      "O Romeo, Romeo! wherefore art thou Romeo?"
      -> O  Romeo  ,  Romeo  !  wherefore  art  thou  Romeo  ?

* ``split="whitespace"``: tokens are exactly the whitespace-separated pieces. Penn Treebank and
  WikiText-2 come already tokenised and need this (``<unk>``, ``@-@``, ``N`` stay as they are).

With ``line_ends_as_eos=True`` (default) every newline becomes ``<eos>`` -- the convention that
gives the standard PTB and WikiText-2 token counts (one ``<eos>`` per line, as in Zaremba et al.
2014 and pytorch/examples) -- and ``decode`` writes ``<eos>`` back as a newline.

The vocabulary keeps the words seen at least ``min_count`` times, then the ``max_vocab`` most
frequent of them (ties broken alphabetically), and lists them sorted. Every other word encodes to
``<unk>`` (id 1). Decoding joins tokens with single spaces, so it is not the exact inverse of
encoding (the original spacing is not kept); use the character or BPE tokenizer when you need that.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from .base import UNKNOWN_POLICIES, Tokenizer, as_lines, as_text
from .vocab import SPECIALS, Vocabulary

# Special-token strings first so "<unk>" is one token, then words with inner apostrophes
# (straight or typographic), then any single character that is neither a word character nor space.
WORD_PATTERN = re.compile(r"<(?:pad|unk|bos|eos)>|\w+(?:['\u2019]\w+)*|[^\w\s]")
SPLITS = ("words", "whitespace")


class WordTokenizer(Tokenizer):
    """Words (and punctuation) as tokens, with a frequency cut-off to ``<unk>``."""

    kind = "word"

    def __init__(self, vocab: Vocabulary, split: str = "words", lowercase: bool = False, line_ends_as_eos: bool = True):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.vocab = vocab
        self.split = split
        self.lowercase = bool(lowercase)
        self.line_ends_as_eos = bool(line_ends_as_eos)

    def words(self, line: str) -> list[str]:
        """The word strings of one line (no ``<eos>``), after optional lower-casing."""
        if self.lowercase:
            line = line.lower()
        if self.split == "whitespace":
            return line.split()
        return WORD_PATTERN.findall(line)

    def tokens(self, text: str) -> list[str]:
        """The token strings of ``text``: its words, with ``<eos>`` for every newline when
        ``line_ends_as_eos`` is set."""
        text = as_text(text)
        if not self.line_ends_as_eos:
            return self.words(text)
        pieces = text.split("\n")
        out: list[str] = []
        for i, piece in enumerate(pieces):
            out.extend(self.words(piece))
            if i < len(pieces) - 1:
                out.append(SPECIALS[Vocabulary.eos_id])
        return out

    @classmethod
    def fit(
        cls,
        text_or_lines: str | Iterable[str],
        min_count: int = 1,
        max_vocab: int | None = None,
        split: str = "words",
        lowercase: bool = False,
        line_ends_as_eos: bool = True,
    ) -> "WordTokenizer":
        """Count the words of the corpus and keep the frequent ones.

        min_count: keep words seen at least this often (>= 1).
        max_vocab: then keep at most this many words, the most frequent first (ties broken
            alphabetically). It counts ordinary words only; the vocabulary also holds the four
            special tokens, so ``len(tok.vocab) <= max_vocab + 4``. None keeps all.
        split, lowercase, line_ends_as_eos: as in the module docstring.
        """
        if not isinstance(min_count, int) or min_count < 1:
            raise ValueError(f"min_count must be an integer >= 1, got {min_count!r}")
        if max_vocab is not None and (not isinstance(max_vocab, int) or max_vocab < 1):
            raise ValueError(f"max_vocab must be None or an integer >= 1, got {max_vocab!r}")
        shell = cls(Vocabulary([]), split=split, lowercase=lowercase, line_ends_as_eos=line_ends_as_eos)
        counts: Counter[str] = Counter()
        for line in as_lines(text_or_lines):
            counts.update(shell.tokens(line))
        for special in SPECIALS:
            counts.pop(special, None)
        if not counts:
            raise ValueError("cannot fit a word tokenizer on an empty corpus (no words found)")
        kept = [word for word, count in counts.items() if count >= min_count]
        if not kept:
            raise ValueError(f"no word occurs at least min_count={min_count} times (the most frequent occurs {max(counts.values())} times)")
        if max_vocab is not None and len(kept) > max_vocab:
            kept = sorted(kept, key=lambda word: (-counts[word], word))[:max_vocab]
        return cls(Vocabulary(sorted(kept)), split=split, lowercase=lowercase, line_ends_as_eos=line_ends_as_eos)

    def encode(self, text: str, unknown: str = "unk") -> list[int]:
        """Ids of the tokens of ``text``.

        unknown: ``"unk"`` (default) maps words outside the vocabulary to ``<unk>`` (id 1);
        ``"error"`` raises a ValueError that names them instead.
        """
        if unknown not in UNKNOWN_POLICIES:
            raise ValueError(f"unknown must be one of {UNKNOWN_POLICIES}, got {unknown!r}")
        tokens = self.tokens(text)
        if unknown == "error":
            missing = sorted({token for token in tokens if token not in self.vocab})
            if missing:
                shown = ", ".join(repr(token) for token in missing[:10]) + (" ..." if len(missing) > 10 else "")
                raise ValueError(f"{len(missing)} words not in the vocabulary: {shown} (pass unknown='unk' to map them to <unk>)")
        return self.vocab.encode(tokens)

    def decode(self, ids: Iterable[int], skip_specials: bool = True) -> str:
        """Tokens joined by single spaces; ``<eos>`` becomes a newline when ``line_ends_as_eos``.
        With ``skip_specials`` (default) ``<pad>`` and ``<bos>`` (and ``<eos>`` when it is not a
        line end) are dropped; ``<unk>`` is written as ``<unk>``."""
        vocab = self.vocab
        lines, current = [], []
        for i in ids:
            i = int(i)
            if i == vocab.eos_id and self.line_ends_as_eos:
                lines.append(" ".join(current))
                current = []
            elif skip_specials and i in (vocab.pad_id, vocab.bos_id, vocab.eos_id):
                continue
            else:
                current.extend(vocab.decode([i]))
        lines.append(" ".join(current))
        return "\n".join(lines)

    def _config(self) -> dict:
        return {
            "split": self.split,
            "lowercase": self.lowercase,
            "line_ends_as_eos": self.line_ends_as_eos,
            "tokens": self.vocab.itos,
        }

    @classmethod
    def _from_config(cls, config: dict) -> "WordTokenizer":
        return cls(
            Vocabulary.from_json_tokens(config["tokens"]),
            split=config["split"],
            lowercase=config["lowercase"],
            line_ends_as_eos=config["line_ends_as_eos"],
        )
