"""Exercises: write the pieces of a language model yourself, and be told precisely what is wrong.

``scratchlm exercise list`` prints the exercises in lecture order; each is one function in one of
the template files of ``scratchlm/exercises/student/`` (several exercises share a file: the
forward and the backward pass of a layer). How to work::

    from scratchlm import exercises
    exercises.copy_templates("my_exercises")        # your own copies of the templates
    # ... write the bodies in my_exercises/*.py, then, from inside my_exercises:
    import rnn_step
    print(exercises.check("rnn_step_backward", rnn_step.rnn_step_backward))

or from a shell: ``scratchlm exercise check my_exercises/rnn_step.py`` (every exercise of the
file, with a score; ``--json`` for programs). The checker (:mod:`.checker`) poses several
problems of pairwise different sizes and compares your answer with scratchlm's own code; for a
backward pass also with finite differences. The backward exercises get their cache from the
forward passes in :mod:`.forward` (the textbook layers; named tuples: ``cache.x``, ``cache.h_prev``, ``cache.i``, ...).

The worked solutions are not part of the installed package: teachers find them in the
``solutions/`` folder of the source repository.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from scratchlm.exercises.checker import Report, check


@dataclass(frozen=True)
class Exercise:
    """One exercise: the template file (module) it lives in, the function to write, its topic."""

    name: str
    module: str
    function: str
    topic: str
    kind: str  # "gradient", "value" or "distribution"


def _exercises(*rows) -> dict[str, Exercise]:
    return {row[0]: Exercise(*row) for row in rows}


EXERCISES = _exercises(
    ("embedding_forward", "embedding", "embedding_forward", "embeddings", "value"),
    ("embedding_backward", "embedding", "embedding_backward", "embeddings", "gradient"),
    ("affine_forward", "affine", "affine_forward", "output layer", "value"),
    ("affine_backward", "affine", "affine_backward", "output layer", "gradient"),
    ("softmax_cross_entropy_forward", "softmax_cross_entropy", "softmax_cross_entropy_forward", "loss", "value"),
    ("softmax_cross_entropy_backward", "softmax_cross_entropy", "softmax_cross_entropy_backward", "loss", "gradient"),
    ("rnn_step_forward", "rnn_step", "rnn_step_forward", "Elman RNN", "value"),
    ("rnn_step_backward", "rnn_step", "rnn_step_backward", "Elman RNN", "gradient"),
    ("rnn_forward", "rnn_sequence", "rnn_forward", "Elman RNN", "value"),
    ("rnn_backward", "rnn_sequence", "rnn_backward", "BPTT", "gradient"),
    ("lstm_step_forward", "lstm_step", "lstm_step_forward", "LSTM", "value"),
    ("lstm_step_backward", "lstm_step", "lstm_step_backward", "LSTM", "gradient"),
    ("lstm_forward", "lstm_sequence", "lstm_forward", "LSTM", "value"),
    ("lstm_backward", "lstm_sequence", "lstm_backward", "LSTM BPTT", "gradient"),
    ("gru_step_forward", "gru_step", "gru_step_forward", "GRU", "value"),
    ("gru_step_backward", "gru_step", "gru_step_backward", "GRU", "gradient"),
    ("attention_forward", "attention", "attention_forward", "attention", "value"),
    ("attention_backward", "attention", "attention_backward", "attention", "gradient"),
    ("clip_grad_norm", "clipping", "clip_grad_norm", "exploding gradients", "value"),
    ("stream_windows", "batching", "stream_windows", "truncated BPTT", "value"),
    ("run_windows", "batching", "run_windows", "truncated BPTT", "value"),
    ("count_ngrams", "ngram_counts", "count_ngrams", "n-grams", "value"),
    ("add_k_probs", "smoothing", "add_k_probs", "smoothing", "value"),
    ("interpolated_probs", "smoothing", "interpolated_probs", "smoothing", "value"),
    ("kneser_ney_probs", "smoothing", "kneser_ney_probs", "smoothing", "value"),
    ("perplexity", "perplexity", "perplexity", "evaluation", "value"),
    ("filter_probs", "decoding", "filter_probs", "decoding", "value"),
    ("sample_tokens", "decoding", "sample_tokens", "decoding", "distribution"),
    ("beam_search", "beam_search", "beam_search", "decoding", "value"),
)

TEMPLATES = Path(__file__).parent / "student"

__all__ = ["EXERCISES", "Exercise", "Report", "check", "copy_templates", "exercises_in", "template"]


def exercises_in(module: str) -> list[str]:
    """The exercises whose function lives in the template file ``module`` (e.g. "lstm_step")."""
    return [name for name, exercise in EXERCISES.items() if exercise.module == module]


def template(exercise: str):
    """The student template of ``exercise`` (it raises NotImplementedError until written)."""
    import importlib

    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}: expected one of {', '.join(EXERCISES)}")
    entry = EXERCISES[exercise]
    return getattr(importlib.import_module(f"scratchlm.exercises.student.{entry.module}"), entry.function)


PYTEST_FILE = "test_my_exercises.py"
PYTEST_SOURCE = '''"""Checks every exercise whose template file is in this folder; run ``pytest`` here.

Each exercise runs in a process of its own (as ``scratchlm exercise check`` does); a failing
test prints the checker's report.
"""
from pathlib import Path

import pytest

from scratchlm.exercises import EXERCISES
from scratchlm.exercises.sandbox import run_exercise

HERE = Path(__file__).resolve().parent
PRESENT = [name for name, entry in EXERCISES.items() if (HERE / f"{entry.module}.py").is_file()]


@pytest.mark.parametrize("exercise", PRESENT)
def test_exercise(exercise):
    entry = EXERCISES[exercise]
    report = run_exercise(HERE / f"{entry.module}.py", exercise, entry.function)
    assert report.passed, str(report)
'''


def copy_templates(destination, overwrite: bool = False) -> list[Path]:
    """Copy the student templates into the folder ``destination`` (created if missing), with a
    pytest file (``test_my_exercises.py``) that checks them.

    Existing files are kept unless ``overwrite`` is True, so running this twice never erases
    your work. Returns the paths of the templates in ``destination``, then the pytest file.
    """
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    copied = []
    for module in dict.fromkeys(exercise.module for exercise in EXERCISES.values()):
        target = destination / f"{module}.py"
        if overwrite or not target.exists():
            shutil.copyfile(TEMPLATES / f"{module}.py", target)
        copied.append(target)
    tests = destination / PYTEST_FILE
    if overwrite or not tests.exists():
        tests.write_text(PYTEST_SOURCE)
    return copied + [tests]
