"""Generate text from a trained model: continuations of a prompt at a chosen temperature.

    scratchlm sample runs/finnish-names/model.npz --prompt Aa --temperature 0.8 --count 10

Every character (or word, or subword) of the prompt must be in the model's vocabulary.
"""
from __future__ import annotations

import argparse

from scratchlm.commands.train_options import prompt_ids
from scratchlm.sampling import generate
from scratchlm.text.char import CHAR_UNKNOWN_POLICIES
from scratchlm.train.checkpoint import load_trained_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a checkpoint written by scratchlm train (model.npz)")
    parser.add_argument("--prompt", default="", help="the text every sample continues (default: none)")
    parser.add_argument("--temperature", type=float, default=1.0, help="T > 0: below 1 sharper, above 1 flatter (default: 1)")
    parser.add_argument("--count", type=int, default=10, help="number of samples (default: 10)")
    parser.add_argument("--max-len", type=int, default=None, help="longest continuation in tokens (default: 30 for items, 300 for streams)")
    parser.add_argument("--top-k", type=int, default=None, help="sample only from the k most probable tokens")
    parser.add_argument("--top-p", type=float, default=None, help="sample only from the smallest set of tokens with probability >= p")
    parser.add_argument("--greedy", action="store_true", help="always take the most probable token")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: fresh randomness)")
    parser.add_argument("--unknown", choices=CHAR_UNKNOWN_POLICIES, default="error",
                        help="char models: a --prompt character the model never saw is an error, <unk>, or skipped (default: error)")


def run(args: argparse.Namespace) -> int:
    model, tokenizer, checkpoint = load_trained_model(args.checkpoint)
    lines = checkpoint.config.get("kind") == "lines"
    try:
        prompt_tokens = prompt_ids(tokenizer, args.prompt, args.unknown)
    except ValueError as err:
        raise ValueError(f"--prompt {args.prompt!r}: {err}") from None
    max_len = args.max_len or (30 if lines else 300)
    samples = generate(model, prompt_tokens, n=args.count, max_len=max_len, temperature=args.temperature,
                       top_k=args.top_k, top_p=args.top_p, rng=args.seed, greedy=args.greedy)
    for ids in samples:
        text = args.prompt + tokenizer.decode(ids)
        print(text if lines else text + "\n" + "-" * 40)
    return 0
