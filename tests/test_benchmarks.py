"""The benchmark harness runs (quick mode, tiny config), so it cannot rot unnoticed.

The numbers it prints are not checked here (they depend on the machine); what is checked is
that every contestant produced a positive throughput, the ratios against PyTorch are computed
when PyTorch is importable, and the FLOP count is the hand-derived one.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_training.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("bench_training", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_training_flops_per_token_by_hand():
    bench = load_benchmark()
    config = bench.Config("hand", vocab=10, embed=3, hidden=4, layers=2, batch=1, steps=1)
    # LSTM (4 gates): layer 0: 2*4*4*(3+4) = 224; layer 1: 2*4*4*(4+4) = 256; decoder 2*10*4 = 80.
    # Forward 560, training step 3x = 1680.
    assert bench.training_flops_per_token(config, "lstm") == 1680
    # Elman (1 gate): 2*4*7 + 2*4*8 + 80 = 56 + 64 + 80 = 200 -> 600.
    assert bench.training_flops_per_token(config, "rnn") == 600


def test_quick_run_writes_table_and_json(tmp_path, capsys):
    bench = load_benchmark()
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--cells", "lstm,rnn", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "tokens/s" in printed and "full MiB" in printed
    report = json.loads(out.read_text())
    rows = report["throughput"]
    backends = {row["backend"] for row in rows}
    assert "numpy" in backends
    assert {row["cell"] for row in rows} == {"lstm", "rnn"}
    assert all(row["tokens_per_s"] > 0 and row["gflops"] > 0 for row in rows)
    if "torch" in backends:
        assert all(row["vs_torch"] > 0 for row in rows)
        assert all(row["vs_torch"] == 1.0 for row in rows if row["backend"] == "torch")
    assert report["matmul_peak_gflops"]["float32"] > 0
    markdown = out.with_suffix(".md").read_text()
    assert markdown.count("| tiny |") == len(rows) + len(report["memory"]) + len(report["targets"])
    assert "CPU: " in markdown
    if "numpy" in backends:
        assert all(row["vs_numpy"] > 0 for row in rows)
        assert all(row["vs_numpy"] == 1.0 for row in rows if row["backend"] == "numpy")
    cpu = report["machine"]["cpu"]
    assert cpu["model"] and set(cpu["flags"]) <= {"avx512f", "avx2", "fma", "asimd", "sve"}
    for row in report["memory"]:
        # Full BPTT keeps every step's activations; windows of 10 keep a quarter of them.
        assert row["full_bptt_mib"] > row["truncated_bptt_mib"] > 0


def test_unknown_config_is_refused():
    bench = load_benchmark()
    with pytest.raises(ValueError, match="unknown configs"):
        bench.main(["--configs", "ptb-huge", "--out", "unused.json"])


def test_targets_are_checked_on_float32_numba_rows_only():
    bench = load_benchmark()
    peaks = {"float32": 100.0, "float64": 50.0}

    def row(config, cell, backend, dtype="float32", vs_numpy=1.1, vs_torch=1.1, gflops=85.0):
        return {"config": config, "cell": cell, "backend": backend, "dtype": dtype,
                "vs_numpy": vs_numpy, "vs_torch": vs_torch, "gflops": gflops}

    rows = [row("char", "lstm", "numba", vs_numpy=0.97, gflops=79.0), row("char", "lstm", "numpy"),
            row("names", "rnn", "numba", vs_torch=1.1), row("char", "lstm", "numba", dtype="float64")]
    results = {(t["target"].split(" (")[0], t["config"], t["cell"]): t for t in bench.check_targets(rows, peaks)}
    assert len(results) == 5  # char lstm: numpy, torch, peak; names rnn: numpy, torch 1.2x
    assert not results[("numba >= 1.0x numpy", "char", "lstm")]["met"]
    assert results[("numba >= 1.0x PyTorch", "char", "lstm")]["met"]
    assert not results[("numba >= 80% of the matmul peak", "char", "lstm")]["met"]
    assert results[("numba >= 80% of the matmul peak", "char", "lstm")]["value"] == 0.79
    assert not results[("numba >= 1.2x PyTorch", "names", "rnn")]["met"]
    assert results[("numba >= 1.0x numpy", "names", "rnn")]["met"]


def test_step_product_benchmark_runs(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_step_product", BENCHMARK.parent / "bench_step_product.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "step.json"
    assert module.main(["--quick", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert {row["dtype"] for row in report["rows"]} == {"float32", "float64"}
    assert all(row["blas_gflops"] > 0 and row["packed_gflops"] > 0 for row in report["rows"])
    assert report["packed_variant"] in ("avx512", "avx2", "generic")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_step_products_add_up_to_the_flop_count(cell):
    bench = load_benchmark()
    config = bench.Config("hand", vocab=10, embed=3, hidden=4, layers=2, batch=2, steps=5)
    flops = sum(2 * count * m * k * n for count, m, k, n in bench.step_products(config, cell))
    assert flops == bench.training_flops_per_token(config, cell) * config.tokens_per_step


def test_matmul_only_seconds_is_positive_and_small_for_a_small_model():
    bench = load_benchmark()
    config = bench.Config("hand", vocab=10, embed=3, hidden=4, layers=1, batch=2, steps=3)
    assert 0 < bench.matmul_only_seconds(config, "lstm", "float32", rounds=1) < 0.1
