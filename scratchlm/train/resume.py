"""Resuming a run on the data it started on: where the corpus is, and whether it is the same.

A checkpoint's ``config["data"]`` describes the data: the corpus (a bundled name, ``ptb`` /
``wikitext-2``, or the *absolute* path of a text file), the tokenizer options, and
``sha256``, the SHA-256 of the corpus's splits as read (see :func:`corpus_sha256`). On resume:

* a text file that moved is found again by giving its new path (:func:`locate_corpus`);
* text that no longer has the same checksum is refused (:func:`check_same_corpus`), because
  continuing on other data silently mixes two experiments, unless the caller allows it.
"""
from __future__ import annotations

import hashlib
import json
import os

from scratchlm.data import CORPUS_NAMES


def corpus_sha256(corpus) -> str:
    """SHA-256 (hex) of the corpus's train, validation and test splits, as JSON text.

    It covers what the model is trained and measured on, whichever file or folder it came
    from, so a corpus copied elsewhere keeps its checksum and an edited one does not.
    """
    text = json.dumps([corpus.train, corpus.valid, corpus.test], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_text_file_corpus(name: str) -> bool:
    return name not in CORPUS_NAMES


def locate_corpus(info: dict, new_location: str | None = None, data_path: str | None = None) -> dict:
    """``info`` with the corpus's current location: ``new_location`` for a text file that moved,
    ``data_path`` for the folder of ptb / wikitext-2. Raises when the corpus cannot be found."""
    info = dict(info)
    saved = info["corpus"]
    if new_location is not None and new_location != saved:
        if not is_text_file_corpus(saved) or not is_text_file_corpus(new_location):
            raise ValueError(f"the run was trained on {saved!r}; a resumed run cannot change its corpus to {new_location!r}")
        info["corpus"] = os.path.abspath(new_location)
    if data_path is not None:
        info["data_path"] = os.path.abspath(data_path)
    if is_text_file_corpus(info["corpus"]) and not os.path.isfile(info["corpus"]):
        raise FileNotFoundError(
            f"the run's corpus {info['corpus']!r} is not there any more; if it moved, give its new path: "
            f"scratchlm train NEW/PATH/{os.path.basename(info['corpus'])} --resume CHECKPOINT")
    return info


def check_same_corpus(info: dict, corpus, allow_changed: bool = False) -> str | None:
    """Raise ValueError when the corpus's checksum differs from the saved one (unless
    ``allow_changed``); returns a note for the user when something could not be checked or was allowed."""
    saved = info.get("sha256")
    if saved is None:
        return "note: this checkpoint stores no checksum of its corpus, so the data cannot be checked"
    now = corpus_sha256(corpus)
    if now == saved:
        return None
    if allow_changed:
        return f"note: the corpus {info['corpus']!r} has changed since the run started; continuing on it (--allow-changed-data)"
    raise ValueError(
        f"the corpus {info['corpus']!r} has changed since the run started (sha256 {saved[:12]}... then, {now[:12]}... now); "
        "continuing would train one model on two data sets. Start a new run, or pass --allow-changed-data")
