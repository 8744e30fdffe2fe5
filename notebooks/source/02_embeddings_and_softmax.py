# %% [markdown]
# # 2. From one-hot vectors to embeddings, and the softmax
#
# A language model reads tokens as integer ids and writes a probability distribution over the
# next id. This notebook follows one token through both ends of the model:
#
# 1. **In:** the one-hot vector of a token times a weight matrix is a row of that matrix, so an
#    *embedding* is a lookup, and its gradient is a *scatter-add*.
# 2. **Out:** the softmax turns scores into probabilities; a *temperature* cools or warms them.
# 3. **Choosing:** sampling from the distribution by the *inverse CDF*.
#
# Everything runs on the engine's own code: `scratchlm.layers.embedding`,
# `scratchlm.sampling` and `scratchlm.plot`.

# %%
%matplotlib inline
import os
import time

import numpy as np

from scratchlm import plot
from scratchlm.data import load_corpus
from scratchlm.layers.embedding import embedding_backward, embedding_forward
from scratchlm.sampling import filtered_probs, sample_categorical, softmax
from scratchlm.text import CharTokenizer

# CI runs every notebook with SCRATCHLM_NOTEBOOK_SMALL=1: the same steps on smaller sizes.
SMALL = os.environ.get("SCRATCHLM_NOTEBOOK_SMALL") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## The data: Finnish first names
#
# The names of the Finnish name-day calendar (750 names), read character by character. The
# tokenizer's vocabulary is the four special tokens followed by the sorted characters.

# %%
corpus = load_corpus("finnish-names")
tokenizer = CharTokenizer.fit(corpus.whole())
V = len(tokenizer)
print(corpus)
print("vocabulary size V =", V)
print("".join(tokenizer.vocab.itos[4:]))

# %% [markdown]
# ## One-hot times a matrix is a row of the matrix
#
# Write token $w$ as the one-hot vector $e_w \in \{0, 1\}^V$ (a single 1 at position $w$). The
# first layer of a neural model multiplies it by a weight matrix $W \in \mathbb{R}^{V \times E}$:
#
# $$ x = e_w^\top W = W_{w,:} $$
#
# All products with the zeros vanish: the result is row $w$ of $W$. So the one-hot product is
# never computed; the model *looks up* the row. $W$ is then called the **embedding matrix** and
# its rows the **embeddings** of the tokens.

# %%
E = 8
W = rng.normal(size=(V, E))
ids = np.array(tokenizer.encode("Aadolf"))
one_hot = np.eye(V)[ids]                       # (6, V): one row per character
print("ids:", ids)
print("one-hot product equals the lookup:", np.allclose(one_hot @ W, W[ids]))

out, cache = embedding_forward(ids[None, :], W)  # the engine's layer: (B, T) ids -> (B, T, E)
print("embedding_forward output shape:", out.shape, "equal:", np.allclose(out[0], W[ids]))

# %% [markdown]
# The lookup costs $E$ copies per token; the product costs $V \cdot E$ multiply-adds per token.
# For a word-level vocabulary the difference is large:

# %%
vocab_words = 2_000 if SMALL else 20_000
embed_dim = 32 if SMALL else 256
tokens = 200 if SMALL else 2_000
W_big = rng.normal(size=(vocab_words, embed_dim)).astype(np.float32)
word_ids = rng.integers(0, vocab_words, tokens)


def best_time(fn, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


one_hot_words = np.eye(vocab_words, dtype=np.float32)[word_ids]
t_product = best_time(lambda: one_hot_words @ W_big)
t_lookup = best_time(lambda: W_big[word_ids])
print(f"V = {vocab_words}, E = {embed_dim}, {tokens} tokens")
print(f"one-hot product: {t_product * 1e3:8.3f} ms")
print(f"lookup:          {t_lookup * 1e3:8.3f} ms   ({t_product / t_lookup:.0f} times faster)")

# %% [markdown]
# ## The gradient of a lookup is a scatter-add
#
# With the one-hot form the gradient is easy to write: for $x_n = e_{w_n}^\top W$,
#
# $$ \frac{\partial L}{\partial W} = \sum_n e_{w_n} \frac{\partial L}{\partial x_n}, $$
#
# i.e. the upstream gradient of position $n$ is **added** to row $w_n$. A token that occurs
# twice gets both gradients. The tempting NumPy line `dW[ids] += dout` is wrong exactly then:
# fancy-index assignment writes each repeated row once, and one of the gradients is lost.
# Writing the right one is the embedding exercise (see the end of this notebook); here the
# engine's layer, `embedding_backward`, is the reference. "Annikki" repeats three letters:

# %%
ids = np.array(tokenizer.encode("Annikki"))
dout = rng.normal(size=(1, len(ids), E))
_, cache = embedding_forward(ids[None, :], W)

by_layer = embedding_backward(dout, cache)          # the engine: a scatter-add
wrong = np.zeros_like(W)
wrong[ids] += dout[0]                               # loses repeated rows

print("dW[ids] += dout equals the layer:", np.allclose(wrong, by_layer))
for char in "Ankin":
    row = tokenizer.vocab.stoi[char]
    print(f"row of {char!r}: occurs {np.sum(ids == row)} times; rows equal: {np.allclose(wrong[row], by_layer[row])}")

# %% [markdown]
# ## The softmax
#
# At the other end, the model gives a score (logit) $z_v$ for every token $v$, and the softmax
# turns the scores into a distribution:
#
# $$ p_v = \frac{\exp z_v}{\sum_{u} \exp z_u}. $$
#
# Computed as written, $\exp$ overflows for scores above about 709 (float64). Subtracting the
# largest score first changes nothing, because the factor $e^{-\max z}$ cancels, but keeps every
# exponent at or below 0:
#
# $$ p_v = \frac{\exp(z_v - \max z)}{\sum_u \exp(z_u - \max z)}. $$

# %%
z = np.array([1000.0, 1001.0, 1002.0])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(z) / np.exp(z).sum()
print("naive:  ", naive)
print("stable: ", softmax(z), "(scratchlm.sampling.softmax)")
print("same as softmax of z - 1000:", softmax(z - 1000))

# %% [markdown]
# ## Temperature: cooling and warming a distribution
#
# Dividing the scores by a temperature $T > 0$ before the softmax,
#
# $$ p_v(T) = \frac{\exp(z_v / T)}{\sum_u \exp(z_u / T)}, $$
#
# **cools** the distribution for $T < 1$ (the largest score takes more of the mass; $T \to 0$
# is the argmax) and **warms** it for $T > 1$ (towards uniform as $T \to \infty$); $T = 1$ is
# the model itself. As scores we take the log relative frequencies of the letter that follows
# `a` in the training names (a bigram model, counted here in three lines), and draw the twelve
# most frequent letters.

# %%
follower_counts = {}
for name in corpus.train:
    for current, following in zip(name.lower(), name.lower()[1:] + "$"):
        if current == "a":
            follower_counts[following] = follower_counts.get(following, 0) + 1
letters = sorted(follower_counts, key=follower_counts.get, reverse=True)[:12]
scores = np.log(np.array([follower_counts[c] for c in letters], dtype=float))
print("letters after 'a' ($ = end of name):", " ".join(letters))
plot.temperature_distributions(scores, [0.5, 1.0, 2.0], labels=letters,
                               title="next letter after 'a': cooling (T = 0.5) and warming (T = 2)")

# %% [markdown]
# The entropy $H(p) = -\sum_v p_v \log p_v$ measures the spread: it goes from 0 (one certain
# token, $T \to 0$) to $\log V$ (uniform, $T \to \infty$).

# %%
from matplotlib.figure import Figure

temperatures = np.logspace(-2, 2, 60)
entropies = []
for temperature in temperatures:
    p = filtered_probs(scores[None, :], temperature=temperature)[0]
    entropies.append(-np.sum(p[p > 0] * np.log(p[p > 0])))
fig = Figure(figsize=(6, 3.2), layout="constrained")
ax = fig.subplots()
ax.semilogx(temperatures, entropies)
ax.axhline(np.log(len(scores)), color="black", linestyle="--", linewidth=0.8, label="log V (uniform)")
ax.axvline(1.0, color="gray", linewidth=0.8)
ax.set(xlabel="temperature T", ylabel="entropy (nats)", title="entropy of softmax(z / T)")
ax.legend()
fig

# %% [markdown]
# ## Sampling by the inverse CDF
#
# To draw a token from $p$, stack the probabilities end to end on $[0, 1)$: token $v$ owns the
# interval $[c_{v-1}, c_v)$ of the cumulative sums $c_v = p_1 + \dots + p_v$. Draw
# $u \sim U[0, 1)$ and take the token whose interval holds it, the first $v$ with $c_v > u$.
# The interval of $v$ has length $p_v$, so $v$ comes out with probability $p_v$.
# `scratchlm.sampling.sample_categorical` does exactly this (with `np.searchsorted`).

# %%
p = filtered_probs(scores[None, :], temperature=1.0)[0]
cdf = np.cumsum(p)
draws = rng.random(5)
fig = Figure(figsize=(7, 3.2), layout="constrained")
ax = fig.subplots()
# each letter's bar spans its interval [c_{v-1}, c_v) of [0, 1): its height is p_v
ax.bar(np.arange(len(p)), p, bottom=cdf - p, color="tab:blue", alpha=0.4, label="interval of letter v")
for u in draws:
    chosen = int(np.searchsorted(cdf, u, side="right"))
    ax.axhline(u, color="tab:red", linewidth=0.6)
    ax.plot(chosen, u, "o", color="tab:red")
ax.set_xticks(np.arange(len(p)), letters)
ax.set(ylabel="u ~ U[0, 1)", ylim=(0, 1), title="inverse CDF: each draw u (red) lands in one letter's interval")
ax.legend(loc="upper left")
fig

# %% [markdown]
# Drawn many times, the frequencies approach $p$:

# %%
num_draws = 2_000 if SMALL else 100_000
samples = sample_categorical(np.repeat(p[None, :], num_draws, axis=0), rng)
frequencies = np.bincount(samples, minlength=len(p)) / num_draws
fig = Figure(figsize=(7, 3.2), layout="constrained")
ax = fig.subplots()
positions = np.arange(len(p))
ax.bar(positions - 0.2, p, width=0.4, label="p (model)")
ax.bar(positions + 0.2, frequencies, width=0.4, label=f"frequency in {num_draws:,} draws")
ax.set_xticks(positions, letters)
ax.legend()
print("largest difference between p and the frequencies:", np.abs(frequencies - p).max().round(4))
fig

# %% [markdown]
# ## What to take away
#
# - An embedding layer is a one-hot product done as a lookup; its backward pass must *add* the
#   gradients of repeated tokens.
# - The softmax is computed after subtracting the maximum score; the temperature divides the
#   scores before it.
# - Sampling is one uniform number and a search in the cumulative sums.
#
# ## Exercises
#
# The checker exercises for this lecture (`scratchlm exercise list` names them): the embedding
# forward and backward passes, and the softmax cross-entropy with a padding mask (its forward,
# stable by log-sum-exp, and its backward). Copy the templates with
# `scratchlm exercise copy my_exercises`, write the bodies, and check each with
# `scratchlm exercise check NAME my_exercises/FILE.py`. Then:
#
# 1. *Inline question:* `dW[ids] += dout` is right when no id repeats. For a batch of $B \cdot T$
#    ids drawn uniformly from $V$, how likely is a repeat when $V = 65$, $B = 32$, $T = 100$? So
#    how often does the tempting line go wrong in practice?
# 2. The derivative of the mean cross-entropy $L = -\frac{1}{N} \sum_n \log p_{n, y_n}$ with
#    respect to the logits is $\frac{1}{N}(p_n - e_{y_n})$. Derive it from the softmax, and say
#    what changes when some positions are padding and must not count.
# 3. Show that subtracting $\max z$ leaves the softmax unchanged. Why subtract the maximum and
#    not, say, the mean?
# 4. Show that $\lim_{T \to 0} \mathrm{softmax}(z / T)$ is the one-hot vector of the argmax
#    (when it is unique) and $\lim_{T \to \infty}$ the uniform distribution. What happens
#    at $T \to 0$ with a tie?
# 5. The sampling filters (temperature, top-$k$, top-$p$) are an exercise too: write them and
#    let the checker compare your distributions (notebook 6 uses them).

