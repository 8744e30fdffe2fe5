"""The checker: run a student's function on several problems and say what, if anything, is wrong.

:func:`check` poses the exercise's problems (:mod:`.cases` for the layers, :mod:`.values` for
the rest: several sizes, all pairwise different), calls the student's function on each, and
compares every output it returns ("part": a gradient such as "dweight_ih", or a value such as
"hs") with the right one from scratchlm's own code. A part is right when it is right on every
problem. An entry of a real-valued part counts as wrong when

    err = |yours - right| / max(|yours| + |right|, 1e-3 * max|right|)

exceeds the tolerance of your dtype (:data:`TOLERANCES`: 1e-6 for float64, 1e-3 for float32, so
float32 work is accepted). Integer parts (ids, windows, counts) must be equal. The sampling
exercise is checked on its distribution: a chi-square test per row on many draws.

For a wrong part the report gives the problem's sizes, the worst entry (index, yours, the
numeric gradient by centred finite differences, the right value), where it is wrong (which
gates' rows, which time steps), a decoded scale factor ("1/B: you divided by the batch size"),
and a hint when the numbers show one of the usual mistakes (:mod:`.mistakes`). The score is the
fraction of parts that are right (partial credit).

While the student's function runs, calls from it into scratchlm's own implementations of the
same computations (the layers, n-gram, sampling and beam code, the checker's references) are
watched; an answer that calls them is not accepted.
"""
from __future__ import annotations

import importlib
import math
import os
import pkgutil
import sys
import threading
import traceback
import types
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from scratchlm import gradcheck
from scratchlm.exercises import cases, values
from scratchlm.exercises.forward import SoftmaxCrossEntropyCache
from scratchlm.exercises.cases import AnswerShapeError, Problem

TOLERANCES = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-3, np.dtype(np.float16): 3e-2}
GATED = ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")
FINITE_DIFFERENCE_STEP = 1e-5  # truncation ~eps^2 and rounding ~1e-16/eps both near 1e-10


def problems(exercise: str, seed: int = 0) -> list[Problem]:
    if exercise in cases.BUILDERS:
        return cases.problems(exercise, seed)
    if exercise in values.BUILDERS:
        return values.problems(exercise, seed)
    raise ValueError(f"unknown exercise {exercise!r}")


def invoke(problem: Problem, fn: Callable, arguments):
    """Run the student's function on one problem's ``arguments``; returns what :meth:`Problem.interpret` reads."""
    if problem.exercise in values.MANY_CALLS:
        return [fn(*one) for one in arguments]
    returned = fn(*arguments)
    if isinstance(returned, types.GeneratorType):  # e.g. windows yielded one at a time
        returned = list(returned)
    if problem.exercise in values.MUTATES_ARGUMENTS:
        return returned, arguments
    return returned


@dataclass
class PartResult:
    """How one returned output (e.g. "dweight_ih") compares with the right one."""

    name: str
    right: bool
    max_error: float = float("nan")
    problem: str | None = None
    worst_index: tuple | None = None
    yours: float | None = None
    numeric: float | None = None
    reference: float | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.right:
            error = "" if math.isnan(self.max_error) else f"   (max relative error {self.max_error:.1e})"
            return f"  {self.name:<11} right{error}"
        lines = [f"  {self.name:<11} WRONG" + (f"   (problem with {self.problem})" if self.problem else "")]
        if self.worst_index is not None:
            index = ", ".join(str(i) for i in self.worst_index)
            numeric = "" if self.numeric is None else f", numeric {self.numeric:.6g}"
            lines.append(f"      worst entry {self.name}[{index}]: yours {self.yours:.6g}{numeric}, "
                         f"right {self.reference:.6g} (relative error {self.max_error:.1e})")
        lines += [f"      {note}" for note in self.notes]
        return "\n".join(lines)


@dataclass
class Report:
    """The checker's answer; ``print(report)`` explains it, ``report.passed`` and ``report.score`` grade it."""

    exercise: str
    passed: bool
    results: list[PartResult] = field(default_factory=list)
    error: str | None = None
    mistake: str | None = None
    hint: str | None = None
    problems: int = 0

    @property
    def score(self) -> float:
        """The fraction of parts that are right on every problem (0 when the function failed)."""
        if self.error is not None or not self.results:
            return 0.0
        return sum(r.right for r in self.results) / len(self.results)

    def result(self, name: str) -> PartResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"{self.exercise} has no part named {name!r}")

    def to_dict(self) -> dict:
        return {"exercise": self.exercise, "passed": self.passed, "score": self.score,
                "parts": {r.name: r.right for r in self.results}, "problems": self.problems,
                "error": self.error, "mistake": self.mistake, "hint": self.hint,
                "details": [asdict(r) for r in self.results], "text": str(self)}

    def __str__(self) -> str:
        if self.error is not None:
            head = f"{self.exercise}: not checked (score 0). {self.error}"
            return head if self.hint is None else f"{head}\nHint: {self.hint}"
        wrong = [r for r in self.results if not r.right]
        over = f"on {self.problems} problems" if self.problems > 1 else "on the problem"
        if not wrong:
            every = "the answer is" if len(self.results) == 1 else f"all {len(self.results)} parts are"
            head = f"{self.exercise}: {every} right {over}. Well done. (score 1.0)"
        else:
            head = (f"{self.exercise}: {len(wrong)} of {len(self.results)} parts wrong {over} "
                    f"(score {self.score:.2f}).")
        lines = [head] + [r.describe() for r in self.results]
        if self.hint and not any(self.hint in r.notes for r in self.results):
            lines.append(f"Hint: {self.hint}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):  # shown as text in notebooks
        printer.text(str(self))


# --- the library calls an answer may not make --------------------------------------------------------

ANSWER_MODULES = ("scratchlm.layers", "scratchlm.kernels", "scratchlm.models", "scratchlm.train", "scratchlm.data",
                  "scratchlm.ngram", "scratchlm.metrics", "scratchlm.sampling", "scratchlm.beam", "scratchlm.lm",
                  "scratchlm.gradcheck", "scratchlm.exercises.library", "scratchlm.exercises.forward",
                  "scratchlm.exercises.values", "scratchlm.exercises.mistakes", "scratchlm.exercises.cases")
# Helpers the templates may use, and the interface of the models an exercise is given.
ALLOWED = {"scratchlm.layers.activations", "scratchlm.exercises.forward.sigmoid",
           "scratchlm.exercises.values.BigramTableLM", "scratchlm.exercises.values.given_rnn_forward"}
# Not resolved: code objects carry the path the package was imported from (a link in the sandbox).
PACKAGE_DIR = str(Path(os.path.abspath(__file__)).parents[1])
_forbidden: dict | None = None


def _forbidden_code() -> dict:
    """code object -> "module.function" for every function of the answer modules."""
    global _forbidden
    if _forbidden is None:
        found = {}
        for prefix in ANSWER_MODULES:
            module = importlib.import_module(prefix)
            names = [prefix]
            if hasattr(module, "__path__"):
                names += [info.name for info in pkgutil.walk_packages(module.__path__, prefix + ".")]
            for name in names:
                try:
                    module = importlib.import_module(name)
                except Exception:  # an optional backend (cupy) that is not installed
                    continue
                if name in ALLOWED:
                    continue
                for attribute, value in vars(module).items():
                    qualified = f"{name}.{attribute}"
                    if qualified in ALLOWED or getattr(value, "__module__", None) != name:
                        continue
                    functions = [value] if callable(value) and hasattr(value, "__code__") else []
                    if isinstance(value, type):
                        functions = [f for key, f in vars(value).items()
                                     if hasattr(f, "__code__") and not key.startswith("__")]
                    for function in functions:
                        found[function.__code__] = f"{qualified.rsplit('.', 1)[0]}.{function.__qualname__}"
        _forbidden = found
    return _forbidden


class LibraryCallWatch:
    """A profiler hook that records calls made *from outside scratchlm* into the answer modules."""

    def __init__(self):
        self.forbidden = _forbidden_code()
        self.calls: list[str] = []

    def _hook(self, frame, event, arg):
        if event == "call" and frame.f_code in self.forbidden:
            caller = frame.f_back
            if caller is not None and not caller.f_code.co_filename.startswith(PACKAGE_DIR):
                name = self.forbidden[frame.f_code]
                if name not in self.calls:
                    self.calls.append(name)

    def __enter__(self):
        self._previous = sys.getprofile()
        sys.setprofile(self._hook)
        threading.setprofile(self._hook)
        return self

    def __exit__(self, *exc):
        if sys.getprofile() != self._hook:  # the answer switched the watch off
            self.calls.append("sys.setprofile (the checker's watch on library calls)")
        sys.setprofile(self._previous)
        threading.setprofile(None)
        return False

    def message(self) -> str:
        return (f"your function calls scratchlm's own {', '.join(self.calls)}: the exercise is to write "
                "this computation yourself (NumPy is all you need).")


# --- checking ----------------------------------------------------------------------------------------

def check(exercise: str, student_fn: Callable, *, seed: int = 0) -> Report:
    """Check ``student_fn``, the student's answer to ``exercise``, on its problems, and report.

    Args:
        exercise: one of ``scratchlm.exercises.EXERCISES`` (e.g. "lstm_step_backward").
        student_fn: the function to check, called like the exercise's template.
        seed: seed of the problems (the sizes are fixed; the numbers change with the seed).

    Returns:
        a :class:`Report`; ``print(report)`` explains it, ``report.passed`` says whether it is right.
    """
    posed = problems(exercise, seed)
    if not callable(student_fn):
        raise TypeError(f"student_fn must be a function, got {type(student_fn).__name__}")
    outcomes = []
    for problem in posed:
        try:
            arguments = problem.arguments()
            with LibraryCallWatch() as watch:
                returned = invoke(problem, student_fn, arguments)
        except NotImplementedError as err:
            return Report(exercise, False, error=f"Your function is not written yet: {err}")
        except Exception as err:  # the student's code failed: say where, in their file
            return Report(exercise, False, error=describe_exception(err), hint=exception_hint(err))
        if watch.calls:
            return Report(exercise, False, error=watch.message())
        outcomes.append(returned)
    return evaluate(exercise, posed, outcomes)


def evaluate(exercise: str, posed: list[Problem], outcomes: list) -> Report:
    """Grade what the student's function returned on each problem (``outcomes[i]`` for ``posed[i]``)."""
    from scratchlm.exercises.mistakes import find_mistake

    per_problem = []
    for problem, outcome in zip(posed, outcomes):
        try:
            answer = problem.interpret(outcome)
        except AnswerShapeError as err:
            return Report(exercise, False, error=str(err))
        except Exception as err:  # an answer of a type no exercise returns
            return Report(exercise, False, error=f"the checker could not read what your function returned "
                          f"({type(err).__name__}: {err}); compare it with the Returns: of the docstring.")
        reference = problem.reference()
        try:
            results = {name: compare(name, answer.get(name), want, problem) for name, want in reference.items()}
        except Exception as err:
            return Report(exercise, False, error=f"the checker could not compare what your function returned "
                          f"({type(err).__name__}: {err}); compare it with the Returns: of the docstring.")
        per_problem.append((problem, answer, reference, results))

    merged = []
    for name in dict.fromkeys(name for *_, res in per_problem for name in res):
        failing = [(p, a, ref, res[name]) for p, a, ref, res in per_problem if name in res and not res[name].right]
        if failing:
            merged.append(failing[0][3])
        else:
            errors = [res[name].max_error for *_, res in per_problem if name in res]
            merged.append(PartResult(name, True, max(errors)))
    report = Report(exercise, all(r.right for r in merged), merged, problems=len(posed))
    if report.passed:
        return report
    for problem, answer, reference, results in per_problem:
        wrong = {name for name, r in results.items() if not r.right}
        if wrong:
            structure_ok = all(r.worst_index is not None for name, r in results.items() if name in wrong)
            graph_note = graph_localisation(problem, results)
            if structure_ok:
                found = find_mistake(problem, answer, reference, results)
                if found is not None:
                    report.mistake, report.hint = found.name, found.hint
            break
    if report.hint is None:
        notes = [note for r in report.results for note in r.notes]
        report.hint = " ".join(([notes[0]] if notes else []) + ([graph_note] if graph_note else [])) or (
            "compare your value with the right one at the worst entry, and check each operation on the "
            "path from the output back to it.")
    return report


def tolerance(dtype) -> float:
    return TOLERANCES.get(np.dtype(dtype), 1e-6)


def relative_errors(yours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Elementwise |yours - reference| / max(|yours| + |reference|, 1e-3 * max|reference|)."""
    floor = max(1e-3 * float(np.abs(reference).max(initial=0.0)), 1e-12)
    return np.abs(yours - reference) / np.maximum(np.abs(yours) + np.abs(reference), floor)


def numeric_gradient(problem: Problem, name: str) -> np.ndarray:
    """dJ/d(input ``name``) by centred finite differences."""
    values_ = {key: array.copy() for key, array in problem.inputs.items()}
    return gradcheck.numerical_gradient(lambda: problem.objective(values_), values_[name], eps=FINITE_DIFFERENCE_STEP)


def compare(name: str, got, want, problem: Problem) -> PartResult:
    """Compare one returned part with the right one."""
    if problem.exercise == "sample_tokens":
        return compare_draws(name, got, want)
    if isinstance(want, dict):
        return compare_counts(name, got, want)
    want = np.asarray(want)
    if got is None:
        return PartResult(name, False, notes=[f"{name} is None: return an array of shape {want.shape}."])
    if isinstance(got, (int, float, np.number)) or (isinstance(got, (list, tuple)) and want.dtype.kind in "iu"):
        got = np.asarray(got)
    if not isinstance(got, np.ndarray):
        kind = "a NumPy array" if want.ndim else "a number"
        return PartResult(name, False, notes=[f"{name} is a {type(got).__name__}; return {kind} of shape {want.shape}."])
    if got.shape != want.shape:
        return PartResult(name, False, notes=[shape_note(name, got.shape, want.shape, problem)])
    if want.dtype.kind in "iub":
        if got.dtype.kind not in "iub" and not np.all(got == np.round(got)):
            return PartResult(name, False, notes=[f"{name} holds fractions; it should hold whole numbers (ids)."])
        wrong = got != want
        if not wrong.any():
            return PartResult(name, True, 0.0)
        first = tuple(int(i) for i in np.argwhere(wrong)[0])
        result = PartResult(name, False, 1.0, problem.describe(), first, float(got[first]), None, float(want[first]))
        result.notes += time_localisation(name, wrong, problem, forward=True)
        return result
    if got.dtype.kind not in "fc":
        return PartResult(name, False, problem=problem.describe(), notes=[
            f"your {name} is {got.dtype}: it must hold real numbers (float64 or float32); an integer array "
            "cuts every value to a whole number (np.zeros(shape) is float64; np.zeros_like(ids) is not)."])
    if not np.all(np.isfinite(got)):
        return PartResult(name, False, problem=problem.describe(),
                          notes=[f"{name} holds NaN or inf values" + overflow_note(problem) + "."])
    tol = tolerance(got.dtype)
    yours = got.astype(np.float64)
    errors = relative_errors(yours, want)
    alternatives = problem.context.get("alternatives")
    if alternatives is not None and errors.max() > tol:
        for other in alternatives(name, got.dtype):
            if relative_errors(yours, other).max() <= tol:
                return PartResult(name, True, float(relative_errors(yours, other).max()))
    result = PartResult(name, bool(errors.max() <= tol), float(errors.max()))
    if result.right:
        return result
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(errors)), errors.shape))
    result.problem = problem.describe()
    result.worst_index, result.yours, result.reference = worst, float(yours[worst]), float(want[worst])
    if problem.objective is not None and name in problem.inputs:
        result.numeric = float(numeric_gradient(problem, name)[worst])
    if problem.num_gates > 1 and name in GATED:
        result.notes.append(gate_note(errors > tol, worst, problem))
    result.notes += time_localisation(name, errors > tol, problem, forward=problem.objective is None)
    result.notes += value_notes(name, yours, want, problem)
    return result


def overflow_note(problem: Problem) -> str:
    if problem.exercise == "softmax_cross_entropy_forward":
        return (": the logits are large (up to +-900), so exp(z) overflows; subtract each row's maximum "
                "before exponentiating (it cancels in the softmax)")
    if problem.exercise == "attention_forward":
        return (": a softmax over an axis whose entries are all -inf gives 0/0 = NaN, and the padded columns are "
                "-inf at every t; run the softmax over the source positions S, the last axis, where every row "
                "has a real position (and subtract the row's maximum first)")
    return ""


def shape_note(name: str, got: tuple, want: tuple, problem: Problem) -> str:
    note = f"{name} has shape {got}, expected {want}"
    if len(got) == 2 and got == want[::-1]:
        return note + ": wrong transpose? A weight gradient has the shape of the weight; dW = da.T @ x for a = x @ W.T."
    if len(got) == len(want) + 1 and got[1:] == want:
        return note + ": you kept the batch axis; the parameter is shared by the whole batch, so sum over axis 0."
    sizes = problem.sizes
    named = {v: k for k, v in sizes.items() if isinstance(v, int)}
    if len(got) == len(want) and all(isinstance(v, int) for v in sizes.values()):
        swaps = [f"{named.get(w, w)} where {named.get(v, v)} belongs" for v, w in zip(want, got)
                 if v != w and w in named and v in named]
        if swaps:
            return note + f" ({'; '.join(swaps)}): check which axis each size comes from."
    return note + "."


def gate_note(wrong_entries: np.ndarray, worst: tuple, problem: Problem) -> str:
    """Which gates' row blocks of a (G*H, ...) part are wrong, and where the worst entry lies."""
    hidden = wrong_entries.shape[0] // problem.num_gates
    names = problem.gate_names
    wrong = [gate for k, gate in enumerate(names) if wrong_entries[k * hidden : (k + 1) * hidden].any()]
    right = [gate for gate in names if gate not in wrong]
    spans = ", ".join(f"{gate} (rows {names.index(gate) * hidden}:{(names.index(gate) + 1) * hidden})" for gate in wrong)
    note = f"wrong in the rows of {'gate' if len(wrong) == 1 else 'gates'} {spans}"
    if not right:
        note += "; every gate is wrong."
    elif len(right) == 1:
        note += f"; gate {right[0]} is right."
    else:
        note += f"; gates {', '.join(right)} are right."
    return note + f" The worst entry is in gate {names[worst[0] // hidden]}, unit {worst[0] % hidden}."


def time_localisation(name: str, wrong_entries: np.ndarray, problem: Problem, forward: bool) -> list[str]:
    """Where in time a sequence part is wrong (t = 1..T), and what that points at."""
    axis = problem.time_axes.get(name)
    if axis is None or wrong_entries.ndim <= axis:
        return []
    steps = wrong_entries.shape[axis]
    by_t = wrong_entries.any(axis=tuple(a for a in range(wrong_entries.ndim) if a != axis))
    wrong_t = [t + 1 for t in range(steps) if by_t[t]]
    if len(wrong_t) == steps or not wrong_t:
        return [f"{name} is wrong at every time step t = 1..{steps}."] if wrong_t else []
    k = wrong_t[-1]
    if forward:
        if wrong_t == list(range(wrong_t[0], steps + 1)):
            return [f"{name} is right at t <= {wrong_t[0] - 1} and wrong from t = {wrong_t[0]} on: look at the "
                    "state you carry forward from one step to the next."]
    else:
        if wrong_t == list(range(1, k + 1)):
            return [f"{name} is right at t >= {k + 1} and wrong at t <= {k}: each step's own gradient is right, so "
                    "look at the gradient you carry back from step t + 1 to step t."]
        if wrong_t == list(range(wrong_t[0], steps + 1)):
            return [f"{name} is wrong at t >= {wrong_t[0]} and right before: look at where the backward loop "
                    "starts (the gradient of the last state, dh_T, and the first carried gradient)."]
    return [f"{name} is wrong at t = {', '.join(map(str, wrong_t))} and right at the other steps."]


def scale_words(problem: Problem) -> dict:
    """Scale factors a student's answer may be off by, and what each means in words."""
    words = {-1.0: "the sign is flipped", 2.0: "twice the right answer", 0.5: "half the right answer"}
    sizes = {k: v for k, v in problem.sizes.items() if isinstance(v, int) and v > 1}
    for key, what in (("B", "the batch size"), ("T", "the number of time steps"), ("H", "the hidden size"),
                      ("V", "the vocabulary size")):
        if key in sizes:
            words.setdefault(1.0 / sizes[key], f"1/{key}: you divided by {what} {key} = {sizes[key]}")
            words.setdefault(float(sizes[key]), f"{key}: you multiplied by {what} {key} = {sizes[key]} "
                             "(or summed where the answer needs no sum)")
    if "B" in sizes and "T" in sizes:
        words.setdefault(1.0 / (sizes["B"] * sizes["T"]), f"1/(B T): you divided by all B*T = "
                         f"{sizes['B'] * sizes['T']} positions")
    cache = problem.context.get("cache")
    dloss = problem.context.get("dloss")
    if dloss is not None:
        words.setdefault(1.0 / dloss, f"1/dloss: dloss (= {dloss}) is ignored; by the chain rule, multiply by it")
        words.setdefault(dloss, f"dloss: you multiplied by dloss (= {dloss}) twice")
    count = cache.count if isinstance(cache, SoftmaxCrossEntropyCache) else None
    if count is not None:
        words.setdefault(float(count), f"N: not divided by the token count N = {count:g} (the loss is a mean)")
        if "B" in sizes:
            words.setdefault(count / sizes["B"], f"N/B: you divided by the batch size B = {sizes['B']} instead of "
                             f"the number of counted tokens N = {count:g}")
        if "B" in sizes and "T" in sizes:
            words.setdefault(count / (sizes["B"] * sizes["T"]),
                             f"N/(B T): you divided by all B*T = {sizes['B'] * sizes['T']} positions, padding "
                             f"included, instead of the N = {count:g} counted tokens")
    return words


def value_notes(name: str, got: np.ndarray, want: np.ndarray, problem: Problem) -> list[str]:
    if not np.any(got):
        return [f"{name} is all zeros: did you return the array you filled in?"]
    notes = []
    if got.ndim == 2 and got.shape[0] == got.shape[1] and np.allclose(got, want.T, rtol=1e-6, atol=1e-12):
        notes.append(f"{name} is the transpose of the right answer: wrong transpose (dW = da.T @ h, not h.T @ da).")
    denominator = float((want * want).sum())
    if denominator > 0:
        factor = float((got * want).sum() / denominator)
        if abs(factor - 1.0) > 1e-6 and np.allclose(got, factor * want, rtol=1e-6, atol=1e-9 * np.abs(want).max()):
            meaning = next((words for value, words in scale_words(problem).items()
                            if math.isclose(factor, value, rel_tol=1e-6)), None)
            notes.append(f"{name} is exactly {factor:.6g} times the right answer"
                         + (f": {meaning}." if meaning else ": a missing or extra constant factor."))
    return notes


def graph_localisation(problem: Problem, results: dict) -> str | None:
    """For a cell's backward pass: whether the error is upstream (in da) or in one parameter gradient."""
    names = set(results)
    if problem.objective is None or not {"dx", "dweight_ih"} <= names:
        return None
    wrong = {name for name, r in results.items() if not r.right}
    through_da = {n for n in names if n not in ("dc_prev", "dc0")}
    if through_da <= wrong:
        return ("every gradient that flows through the pre-activation a is wrong (dx, the state's gradient and "
                "all the parameters): the error is upstream of the matrix products, in da.")
    inputs = {n for n in ("dx", "dh_prev", "dh0") if n in names}
    if inputs and not (inputs & wrong) and wrong <= set(GATED):
        return (f"{' and '.join(sorted(inputs))} {'are' if len(inputs) > 1 else 'is'} right, so da is right: the "
                f"mistake is in how {', '.join(sorted(wrong))} {'is' if len(wrong) == 1 else 'are'} formed from da.")
    return None


def compare_counts(name: str, got, want: dict) -> PartResult:
    if not isinstance(got, dict):
        return PartResult(name, False, notes=[f"{name} is a {type(got).__name__}, expected a dict from n-gram tuples "
                                              "to counts."])
    got = {tuple(k) if isinstance(k, list) else k: v for k, v in got.items() if v}
    missing = [g for g in want if g not in got]
    extra = [g for g in got if g not in want]
    off = [g for g in want if g in got and got[g] != want[g]]
    if not (missing or extra or off):
        return PartResult(name, True, 0.0)
    notes = []
    if missing:
        notes.append(f"{len(missing)} n-gram(s) missing, e.g. {missing[0]} (count {want[missing[0]]})" +
                     (": the n-grams at the sentence edges need the padding <s> ... </s>" if
                      any("<s>" in g or "</s>" in g for g in missing) else "") + ".")
    if extra:
        notes.append(f"{len(extra)} n-gram(s) that are not in the corpus, e.g. {extra[0]}" +
                     (": n-grams never cross from one sentence into the next" if
                      any("</s>" in g[:-1] or "<s>" in g[1:] for g in extra) else "") + ".")
    if off:
        notes.append(f"{len(off)} count(s) wrong, e.g. {off[0]}: yours {got[off[0]]}, right {want[off[0]]}.")
    return PartResult(name, False, 1.0, notes=notes)


def compare_draws(name: str, got, probs: np.ndarray) -> PartResult:
    """Chi-square test of the draws of each row against its distribution (see :mod:`.values`)."""
    rows, vocab = probs.shape
    draws = values.SAMPLE_DRAWS
    if not isinstance(got, np.ndarray) or got.shape != (rows * draws,):
        shape = getattr(got, "shape", type(got).__name__)
        return PartResult(name, False, notes=[f"expected one id per row of probs, shape ({rows * draws},), got {shape}."])
    if got.dtype.kind not in "iu":
        return PartResult(name, False, notes=[f"your ids are {got.dtype}: return integer token ids."])
    if got.min() < 0 or got.max() >= vocab:
        return PartResult(name, False, notes=[f"ids must lie in 0..{vocab - 1}; yours range from {got.min()} to {got.max()}."])
    worst = 0.0
    for r in range(rows):
        counts = np.bincount(got[r * draws : (r + 1) * draws], minlength=vocab)
        impossible = (probs[r] == 0) & (counts > 0)
        if impossible.any():
            token = int(np.flatnonzero(impossible)[0])
            return PartResult(name, False, 1.0, notes=[
                f"row {r}: token {token} has probability 0 but you drew it {counts[token]} times of {draws}"
                + (" (the last token: check the end of your cumulative sum)" if token == vocab - 1 else "") + "."])
        support = probs[r] > 0
        expected = probs[r][support] * draws
        if support.sum() < 2:
            continue
        statistic = float(((counts[support] - expected) ** 2 / expected).sum())
        critical = values.chi2_critical(int(support.sum()) - 1)
        worst = max(worst, statistic / critical)
        if statistic > critical:
            shares = ", ".join(f"{c / draws:.3f}" for c in counts)
            want = ", ".join(f"{p:.3f}" for p in probs[r])
            return PartResult(name, False, statistic / critical, notes=[
                f"row {r}: your draws do not follow probs (chi-square {statistic:.1f} > {critical:.1f}, the level a "
                f"right sampler exceeds once in a million runs). Your shares: [{shares}]; probs: [{want}]."])
    return PartResult(name, True, worst)


def describe_exception(err: Exception) -> str:
    frames = traceback.extract_tb(err.__traceback__)
    # The last frame outside scratchlm's own checker files is where the student's code failed.
    own = ("scratchlm/exercises/cases.py", "scratchlm/exercises/checker.py", "scratchlm/exercises/values.py",
           "scratchlm/exercises/sandbox.py")
    student_frames = [f for f in frames if not f.filename.replace("\\", "/").endswith(own)]
    where = ""
    if student_frames:
        frame = student_frames[-1]
        where = f" at line {frame.lineno} of {frame.filename} ({frame.line!r})"
    return f"Your function raised {type(err).__name__}: {err}{where}."


def exception_hint(err: Exception) -> str | None:
    shapes = isinstance(err, (ValueError, IndexError)) and any(
        word in str(err) for word in ("shape", "dimension", "broadcast", "matmul", "index"))
    return "compare the shapes of the arrays on that line with the docstring." if shapes else None
