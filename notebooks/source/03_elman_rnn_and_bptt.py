# %% [markdown]
# # 3. The Elman RNN and backpropagation through time
#
# A recurrent network reads a sequence one step at a time and keeps a hidden state $h_t$ that
# summarises what it has read. This notebook
#
# 1. draws the network **unrolled** in time, which turns it into an ordinary (deep) graph;
# 2. reads the **forward pass** in the textbook code, `scratchlm.layers.rnn`: one step, and a loop
#    over the steps;
# 3. reads **backpropagation through time** (BPTT) there: the same loop run backwards;
# 4. checks the gradients by **finite differences**, first of the layer, then of a whole
#    language model (`scratchlm.gradcheck`).

# %%
%matplotlib inline
import inspect
import os

import numpy as np
from matplotlib.figure import Figure

from scratchlm import exercises, gradcheck
from scratchlm.layers import rnn
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
# ## The forward pass, in the textbook code
#
# Time runs $t = 1, \dots, T$ with $h_0$ the initial state (the convention of every file in
# `scratchlm`). Batch-first shapes: $x$ is (B, T, E), the hidden states (B, T, H), and
# $x_t$ is `x[:, t - 1]`; a vector is a row, so $W_{ih} x_t$ is `x_t @ W_ih.T`. One step is the
# equation above; its cache keeps, under their own names, what the backward pass will need:

# %%
print(inspect.getsource(rnn.RNNStepCache))
print(inspect.getsource(rnn.rnn_step_forward))

# %% [markdown]
# The sequence is a loop over the step, collecting every $h_t$ and every step's cache:

# %%
print(inspect.getsource(rnn.rnn_forward))

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
print("hidden states:", hs.shape, " steps in the cache:", len(cache.steps),
      " fields of a step's cache:", cache.steps[0]._fields)

# %% [markdown]
# ## Backpropagation through time, in the textbook code
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
# One step backward is the first line and the products of one term of each sum:

# %%
print(inspect.getsource(rnn.rnn_step_backward))

# %% [markdown]
# The sequence backward runs $t = T, \dots, 1$, adds the carried gradient (`dh`, which is
# $W_{hh}^\top \delta a_{t+1}$) to the output's, and adds up the step gradients of the shared
# weights (`grads[name] += step_grads[name]`):

# %%
print(inspect.getsource(rnn.rnn_backward))

# %%
# A loss that reads every hidden state: L = sum_t <G_t, h_t> with a fixed random G, so dL/dh_t = G_t.
G = rng.normal(size=(B, T, H))
dx, dh0, grads = rnn_backward(G, None, cache)
print("dx:", dx.shape, " dh0:", dh0.shape, " parameter gradients:", {k: v.shape for k, v in grads.items()})

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
# Forgetting the sum over time (writing `=` where `+=` belongs) is the classic BPTT bug. The
# check sees it at once. (Here the overwritten gradient is exactly zero: the last step the loop
# visits is $t = 1$, whose $h_0$ is the zero vector, so $\delta a_1 h_0^\top = 0$.)

# %%
def elman_backward_with_a_bug(dhs, x, h0, hs, p):
    grads = {name: np.zeros_like(value) for name, value in p.items()}
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h_prev = hs[:, t - 1] if t > 0 else h0
        da = (dhs[:, t] + dh_next) * (1 - hs[:, t] ** 2)
        grads["weight_hh"] = da.T @ h_prev          # BUG: overwrites instead of accumulating
        grads["weight_ih"] += da.T @ x[:, t]
        grads["bias_ih"] += da.sum(axis=0)
        grads["bias_hh"] += da.sum(axis=0)
        dh_next = da @ p["weight_hh"]
    return grads


buggy = elman_backward_with_a_bug(G, x, h0, hs, params)
print(gradcheck.check_gradients(loss_of_params, params, buggy, names=["weight_hh", "weight_ih"]))

# %% [markdown]
# ## Your turn: the exercises
#
# `scratchlm.exercises` has this backward pass (and four more) as exercises: a template whose
# body you write, and a checker that compares your gradients with finite differences and with
# the reference layers, and names the usual mistakes. Copy the templates with
# `exercises.copy_templates("my_exercises")`; check your BPTT with
# `exercises.check("rnn_backward", rnn_backward)`. Here is the checker's answer for a BPTT
# that forgets to accumulate over time:

# %%
step_backward = exercises.solution("rnn_step_backward")


def students_rnn_backward(dhs, dh_last, cache):
    steps = cache.steps
    dx = np.zeros(dhs.shape[:2] + steps[0].x.shape[1:])
    dh = dh_last
    for t in reversed(range(len(steps))):
        dx[:, t], dh, dparams = step_backward(dhs[:, t] + dh, steps[t])   # dparams is overwritten
    return dx, dh, dparams


print(exercises.check("rnn_backward", students_rnn_backward))
