"""Reproduce the training targets of docs/training.md with ``scratchlm train``.

    python benchmarks/reproduce.py --target finnish
    python benchmarks/reproduce.py --target makemore --cells rnn gru lstm
    python benchmarks/reproduce.py --target shakespeare
    python benchmarks/reproduce.py --target ptb-small --data-path ../shared/datasets/ptb [--epochs 1]

Each target is one or more ``scratchlm train`` runs with the settings below; after each run the
best checkpoint is scored with ``scratchlm.metrics`` on the validation split and, where the corpus
has one, the test split. The numbers, the settings and the wall time go to
``<out>/<target>.json`` and are printed as a Markdown table row.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from scratchlm.cli import main as scratchlm  # noqa: E402  (after the path set-up above)
from scratchlm.data import NameStream, load_corpus  # noqa: E402
from scratchlm.metrics import evaluate, evaluate_counted, evaluate_stream  # noqa: E402
from scratchlm.train.checkpoint import load_checkpoint, load_trained_model  # noqa: E402
from scratchlm.train.prepare import encode_split  # noqa: E402

# target -> (corpus arguments, training arguments); "{cell}" is filled in per run
TARGETS = {
    # the main job, exactly as `scratchlm train` runs it with no arguments
    "finnish": ([], []),
    # makemore names: a character model per cell, 80/10/10 split of random.seed(42)'s shuffle
    "makemore": (["makemore-names"],
                 ["--cell", "{cell}", "--embed-dim", "64", "--hidden-size", "256", "--dropout", "0.1",
                  "--batch-size", "64", "--lr", "3e-3", "--epochs", "12", "--patience", "3",
                  "--lr-schedule", "plateau", "--decay-factor", "0.3"]),
    # tiny Shakespeare, 90/10 split, truncated BPTT over 100 characters
    "shakespeare": (["tinyshakespeare"],
                    ["--cell", "{cell}", "--layers", "2", "--embed-dim", "64", "--hidden-size", "256",
                     "--dropout", "0", "--batch-size", "32", "--bptt", "100", "--lr", "3e-3", "--epochs", "8",
                     "--patience", "2", "--lr-schedule", "plateau", "--decay-factor", "0.3"]),
    # Zaremba, Sutskever & Vinyals (2014), the "small" configuration. Their loss is the NLL summed
    # over the 20 steps of a window (and averaged over the batch); scratchlm's is the mean per
    # token, 20 times smaller, and so is its gradient. Their lr 1 and clip norm 5 are therefore
    # lr 20 and clip 0.25 here - the values pytorch/examples' word_language_model uses.
    "ptb-small": (["ptb", "--tokenizer", "word", "--word-split", "whitespace"],
                  ["--cell", "{cell}", "--layers", "2", "--embed-dim", "200", "--hidden-size", "200",
                   "--dropout", "0", "--init-range", "0.1", "--batch-size", "20", "--bptt", "20",
                   "--optimizer", "sgd", "--lr", "20", "--lr-schedule", "step", "--decay-after", "4",
                   "--decay-factor", "0.5", "--clip", "0.25", "--epochs", "13", "--patience", "0"]),
}


def score(checkpoint: str, split: str):
    """Validation or test NLL of a checkpoint, through scratchlm.metrics; None if no such split."""
    model, tokenizer, saved = load_trained_model(checkpoint)
    info = saved.config["data"]
    corpus = load_corpus(info["corpus"], path=info.get("data_path"), kind=info.get("kind"))
    text = corpus.splits()[split]
    if len(text) == 0:
        return None
    ids = encode_split(tokenizer, text, corpus.kind)
    if isinstance(corpus, NameStream) and split != "train":
        # the main job's held-out names, in their place in the whole text (scratchlm.data.heldout)
        result = evaluate_counted(model, tokenizer.encode(corpus.text), corpus.counted(split))
    elif corpus.kind == "lines":
        result = evaluate(model, [list(item) + [model.eos_id] for item in ids])
    else:
        result = evaluate_stream(model, ids)
    return {"nats": result.nll_per_token, "perplexity": result.perplexity, "bits": result.bits_per_token,
            "tokens": result.num_tokens}


def run_one(target: str, cell: str, args) -> dict:
    corpus_args, train_args = TARGETS[target]
    out = os.path.join(args.out, target if target == "finnish" else f"{target}-{cell}")
    command = ["train", *corpus_args, *[a.replace("{cell}", cell) for a in train_args], "--out", out]
    if args.data_path:
        command += ["--data-path", args.data_path]
    if args.epochs:
        command += ["--epochs", str(args.epochs)]
    if args.no_progress:
        command.append("--no-progress")
    print("scratchlm " + " ".join(command), flush=True)
    started = time.perf_counter()
    status = scratchlm(command)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"scratchlm train exited with status {status}")
    checkpoint = os.path.join(out, "model.npz")
    history = load_checkpoint(os.path.join(out, "last.npz")).progress["history"]
    return {
        "target": target, "cell": cell, "command": "scratchlm " + " ".join(command), "wall_seconds": seconds,
        "epochs": len(history["epoch"]), "train_seconds": sum(history["epoch_seconds"]),
        "tokens_per_second": sum(history["tokens_per_second"]) / max(1, len(history["tokens_per_second"])),
        "val_ppl_per_epoch": history["val_ppl"], "valid": score(checkpoint, "valid"), "test": score(checkpoint, "test"),
    }


def markdown_row(result: dict) -> str:
    def cell(split):
        value = result[split]
        return "-" if value is None else f"{value['nats']:.4f} / {value['perplexity']:.2f}"

    return (f"| {result['target']} | {result['cell']} | {result['epochs']} | {cell('valid')} | {cell('test')} | "
            f"{result['wall_seconds'] / 60:.1f} min | {result['tokens_per_second']:,.0f} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=tuple(TARGETS), required=True)
    parser.add_argument("--cells", nargs="+", default=["lstm"], choices=("rnn", "gru", "lstm"))
    parser.add_argument("--epochs", type=int, default=None, help="override the target's number of epochs")
    parser.add_argument("--data-path", default=None, help="folder of the ptb files (ptb-small)")
    parser.add_argument("--out", default="runs/reproduce")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    results = [run_one(args.target, cell, args) for cell in (["lstm"] if args.target == "finnish" else args.cells)]
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"{args.target}.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    print("\n| target | cell | epochs | valid nats / ppl | test nats / ppl | wall time | tokens/s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        print(markdown_row(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
