# %% [markdown]
# # 4. Vanishing and exploding gradients
#
# Backpropagation through time multiplies the gradient by one Jacobian per step. Over many steps
# such a product shrinks or grows geometrically, so an Elman RNN can hardly learn from anything
# more than a few dozen steps back. This notebook measures it:
#
# 1. the norm of $\partial L / \partial h_t$ against the distance from the loss, for an Elman
#    RNN and an LSTM;
# 2. the singular values of $W_{hh}$ and what scaling them does;
# 3. gradient-norm clipping, the standard cure for the exploding side, before and after.

# %%
%matplotlib inline
import os

import numpy as np

from scratchlm import plot
from scratchlm.data import StreamBatches, load_corpus
from scratchlm.layers.lstm import lstm_step_backward, lstm_step_forward
from scratchlm.layers.rnn import rnn_step_backward, rnn_step_forward
from scratchlm.models import RNNLM
from scratchlm.text import CharTokenizer
from scratchlm.train.clipping import clip_grad_norm, global_norm
from scratchlm.train.optimizers import SGD

SMALL = os.environ.get("SCRATCHLM_NOTEBOOK_SMALL") == "1"
rng = np.random.default_rng(0)
H = 16 if SMALL else 64          # hidden size
T = 40 if SMALL else 100         # steps the gradient travels back

# %% [markdown]
# ## Why the product of Jacobians
#
# For the Elman RNN, $h_t = \tanh(W_{ih} x_t + W_{hh} h_{t-1} + b)$, one step back multiplies
# the gradient by the transposed Jacobian
#
# $$ \frac{\partial h_t}{\partial h_{t-1}} = \mathrm{diag}(1 - h_t^2)\, W_{hh}, \qquad
#    \frac{\partial L}{\partial h_{t-k}} = \Big(\prod_{s=t-k+1}^{t} W_{hh}^\top \mathrm{diag}(1 - h_s^2)\Big) \frac{\partial L}{\partial h_t}. $$
#
# Each factor has norm at most $\sigma_{\max}(W_{hh}) \cdot \max_s |1 - h_s^2| \le \sigma_{\max}(W_{hh})$,
# so with $\sigma_{\max} < 1$ the gradient vanishes at least geometrically; with $\sigma_{\max}$
# well above 1 it can explode.
#
# We measure it directly: run the network forward $T$ steps, put a unit gradient on the last
# hidden state, and walk it back with the layer's own step backward, recording its norm.

# %%
x = rng.normal(0.0, 1.0, (1, T, H))     # one sequence of T random inputs


def rnn_gradient_norms(params):
    """||dL/dh_{T-k}|| for k = 0 .. T-1 when the loss reads only h_T (a unit gradient)."""
    h, caches = np.zeros((1, H)), []
    for t in range(T):
        h, cache = rnn_step_forward(x[:, t], h, params)
        caches.append(cache)
    dh = np.ones((1, H)) / np.sqrt(H)
    norms = []
    for t in reversed(range(T)):
        norms.append(np.linalg.norm(dh))
        _, dh, _ = rnn_step_backward(dh, caches[t])
    return np.array(norms)


def lstm_gradient_norms(params):
    """The same for an LSTM: the unit gradient enters through h_T; c_T gets none."""
    state, caches = (np.zeros((1, H)), np.zeros((1, H))), []
    for t in range(T):
        state, cache = lstm_step_forward(x[:, t], state, params)
        caches.append(cache)
    dh, dc = np.ones((1, H)) / np.sqrt(H), np.zeros((1, H))
    norms = []
    for t in reversed(range(T)):
        norms.append(np.linalg.norm(dh))
        _, (dh, dc), _ = lstm_step_backward((dh, dc), caches[t])
    return np.array(norms)

# %% [markdown]
# ## Scaling $W_{hh}$
#
# Take a random orthogonal matrix $Q$ (all singular values exactly 1) and use $W_{hh} = sQ$ for a
# few scales $s$. The singular values of $sQ$ are all $s$; a Gaussian matrix, for comparison,
# spreads them out (its largest sets the growth).

# %%
Q, _ = np.linalg.qr(rng.normal(size=(H, H)))
gaussian = rng.normal(0, 1 / np.sqrt(H), (H, H))
scales = [0.5, 1.0, 2.0, 3.0]
plot.singular_values({**{f"{s} Q": s * Q for s in scales}, "Gaussian N(0, 1/H)": gaussian})

# %%
weight_ih = rng.normal(0, 0.1, (H, H))
elman_norms = {}
for s in scales:
    params = {"weight_ih": weight_ih, "weight_hh": s * Q, "bias_ih": np.zeros(H), "bias_hh": np.zeros(H)}
    elman_norms[f"Elman, W_hh = {s} Q"] = rnn_gradient_norms(params)
plot.gradient_norm_through_time(elman_norms, title="Elman RNN: the gradient vanishes or explodes")

# %% [markdown]
# With $s$ below 1 the gradient falls by orders of magnitude within a few dozen steps. The tanh
# derivative ($\le 1$) pulls every curve down, so it takes a scale well above 1 for the gradient to
# grow, and then it grows without bound. There is no scale at which the signal simply travels:
# the product is either contracting or expanding.
#
# ## The LSTM's cell state
#
# The LSTM carries a cell state $c_t = f_t \odot c_{t-1} + i_t \odot g_t$. Its Jacobian along
# the cell path is just $\mathrm{diag}(f_t)$: no weight matrix and no squashing. When the forget
# gate stays near 1, the gradient travels back almost unchanged. Its bias decides where $f$ starts:
# PyTorch's default initialisation gives $f \approx \sigma(0) = 0.5$; adding $b_f = 1$ or $3$
# (Jozefowicz et al., 2015) keeps more.

# %%
bound = 1 / np.sqrt(H)      # PyTorch's default: U(-1/sqrt(H), 1/sqrt(H))
lstm_base = {
    "weight_ih": rng.uniform(-bound, bound, (4 * H, H)),
    "weight_hh": rng.uniform(-bound, bound, (4 * H, H)),
    "bias_ih": rng.uniform(-bound, bound, 4 * H),
    "bias_hh": rng.uniform(-bound, bound, 4 * H),
}
lstm_norms = {"Elman, W_hh = 1.0 Q": elman_norms["Elman, W_hh = 1.0 Q"]}
for forget_bias in [0.0, 1.0, 3.0]:
    params = {name: value.copy() for name, value in lstm_base.items()}
    params["bias_ih"][H : 2 * H] += forget_bias      # rows H:2H are the forget gate (order i, f, g, o)
    lstm_norms[f"LSTM, forget bias +{forget_bias:g}"] = lstm_gradient_norms(params)
plot.gradient_norm_through_time(lstm_norms, title="LSTM: the forget gate sets how far back the gradient reaches")

# %%
for label, norms in {**elman_norms, **lstm_norms}.items():
    print(f"{label:<28} ||dL/dh|| after 10 steps {norms[10]:9.2e}, after {T - 1} steps {norms[-1]:9.2e}")

# %% [markdown]
# ## Exploding gradients and clipping
#
# Vanishing gradients make learning long dependencies slow; exploding ones make a single update
# throw the weights far away. The standard cure (Pascanu, Mikolov & Bengio, 2013) rescales the
# whole gradient when its global norm exceeds a threshold $\tau$:
#
# $$ \|g\| = \sqrt{\textstyle\sum_{\text{arrays}} \sum_{\text{elements}} g^2}, \qquad
#    g \leftarrow g \cdot \frac{\tau}{\|g\|} \text{ if } \|g\| > \tau. $$
#
# The direction is kept; only the step length is capped. `scratchlm.train.clipping.clip_grad_norm`
# is exactly PyTorch's `clip_grad_norm_` and returns the norm *before* clipping.
#
# We train the same character-level Elman RNN on tiny Shakespeare twice, with a deliberately
# large SGD learning rate, once without and once with clipping at $\tau = 1$.

# %%
corpus = load_corpus("tinyshakespeare")
tokenizer = CharTokenizer.fit(corpus.whole())
steps = 40 if SMALL else 400
train_ids = tokenizer.encode(corpus.train[: 16 * 50 * (steps + 2)])


def train(max_norm):
    model = RNNLM(len(tokenizer), embed_dim=32, hidden_size=128, cell="rnn", seed=0)
    optimizer = SGD(lr=5.0)
    state, losses, before, after = None, [], [], []
    for step, (inputs, targets) in enumerate(StreamBatches(train_ids, batch_size=16, bptt=50)):
        if step == steps:
            break
        loss, grads, state = model.loss_and_grads(inputs, targets, state)
        if max_norm is None:
            before.append(global_norm(grads))
        else:
            before.append(clip_grad_norm(grads, max_norm))
        after.append(global_norm(grads))
        optimizer.step(model.params, grads)
        losses.append(loss)
    return np.array(losses), np.array(before), np.array(after)


losses_plain, norms_plain, _ = train(max_norm=None)
losses_clipped, norms_before, norms_after = train(max_norm=1.0)
plot.loss_curves(losses_plain, losses_clipped, labels=("no clipping", "clipped at 1"),
                 title="the same model and learning rate, without and with gradient clipping")

# %%
plot.clipping_norms(norms_before, norms_after, max_norm=1.0,
                    title="global gradient norm per step in the clipped run")

# %%
print(f"largest gradient norm without clipping: {norms_plain.max():.1f}")
print(f"steps clipped: {np.mean(norms_before > 1.0):.0%} of {len(norms_before)}")
print(f"mean loss of the last 10 steps: no clipping {losses_plain[-10:].mean():.3f}, "
      f"clipped {losses_clipped[-10:].mean():.3f} nats/char")

# %% [markdown]
# ## What to take away
#
# - The gradient of a distant hidden state is a product of per-step Jacobians; its norm changes
#   geometrically with the distance, governed by the singular values of $W_{hh}$ and the
#   derivatives of the nonlinearity.
# - The LSTM's additive cell path, gated by $f$, lets the gradient travel much further; the forget
#   bias matters.
# - Clipping by the global norm caps the step on the rare huge gradient and keeps training stable;
#   it does nothing for vanishing gradients.
#
# ## Exercises
#
# The checker exercises for this lecture (`scratchlm exercise list` names them): gradient-norm
# clipping (PyTorch's formula, the norm before clipping returned), and the LSTM step and
# sequence, whose backward pass carries both $\delta h$ and $\delta c$ back in time. Copy the
# templates with `scratchlm exercise copy my_exercises` and check each with
# `scratchlm exercise check NAME my_exercises/FILE.py`. Then:
#
# 1. *Inline question:* for the Elman cell, $\partial h_t / \partial h_{t-1} = \mathrm{diag}(1 - h_t^2)\, W_{hh}$.
#    Why can the gradient vanish even when the largest singular value of $W_{hh}$ is above 1?
# 2. For the LSTM, write $\partial c_t / \partial c_{t-1}$ along the direct path. What value of
#    the forget gate keeps the gradient, and why does a forget-gate bias of 1 or 3 at
#    initialisation help?
# 3. Clipping by the global norm keeps the direction of the gradient; clipping each coordinate
#    to $[-\tau, \tau]$ (`clip_value`) does not. Construct a two-coordinate gradient where the two
#    give different directions.
# 4. Rerun the clipping experiment with thresholds $\tau$ = 0.1, 1 and 10. What goes wrong when
#    $\tau$ is too small?
# 5. Orthogonal initialisation of $W_{hh}$ (scale 1) keeps $\|W_{hh} v\| = \|v\|$. Does that make
#    the Elman gradient norm constant over time? Measure it with the figure's code.
