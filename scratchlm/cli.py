"""The ``scratchlm`` command line: argument parsing and printing only.

Each subcommand lives in ``scratchlm/commands/<name>.py`` with two functions,
``add_arguments(parser)`` and ``run(args) -> int`` (the exit status); the work itself is done in
the rest of the package.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import urllib.error

from scratchlm.commands.options import given_options

# subcommand -> (module, one-line help)
COMMANDS = {
    "gradcheck": ("scratchlm.commands.gradcheck", "check every layer's and model's backward pass by finite differences"),
    "train": ("scratchlm.commands.train", "train a language model (no arguments: a character LSTM on the Finnish names)"),
    "sample": ("scratchlm.commands.sample", "generate text from a trained model's checkpoint"),
    "eval": ("scratchlm.commands.evaluate", "perplexity and bits per token of a checkpoint on a text file"),
    "ngram": ("scratchlm.commands.ngram", "fit an n-gram model (any smoothing method) on a text file and print its perplexity"),
    "exercise": ("scratchlm.commands.exercise", "exercises: list, copy the templates, check a file, grade a folder"),
    "backends": ("scratchlm.commands.backends", "the backends and CPU here, and which implementation each op runs and why"),
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
        command.set_defaults(_run=module.run, _parser=command)
    return parser


def _user_error(prefix: str, err: BaseException) -> int:
    print(f"{prefix}: error: {err}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Run one command; a user's mistake ends in one ``error:`` line and exit status 2, never a traceback."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
    except (ValueError, RuntimeError) as err:
        # importing scratchlm.backend applies SCRATCHLM_BACKEND, so a bad value fails here
        if os.environ.get("SCRATCHLM_BACKEND"):
            err = f"the environment variable SCRATCHLM_BACKEND={os.environ['SCRATCHLM_BACKEND']!r} cannot be used: {err}"
        return _user_error("scratchlm", err)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage and the error (or --help, --version)
        return exit_.code if isinstance(exit_.code, int) else 2
    args.given = given_options(args._parser, argv[argv.index(args.command) + 1:])
    prefix = f"scratchlm {args.command}"
    try:
        return int(args._run(args) or 0)
    except urllib.error.URLError as err:
        reason = getattr(err, "reason", err)
        return _user_error(prefix, f"could not download ({reason}); are you offline? Put the files in a folder "
                                   "yourself and give it with --data-path DIR")
    except RuntimeError as err:  # scratchlm.backend.BackendUnavailable: CuPy, numba or a GPU is missing
        from scratchlm.backend import BackendUnavailable

        if not isinstance(err, BackendUnavailable):
            raise
        return _user_error(prefix, err)
    except (ValueError, TypeError, OSError) as err:  # OSError: missing, unreadable or unwritable files
        return _user_error(prefix, err)
    except MemoryError:
        return _user_error(prefix, "out of memory; make the model or the batches smaller")


if __name__ == "__main__":
    sys.exit(main())
