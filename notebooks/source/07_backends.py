# %% [markdown]
# # 7. One model, four backends: the textbook, NumPy, Numba, CuPy
#
# The layers in `scratchlm/layers` are the textbook: each op as the lecture writes it. The models
# run on a fast engine (`scratchlm/kernels`) that computes the same values; one switch chooses:
#
# | backend | arrays | what runs |
# | --- | --- | --- |
# | `reference` | NumPy, CPU | the textbook layers, as written: a loop over the step functions |
# | `numpy` | NumPy, CPU | the engine: whole-sequence ops, time-major buffers, the input product for all steps at once (the default) |
# | `numba` | NumPy, CPU | the engine, with its pieces (gate math, scatter-add, softmax rows) as fused Numba loops, and the recurrent step's product by a kernel that packs W_hh once per sequence |
# | `cupy`  | CuPy, GPU  | the engine on the GPU, its pieces as CuPy kernels |
#
# A model never imports NumPy or CuPy itself: it asks `backend.xp()` for the array module and
# `backend.op(name)` for each op (`"lstm_forward"`, ...), which is the textbook function under
# `reference` and the engine's under the others. This notebook trains-steps the same
# model on every backend available here, checks that they compute the same numbers, and times them.

# %%
%matplotlib inline
import os
import time

import numpy as np
from matplotlib.figure import Figure

from scratchlm import backend, plot
from scratchlm.models import RNNLM

SMALL = os.environ.get("SCRATCHLM_NOTEBOOK_SMALL") == "1"
if SMALL:
    batch, steps, hidden, repeats = 4, 8, 16, 2
else:
    batch, steps, hidden, repeats = 32, 35, 256, 5
vocab_size, embed_dim = 65, 64          # a character model, as in notebook 5
available = backend.available()
print("backends available here:", available)
for op, implementation in backend.implementations("reference").items():
    print(f"{op:<32} reference: {implementation:<56} numpy: {backend.implementations('numpy')[op]}")

# %% [markdown]
# ## The same numbers on every backend
#
# A model built with the same seed has the same parameters on every backend (they are drawn with
# NumPy, then moved). One training step, forward and backward, must then give the same loss and
# the same gradients, up to float32 rounding.

# %%
rng = np.random.default_rng(0)
inputs = rng.integers(0, vocab_size, (batch, steps))
targets = rng.integers(0, vocab_size, (batch, steps))


def one_step(cell):
    model = RNNLM(vocab_size, embed_dim, hidden, cell=cell, seed=0)
    loss, grads, _ = model.loss_and_grads(inputs, targets)
    return model, loss, grads


reference = {}
backend.use("reference")
for cell in ("rnn", "lstm", "gru"):
    _, loss, grads = one_step(cell)
    reference[cell] = (loss, {k: backend.asnumpy(v) for k, v in grads.items()})

for name in available[1:]:
    backend.use(name)
    for cell in ("rnn", "lstm", "gru"):
        _, loss, grads = one_step(cell)
        worst = max(np.abs(backend.asnumpy(grads[k]) - g).max() / (np.abs(g).max() + 1e-30)
                    for k, g in reference[cell][1].items())
        print(f"{name:>6} {cell:>5}: loss {loss:.6f} (textbook {reference[cell][0]:.6f}), "
              f"largest gradient difference {worst:.1e} of the gradient's scale")
backend.use("numpy")

# %% [markdown]
# ## Timing a training step
#
# The time of `loss_and_grads` (one forward and one backward pass) on a batch of
# B sequences of T characters, best of a few repeats after a warm-up call (the warm-up compiles
# Numba's kernels, or loads them from its on-disk cache, and CuPy's). On the GPU the device is
# synchronised before the clock stops, since CuPy returns before the GPU has finished.

# %%
def synchronise():
    if backend.name() == "cupy":
        backend.xp().cuda.Device().synchronize()


def time_step(cell):
    model = RNNLM(vocab_size, embed_dim, hidden, cell=cell, seed=0)
    model.loss_and_grads(inputs, targets)          # warm-up
    synchronise()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.loss_and_grads(inputs, targets)
        synchronise()
        times.append(time.perf_counter() - start)
    return min(times)


timings = {}
for name in available:
    backend.use(name)
    timings[name] = {cell: time_step(cell) for cell in ("rnn", "lstm", "gru")}
backend.use("numpy")

print(f"B = {batch}, T = {steps}, H = {hidden}, V = {vocab_size}: milliseconds per training step")
print(f"{'cell':>6}" + "".join(f"{name:>10}" for name in available) + "   speed-up over numpy")
for cell in ("rnn", "lstm", "gru"):
    row = "".join(f"{timings[name][cell] * 1e3:10.2f}" for name in available)
    speedups = ", ".join(f"{name} {timings['numpy'][cell] / timings[name][cell]:.2f}x" for name in available[1:])
    print(f"{cell:>6}{row}   {speedups}")

# %%
fig = Figure(figsize=(6.5, 3.4), layout="constrained")
ax = fig.subplots()
width = 0.8 / len(available)
positions = np.arange(3)
for k, name in enumerate(available):
    ax.bar(positions + k * width, [timings[name][cell] * 1e3 for cell in ("rnn", "lstm", "gru")],
           width=width, label=name)
ax.set_xticks(positions + width * (len(available) - 1) / 2, ["Elman RNN", "LSTM", "GRU"])
ax.set(ylabel="ms per training step", title=f"forward + backward, B={batch}, T={steps}, H={hidden}")
ax.legend()
fig

# %% [markdown]
# ## Reading the numbers
#
# - On the CPU most of a step is matrix products, which NumPy hands to BLAS. Numba speeds up what
#   lies between them (the gate arithmetic, the scatter-add, the softmax), and one product BLAS
#   does poorly: the recurrent step's `h_{t-1} W_hh^T` (and `da_t W_hh` backward), a few rows times
#   the same weight at every step, where BLAS copies the whole weight into its own layout at every
#   call. The numba backend copies it once per sequence (`scratchlm/kernels/packed_matmul.py`).
# - On a GPU the time per step at small sizes is dominated by launching kernels (one per operation
#   per time step); the GPU pays off when the batch and hidden size are large enough to fill it.
# - The measurements behind the engine's own claims, on fixed hardware and against PyTorch, are in
#   `docs/benchmarks.md` and `benchmarks/`.
#
# To choose a backend in your own code: `backend.use("numba")` at the start, or set the environment
# variable `SCRATCHLM_BACKEND=numba` before starting Python. Arrays made under one backend stay
# where they are; move them with `backend.asarray` and `backend.asnumpy`.
#
# ## Exercises
#
# No checker exercise is about backends: every exercise in `scratchlm exercise list` is written
# in NumPy, and its reference is the NumPy layer. Then:
#
# 1. *Inline question:* the backends give nearly the same loss and gradients, but not exactly
#    (the differences are printed above). Why not? Which operations change the order of additions?
# 2. Time one training step at batch sizes 1, 8, 32 and 128 on each backend available here.
#    Where does the time per *token* stop falling, and why?
# 3. Read the Numba kernel of the LSTM gates in `scratchlm/kernels/` and compare it with the
#    NumPy code in `scratchlm/layers/lstm.py`. What does the kernel do that NumPy cannot?
# 4. With `OPENBLAS_NUM_THREADS=1` and `=2`, time the step again. On a 2-core machine, which is
#    faster, and why can more threads be slower?
