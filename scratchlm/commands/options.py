"""Argument types for the command line: a value that cannot mean anything is an error, never a
silent default.

Each factory returns a function for argparse's ``type=``. It raises
``argparse.ArgumentTypeError`` with the accepted range, and argparse prefixes the flag's name, so
the user reads, for example::

    scratchlm train: error: argument --epochs: expected an integer >= 1, got '0'

Parsing happens before any work starts, so a bad option never costs a training run.
"""
from __future__ import annotations

import argparse
import math
import os


def _parse_number(text: str, kind: type, expected: str):
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def int_at_least(minimum: int):
    """An integer >= ``minimum`` (``int_at_least(1)`` for counts, sizes, epochs)."""
    expected = f"an integer >= {minimum}"

    def parse(text: str) -> int:
        value = _parse_number(text, int, expected)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def float_in(low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False):
    """A finite float in the interval given by ``low``/``high`` (None: unbounded on that side).

    ``low_open=True`` excludes ``low`` itself (``float_in(0, low_open=True)`` is "a float > 0").
    """
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    expected = "a finite number" + (" " + " and ".join(parts) if parts else "")

    def parse(text: str) -> float:
        value = _parse_number(text, float, expected)
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and (value >= high if high_open else value > high)
        if too_low or too_high:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    parse.__name__ = expected
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)
positive_float = float_in(0.0, low_open=True)
non_negative_float = float_in(0.0)
probability = float_in(0.0, 1.0, low_open=True)


def readable_file(text: str) -> str:
    """The path of an existing file (not a folder) that can be opened for reading."""
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"expected an existing file, but there is nothing at {text!r}")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"expected a file, but {text!r} is a folder")
    if not os.access(text, os.R_OK):
        raise argparse.ArgumentTypeError(f"expected a readable file, but {text!r} cannot be read")
    return text


def existing_folder(text: str) -> str:
    """The path of an existing folder."""
    if not os.path.isdir(text):
        what = "a file" if os.path.exists(text) else "nothing"
        raise argparse.ArgumentTypeError(f"expected an existing folder, but {text!r} is {what}")
    return text


def writable_file(text: str) -> str:
    """A path a new file can be written to: not a folder, in a folder that exists and is writable."""
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"expected a file name, but {text!r} is a folder")
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: the folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: the folder {folder!r} is not writable")
    return text


def non_empty_text(text: str) -> str:
    """Any text but the empty string."""
    if not text:
        raise argparse.ArgumentTypeError("expected a non-empty text")
    return text


def given_options(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """The ``dest`` of every option that ``argv`` sets explicitly (not left at its default).

    A resumed run refuses an architecture option only when the user typed it, so the command
    line is parsed a second time with every default suppressed: what is left was typed.
    """
    saved = [(action, action.default, action.type) for action in parser._actions]
    try:
        for action, _, _ in saved:
            # no types either: the values were checked by the first parse, and argparse would run a
            # positional's type on the SUPPRESS marker
            action.default, action.type = argparse.SUPPRESS, None
        namespace, _ = parser.parse_known_args(argv, namespace=argparse.Namespace())
    finally:
        for action, default, kind in saved:
            action.default, action.type = default, kind
    return {name for name in vars(namespace) if not name.startswith("_")}
