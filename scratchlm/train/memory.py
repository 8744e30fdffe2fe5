"""How much memory training a model will take, estimated before anything is allocated.

A recurrent LM's size grows with the square of the hidden size, so a typo (``--hidden-size
1000000``) asks for terabytes. The estimate lets the command line refuse such a run at once
instead of failing deep inside NumPy, or swapping for minutes::

    parameters   P = V E  +  sum over layers G H (D_l + H + 2)  +  H V + V      (D_1 = E, D_l = H)
    training     4 P floats: the parameters, their gradients and two optimizer moments (Adam)
    activations  B T (L (G + 4) H + E + 3 V) floats: per step and row, every layer's gates and
                 states, the embedding, and the logits, softmax and their gradient

with G gates per cell (1 Elman, 3 GRU, 4 LSTM), B rows per batch and T steps per window. The
activation term is an order of magnitude, not an exact count: it is there to catch the
impossible, not to plan to the byte.
"""
from __future__ import annotations

import os

GATES = {"rnn": 1, "gru": 3, "lstm": 4}
# copies of the parameters alive during training: the parameters, gradients, Adam's m and v
TRAINING_COPIES = 4


def parameter_count(vocab_size: int, embed_dim: int, hidden_size: int, num_layers: int, cell: str,
                    tie_weights: bool = False) -> int:
    """P, the number of trainable scalars of an RNNLM with these sizes (a tied matrix counted once)."""
    gates = GATES[cell]
    count = vocab_size * embed_dim + hidden_size * vocab_size + vocab_size
    if tie_weights:
        count -= vocab_size * embed_dim
    for layer in range(num_layers):
        inputs = embed_dim if layer == 0 else hidden_size
        count += gates * hidden_size * (inputs + hidden_size + 2)
    return count


def training_bytes(vocab_size: int, embed_dim: int, hidden_size: int, num_layers: int, cell: str,
                   batch_size: int, steps: int, tie_weights: bool = False, itemsize: int = 4) -> int:
    """Estimated bytes to train: parameters with their gradients and optimizer state, plus activations."""
    parameters = parameter_count(vocab_size, embed_dim, hidden_size, num_layers, cell, tie_weights)
    per_step = num_layers * (GATES[cell] + 4) * hidden_size + embed_dim + 3 * vocab_size
    return itemsize * (TRAINING_COPIES * parameters + batch_size * steps * per_step)


def available_bytes() -> int | None:
    """Memory the system can give a new allocation now (Linux MemAvailable; else total RAM; None if unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def human_bytes(count: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(count) < 1024 or unit == "PiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} PiB"
