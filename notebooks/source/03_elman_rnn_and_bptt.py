# %% [markdown]
# # 3. The Elman RNN and backpropagation through time
#
# A recurrent network reads a sequence one step at a time and keeps a hidden state $h_t$ that
# summarises what it has read. This notebook
#
# 1. draws the network **unrolled** in time, which turns it into an ordinary (deep) graph;
# 2. runs the **forward pass** of `scratchlm.layers.rnn` and checks a step against the equation;
# 3. derives **backpropagation through time** (BPTT), the same loop run backwards;
# 4. checks the gradients by **finite differences**, first of the layer, then of a whole
#    language model (`scratchlm.gradcheck`);
# 5. ends with exercises: writing the forward loop and BPTT yourself is one of them.

# %%
%matplotlib inline
import inspect
import os

import numpy as np
from matplotlib.figure import Figure

from scratchlm import gradcheck
from scratchlm.layers.rnn import rnn_backward, rnn_forward
from scratchlm.models import RNNLM

SMALL = os.environ.get("SCRATCHLM_NOTEBOOK_SMALL") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## The Elman RNN
#
# With input $x_t \in \mathbb{R}^E$ and hidden state $h_t \in \mathbb{R}^H$ (PyTorch's names
# and layout):
#
# $$ a_t = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}, \qquad h_t = \tanh(a_t). $$
#
# The same weights are used at every step. A language model reads $h_t$ through a decoder,
# $z_t = W_{dec} h_t + b_{dec}$, and is scored by the cross-entropy of the next token; the
# total loss sums (averages) over the steps, $L = \frac{1}{T}\sum_t L_t$.
#
# ## Unrolled in time
#
# Copying the network once per step gives a feed-forward graph: every arrow is one use of a
# weight matrix. Forward, values flow up and to the right. Backward, the gradient of $h_t$
# collects from two places: from its own loss $L_t$ (up) and from the next step $h_{t+1}$
# (right) — the red arrows.

# %%
def unrolled_graph(steps=4):
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    ax.set(xlim=(-0.4, steps + 0.5), ylim=(-0.4, 2.4))
    box = dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="black")
    forward_arrow = dict(arrowstyle="->", color="black")
    backward_arrow = dict(arrowstyle="->", color="tab:red", linestyle="--")
    ax.text(0, 1, "$h_0$", ha="center", va="center", bbox=box)
    for t in range(1, steps + 1):
        ax.text(t, 0, f"$x_{t}$", ha="center", va="center", bbox=box)
        ax.text(t, 1, f"$h_{t}$", ha="center", va="center", bbox=box)
        ax.text(t, 2, f"$L_{t}$", ha="center", va="center", bbox=box)
        ax.annotate("", xy=(t, 0.8), xytext=(t, 0.2), arrowprops=forward_arrow)
        ax.annotate("", xy=(t, 1.8), xytext=(t, 1.2), arrowprops=forward_arrow)
        ax.annotate("", xy=(t - 0.2, 1.05), xytext=(t - 0.8, 1.05), arrowprops=forward_arrow)
        ax.annotate("", xy=(t + 0.08, 1.2), xytext=(t + 0.08, 1.8), arrowprops=backward_arrow)
        ax.annotate("", xy=(t - 0.8, 0.92), xytext=(t - 0.2, 0.92), arrowprops=backward_arrow)
        ax.text(t - 0.5, 1.12, "$W_{hh}$", ha="center", fontsize=8)
        ax.text(t + 0.12, 0.45, "$W_{ih}$", fontsize=8)
    ax.set_title("Elman RNN unrolled over 4 steps (black: forward, red dashed: backward)")
    return fig


unrolled_graph()

# %% [markdown]
# ## The forward pass
#
# Time runs $t = 1, \dots, T$ with $h_0$ the initial state (the convention of every file in
# `scratchlm`). Batch-first shapes: $x$ is (B, T, E), the hidden states (B, T, H), and $x_t$ is
# `x[:, t - 1]`; a vector is a row, so $W_{ih} x_t$ is `x_t @ W_ih.T`. The forward pass is the
# equation above, once per step, in a loop over $t$; writing that loop is the Elman sequence
# exercise (see the end of this notebook), so here we run the textbook layer,
# `scratchlm.layers.rnn.rnn_forward`, and check one step against the equation.

# %%
B, T, E, H = 2, 5, 3, 4
params = {
    "weight_ih": rng.normal(0, 0.5, (H, E)),
    "weight_hh": rng.normal(0, 0.5, (H, H)),
    "bias_ih": rng.normal(0, 0.1, H),
    "bias_hh": rng.normal(0, 0.1, H),
}
x = rng.normal(size=(B, T, E))
h0 = np.zeros((B, H))

hs, h_last, cache = rnn_forward(x, h0, params)
t = 3  # x_t is x[:, t - 1] and h_t is hs[:, t - 1]
a_t = x[:, t - 1] @ params["weight_ih"].T + params["bias_ih"] + hs[:, t - 2] @ params["weight_hh"].T + params["bias_hh"]
print("hidden states:", hs.shape, " step t = 3 follows the equation:", np.allclose(hs[:, t - 1], np.tanh(a_t)))

# %% [markdown]
# ## Backpropagation through time
#
# Let $g_t = \partial L / \partial h_t$ be the gradient that the outputs send to $h_t$ directly
# (in a language model: from the decoder at step $t$). The *total* gradient of $h_t$ adds what
# comes back from step $t+1$:
#
# $$ \delta h_t = g_t + W_{hh}^\top \delta a_{t+1}, \qquad \delta a_t = \delta h_t \odot (1 - h_t^2). $$
#
# The weights are shared, so their gradients are sums over the steps:
#
# $$ \frac{\partial L}{\partial W_{hh}} = \sum_t \delta a_t\, h_{t-1}^\top, \quad
#    \frac{\partial L}{\partial W_{ih}} = \sum_t \delta a_t\, x_t^\top, \quad
#    \frac{\partial L}{\partial b} = \sum_t \delta a_t, \quad
#    \frac{\partial L}{\partial x_t} = W_{ih}^\top \delta a_t. $$
#
# In code, the loop runs $t = T, \dots, 1$ and carries $W_{hh}^\top \delta a_{t+1}$ from one step
# to the one before. Writing it is the BPTT exercise; here the textbook's `rnn_backward` computes
# it, for a loss that reads every hidden state: $L = \sum_t \langle G_t, h_t \rangle$ with a
# fixed random $G$, so that $g_t = \partial L / \partial h_t = G_t$.

# %%
G = rng.normal(size=(B, T, H))
dx, dh0, grads = rnn_backward(G, None, cache)
print("dx:", dx.shape, " dh0:", dh0.shape, " parameter gradients:", {name: g.shape for name, g in grads.items()})

# %% [markdown]
# ## Checking gradients by finite differences
#
# A backward pass can be wrong and still train, slowly and badly. The check: perturb one weight
# by $\pm\varepsilon$ and compare the centred difference
#
# $$ \frac{L(w + \varepsilon) - L(w - \varepsilon)}{2 \varepsilon} = \frac{\partial L}{\partial w} + O(\varepsilon^2) $$
#
# with the analytic gradient, by the relative error
# $|a - n| / \max(|a| + |n|, 10^{-12})$. In float64 a correct gradient gives about
# $10^{-10}$ to $10^{-7}$; the pass mark is $10^{-6}$. (In float32, rounding alone gives
# $10^{-3}$: always check in float64.)

# %%
def loss_of_params():
    hs_now, _, _ = rnn_forward(x, h0, params)
    return float(np.sum(G * hs_now))


report = gradcheck.check_gradients(loss_of_params, params, grads)
print(report)

# %% [markdown]
# ## The whole language model
#
# `scratchlm.models.RNNLM` stacks an embedding, the recurrent layer and a decoder, with the
# softmax cross-entropy on top. Its `loss_and_grads` is one forward and one backward pass;
# the same check, on every parameter (sampled elements of the larger ones in the small run),
# compares it with finite differences of `loss`. The model is built in float64 for the check.

# %%
vocab_size, seq_len = 11, 6
model = RNNLM(vocab_size, embed_dim=5, hidden_size=7, cell="rnn", dtype="float64", seed=1)
inputs = rng.integers(0, vocab_size, (3, seq_len))
targets = rng.integers(0, vocab_size, (3, seq_len))
loss, model_grads, _ = model.loss_and_grads(inputs, targets)
report = gradcheck.check_gradients(lambda: model.loss(inputs, targets), model.params, model_grads,
                                   max_checks=10 if SMALL else None)
print(f"loss {loss:.4f} nats (uniform guessing: log V = {np.log(vocab_size):.4f})")
print(report)

# %% [markdown]
# ## What a mistake looks like
#
# Forgetting the sum over time (writing `=` where `+=` belongs) is the classic BPTT bug: the
# gradient of $W_{hh}$ keeps only the term of the last step the loop visits, $t = 1$, which is
# $\delta a_1 h_0^\top$, exactly zero here because $h_0 = 0$. The other gradients stay right.
# The check sees it at once:

# %%
buggy = dict(grads, weight_hh=np.zeros_like(grads["weight_hh"]))   # what "=" leaves of dW_hh here
print(gradcheck.check_gradients(loss_of_params, params, buggy, names=["weight_hh", "weight_ih"]))

# %% [markdown]
# ## What to take away
#
# - Unrolled in time, an RNN is a deep feed-forward network whose layers share their weights.
# - The gradient of $h_t$ has two sources, the loss at $t$ and the step $t + 1$; BPTT carries the
#   second backwards, and the shared weights' gradients are sums over the steps.
# - Finite differences in float64 catch a wrong backward pass that would still train.
#
# ## Exercises
#
# The checker exercises for this lecture (`scratchlm exercise list` names them): the Elman step
# forward and backward, and the Elman sequence (the forward loop and BPTT with the carried
# $\delta h$). Copy the templates with `scratchlm exercise copy my_exercises`, write the bodies,
# and check each with `scratchlm exercise check NAME my_exercises/FILE.py`; the checker compares
# your gradients with finite differences and with the reference layers and names the usual
# mistakes.
#
# 1. *Inline question:* the bias gradients `bias_ih` and `bias_hh` are always equal. Why? Would
#    one bias do? (PyTorch keeps two for compatibility with cuDNN.)
# 2. Derive $\partial h_t / \partial h_{t-1}$ for the Elman cell. Show that
#    $\| \partial h_T / \partial h_1 \|$ is at most $\prod_t \|W_{hh}\| \max |1 - h_t^2|$, and say
#    when it vanishes (notebook 4 measures it).
# 3. The gradient check above uses $\varepsilon = 10^{-5}$. Rerun it in float32 with
#    `RNNLM(..., dtype="float32")` and several $\varepsilon$. Which error dominates for large
#    $\varepsilon$, and which for small?
# 4. In the bug above the wrong gradient is exactly zero. Change $h_0$ to a random state: what
#    does the checker report now, and why is the bug still easy to see?
# 5. Write BPTT yourself (the BPTT exercise) and make it fail on purpose in three different
#    ways: forget the tanh derivative, carry no gradient back in time, run the loop forwards.
#    Read what the checker says for each.
