"""Tokenizers: round trips, hand-worked BPE merges, word rules, cut-offs, JSON round trips, bad input."""
from collections import Counter

import numpy as np
import pytest

from scratchlm.text import (
    BPETokenizer, CharTokenizer, SPECIALS, Tokenizer, Vocabulary, WordTokenizer, load_tokenizer,
)
from scratchlm.text.bpe import merge_pair, split_into_chunks

SHAKESPEARE_LIKE = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\n"
    "All:\nSpeak, speak.\n\nFirst Citizen:\nYou are all resolved rather to die than to famish?\n"
    "All:\nResolved. resolved.\n\nFirst Citizen:\nFirst, you know Caius Marcius is chief enemy to the people.\n"
)
FINNISH = ["Aadolf", "Aamu", "Kukka-Maaria", "Väinö", "Äijä", "Tuomas", "Tuomo", "Tuuli", "Sointu", "Säde"]
# Characters that none of the fitted corpora contain: accents, a dash, CJK, an emoji, a tab,
# a carriage return, runs of spaces, and strings that look like special or byte tokens.
UNSEEN = "naïve — 日本語 🙂\tend\r\n  two  spaces <eos> <0x41> <unk>"


# --- character tokenizer ---------------------------------------------------------------------

def test_char_vocabulary_is_the_sorted_character_set():
    tok = CharTokenizer.fit(SHAKESPEARE_LIKE)
    assert tok.vocab.itos == list(SPECIALS) + sorted(set(SHAKESPEARE_LIKE))
    assert CharTokenizer.fit(SHAKESPEARE_LIKE[::-1]).vocab == tok.vocab  # order of the text does not matter


def test_char_round_trip_including_unicode():
    text = SHAKESPEARE_LIKE + "\n".join(FINNISH)
    tok = CharTokenizer.fit(text)
    ids = tok.encode(text)
    assert len(ids) == len(text)
    assert tok.decode(ids) == text
    assert all(tok.vocab.itos[i] == c for i, c in zip(ids, text))


def test_char_fit_on_lines_leaves_newline_out():
    tok = CharTokenizer.fit(FINNISH)
    assert "\n" not in tok.vocab
    assert "ä" in tok.vocab and "-" in tok.vocab


def test_char_unknown_characters_named_in_error_or_mapped_to_unk():
    tok = CharTokenizer.fit("abc")
    with pytest.raises(ValueError, match=r"'x'.*'ö'|'ö'.*'x'"):
        tok.encode("abxö")
    # a=4, b=5, c=6 (after the four specials); x and ö become <unk>=1
    assert tok.encode("abxö", unknown="unk") == [4, 5, 1, 1]
    with pytest.raises(ValueError, match="unknown must be"):
        tok.encode("ab", unknown="ignore")


def test_char_decode_drops_framing_specials():
    tok = CharTokenizer.fit("ab")
    ids = [Vocabulary.bos_id, 4, 5, Vocabulary.eos_id, Vocabulary.pad_id]
    assert tok.decode(ids) == "ab"
    assert tok.decode(ids, skip_specials=False) == "<bos>ab<eos><pad>"
    assert tok.decode([4, Vocabulary.unk_id]) == "a<unk>"


# --- BPE -------------------------------------------------------------------------------------

def test_bpe_merges_worked_by_hand():
    # Sennrich et al.'s toy corpus, given as items (so no leading spaces):
    #   low x5, lower x2, newest x6, widest x3
    # Initial pair counts: lo 7, ow 7, we 2+6=8, er 2, ne 6, ew 6, es 6+3=9, st 9, wi 3, id 3, de 3.
    #  1. es 9 ties st 9; ('e','s') < ('s','t')        -> es    newest = n e w es t, widest = w i d es t
    #     now est 9, wes 6, des 3, we 2 (lower only)
    #  2. (es, t) 9                                     -> est   n e w est, w i d est
    #  3. lo 7 ties ow 7; ('l','o') first               -> lo    lo w, lo w e r
    #  4. (lo, w) 7                                     -> low   low, low e r
    #     left: ne 6, ew 6, w|est 6, low|e 2, er 2, wi 3, id 3, d|est 3
    #  5. ties at 6: ('e','w') < ('n','e') < ('w','est') -> ew    n ew est
    #  6. ('ew','est') 6 < ('n','ew') 6                  -> ewest n ewest
    #  7. ('n','ewest') 6                                -> newest
    #  8. ties at 3: ('d','est') < ('i','d') < ('w','i') -> dest  w i dest
    #  9. ('i','dest') 3 < ('w','i') 3                    -> idest
    # 10. ('w','idest') 3                                -> widest
    # 11. ('e','r') 2 < ('low','e') 2                     -> er    low er
    # 12. ('low','er') 2                                 -> lower; no pairs remain
    corpus = ["low"] * 5 + ["lower"] * 2 + ["newest"] * 6 + ["widest"] * 3
    expected = [("e", "s"), ("es", "t"), ("l", "o"), ("lo", "w"), ("e", "w"), ("ew", "est"),
                ("n", "ewest"), ("d", "est"), ("i", "dest"), ("w", "idest"), ("e", "r"), ("low", "er")]
    assert BPETokenizer.fit(corpus, num_merges=100).merges == expected
    four = BPETokenizer.fit(corpus, num_merges=4)
    assert four.merges == expected[:4]
    # "lowest": l o w e s t -> (es) l o w es t -> (est) l o w est -> (lo) lo w est -> (low) low est
    assert four.tokens("lowest") == ["low", "est"]
    # min_pair_count=3 stops before merge 11, the first with count 2
    assert BPETokenizer.fit(corpus, num_merges=100, min_pair_count=3).merges == expected[:10]


def test_merge_pair_is_left_to_right_and_non_overlapping():
    assert merge_pair(list("aaa"), ("a", "a")) == ["aa", "a"]
    assert merge_pair(list("abab"), ("a", "b")) == ["ab", "ab"]
    assert merge_pair(list("ba"), ("a", "b")) == ["b", "a"]


def brute_force_merges(word_counts, num_merges, min_pair_count=2):
    """Sennrich et al.'s Algorithm 1 literally: recount every pair of every word before each merge."""
    words = {word: list(word) for word in word_counts}
    merges = []
    for _ in range(num_merges):
        counts = Counter()
        for word, symbols in words.items():
            for pair in zip(symbols, symbols[1:]):
                counts[pair] += word_counts[word]
        if not counts:
            break
        best = min(counts, key=lambda pair: (-counts[pair], pair))
        if counts[best] < min_pair_count:
            break
        merges.append(best)
        for word, symbols in words.items():
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    out.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            words[word] = out
    return merges


def merge_test_corpus(name):
    if name == "tinyshakespeare":
        from scratchlm.data import load_corpus
        return load_corpus("tinyshakespeare").train[:20_000]
    if name == "repetitive":
        return SHAKESPEARE_LIKE * 3 + "aaaa aaa aa a banana bandana"  # repeated letters exercise overlaps
    return FINNISH * 2 + ["Aapo", "Aappo", "Aaro", "Aaron"]


@pytest.mark.parametrize("name, num_merges", [("repetitive", 150), ("finnish", 150), ("tinyshakespeare", 120)])
def test_incremental_merge_learning_matches_brute_force(name, num_merges):
    corpus = merge_test_corpus(name)
    lines = [corpus] if isinstance(corpus, str) else corpus
    word_counts = Counter(chunk for line in lines for chunk in split_into_chunks(line))
    expected = brute_force_merges(word_counts, num_merges)
    assert len(expected) > 40
    assert BPETokenizer.fit(corpus, num_merges=num_merges).merges == expected


def test_chunks_concatenate_back_to_the_text():
    text = "Hi there,  you!!\n\tok " + UNSEEN
    assert "".join(split_into_chunks(text)) == text
    assert split_into_chunks("Hi there,  you") == ["Hi", " there", ",", " ", " you"]


def test_bpe_round_trip_on_seen_and_unseen_text():
    tok = BPETokenizer.fit(SHAKESPEARE_LIKE, num_merges=60)
    for text in [SHAKESPEARE_LIKE, UNSEEN, "Väinö\n" * 3, "", " ", "\n\n"]:
        assert tok.decode(tok.encode(text)) == text
    assert "日" not in tok.alphabet
    # the unseen "日" is its three UTF-8 bytes E6 97 A5
    assert tok.tokens("日") == ["<0xE6>", "<0x97>", "<0xA5>"]


def test_bpe_round_trip_on_random_unicode():
    rng = np.random.default_rng(0)
    tok = BPETokenizer.fit(FINNISH, num_merges=30)
    alphabet = list("aAäö -\n\t") + [chr(c) for c in (0x00E9, 0x4E2D, 0x1F600, 0x0000, 0x10FFFF)]
    for _ in range(200):
        text = "".join(rng.choice(alphabet, size=rng.integers(0, 20)))
        assert tok.decode(tok.encode(text)) == text


def test_bpe_frequent_words_become_single_tokens():
    text = " the cat and the hat and the bat" * 20
    tok = BPETokenizer.fit(text, num_merges=50)
    assert tok.tokens(" the cat") == [" the", " cat"]


def test_bpe_vocabulary_layout_and_duplicate_merge_results():
    # "abc" is produced by two routes (ab + c, a + bc); it must become a single vocabulary token
    tok = BPETokenizer(["c", "a", "b"], [("a", "b"), ("b", "c"), ("ab", "c"), ("a", "bc")])
    tokens = tok.vocab.itos
    assert tokens[:4] == list(SPECIALS)
    assert tokens[4:260] == [f"<0x{b:02X}>" for b in range(256)]
    assert tokens[260:] == ["a", "b", "c", "ab", "bc", "abc"]
    assert tok.decode(tok.encode("abcabc")) == "abcabc"


def test_bpe_without_byte_fallback_maps_unseen_to_unk():
    tok = BPETokenizer.fit("abab", num_merges=1, byte_fallback=False)
    assert len(tok.vocab) == 4 + 2 + 1  # specials, a, b, ab
    assert tok.encode("abz") == [tok.vocab.stoi["ab"], Vocabulary.unk_id]


def test_bpe_unknown_error_without_byte_fallback():
    tok = BPETokenizer.fit("abab", num_merges=1, byte_fallback=False)
    with pytest.raises(ValueError, match="'z'"):
        tok.encode("abz", unknown="error")
    with_fallback = BPETokenizer.fit("abab", num_merges=1)
    assert with_fallback.decode(with_fallback.encode("abz", unknown="error")) == "abz"  # nothing is unknown


def test_bpe_is_deterministic():
    a = BPETokenizer.fit(SHAKESPEARE_LIKE, num_merges=40)
    b = BPETokenizer.fit(SHAKESPEARE_LIKE, num_merges=40)
    assert a.merges == b.merges and a.vocab == b.vocab


# --- word tokenizer --------------------------------------------------------------------------

def test_word_rules():
    tok = WordTokenizer.fit("x")
    assert tok.tokens("O Romeo, Romeo! wherefore art thou Romeo?") == [
        "O", "Romeo", ",", "Romeo", "!", "wherefore", "art", "thou", "Romeo", "?"]
    assert tok.tokens("don't o'er 'tis x-ray 3.14 <unk>") == [
        "don't", "o'er", "'", "tis", "x", "-", "ray", "3", ".", "14", "<unk>"]
    assert tok.tokens("one\ntwo\n") == ["one", "<eos>", "two", "<eos>"]


def test_word_whitespace_split_keeps_pretokenised_text():
    text = " the n't <unk> rose N @-@ N \n a b \n"
    tok = WordTokenizer.fit(text, split="whitespace")
    assert tok.tokens(text) == ["the", "n't", "<unk>", "rose", "N", "@-@", "N", "<eos>", "a", "b", "<eos>"]
    # <unk> and <eos> are the special ids, not new words
    assert "<unk>" not in tok.vocab.itos[4:]
    ids = tok.encode(text)
    assert ids.count(Vocabulary.unk_id) == 1 and ids.count(Vocabulary.eos_id) == 2
    assert tok.decode(ids) == "the n't <unk> rose N @-@ N\na b\n"


def test_word_min_count_and_max_vocab():
    # counts: d 4, a 3, b 2, c 1, e 1
    text = "a a a b b c d d d d e"
    assert WordTokenizer.fit(text).vocab.itos[4:] == ["a", "b", "c", "d", "e"]
    assert WordTokenizer.fit(text, min_count=2).vocab.itos[4:] == ["a", "b", "d"]
    # the two most frequent are d (4) and a (3); listed sorted
    assert WordTokenizer.fit(text, max_vocab=2).vocab.itos[4:] == ["a", "d"]
    # c and e tie at 1: the alphabetically first survives
    assert WordTokenizer.fit(text, max_vocab=4).vocab.itos[4:] == ["a", "b", "c", "d"]
    tok = WordTokenizer.fit(text, min_count=2)
    assert tok.encode("a c e d") == [4, Vocabulary.unk_id, Vocabulary.unk_id, 6]
    with pytest.raises(ValueError, match="2 words not in the vocabulary: 'c', 'e'"):
        tok.encode("a c e d", unknown="error")
    with pytest.raises(ValueError, match="min_count=5"):
        WordTokenizer.fit(text, min_count=5)
    with pytest.raises(ValueError, match="max_vocab"):
        WordTokenizer.fit(text, max_vocab=0)


def test_word_lowercase_and_lines():
    tok = WordTokenizer.fit(["The cat", "the Hat"], lowercase=True)
    assert tok.vocab.itos[4:] == ["cat", "hat", "the"]
    assert tok.decode(tok.encode("THE CAT")) == "the cat"


# --- saving and loading ----------------------------------------------------------------------

def test_vocabulary_json_round_trip(tmp_path):
    vocab = Vocabulary(["b", "ä", "日本"])
    vocab.save(tmp_path / "v.json")
    assert Vocabulary.load(tmp_path / "v.json") == vocab
    with pytest.raises(ValueError, match="special tokens"):
        Vocabulary.from_json('{"tokens": ["a", "b"]}')


@pytest.mark.parametrize("make", [
    lambda: CharTokenizer.fit(FINNISH),
    lambda: WordTokenizer.fit(SHAKESPEARE_LIKE, min_count=2, lowercase=True),
    lambda: WordTokenizer.fit(SHAKESPEARE_LIKE, split="whitespace", line_ends_as_eos=False),
    lambda: BPETokenizer.fit(SHAKESPEARE_LIKE, num_merges=30),
    lambda: BPETokenizer.fit(FINNISH, num_merges=10, byte_fallback=False),
])
def test_tokenizer_json_round_trip(tmp_path, make):
    tok = make()
    path = tmp_path / "tok.json"
    tok.save(path)
    again = load_tokenizer(path)
    assert type(again) is type(tok)
    assert again.vocab == tok.vocab and again.to_json() == tok.to_json()
    text = SHAKESPEARE_LIKE + " ".join(FINNISH)
    assert again.encode(text, unknown="unk") == tok.encode(text, unknown="unk")
    assert type(tok).load(path) == tok
    assert not (tmp_path / "tok.json.tmp").exists()


def test_loading_bad_tokenizer_json(tmp_path):
    with pytest.raises(ValueError, match="not a scratchlm tokenizer"):
        Tokenizer.from_json("{not json")
    with pytest.raises(ValueError, match="unknown tokenizer kind"):
        Tokenizer.from_json('{"kind": "sentencepiece", "version": 1}')
    with pytest.raises(ValueError, match="malformed"):
        Tokenizer.from_json('{"kind": "bpe", "version": 1}')
    with pytest.raises(ValueError, match="not a CharTokenizer"):
        CharTokenizer.from_json(WordTokenizer.fit("a b").to_json())


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("tokenizer", [CharTokenizer, WordTokenizer, BPETokenizer])
@pytest.mark.parametrize("corpus", ["", [], ["", ""]])
def test_empty_corpus_is_rejected(tokenizer, corpus):
    with pytest.raises(ValueError, match="empty corpus"):
        tokenizer.fit(corpus)


def test_whitespace_only_corpus_is_empty_for_words():
    with pytest.raises(ValueError, match="empty corpus"):
        WordTokenizer.fit("  \n \n")


@pytest.mark.parametrize("tok", [CharTokenizer.fit("ab"), WordTokenizer.fit("a b"), BPETokenizer.fit("ab ab")])
def test_encode_needs_a_string(tok):
    with pytest.raises(TypeError, match="must be a str"):
        tok.encode(b"ab")
    with pytest.raises(TypeError, match="iterable of str"):
        type(tok).fit([b"ab"])


def test_docstring_examples():
    import doctest

    import scratchlm.text.char
    import scratchlm.text.vocab

    for module in (scratchlm.text.char, scratchlm.text.vocab):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
