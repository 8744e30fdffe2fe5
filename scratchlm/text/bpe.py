"""Byte-pair encoding (BPE): subword units learned from a corpus (Sennrich, Haddow & Birch 2016,
"Neural Machine Translation of Rare Words with Subword Units").

Why subwords: a word vocabulary cannot cover a language like Finnish, where one lemma has
hundreds of surface forms (talo, talossa, talostani, taloissammekin, ...). Characters cover
everything but make sequences long. BPE starts from characters and repeatedly glues the most
frequent adjacent pair of symbols into a new symbol, so frequent words end up as one token and
rare words as a few meaningful pieces (talo + ssa).

Merge learning (Sennrich et al., Algorithm 1), on a table of word frequencies::

    split every word into characters
    repeat num_merges times:
        count(a, b) = sum over words w of freq(w) * (occurrences of the adjacent pair a b in w)
        (a, b) = the most frequent pair          # ties: the smallest pair in string order
        replace every a b by the new symbol ab   # left to right, in every word
        record the merge (a, b)

The pair counts are kept in a dictionary and only the words that contain the merged pair are
recounted after each merge, with a heap to find the most frequent pair, so a thousand merges on
tiny Shakespeare take seconds. Encoding a word applies the learned merges in their learned order
(repeatedly merge the adjacent pair with the lowest merge rank), as Sennrich's ``apply_bpe`` does.

Words and spaces. The text is first cut into chunks: a word (``\\w+``) or a run of punctuation,
each with its leading space if there is one, and every other whitespace character alone::

    "Hi there,  you" -> "Hi" | " there" | "," | " " | " you"

Merges never cross a chunk boundary, and decoding is plain concatenation, so the leading space
plays the role of Sennrich's end-of-word marker ``</w>`` (here it marks the start of a word, as in
GPT-2) and no whitespace is lost.

Unseen characters (byte fallback). The base symbols are the characters seen in training. A
character never seen is encoded as the bytes of its UTF-8 form, one token ``<0xNN>`` per byte (the
vocabulary holds all 256), and decoding turns runs of byte tokens back into text. So
``decode(encode(text)) == text`` for every string. With ``byte_fallback=False`` an unseen
character becomes ``<unk>`` instead and the vocabulary has no byte tokens.

Vocabulary order: the four specials; the 256 byte tokens (with byte fallback); the training
characters, sorted; then one token per merge in the order learned (a merge whose result string is
already a token, which BPE can produce by two different routes, adds no new token).
"""
from __future__ import annotations

import heapq
import re
from collections import Counter, defaultdict
from typing import Iterable

from .base import UNKNOWN_POLICIES, Tokenizer, as_lines, as_text
from .vocab import SPECIALS, Vocabulary

CHUNK_PATTERN = re.compile(r" ?\w+| ?[^\s\w]+|\s")
BYTE_TOKENS = [f"<0x{b:02X}>" for b in range(256)]
_BYTE_OF_TOKEN = {token: b for b, token in enumerate(BYTE_TOKENS)}


def split_into_chunks(text: str) -> list[str]:
    """Cut text into the units BPE works inside; ``"".join(split_into_chunks(t)) == t``."""
    return CHUNK_PATTERN.findall(text)


def merge_pair(symbols: list[str], pair: tuple[str, str]) -> list[str]:
    """Replace every occurrence of the adjacent ``pair`` in ``symbols`` by its concatenation,
    scanning left to right (so ``a a a`` with pair ``(a, a)`` gives ``aa a``)."""
    first, second = pair
    out: list[str] = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == first and symbols[i + 1] == second:
            out.append(first + second)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def learn_merges(word_counts: dict[str, int], num_merges: int, min_pair_count: int = 2) -> list[tuple[str, str]]:
    """Sennrich et al.'s merge learning on a word-frequency table (see the module docstring).

    word_counts: chunk -> how often it occurs. Returns at most ``num_merges`` merges, stopping
    early when no pair occurs ``min_pair_count`` times or more.
    """
    words = [list(word) for word in word_counts]
    freqs = list(word_counts.values())
    pair_counts: Counter[tuple[str, str]] = Counter()
    words_with_pair: defaultdict[tuple[str, str], set[int]] = defaultdict(set)
    for index, symbols in enumerate(words):
        for pair in zip(symbols, symbols[1:]):
            pair_counts[pair] += freqs[index]
            words_with_pair[pair].add(index)

    # The heap holds (-count, pair); an entry whose count is no longer current is stale and
    # skipped when popped (the current count was pushed when it changed).
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)
    merges: list[tuple[str, str]] = []
    while len(merges) < num_merges and heap:
        negative_count, pair = heapq.heappop(heap)
        if pair_counts.get(pair) != -negative_count:
            continue
        if -negative_count < min_pair_count:
            break
        merges.append(pair)
        changed = set()
        for index in sorted(words_with_pair.pop(pair)):
            symbols, freq = words[index], freqs[index]
            for old in zip(symbols, symbols[1:]):
                pair_counts[old] -= freq
                changed.add(old)
            symbols = merge_pair(symbols, pair)
            for new in zip(symbols, symbols[1:]):
                pair_counts[new] += freq
                words_with_pair[new].add(index)
                changed.add(new)
            words[index] = symbols
        for changed_pair in changed:
            count = pair_counts[changed_pair]
            if count > 0:
                heapq.heappush(heap, (-count, changed_pair))
            else:
                del pair_counts[changed_pair]
    return merges


class BPETokenizer(Tokenizer):
    """Subword tokenizer: characters glued by learned merges, with byte fallback."""

    kind = "bpe"

    def __init__(self, alphabet: Iterable[str], merges: Iterable[tuple[str, str]], byte_fallback: bool = True):
        self.alphabet = sorted(set(alphabet))
        self.merges = [tuple(pair) for pair in merges]
        self.byte_fallback = bool(byte_fallback)
        for char in self.alphabet:
            if not isinstance(char, str) or len(char) != 1:
                raise ValueError(f"the BPE alphabet holds single characters, found {char!r}")
        tokens = (BYTE_TOKENS if self.byte_fallback else []) + list(self.alphabet)
        known = set(tokens)
        for pair in self.merges:
            if len(pair) != 2 or not all(isinstance(s, str) and s for s in pair):
                raise ValueError(f"a merge is a pair of non-empty strings, found {pair!r}")
            if pair[0] + pair[1] not in known:
                known.add(pair[0] + pair[1])
                tokens.append(pair[0] + pair[1])
        self.vocab = Vocabulary(tokens)
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self._alphabet_set = set(self.alphabet)
        self._chunk_cache: dict[str, list[int]] = {}

    @classmethod
    def fit(
        cls,
        text_or_lines: str | Iterable[str],
        num_merges: int = 1000,
        min_pair_count: int = 2,
        byte_fallback: bool = True,
    ) -> "BPETokenizer":
        """Learn ``num_merges`` merges (fewer if no pair occurs ``min_pair_count`` times).

        text_or_lines: one str (a stream; its newlines are characters) or an iterable of str
            (e.g. one name per item). The vocabulary size is
            ``4 + (256 if byte_fallback) + len(alphabet) + (number of distinct merge results)``.
        """
        if not isinstance(num_merges, int) or num_merges < 0:
            raise ValueError(f"num_merges must be an integer >= 0, got {num_merges!r}")
        if not isinstance(min_pair_count, int) or min_pair_count < 1:
            raise ValueError(f"min_pair_count must be an integer >= 1, got {min_pair_count!r}")
        word_counts: Counter[str] = Counter()
        for line in as_lines(text_or_lines):
            word_counts.update(split_into_chunks(line))
        if not word_counts:
            raise ValueError("cannot fit a BPE tokenizer on an empty corpus")
        alphabet = sorted(set().union(*word_counts))
        return cls(alphabet, learn_merges(word_counts, num_merges, min_pair_count), byte_fallback=byte_fallback)

    def _initial_symbols(self, chunk: str) -> list[str]:
        symbols = []
        for char in chunk:
            if char in self._alphabet_set:
                symbols.append(char)
            elif self.byte_fallback:
                symbols.extend(BYTE_TOKENS[b] for b in char.encode("utf-8"))
            else:
                symbols.append(SPECIALS[Vocabulary.unk_id])
        return symbols

    def encode_chunk(self, chunk: str) -> list[str]:
        """The subword strings of one chunk: apply merges, lowest rank first, until none applies."""
        symbols = self._initial_symbols(chunk)
        while len(symbols) > 1:
            ranked = [self.ranks[pair] for pair in zip(symbols, symbols[1:]) if pair in self.ranks]
            if not ranked:
                break
            symbols = merge_pair(symbols, self.merges[min(ranked)])
        return symbols

    def tokens(self, text: str) -> list[str]:
        """The subword strings of ``text`` (byte tokens written ``<0xNN>``)."""
        return [s for chunk in split_into_chunks(as_text(text)) for s in self.encode_chunk(chunk)]

    def encode(self, text: str, unknown: str = "unk") -> list[int]:
        """Ids of the subwords of ``text``; ``decode(encode(text)) == text`` (with byte fallback).

        unknown: only matters without byte fallback: ``"unk"`` (default) encodes a character never
        seen in training as ``<unk>``, ``"error"`` raises a ValueError that names such characters.
        """
        text = as_text(text)
        if unknown not in UNKNOWN_POLICIES:
            raise ValueError(f"unknown must be one of {UNKNOWN_POLICIES}, got {unknown!r}")
        if unknown == "error" and not self.byte_fallback:
            missing = sorted(set(text) - self._alphabet_set)
            if missing:
                raise ValueError(
                    f"characters not in the BPE alphabet: {', '.join(repr(c) for c in missing)} "
                    f"(pass unknown='unk' to map them to <unk>, or fit with byte_fallback=True)"
                )
        ids: list[int] = []
        for chunk in split_into_chunks(text):
            chunk_ids = self._chunk_cache.get(chunk)
            if chunk_ids is None:
                chunk_ids = self.vocab.encode(self.encode_chunk(chunk))
                self._chunk_cache[chunk] = chunk_ids
            ids.extend(chunk_ids)
        return ids

    def decode(self, ids: Iterable[int], skip_specials: bool = True) -> str:
        """Concatenate the subwords; runs of byte tokens are decoded as UTF-8 (an invalid byte
        sequence, which only a model's sample can produce, becomes U+FFFD). With ``skip_specials``
        (default) ``<pad>``, ``<bos>`` and ``<eos>`` are dropped; ``<unk>`` is written ``<unk>``."""
        dropped = {self.vocab.pad_id, self.vocab.bos_id, self.vocab.eos_id} if skip_specials else set()
        pieces: list[str] = []
        pending = bytearray()
        for token in self.vocab.decode(i for i in ids if int(i) not in dropped):
            byte = _BYTE_OF_TOKEN.get(token) if self.byte_fallback else None
            if byte is not None:
                pending.append(byte)
                continue
            if pending:
                pieces.append(pending.decode("utf-8", errors="replace"))
                pending.clear()
            pieces.append(token)
        if pending:
            pieces.append(pending.decode("utf-8", errors="replace"))
        return "".join(pieces)

    def _config(self) -> dict:
        return {
            "byte_fallback": self.byte_fallback,
            "alphabet": self.alphabet,
            "merges": [list(pair) for pair in self.merges],
        }

    @classmethod
    def _from_config(cls, config: dict) -> "BPETokenizer":
        return cls(config["alphabet"], config["merges"], byte_fallback=config["byte_fallback"])
