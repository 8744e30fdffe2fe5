"""Corpora and batches.

    corpora.py   load_corpus(name | path) -> Corpus(train, valid, test, kind): the bundled
                 corpora, Penn Treebank / WikiText-2 from a folder or a checked download, any
                 UTF-8 text file; the standard splits
    heldout.py   NameStream: a names list as one text, every k-th name held out in its place
    batching.py  StreamBatches (parallel streams in bptt windows, for truncated BPTT) and
                 ItemBatches (short items framed by <bos>/<eos>, padded, with a mask);
                 batches_for(tokenizer, split, ...) picks the right one for a split
"""
from .batching import ItemBatches, StreamBatches, batches_for, batchify, pad_items
from .heldout import NameStream, name_stream
from .corpora import (
    BUNDLED, CORPUS_NAMES, DOWNLOADS, Corpus, datasets_dir, download_file, load_corpus, load_text_file,
    read_lines, read_text, split_lines, split_stream,
)

__all__ = [
    "Corpus", "load_corpus", "load_text_file", "read_text", "read_lines", "split_lines", "split_stream",
    "datasets_dir", "download_file", "BUNDLED", "DOWNLOADS", "CORPUS_NAMES",
    "NameStream", "name_stream",
    "StreamBatches", "ItemBatches", "batchify", "pad_items", "batches_for",
]
