"""Print the backends available here, the CPU, and which implementation each op runs and why.

Where the engine has several implementations of an op (the packed step product or BLAS's, a
fused Numba kernel or NumPy's ufuncs), the numba backend measures them at first use and keeps
the fastest (scratchlm/kernels/chooser.py). This command shows those choices: the ones kept in
the cache file from earlier runs on this machine, and, with ``--measure``, the ones made by one
training step of each cell under the numba backend, run now.
"""
from __future__ import annotations

import argparse

from scratchlm import backend
from scratchlm.kernels import chooser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--measure", action="store_true",
                        help="run one training step of an RNN, LSTM and GRU under the numba backend first, so "
                             "that the choices for that shape are made (and cached) now")
    parser.add_argument("--batch", type=int, default=32, help="batch size for --measure (default 32)")
    parser.add_argument("--hidden", type=int, default=128, help="hidden size for --measure (default 128)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                        help="dtype for --measure (default float32)")


def describe_cpu() -> list[str]:
    """Lines naming the CPU, its vector flags, and what Numba compiles for on it."""
    info = chooser.cpu_info()
    flags = ", ".join(f"{flag} {'yes' if present else 'no'}" for flag, present in info["flags"].items())
    lines = [f"CPU: {info['model']} ({info['machine']}): {flags}"]
    try:
        from scratchlm.kernels import packed_matmul
    except ImportError:
        return lines + ["Numba: not installed"]
    variant = packed_matmul.VARIANT
    lines.append(f"Numba compiles for: {packed_matmul.numba_target()[1]}; packed step product: "
                 f"{variant.name} tile, {variant.tile_rows[0]} rows x {variant.vectors_per_row} vectors "
                 f"of {variant.vector_bytes} bytes")
    return lines


def measure_choices(batch: int, hidden: int, dtype: str) -> None:
    """One training step of each cell under the numba backend: every choice those shapes need."""
    import numpy as np

    from scratchlm.models import RNNLM

    if batch < 1 or hidden < 1:
        raise ValueError(f"--batch and --hidden must be at least 1, got {batch} and {hidden}")
    previous = backend.name()
    backend.use("numba")
    try:
        rng = np.random.default_rng(0)
        vocab, steps = 30, 8
        ids = rng.integers(0, vocab, (batch, steps + 1))
        for cell in ("rnn", "lstm", "gru"):
            model = RNNLM(vocab, 32, hidden, cell=cell, seed=0, dtype=dtype)
            model.loss_and_grads(ids[:, :-1], ids[:, 1:])
    finally:
        backend.use(previous)


def choice_rows() -> list[tuple[str, str, str, str]]:
    """(op, inputs, choice, why) for this process's choices, then the cache file's others."""
    rows, seen = [], set()
    for made in chooser.decisions():
        rows.append((made.op, made.key, made.name, made.explain()))
        seen.add((made.op, made.key))
    for entry, stored in sorted(chooser.cached_choices().items()):
        op, _, key = entry.partition(" | ")
        if (op, key) not in seen:
            made = chooser.Choice(op, key, stored["name"], "cached", stored.get("seconds"))
            rows.append((op, key, made.name, made.explain()))
    return rows


def run(args: argparse.Namespace) -> int:
    forced = chooser.forced()  # a malformed SCRATCHLM_KERNELS is reported before anything runs
    if args.measure:
        measure_choices(args.batch, args.hidden, args.dtype)
    print(f"backends available: {', '.join(backend.available())} (active: {backend.name()})")
    for line in describe_cpu():
        print(line)
    print(f"choices cache: {chooser.cache_path()}")
    print(f"forced ({chooser.FORCE_VARIABLE}): "
          + (", ".join(f"{op}={name}" for op, name in forced.items()) if forced else "none"))
    print(f"measuring at first use: {'on' if chooser.measuring() else 'off'} "
          f"({chooser.MEASURE_VARIABLE}=0 takes each op's default instead)")
    rows = choice_rows()
    if not rows:
        print("\nno choices made yet on this machine: they are measured the first time the numba backend "
              "runs an op (or now, with --measure)")
        return 0
    header = ("op", "inputs", "choice", "why")
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(3)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)) + "  why")
    for row in rows:
        print("  ".join(value.ljust(w) for value, w in zip(row, widths)) + "  " + row[3])
    return 0
