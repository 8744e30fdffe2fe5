# %% [markdown]
# # 6. Finnish first names: temperature, and four ways to decode
#
# A character-level LSTM learns the 750 names of the Finnish name-day calendar. Then we use it
# to *generate*, and see what the decoding rule does:
#
# 1. sampling with the prompt "Aadolf" at temperatures $T$ = 0.0001, 0.1, 0.5, 0.9, 1.0, 2.0
#    and 5.0, as in the lecture;
# 2. greedy decoding, top-$k$ sampling, top-$p$ (nucleus) sampling and beam search, side by side.
#
# Each name is one item: the model reads `<bos>`, then the letters, and must predict every letter
# and finally `<eos>` (the end of the name). Perplexity counts those predictions.

# %%
%matplotlib inline
import os

import numpy as np

from scratchlm import plot
from scratchlm.beam import beam_search
from scratchlm.data import load_corpus
from scratchlm.metrics import evaluate, token_log_probs
from scratchlm.models import RNNLM
from scratchlm.sampling import generate
from scratchlm.train.loop import Trainer, TrainConfig
from scratchlm.train.prepare import encode_corpus, fit_tokenizer

SMALL = os.environ.get("SCRATCHLM_NOTEBOOK_SMALL") == "1"
hidden, epochs = (32, 4) if SMALL else (128, 60)

# %% [markdown]
# ## Data and model

# %%
corpus = load_corpus("finnish-names")
tokenizer = fit_tokenizer(corpus, "char")
train_ids, valid_ids, test_ids = encode_corpus(tokenizer, corpus)
vocab = tokenizer.vocab
print(corpus, "| vocabulary:", len(tokenizer), "tokens")
print("training names:", ", ".join(corpus.train[:12]), "...")

model = RNNLM(len(tokenizer), embed_dim=32, hidden_size=hidden, cell="lstm", dropout=0.0 if SMALL else 0.2,
              seed=0, bos_id=vocab.bos_id, eos_id=vocab.eos_id)
config = TrainConfig(epochs=epochs, batch_size=32, optimizer="adam", lr=3e-3, clip_norm=5.0,
                     lr_schedule="plateau", patience=None if SMALL else 15)
history = Trainer(model, tokenizer.to_json(), train_ids, valid_ids, "lines", config, progress=False,
                  report_epochs=False).fit()
model.eval()
for index in range(0, len(history["epoch"]), max(1, len(history["epoch"]) // 6)):   # a few lines, not one per epoch
    print(f"epoch {history['epoch'][index]:3d}: training loss {history['train_loss'][index]:.3f}, "
          f"validation perplexity {history['val_ppl'][index]:.3f}")
print(f"best validation perplexity {min(history['val_ppl']):.3f}, after {len(history['epoch'])} epochs")
plot.loss_curves(history["step_loss"], history["val_loss"], valid_steps=history["epoch_end_step"],
                 title="character LSTM on Finnish names")

# %% [markdown]
# ## How good is it? Perplexity against counting baselines
#
# Per predicted character (the letters and `<eos>`) on the test names. Two baselines counted
# right here: the uniform guess over the vocabulary, and an add-one smoothed bigram model
# $P(w_t \mid w_{t-1}) = \frac{c(w_{t-1} w_t) + 1}{c(w_{t-1}) + V}$ (notebook 1 does n-grams
# properly).

# %%
V = len(tokenizer)
with_eos = [ids + [vocab.eos_id] for ids in test_ids]
neural = evaluate(model, with_eos)

counts = np.ones((V, V))                 # add-one: every bigram starts at 1
for ids in train_ids:
    sequence = [vocab.bos_id] + ids + [vocab.eos_id]
    for previous, current in zip(sequence, sequence[1:]):
        counts[previous, current] += 1
bigram = counts / counts.sum(axis=1, keepdims=True)
bigram_nll = -sum(np.log(bigram[p, c]) for ids in with_eos for p, c in zip([vocab.bos_id] + ids, ids))
num_tokens = sum(len(ids) for ids in with_eos)

print(f"uniform over V = {V}:  perplexity {V:.2f}")
print(f"add-one bigram:        perplexity {np.exp(bigram_nll / num_tokens):.2f}")
print(f"LSTM:                  perplexity {neural.perplexity:.2f}  ({neural.bits_per_token:.3f} bits per character)")

# %% [markdown]
# Where is the model surprised? The surprisal $-\log P(w_t \mid w_{<t})$ of every character of a
# test name: the first letter is hard, the end of the name easier.

# %%
from matplotlib.figure import Figure

name = corpus.test[0]
surprisal = -token_log_probs(model, tokenizer.encode(name) + [vocab.eos_id])
fig = Figure(figsize=(6, 3), layout="constrained")
ax = fig.subplots()
ax.bar(np.arange(len(surprisal)), surprisal)
ax.set_xticks(np.arange(len(surprisal)), list(name) + ["<eos>"])
ax.set(ylabel="surprisal (nats)", title=f"-log P(character | <bos> and the ones before): {name}")
fig

# %% [markdown]
# ## Temperature: the prompt "Aadolf"
#
# The model reads `<bos>` and the prompt, then samples the continuation from
# $\mathrm{softmax}(z / T)$ until it draws `<eos>` (the name ends there; an empty continuation
# means the model ended the name right after the prompt). Five samples per temperature.

# %%
prompt = tokenizer.encode("Aadolf")
temperatures = [0.0001, 0.1, 0.5, 0.9, 1.0, 2.0, 5.0]
rows = []
for temperature in temperatures:
    continuations = generate(model, prompt, n=5, max_len=20, temperature=temperature, rng=1)
    rows.append((temperature, "  ".join("Aadolf" + tokenizer.decode(ids) for ids in continuations)))
plot.sample_table(rows, ["T", "five samples continuing 'Aadolf'"], max_chars=120)

# %% [markdown]
# And fresh names (empty prompt) at the same temperatures. At $T \to 0$ every sample is the single
# most probable name; at $T = 1$ the samples follow the model's own distribution; at $T = 5$ the
# letters are close to uniform and the names stop looking Finnish.

# %%
rows = []
for temperature in temperatures:
    names = generate(model, [], n=6, max_len=20, temperature=temperature, rng=2)
    rows.append((temperature, "  ".join(tokenizer.decode(ids) or "(empty)" for ids in names)))
plot.sample_table(rows, ["T", "six fresh names"], max_chars=120)

# %% [markdown]
# ## Greedy, top-k, top-p and beam search
#
# - **Greedy**: always the most probable next letter. Deterministic, one answer.
# - **Top-k** sampling: sample among the $k$ most probable letters only (renormalised).
# - **Top-p** (nucleus) sampling: sample among the smallest set of letters whose probability
#   reaches $p$: few candidates where the model is sure, many where it is not.
# - **Beam search**: keep the $k$ best partial names (by total log-probability) at every step;
#   returns the most probable whole names it finds, which greedy can miss.
#
# For each, the names with their log-probability under the model, $\log P(\text{name}, \langle eos \rangle)$,
# the quantity beam search maximises (closer to 0 is more probable), and whether the name occurs
# in the training data.

# %%
training_names = set(corpus.train)


def log_prob(ids):
    return float(np.sum(token_log_probs(model, list(ids) + [vocab.eos_id])))


def describe(ids):
    name = tokenizer.decode(ids)
    marker = "*" if name in training_names else ""
    return f"{name}{marker} ({log_prob(ids):.1f})"


methods = {
    "greedy": generate(model, [], n=1, max_len=20, greedy=True),
    "top-k, k = 3": generate(model, [], n=5, max_len=20, top_k=3, rng=3),
    "top-p, p = 0.9": generate(model, [], n=5, max_len=20, top_p=0.9, rng=3),
    "sampling, T = 1": generate(model, [], n=5, max_len=20, rng=3),
    "beam search, width 5": [ids for ids, _ in beam_search(model, [], beam_width=5, max_len=20, n_best=5)],
}
rows = [(method, "  ".join(describe(ids) for ids in outputs)) for method, outputs in methods.items()]
plot.sample_table(rows, ["decoding", "names (log-probability; * = a training name)"], max_chars=140)

# %% [markdown]
# The same with a prompt, the first letters "Ma":

# %%
prompt = tokenizer.encode("Ma")
methods = {
    "greedy": generate(model, prompt, n=1, max_len=20, greedy=True),
    "top-k, k = 3": generate(model, prompt, n=5, max_len=20, top_k=3, rng=4),
    "top-p, p = 0.9": generate(model, prompt, n=5, max_len=20, top_p=0.9, rng=4),
    "beam search, width 5": [ids for ids, _ in beam_search(model, prompt, beam_width=5, max_len=20, n_best=5)],
}
for method, outputs in methods.items():
    print(f"{method:<22}", "  ".join("Ma" + tokenizer.decode(ids) for ids in outputs))

# %% [markdown]
# ## What to take away
#
# - Temperature trades fidelity for variety: low $T$ repeats the most probable names (often
#   training names), high $T$ invents freely and then produces nonsense.
# - Greedy and beam search *search* for probable names; top-$k$ and top-$p$ *sample*, cutting off
#   the improbable tail that makes plain sampling at $T = 1$ occasionally produce garbage.
# - Beam search finds names of higher total probability than greedy decoding; whether they are
#   better names is a different question (probable names are short and common).
#
# ## Exercises
#
# The checker exercises for this lecture (`scratchlm exercise list` names them): perplexity,
# the sampling filters (temperature, top-$k$, top-$p$; the checker compares your distributions,
# not your draws) and beam search. Copy the templates with `scratchlm exercise copy my_exercises`
# and check each with `scratchlm exercise check NAME my_exercises/FILE.py`. Then:
#
# 1. *Inline question:* the perplexity above counts `<eos>` as a predicted token but not `<bos>`.
#    Why? What would counting `<bos>` do to the perplexity?
# 2. Show that top-$k$ with $k = 1$ and top-$p$ with a very small $p$ are both greedy decoding.
#    Which setting of the temperature is greedy too?
# 3. Beam search maximises $\log P(\text{name}, \langle eos \rangle)$, which favours short names.
#    Divide the score by the length (length normalisation) and compare the names it returns.
# 4. How many of 1,000 names sampled at $T = 1$ are training names? At $T = 0.5$? What does the
#    answer say about memorisation?
# 5. Draw the surprisal figure for a name that is *not* Finnish (your own, or "Kevin"). Where is
#    the model surprised?

