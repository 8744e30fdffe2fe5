"""Run scratchlm/kernels/cupy_ops.py on the CPU, for the tests of machines without a GPU.

The CuPy backend can only really run on a GPU, and CI has none. This module loads the same file
with two stand-ins in place of ``cupy`` and ``cupyx``:

* arrays are NumPy arrays, and the handful of array functions the module calls (``empty``,
  ``zeros``, ``exp``, ``fuse``, ``scatter_add``, ...) are NumPy's;
* every ``cupy.ElementwiseKernel`` keeps its CUDA C body, word for word, and runs it as C++:
  the body is placed in a loop over ``i`` and compiled with g++, with each argument bound the
  way CuPy's code generator binds it (an array argument as a reference to its element ``i``
  after broadcasting, a ``raw`` argument as a pointer to the whole C-contiguous array, a typed
  scalar as a value; ``T`` and ``I`` are the C types of the arrays given for them).

So the conformance tests check the module's wrappers (argument order, output allocation,
``out=`` handling) and the arithmetic of its kernel bodies against the NumPy reference. What
they cannot check is the GPU itself: launches, device memory, CuPy's real broadcasting and
fusion. tests/test_cupy_kernel_sources.py compiles the same bodies with NVRTC, and
tests/test_kernels.py runs the real module wherever CuPy and a GPU are present.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import numpy as np

CUPY_OPS_PATH = Path(__file__).resolve().parents[2] / "scratchlm" / "kernels" / "cupy_ops.py"
C_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double",
           np.dtype(np.int32): "int", np.dtype(np.int64): "long long"}
TYPED_SCALARS = {"int64": ("long long", ctypes.c_longlong), "int32": ("int", ctypes.c_int),
                 "float32": ("float", ctypes.c_float), "float64": ("double", ctypes.c_double)}


def compiler_available() -> bool:
    return shutil.which("g++") is not None


@functools.lru_cache(maxsize=None)
def _build_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="scratchlm-cupy-emulator-"))


@functools.lru_cache(maxsize=None)
def _compile(source: str) -> ctypes.CDLL:
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    cpp, lib = _build_dir() / f"k{digest}.cpp", _build_dir() / f"k{digest}.so"
    cpp.write_text(source)
    result = subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-o", str(lib), str(cpp)],
                            capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"g++ could not compile an emulated kernel:\n{result.stderr}\n{source}")
    return ctypes.CDLL(str(lib))


class _Param:
    """One entry of an ElementwiseKernel parameter list, e.g. ``raw T a`` or ``int64 hidden``."""

    def __init__(self, text: str, is_output: bool):
        words = text.split()
        self.raw = words[0] == "raw"
        self.type_name, self.name = words[-2], words[-1]
        self.is_output = is_output
        self.is_scalar = self.type_name in TYPED_SCALARS


def _parse(params: str, is_output: bool) -> list[_Param]:
    return [_Param(p.strip(), is_output) for p in params.split(",") if p.strip()]


class ElementwiseKernel:
    """The CPU stand-in for ``cupy.ElementwiseKernel`` (see the module docstring)."""

    def __init__(self, in_params: str, out_params: str, operation: str, name: str = "kernel", **_):
        self.inputs = _parse(in_params, False)
        self.outputs = _parse(out_params, True)
        self.operation = operation
        self.name = name

    def __call__(self, *args):
        params = self.inputs + self.outputs
        if not len(self.inputs) <= len(args) <= len(params):
            raise TypeError(f"{self.name} takes {len(self.inputs)} to {len(params)} arguments, got {len(args)}")
        bound = dict(zip((p.name for p in params), args))
        type_of = {}  # placeholder type name (T, I) -> NumPy dtype, from the arrays given for it
        for p in params:
            if not p.is_scalar and p.name in bound:
                type_of.setdefault(p.type_name, np.asarray(bound[p.name]).dtype)
        elementwise = [np.asarray(bound[p.name]) for p in params if not p.raw and not p.is_scalar and p.name in bound]
        shape = np.broadcast_shapes(*(a.shape for a in elementwise)) if elementwise else ()
        for p in self.outputs:
            if p.name not in bound:
                if p.raw:
                    raise TypeError(f"{self.name}: the raw output {p.name} must be passed in")
                bound[p.name] = np.empty(shape, dtype=type_of[p.type_name])

        buffers, c_args, c_params, bindings = {}, [], [], []
        for p in params:
            value = bound[p.name]
            if p.is_scalar:
                c_type, ctype = TYPED_SCALARS[p.type_name]
                c_params.append(f"{c_type} {p.name}")
                c_args.append(ctype(value))
                continue
            array = np.asarray(value)
            if not p.raw:
                array = np.broadcast_to(array, shape)
            buffers[p.name] = np.ascontiguousarray(array)
            const = "" if p.is_output else "const "
            if p.raw:
                c_params.append(f"{const}{p.type_name}* {p.name}")
            else:
                c_params.append(f"{const}{p.type_name}* _{p.name}")
                bindings.append(f"{const}{p.type_name}& {p.name} = _{p.name}[i];")
            c_args.append(ctypes.c_void_p(buffers[p.name].ctypes.data))
        typedefs = "".join(f"typedef {C_TYPES[dtype]} {name};\n" for name, dtype in type_of.items())
        source = (
            "#include <cmath>\n#include <cstddef>\nusing std::tanh; using std::exp; using std::log;\n"
            + typedefs
            + f'extern "C" void {self.name}({", ".join(c_params + ["std::ptrdiff_t _n"])}) {{\n'
            + "  for (std::ptrdiff_t i = 0; i < _n; ++i) {\n"
            + "".join(f"    {b}\n" for b in bindings)
            + self.operation + ";\n  }\n}\n"
        )
        getattr(_compile(source), self.name)(*c_args, ctypes.c_ssize_t(int(np.prod(shape))))
        results = []
        for p in self.outputs:
            target = bound[p.name]
            if buffers[p.name] is not target:
                target[...] = buffers[p.name].reshape(target.shape)
            results.append(target)
        return results[0] if len(results) == 1 else tuple(results)


def _fake_cupy() -> types.ModuleType:
    cupy = types.ModuleType("cupy")
    cupy.ElementwiseKernel = ElementwiseKernel
    cupy.fuse = lambda *args, **kwargs: (lambda function: function)
    for name in ("empty", "empty_like", "zeros", "arange", "exp", "log", "ascontiguousarray", "asarray", "ndarray"):
        setattr(cupy, name, getattr(np, name))
    return cupy


def _fake_cupyx() -> types.ModuleType:
    cupyx = types.ModuleType("cupyx")
    cupyx.scatter_add = np.add.at
    return cupyx


@functools.lru_cache(maxsize=None)
def load_cupy_ops() -> types.ModuleType:
    """scratchlm/kernels/cupy_ops.py, executed against the stand-ins, under a private name."""
    saved = {name: sys.modules.get(name) for name in ("cupy", "cupyx")}
    sys.modules["cupy"], sys.modules["cupyx"] = _fake_cupy(), _fake_cupyx()
    try:
        spec = importlib.util.spec_from_file_location("scratchlm_cupy_ops_emulated", CUPY_OPS_PATH)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return module


def kernel_names(module) -> list[str]:
    """The ElementwiseKernel objects the module defines (names as in the module)."""
    return [name for name, value in vars(module).items() if isinstance(value, ElementwiseKernel)]


__all__ = ["compiler_available", "load_cupy_ops", "kernel_names", "ElementwiseKernel"]
