"""The CUDA source of every CuPy elementwise kernel compiles, in float32 and float64.

tests/test_kernels.py runs the CuPy kernels against the NumPy reference, but only on a machine
with a GPU. This test needs no GPU: NVRTC (CUDA's runtime compiler, which CuPy installs) compiles
CUDA source on the CPU. Each ``cupy.ElementwiseKernel`` in scratchlm/kernels/cupy_ops.py is
rendered into a plain CUDA kernel with the same parameter names and types (raw arguments as
pointers, the others as references to element ``i``, as CuPy's own code generator binds them)
and compiled. That catches what a GPU-less machine can catch: syntax, undeclared names, type
errors and missing overloads in the kernel bodies. Whether the kernels compute the right numbers
is the conformance test's job on a GPU.

Skipped where CuPy or its NVRTC library is not installed (``pip install cupy-cuda12x[ctk]``).
"""
from __future__ import annotations

import pytest

cupy = pytest.importorskip("cupy")
nvrtc = pytest.importorskip("cupy_backends.cuda.libs.nvrtc")

C_TYPES = {"float32": "float", "float64": "double"}
INTEGER_TYPE_PARAMETERS = {"I": "long long"}  # the only integer type placeholder the kernels use


def _nvrtc_works() -> bool:
    try:
        nvrtc.getVersion()
        return True
    except Exception:  # the library is missing: CuPy without its [ctk] extra
        return False


pytestmark = pytest.mark.skipif(not _nvrtc_works(), reason="NVRTC (cupy-cuda12x[ctk]) is not installed")


def elementwise_kernels():
    from scratchlm.kernels import cupy_ops

    return {name: value for name, value in vars(cupy_ops).items() if isinstance(value, cupy.ElementwiseKernel)}


def render(kernel, float_type: str) -> str:
    """A CUDA kernel equivalent to what CuPy generates for ``kernel``'s parameters and body."""
    arguments, bindings = [], []
    for param in list(kernel.in_params) + list(kernel.out_params):
        const = "const " if param.is_const else ""
        if param.raw:
            arguments.append(f"{const}{param.ctype}* {param.name}")
        elif param.dtype is not None:  # a typed scalar such as "int64 hidden"
            arguments.append(f"{param.ctype} {param.name}")
        else:
            arguments.append(f"{const}{param.ctype}* _{param.name}")
            bindings.append(f"{const}{param.ctype}& {param.name} = _{param.name}[i];")
    typedefs = [f"typedef {float_type} T;"] + [f"typedef {c} {name};" for name, c in INTEGER_TYPE_PARAMETERS.items()]
    return "\n".join([
        *typedefs,
        f'extern "C" __global__ void {kernel.name}({", ".join(arguments)}, const ptrdiff_t _n) {{',
        "  for (ptrdiff_t i = blockIdx.x * (ptrdiff_t)blockDim.x + threadIdx.x; i < _n;",
        "       i += (ptrdiff_t)blockDim.x * gridDim.x) {",
        *("    " + b for b in bindings),
        kernel.operation + ";",  # CuPy ends the body with a semicolon too
        "  }",
        "}",
    ])


def compile_source(source: str, name: str) -> None:
    program = nvrtc.createProgram(source, f"{name}.cu", (), ())
    try:
        nvrtc.compileProgram(program, ("--gpu-architecture=compute_70", "--std=c++14"))
    except Exception as error:
        raise AssertionError(f"{name} does not compile:\n{nvrtc.getProgramLog(program)}\n--- source ---\n{source}") from error
    finally:
        nvrtc.destroyProgram(program)


def test_every_cupy_module_kernel_is_covered():
    assert len(elementwise_kernels()) >= 6


@pytest.mark.parametrize("dtype", sorted(C_TYPES))
def test_elementwise_kernel_sources_compile(dtype):
    for attribute, kernel in elementwise_kernels().items():
        compile_source(render(kernel, C_TYPES[dtype]), f"{attribute}_{dtype}")


def test_a_broken_kernel_body_is_caught():
    """The check itself can fail: an undeclared name in a kernel body does not compile."""
    broken = cupy.ElementwiseKernel("T x", "T y", "y = x * undeclared_scale;", "scratchlm_broken")
    with pytest.raises(AssertionError, match="does not compile"):
        compile_source(render(broken, "float"), "broken")
