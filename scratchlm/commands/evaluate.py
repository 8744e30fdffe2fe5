"""Measure a trained model on a text file: perplexity and bits per token.

    scratchlm eval runs/finnish-names/model.npz names.txt
    scratchlm eval runs/tinyshakespeare/model.npz --split valid

A model trained on items (names) reads the file one item per line; a model trained on a stream
reads it as one stream. Every predicted token counts, ``<eos>`` included for items (see
:mod:`scratchlm.metrics`). The main job's held-out names (``--split valid`` / ``test`` of the
Finnish names read as one text) are scored in their place in the whole text, as in training
(:mod:`scratchlm.data.heldout`).
"""
from __future__ import annotations

import argparse

from scratchlm.commands.options import readable_file
from scratchlm.data import NameStream, load_corpus, read_lines, read_text
from scratchlm.metrics import EvaluationResult, evaluate_counted
from scratchlm.text.char import CHAR_UNKNOWN_POLICIES
from scratchlm.train.checkpoint import load_trained_model
from scratchlm.train.loop import validation_nll
from scratchlm.train.prepare import encode_split


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", type=readable_file, help="a checkpoint written by scratchlm train (model.npz)")
    parser.add_argument("file", nargs="?", type=readable_file, default=None, help="a UTF-8 text file to score")
    parser.add_argument("--split", choices=("train", "valid", "test"), default=None,
                        help="score a split of the corpus the model was trained on instead of a file")
    parser.add_argument("--unknown", choices=CHAR_UNKNOWN_POLICIES, default="error",
                        help="char models: a character the model never saw is an error, scored as <unk>, or skipped (default: error)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    if (args.file is None) == (args.split is None):
        raise ValueError("give either a FILE to score or --split train|valid|test (not both)")
    model, tokenizer, checkpoint = load_trained_model(args.checkpoint)
    if args.unknown != "error" and tokenizer.kind != "char":
        raise ValueError(f"--unknown applies only to character models; this is a {tokenizer.kind} model, which scores unseen words as <unk>")
    kind = checkpoint.config.get("kind", "stream")
    if args.split is not None:
        info = checkpoint.config.get("data") or {}
        if "corpus" not in info:
            raise ValueError(f"{args.checkpoint!r} does not say which corpus it was trained on; give a FILE")
        corpus = load_corpus(info["corpus"], path=info.get("data_path"), kind=info.get("kind"))
        text, source = corpus.splits()[args.split], f"{info['corpus']} {args.split} split"
        if len(text) == 0:
            raise ValueError(f"{info['corpus']} has no {args.split} split")
    else:
        text = read_lines(args.file) if kind == "lines" else read_text(args.file)
        source, corpus = args.file, None
    try:
        ids = encode_split(tokenizer, text, kind, unknown=args.unknown if tokenizer.kind == "char" else None)
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None
    if kind == "lines":
        ids = [item for item in ids if item] if args.unknown == "skip" else ids
        characters = sum(len(item) + 1 for item in text)  # + 1: <eos> stands for the line end
    else:
        characters = len(text)
    if len(ids) == 0:
        raise ValueError(f"{source}: nothing left to score")
    if args.split in ("valid", "test") and isinstance(corpus, NameStream):
        # held-out names are scored in their place in the whole text, as the trainer scored them
        result = evaluate_counted(model, tokenizer.encode(corpus.text), corpus.counted(args.split))
        characters, source = result.num_tokens, f"{source} (in its place in the whole text)"
    else:
        # the trainer's validation code: the same number as the epoch lines and the report (scratchlm.metrics' definition)
        total, count = validation_nll(model, ids, kind, progress=not args.no_progress)
        result = EvaluationResult(total_nll=total, num_tokens=count)
    unit = "char" if tokenizer.kind == "char" else "token"
    print(f"{source}: {result.num_tokens:,} predicted {unit}s")
    print(f"perplexity       {result.perplexity:.4f}")
    print(f"nats per {unit:<6}  {result.nll_per_token:.4f}")
    print(f"bits per {unit:<6}  {result.bits_per_token:.4f}")
    if unit != "char":
        print(f"bits per char    {result.bits_per(characters):.4f}")
    return 0
