"""Fit an n-gram model on a text file and print its perplexity on another.

    scratchlm ngram --order 5 --method mkn --train ptb.train.txt --eval ptb.test.txt
    scratchlm ngram --order 2 --method laplace --char --train names.txt --eval names_valid.txt

One sentence per line, tokens separated by whitespace (or, with --char, every character a
token); blank lines are skipped. Each sentence is scored as ``<s> w_1 .. w_m </s>``: every word
and ``</s>`` is predicted and counted, ``<s>`` is not; words outside the training vocabulary
are scored as ``<unk>``. The last line printed is ``perplexity: <value>``.
"""
from __future__ import annotations

import argparse
import time
import warnings

from scratchlm.commands.options import float_in, positive_float, positive_int, readable_file, writable_file
from scratchlm.ngram import METHOD_NAMES, METHODS, fit_ngram


def read_sentences(path, char: bool) -> list[list[str]]:
    """The non-blank lines of a UTF-8 file, as lists of tokens (words, or characters)."""
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\r\n") for line in f]
    if char:
        return [list(line) for line in lines if line.strip()]
    return [line.split() for line in lines if line.strip()]


def _compact(value) -> str:
    """Numbers to 4 decimals, lists per order as "order: values" (discounts, lambdas)."""
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, (list, tuple)) for v in value):
            return "  ".join(f"{n}: {' '.join(f'{x:.4f}' for x in v)}" for n, v in enumerate(value, start=1))
        return " ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in value)
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--order", type=positive_int, default=3, help="N, the n-gram order (default 3)")
    parser.add_argument("--method", choices=METHODS, default="mkn", help="smoothing method (default mkn)")
    parser.add_argument("--train", type=readable_file, required=True, help="training text, one sentence per line")
    parser.add_argument("--eval", type=readable_file, required=True, help="text to score, one sentence per line")
    parser.add_argument("--heldout", type=readable_file, default=None,
                        help="held-out text for --method interp's EM (default: last 10%% of --train)")
    parser.add_argument("--arpa", type=writable_file, default=None, help="also write the model to this ARPA file")
    parser.add_argument("--char", action="store_true", help="characters are the tokens (a character model)")
    parser.add_argument("--alpha", type=positive_float, default=None,
                        help="lidstone's pseudo-count alpha > 0 (0.1) or stupid backoff's factor 0 < alpha <= 1 (0.4)")
    parser.add_argument("--discount", type=float_in(0.0, 1.0, low_open=True), default=None,
                        help="a fixed discount 0 < D <= 1 for absdisc / kn")


def run(args: argparse.Namespace) -> int:
    options = {}
    if args.alpha is not None:
        if args.method not in ("lidstone", "stupid"):
            raise ValueError("--alpha applies to --method lidstone or stupid")
        if args.method == "stupid" and args.alpha > 1:
            raise ValueError(f"--alpha for --method stupid is a back-off factor, 0 < alpha <= 1; got {args.alpha}")
        options["alpha"] = args.alpha
    if args.discount is not None:
        if args.method not in ("absdisc", "kn"):
            raise ValueError("--discount applies to --method absdisc or kn")
        options["discount"] = args.discount
    if args.heldout is not None and args.method != "interp":
        raise ValueError("--heldout applies to --method interp")
    train = read_sentences(args.train, args.char)
    evaluation = read_sentences(args.eval, args.char)
    if not train:
        raise ValueError(f"{args.train} has no sentences")
    if not evaluation:
        raise ValueError(f"{args.eval} has no sentences")
    heldout = read_sentences(args.heldout, args.char) if args.heldout else None

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = fit_ngram(train, args.order, args.method, heldout=heldout, **options)
    fit_seconds = time.perf_counter() - start
    for warning in caught:
        print(f"warning: {warning.message}")

    print(f"method: {METHOD_NAMES[args.method]} ({args.method}), order {args.order}")
    print(f"training: {len(train):,} sentences, {sum(map(len, train)):,} tokens, "
          f"vocabulary {len(model.vocab):,} ids (with <pad> <unk> <s> </s>)")
    print("n-grams: " + ", ".join(f"{n}-grams {k:,}" for n, k in enumerate(model.num_ngrams(), start=1)))
    for key in ("discounts", "lambdas", "k_per_order", "alpha"):
        if key in model.info:
            print(f"{key}: {_compact(model.info[key])}")
    print(f"fit time: {fit_seconds:.3f} s")
    if args.arpa:
        model_path = args.arpa
        from scratchlm.ngram.arpa import write_arpa
        write_arpa(model, model_path)
        print(f"wrote {model_path}")

    start = time.perf_counter()
    result = model.evaluate([model.encode(s) for s in evaluation])
    eval_seconds = time.perf_counter() - start
    print(f"eval: {len(evaluation):,} sentences, {result['num_tokens']:,} predicted tokens (words and </s>), "
          f"{result['num_unk']:,} of them <unk> (unknown words, or <unk> in the text); {eval_seconds:.3f} s")
    if not model.is_distribution:
        print("note: stupid backoff is not a distribution, so this is not a true perplexity")
    print(f"perplexity: {result['perplexity']:.6g}")
    return 0
