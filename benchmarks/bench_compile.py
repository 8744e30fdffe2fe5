"""First-use cost of the Numba kernels: compiling them, and loading them from the disk cache.

    python benchmarks/bench_compile.py

Runs two fresh Python processes that share an empty, temporary ``NUMBA_CACHE_DIR``. The first
compiles every kernel in ``scratchlm.kernels.numba_ops`` (for float32 and float64, as a model's
first training step would); the second finds them in the cache and only loads them. Each process
reports the seconds of each kernel's first call. Prints a table and writes JSON (``--out``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# Runs in the child process: the first call of every kernel on small inputs, timed one by one.
CHILD = r"""
import json, sys, time
import numpy as np
start = time.perf_counter()
from scratchlm.kernels import numba_ops
import_seconds = time.perf_counter() - start
rng = np.random.default_rng(0)
B, H, N, V, E = 4, 5, 6, 7, 3

def inputs(op, dtype):
    r = lambda *shape: rng.standard_normal(shape).astype(dtype)
    return {
        "embedding_scatter_add": (rng.integers(0, V, N), r(N, E), V),
        "cross_entropy_rows_forward": (r(N, V), rng.integers(0, V, N)),
        "cross_entropy_rows_backward": (np.full((N, V), 1.0 / V, dtype), rng.integers(0, V, N), r(N)),
        "rnn_gates_backward": (r(B, H), r(B, H)),
        "lstm_gates_forward": (r(B, 4 * H), r(B, H)),
        "lstm_gates_backward": (r(B, H), r(B, H), r(B, H), r(B, 4 * H), r(B, H)),
        "gru_gates_forward": (r(B, 3 * H), r(B, 3 * H), r(B, H)),
        "gru_gates_backward": (r(B, H), r(B, H), r(B, 3 * H), r(B, H)),
        "step_matmul_prepare": (r(H, 4 * H),),
        "step_matmul": (r(B, H), numba_ops.step_matmul_prepare(r(H, 4 * H)), np.empty((B, 4 * H), dtype)),
        "sgd_update": (r(B, H), r(B, H), 0.1),
    }[op]

# A product big enough for the threaded variant of step_matmul (packed_matmul.PARALLEL_MIN_...).
LARGE = (64, 256, 256)

seconds = {}
for dtype in ("float32", "float64"):
    for op, kernel in sorted(numba_ops.PIECES.items()):
        args = inputs(op, dtype)
        tick = time.perf_counter()
        kernel(*args)
        seconds[f"{op} {dtype}"] = time.perf_counter() - tick
    m, k, n = LARGE
    a, w = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    prepared, out = numba_ops.step_matmul_prepare(w), np.empty((m, n), dtype)
    tick = time.perf_counter()
    numba_ops.step_matmul(a, prepared, out)
    seconds[f"step_matmul, threaded {dtype}"] = time.perf_counter() - tick
print(json.dumps({"import": import_seconds, "first_calls": seconds}))
"""


def run_child(cache_dir: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "benchmarks" / "results" / "compile.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="scratchlm-numba-cache-") as cache_dir:
        cold = run_child(cache_dir)
        warm = run_child(cache_dir)
    print(f"{'kernel':<42}{'compile s':>10}{'cached s':>10}")
    for name in cold["first_calls"]:
        print(f"{name:<42}{cold['first_calls'][name]:>10.3f}{warm['first_calls'][name]:>10.4f}")
    cold_total = sum(cold["first_calls"].values())
    warm_total = sum(warm["first_calls"].values())
    print(f"{'all kernels':<42}{cold_total:>10.2f}{warm_total:>10.3f}")
    print(f"{'import scratchlm.kernels.numba_ops':<42}{cold['import']:>10.2f}{warm['import']:>10.3f}")
    report = {"cold": cold, "warm": warm, "cold_total_s": cold_total, "warm_total_s": warm_total}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
