"""Grading files and folders of submissions, each exercise in its own process (:mod:`.sandbox`).

A folder of submissions holds one subfolder per student, named after the student, with the
template files that student wrote (any subset, under the templates' own names)::

    submissions/
        alice/   rnn_step.py  lstm_step.py  smoothing.py ...
        bob/     rnn_step.py ...

Every exercise whose template file a student handed in is graded (an exercise whose function
still raises NotImplementedError scores 0); exercises of missing files score 0 and are marked
"missing". Each exercise is worth one point, split evenly over its parts (partial credit).
"""
from __future__ import annotations

import ast
from pathlib import Path

from scratchlm.exercises import EXERCISES, exercises_in
from scratchlm.exercises.sandbox import DEFAULT_TIMEOUT, run_exercise


def exercises_of_file(path, only: list[str] | None = None) -> list[str]:
    """The exercises a file answers: those of the template it is named after, else the functions it defines."""
    path = Path(path)
    names = exercises_in(path.stem)
    if not names:
        try:
            tree = ast.parse(path.read_text())
        except (OSError, SyntaxError, ValueError):
            tree = None
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)} if tree else set()
        names = [name for name, exercise in EXERCISES.items() if exercise.function in defined]
    if only:
        unknown = [name for name in only if name not in EXERCISES]
        if unknown:
            raise ValueError(f"unknown exercise(s) {', '.join(unknown)}: expected some of {', '.join(EXERCISES)}")
        names = list(only)
    return names


def check_file(path, only: list[str] | None = None, *, seed: int = 0, timeout: float = DEFAULT_TIMEOUT) -> list:
    """Reports for the exercises of one file, each run in its own process."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    names = exercises_of_file(path, only)
    if not names:
        raise ValueError(f"{path} defines none of the exercise functions ({', '.join(e.function for e in EXERCISES.values())})")
    return [run_exercise(path, name, EXERCISES[name].function, seed=seed, timeout=timeout) for name in names]


def grade_folder(folder, *, seed: int = 0, timeout: float = DEFAULT_TIMEOUT, only: list[str] | None = None) -> dict:
    """Grade every student subfolder of ``folder``; returns the JSON-able result (see docs/course.md)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"no such folder: {folder}")
    names = list(only) if only else list(EXERCISES)
    students = {}
    for student in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        results = {}
        for name in names:
            path = student / f"{EXERCISES[name].module}.py"
            if not path.is_file():
                results[name] = {"exercise": name, "status": "missing", "passed": False, "score": 0.0, "parts": {}}
                continue
            report = run_exercise(path, name, EXERCISES[name].function, seed=seed, timeout=timeout)
            entry = report.to_dict()
            entry["status"] = "passed" if report.passed else ("error" if report.error else "wrong")
            results[name] = entry
        total = sum(entry["score"] for entry in results.values())
        students[student.name] = {"total": round(total, 4), "max": len(names), "exercises": results}
    return {"seed": seed, "timeout_s": timeout, "exercises": names, "students": students}


def table(grades: dict) -> str:
    """The grades as a text table: one row per student, one column per exercise (score 0..1)."""
    names = grades["exercises"]
    width = max([len("student")] + [len(s) for s in grades["students"]])
    lines = ["exercises: " + ", ".join(f"{k + 1} = {name}" for k, name in enumerate(names)),
             f"{'student':<{width}}  " + " ".join(f"{k + 1:>4}" for k in range(len(names))) + "   total"]
    for student, result in grades["students"].items():
        cells = []
        for name in names:
            entry = result["exercises"][name]
            cells.append("   -" if entry["status"] == "missing" else f"{entry['score']:4.2f}")
        lines.append(f"{student:<{width}}  " + " ".join(cells) + f"   {result['total']:.2f} / {result['max']}")
    return "\n".join(lines)
