"""Training throughput of scratchlm's backends against each other and PyTorch, in one run.

One command measures everything and prints a table::

    python benchmarks/bench_training.py                 # the full matrix (about 13 minutes on a quiet 2-vCPU machine)
    python benchmarks/bench_training.py --dtypes float32 --no-memory    # what the targets are about
    python benchmarks/bench_training.py --quick         # a tiny smoke run (seconds)
    python benchmarks/bench_training.py --configs char --cells lstm --dtypes float32

What is measured
----------------
* **Throughput**: predicted tokens per second for one training step = forward + backward +
  SGD update (``scratchlm.train.optimizers.SGD``: ``p -= lr * g``) of an embedding -> RNN/LSTM/GRU -> linear decoder language model,
  on random token ids. scratchlm runs ``RNNLM.loss_and_grads`` under each backend; PyTorch runs
  ``nn.Embedding -> nn.LSTM / nn.GRU / nn.RNN -> nn.Linear`` with ``cross_entropy``,
  ``backward()`` and ``torch.optim.SGD`` (its default CPU path: oneDNN for float32 LSTM).
* **Interleaving**: every round times each contestant once, in rotating order, so a slow spell of
  a shared machine hits all of them; a ratio is computed within each round and the median over
  rounds is reported ("vs numpy": against the numpy backend, "vs torch": against PyTorch).
  Compare ratios, not absolute numbers from different runs.
* **Threads**: one BLAS/OpenMP thread on every side (``threadpoolctl`` for NumPy's BLAS and
  OpenMP pools, ``numba.set_num_threads(1)`` for the numba backend's parallel loops,
  ``torch.set_num_threads(1)`` for PyTorch). The package itself never fixes a
  thread count; only this benchmark does.
* **Kernel choices**: the numba backend measures its candidate implementations at first use
  (scratchlm/kernels/chooser.py). The benchmark gives it an empty, temporary choices cache, so
  the choices are made under the benchmark's own conditions (one thread) during each
  contestant's first, uncounted step; the report lists them.
* **Achieved GFLOP/s**: matrix-multiply FLOPs of one training step (3x the forward matmuls:
  forward, gradient w.r.t. inputs, gradient w.r.t. weights) divided by its time, next to a
  single-thread square-matmul peak measured in the same run.
* **Targets** (float32): numba >= 1.0x numpy on every config and cell; numba >= 1.0x PyTorch on
  the LSTM configs; >= 1.2x on the Elman names and char; >= 80% of the matmul peak on the char
  and ptb-medium LSTM. The report says which were met in this run.
* **Memory**: peak bytes allocated (``tracemalloc``, which sees NumPy's array buffers) by one
  ``loss_and_grads`` over a long sequence (full BPTT) and by the same sequence cut into windows
  whose state is carried forward (truncated BPTT).

Every report records the CPU (model name and vector flags, as lscpu shows them) and the versions.
Results are written as JSON (``--out``) and Markdown beside it; docs/benchmarks.md records them.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from scratchlm import backend  # noqa: E402  (after the path fix so a source checkout works)
from scratchlm.kernels import chooser  # noqa: E402

CELLS = ("rnn", "lstm", "gru")
GATES_PER_CELL = {"rnn": 1, "lstm": 4, "gru": 3}
DTYPES = ("float32", "float64")
LEARNING_RATE = 0.1


@dataclasses.dataclass(frozen=True)
class Config:
    """One model and batch shape: vocabulary V, embedding E, hidden H, layers, batch B, steps T."""

    name: str
    vocab: int
    embed: int
    hidden: int
    layers: int
    batch: int
    steps: int

    @property
    def tokens_per_step(self) -> int:
        return self.batch * self.steps


CONFIGS = {
    c.name: c
    for c in (
        Config("names", vocab=30, embed=32, hidden=128, layers=1, batch=32, steps=16),
        Config("char", vocab=65, embed=64, hidden=512, layers=1, batch=64, steps=100),
        Config("ptb-small", vocab=10000, embed=200, hidden=200, layers=2, batch=20, steps=20),
        Config("ptb-medium", vocab=10000, embed=650, hidden=650, layers=2, batch=20, steps=35),
    )
}
# --quick: small enough to run in a second, but two layers and distinct sizes so shapes are real.
QUICK_CONFIG = Config("tiny", vocab=13, embed=6, hidden=8, layers=2, batch=3, steps=5)


def training_flops_per_token(config: Config, cell: str) -> float:
    """Matrix-multiply FLOPs of one training step per predicted token.

    Forward, per token: each layer computes ``W_ih x + W_hh h`` with ``G*H`` rows (G gates), i.e.
    ``2 G H (D_in + H)`` FLOPs, and the decoder ``2 V H``. The backward pass does two matmuls of
    the same size for each forward one (gradient w.r.t. the input and w.r.t. the weight), so a
    training step costs 3x the forward. Elementwise work, the softmax and the embedding lookup
    are left out: they are memory-bound, and this count is what the matmul peak bounds.
    """
    gates = GATES_PER_CELL[cell]
    forward = 0.0
    for layer in range(config.layers):
        d_in = config.embed if layer == 0 else config.hidden
        forward += 2.0 * gates * config.hidden * (d_in + config.hidden)
    forward += 2.0 * config.vocab * config.hidden
    return 3.0 * forward


def matmul_peak_gflops(dtype: str, size: int = 1024, min_time: float = 0.5) -> float:
    """Best single-call GFLOP/s of a square ``size``-by-``size`` NumPy matmul (BLAS)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size)).astype(dtype)
    b = rng.standard_normal((size, size)).astype(dtype)
    out = np.empty((size, size), dtype=dtype)
    np.matmul(a, b, out=out)
    best = float("inf")
    start = time.perf_counter()
    calls = 0
    while calls < 3 or time.perf_counter() - start < min_time:
        tick = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - tick)
        calls += 1
    return 2.0 * size**3 / best / 1e9


def step_products(config: Config, cell: str) -> list[tuple[int, int, int, int]]:
    """The matrix products of one training step as (count, M, K, N): M x K times K x N, ``count`` times.

    Per layer: the input product for all steps, T step products, and backward their two
    partners each (the step product's da W_hh, dW_ih, dW_hh, dx); the decoder and its two.
    Their FLOPs add up to ``training_flops_per_token`` (tests/test_benchmarks.py checks this).
    """
    rows, gates_h, hidden = config.batch * config.steps, GATES_PER_CELL[cell] * config.hidden, config.hidden
    products = []
    for layer in range(config.layers):
        d_in = config.embed if layer == 0 else hidden
        products += [(1, rows, d_in, gates_h), (config.steps, config.batch, hidden, gates_h),  # forward
                     (config.steps, config.batch, gates_h, hidden),  # backward step product: da W_hh
                     (1, gates_h, rows, d_in), (1, gates_h, rows, hidden), (1, rows, gates_h, d_in)]  # dW_ih, dW_hh, dx
    products += [(1, rows, hidden, config.vocab), (1, rows, config.vocab, hidden), (1, config.vocab, rows, hidden)]
    return products


def matmul_only_seconds(config: Config, cell: str, dtype: str, rounds: int = 3) -> float:
    """Seconds a training step would take if it did nothing but its matrix products.

    Each product of :func:`step_products` is timed alone, best of ``rounds``: with NumPy's
    ``matmul`` (OpenBLAS), and the per-step ones also with the packed kernel, keeping the
    faster, as the numba backend does. The step's matmul FLOPs over this time, divided by the
    peak, is the largest share of the peak any implementation built on these products can reach.
    """
    from scratchlm.kernels import packed_matmul

    rng = np.random.default_rng(0)
    total = 0.0
    for count, m, k, n in step_products(config, cell):
        a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
        out = np.empty((m, n), dtype=dtype)
        ways = [lambda: np.matmul(a, b, out=out)]
        if count > 1:
            panels = packed_matmul.pack(b)
            ways.append(lambda: packed_matmul.matmul(a, panels, out))
        best = float("inf")
        for way in ways:
            way()
            for _ in range(rounds):
                tick = time.perf_counter()
                for _ in range(min(count, 10)):
                    way()
                best = min(best, (time.perf_counter() - tick) / min(count, 10))
        total += count * best
    return total


def random_batch(config: Config, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids ``inputs``, ``targets`` of shape (B, T), drawn uniformly from the vocabulary."""
    rng = np.random.default_rng(seed)
    shape = (config.batch, config.steps)
    return rng.integers(0, config.vocab, shape), rng.integers(0, config.vocab, shape)


class ScratchlmContestant:
    """``RNNLM`` training steps under one scratchlm backend."""

    def __init__(self, config: Config, cell: str, dtype: str, backend_name: str, seed: int = 0):
        from scratchlm.models import RNNLM
        from scratchlm.train.optimizers import SGD

        self.label = backend_name
        self.backend_name = backend_name
        backend.use(backend_name)
        self.model = RNNLM(config.vocab, config.embed, config.hidden, num_layers=config.layers,
                           cell=cell, seed=seed, dtype=dtype)
        inputs, targets = random_batch(config, seed)
        self.inputs = backend.asarray(inputs)
        self.targets = backend.asarray(targets)
        self.optimizer = SGD(lr=LEARNING_RATE)
        self._synchronize = _cupy_synchronize if backend_name == "cupy" else (lambda: None)

    def activate(self) -> None:
        """Make this contestant's backend the active one (the switch is global)."""
        backend.use(self.backend_name)

    def step(self) -> float:
        loss, grads, _ = self.model.loss_and_grads(self.inputs, self.targets)
        self.optimizer.step(self.model.params, grads)
        self._synchronize()
        return float(loss)


class TorchContestant:
    """The same model and step in PyTorch (default CPU kernels)."""

    def __init__(self, config: Config, cell: str, dtype: str, seed: int = 0):
        import torch

        self.label = "torch"
        self.torch = torch
        torch.manual_seed(seed)
        recurrent = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
        torch_dtype = getattr(torch, dtype)
        self.embedding = torch.nn.Embedding(config.vocab, config.embed).to(torch_dtype)
        self.rnn = recurrent(config.embed, config.hidden, config.layers, batch_first=True).to(torch_dtype)
        self.decoder = torch.nn.Linear(config.hidden, config.vocab).to(torch_dtype)
        parameters = [*self.embedding.parameters(), *self.rnn.parameters(), *self.decoder.parameters()]
        self.optimizer = torch.optim.SGD(parameters, lr=LEARNING_RATE)
        inputs, targets = random_batch(config, seed)
        self.inputs = torch.from_numpy(inputs)
        self.targets = torch.from_numpy(targets).reshape(-1)
        self.vocab = config.vocab

    def activate(self) -> None:
        pass

    def step(self) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        hidden, _ = self.rnn(self.embedding(self.inputs))
        logits = self.decoder(hidden)
        loss = self.torch.nn.functional.cross_entropy(logits.reshape(-1, self.vocab), self.targets)
        loss.backward()
        self.optimizer.step()
        return loss.item()


def _cupy_synchronize() -> None:
    import cupy

    cupy.cuda.Device().synchronize()


def time_steps(contestant, min_time: float, min_steps: int = 1) -> float:
    """Seconds per training step: run steps until both ``min_time`` and ``min_steps`` are reached."""
    contestant.activate()
    steps = 0
    start = time.perf_counter()
    while True:
        contestant.step()
        steps += 1
        elapsed = time.perf_counter() - start
        if steps >= min_steps and elapsed >= min_time:
            return elapsed / steps


def compare(config: Config, cell: str, dtype: str, backends: list[str], with_torch: bool,
            rounds: int, min_time: float) -> list[dict]:
    """Interleaved timing of every contestant on one (config, cell, dtype); one row each."""
    contestants = [ScratchlmContestant(config, cell, dtype, name) for name in backends]
    if with_torch:
        contestants.append(TorchContestant(config, cell, dtype))
    first_step = {}
    for contestant in contestants:
        # The first step pays one-off costs (a Numba kernel loaded from its cache or compiled,
        # allocator warm-up); it is reported but never counted in the throughput.
        contestant.activate()
        tick = time.perf_counter()
        contestant.step()
        first_step[contestant.label] = time.perf_counter() - tick
    seconds = {c.label: [] for c in contestants}
    for round_index in range(rounds):
        shift = round_index % len(contestants)
        for contestant in contestants[shift:] + contestants[:shift]:
            seconds[contestant.label].append(time_steps(contestant, min_time))
    flops = training_flops_per_token(config, cell) * config.tokens_per_step
    rows = []
    for contestant in contestants:
        label = contestant.label
        step_seconds = statistics.median(seconds[label])
        row = {
            "config": config.name, "cell": cell, "dtype": dtype, "backend": label,
            "tokens_per_s": config.tokens_per_step / step_seconds,
            "step_ms": 1e3 * step_seconds,
            "first_step_ms": 1e3 * first_step[label],
            "gflops": flops / step_seconds / 1e9,
            "rounds_ms": [1e3 * s for s in seconds[label]],
        }
        # Ratios of throughputs within each round (same machine weather), then the median.
        for reference in ("numpy", "torch"):
            if reference in seconds:
                row[f"vs_{reference}"] = statistics.median(
                    r / s for s, r in zip(seconds[label], seconds[reference]))
        rows.append(row)
    return rows


def bptt_memory(config: Config, cell: str, dtype: str, backend_name: str, length: int,
                window: int) -> dict:
    """Peak bytes allocated by full BPTT over ``length`` steps and by TBPTT in ``window`` chunks."""
    from scratchlm.models import RNNLM

    backend.use(backend_name)
    model = RNNLM(config.vocab, config.embed, config.hidden, num_layers=config.layers, cell=cell,
                  seed=0, dtype=dtype)
    long_config = dataclasses.replace(config, steps=length)
    inputs, targets = random_batch(long_config, seed=1)

    def traced_peak(work) -> int:
        tracemalloc.start()
        baseline, _ = tracemalloc.get_traced_memory()
        work()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return peak - baseline

    def full():
        model.loss_and_grads(inputs, targets)

    def truncated():
        state = None
        for start in range(0, length, window):
            _, _, state = model.loss_and_grads(inputs[:, start:start + window],
                                               targets[:, start:start + window], state=state)

    full_peak = traced_peak(full)
    truncated_peak = traced_peak(truncated)
    return {
        "config": config.name, "cell": cell, "dtype": dtype, "backend": backend_name,
        "batch": config.batch, "length": length, "window": window,
        "full_bptt_mib": full_peak / 2**20, "truncated_bptt_mib": truncated_peak / 2**20,
        "ratio": full_peak / max(truncated_peak, 1),
    }


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def pin_one_thread():
    """Limit every thread pool to one thread; returns a function that restores the old limits."""
    restorers = []
    try:
        from threadpoolctl import threadpool_limits

        restorers.append(threadpool_limits(limits=1).restore_original_limits)
    except ImportError:
        print("warning: threadpoolctl is not installed; BLAS may use several threads", file=sys.stderr)
    try:
        import numba

        previous_numba = numba.get_num_threads()
        numba.set_num_threads(1)
        restorers.append(lambda: numba.set_num_threads(previous_numba))
    except ImportError:
        pass
    if torch_available():
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        restorers.append(lambda: torch.set_num_threads(previous))

    def restore():
        for undo in reversed(restorers):
            undo()

    return restore


def _ratio(row: dict, key: str) -> str:
    return f"{row[key]:.2f}x" if key in row else "-"


def format_table(rows: list[dict], peaks: dict[str, float]) -> str:
    header = (f"{'config':<11}{'cell':<6}{'dtype':<9}{'backend':<10}{'tokens/s':>11}{'step ms':>10}"
              f"{'vs numpy':>10}{'vs torch':>10}{'GFLOP/s':>9}{'% peak':>8}")
    lines = [header, "-" * len(header)]
    for row in rows:
        share = 100.0 * row["gflops"] / peaks[row["dtype"]]
        lines.append(f"{row['config']:<11}{row['cell']:<6}{row['dtype']:<9}{row['backend']:<10}"
                     f"{row['tokens_per_s']:>11,.0f}{row['step_ms']:>10.2f}{_ratio(row, 'vs_numpy'):>10}"
                     f"{_ratio(row, 'vs_torch'):>10}{row['gflops']:>9.1f}{share:>7.0f}%")
    return "\n".join(lines)


# (what, rows it applies to, the number, the bound). Only float32 rows of the numba backend count.
TARGETS = (
    ("numba >= 1.0x numpy", lambda r: True, "vs_numpy", 1.0),
    ("numba >= 1.0x PyTorch (LSTM)", lambda r: r["cell"] == "lstm", "vs_torch", 1.0),
    ("numba >= 1.2x PyTorch (Elman names, char)",
     lambda r: r["cell"] == "rnn" and r["config"] in ("names", "char"), "vs_torch", 1.2),
    ("numba >= 80% of the matmul peak (LSTM char, ptb-medium)",
     lambda r: r["cell"] == "lstm" and r["config"] in ("char", "ptb-medium"), "share_of_peak", 0.8),
)


def check_targets(rows: list[dict], peaks: dict[str, float]) -> list[dict]:
    """One entry per target and row it applies to: the measured value and whether it is met."""
    results = []
    for row in rows:
        if row["backend"] != "numba" or row["dtype"] != "float32":
            continue
        values = dict(row, share_of_peak=row["gflops"] / peaks[row["dtype"]])
        for what, applies, key, bound in TARGETS:
            if applies(row) and key in values:
                results.append({"target": what, "config": row["config"], "cell": row["cell"],
                                "value": values[key], "bound": bound, "met": values[key] >= bound})
    return results


def format_targets(results: list[dict]) -> str:
    lines = [f"{'target':<58}{'config':<12}{'cell':<6}{'value':>8}  met"]
    for t in results:
        value = f"{100 * t['value']:.0f}%" if t["bound"] < 1 else f"{t['value']:.2f}x"
        lines.append(f"{t['target']:<58}{t['config']:<12}{t['cell']:<6}{value:>8}  {'yes' if t['met'] else 'NO'}")
    return "\n".join(lines)


def format_memory(rows: list[dict]) -> str:
    lines = [f"{'config':<11}{'cell':<6}{'backend':<8}{'B x length':>12}{'window':>8}"
             f"{'full MiB':>10}{'TBPTT MiB':>11}{'ratio':>7}"]
    for row in rows:
        lines.append(f"{row['config']:<11}{row['cell']:<6}{row['backend']:<8}"
                     f"{row['batch']:>5} x {row['length']:<5}{row['window']:>8}"
                     f"{row['full_bptt_mib']:>10.1f}{row['truncated_bptt_mib']:>11.1f}{row['ratio']:>7.1f}")
    return "\n".join(lines)


def markdown_report(report: dict) -> str:
    """The tables of a JSON report, as Markdown (for docs/benchmarks.md)."""
    peaks = report["matmul_peak_gflops"]
    cpu = report["machine"]["cpu"]
    flags = ", ".join(f"{flag} {'yes' if present else 'no'}" for flag, present in cpu["flags"].items())
    lines = [
        f"CPU: {cpu['model']} ({flags}); packed step product: {cpu.get('packed_variant', '-')} tile.",
        "",
        f"Single-thread matmul peak: float32 {peaks['float32']:.1f} GFLOP/s, float64 "
        f"{peaks['float64']:.1f} GFLOP/s (after the run: float32 "
        f"{report['matmul_peak_gflops_after']['float32']:.1f}, float64 "
        f"{report['matmul_peak_gflops_after']['float64']:.1f}).",
        "",
        "| config | cell | dtype | backend | tokens/s | step ms | vs numpy | vs torch | GFLOP/s | % of peak |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report["throughput"]:
        share = 100.0 * row["gflops"] / peaks[row["dtype"]]
        lines.append(f"| {row['config']} | {row['cell']} | {row['dtype']} | {row['backend']} | "
                     f"{row['tokens_per_s']:,.0f} | {row['step_ms']:.2f} | {_ratio(row, 'vs_numpy')} | "
                     f"{_ratio(row, 'vs_torch')} | {row['gflops']:.1f} | {share:.0f}% |")
    if report.get("targets"):
        lines += ["", "| target | config | cell | measured | met |", "| --- | --- | --- | ---: | --- |"]
        for t in report["targets"]:
            value = f"{100 * t['value']:.0f}%" if t["bound"] < 1 else f"{t['value']:.2f}x"
            lines.append(f"| {t['target']} | {t['config']} | {t['cell']} | {value} | {'yes' if t['met'] else 'no'} |")
    for bound in report.get("matmul_bounds", []):
        lines += ["", f"{bound['config']} {bound['cell']} {bound['dtype']}: the step's matrix products alone, each "
                      f"timed by itself, take {bound['matmul_only_ms']:.1f} ms: {bound['gflops']:.1f} GFLOP/s, "
                      f"{100 * bound['share_of_peak']:.0f}% of the peak, the most a step built on them can reach."]
    if report.get("choices"):
        lines += ["", "| op | inputs | choice | why |", "| --- | --- | --- | --- |"]
        for c in report["choices"]:
            lines.append(f"| {c['op']} | {c['key']} | {c['name']} | {c['why']} |")
    if report["memory"]:
        lines += ["", "| config | cell | backend | batch x length | window | full BPTT MiB | TBPTT MiB | ratio |",
                  "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |"]
        for row in report["memory"]:
            lines.append(f"| {row['config']} | {row['cell']} | {row['backend']} | {row['batch']} x "
                         f"{row['length']} | {row['window']} | {row['full_bptt_mib']:.1f} | "
                         f"{row['truncated_bptt_mib']:.1f} | {row['ratio']:.1f} |")
    return "\n".join(lines) + "\n"


def describe_cpu() -> dict:
    """The CPU as lscpu names it, its vector flags, and the packed tile variant Numba compiles here."""
    info = chooser.cpu_info()
    cpu = {"model": info["model"], "machine": info["machine"], "flags": info["flags"]}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
        cpu["lscpu"] = {name: fields[name].strip() for name in ("Model name", "CPU family", "Model", "CPU(s)")
                        if name in fields}
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        from scratchlm.kernels import packed_matmul

        cpu["packed_variant"] = packed_matmul.VARIANT.name
        cpu["numba_cpu"] = packed_matmul.numba_target()[1]
    except ImportError:
        pass
    return cpu


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: a tiny config, one round, one step per timing")
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help=f"comma-separated subset of {', '.join(CONFIGS)}")
    parser.add_argument("--cells", default=",".join(CELLS), help="comma-separated subset of rnn,lstm,gru")
    parser.add_argument("--dtypes", default=",".join(DTYPES), help="float32, float64 or both")
    parser.add_argument("--backends", default=None,
                        help="comma-separated scratchlm backends (default: every available one)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if importable")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved timing rounds")
    parser.add_argument("--min-time", type=float, default=0.1,
                        help="seconds each contestant runs per round (at least one step); short "
                             "bursts in many rounds resist a shared machine's load spikes best")
    parser.add_argument("--memory-length", type=int, default=2000,
                        help="sequence length for the full-vs-truncated BPTT memory comparison")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory comparison")
    parser.add_argument("--out", default=str(REPO_ROOT / "benchmarks" / "results" / "training.json"),
                        help="where to write the JSON results (and the same tables as .md beside it)")
    parser.add_argument("--render", metavar="JSON",
                        help="measure nothing: print the Markdown tables of an earlier JSON report")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.min_time < 0:
        parser.error("--rounds must be >= 1 and --min-time >= 0")
    return args


def choose(names: str, allowed, what: str) -> list[str]:
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}: expected some of {', '.join(allowed)}")
    return chosen


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.render:
        print(markdown_report(json.loads(Path(args.render).read_text())), end="")
        return 0
    cells = choose(args.cells, CELLS, "cells")
    dtypes = choose(args.dtypes, DTYPES, "dtypes")
    configs = [QUICK_CONFIG] if args.quick else [CONFIGS[n] for n in choose(args.configs, CONFIGS, "configs")]
    available = backend.available()
    backends = available if args.backends is None else choose(args.backends, available, "backends")
    with_torch = torch_available() and not args.no_torch
    previous_backend = backend.name()
    restore_threads = pin_one_thread()
    previous_cache = os.environ.get("SCRATCHLM_CACHE_DIR")
    try:
        with tempfile.TemporaryDirectory(prefix="scratchlm-bench-choices-") as choices_dir:
            os.environ["SCRATCHLM_CACHE_DIR"] = choices_dir
            chooser.forget()
            report = run_benchmarks(args, configs, cells, dtypes, backends, with_torch)
    finally:
        restore_threads()
        backend.use(previous_backend)
        if previous_cache is None:
            os.environ.pop("SCRATCHLM_CACHE_DIR", None)
        else:
            os.environ["SCRATCHLM_CACHE_DIR"] = previous_cache
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    out.with_suffix(".md").write_text(markdown_report(report))
    print(f"\nwrote {out} and {out.with_suffix('.md')}")
    return 0


def run_benchmarks(args, configs, cells, dtypes, backends, with_torch) -> dict:
    """Measure, print the tables, and return the JSON report."""
    if args.quick:
        rounds, min_time, memory_length, memory_window, peak_size = 1, 0.0, 40, 10, 128
    else:
        rounds, min_time, memory_length, memory_window, peak_size = (
            args.rounds, args.min_time, args.memory_length, 100, 1024)
    peak_time = 0.01 if args.quick else 0.5
    peaks = {dtype: matmul_peak_gflops(dtype, peak_size, peak_time) for dtype in DTYPES}
    print(f"single-thread matmul peak ({peak_size}^3): "
          + ", ".join(f"{d} {g:.1f} GFLOP/s" for d, g in peaks.items()), flush=True)
    rows = []
    for config in configs:
        for cell in cells:
            for dtype in dtypes:
                new_rows = compare(config, cell, dtype, backends, with_torch, rounds, min_time)
                print(format_table(new_rows, peaks).split("\n", 2)[-1], flush=True)
                rows.extend(new_rows)
    # The most a step could reach if only its matrix products took time (for the peak targets).
    bounds = []
    for config in configs:
        if config.name in ("char", "ptb-medium") and "lstm" in cells and "float32" in dtypes:
            seconds = matmul_only_seconds(config, "lstm", "float32")
            gflops = training_flops_per_token(config, "lstm") * config.tokens_per_step / seconds / 1e9
            bounds.append({"config": config.name, "cell": "lstm", "dtype": "float32",
                           "matmul_only_ms": 1e3 * seconds, "gflops": gflops,
                           "share_of_peak": gflops / peaks["float32"]})
    # Measured again at the end: if the machine got busier during the run, this shows it.
    peaks_after = {dtype: matmul_peak_gflops(dtype, peak_size, peak_time) for dtype in DTYPES}

    memory = []
    if not args.no_memory:
        memory_config = configs[0] if args.quick else CONFIGS["char"]
        memory_config = dataclasses.replace(memory_config, batch=min(memory_config.batch, 16))
        for backend_name in [b for b in backends if b != "cupy"]:
            memory.append(bptt_memory(memory_config, "lstm", "float32", backend_name,
                                      memory_length, memory_window))

    targets = check_targets(rows, peaks)
    choices = [{"op": c.op, "key": c.key, "name": c.name, "why": c.explain()} for c in chooser.decisions()]
    print()
    print(format_table(rows, peaks))
    if targets:
        print()
        print(format_targets(targets))
    for bound in bounds:
        print(f"{bound['config']} {bound['cell']} {bound['dtype']}: its matrix products alone take "
              f"{bound['matmul_only_ms']:.1f} ms per step, {bound['gflops']:.1f} GFLOP/s = "
              f"{100 * bound['share_of_peak']:.0f}% of the peak: the most any step built on them can reach")
    if memory:
        print()
        print("peak memory of one training step over a long sequence (tracemalloc):")
        print(format_memory(memory))
    return {
        "machine": {"cpu": describe_cpu(), "python": platform.python_version(),
                    "cpu_count": os.cpu_count(), "numpy": np.__version__,
                    "numba": _version("numba"), "torch": _version("torch") if with_torch else None},
        "settings": {"quick": args.quick, "rounds": rounds, "min_time": min_time,
                     "threads": 1, "learning_rate": LEARNING_RATE},
        "matmul_peak_gflops": peaks, "matmul_peak_gflops_after": peaks_after,
        "throughput": rows, "targets": targets, "matmul_bounds": bounds, "choices": choices, "memory": memory,
    }



def _version(module_name: str) -> str | None:
    try:
        return importlib.import_module(module_name).__version__
    except ImportError:
        return None


if __name__ == "__main__":
    sys.exit(main())
