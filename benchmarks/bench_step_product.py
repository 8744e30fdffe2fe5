"""The recurrent step's product alone: the packed tile kernel against OpenBLAS, one thread.

    python benchmarks/bench_step_product.py            # the four configurations' step shapes, ~30 s
    python benchmarks/bench_step_product.py --quick    # one small shape (seconds)

For each LSTM step shape B x H, both products of a step: forward h_{t-1} W_hh^T, (B, H) @ (H, 4H),
and backward da_t W_hh, (B, 4H) @ (4H, H). For each, times NumPy's ``matmul`` with a contiguous
weight (what the numpy backend runs) and ``packed_matmul.matmul`` with the weight packed once
(what the numba backend can run), in interleaved rounds; each side's time is its best round,
reported as GFLOP/s = 2 B K N / time.
Next to them: a square 1024^3 NumPy product, the single-thread matmul peak. Writes JSON (``--out``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from threadpoolctl import threadpool_limits  # noqa: E402  (numpy is imported first, so the limit takes)

# (B, H) of the names, char, ptb-medium and ptb-small LSTMs.
STEP_SHAPES = ((32, 128), (64, 512), (20, 650), (20, 200))


def best_seconds(functions: dict, rounds: int, round_seconds: float) -> dict[str, float]:
    """Best per-call time of each function over interleaved rounds of about ``round_seconds`` each."""
    calls = {}
    for name, function in functions.items():
        function()
        start = time.perf_counter()
        function()
        calls[name] = max(1, int(round_seconds / max(time.perf_counter() - start, 1e-9)))
    best = {name: float("inf") for name in functions}
    names = list(functions)
    for index in range(rounds):
        for name in names[index % len(names):] + names[:index % len(names)]:
            start = time.perf_counter()
            for _ in range(calls[name]):
                functions[name]()
            best[name] = min(best[name], (time.perf_counter() - start) / calls[name])
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one small shape, few rounds")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--out", default=str(REPO_ROOT / "benchmarks" / "results" / "step_product.json"))
    args = parser.parse_args(argv)
    with threadpool_limits(limits=1):
        import numba

        numba.set_num_threads(1)
        from scratchlm.kernels import chooser, packed_matmul

        shapes = ((8, 32),) if args.quick else STEP_SHAPES
        rounds, round_seconds = (2, 0.001) if args.quick else (args.rounds, 0.02)
        rng = np.random.default_rng(0)
        peak = {}
        for dtype in ("float32", "float64"):
            size = 128 if args.quick else 1024
            a, b = rng.standard_normal((2, size, size)).astype(dtype)
            out = np.empty((size, size), dtype)
            peak[dtype] = 2 * size**3 / best_seconds({"peak": lambda: np.matmul(a, b, out=out)}, 3, 0.2)["peak"] / 1e9
        rows = []
        print(f"CPU: {chooser.cpu_info()['model']}; packed variant: {packed_matmul.VARIANT.name}; "
              f"single-thread matmul peak: float32 {peak['float32']:.1f}, float64 {peak['float64']:.1f} GFLOP/s")
        print(f"{'dtype':<9}{'B x H':>10}{'product':>10}{'OpenBLAS':>10}{'packed':>10}{'packed/BLAS':>13}")
        for dtype in ("float32", "float64"):
            for batch, hidden in shapes:
                for direction, (k, n) in (("forward", (hidden, 4 * hidden)), ("backward", (4 * hidden, hidden))):
                    x = rng.standard_normal((batch, k)).astype(dtype)
                    weight = rng.standard_normal((k, n)).astype(dtype)
                    panels = packed_matmul.pack(weight)
                    out = np.empty((batch, n), dtype)
                    seconds = best_seconds({
                        "blas": lambda: np.matmul(x, weight, out=out),
                        "packed": lambda: packed_matmul.matmul(x, panels, out),
                    }, rounds, round_seconds)
                    flops = 2.0 * batch * k * n
                    row = {"dtype": dtype, "batch": batch, "hidden": hidden, "product": direction, "k": k, "n": n,
                           "blas_gflops": flops / seconds["blas"] / 1e9,
                           "packed_gflops": flops / seconds["packed"] / 1e9}
                    rows.append(row)
                    print(f"{dtype:<9}{f'{batch} x {hidden}':>10}{direction:>10}{row['blas_gflops']:>10.1f}"
                          f"{row['packed_gflops']:>10.1f}{row['packed_gflops'] / row['blas_gflops']:>12.2f}x")
    report = {"cpu": chooser.cpu_info(), "packed_variant": packed_matmul.VARIANT.name,
              "numba_cpu": packed_matmul.numba_target()[1], "numpy": np.__version__, "numba": numba.__version__,
              "matmul_peak_gflops": peak, "rounds": rounds, "rows": rows}
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(report, indent=1))
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
