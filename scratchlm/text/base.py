"""What every tokenizer shares: the common shape, and saving to / loading from JSON.

A tokenizer turns text into a list of token ids and back::

    tok = CharTokenizer.fit(text)      # learn a vocabulary (classmethod; also WordTokenizer, BPETokenizer)
    ids = tok.encode("hello")          # list[int]
    tok.decode(ids)                    # "hello"
    tok.vocab                          # the Vocabulary (ids 0-3 are <pad> <unk> <bos> <eos>)
    tok.save("tok.json"); Tokenizer.load("tok.json")

The JSON file is one object ``{"kind": "char" | "word" | "bpe", "version": 1, ...}``; the
``kind`` field tells :func:`load_tokenizer` which class reads it.
"""
from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod

from .vocab import Vocabulary

FORMAT_VERSION = 1
# What encode does with a token outside the vocabulary: raise a ValueError naming it, or map it to <unk>.
UNKNOWN_POLICIES = ("error", "unk")


# kind -> tokenizer class, filled by Tokenizer.__init_subclass__ (scratchlm.text imports every class).
TOKENIZER_KINDS: dict[str, type] = {}


class Tokenizer(ABC):
    """Base class: subclasses set ``kind`` and implement the classmethod ``fit``, ``encode``,
    ``decode``, ``_config`` (their JSON fields) and ``_from_config`` (the inverse)."""

    kind = ""
    vocab: Vocabulary

    def __init_subclass__(cls, **kwargs):
        # Each tokenizer class registers its kind as it is defined, so that reading a file needs
        # no import of the subclasses here (they import this module).
        super().__init_subclass__(**kwargs)
        if cls.kind:
            TOKENIZER_KINDS[cls.kind] = cls

    def __len__(self) -> int:
        return len(self.vocab)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.vocab)} tokens)"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.to_json() == other.to_json()

    @abstractmethod
    def encode(self, text: str, unknown: str) -> list[int]:
        """Token ids of ``text``; ``unknown`` is one of ``UNKNOWN_POLICIES``."""

    @abstractmethod
    def decode(self, ids, skip_specials: bool = True) -> str:
        """Text of ``ids``."""

    @abstractmethod
    def _config(self) -> dict:
        """What the JSON file holds besides ``kind`` and ``version``."""

    @classmethod
    @abstractmethod
    def _from_config(cls, config: dict) -> "Tokenizer":
        """The tokenizer that ``_config`` describes."""

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "version": FORMAT_VERSION, **self._config()}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Tokenizer":
        try:
            config = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"not a scratchlm tokenizer JSON ({err})") from err
        if not isinstance(config, dict) or "kind" not in config:
            raise ValueError("not a scratchlm tokenizer JSON: expected an object with a 'kind' field")
        if config.get("version") != FORMAT_VERSION:
            raise ValueError(f"tokenizer JSON version {config.get('version')!r} is not supported (expected {FORMAT_VERSION})")
        klass = TOKENIZER_KINDS.get(config["kind"])
        if klass is None:
            raise ValueError(f"unknown tokenizer kind {config['kind']!r}; expected one of {sorted(TOKENIZER_KINDS)}")
        if cls is not Tokenizer and klass is not cls:
            raise ValueError(f"this JSON holds a {klass.__name__}, not a {cls.__name__}")
        try:
            return klass._from_config(config)
        except (KeyError, TypeError) as err:
            raise ValueError(f"malformed {config['kind']} tokenizer JSON ({err!r})") from err

    def save(self, path) -> None:
        """Write the tokenizer as JSON, atomically (a temporary file, then a rename)."""
        path = os.fspath(path)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(self.to_json())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path) -> "Tokenizer":
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read())


def load_tokenizer(path) -> Tokenizer:
    """Read any tokenizer saved with ``save``; its ``kind`` field picks the class."""
    return Tokenizer.load(path)


def as_text(text, what: str = "text") -> str:
    """Check that ``text`` is a str (tokenizers take text, not bytes or lists)."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, got {type(text).__name__}")
    return text


def as_lines(text_or_lines) -> list[str]:
    """A corpus given as one string or as an iterable of strings, as a list of strings."""
    if isinstance(text_or_lines, str):
        return [text_or_lines]
    lines = list(text_or_lines)
    for line in lines:
        if not isinstance(line, str):
            raise TypeError(f"a corpus is a str or an iterable of str, found a {type(line).__name__}")
    return lines
