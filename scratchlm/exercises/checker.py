"""The checker: run a student's backward pass and say what, if anything, is wrong with it.

For an exercise, :func:`check` poses a small float64 problem (``scratchlm.exercises.cases``),
calls the student's function, and compares every gradient it returns with

- the *reference*: the same gradient from the reference layers in ``scratchlm/layers``, and
- the *numeric* gradient: centred finite differences of the forward pass,
  dJ/dw ~ (J(w + eps) - J(w - eps)) / (2 eps), from ``scratchlm.gradcheck``.

The two agree to about 1e-9 (the tests check it), so an answer that matches both is right.

An entry counts as wrong when its relative error

    err = |yours - reference| / max(|yours| + |reference|, 1e-3 * max|reference|)

exceeds :data:`TOLERANCE` (1e-6). The floor in the denominator keeps entries that are almost
zero from counting as wrong over rounding noise. For each wrong gradient the report gives the
worst entry (its index, your value, the numeric and the reference value); for the LSTM's
weights and biases it also says which gates' rows are wrong. A hint names the mistake when the
numbers show one of the usual ones (``scratchlm.exercises.mistakes``).
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from scratchlm import gradcheck
from scratchlm.exercises.cases import CASES, AnswerShapeError, Case
from scratchlm.exercises.mistakes import MISTAKES, close

TOLERANCE = 1e-6
GATED = ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")


@dataclass
class GradientResult:
    """How one returned gradient (e.g. "dweight_ih") compares with the right one."""

    name: str
    right: bool
    max_error: float = float("nan")
    worst_index: tuple | None = None
    yours: float | None = None
    numeric: float | None = None
    reference: float | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.right:
            return f"  {self.name:<11} right   (max relative error {self.max_error:.1e})"
        lines = [f"  {self.name:<11} WRONG"]
        if self.worst_index is not None:
            index = ", ".join(str(i) for i in self.worst_index)
            lines.append(
                f"      worst entry {self.name}[{index}]: yours {self.yours:.6g}, "
                f"numeric {self.numeric:.6g}, reference {self.reference:.6g} "
                f"(relative error {self.max_error:.1e})"
            )
        lines += [f"      {note}" for note in self.notes]
        return "\n".join(lines)


@dataclass
class Report:
    """The checker's answer. ``passed`` is True when every gradient is right; print it to read it."""

    exercise: str
    passed: bool
    results: list[GradientResult] = field(default_factory=list)
    error: str | None = None
    mistake: str | None = None
    hint: str | None = None

    def result(self, name: str) -> GradientResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"{self.exercise} has no gradient named {name!r}")

    def __str__(self) -> str:
        if self.error is not None:
            head = f"{self.exercise}: not checked. {self.error}"
            return head if self.hint is None else f"{head}\nHint: {self.hint}"
        wrong = [r for r in self.results if not r.right]
        if not wrong:
            every = "the gradient is" if len(self.results) == 1 else f"all {len(self.results)} gradients are"
            head = f"{self.exercise}: {every} right. Well done."
        elif len(self.results) == 1:
            head = f"{self.exercise}: the gradient is wrong."
        else:
            head = f"{self.exercise}: {len(wrong)} of {len(self.results)} gradients are wrong."
        lines = [head] + [r.describe() for r in self.results]
        if self.hint and not any(self.hint in r.notes for r in self.results):
            lines.append(f"Hint: {self.hint}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):  # shown as text in notebooks
        printer.text(str(self))


def relative_errors(yours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Elementwise |yours - reference| / max(|yours| + |reference|, 1e-3 * max|reference|)."""
    floor = max(1e-3 * float(np.abs(reference).max(initial=0.0)), 1e-12)
    return np.abs(yours - reference) / np.maximum(np.abs(yours) + np.abs(reference), floor)


# The problems are small and well scaled, so a step of 1e-5 keeps both the truncation error
# (~eps^2) and the rounding error (~1e-16 / eps) near 1e-10.
FINITE_DIFFERENCE_STEP = 1e-5


def numeric_gradients(case: Case) -> dict[str, np.ndarray]:
    """dJ/d(input) by centred finite differences, for every input of the case."""
    values = {name: array.copy() for name, array in case.inputs.items()}
    return {
        name: gradcheck.numerical_gradient(lambda: case.objective(values), values[name], eps=FINITE_DIFFERENCE_STEP)
        for name in values
    }


def check(exercise: str, student_fn: Callable, *, seed: int = 0) -> Report:
    """Check ``student_fn``, the student's answer to ``exercise``, and report what is wrong.

    Args:
        exercise: one of ``scratchlm.exercises.EXERCISES`` (e.g. "lstm_step_backward").
        student_fn: the function to check, called like the exercise's template.
        seed: seed of the random test problem.

    Returns:
        a :class:`Report`; ``print(report)`` explains it, ``report.passed`` says whether it is right.
    """
    if exercise not in CASES:
        raise ValueError(f"unknown exercise {exercise!r}: expected one of {', '.join(CASES)}")
    if not callable(student_fn):
        raise TypeError(f"student_fn must be a function, got {type(student_fn).__name__}")
    case = CASES[exercise](np.random.default_rng(seed))

    try:
        answer = case.call(student_fn)
    except NotImplementedError as err:
        return Report(exercise, False, error=f"Your function is not written yet: {err}")
    except AnswerShapeError as err:
        return Report(exercise, False, error=str(err))
    except Exception as err:  # the student's code failed: say where, in their file
        shapes = isinstance(err, (ValueError, IndexError)) and any(
            word in str(err) for word in ("shape", "dimension", "broadcast", "matmul", "index"))
        return Report(exercise, False, error=_describe_exception(err),
                      hint="compare the shapes of the arrays on that line with the docstring." if shapes else None)

    numeric = numeric_gradients(case)
    results, shapes_ok = [], True
    for name, reference in case.reference.items():
        result, shape_ok = _compare(name, answer[name], reference, numeric[name], case)
        shapes_ok &= shape_ok
        results.append(result)
    wrong = {r.name for r in results if not r.right}
    report = Report(exercise, not wrong, results)
    if wrong and shapes_ok:
        arrays = {name: np.asarray(answer[name], dtype=np.float64) for name in case.reference}
        for mistake in MISTAKES[exercise]:
            if mistake.matches(case, arrays, wrong):
                report.mistake, report.hint = mistake.name, mistake.hint
                break
    if wrong and report.hint is None:
        notes = [note for r in results for note in r.notes]
        report.hint = notes[0] if notes else (
            "compare your value with the numeric one at the worst entry, and check the local "
            "derivative of each operation on the path from the output back to that gradient.")
    return report


def _compare(name: str, got, reference: np.ndarray, numeric: np.ndarray, case: Case) -> tuple[GradientResult, bool]:
    """Compare one gradient; returns the result and whether its type and shape were right."""
    if got is None:
        return GradientResult(name, False, notes=[f"{name} is None: return an array of shape {reference.shape}."]), False
    if not hasattr(got, "shape"):
        return GradientResult(name, False, notes=[
            f"{name} is a {type(got).__name__}; return a NumPy array of shape {reference.shape}."]), False
    got = np.asarray(got)
    if got.shape != reference.shape:
        return GradientResult(name, False, notes=[_shape_note(name, got.shape, reference.shape)]), False
    got = got.astype(np.float64)
    if not np.all(np.isfinite(got)):
        return GradientResult(name, False, notes=[f"{name} holds NaN or inf values."]), True

    errors = relative_errors(got, reference)
    worst = np.unravel_index(int(np.argmax(errors)), errors.shape)
    result = GradientResult(name, bool(errors.max() <= TOLERANCE), float(errors.max()))
    if result.right:
        return result, True
    result.worst_index = tuple(int(i) for i in worst)
    result.yours, result.numeric, result.reference = float(got[worst]), float(numeric[worst]), float(reference[worst])
    if case.num_gates > 1 and name in GATED:
        result.notes.append(_gate_note(errors, worst, case))
    result.notes += _value_notes(name, got, reference)
    return result, True


def _shape_note(name: str, got: tuple, want: tuple) -> str:
    note = f"{name} has shape {got}, expected {want}"
    if len(got) == 2 and got == want[::-1]:
        return note + ": wrong transpose? A weight gradient has the shape of the weight; dW = da.T @ x for a = x @ W.T."
    if len(got) == len(want) + 1 and got[1:] == want:
        return note + ": you kept the batch axis; the parameter is shared by the whole batch, so sum over axis 0."
    return note + "."


def _gate_note(errors: np.ndarray, worst: tuple, case: Case) -> str:
    """Which gates' row blocks of a (G*H, ...) gradient are wrong, and where the worst entry lies."""
    hidden = errors.shape[0] // case.num_gates
    blocks = [errors[k * hidden : (k + 1) * hidden] for k in range(case.num_gates)]
    wrong = [gate for gate, block in zip(case.gate_names, blocks) if block.max() > TOLERANCE]
    right = [gate for gate in case.gate_names if gate not in wrong]
    spans = ", ".join(f"{gate} (rows {case.gate_names.index(gate) * hidden}:{(case.gate_names.index(gate) + 1) * hidden})"
                      for gate in wrong)
    note = f"wrong in the rows of {'gate' if len(wrong) == 1 else 'gates'} {spans}"
    if not right:
        note += "; every gate is wrong."
    elif len(right) == 1:
        note += f"; gate {right[0]} is right."
    else:
        note += f"; gates {', '.join(right)} are right."
    row = int(worst[0])
    return note + f" The worst entry is in gate {case.gate_names[row // hidden]}, unit {row % hidden}."


def _value_notes(name: str, got: np.ndarray, reference: np.ndarray) -> list[str]:
    if not np.any(got):
        return [f"{name} is all zeros: did you return the array you filled in?"]
    notes = []
    if got.ndim == 2 and got.shape[0] == got.shape[1] and close(got, reference.T):
        notes.append(f"{name} is the transpose of the right answer: wrong transpose (dW = da.T @ h, not h.T @ da).")
    factor = float((got * reference).sum() / max((reference * reference).sum(), 1e-300))
    if abs(factor - 1.0) > 1e-6 and close(got, factor * reference):
        notes.append(f"{name} is exactly {factor:.6g} times the right answer: a missing or extra constant factor.")
    return notes


def _describe_exception(err: Exception) -> str:
    frames = traceback.extract_tb(err.__traceback__)
    # The last frame outside scratchlm's own checker files is where the student's code failed.
    own = ("scratchlm/exercises/cases.py", "scratchlm/exercises/checker.py")
    student_frames = [f for f in frames if not f.filename.replace("\\", "/").endswith(own)]
    where = ""
    if student_frames:
        frame = student_frames[-1]
        where = f" at line {frame.lineno} of {frame.filename} ({frame.line!r})"
    return f"Your function raised {type(err).__name__}: {err}{where}."
