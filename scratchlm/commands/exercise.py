"""List the exercises, copy their templates, check a file, grade a folder of submissions.

    scratchlm exercise list                          the exercises, in lecture order
    scratchlm exercise copy my_exercises             copy the student templates (never overwrites)
    scratchlm exercise check my_exercises/rnn_step.py [--exercise NAME] [--json]
    scratchlm exercise grade submissions/ [--json] [--seed SECRET]

``check`` and ``grade`` run every exercise in a process of its own, with a time limit
(``--timeout``), so code that loops, prints or exits cannot hang or fake the result. ``check``
prints each exercise's report and the score; its exit status is 0 when every exercise of the
file is right, 1 otherwise. ``grade`` prints a table (or, with ``--json``, the full result).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from scratchlm import exercises
from scratchlm.commands.options import non_negative_int, positive_float
from scratchlm.exercises import grading
from scratchlm.exercises.sandbox import DEFAULT_TIMEOUT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    actions.add_parser("list", help="list the exercises")
    copy = actions.add_parser("copy", help="copy the student templates into a folder")
    copy.add_argument("folder", help="where to put the templates (created if missing)")
    copy.add_argument("--overwrite", action="store_true", help="replace files that are already there")
    check = actions.add_parser("check", help="check the exercises of one file")
    check.add_argument("file", nargs="+", metavar="FILE",
                       help="the Python file (the old form EXERCISE FILE is accepted too)")
    check.add_argument("--exercise", action="append", choices=list(exercises.EXERCISES),
                       help="check only this exercise of the file (may be repeated)")
    grade = actions.add_parser("grade", help="grade a folder of submissions, one subfolder per student")
    grade.add_argument("folder")
    grade.add_argument("--exercise", action="append", choices=list(exercises.EXERCISES),
                       help="grade only this exercise (may be repeated)")
    for sub in (check, grade):
        sub.add_argument("--seed", type=non_negative_int, default=0, help="seed of the problems (a teacher may keep it secret)")
        sub.add_argument("--timeout", type=positive_float, default=DEFAULT_TIMEOUT,
                         help=f"seconds allowed per exercise (default {DEFAULT_TIMEOUT:g})")
        sub.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        for name, exercise in exercises.EXERCISES.items():
            print(f"{name:<32} {exercise.module + '.py':<26} {exercise.topic}")
        return 0
    if args.action == "copy":
        for path in exercises.copy_templates(args.folder, overwrite=args.overwrite):
            print(path)
        return 0
    if args.action == "grade":
        grades = grading.grade_folder(args.folder, seed=args.seed, timeout=args.timeout, only=args.exercise)
        print(json.dumps(grades, indent=1) if args.json else grading.table(grades))
        return 0
    only = list(args.exercise or [])
    files = args.file
    if len(files) == 2 and files[0] in exercises.EXERCISES:
        only.append(files[0])
        files = files[1:]
    if len(files) != 1:
        raise ValueError("check takes one file (and optionally the exercise name before it)")
    reports = grading.check_file(Path(files[0]), only or None, seed=args.seed, timeout=args.timeout)
    score = sum(report.score for report in reports)
    if args.json:
        print(json.dumps({"file": files[0], "score": score, "max": len(reports),
                          "exercises": [report.to_dict() for report in reports]}, indent=1))
    else:
        print("\n\n".join(str(report) for report in reports))
        print(f"\nscore: {score:.2f} / {len(reports)}")
    return 0 if all(report.passed for report in reports) else 1
