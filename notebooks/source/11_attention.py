# %% [markdown]
# # 11. Attention
#
# The encoder-decoder of notebook 8 squeezes the whole source into one vector, the encoder's
# last state, and the decoder has to make do with it. Attention (Bahdanau, Cho and Bengio 2015;
# Luong, Pham and Manning 2015) lets every decoder step look back at **all** encoder states and
# choose which to read. This notebook
#
# 1. writes down the **equations**: scores, the softmax over the source positions with a mask,
#    the context vector and Luong's attentional state;
# 2. compares the **three score functions** of `scratchlm.layers.attention`;
# 3. works a **tiny example by hand** in NumPy and checks it against the layer (and the layer's
#    backward pass against finite differences);
# 4. runs the **bottleneck experiment**: reversing strings of 4 to 20 letters with and without
#    attention, and draws what each output step read as a heat map, for reversal and for dates.

# %%
%matplotlib inline
import os

import numpy as np

from scratchlm import plot, sampling
from scratchlm.data import tasks
from scratchlm.gradcheck import numerical_gradient
from scratchlm.layers.attention import SCORES, attention_backward, attention_forward, init_attention_params
from scratchlm.models.seq2seq import Seq2Seq
from scratchlm.text.vocab import Vocabulary
from scratchlm.train.clipping import clip_grad_norm
from scratchlm.train.optimizers import Adam

SMALL = os.environ.get("SCRATCHLM_NOTEBOOK_SMALL") == "1"
attention_steps, generated_pairs = (20, 2000) if SMALL else (1200, 40000)

# %% [markdown]
# ## 1. The equations
#
# The encoder has read the source $x_1 \dots x_S$ into states $s_1 \dots s_S$ (the *keys*, which
# are also the *values* that get averaged). At decoder step $t$ the decoder's state $h_t$ (the
# *query*) scores every source position, the scores become weights by a softmax **over the
# source positions $j$**, and the weighted average of the encoder states is the context $c_t$:
#
# $$e_{tj} = \mathrm{score}(h_t, s_j), \qquad
#   \alpha_{tj} = \frac{m_j \exp(e_{tj})}{\sum_{j'=1}^{S} m_{j'} \exp(e_{tj'})}, \qquad
#   c_t = \sum_{j=1}^{S} \alpha_{tj} s_j$$
#
# $m_j$ is the source mask: 1 on real positions, 0 on padding (a batch of sources of different
# lengths is padded to one length $S$). In code the padded scores are set to $-\infty$ before an
# ordinary softmax, so $\exp$ gives exactly 0 there; each row $\alpha_t$ sums to 1 over the real
# positions. Luong's decoder then mixes what it read with its own state into the *attentional
# state* and predicts from that:
#
# $$\tilde h_t = \tanh(W_c [c_t; h_t] + b_c), \qquad P(y_t \mid y_{<t}, x) = \mathrm{softmax}(W_{out} \tilde h_t + b_{out})$$
#
# (`Seq2Seq(attention=...)`: `decoder.combine.weight` is $W_c$, of shape $(H, 2H)$). In the
# batch-first arrays of `scratchlm` (vectors are rows): queries $(B, T, H_q)$, keys $(B, S, H_k)$,
# mask $(B, S)$, weights $(B, T, S)$, context $(B, T, H_k)$.
#
# ## 2. Three score functions
#
# | `score` | $\mathrm{score}(h, s)$ | parameters | from |
# | --- | --- | --- | --- |
# | `"dot"` | $h \cdot s$ | none (needs $H_q = H_k$) | Luong |
# | `"general"` | $h \cdot (W s)$ | $W$: $(H_q, H_k)$ | Luong |
# | `"additive"` | $v \cdot \tanh(W_q h + W_k s)$ | $W_q$: $(A, H_q)$, $W_k$: $(A, H_k)$, $v$: $(1, A)$ | Bahdanau ("concat" in Luong) |
#
# "dot" asks the encoder and decoder to agree on one space; "general" learns a bilinear map
# between the two; "additive" is a small one-layer network per pair $(t, j)$, so it costs an
# $A$-vector per pair where the other two cost a dot product. The same queries and keys under
# each score (random parameters, so the numbers only show the shapes and that each row sums to 1):

# %%
rng = np.random.default_rng(0)
queries = rng.normal(size=(1, 2, 3))                  # B = 1, T = 2 decoder steps, H_q = 3
keys = rng.normal(size=(1, 4, 3))                     # S = 4 source positions, H_k = 3
mask = np.array([[True, True, True, False]])          # the last source position is padding
for score in SCORES:
    params = init_attention_params(score, 3, 3, attention_size=5, rng=1, dtype="float64")
    context, weights, _ = attention_forward(queries, keys, mask, params, score)
    count = sum(p.size for p in params.values())
    print(f"{score:9s} {count:2d} parameters  alpha_1 = {np.round(weights[0, 0], 3)}  "
          f"row sums {weights.sum(axis=-1).round(6)[0]}")

# %% [markdown]
# ## 3. A tiny example by hand
#
# Two decoder steps, three source positions of which the last is padding, the "general" score
# with $W = [[1, 0, 0], [0, 1, 0]]$, so $W s_j$ is the first two numbers of $s_j$:
#
# $$q_1 = (1, 0),\ q_2 = (0, 1); \qquad s_1 = (1, 0, 0),\ s_2 = (0, 2, 0),\ s_3 = (1, 1, 1)\ \text{(padding)}$$
#
# $W s_1 = (1, 0)$, $W s_2 = (0, 2)$, $W s_3 = (1, 1)$, so $e_1 = (1, 0, 1)$ and $e_2 = (0, 2, 1)$.
# The padded $e_{t3}$ is dropped, and
# $\alpha_1 = (e^1, e^0) / (e^1 + e^0) = (0.731, 0.269, 0)$,
# $\alpha_2 = (e^0, e^2) / (e^0 + e^2) = (0.119, 0.881, 0)$,
# $c_1 = 0.731\, s_1 + 0.269\, s_2 = (0.731, 0.538, 0)$. The same, step by step in NumPy:

# %%
q = np.array([[[1.0, 0.0], [0.0, 1.0]]])                               # (B, T, H_q) = (1, 2, 2)
s = np.array([[[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [1.0, 1.0, 1.0]]])    # (B, S, H_k) = (1, 3, 3)
m = np.array([[True, True, False]])                                    # (B, S)
W = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])                       # (H_q, H_k)

e = np.einsum("btq,qk,bsk->bts", q, W, s)          # e_tj = q_t . (W s_j)
e = np.where(m[:, None, :], e, -np.inf)            # padding: weight exp(-inf) = 0
alpha = np.exp(e) / np.exp(e).sum(axis=-1, keepdims=True)
c = alpha @ s                                      # c_t = sum_j alpha_tj s_j
print("alpha =\n", alpha[0].round(3))
print("c =\n", c[0].round(3))

context, weights, cache = attention_forward(q, s, m, {"weight": W}, "general")
np.testing.assert_allclose(weights, alpha, rtol=1e-12)
np.testing.assert_allclose(context, c, rtol=1e-12)
print("scratchlm.layers.attention gives the same alpha and c")

# %% [markdown]
# The backward pass runs the same equations in reverse. The keys are used twice (as values in
# $c_t$ and inside the scores), so $\partial L / \partial s_j$ collects two terms, and because every
# $\alpha_{tj}$ shares its denominator with the whole row, the softmax's Jacobian couples the
# scores of one row:
#
# $$\frac{\partial L}{\partial \alpha_{tj}} = \frac{\partial L}{\partial c_t} \cdot s_j, \qquad
#   \frac{\partial L}{\partial e_{tj}} = \alpha_{tj} \Big(\frac{\partial L}{\partial \alpha_{tj}}
#   - \sum_{j'} \alpha_{tj'} \frac{\partial L}{\partial \alpha_{tj'}}\Big)$$
#
# Writing the rest (the gradients of $q$, $s$ and $W$) is the `attention_backward` exercise. Here
# the layer's backward pass is checked against centred finite differences of
# $J = \sum_t \frac{\partial L}{\partial c_t} \cdot c_t$ for a random upstream gradient, in float64:

# %%
dcontext = rng.normal(size=context.shape)
dq, ds, dparams = attention_backward(dcontext, cache)


def J():
    return float((attention_forward(q, s, m, {"weight": W}, "general")[0] * dcontext).sum())


for name, analytic, array in (("dq", dq, q), ("ds", ds, s), ("dW", dparams["weight"], W)):
    numeric = numerical_gradient(J, array)
    print(f"{name}: max |analytic - numeric| = {np.abs(analytic - numeric).max():.1e}")
print("the padded key s_3 gets no gradient:", ds[0, 2])

# %% [markdown]
# ## 4. The bottleneck and its fix
#
# Without attention the encoder's final state is the only thing the decoder learns about the
# source: one vector of $H$ numbers for the whole string. That is the *bottleneck*: the longer
# the string, the less of it fits. We train two small encoder-decoders ($H = 32$) for the same
# number of steps to reverse strings of 4 to 20 letters, one with "general" attention and one
# without, and score them on held-out strings by length.

# %%
def train_seq2seq(model, pairs, vocab, steps):
    optimizer = Adam(lr=3e-3)
    batches = tasks.batches_by_source_length(pairs, 64, rng=0)
    while len(batches) < steps:
        batches += tasks.batches_by_source_length(pairs, 64, rng=len(batches))
    for batch in batches[:steps]:
        source, target, mask = tasks.encode_pairs(batch, vocab)
        _, grads = model.loss_and_grads(source, target, mask)
        clip_grad_norm(grads, 5.0)
        optimizer.step(model.params, grads)
    return model


def greedy(model, vocab, source, max_len):
    ids = sampling.generate(model.decoder(vocab.encode(list(source))), greedy=True, max_len=max_len)[0]
    return "".join(vocab.decode(ids))


letters10 = "abcdefghij"
reverse_vocab = Vocabulary(list(letters10))
test_lengths = [4, 8, 12, 16, 20]
test_strings = {n: tasks.random_strings(3 if SMALL else 20, n, n, letters10, rng=n) for n in test_lengths}
unseen = {s for strings in test_strings.values() for s in strings}
reverse_pairs = [p for p in tasks.seq2seq_pairs("reverse", generated_pairs, 4, 20, letters10, rng=0) if p[0] not in unseen]
curves = {}
reversers = {}
for attention in (None, "general"):
    model = Seq2Seq(len(reverse_vocab), len(reverse_vocab), embed_dim=16, hidden_size=32, cell="lstm", seed=0,
                    attention=attention)
    reversers[attention] = train_seq2seq(model, reverse_pairs, reverse_vocab, attention_steps).eval()
    curves["attention (general)" if attention else "no attention"] = [
        np.mean([greedy(model, reverse_vocab, s, n + 2) == s[::-1] for s in test_strings[n]]) for n in test_lengths]
plot.accuracy_by_length(test_lengths, curves, title="reversing held-out strings, H = 32, greedy decoding")

# %% [markdown]
# Without attention the accuracy falls with the length; with attention it stays up. Which source
# letter did each output step read? Row $t$ of the heat map is $\alpha_t$ (it sums to 1).

# %%
example = test_strings[16][0]
output = greedy(reversers["general"], reverse_vocab, example, 18)
alpha = reversers["general"].attention_weights(np.array([reverse_vocab.encode(list(example))]),
                                               np.array([reverse_vocab.encode(list(output)) + [reverse_vocab.eos_id]]))[0]
plot.attention_heatmap(alpha, list(example), list(output) + ["<eos>"], title=f"{example} -> {output}")

# %% [markdown]
# The anti-diagonal is the reversal. Dates are a less regular task: the same date is written in
# many ways ("Tuesday, 3 March 1998", "03.03.1998", "Mar 3 1998", ...) and must come out as
# 1998-03-03 (`tasks.date_pairs`, generated with the standard library).

# %%
date_train, date_test = tasks.date_pairs(generated_pairs, rng=0), tasks.date_pairs(40 if SMALL else 200, rng=1)
date_vocab = Vocabulary(sorted({c for source, target in date_train + date_test for c in source + target}))
dater = train_seq2seq(Seq2Seq(len(date_vocab), len(date_vocab), embed_dim=16, hidden_size=32, cell="lstm", seed=0,
                              attention="general"), date_train, date_vocab, attention_steps).eval()
print(f"dates: {np.mean([greedy(dater, date_vocab, s, 12) == t for s, t in date_test]):.1%} of "
      f"{len(date_test)} held-out dates exactly right (greedy)")
source = "Saturday, 21 October 2073"
output = greedy(dater, date_vocab, source, 12)
alpha = dater.attention_weights(np.array([date_vocab.encode(list(source))]),
                                np.array([date_vocab.encode(list(output)) + [date_vocab.eos_id]]))[0]
plot.attention_heatmap(alpha, list(source), list(output) + ["<eos>"], title=f"{source} -> {output}")

# %% [markdown]
# ## What to take away
#
# - **Attention is a softmax-weighted average of the encoder states**, with weights from a score
#   of the decoder's state against each of them; the softmax runs over the source positions, and
#   the mask gives padding exactly zero weight ($-\infty$ before the softmax, not 0).
# - The three scores differ in what they learn: nothing ("dot"), a bilinear map ("general"), a
#   small network per pair ("additive", the most arithmetic per step).
# - In the backward pass the encoder states get gradient twice, as values and through the scores,
#   and the softmax's Jacobian couples all scores of a row; padded positions get none.
# - **Attention removes the bottleneck.** The plain encoder-decoder must squeeze the source into
#   one vector and fails as strings get longer; with attention each output step reads the source
#   position it needs (the heat maps show the reversal's anti-diagonal and, for dates, the year,
#   the month name and the day), and accuracy holds. `docs/models.md` has the full-size run
#   (lengths up to 30, greedy and beam search).
#
# ## Exercises
#
# 1. Write Luong's "general" attention yourself, forward and backward: the `attention_forward` and
#    `attention_backward` exercises (template `attention.py`). Copy the templates with
#    `scratchlm exercise copy my_exercises` and check them with
#    `scratchlm exercise check my_exercises/attention.py`; the checker compares your answer with
#    `scratchlm.layers.attention` and with finite differences, and names the usual mistakes
#    (the mask ignored, the softmax over the wrong axis, alpha treated as a constant, ...).
# 2. *Inline question:* the padded positions get the score $-\infty$ before the softmax. What goes
#    wrong if they get the score 0 instead, or if their weights are set to 0 after the softmax?
#    Work it out on the tiny example of part 3.
# 3. Redo the tiny example with the "dot" score (use $W s_j$ as the keys, so that $H_q = H_k$):
#    which $\alpha$ do you get, and why is it the same?
# 4. Give the reversal model `attention="dot"` and `"additive"` instead of `"general"`. Which
#    learns fastest, and what does each score function cost per decoder step, in multiplications?
# 5. Train both reversal models on longer strings (change the lengths of the task). At what
#    length does the model without attention fail, and does the one with attention hold up?
# 6. The heat map for dates reads the day, the month and the year out of order. Which source
#    positions does the step that writes the month read when the month is written as a number,
#    and when as a name?
