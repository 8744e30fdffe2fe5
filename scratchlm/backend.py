"""The one switch: which array module, and which implementation of each op.

Every layer asks this module for its array library instead of importing NumPy or CuPy itself::

    from scratchlm import backend
    xp = backend.xp()                 # numpy, or cupy when the "cupy" backend is active
    h = xp.tanh(x @ W.T)

and every model asks it for the ops it runs::

    hs, state, cache = backend.op("lstm_forward")(x, state0, params)

Four backends share this one API:

============  ==============  ===================================================================
name          array module    what ``op(name)`` returns
============  ==============  ===================================================================
"reference"   numpy           the textbook function in ``scratchlm/layers``, as the lecture writes it
"numpy"       numpy           the engine's (``scratchlm/kernels``): whole-sequence ops, NumPy pieces
"numba"       numpy           the engine's, with Numba pieces (gate math, step product, rows)
"cupy"        cupy            the engine's on the GPU, with CuPy pieces
============  ==============  ===================================================================

"numpy" is the default. The backend is chosen by :func:`use`, or at import time by the
environment variable ``SCRATCHLM_BACKEND``; ``SCRATCHLM_BACKEND=reference`` runs every model on
the textbook code, for a student who wants to step through it. Every op of every backend takes
the same arguments and returns the same values as the textbook (tests/kernels/test_conformance.py).

Floating-point precision: training defaults to float32 (:data:`DEFAULT_DTYPE`); gradient checks
use float64 (:data:`GRADCHECK_DTYPE`), because centred differences in float32 lose about half
of their digits to rounding.

This module imports nothing else from scratchlm at import time; the op tables
(``scratchlm.kernels``), numba and cupy are imported when they are first asked for.
"""
from __future__ import annotations

import importlib
import os
from typing import Callable

import numpy

BACKENDS = ("reference", "numpy", "numba", "cupy")
DEFAULT_DTYPE = numpy.dtype("float32")
GRADCHECK_DTYPE = numpy.dtype("float64")

_active = "numpy"
_array_module = numpy
# backend name -> {op name -> callable}, built on the first op() under that backend.
_op_tables: dict[str, dict[str, Callable]] = {}


class BackendUnavailable(RuntimeError):
    """Raised when a backend is asked for but its library or device is missing."""


def _load_cupy():
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as err:
        raise BackendUnavailable(
            "backend 'cupy' needs the CuPy package, which is not installed "
            "(pip install 'scratchlm[gpu]', or the cupy-cudaXXx wheel matching your CUDA)"
        ) from err
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDA driver missing or broken: CuPy raises its own error types
        raise BackendUnavailable(
            f"backend 'cupy' needs a CUDA GPU, but CuPy could not reach one: {err}"
        ) from err
    if count < 1:
        raise BackendUnavailable("backend 'cupy' needs a CUDA GPU, and none was found")
    return cupy


def use(name: str) -> None:
    """Make ``name`` ("reference", "numpy", "numba" or "cupy") the active backend.

    Raises ValueError for an unknown name and :class:`BackendUnavailable` when the backend's
    library (numba, cupy) or a GPU is missing. Arrays made under one backend are not converted:
    move them with :func:`asarray` / :func:`asnumpy`.
    """
    global _active, _array_module
    if not isinstance(name, str) or name.lower() not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: expected one of {', '.join(BACKENDS)}")
    name = name.lower()
    if name == "cupy":
        module = _load_cupy()
    elif name == "numba":
        try:
            importlib.import_module("numba")
        except ImportError as err:
            raise BackendUnavailable("backend 'numba' needs the numba package (pip install numba)") from err
        module = numpy
    else:
        module = numpy
    if name in ("numba", "cupy"):
        importlib.import_module("scratchlm.kernels").pieces(name)  # compile errors surface here, not mid-training
    _active, _array_module = name, module


def name() -> str:
    """The name of the active backend."""
    return _active


def xp():
    """The array module of the active backend: ``numpy`` or ``cupy``."""
    return _array_module


def available() -> list[str]:
    """The backends that can be used on this machine (tries each without switching to it)."""
    found = ["reference", "numpy"]
    try:
        importlib.import_module("numba")
        found.append("numba")
    except ImportError:
        pass
    try:
        _load_cupy()
        found.append("cupy")
    except BackendUnavailable:
        pass
    return found


def asnumpy(array):
    """Return ``array`` as a NumPy array (copies from the GPU when it is a CuPy array)."""
    if hasattr(array, "get") and type(array).__module__.startswith("cupy"):
        return array.get()
    return numpy.asarray(array)


def asarray(array, dtype=None):
    """Return ``array`` as an array of the active backend (copies to the GPU under "cupy")."""
    return _array_module.asarray(array, dtype=dtype)


def op(op_name: str) -> Callable:
    """The active backend's implementation of the op ``op_name`` (e.g. "lstm_forward").

    Under "reference" it is the textbook function in ``scratchlm/layers``; under the other
    backends the engine's, with the same arguments and results (``scratchlm/kernels``).
    """
    table = _op_tables.get(_active)
    if table is None:
        table = _op_tables[_active] = importlib.import_module("scratchlm.kernels").ops(_active)
    try:
        return table[op_name]
    except KeyError:
        raise ValueError(f"unknown op {op_name!r}: expected one of {', '.join(sorted(table))}") from None


def implementations(backend_name: str | None = None) -> dict[str, str]:
    """Op name -> "module.function" that runs it under ``backend_name`` (default: the active one)."""
    backend_name = backend_name or _active
    table = importlib.import_module("scratchlm.kernels").ops(backend_name)
    return {name: f"{fn.__module__}.{fn.__qualname__}" for name, fn in sorted(table.items())}


def default_dtype() -> numpy.dtype:
    """The float dtype new parameters get unless told otherwise (float32)."""
    return DEFAULT_DTYPE


_env_choice = os.environ.get("SCRATCHLM_BACKEND")
if _env_choice:
    use(_env_choice)
