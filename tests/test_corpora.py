"""Corpus loading: bundled splits, text files, PTB / WikiText-2 folders, checked downloads, bad input."""
import hashlib
import random
from pathlib import Path

import pytest

from scratchlm.data import corpora
from scratchlm.data import load_corpus, load_text_file, read_text, split_lines, split_stream
from scratchlm.text import CharTokenizer, WordTokenizer

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def bundled_file(relative):
    return corpora.datasets_dir() / relative


# --- bundled corpora -------------------------------------------------------------------------

@pytest.mark.parametrize("name, lines, sizes", [
    # n = 750: int(0.8 n) = 600, int(0.9 n) = 675  ->  600 / 75 / 75
    ("finnish-names", 750, (600, 75, 75)),
    # n = 32,033: int(0.8 n) = 25,626, int(0.9 n) = 28,829  ->  25,626 / 3,203 / 3,204
    ("makemore-names", 32_033, (25_626, 3_203, 3_204)),
])
def test_names_split_sizes_and_partition(name, lines, sizes):
    corpus = load_corpus(name)
    assert corpus.kind == "lines"
    assert (len(corpus.train), len(corpus.valid), len(corpus.test)) == sizes
    original = Path(corpus.source).read_text(encoding="utf-8").splitlines()
    assert len(original) == lines
    # a partition of the file's lines: nothing lost, nothing added, nothing in two splits
    assert sorted(corpus.train + corpus.valid + corpus.test) == sorted(original)


def test_finnish_splits_share_no_name():
    corpus = load_corpus("finnish-names")
    train, valid, test = set(corpus.train), set(corpus.valid), set(corpus.test)
    assert len(train) + len(valid) + len(test) == 750
    assert not train & valid and not train & test and not valid & test
    assert "Aadolf" in train | valid | test and "Kukka-Maaria" in train | valid | test


def test_whole_corpus_covers_every_split():
    names = load_corpus("finnish-names")
    assert sorted(names.whole()) == sorted(names.train + names.valid + names.test)
    # the test names hold characters the training names lack, so a character vocabulary must be
    # fitted on the whole corpus to encode them
    unseen_in_train = set("".join(names.test)) - set("".join(names.train))
    assert unseen_in_train
    vocab = CharTokenizer.fit(names.whole()).vocab
    assert all(char in vocab for char in unseen_in_train)
    shakespeare = load_corpus("tinyshakespeare")
    assert shakespeare.whole() == shakespeare.train + shakespeare.valid


def test_makemore_split_is_the_lectures():
    # nn-zero-to-hero, makemore part 2: random.seed(42); random.shuffle(words); cut at 80% and 90%
    words = bundled_file("makemore-names/names.txt").read_text(encoding="utf-8").splitlines()
    random.seed(42)
    random.shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    corpus = load_corpus("makemore-names")
    assert corpus.train == words[:n1] and corpus.valid == words[n1:n2] and corpus.test == words[n2:]


def test_lines_splits_are_deterministic_and_depend_on_the_seed():
    assert load_corpus("finnish-names") == load_corpus("finnish-names")
    other = load_corpus("finnish-names", seed=7)
    assert other.train != load_corpus("finnish-names").train
    assert sorted(other.train + other.valid + other.test) == sorted(load_corpus("finnish-names").train
                                                                     + load_corpus("finnish-names").valid
                                                                     + load_corpus("finnish-names").test)


def test_tinyshakespeare_split_is_first_90_percent():
    corpus = load_corpus("tinyshakespeare")
    text = bundled_file("tinyshakespeare/input.txt").read_text(encoding="utf-8")
    assert len(text) == 1_115_394
    assert corpus.kind == "stream"
    assert len(corpus.train) == 1_003_854  # int(0.9 * 1,115,394)
    assert corpus.train + corpus.valid == text and corpus.test == ""
    assert corpus.train.startswith("First Citizen:\n")


def test_bundled_files_match_their_recorded_checksums():
    # the sha256 values of datasets/README.md (taken from the provenance files)
    expected = {
        "finnish-names/names.txt": "70c314aa556f4b7514eb24222d6c7280ab4f0eba15bc99fa9f84300c53413135",
        "finnish-names/namedays-fi-2000.txt": "dd68a23474bbd9e93fd82f1515d38a76fb7c5764016d99126703a59ab472005d",
        "makemore-names/names.txt": "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
        "tinyshakespeare/input.txt": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    }
    for relative, sha256 in expected.items():
        assert hashlib.sha256(bundled_file(relative).read_bytes()).hexdigest() == sha256, relative


def test_datasets_dir_can_be_overridden(tmp_path, monkeypatch):
    (tmp_path / "finnish-names").mkdir()
    (tmp_path / "finnish-names" / "names.txt").write_text("Aino\nEino\nIines\nOona\nUuno\n", encoding="utf-8")
    monkeypatch.setenv("SCRATCHLM_DATASETS", str(tmp_path))
    corpus = load_corpus("finnish-names")
    assert sorted(corpus.train + corpus.valid + corpus.test) == ["Aino", "Eino", "Iines", "Oona", "Uuno"]
    assert (len(corpus.train), len(corpus.valid), len(corpus.test)) == (4, 0, 1)  # int(4.0), int(4.5)


# --- text files and splits -------------------------------------------------------------------

def test_text_file_as_stream_and_as_lines(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_bytes("yksi\r\nkaksi\r\n\r\nkolme\r\nneljä\nviisi\n".encode("utf-8"))
    stream = load_corpus(path)
    text = "yksi\nkaksi\n\nkolme\nneljä\nviisi\n"  # CR LF read as LF
    assert stream.kind == "stream" and stream.train + stream.valid == text
    assert len(stream.train) == int(0.9 * len(text))
    lines = load_text_file(path, kind="lines")
    assert sorted(lines.train + lines.valid + lines.test) == sorted(["yksi", "kaksi", "kolme", "neljä", "viisi"])


def test_split_helpers_by_hand():
    assert split_stream("abcdefghij") == ("abcdefghi", "j", "")
    assert split_stream("abcdefghij", (0.5, 0.8)) == ("abcde", "fgh", "ij")
    train, valid, test = split_lines([str(i) for i in range(10)], seed=1)
    assert (len(train), len(valid), len(test)) == (8, 1, 1)
    with pytest.raises(ValueError, match="fractions"):
        split_stream("abc", (0.9, 0.5))
    with pytest.raises(ValueError, match="empty"):
        split_lines([])


# --- PTB and WikiText-2 from a folder ---------------------------------------------------------

def write_fake_benchmark(folder, names):
    folder.mkdir(exist_ok=True)
    texts = {"train": " a b <unk> \n b c \n", "valid": " a c \n", "test": " c b \n"}
    for split, filename in zip(("train", "valid", "test"), names):
        (folder / filename).write_text(texts[split], encoding="utf-8")
    return texts


@pytest.mark.parametrize("name, files", [
    ("ptb", ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt")),
    ("ptb", ("train.txt", "valid.txt", "test.txt")),
    ("wikitext-2", ("wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens")),
])
def test_benchmark_from_a_folder(tmp_path, name, files):
    texts = write_fake_benchmark(tmp_path / name, files)
    corpus = load_corpus(name, path=tmp_path / name)
    assert corpus.kind == "stream"
    assert (corpus.train, corpus.valid, corpus.test) == (texts["train"], texts["valid"], texts["test"])


def test_benchmark_errors(tmp_path):
    with pytest.raises(ValueError, match="download=True"):
        load_corpus("ptb")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_corpus("ptb", path=tmp_path / "nowhere")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "ptb.train.txt").write_text(" a \n", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="ptb.valid.txt"):
        load_corpus("ptb", path=tmp_path / "half")


@pytest.mark.skipif(not (SHARED / "ptb").is_dir(), reason="the shared PTB copy is not on this machine")
def test_ptb_standard_token_counts():
    corpus = load_corpus("ptb", path=SHARED / "ptb")
    tok = WordTokenizer.fit(corpus.valid, split="whitespace")
    # PROVENANCE.md: tokens including one <eos> per line: valid 73,760, test 82,430
    assert len(tok.encode(corpus.valid)) == 73_760
    assert len(tok.encode(corpus.test)) == 82_430


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared datasets are not on this machine")
def test_recorded_download_checksums_match_the_reference_copies():
    for name, folder in (("ptb", "ptb"), ("wikitext-2", "wikitext-2")):
        for split, (filename, _, _, sha256) in corpora.DOWNLOADS[name].items():
            assert hashlib.sha256((SHARED / folder / filename).read_bytes()).hexdigest() == sha256, filename


# --- downloads, without the network ----------------------------------------------------------

def serve(monkeypatch, pages):
    """Replace the network fetch by a dictionary of url -> bytes, recording each request."""
    requested = []

    def fake_fetch(url):
        requested.append(url)
        return pages[url]

    monkeypatch.setattr(corpora, "fetch", fake_fetch)
    return requested


def test_download_checks_and_keeps_a_good_file(tmp_path, monkeypatch):
    data = " the cat \n".encode("utf-8")
    requested = serve(monkeypatch, {"https://example.org/a.txt": data})
    sha = hashlib.sha256(data).hexdigest()
    path = corpora.download_file("https://example.org/a.txt", tmp_path / "cache" / "a.txt", sha)
    assert path.read_bytes() == data
    # a second call finds the file with the right checksum and does not fetch again
    corpora.download_file("https://example.org/a.txt", tmp_path / "cache" / "a.txt", sha)
    assert requested == ["https://example.org/a.txt"]


def test_download_with_wrong_checksum_raises_and_leaves_nothing(tmp_path, monkeypatch):
    serve(monkeypatch, {"https://example.org/a.txt": b"tampered"})
    with pytest.raises(ValueError, match="checksum mismatch"):
        corpora.download_file("https://example.org/a.txt", tmp_path / "a.txt", "0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_corrupted_cached_file_is_fetched_again(tmp_path, monkeypatch):
    data = b" good \n"
    requested = serve(monkeypatch, {"u": data})
    (tmp_path / "a.txt").write_bytes(b"truncat")
    corpora.download_file("u", tmp_path / "a.txt", hashlib.sha256(data).hexdigest())
    assert requested == ["u"] and (tmp_path / "a.txt").read_bytes() == data


def test_load_corpus_download_path(tmp_path, monkeypatch):
    texts = {"train": b" a b \n b c \n", "valid": b" a c \n", "test": b" c b \n"}
    table = {
        split: (f"ptb.{split}.txt", (), f"https://example.org/ptb.{split}.txt", hashlib.sha256(data).hexdigest())
        for split, data in texts.items()
    }
    monkeypatch.setitem(corpora.DOWNLOADS, "ptb", table)
    monkeypatch.setenv("SCRATCHLM_CACHE", str(tmp_path))
    requested = serve(monkeypatch, {url: texts[split] for split, (_, _, url, _) in table.items()})
    corpus = load_corpus("ptb", download=True)
    assert corpus.train == " a b \n b c \n" and corpus.test == " c b \n"
    assert sorted(p.name for p in (tmp_path / "ptb").iterdir()) == ["ptb.test.txt", "ptb.train.txt", "ptb.valid.txt"]
    assert len(requested) == 3


def test_load_corpus_download_with_a_bad_file_keeps_no_partial_download(tmp_path, monkeypatch):
    good = b" a \n"
    table = {
        "train": ("ptb.train.txt", (), "u/train", hashlib.sha256(good).hexdigest()),
        "valid": ("ptb.valid.txt", (), "u/valid", hashlib.sha256(good).hexdigest()),
        "test": ("ptb.test.txt", (), "u/test", hashlib.sha256(good).hexdigest()),
    }
    monkeypatch.setitem(corpora.DOWNLOADS, "ptb", table)
    serve(monkeypatch, {"u/train": good, "u/valid": b" corrupted \n", "u/test": good})
    with pytest.raises(ValueError, match="u/valid"):
        load_corpus("ptb", path=tmp_path, download=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ptb.train.txt"]


# --- bad input -------------------------------------------------------------------------------

def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="finnish-names.*tinyshakespeare.*ptb"):
        load_corpus("shakespear")


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no such"):
        load_corpus("does/not/exist.txt")
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_text("/does/not/exist.txt")


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Väinö\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8.*0xe4"):
        load_corpus(path)


@pytest.mark.parametrize("content", [b"", b"  \n\n \t"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="empty"):
        load_corpus(path)
    with pytest.raises(ValueError, match="empty"):
        load_text_file(path, kind="lines")


def test_directory_is_not_a_text_file(tmp_path):
    with pytest.raises(ValueError, match="directory"):
        load_corpus(tmp_path)


def test_options_that_do_not_apply():
    with pytest.raises(ValueError, match="bundled"):
        load_corpus("finnish-names", download=True)
    with pytest.raises(ValueError, match="lines corpus"):
        load_corpus("makemore-names", kind="stream")
    with pytest.raises(ValueError, match="kind must be"):
        load_text_file(__file__, kind="words")
