"""The ``scratchlm`` command line: argument parsing and printing only.

Each subcommand lives in ``scratchlm/commands/<name>.py`` with two functions,
``add_arguments(parser)`` and ``run(args) -> int`` (the exit status); the work itself is done in
the rest of the package.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> (module, one-line help)
COMMANDS = {
    "gradcheck": ("scratchlm.commands.gradcheck", "check every layer's and model's backward pass by finite differences"),
    "train": ("scratchlm.commands.train", "train a language model (no arguments: a character LSTM on the Finnish names)"),
    "sample": ("scratchlm.commands.sample", "generate text from a trained model's checkpoint"),
    "eval": ("scratchlm.commands.evaluate", "perplexity and bits per token of a checkpoint on a text file"),
    "ngram": ("scratchlm.commands.ngram", "fit an n-gram model (any smoothing method) on a text file and print its perplexity"),
    "exercise": ("scratchlm.commands.exercise", "exercises: list, copy the templates, check a file, grade a folder"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scratchlm", description="A from-scratch language-modelling engine.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {importlib.import_module('scratchlm').__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=help_text, description=(module.__doc__ or help_text).strip().splitlines()[0])
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"scratchlm {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
