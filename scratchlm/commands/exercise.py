"""List the gradient-checking exercises, copy their templates, or check a solution file.

    scratchlm exercise list                              the exercises, in lecture order
    scratchlm exercise copy my_exercises                 copy the student templates (never overwrites)
    scratchlm exercise check lstm_step_backward my_exercises/lstm_step.py

``check`` imports the file, takes the function the exercise asks for (e.g. ``lstm_step_backward``)
and prints the checker's report (see ``scratchlm.exercises``). Exit status 0 when every gradient
is right, 1 when one is wrong or the function failed, so a course can grade with it.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from scratchlm import exercises
from scratchlm.commands.options import non_negative_int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    actions.add_parser("list", help="list the exercises")
    copy = actions.add_parser("copy", help="copy the student templates into a folder")
    copy.add_argument("folder", help="where to put the templates (created if missing)")
    copy.add_argument("--overwrite", action="store_true", help="replace files that are already there")
    check = actions.add_parser("check", help="check a solution file")
    check.add_argument("exercise", choices=list(exercises.EXERCISES), help="the exercise to check")
    check.add_argument("file", help="the Python file that defines the exercise's function")
    check.add_argument("--seed", type=non_negative_int, default=0, help="seed of the test problem (default 0)")


def _load_function(path: Path, function_name: str):
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    # the file's own folder first, so that rnn_bptt.py can `from rnn_step import ...`
    sys.path.insert(0, str(path.parent.resolve()))
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # a syntax error or a failing import in the student's file
        raise ValueError(f"could not import {path}: {type(err).__name__}: {err}") from err
    finally:
        sys.path.pop(0)
    if not hasattr(module, function_name):
        raise ValueError(f"{path} defines no function named {function_name!r}")
    return getattr(module, function_name)


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        for name, (module_name, _) in exercises.EXERCISES.items():
            print(f"{name:<32} template {module_name}.py")
        return 0
    if args.action == "copy":
        for path in exercises.copy_templates(args.folder, overwrite=args.overwrite):
            print(path)
        return 0
    function_name = exercises.EXERCISES[args.exercise][1]
    report = exercises.check(args.exercise, _load_function(Path(args.file), function_name), seed=args.seed)
    print(report)
    return 0 if report.passed else 1
