# %% [markdown]
# # 6. Finnish first names: temperature, and four ways to decode
#
# The lecture's demo, set up exactly as `scratchlm train` runs it. A character-level LSTM reads the
# 750 names of the Finnish name-day calendar as **one text**, in the calendar's (alphabetical)
# order, every name followed by a space: "Aadolf Aamu Aapeli Aapo Aappo ...". It is trained with
# truncated BPTT, like any long text. Then we use it to *generate*, and see what the decoding
# rule does:
#
# 1. a line of names continuing the prompt "Aadolf" at the lecture's temperatures
#    $T$ = 1.0, 0.9, 0.5, 0.1, 0.0001, 2.0 and 5.0, with what each temperature does to the names
#    measured over a few hundred names;
# 2. greedy decoding, top-$k$ sampling, top-$p$ (nucleus) sampling and beam search, side by side.
#
# **Held-out names.** Every 10th name is kept for validation, and the name half-way between for
# test. Both stay in their places in the text:
#
# - The training text leaves them out, so the model never sees them.
# - To score a model, it reads the whole true text and is charged only for the held-out names'
#   letters and the space after each name. The space ends a name, as `<eos>` would.
#
# The n-gram baselines are scored on the same characters, in the same context.

# %%
%matplotlib inline
import os
import tempfile

import numpy as np

from scratchlm import plot
from scratchlm.beam import beam_search
from scratchlm.data import load_corpus
from scratchlm.lm import LanguageModel
from scratchlm.metrics import evaluate_counted, token_log_probs
from scratchlm.models import RNNLM
from scratchlm.names_stats import LECTURE_TEMPERATURES, temperature_rows
from scratchlm.ngram.baselines import baseline_models
from scratchlm.sampling import generate
from scratchlm.train.checkpoint import load_trained_model
from scratchlm.train.loop import Trainer, TrainConfig
from scratchlm.train.prepare import fit_tokenizer

SMALL = os.environ.get("SCRATCHLM_NOTEBOOK_SMALL") == "1"
hidden, epochs = (32, 4) if SMALL else (128, 60)

# %% [markdown]
# ## Data and model

# %%
stream = load_corpus("finnish-names", kind="stream")
tokenizer = fit_tokenizer(stream, "char")
vocab = tokenizer.vocab
text_ids = np.array(tokenizer.encode(stream.text))      # the whole calendar, as every model reads it
train_ids = np.array(tokenizer.encode(stream.train))    # the training text: held-out names left out
print(stream, "| vocabulary:", len(tokenizer), "tokens")
print("the text:          ", stream.text[:70], "...")
print("the training text: ", stream.train[:70], "...")
print("validation names:  ", ", ".join(stream.split_names("valid")[:10]), "...")


def validation(model):
    """The validation names' characters (and the space after each), read in the whole text."""
    result = evaluate_counted(model, text_ids, stream.counted("valid"))
    return result.total_nll, result.num_tokens


folder = tempfile.mkdtemp()
model = RNNLM(len(tokenizer), embed_dim=32, hidden_size=hidden, cell="lstm", dropout=0.3, seed=0)
config = TrainConfig(epochs=epochs, batch_size=32, bptt=35, optimizer="adam", lr=3e-3, clip_norm=5.0, patience=6)
history = Trainer(model, tokenizer.to_json(), train_ids, tokenizer.encode(stream.valid), "stream", config,
                  out_dir=folder, progress=False, report_epochs=False, validation=validation).fit()
model, _, _ = load_trained_model(os.path.join(folder, "model.npz"))   # the epoch with the best validation score
plot.loss_curves(history["step_loss"], history["val_loss"], valid_steps=history["epoch_end_step"],
                 title="character LSTM on the calendar as one text")

# %% [markdown]
# ## How good is it? Perplexity against counting baselines, on the same characters
#
# The perplexity is taken per predicted character: the held-out names' letters and the space
# after each. There are three baselines, fitted on exactly the training text:
#
# - an add-one smoothed bigram model,
#   $P(w_t \mid w_{t-1}) = \frac{c(w_{t-1} w_t) + 1}{c(w_{t-1}) + V}$;
# - modified Kneser-Ney of orders 3 and 5 (notebook 1 does n-grams properly).
#
# Each model reads the same text before each counted character. An $n$-gram model uses the last
# $n - 1$ characters of it; the LSTM uses all of it.

# %%
models = baseline_models(train_ids, "stream", vocab) + [("LSTM", model)]
print(f"{'model':<28} {'valid ppl':>9} {'test ppl':>9}")
print(f"{'uniform over V = ' + str(len(tokenizer)):<28} {len(tokenizer):>9.3f} {len(tokenizer):>9.3f}")
for label, lm in models:
    valid = evaluate_counted(lm, text_ids, stream.counted("valid"))
    test = evaluate_counted(lm, text_ids, stream.counted("test"))
    print(f"{label:<28} {valid.perplexity:>9.3f} {test.perplexity:>9.3f}")

# %% [markdown]
# Where is the model surprised? Here is the surprisal $-\log P(w_t \mid \text{the text before})$ of
# every character of one test name, read in its place. The name before it tells the model a lot:
# the list is alphabetical.

# %%
from matplotlib.figure import Figure

surprisal = -model.sequence_log_probs(text_ids)                         # every character of the text
index = stream.names.index(stream.split_names("test")[3])
start = sum(len(name) + 1 for name in stream.names[:index])
name = stream.names[index]
fig = Figure(figsize=(6, 3), layout="constrained")
ax = fig.subplots()
ax.bar(np.arange(len(name) + 1), surprisal[start : start + len(name) + 1])
ax.set_xticks(np.arange(len(name) + 1), list(name) + ["space"])
ax.set(ylabel="surprisal (nats)", title=f"{stream.names[index - 1]} | {name}: -log P(character | the text before)")
fig

# %% [markdown]
# ## Temperature: the prompt "Aadolf", as on the slides
#
# The model reads the prompt and then samples every next character from
# $\mathrm{softmax}(z / T)$. The special tokens (`<unk>`, `<pad>` ...) are never part of a name, so
# they get probability zero. One line per temperature, in the slides' order; the lecture showed
# lines such as these:
#
# - T = 1.0: "Aadolf Anleri Irtiri Kassa Nirmo Sauto ..."
# - T = 0.1: "Aadolf Anni Sari Sari Anni Anni Aari Arto ..."
# - T = 0.0001: "Aadolf Ari Artta Artta Artta ..."
# - T = 5: mixed-case gibberish.

# %%
rows = temperature_rows(model, tokenizer, stream, LECTURE_TEMPERATURES)
plot.sample_table([(row.temperature, row.continuing) for row in rows], ["T", "continuing 'Aadolf'"], max_chars=80)

# %% [markdown]
# And lines of new names, each line starting after a space:

# %%
plot.sample_table([(row.temperature, row.new) for row in rows], ["T", "after a space"], max_chars=80)

# %% [markdown]
# The lecture's observations, counted. The counts are over every complete name of 24 lines of
# 100 characters per temperature (`scratchlm/names_stats.py`):
#
# - how many names per 100 are distinct;
# - how many are training names, held-out calendar names (real, but never seen), or new;
# - how many break the calendar's spelling: a capital inside a name, or a letter the calendar
#   never uses;
# - the mean entropy of the distribution each character was drawn from.
#
# At low $T$ one name repeats. Around $T = 1$ the names are varied, new and well spelt. At high
# $T$ the spelling breaks, and the entropy approaches $\log_2$ of the number of characters.

# %%
columns = ["T", "names", "distinct / 100", "training %", "held-out %", "new %", "misspelt %", "entropy (bits)"]
plot.sample_table([(s.temperature, s.num_names, round(s.distinct_per_100, 1), round(s.training_percent, 1),
                    round(s.heldout_percent, 1), round(s.new_percent, 1), round(s.misspelt_percent, 1),
                    round(s.mean_entropy_bits, 3)) for s in (row.statistics for row in rows)], columns)

# %%
stats = [row.statistics for row in rows]
plot.temperature_study(LECTURE_TEMPERATURES, [row.continuing for row in rows],
                       {"distinct names per 100": [s.distinct_per_100 for s in stats],
                        "training names %": [s.training_percent for s in stats],
                        "new names %": [s.new_percent for s in stats],
                        "misspelt %": [s.misspelt_percent for s in stats]},
                       [s.mean_entropy_bits for s in stats])

# %% [markdown]
# ## One name at a time
#
# The methods below generate one name at a time. In the text, a name starts after a space and
# ends with the next space. So we look at the same LSTM through a small
# `LanguageModel` (`scratchlm/lm.py`) that says exactly that:
#
# - its start state is the state after reading a space;
# - its end token is the space.
#
# Nothing is retrained.

# %%
class NamesOfTheText(LanguageModel):
    """A model of a text of names separated by spaces, seen as a model of single names."""

    def __init__(self, text_model, space_id):
        self.text_model, self.vocab_size = text_model, text_model.vocab_size
        self.bos_id, self.eos_id = None, space_id

    def start(self, batch_size):
        return self.text_model.advance(self.text_model.start(batch_size), np.full(batch_size, self.eos_id))

    def log_probs(self, state):
        return self.text_model.log_probs(state)

    def advance(self, state, tokens):
        return self.text_model.advance(state, tokens)

    def select(self, state, rows):
        return self.text_model.select(state, rows)


text_model = model
model = NamesOfTheText(text_model, vocab.stoi[" "])
print("fresh names:", [tokenizer.decode(ids) for ids in generate(model, [], n=6, max_len=20, rng=0)])

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
# For each, the names with their log-probability under the model, $\log P(\text{name}, \text{space})$,
# the quantity beam search maximises (closer to 0 is more probable), and whether the name occurs
# in the training data.

# %%
training_names = set(stream.split_names("train"))


def log_prob(ids):
    return float(np.sum(token_log_probs(model, list(ids) + [model.eos_id])))


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
# ## Hugging Face's decoding controls, one at a time
#
# `scratchlm.sampling.generate` takes the options of Hugging Face's `generate()` under the same
# names. Before a token is chosen, the *logits processors* edit the model's scores, in this order:
#
# 1. `repetition_penalty` $r$: a token already in the text (prompt included) has its score
#    $z$ divided by $r$ if $z > 0$, multiplied by $r$ if $z < 0$ (log-probabilities are $< 0$, so
#    here $p \to p^r$);
# 2. `no_repeat_ngram_size` $n$: no $n$-gram may occur twice;
# 3. `bad_words_ids`: listed token sequences are never completed;
# 4. `min_new_tokens`: no `<eos>` before that many new tokens;
# 5. `suppress_tokens`: listed tokens never, and the special tokens `<pad>`, `<bos>` (and `<unk>`
#    unless `allow_unk=True`) never at all.
#
# Then sampling reshapes the distribution (temperature, top-$k$, top-$p$) and draws; greedy takes
# the argmax; beam search (`num_beams > 1`) adds the scores up.
#
# The special tokens are known from the model's vocabulary, so the model is given it first.

# %%
from scratchlm.lm import never_generated_ids

model.vocab = tokenizer.vocab
specials = [tokenizer.vocab.itos[i] for i in never_generated_ids(model, allow_unk=False)]
print("never generated:", specials)
for allow_unk in (True, False):
    texts = generate(model, [], n=500, max_len=20, temperature=2.0, rng=5, allow_unk=allow_unk)
    count = sum(ids.count(tokenizer.vocab.unk_id) for ids in texts)
    print(f"allow_unk={allow_unk!s:<5}  <unk> in 500 samples at T = 2: {count}")


# %% [markdown]
# **Repetition.** At $T = 0.1$ the model nearly always takes its favourite letter, so the same
# few names come out: "Anni", "Anni", "Anni". The repetition penalty and the no-repeat-$n$-gram
# rule look at *one* text, the prompt and what has been generated so far. A model of the names
# as one stream writes the names one after another in one text, and there these controls break
# the loop; a model of single names (one item per name) repeats *across* samples, which no
# control of a single text can see. Too strong a penalty also forbids the double letters Finnish
# names are full of ("Anni", "Aarni").

# %%
def show(texts):
    return "  ".join(tokenizer.decode(ids).replace("\n", " / ") or "(empty)" for ids in texts)


settings = {
    "T = 0.1": dict(temperature=0.1),
    "T = 0.1, repetition_penalty 1.3": dict(temperature=0.1, repetition_penalty=1.3),
    "T = 0.1, repetition_penalty 3": dict(temperature=0.1, repetition_penalty=3.0),
    "T = 0.1, no_repeat_ngram_size 3": dict(temperature=0.1, no_repeat_ngram_size=3),
    "T = 1, min_new_tokens 8": dict(min_new_tokens=8),
    "T = 1, bad_words 'nn', 'a'": dict(bad_words_ids=[tokenizer.encode("nn"), tokenizer.encode("a")]),
    "T = 1, top_k 3, min_tokens_to_keep 5": dict(top_k=3, min_tokens_to_keep=5),
}
rows = [(name, show(generate(model, [], n=4, max_len=40, rng=7, **options))) for name, options in settings.items()]
plot.sample_table(rows, ["controls", "four samples (' / ' separates names within one text)"], max_chars=140)

# %% [markdown]
# **Beam search with Hugging Face's stopping rules.** Five beams stay live at every step;
# finished names are collected apart and ranked by $\log P / \text{length}^{\alpha}$
# (`length_penalty` $\alpha$; the length counts `<eos>`). `early_stopping=True` stops as soon
# as five names have finished, `False` when the best live beam (normalised by its current
# length) cannot beat the worst finished one, `"never"` only when no live beam can (the exact
# test). $\alpha = 0$ prefers short names, larger $\alpha$ longer ones.

# %%
rows = []
for alpha in (0.0, 1.0, 2.0):
    for early_stopping in (True, False, "never"):
        best = beam_search(model, [], beam_width=5, max_len=20, n_best=3, length_penalty=alpha,
                           early_stopping=early_stopping)
        rows.append((f"alpha = {alpha}, early_stopping = {early_stopping}",
                     "  ".join(f"{tokenizer.decode(ids).replace(chr(10), ' / ')} ({score:.2f})" for ids, score in best)))
plot.sample_table(rows, ["beam search, 5 beams", "three best (score = log P / length ** alpha)"], max_chars=140)

# %% [markdown]
# ## What to take away
#
# - Temperature trades fidelity for variety: low $T$ repeats the most probable names (often
#   training names), high $T$ invents freely and then produces nonsense.
# - Greedy and beam search *search* for probable names; top-$k$ and top-$p$ *sample*, cutting off
#   the improbable tail that makes plain sampling at $T = 1$ occasionally produce garbage.
# - Beam search finds names of higher total probability than greedy decoding; whether they are
#   better names is a different question (probable names are short and common).
# - The logits processors change *which* tokens may come next (a repeated n-gram, a bad word, an
#   early `<eos>`, a special token); the warpers then reshape what is left. A repetition penalty
#   breaks the loop of one text, not the repetition across separate samples.
#
# ## Exercises
#
# The checker exercises for this lecture (`scratchlm exercise list` names them): perplexity,
# the sampling filters (temperature, top-$k$, top-$p$; the checker compares your distributions,
# not your draws) and beam search. Copy the templates with `scratchlm exercise copy my_exercises`
# and check each with `scratchlm exercise check NAME my_exercises/FILE.py`. Then:
#
# 1. *Inline question:* the perplexity above counts the space after each held-out name but not
#    the space before it. Why? What would counting both do to the comparison with the baselines?
# 2. Show that top-$k$ with $k = 1$ and top-$p$ with a very small $p$ are both greedy decoding.
#    Which setting of the temperature is greedy too?
# 3. With `length_penalty` 0, beam search maximises the total log-probability, which favours
#    short names. Explain from the formula why $\alpha = 1$ and $\alpha = 2$ return longer ones.
# 4. Generate 2,000 characters at $T = 1$ and at $T = 0.5$. What share of the names in them are
#    training names? What does the answer say about memorisation?
# 5. Draw the surprisal figure for a name that is *not* Finnish (your own, or "Kevin"). Where is
#    the model surprised?

