"""Gradient-checking exercises: write the backward passes yourself, and be told what is wrong.

The exercises, in lecture order (the name is what you pass to :func:`check`):

=====================================  ======================  ===================================
exercise                               template (your file)    what you write
=====================================  ======================  ===================================
``embedding_backward``                 embedding.py            dW of the lookup out = W[ids]
``softmax_cross_entropy_backward``     softmax_cross_entropy   dlogits of the mean masked NLL
``rnn_step_backward``                  rnn_step.py             one Elman step
``lstm_step_backward``                 lstm_step.py            one LSTM step (gates i, f, g, o)
``rnn_backward``                       rnn_bptt.py             BPTT over a whole sequence
=====================================  ======================  ===================================

How to work::

    from scratchlm import exercises
    exercises.copy_templates("my_exercises")        # your own copies of the templates
    # ... write the bodies in my_exercises/*.py, then, from inside my_exercises:
    import rnn_step
    print(exercises.check("rnn_step_backward", rnn_step.rnn_step_backward))

The forward passes are given in :mod:`scratchlm.exercises.forward` (read them: the cache each
one returns is what your backward pass gets). The checker compares your gradients with finite
differences and with the reference layers, and tells you which gradient is wrong, for the LSTM
which gate's rows, the worst entry, and a hint when the numbers show a usual mistake.

Teachers: the solutions are in :mod:`scratchlm.exercises.solutions`, apart from the templates
in :mod:`scratchlm.exercises.student`.
"""
from __future__ import annotations

import importlib
import shutil
from pathlib import Path

from scratchlm.exercises.checker import Report, check

# exercise name -> (module in student/ and solutions/, function name)
EXERCISES = {
    "embedding_backward": ("embedding", "embedding_backward"),
    "softmax_cross_entropy_backward": ("softmax_cross_entropy", "softmax_cross_entropy_backward"),
    "rnn_step_backward": ("rnn_step", "rnn_step_backward"),
    "lstm_step_backward": ("lstm_step", "lstm_step_backward"),
    "rnn_backward": ("rnn_bptt", "rnn_backward"),
}

__all__ = ["EXERCISES", "Report", "check", "copy_templates", "solution", "template"]


def _function(package: str, exercise: str):
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}: expected one of {', '.join(EXERCISES)}")
    module_name, function_name = EXERCISES[exercise]
    module = importlib.import_module(f"scratchlm.exercises.{package}.{module_name}")
    return getattr(module, function_name)


def template(exercise: str):
    """The student template of ``exercise`` (it raises NotImplementedError until written)."""
    return _function("student", exercise)


def solution(exercise: str):
    """The worked solution of ``exercise``."""
    return _function("solutions", exercise)


def copy_templates(destination, overwrite: bool = False) -> list[Path]:
    """Copy the student templates into the folder ``destination`` (created if missing).

    Existing files are kept unless ``overwrite`` is True, so running this twice never erases
    your work. Returns the paths of the templates in ``destination``.
    """
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    source = Path(__file__).parent / "student"
    copied = []
    for module_name, _ in EXERCISES.values():
        target = destination / f"{module_name}.py"
        if overwrite or not target.exists():
            shutil.copyfile(source / f"{module_name}.py", target)
        copied.append(target)
    return copied
