"""The checks of ``scratchlm train``'s options that one flag's type cannot make alone.

Each flag's own range is checked while parsing (the types of :mod:`scratchlm.commands.options`).
What depends on several flags, on a checkpoint or on the data is checked here, still before any
training step: :func:`check_options` right after parsing, :func:`resume_overrides` once the
checkpoint is read, :func:`check_prompt` and :func:`check_memory` once the vocabulary is known.
Every message names the flag as it is typed (``--hidden-size``).
"""
from __future__ import annotations

import argparse

from scratchlm.data import CORPUS_NAMES
from scratchlm.data.corpora import AS_NAME_STREAM
from scratchlm.train.memory import available_bytes, human_bytes, parameter_count, training_bytes

# flag dest -> the TrainConfig field it sets, for the options a resumed run may change
RESUME_CHANGEABLE = {"epochs": "epochs", "lr": "lr", "patience": "patience", "clip": "clip_norm", "clip_value": "clip_value"}
# flag dest -> (checkpoint config section, key) for the options fixed for the life of a run
RESUME_FIXED = {
    "cell": ("model", "cell"), "embed_dim": ("model", "embed_dim"), "hidden_size": ("model", "hidden_size"),
    "layers": ("model", "num_layers"), "dropout": ("model", "dropout"), "tie_weights": ("model", "tie_weights"),
    "init_range": ("model", "init_range"),
    "batch_size": ("train", "batch_size"), "bptt": ("train", "bptt"), "bptt_k2": ("train", "bptt_k2"),
    "optimizer": ("train", "optimizer"), "momentum": ("train", "momentum"), "lr_schedule": ("train", "lr_schedule"),
    "decay_factor": ("train", "decay_factor"), "decay_after": ("train", "decay_after"), "seed": ("train", "seed"),
    "kind": ("data", "kind"), "tokenizer": ("data", "tokenizer"), "max_vocab": ("data", "max_vocab"),
    "min_count": ("data", "min_count"), "word_split": ("data", "word_split"), "bpe_merges": ("data", "bpe_merges"),
}
BENCHMARK_CORPORA = ("ptb", "wikitext-2")
# a run that needs more than this is announced before it allocates
ANNOUNCE_BYTES = 1 << 30


def flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _given(args) -> set:
    return set(getattr(args, "given", ()) or ())


def _only_with(args, given: set, dests, condition: bool, what: str) -> None:
    for dest in dests:
        if dest in given and not condition:
            raise ValueError(f"{flag(dest)} applies only {what}")


def check_options(args: argparse.Namespace) -> None:
    """Raise ValueError for options that contradict each other (a new run or a resumed one)."""
    given = _given(args)
    if args.bptt_k2 is not None and args.bptt_k2 < args.bptt:
        raise ValueError(f"--bptt-k2 must be >= --bptt (k2 >= k1), got --bptt-k2 {args.bptt_k2} with --bptt {args.bptt}")
    if args.resume:
        return  # the rest is fixed by the checkpoint; resume_overrides checks it
    if args.tie_weights and args.embed_dim != args.hidden_size:
        raise ValueError(f"--tie-weights needs --embed-dim == --hidden-size, got {args.embed_dim} and {args.hidden_size}")
    _only_with(args, given, ["momentum"], args.optimizer == "sgd", "to --optimizer sgd")
    _only_with(args, given, ["decay_factor"], args.lr_schedule != "none", "with --lr-schedule step or plateau")
    _only_with(args, given, ["decay_after"], args.lr_schedule == "step", "with --lr-schedule step")
    _only_with(args, given, ["max_vocab", "min_count", "word_split"], args.tokenizer == "word", "to --tokenizer word")
    _only_with(args, given, ["bpe_merges"], args.tokenizer == "bpe", "to --tokenizer bpe")
    _only_with(args, given, ["unknown"], args.tokenizer == "char", "to --tokenizer char (word and bpe models map unseen words to <unk>)")
    _only_with(args, given, ["data_path", "download"], args.corpus in BENCHMARK_CORPORA, "to the ptb and wikitext-2 corpora")
    _only_with(args, given, ["kind"], args.corpus not in CORPUS_NAMES or args.corpus in AS_NAME_STREAM,
               f"to a text file or to {', '.join(AS_NAME_STREAM)} (another named corpus has its own kind)")
    _only_with(args, given, ["allow_changed_data"], False, "with --resume")


def resume_overrides(args: argparse.Namespace, checkpoint, path: str) -> dict:
    """The TrainConfig changes a resumed run asks for, ``{field: value}``.

    Raises ValueError for an option that cannot change in the middle of a run (the model, the
    data, the batches), naming the flag and the value the run was started with.
    """
    given = _given(args)
    config = checkpoint.config
    for dest in sorted(given & set(RESUME_FIXED)):
        section, key = RESUME_FIXED[dest]
        saved = (config.get(section) or {}).get(key)
        value = getattr(args, dest)
        if value != saved:
            raise ValueError(
                f"{flag(dest)} cannot change when a run resumes: {path} was started with {flag(dest)} {saved}, "
                f"and its model, data and batches depend on it; start a new run to use {flag(dest)} {value}")
    train = config.get("train") or {}
    if "lr" in given and train.get("lr_schedule", "none") != "none":
        raise ValueError(f"--lr cannot change when a run resumes with --lr-schedule {train['lr_schedule']}: the schedule sets the learning rate")
    overrides = {}
    for dest, field in RESUME_CHANGEABLE.items():
        if dest not in given:
            continue
        value = getattr(args, dest)
        if dest == "clip" or dest == "patience":
            value = value if value > 0 else None  # 0: no clipping / never stop early
        overrides[field] = value
    return overrides


def describe_overrides(checkpoint, overrides: dict) -> str:
    """'lr 0.003 -> 0.5, epochs 25 -> 27' for the changes a resume applies."""
    train = checkpoint.config.get("train") or {}
    return ", ".join(f"{field} {train.get(field)} -> {value}" for field, value in overrides.items())


def check_prompt(args: argparse.Namespace, tokenizer) -> None:
    """A --prompt the report cannot encode is refused now, not after training."""
    if args.unknown != "error" and tokenizer.kind != "char":
        raise ValueError(f"--unknown applies only to character models; this is a {tokenizer.kind} model, which maps unseen words to <unk>")
    if args.prompt:
        try:
            prompt_ids(tokenizer, args.prompt, args.unknown)
        except ValueError as err:
            raise ValueError(f"--prompt {args.prompt!r}: {err}") from None


def prompt_ids(tokenizer, prompt: str, unknown: str = "error") -> list[int]:
    """The ids of ``prompt``; ``unknown`` (``--unknown``) is the policy of a character tokenizer."""
    if not prompt:
        return []
    if tokenizer.kind == "char":
        return tokenizer.encode(prompt, unknown=unknown)
    return tokenizer.encode(prompt)


def check_memory(args: argparse.Namespace, vocab_size: int, steps: int) -> str | None:
    """Refuse a model that cannot fit in memory, before anything is allocated.

    Returns a line announcing a large allocation (over 1 GiB), or None.
    """
    parameters = parameter_count(vocab_size, args.embed_dim, args.hidden_size, args.layers, args.cell, args.tie_weights)
    needed = training_bytes(vocab_size, args.embed_dim, args.hidden_size, args.layers, args.cell,
                            args.batch_size, steps, args.tie_weights)
    available = available_bytes()
    what = (f"{parameters:,} parameters (--hidden-size {args.hidden_size}, --embed-dim {args.embed_dim}, --layers {args.layers}, "
            f"{vocab_size} tokens): about {human_bytes(needed)} to train with --batch-size {args.batch_size} over {steps} steps")
    if available is not None and needed > available:
        raise ValueError(f"this model does not fit in memory: {what}, but only {human_bytes(available)} is available; "
                         "make it smaller (--hidden-size, --embed-dim, --layers, --batch-size, --bptt)")
    if needed > ANNOUNCE_BYTES:
        return f"memory: {what}" + (f" (of {human_bytes(available)} available)" if available is not None else "")
    return None
