# %% [markdown]
# # 5. A character-level LSTM on tiny Shakespeare
#
# The model of Karpathy's "The Unreasonable Effectiveness of Recurrent Neural Networks" (2015)
# on the text of his char-rnn: one million characters of Shakespeare, read one character at a
# time. This notebook
#
# 1. cuts the text into parallel streams and trains with **truncated BPTT**;
# 2. shows **samples as training goes**, from babble to something that looks like a play;
# 3. draws **hidden-unit activations over the text**, to look for interpretable cells as
#    Karpathy, Johnson & Fei-Fei (2015, "Visualizing and Understanding Recurrent Networks") did.
#
# The shipped settings (one 256-unit LSTM layer, two epochs) take from under 2 minutes on an idle
# 2-core CPU to over 10 minutes on a busy one (measured: 100 s idle, 6 to 12 minutes shared with
# other jobs). With `SCRATCHLM_NOTEBOOK_SMALL=1` the same steps run on a slice of the text in
# seconds.

# %%
%matplotlib inline
import os

import numpy as np

from scratchlm import plot
from scratchlm.data import load_corpus
from scratchlm.layers.embedding import embedding_forward
from scratchlm.layers.lstm import lstm_step_forward
from scratchlm.models import RNNLM
from scratchlm.sampling import generate
from scratchlm.train.loop import Trainer, TrainConfig
from scratchlm.train.prepare import encode_corpus, fit_tokenizer
from scratchlm.train.tbptt import tbptt_windows

SMALL = os.environ.get("SCRATCHLM_NOTEBOOK_SMALL") == "1"

if SMALL:
    sizes = dict(train_chars=20_000, valid_chars=3_000, hidden=32, embed=16, batch=8, bptt=32, epochs=1)
else:
    sizes = dict(train_chars=None, valid_chars=None, hidden=256, embed=64, batch=32, bptt=100, epochs=2)
sizes

# %% [markdown]
# ## The data
#
# The vocabulary is the set of characters (65 of them, plus the four special tokens). The
# standard split is the first 90% of the text for training and the last 10% for validation.

# %%
corpus = load_corpus("tinyshakespeare")
tokenizer = fit_tokenizer(corpus, "char")
train_ids, valid_ids, _ = encode_corpus(tokenizer, corpus)
train_ids, valid_ids = train_ids[: sizes["train_chars"]], valid_ids[: sizes["valid_chars"]]
print(corpus)
print(f"vocabulary: {len(tokenizer)} tokens; training on {len(train_ids):,} characters, "
      f"validating on {len(valid_ids):,}")
print(corpus.train[:250])

# %% [markdown]
# ## Truncated backpropagation through time
#
# Backpropagating through a million steps is neither affordable nor useful. The stream is cut
# into $B$ parallel streams (one per batch row), and these are read in windows of $k$ steps
# (`bptt`). Each window is one forward and backward pass and one update; the hidden state at the
# end of a window is carried into the next one as a value, but the gradient stops at the window
# boundary (`scratchlm.train.tbptt.detach_state` is that cut).
#
# $$ \underbrace{x_1 \dots x_k}_{\text{window 1}} \;\Big|\; \underbrace{x_{k+1} \dots x_{2k}}_{\text{window 2}} \;\Big|\; \dots
#    \qquad h_k \text{ flows forward across } |,\ \partial L / \partial h_k \text{ does not flow back.} $$

# %%
streams = len(train_ids) // sizes["batch"]
windows = tbptt_windows(streams - 1, sizes["bptt"])
print(f"{sizes['batch']} streams of {streams:,} characters -> {len(windows)} windows of {sizes['bptt']} steps per epoch")
print("first windows (first step, stop):", [(w.first, w.stop) for w in windows[:4]])

# %% [markdown]
# ## Training, with samples along the way
#
# `scratchlm.train.loop.Trainer` runs the epochs: Adam, gradient-norm clipping at 5, and the
# validation perplexity after each epoch. A callback draws a sample (temperature 0.8) at a few
# steps, so we can watch the model learn. The sample continues a short passage of the validation
# text: trained on carried states, the model has only ever started from the zero state at the very
# beginning of the streams, so a few real lines first bring its state to where it normally is.

# %%
model = RNNLM(len(tokenizer), embed_dim=sizes["embed"], hidden_size=sizes["hidden"], cell="lstm", seed=0)
config = TrainConfig(epochs=sizes["epochs"], batch_size=sizes["batch"], bptt=sizes["bptt"],
                     optimizer="adam", lr=2e-3, clip_norm=5.0, eval_batch_size=16)
total_steps = sizes["epochs"] * len(windows)
sample_steps = sorted({1, total_steps // 20, total_steps // 5, total_steps // 2, total_steps} - {0})
prompt = tokenizer.encode(corpus.valid[:200])
samples = []


def take_sample(info):
    if info["step"] in sample_steps:
        model.eval()
        ids = generate(model, prompt, max_len=60 if SMALL else 200, temperature=0.8, rng=0)[0]
        model.train()
        samples.append((info["step"], round(info["loss"], 3), tokenizer.decode(ids)))


trainer = Trainer(model, tokenizer.to_json(), train_ids, valid_ids, "stream", config,
                  progress=False, on_step=take_sample)
history = trainer.fit()
print(f"{model.num_parameters():,} parameters; validation perplexity per epoch:",
      [round(p, 2) for p in history["val_ppl"]])
print("validation bits per character:", [round(b, 3) for b in history["val_bits"]])

# %%
plot.loss_curves(history["step_loss"], history["val_loss"], valid_steps=history["epoch_end_step"],
                 title="character LSTM on tiny Shakespeare (truncated BPTT)")

# %% [markdown]
# The perplexity of a character model is per character: a uniform guess over the 65 characters
# would be 65. Samples at the steps marked (`loss` is the training loss of that window):

# %%
plot.sample_table(samples, ["step", "loss", "sample (T = 0.8)"], max_chars=110)

# %%
for step, loss, text in samples:
    print(f"--- step {step} (loss {loss}) ---")
    print(text)

# %% [markdown]
# ## Looking inside: hidden units over the text
#
# Karpathy, Johnson & Fei-Fei found LSTM cells with a clear job: one that tracks the position
# in the line (it counts towards the line break), one that switches on inside quotes, one that
# follows the depth of nested brackets in code. Their method is simple: run the model over text
# and colour every character by one cell's value $\tanh(c_t)$ after reading it.
#
# We run the trained LSTM over a validation passage step by step (the layer's own step function)
# and keep $\tanh(c_t)$ for every unit.

# %%
passage = corpus.valid[: 400 if SMALL else 1200]
ids = np.array(tokenizer.encode(passage))
layer = {name: model.params[f"rnn.{name}_l0"] for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
embedded, _ = embedding_forward(ids[None, :], model.params["embedding.weight"])   # (1, T, E)
zeros = np.zeros((1, model.hidden_size), dtype=embedded.dtype)
state, cells = (zeros, zeros), []                  # (h_0, c_0)
for t in range(len(ids)):
    state, _ = lstm_step_forward(embedded[:, t], state, layer)
    cells.append(np.tanh(state[1][0]))
cells = np.array(cells, dtype=np.float64)   # (T, H): tanh(c_t) of every unit
cells.shape

# %% [markdown]
# Which units follow something we can name? Two features of every character:
#
# - **position in the line**: characters since the last line break;
# - **speaker name**: the character belongs to a line that ends in a colon (`First Citizen:`).
#
# For each feature, the unit whose value correlates most strongly with it:

# %%
position_in_line, in_speaker_line = [], []
position = 0
for line in passage.split("\n"):
    is_speaker = line.endswith(":")
    for _ in line + "\n":
        position_in_line.append(position)
        in_speaker_line.append(float(is_speaker))
        position += 1
    position = 0
features = {"position in line": np.array(position_in_line[: len(ids)], dtype=float),
            "speaker name": np.array(in_speaker_line[: len(ids)])}


def correlations(feature):
    centred = cells - cells.mean(axis=0)
    f = feature - feature.mean()
    return centred.T @ f / (np.linalg.norm(centred, axis=0) * np.linalg.norm(f) + 1e-12)


best_units = {}
for name, feature in features.items():
    r = correlations(feature)
    unit = int(np.argmax(np.abs(r)))
    best_units[name] = unit
    print(f"{name:<17}: unit {unit:3d}, correlation {r[unit]:+.2f}")

# %%
name = "position in line"
plot.activation_heatmap(passage, cells[:, best_units[name]], width=70,
                        title=f"unit {best_units[name]}: the unit most correlated with the {name}")

# %%
name = "speaker name"
plot.activation_heatmap(passage, cells[:, best_units[name]], width=70,
                        title=f"unit {best_units[name]}: the unit most correlated with the {name}")

# %% [markdown]
# For contrast, an arbitrary unit. Most units look like this: they respond to many things at once
# and have no single, nameable job (the interpretable ones are the exception, as in the paper).

# %%
plot.activation_heatmap(passage, cells[:, 0], width=70, title="unit 0, for contrast")

# %% [markdown]
# ## What to take away
#
# - Truncated BPTT reads a long stream in windows: the state flows across a window boundary,
#   the gradient does not, so the model can remember further back than it is trained to.
# - The samples show what is learned first (letters and spaces, then words, then the layout of
#   a play: speaker names, line breaks) long before the perplexity says the model is good.
# - A few hidden units have a job one can name; most do not.
#
# ## Exercises
#
# The checker exercises for this lecture (`scratchlm exercise list` names them): the
# truncated-BPTT stream batcher (the windows' values and the state carried between them), the
# LSTM sequence forward and backward, and the temporal affine decoder. Copy the templates with
# `scratchlm exercise copy my_exercises` and check each with
# `scratchlm exercise check NAME my_exercises/FILE.py`. Then:
#
# 1. *Inline question:* with $B$ parallel streams, the text is cut into $B$ pieces read side by
#    side. Why not cut it into random windows and shuffle them, as one would for images? What
#    would the carried state then contain?
# 2. `bptt` sets how far back the gradient reaches: train with 25 and with 200 (same number of
#    characters) and compare the validation perplexity (notebook 4 explains why the gradient
#    fades anyway).
# 3. Train longer, or with two layers (`num_layers=2`) and dropout 0.2. The samples get better
#    well past the point where the validation perplexity seems to flatten: find that point.
# 4. Find a unit that tracks whether the text is inside a word, or the distance to the next
#    line break, by correlating the activations with a signal you compute from the text, as
#    the cells above do for the position in the line.
# 5. The same run from the command line:
#    `scratchlm train tinyshakespeare --hidden-size 256 --embed-dim 64 --batch-size 32 --bptt 100 --epochs 2 --dropout 0`.
#    Compare its validation bits per character with the notebook's.
