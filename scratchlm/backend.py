"""The one array-module switch.

Every layer asks this module for its array library instead of importing NumPy or CuPy itself::

    from scratchlm import backend
    xp = backend.xp()                 # numpy, or cupy when the "cupy" backend is active
    h = xp.tanh(x @ W.T)

Three backends share one API:

=========  ==================  ==================================================
name       array module        what runs
=========  ==================  ==================================================
"numpy"    numpy               the readable reference code in ``scratchlm/layers``
"numba"    numpy               the same, with hot spots replaced by Numba kernels
"cupy"     cupy                arrays live on the GPU; hot spots as CuPy kernels
=========  ==================  ==================================================

The backend is chosen by :func:`use`, or at import time by the environment variable
``SCRATCHLM_BACKEND``. Kernels are found through :func:`kernel`: a layer names the operation and
passes its own NumPy reference; the active backend returns its fast version if it has one and the
reference otherwise. So the reference is always the definition, and a kernel is only ever an
optional replacement for it.

Floating-point precision: training defaults to float32 (:data:`DEFAULT_DTYPE`); gradient checks
use float64 (:data:`GRADCHECK_DTYPE`), because centred differences in float32 lose about half
of their digits to rounding.

This module imports nothing else from scratchlm, and it imports numba and cupy only when they
are asked for.
"""
from __future__ import annotations

import importlib
import os
from typing import Callable

import numpy

BACKENDS = ("numpy", "numba", "cupy")
DEFAULT_DTYPE = numpy.dtype("float32")
GRADCHECK_DTYPE = numpy.dtype("float64")

_active = "numpy"
_array_module = numpy
# name -> {op name -> callable}; filled on first use of a backend by its kernels module.
_kernel_tables: dict[str, dict[str, Callable]] = {"numpy": {}}
_KERNEL_MODULES = {"numba": "scratchlm.kernels.numba_ops", "cupy": "scratchlm.kernels.cupy_ops"}


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


def _load_kernels(name: str) -> dict[str, Callable]:
    if name not in _kernel_tables:
        module = importlib.import_module(_KERNEL_MODULES[name])
        _kernel_tables[name] = dict(module.KERNELS)
    return _kernel_tables[name]


def use(name: str) -> None:
    """Make ``name`` ("numpy", "numba" or "cupy") the active backend.

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
    if name != "numpy":
        _load_kernels(name)
    _active, _array_module = name, module


def name() -> str:
    """The name of the active backend."""
    return _active


def xp():
    """The array module of the active backend: ``numpy`` or ``cupy``."""
    return _array_module


def available() -> list[str]:
    """The backends that can be used on this machine (tries each without switching to it)."""
    found = ["numpy"]
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


def kernel(op: str, reference: Callable) -> Callable:
    """The active backend's implementation of ``op``, or ``reference`` if it has none.

    ``reference`` is the NumPy function in ``scratchlm/layers`` that defines the operation; a
    kernel registered under the same name must take the same arguments and return the same
    values (tests/test_kernels.py checks this for every registered kernel).
    """
    return _kernel_tables.get(_active, {}).get(op, reference)


def kernel_names(backend_name: str | None = None) -> list[str]:
    """The operations for which ``backend_name`` (default: the active one) has a kernel."""
    backend_name = backend_name or _active
    return sorted(_load_kernels(backend_name)) if backend_name != "numpy" else []


def default_dtype() -> numpy.dtype:
    """The float dtype new parameters get unless told otherwise (float32)."""
    return DEFAULT_DTYPE


_env_choice = os.environ.get("SCRATCHLM_BACKEND")
if _env_choice:
    use(_env_choice)
