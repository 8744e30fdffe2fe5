"""Character tokenizer: every character is a token.

The vocabulary is the sorted set of characters seen when fitting (after the four special tokens),
so the same corpus always gives the same ids. A newline is an ordinary character: a stream such
as tiny Shakespeare keeps its line breaks, while a list of names (one per line) is fitted from the
lines themselves and framed with ``<bos>``/``<eos>`` by the batcher instead.

encode -> decode is the identity on any text made of known characters::

    >>> tok = CharTokenizer.fit(["Aadolf", "Aamu"])
    >>> tok.vocab.itos[4:]
    ['A', 'a', 'd', 'f', 'l', 'm', 'o', 'u']
    >>> tok.encode("Aamu")
    [4, 5, 9, 11]
    >>> tok.decode([4, 5, 9, 11])
    'Aamu'
"""
from __future__ import annotations

from typing import Iterable

from .base import UNKNOWN_POLICIES, Tokenizer, as_lines, as_text
from .vocab import SPECIALS, Vocabulary

# A character model may also drop what it has never seen (a stray emoji in a text to score).
CHAR_UNKNOWN_POLICIES = UNKNOWN_POLICIES + ("skip",)


class CharTokenizer(Tokenizer):
    """One token per character; ``vocab`` holds the specials, then the characters sorted."""

    kind = "char"

    def __init__(self, vocab: Vocabulary):
        for token in vocab.itos[len(SPECIALS):]:
            if len(token) != 1:
                raise ValueError(f"a character vocabulary holds single characters, found {token!r}")
        self.vocab = vocab

    @classmethod
    def fit(cls, text_or_lines: str | Iterable[str]) -> "CharTokenizer":
        """The sorted set of characters in ``text_or_lines`` (a str, or an iterable of str)."""
        characters = set()
        for line in as_lines(text_or_lines):
            characters.update(line)
        if not characters:
            raise ValueError("cannot fit a character tokenizer on an empty corpus")
        return cls(Vocabulary(sorted(characters)))

    def encode(self, text: str, unknown: str = "error") -> list[int]:
        """Ids of the characters of ``text``.

        unknown: what to do with a character outside the vocabulary: ``"error"`` raises a
        ValueError that names the first such character and its position; ``"unk"`` maps it to
        ``<unk>`` (id 1); ``"skip"`` leaves it out. The command line passes ``--unknown``.
        """
        text = as_text(text)
        if unknown not in CHAR_UNKNOWN_POLICIES:
            raise ValueError(f"unknown must be one of {CHAR_UNKNOWN_POLICIES}, got {unknown!r}")
        stoi = self.vocab.stoi
        if unknown == "error":
            missing = sorted(set(text) - stoi.keys())
            if missing:
                position = min(text.index(c) for c in missing)
                raise ValueError(
                    f"character {text[position]!r} at position {position} is not in the vocabulary"
                    + (f" (also unseen: {', '.join(repr(c) for c in missing if c != text[position])})" if len(missing) > 1 else "")
                    + f"; the vocabulary has {len(self.vocab) - len(SPECIALS)} characters. "
                    "Map unseen characters to <unk> with unknown='unk' (command line: --unknown unk), "
                    "or drop them with unknown='skip' (--unknown skip)"
                )
        if unknown == "skip":
            return [stoi[c] for c in text if c in stoi]
        return [stoi.get(c, self.vocab.unk_id) for c in text]

    def decode(self, ids: Iterable[int], skip_specials: bool = True) -> str:
        """The text of ``ids``. With ``skip_specials`` (default), ``<pad>``, ``<bos>`` and
        ``<eos>`` are dropped; ``<unk>`` is always written as the string ``<unk>``."""
        dropped = {self.vocab.pad_id, self.vocab.bos_id, self.vocab.eos_id} if skip_specials else set()
        return "".join(self.vocab.decode(i for i in ids if int(i) not in dropped))

    def _config(self) -> dict:
        return {"tokens": self.vocab.itos}

    @classmethod
    def _from_config(cls, config: dict) -> "CharTokenizer":
        return cls(Vocabulary.from_json_tokens(config["tokens"]))
