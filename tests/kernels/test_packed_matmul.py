"""The packed tile product equals NumPy's matmul, for the variant of this CPU and of others.

Other CPUs' variants are compiled here by starting Python with ``NUMBA_CPU_NAME`` (and
``NUMBA_CPU_FEATURES=""``, the named CPU's own features): the variants this machine can execute
are run against NumPy's product, and the AVX-512 one, if this CPU lacks AVX-512, is compiled and
its assembly inspected for 64-byte registers.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratchlm.kernels import packed_matmul

REPO_ROOT = Path(__file__).resolve().parents[2]
# (B, K, N): rows that leave every smaller tile in use, N not a multiple of any panel width,
# K = 1, and the step shapes of the names LSTM in miniature.
SHAPES = [(1, 1, 1), (5, 7, 3), (13, 33, 100), (20, 17, 50), (7, 1, 40), (32, 24, 96)]
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


def relative_error(result, expected):
    return float(np.max(np.abs(result - expected)) / max(np.max(np.abs(expected)), 1e-30))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threaded", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_numpy_matmul(shape, threaded, dtype):
    b, k, n = shape
    rng = np.random.default_rng(b * 1000 + k * 10 + n)
    a = rng.standard_normal((b, k)).astype(dtype)
    w = rng.standard_normal((k, n)).astype(dtype)
    out = np.full((b, n), np.nan, dtype=dtype)
    result = packed_matmul.matmul(a, packed_matmul.pack(w), out, threaded=threaded)
    assert result is out
    expected = a.astype(np.float64) @ w.astype(np.float64)
    assert relative_error(out, expected) < TOLERANCE[dtype]


def test_an_empty_inner_dimension_gives_zeros():
    a = np.empty((3, 0), dtype=np.float32)
    out = np.full((3, 5), np.nan, dtype=np.float32)
    packed_matmul.matmul(a, packed_matmul.pack(np.empty((0, 5), dtype=np.float32)), out)
    assert np.all(out == 0)


def test_pack_lays_out_panels_row_after_row():
    w = np.arange(3 * 40, dtype=np.float64).reshape(3, 40)
    width = packed_matmul.panel_width(np.float64)
    packed = packed_matmul.pack(w)
    assert packed.shape == (-(-40 // width), 3, width)
    for p in range(packed.shape[0]):
        columns = w[:, p * width:(p + 1) * width]
        assert np.array_equal(packed[p, :, :columns.shape[1]], columns)
        assert np.all(packed[p, :, columns.shape[1]:] == 0)  # the padding of the last panel


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 CPU names")
@pytest.mark.parametrize("cpu, features, expected", [
    ("skylake-avx512", "", "avx512"), ("icelake-server", "", "avx512"), ("znver4", "", "avx512"),
    ("haswell", "", "avx2"), ("znver1", "", "avx2"), ("znver3", "", "avx2"),
    ("skylake-avx512", "-avx512f", "avx2"),  # the features Numba passes win over the name
    ("sandybridge", "", "generic"),  # AVX but no FMA
    ("generic", "", "generic"), ("x86-64", "", "generic"), ("generic", "+avx2,+fma", "avx2"),
])
def test_detect_variant_from_llvm(cpu, features, expected):
    triple = packed_matmul.numba_target()[0]
    assert packed_matmul.detect_variant(triple, cpu, features) == expected


def test_a_target_llvm_cannot_build_gets_the_generic_variant():
    assert packed_matmul.detect_variant("nonsense-unknown-none", "generic", "") == "generic"


def test_this_cpu_gets_the_variant_its_flags_say():
    from scratchlm.kernels import chooser

    if os.environ.get("NUMBA_CPU_NAME") or platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("only for the host CPU of an x86 machine")
    flags = chooser.cpu_info()["flags"]
    expected = "avx512" if flags["avx512f"] else ("avx2" if flags["avx2"] and flags["fma"] else "generic")
    assert packed_matmul.VARIANT.name == expected


# Runs under another NUMBA_CPU_NAME: report the variant and assembly facts; multiply if allowed.
CHILD = r"""
import json, sys
import numba, numpy as np
from scratchlm.kernels import packed_matmul
run = sys.argv[1] == "run"
shapes = json.loads(sys.argv[2])
rng = np.random.default_rng(0)
worst = 0.0
asm = ""
for dtype in ("float32", "float64"):
    for b, k, n in shapes:
        a = rng.standard_normal((b, k)).astype(dtype)
        w = rng.standard_normal((k, n)).astype(dtype)
        width = packed_matmul.panel_width(dtype)  # packed by NumPy: pack() is compiled for this CPU too
        padded = np.zeros((k, -(-n // width) * width), dtype)
        padded[:, :n] = w
        packed = np.ascontiguousarray(padded.reshape(k, -1, width).transpose(1, 0, 2))
        out = np.zeros((b, n), dtype)
        args = (a, packed, out)
        signature = tuple(numba.typeof(x) for x in args)
        packed_matmul._matmul_serial.compile(signature)
        asm += packed_matmul._matmul_serial.inspect_asm(signature)
        if run:
            packed_matmul.matmul(a, packed, out)
            expected = a.astype(np.float64) @ w.astype(np.float64)
            error = np.max(np.abs(out - expected)) / np.max(np.abs(expected))
            worst = max(worst, error / (1e-5 if dtype == "float32" else 1e-12))
asm = asm.lower()
print(json.dumps({"variant": packed_matmul.VARIANT.name, "zmm": "zmm" in asm, "ymm": "ymm" in asm,
                  "fma": "vfmadd" in asm, "worst_over_tolerance": worst}))
"""


def run_as(cpu: str, run: bool, cache_dir: Path) -> dict:
    env = dict(os.environ, NUMBA_CPU_NAME=cpu, NUMBA_CPU_FEATURES="", NUMBA_CACHE_DIR=str(cache_dir),
               PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run([sys.executable, "-c", CHILD, "run" if run else "compile", json.dumps(SHAPES[:4])],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 CPU names")
@pytest.mark.parametrize("cpu, variant", [("haswell", "avx2"), ("znver1", "avx2"), ("generic", "generic"),
                                          ("skylake-avx512", "avx512")])
def test_another_cpus_variant_compiles_and_multiplies(cpu, variant, tmp_path):
    from scratchlm.kernels import chooser

    flags = chooser.cpu_info()["flags"]
    runnable = {"avx512": flags["avx512f"], "avx2": flags["avx2"] and flags["fma"], "generic": True}[variant]
    report = run_as(cpu, runnable, tmp_path)
    assert report["variant"] == variant
    if variant == "avx512":
        assert report["zmm"] and report["fma"]
    elif variant == "avx2":
        assert report["ymm"] and report["fma"] and not report["zmm"]
    else:  # baseline x86-64: 16-byte SSE vectors, a multiply and an add instead of FMA
        assert not report["ymm"] and not report["fma"]
    if runnable:
        assert report["worst_over_tolerance"] < 1.0


@pytest.fixture
def fresh_choices(tmp_path, monkeypatch):
    from scratchlm.kernels import chooser

    monkeypatch.setenv(chooser.CACHE_DIR_VARIABLE, str(tmp_path))
    monkeypatch.delenv(chooser.FORCE_VARIABLE, raising=False)
    monkeypatch.delenv(chooser.MEASURE_VARIABLE, raising=False)
    chooser.forget()
    yield chooser
    chooser.forget()


@pytest.mark.parametrize("forced", [None, "blas", "packed"])
def test_step_product_chooses_once_and_matches_numpy(forced, fresh_choices, monkeypatch):
    if forced:
        monkeypatch.setenv(fresh_choices.FORCE_VARIABLE, f"step_matmul={forced}")
    rng = np.random.default_rng(3)
    w = rng.standard_normal((24, 40)).astype(np.float32)
    prepared = packed_matmul.prepare(w.T.T)
    for _ in range(3):
        x = rng.standard_normal((9, 24)).astype(np.float32)
        out = np.empty((40, 9), dtype=np.float32).T  # not C-contiguous: written through a copy
        assert packed_matmul.step_product(x, prepared, out) is out
        assert relative_error(out, x.astype(np.float64) @ w.astype(np.float64)) < 1e-5
    (choice,) = fresh_choices.decisions()
    assert choice.op == "step_matmul" and choice.key.startswith("float32 8x32x32")
    assert choice.name == forced if forced else choice.reason == "measured"
    # Only what ran was built: a forced choice builds one form, a measured one both.
    assert (prepared._panels is not None) == (choice.name != "blas" or not forced)
    assert (prepared._contiguous is not None) == (choice.name == "blas" or not forced)


def test_step_product_refuses_mismatched_arguments(fresh_choices):
    prepared = packed_matmul.prepare(np.zeros((4, 6)))
    with pytest.raises(ValueError, match=r"x must be a \(B, 4\) float64"):
        packed_matmul.step_product(np.zeros((2, 5)), prepared, np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r"out\[0\] must be an array of shape \(2, 6\)"):
        packed_matmul.step_product(np.zeros((2, 4)), prepared, np.zeros((2, 6), np.float32))
    with pytest.raises(TypeError, match="numba step_matmul_prepare"):
        packed_matmul.step_product(np.zeros((2, 4)), np.zeros((4, 6)), np.zeros((2, 6)))
    with pytest.raises(TypeError, match="float32 and float64"):
        packed_matmul.prepare(np.zeros((4, 6), dtype=np.int64))
    with pytest.raises(ValueError, match="2-D"):
        packed_matmul.prepare(np.zeros(4))
