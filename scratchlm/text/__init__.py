"""Text -> token ids and back: a vocabulary and three tokenizers.

    Vocabulary      token <-> id map; ids 0-3 are <pad> <unk> <bos> <eos>       (vocab.py)
    CharTokenizer   one token per character                                     (char.py)
    WordTokenizer   words and punctuation, min count / max vocab, <unk>         (word.py)
    BPETokenizer    subwords learned by byte-pair encoding, byte fallback       (bpe.py)
    load_tokenizer  read any of them back from its JSON file                    (base.py)

Every tokenizer has ``Tokenizer.fit(text_or_lines, ...)``, ``encode(text) -> list[int]``,
``decode(ids) -> str``, ``vocab``, ``save(path)`` and ``Tokenizer.load(path)``.
"""
from .base import Tokenizer, load_tokenizer
from .bpe import BPETokenizer
from .char import CharTokenizer
from .vocab import BOS, EOS, PAD, SPECIALS, UNK, Vocabulary
from .word import WordTokenizer

TOKENIZERS = {"char": CharTokenizer, "word": WordTokenizer, "bpe": BPETokenizer}

__all__ = [
    "Vocabulary", "Tokenizer", "CharTokenizer", "WordTokenizer", "BPETokenizer", "TOKENIZERS",
    "load_tokenizer", "PAD", "UNK", "BOS", "EOS", "SPECIALS",
]
