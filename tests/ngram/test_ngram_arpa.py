"""ARPA export and import: the round trip keeps every probability, and KenLM reads our files."""
import math
import warnings

import numpy as np
import pytest

from scratchlm.ngram import fit_ngram
from scratchlm.ngram.arpa import read_arpa, write_arpa

from ngram_corpora import TOY, lcg_corpus

TRAIN = lcg_corpus(200, 60, seed=21)
TEST = lcg_corpus(20, 70, seed=22)  # words w60..w69 are unknown to the model


def fitted(method, order=3):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_ngram(TRAIN, order, method)


@pytest.mark.parametrize("method", ["laplace", "absdisc", "katz", "interp", "kn", "mkn"])
def test_round_trip_keeps_every_probability(method, tmp_path):
    model = fitted(method)
    write_arpa(model, tmp_path / "lm.arpa")
    back = read_arpa(tmp_path / "lm.arpa")
    assert back.num_ngrams() == model.num_ngrams() and back.order == model.order
    ours = model.token_log_probs([model.encode(s) for s in TEST])
    theirs = back.token_log_probs([back.encode(s) for s in TEST])
    np.testing.assert_allclose(theirs, ours, rtol=1e-7)  # 8 significant digits of log10 in the file
    state = back.start(2)
    np.testing.assert_allclose(np.exp(back.log_probs(state)).sum(axis=1), 1.0, atol=1e-6)


def test_the_toy_file_by_hand(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fit_ngram(TOY, 2, "kn", discount=0.5)
    write_arpa(model, tmp_path / "toy.arpa")
    lines = (tmp_path / "toy.arpa").read_text().splitlines()
    assert lines[:4] == ["\\data\\", "ngram 1=6", "ngram 2=8", ""]  # <unk> <s> </s> a b c; 8 bigrams
    entries = {line.split("\t")[1]: line.split("\t") for line in lines if line.count("\t")}
    assert entries["<s>"][0] == "-99"                                     # never predicted
    # p(b | a) = 1/6 + .11875 (test_ngram_worked_examples); gamma(a) = .5 * 3/3 = .5
    assert float(entries["a b"][0]) == pytest.approx(math.log10(1 / 6 + 0.11875), abs=1e-7)
    assert float(entries["a"][2]) == pytest.approx(math.log10(0.5), abs=1e-7)
    assert lines[-1] == "\\end\\"


def test_kenlm_scores_our_file_as_we_do(tmp_path):
    kenlm = pytest.importorskip("kenlm")
    for method in ("mkn", "katz", "interp"):
        model = fitted(method, order=4)
        write_arpa(model, tmp_path / f"{method}.arpa")
        reader = kenlm.Model(str(tmp_path / f"{method}.arpa"))
        log10_total = sum(reader.score(" ".join(s), bos=True, eos=True) for s in TEST)
        num_tokens = sum(len(s) + 1 for s in TEST)
        kenlm_perplexity = 10 ** (-log10_total / num_tokens)
        assert kenlm_perplexity == pytest.approx(model.perplexity([model.encode(s) for s in TEST]), rel=1e-6)


# lmplz -o 2 --discount_fallback on the toy corpus (a b / a c / b a), KenLM 0.3.0, verbatim
KENLM_TOY_ARPA = """\\data\\
ngram 1=6
ngram 2=8

\\1-grams:
-0.782516\t<unk>\t0
0\t<s>\t-0.30103
-0.782516\t</s>\t0
-0.69357497\ta\t-0.30103
-0.69357497\tb\t-0.30103
-0.5767541\tc\t-0.30103

\\2-grams:
-0.6035101\ta </s>
-0.47820833\tb </s>
-0.23470409\tc </s>
-0.36192694\t<s> a
-0.45438367\tb a
-0.57200027\t<s> b
-0.57200027\ta b
-0.5240868\ta c

\\end\\
"""


def test_reading_a_kenlm_file_reproduces_kenlm_query(tmp_path):
    path = tmp_path / "kenlm_toy.arpa"
    path.write_text(KENLM_TOY_ARPA)
    model = read_arpa(path)
    assert model.num_ngrams()[1] == 8 and model.log_prob[0][model.bos_id] == -np.inf  # <s> is never predicted
    # KenLM's query on "a b" and "c a a" with this file: "Perplexity including OOVs: 4.98333327060912"
    text = [model.encode(["a", "b"]), model.encode(["c", "a", "a"])]
    assert model.perplexity(text) == pytest.approx(4.98333327060912, rel=1e-7)
    # p(a | c) is not in the file: back off, b(c) p(a) = 10^(-0.30103 - 0.69357497)
    assert model.prob("a", ["c"]) == pytest.approx(10 ** (-0.30103 - 0.69357497))


def test_what_arpa_cannot_hold_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not a distribution"):
        write_arpa(fitted("stupid"), tmp_path / "x.arpa")
    chars = fit_ngram([list("a b"), list("ab")], 2, "laplace")
    with pytest.raises(ValueError, match="whitespace"):
        write_arpa(chars, tmp_path / "x.arpa")
    ids_only = fit_ngram([[4, 5]], 2, "laplace", vocab_size=6)
    with pytest.raises(ValueError, match="Vocabulary"):
        write_arpa(ids_only, tmp_path / "x.arpa")


def test_malformed_files_are_rejected(tmp_path):
    path = tmp_path / "bad.arpa"
    path.write_text("\\data\\\nngram 1=2\nngram 2=1\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n\n\\2-grams:\n-1\ta </s>\n\\end\\\n")
    with pytest.raises(ValueError, match="not a 1-gram"):
        read_arpa(path)
    path.write_text("\\data\\\nngram 1=3\n\n\\1-grams:\n-1\t<s>\n-1\t</s>\n\\end\\\n")
    with pytest.raises(ValueError, match="declares 3"):
        read_arpa(path)
    path.write_text("hello\n")
    with pytest.raises(ValueError):
        read_arpa(path)


NO_UNK = "\\data\\\nngram 1=4\nngram 2=2\n\n\\1-grams:\n-99\t<s>\t-0.30103\n-0.5\t</s>\n-0.2\ta\t-0.1\n-0.8\tb\n\n" \
         "\\2-grams:\n-0.1\t<s> a\n-0.3\ta </s>\n\n\\end\\\n"


def test_a_file_without_unk_gives_it_log10_minus_100_as_kenlm_does(tmp_path):
    path = tmp_path / "no_unk.arpa"
    path.write_text(NO_UNK, encoding="utf-8")
    with pytest.warns(UserWarning, match="no <unk>.*-100"):
        model = read_arpa(path)
    # "a zzz </s>": zzz is unknown; after <unk> the bigram "<unk> </s>" is not listed, so
    # p(</s> | <unk>) = b(<unk>) p(</s>) with b(<unk>) = 1 (log10 0)
    ids = model.encode(["a", "zzz"])
    scores = model.sequence_log_probs(ids + [model.eos_id]) / math.log(10)
    np.testing.assert_allclose(scores, [-0.1, -0.1 + -100.0, -0.5], atol=1e-9)  # p(a|<s>); b(a) p(<unk>); p(</s>)


def test_a_probability_above_one_is_refused_with_the_line(tmp_path):
    path = tmp_path / "above_one.arpa"
    path.write_text(NO_UNK.replace("-0.8\tb", "0.3\tb"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"above_one.arpa:9: log10 probability 0.3 > 0"):
        read_arpa(path)


@pytest.mark.parametrize("change, line, message", [
    (("-0.2\ta\t-0.1", "minus\ta\t-0.1"), 8, "expected a number for the log10 probability, got 'minus'"),
    (("-0.2\ta\t-0.1", "-0.2\ta\tnan"), 8, "log10 back-off is 'nan'"),
    (("-0.3\ta </s>", "-0.3\ta c"), 13, "word 'c', which is not a 1-gram"),
    (("-0.3\ta </s>", "-0.1\t<s> a"), 13, "'<s> a' is listed twice"),
    (("-0.3\ta </s>", "-0.3\ta"), 13, "a 2-gram line needs"),
    (("ngram 2=2", "ngram two=2"), 3, "expected 'ngram N=count'"),
])
def test_parse_errors_name_the_file_and_the_line(tmp_path, change, line, message):
    path = tmp_path / "bad.arpa"
    path.write_text(NO_UNK.replace(*change), encoding="utf-8")
    with pytest.raises(ValueError, match=rf"bad.arpa:{line}: .*{message}"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            read_arpa(path)


def test_a_binary_file_is_refused_cleanly(tmp_path):
    path = tmp_path / "binary.arpa"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="not UTF-8"):
        read_arpa(path)
