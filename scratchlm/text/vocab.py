"""A vocabulary: the two-way map between tokens (strings) and ids (integers).

Ids 0..3 are always the special tokens, in this order::

    0 <pad>   padding; never predicted, never counted in a loss or a perplexity
    1 <unk>   any token not in the vocabulary
    2 <bos>   beginning of a sequence (fed as input, never predicted)
    3 <eos>   end of a sequence (predicted, and counted in perplexity)

The ordinary tokens follow in the order given. Tokenizers pass them in a fixed order -- characters
and words sorted, BPE merges in the order learned -- so the same corpus always gives the same ids.
A vocabulary saves to and loads from JSON.
"""
from __future__ import annotations

import json
from typing import Iterable, Sequence

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)


class Vocabulary:
    """Token <-> id map with the four special tokens at ids 0-3.

    >>> v = Vocabulary(["a", "b"])
    >>> v.encode(["a", "z", "b"])
    [4, 1, 5]
    >>> v.decode([4, 5])
    ['a', 'b']
    """

    def __init__(self, tokens: Iterable[str]):
        self.itos: list[str] = list(SPECIALS)
        self.stoi: dict[str, int] = {tok: i for i, tok in enumerate(SPECIALS)}
        for token in tokens:
            if not isinstance(token, str) or token == "":
                raise TypeError(f"vocabulary tokens must be non-empty strings, got {token!r}")
            if token in self.stoi:
                if token in SPECIALS:
                    continue
                raise ValueError(f"token {token!r} appears twice in the vocabulary")
            self.stoi[token] = len(self.itos)
            self.itos.append(token)

    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens)"

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of ``tokens``; unknown tokens map to ``<unk>`` (id 1)."""
        return [self.stoi.get(tok, self.unk_id) for tok in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids``; raises ValueError for an id outside ``[0, len(self))``."""
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise ValueError(f"token id {i} is outside the vocabulary (0..{len(self.itos) - 1})")
            out.append(self.itos[i])
        return out

    def to_json(self) -> str:
        return json.dumps({"tokens": self.itos}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Vocabulary":
        try:
            data = json.loads(text)
            tokens = data["tokens"]
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise ValueError(f"not a scratchlm vocabulary JSON ({err})") from err
        return cls.from_json_tokens(tokens)

    @classmethod
    def from_json_tokens(cls, tokens: Sequence[str]) -> "Vocabulary":
        """The inverse of ``itos``: a full token list that starts with the four specials."""
        if not isinstance(tokens, list) or tokens[: len(SPECIALS)] != list(SPECIALS):
            raise ValueError(f"a saved vocabulary must be a list starting with the special tokens {SPECIALS}")
        return cls(tokens[len(SPECIALS):])

    def save(self, path) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_json())

    @classmethod
    def load(cls, path) -> "Vocabulary":
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read())
