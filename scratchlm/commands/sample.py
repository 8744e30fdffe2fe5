"""Generate text from a trained model, with the decoding options of Hugging Face's generate().

    scratchlm sample runs/finnish-names/model.npz --prompt Aa --temperature 0.8 --count 10
    scratchlm sample runs/finnish-names/model.npz --num-beams 5 --num-return-sequences 3
    scratchlm sample runs/finnish-names/model.npz --temperature 0.1 --repetition-penalty 1.5

Every character (or word, or subword) of the prompt must be in the model's vocabulary (char
models: ``--unknown unk`` or ``skip`` relaxes that). The
prompt and each continuation are decoded together, so the tokenizer joins them by its own rule
(a space between words). ``<pad>`` and ``<bos>`` are never generated, ``<unk>`` only with
``--allow-unk``. Every option is checked before the checkpoint is read.
"""
from __future__ import annotations

import argparse

from scratchlm.commands.options import (
    float_in,
    non_negative_int,
    positive_float,
    positive_int,
    probability,
)
from scratchlm.commands.train_options import prompt_ids
from scratchlm.sampling import generate
from scratchlm.text.char import CHAR_UNKNOWN_POLICIES
from scratchlm.train.checkpoint import load_trained_model


def _early_stopping(text: str):
    values = {"true": True, "false": False, "never": "never"}
    if text.lower() not in values:
        raise argparse.ArgumentTypeError(f"expected true, false or never, got {text!r}")
    return values[text.lower()]


_early_stopping.__name__ = "true, false or never"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a checkpoint written by scratchlm train (model.npz)")
    parser.add_argument("--prompt", default="", help="the text every sample continues (default: none)")
    parser.add_argument("--unknown", choices=CHAR_UNKNOWN_POLICIES, default="error",
                        help="char models: a --prompt character the model never saw is an error, <unk>, or skipped (default: error)")
    parser.add_argument("--count", type=positive_int, default=None,
                        help="number of samples (default: 10; not with --greedy or --num-beams)")
    parser.add_argument("--max-len", type=positive_int, default=None,
                        help="most tokens generated per sample (default: 30 for items, 300 for streams)")
    parser.add_argument("--seed", type=non_negative_int, default=None, help="random seed (default: fresh randomness)")
    sampling = parser.add_argument_group("sampling (Hugging Face's warpers, applied in this order)")
    sampling.add_argument("--temperature", type=positive_float, default=1.0,
                          help="T > 0: below 1 sharper, above 1 flatter (default: 1)")
    sampling.add_argument("--top-k", type=positive_int, default=None,
                          help="sample only from the tokens scoring at least the k-th highest")
    sampling.add_argument("--top-p", type=probability, default=None,
                          help="sample only from the fewest most probable tokens holding at least p")
    sampling.add_argument("--min-tokens-to-keep", type=positive_int, default=1,
                          help="top-k and top-p keep at least this many tokens (default: 1)")
    search = parser.add_argument_group("search instead of sampling")
    search.add_argument("--greedy", action="store_true", help="always take the most probable token")
    search.add_argument("--num-beams", type=positive_int, default=1, help="beam search with this many beams (default: 1, no beam)")
    search.add_argument("--num-return-sequences", type=positive_int, default=1,
                        help="best beam hypotheses to print, at most --num-beams (default: 1)")
    search.add_argument("--length-penalty", type=float_in(), default=1.0,
                        help="beams are ranked by log-probability / length ** this (default: 1)")
    search.add_argument("--early-stopping", type=_early_stopping, default=False,
                        help="true: stop at num-beams finished; false: heuristic; never: canonical (default: false)")
    rules = parser.add_argument_group("logits processors (every decoding rule; Hugging Face's order)")
    rules.add_argument("--repetition-penalty", type=positive_float, default=1.0,
                       help="r > 0: a seen token's score is divided (positive) or multiplied (negative) by r (default: 1)")
    rules.add_argument("--no-repeat-ngram-size", type=non_negative_int, default=0,
                       help="never repeat an n-gram of this size, prompt included (default: 0, off)")
    rules.add_argument("--bad-words", nargs="+", default=None, metavar="TEXT",
                       help="texts whose token sequences must never be generated")
    rules.add_argument("--min-new-tokens", type=non_negative_int, default=0,
                       help="no <eos> before this many new tokens (default: 0)")
    rules.add_argument("--suppress-tokens", nargs="+", default=None, metavar="TOKEN",
                       help="vocabulary tokens (characters, words) never to generate")
    rules.add_argument("--allow-unk", action="store_true", help="let <unk> be generated")


def _check_combinations(args: argparse.Namespace) -> None:
    if args.num_beams > 1 and args.greedy:
        raise ValueError("--greedy and --num-beams > 1 are two different searches; choose one")
    if args.num_return_sequences > 1 and args.num_beams == 1:
        raise ValueError("--num-return-sequences needs --num-beams > 1 (for more samples use --count)")
    if args.num_return_sequences > args.num_beams:
        raise ValueError(f"--num-return-sequences ({args.num_return_sequences}) cannot exceed --num-beams ({args.num_beams})")
    if args.count is not None and (args.greedy or args.num_beams > 1):
        raise ValueError("--count is for sampling; greedy decoding and beam search are deterministic")


def _token_ids(tokenizer, texts, flag: str) -> list[list[int]]:
    ids = []
    for text in texts or ():
        encoded = tokenizer.encode(text)
        if not encoded:
            raise ValueError(f"{flag}: {text!r} encodes to no tokens")
        ids.append(encoded)
    return ids


def run(args: argparse.Namespace) -> int:
    _check_combinations(args)
    model, tokenizer, checkpoint = load_trained_model(args.checkpoint)
    model.vocab = tokenizer.vocab  # so that its <pad>, <bos> and <unk> are known and left out
    lines = checkpoint.config.get("kind") == "lines"
    try:
        prompt_tokens = prompt_ids(tokenizer, args.prompt, args.unknown)
    except ValueError as err:
        raise ValueError(f"--prompt {args.prompt!r}: {err}") from None
    suppress = _token_ids(tokenizer, args.suppress_tokens, "--suppress-tokens")
    if any(len(ids) != 1 for ids in suppress):
        raise ValueError(f"--suppress-tokens takes single vocabulary tokens, got {args.suppress_tokens}")
    samples = generate(
        model, prompt_tokens, n=args.count or (1 if args.greedy or args.num_beams > 1 else 10),
        max_len=args.max_len or (30 if lines else 300), temperature=args.temperature, top_k=args.top_k,
        top_p=args.top_p, rng=args.seed, greedy=args.greedy, min_tokens_to_keep=args.min_tokens_to_keep,
        repetition_penalty=args.repetition_penalty, no_repeat_ngram_size=args.no_repeat_ngram_size,
        min_new_tokens=args.min_new_tokens, suppress_tokens=[ids[0] for ids in suppress],
        bad_words_ids=_token_ids(tokenizer, args.bad_words, "--bad-words") or None, allow_unk=args.allow_unk,
        num_beams=args.num_beams, num_return_sequences=args.num_return_sequences,
        length_penalty=args.length_penalty, early_stopping=args.early_stopping,
    )
    for ids in samples:
        text = tokenizer.decode(prompt_tokens + ids)
        # the prompt as typed, even where --unknown skipped or replaced some of its characters
        decoded_prompt = tokenizer.decode(prompt_tokens)
        if text.startswith(decoded_prompt):
            text = args.prompt + text[len(decoded_prompt):]
        print(text if lines else text + "\n" + "-" * 40)
    return 0
