"""The generation benchmark runs (quick mode), and its PyTorch loops decode the same model."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_generation.py"


def load_benchmark():
    pytest.importorskip("torch")
    pytest.importorskip("threadpoolctl")
    spec = importlib.util.spec_from_file_location("bench_generation", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_reference_loops_decode_the_same_model():
    # Same weights: the PyTorch beam finds the same hypotheses with the same scores (float32
    # forward passes on both sides, hence the tolerance).
    bench = load_benchmark()
    from scratchlm.beam import beam_search

    model, reference, vocab = bench.build_models(34, 8, 16, 1, True, seed=1)
    for prompt in ([5], [9], [12]):
        ours = beam_search(model, prompt, beam_width=3, max_len=8, n_best=3, length_penalty=1.0)
        theirs = bench.torch_beam(reference, vocab, prompt, 3, 8, 1.0)
        assert [ids for ids, _ in ours] == [ids for ids, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5)


def test_quick_run_prints_and_writes_ratios(tmp_path, capsys):
    bench = load_benchmark()
    out = tmp_path / "generation.json"
    assert bench.main(["--quick", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    assert set(results) == {"names", "stream", "beam"}
    assert all(row["scratchlm_s"] > 0 and row["pytorch_s"] > 0 and row["ratio"] > 0 for row in results.values())
    assert "ratio" in capsys.readouterr().out


def test_backend_option_runs_scratchlm_on_that_backend_and_restores_the_active_one(capsys):
    bench = load_benchmark()
    pytest.importorskip("numba")
    from scratchlm import backend

    before = backend.name()
    assert bench.main(["--quick", "--backend", "numba"]) == 0
    assert capsys.readouterr().out.startswith("backend numba,")
    assert backend.name() == before
