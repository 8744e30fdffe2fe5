"""Running a student's file in a process of its own, so that nothing it does can fake a grade.

The parent process poses the problems (with the seed, which may be secret), writes only the
arguments of each call to a temporary folder, and starts a fresh Python (``python -I``) that
imports the student's file, calls the function, and writes back what it returned, in a format
that holds nothing but arrays, numbers, strings and containers (NumPy's ``.npz`` without pickle,
plus JSON). The parent then grades those answers itself. So:

- an answer that prints, or exits (``sys.exit``, ``os._exit(0)``) before returning, has no result:
  it scores 0 and the report says why;
- an endless loop is stopped after ``timeout`` seconds;
- the child sees only a folder holding the ``scratchlm`` package (a link to it), not the
  repository around it, so the worked solutions (which are not in the package) cannot be
  imported; and the references are computed by the parent, after the child has finished;
- calls from the answer into scratchlm's own implementations are reported (see
  :class:`scratchlm.exercises.checker.LibraryCallWatch`).
"""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from scratchlm.exercises import checker, values
from scratchlm.exercises.checker import Report

PACKAGE = Path(__file__).resolve().parents[1]
DEFAULT_TIMEOUT = 60.0
OUTPUT_LIMIT = 2000  # characters of the student's own output kept for the report
OUTPUT_FILE_LIMIT = 50 * 2**20


def encode(obj, arrays: dict):
    """A JSON-able description of ``obj``; arrays go into ``arrays`` (saved without pickle)."""
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufc":
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {"array": key}
    if isinstance(obj, (bool, np.bool_)):
        return {"bool": bool(obj)}
    if isinstance(obj, (int, np.integer)):
        return {"int": int(obj)}
    if isinstance(obj, (float, np.floating)):
        return {"float": repr(float(obj)), "dtype": str(np.asarray(obj).dtype)}
    if isinstance(obj, str):
        return {"str": obj}
    if obj is None:
        return {"none": True}
    if isinstance(obj, tuple):
        return {"tuple": [encode(item, arrays) for item in obj]}
    if isinstance(obj, list):
        return {"list": [encode(item, arrays) for item in obj]}
    if isinstance(obj, dict):
        return {"dict": [[encode(k, arrays), encode(v, arrays)] for k, v in obj.items()]}
    return {"other": type(obj).__name__}


class Opaque:
    """Stands for a returned object the sandbox does not carry back (its type name is kept)."""

    def __init__(self, name: str):
        self.type_name = name


def decode(obj, arrays):
    (kind, value), *rest = obj.items()
    if kind == "array":
        return arrays[value]
    if kind == "float":
        return np.asarray(float(value), dtype=dict(rest).get("dtype", "float64"))[()]
    if kind in ("bool", "int", "str"):
        return value
    if kind == "none":
        return None
    if kind in ("tuple", "list"):
        items = [decode(item, arrays) for item in value]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {_hashable(decode(k, arrays)): decode(v, arrays) for k, v in value}
    return type(value, (Opaque,), {})(value)


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


CHILD = r'''
import json, os, sys, pickle, importlib.util, io
root, work = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
with open(os.path.join(work, "job.pickle"), "rb") as f:
    job = pickle.load(f)
os.remove(os.path.join(work, "job.pickle"))
import numpy as np
from scratchlm.exercises import checker, sandbox
def finish(payload, arrays={}):
    np.savez(os.path.join(work, "arrays.npz"), **arrays)
    with open(os.path.join(work, "result.json"), "w") as f:
        json.dump(payload, f)
path = job["file"]
sys.path.insert(0, os.path.dirname(path))
try:
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, job["function"])
except Exception as err:
    finish({"status": "error", "message": f"could not import {path} or find {job['function']}: "
            f"{type(err).__name__}: {err}"})
    sys.exit(0)
outcomes = []
for problem, arguments in zip(job["problems"], job["arguments"]):
    try:
        with checker.LibraryCallWatch() as watch:
            outcomes.append(checker.invoke(problem, fn, arguments))
    except NotImplementedError as err:
        finish({"status": "error", "message": f"Your function is not written yet: {err}"})
        sys.exit(0)
    except Exception as err:
        finish({"status": "error", "message": checker.describe_exception(err), "hint": checker.exception_hint(err)})
        sys.exit(0)
    if watch.calls:
        finish({"status": "error", "message": watch.message()})
        sys.exit(0)
arrays = {}
finish({"status": "ok", "outcomes": sandbox.encode(outcomes, arrays)}, arrays)
'''


def _limit_file_size():
    """In the child, before it starts: no file it writes (its printed output included) may exceed 50 MB."""
    try:
        import resource
    except ImportError:  # not on this system: the time limit still bounds the output
        return
    resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_FILE_LIMIT, OUTPUT_FILE_LIMIT))


class _Stub:
    """What the child gets of a problem: its exercise name (``invoke`` reads nothing else)."""

    def __init__(self, exercise: str):
        self.exercise = exercise


def run_exercise(path, exercise: str, function: str, *, seed: int = 0, timeout: float = DEFAULT_TIMEOUT) -> Report:
    """Check the function ``function`` of the file ``path`` as ``exercise``, in a separate process."""
    path = Path(path).resolve()
    posed = checker.problems(exercise, seed)
    with tempfile.TemporaryDirectory(prefix="scratchlm-grade-") as work:
        root = Path(work) / "root"
        root.mkdir()
        os.symlink(PACKAGE, root / "scratchlm")
        job = {"file": str(path), "function": function, "problems": [_Stub(exercise) for _ in posed],
               "arguments": [problem.arguments() for problem in posed]}
        with open(Path(work) / "job.pickle", "wb") as f:
            pickle.dump(job, f)
        env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT") if key in os.environ}
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
        output_file = Path(work) / "output.txt"
        try:
            with open(output_file, "wb") as output:
                done = subprocess.run([sys.executable, "-I", "-c", CHILD, str(root), work], cwd=work, env=env,
                                      stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                      timeout=timeout, preexec_fn=_limit_file_size)
        except subprocess.TimeoutExpired:
            return Report(exercise, False, error=f"your function did not finish within {timeout:g} s "
                          "(an endless loop? a loop that never reaches its end condition?).")
        result_file = Path(work) / "result.json"
        if not result_file.exists():
            output = output_file.read_bytes()[-OUTPUT_LIMIT:].decode("utf-8", "replace")
            return Report(exercise, False, error=f"the process running your code ended (exit status "
                          f"{done.returncode}) before your function returned its answer: do not exit "
                          f"the program from an exercise." + (f" Its output ended with: {output}" if output else ""))
        try:
            payload = json.loads(result_file.read_text())
            with np.load(Path(work) / "arrays.npz", allow_pickle=False) as saved:
                arrays = {key: saved[key] for key in saved.files}
        except Exception as err:  # a result file written by the answer itself, not the sandbox
            return Report(exercise, False, error=f"the result of your function could not be read ({err}).")
    if payload.get("status") != "ok":
        return Report(exercise, False, error=str(payload.get("message")), hint=payload.get("hint"))
    try:
        outcomes = decode(payload["outcomes"], arrays)
    except Exception:  # not written by the sandbox
        outcomes = None
    if not isinstance(outcomes, list) or len(outcomes) != len(posed):
        return Report(exercise, False, error="the result of your function could not be read.")
    if exercise in values.MUTATES_ARGUMENTS:
        outcomes = [tuple(outcome) for outcome in outcomes]
    return checker.evaluate(exercise, posed, outcomes)
