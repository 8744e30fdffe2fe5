# %% [markdown]
# # 10. GRU against LSTM
#
# The LSTM carries a cell state $c_t$ through three gates; the GRU (Cho et al. 2014) does with
# two gates and no separate cell. Is the simpler cell as good? This notebook trains both on the
# same data with the same budget and compares
#
# 1. the **equations** and the **parameter counts**;
# 2. the **loss curves** at the same hidden size, and at the same number of parameters;
# 3. what the **gates** do on a name: the LSTM's forget gate $f_t$ and the GRU's update gate $z_t$.

# %%
%matplotlib inline
import os

import numpy as np
from matplotlib.figure import Figure

from scratchlm import plot
from scratchlm.data import load_corpus
from scratchlm.layers.gru import gru_forward
from scratchlm.layers.lstm import lstm_forward
from scratchlm.metrics import evaluate
from scratchlm.models import RNNLM
from scratchlm.train.loop import Trainer, TrainConfig
from scratchlm.train.prepare import encode_corpus, fit_tokenizer

SMALL = os.environ.get("SCRATCHLM_NOTEBOOK_SMALL") == "1"
hidden, epochs = (24, 3) if SMALL else (128, 15)

# %% [markdown]
# ## Two cells side by side
#
# PyTorch's layout and gate order, $\sigma$ the logistic sigmoid, $\odot$ elementwise:
#
# | LSTM (gates i, f, g, o) | GRU (gates r, z, n) |
# | --- | --- |
# | $i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})$ | $r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})$ |
# | $f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})$ | $z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})$ |
# | $g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg})$ | $n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))$ |
# | $o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})$ | |
# | $c_t = f_t \odot c_{t-1} + i_t \odot g_t$ | $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$ |
# | $h_t = o_t \odot \tanh(c_t)$ | |
#
# The GRU's update gate $z_t$ plays the forget gate and the input gate at once: what it keeps of
# $h_{t-1}$ it does not take from the candidate $n_t$. The reset gate $r_t$ decides how much of
# the old state the candidate may read. With $G$ gate blocks, input size $E$ and hidden size $H$,
# a layer has $G \cdot H (E + H)$ weights and $2 G H$ biases: $G = 4$ for the LSTM, $3$ for the
# GRU, so at the same $H$ the GRU layer is a quarter smaller.

# %%
corpus = load_corpus("finnish-names")
tokenizer = fit_tokenizer(corpus, "char")
train_ids, valid_ids, test_ids = encode_corpus(tokenizer, corpus)
vocab = tokenizer.vocab
V, E = len(tokenizer), 32


def layer_parameters(gates, input_size, hidden_size):
    return gates * hidden_size * (input_size + hidden_size) + 2 * gates * hidden_size


# The GRU hidden size whose whole model has (about) as many parameters as the LSTM's.
lstm_total = RNNLM(V, embed_dim=E, hidden_size=hidden, cell="lstm", seed=0).num_parameters()
matched = min(range(hidden, 2 * hidden), key=lambda h: abs(
    RNNLM(V, embed_dim=E, hidden_size=h, cell="gru", seed=0).num_parameters() - lstm_total))
settings = {f"LSTM, H = {hidden}": ("lstm", hidden), f"GRU, H = {hidden}": ("gru", hidden),
            f"GRU, H = {matched}": ("gru", matched)}
for label, (cell, size) in settings.items():
    model = RNNLM(V, embed_dim=E, hidden_size=size, cell=cell, seed=0)
    recurrent = layer_parameters(4 if cell == "lstm" else 3, E, size)
    print(f"{label:<14} recurrent layer {recurrent:7,} parameters, whole model {model.num_parameters():7,}")

# %% [markdown]
# ## The same data, the same budget
#
# Each model reads the 600 training names for the same number of epochs, with the same
# optimizer (Adam, learning rate $3 \cdot 10^{-3}$, clipping at 5), batches and seeds, and no
# dropout. The trainer prints nothing; the curves say it all. (Trained for twice as many epochs,
# every model overfits: the validation loss turns up after about a dozen epochs.)

# %%
config = TrainConfig(epochs=epochs, batch_size=32, optimizer="adam", lr=3e-3, clip_norm=5.0, seed=0)
models, histories = {}, {}
for label, (cell, size) in settings.items():
    model = RNNLM(V, embed_dim=E, hidden_size=size, cell=cell, dropout=0.0, seed=0,
                  bos_id=vocab.bos_id, eos_id=vocab.eos_id)
    histories[label] = Trainer(model, tokenizer.to_json(), train_ids, valid_ids, "lines", config,
                               progress=False, report_epochs=False).fit()
    models[label] = model.eval()
    print(f"{label:<14} best validation perplexity {min(histories[label]['val_ppl']):.3f}")

# %%
fig = Figure(figsize=(9, 3.4), layout="constrained")
left, right = fig.subplots(1, 2)
for label, history in histories.items():
    left.plot(history["epoch"], history["train_loss"], label=label)
    right.plot(history["epoch"], history["val_loss"], label=label)
left.set(xlabel="epoch", ylabel="nats per character", title="training loss")
right.set(xlabel="epoch", ylabel="nats per character", title="validation loss")
right.legend()
fig

# %% [markdown]
# And on the test names, which no model saw while training or choosing an epoch:

# %%
with_eos = [ids + [vocab.eos_id] for ids in test_ids]
for label, model in models.items():
    result = evaluate(model, with_eos)
    print(f"{label:<14} test perplexity {result.perplexity:6.3f}  ({result.bits_per_token:.3f} bits per character)")

# %% [markdown]
# ## What the gates do
#
# We run each trained model over a validation name and record its gates at every character:
# the LSTM's forget gate $f_t$ (near 1: keep the cell) and the GRU's update gate $z_t$ (near 1:
# keep the old state, ignore the new candidate). The first layer runs again through the textbook
# layers (`lstm_forward`, `gru_forward`), whose step caches keep every gate under its own name.


# %%
def gates_over(model, ids, gate):
    """One gate of the first layer at every step of one sequence: (T, H)."""
    p = {name: np.asarray(value, dtype=np.float64) for name, value in model.params.items()}
    layer0 = {name: p[f"rnn.{name}_l0"] for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    x = p["embedding.weight"][[vocab.bos_id] + ids][None]                    # (1, T, E)
    run = lstm_forward if model.cell == "lstm" else gru_forward
    _, _, cache = run(x, None, layer0)
    return np.array([getattr(step, gate)[0] for step in cache.steps])


name = max(corpus.valid[:20], key=len)                                     # a long one
ids = tokenizer.encode(name)
lstm_label, gru_label = list(settings)[:2]
forget = gates_over(models[lstm_label], ids, "f")                           # f_t, (T, H)
update = gates_over(models[gru_label], ids, "z")                            # z_t, (T, H)
shown = min(hidden, 32)

fig = Figure(figsize=(9, 3.6), layout="constrained")
axes = fig.subplots(1, 2)
for ax, values, title in zip(axes, [forget, update], [f"LSTM forget gate f_t", f"GRU update gate z_t"]):
    image = ax.imshow(values[:, :shown].T, aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(np.arange(len(ids) + 1), ["<bos>"] + list(name), rotation=90)
    ax.set(ylabel="unit", title=f"{title}, {name!r}")
fig.colorbar(image, ax=axes, label="gate value")
fig

# %%
for label, values in [("LSTM forget gate f", forget), ("GRU update gate z", update)]:
    print(f"{label}: mean {values.mean():.2f}; share of values above 0.9: {np.mean(values > 0.9):.0%}, "
          f"below 0.1: {np.mean(values < 0.1):.0%}")

# %% [markdown]
# ## What to take away
#
# - The GRU merges the LSTM's forget and input gates into one update gate and drops the separate
#   cell state: three gate blocks instead of four, so a quarter fewer recurrent parameters at
#   the same hidden size, and a quarter less arithmetic per step.
# - On short sequences such as names the two reach similar perplexities, and which one is ahead
#   changes with the hidden size, the epoch and the seed; compare them at the same number of
#   parameters, not only at the same hidden size, and on several seeds before calling one
#   better (Chung et al. 2014 and Jozefowicz et al. 2015 found no consistent winner).
# - The gates are readable: units whose keep-gate stays near 1 carry information along the
#   name; units whose gate flips at certain letters reset at them.
#
# ## Exercises
#
# 1. Derive the parameter counts printed above by hand for $E = 32$, $H = 128$, $V$ the
#    vocabulary size (embedding, recurrent layer, decoder).
# 2. *Inline question:* in the GRU, $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$. Compute
#    $\partial h_t / \partial h_{t-1}$ along the path through $z_t \odot h_{t-1}$ only. Why does
#    this path help against vanishing gradients, like the LSTM's $f_t \odot c_{t-1}$
#    (notebook 4)?
# 3. PyTorch's GRU applies the reset gate *after* the recurrent product, $r_t \odot (W_{hn} h_{t-1} + b_{hn})$;
#    Cho et al.'s original applies it before, $W_{hn} (r_t \odot h_{t-1})$. Are the two the same
#    function class? What changes in the backward pass?
# 4. Write the GRU step's forward and backward pass yourself and check them: the GRU step
#    exercise (`scratchlm exercise list` names it) compares your gradients with the reference
#    layer and with finite differences. The LSTM step and sequence exercises go with it.
# 5. Train both cells with `scratchlm train --cell gru` and `--cell lstm` on tiny Shakespeare
#    with truncated BPTT. Does the picture change on long sequences?
# 6. Set the LSTM's forget-gate bias to 1 at initialisation (Jozefowicz et al. 2015) and
#    retrain. Does it change the curves above?
