# %% [markdown]
# # 8. The other models: a fixed window, both directions, and an encoder for a decoder
#
# The RNN language model is one of several models in the lectures. This notebook trains four
# more, each written with its forward and backward pass by hand in `scratchlm`:
#
# 1. **Bengio et al.'s fixed-window neural LM** (2003): the embeddings of the last $n$ characters,
#    a tanh layer, a softmax. Compared with n-gram models and an LSTM on Finnish names.
# 2. **A bidirectional LSTM tagger**: which letters of a name are part of a long sound (a doubled
#    letter)? To tag the first "a" of "Jaakko" you must see the next letter.
# 3. **An encoder-decoder (seq2seq)** that learns to reverse strings, decoded greedily and with
#    beam search by the same generation code as every language model.
# 4. **ELMo's pair of language models**, one reading left to right and one right to left.

# %%
%matplotlib inline
import os

import numpy as np

from scratchlm import beam, plot, sampling, tasks
from scratchlm.data import load_corpus
from scratchlm.metrics import evaluate
from scratchlm.models.bilm import BiLM
from scratchlm.models.rnnlm import RNNLM
from scratchlm.models.seq2seq import Seq2Seq
from scratchlm.models.tagger import BiRNNTagger
from scratchlm.models.window_lm import WindowLM
from scratchlm.ngram.baselines import baseline_models
from scratchlm.text.vocab import Vocabulary
from scratchlm.train.loop import TrainConfig, Trainer
from scratchlm.train.optimizers import Adam
from scratchlm.train.prepare import encode_corpus, fit_tokenizer

SMALL = os.environ.get("SCRATCHLM_NOTEBOOK_SMALL") == "1"
epochs, seq2seq_steps = (2, 60) if SMALL else (15, 1500)

# %% [markdown]
# ## 1. The fixed-window neural language model
#
# $$x_t = [C w_{t-n+1}; \dots; C w_t], \qquad
#   y_t = b + W x_t + U \tanh(d + H x_t), \qquad
#   P(w_{t+1} \mid w_{t-n+1..t}) = \mathrm{softmax}(y_t)$$
#
# $C$ holds one embedding per character; $W$ (the "direct connections") is optional. Like an
# $(n+1)$-gram model it sees exactly $n$ characters, but similar contexts share their statistics
# through the embeddings instead of being counted apart. It trains with the same `Trainer` as the
# RNN, because it has the same `loss_and_grads(inputs, targets, state, mask)`.

# %%
corpus = load_corpus("finnish-names")
tokenizer = fit_tokenizer(corpus, "char")
train_ids, valid_ids, test_ids = encode_corpus(tokenizer, corpus)
vocab = tokenizer.vocab
config = TrainConfig(epochs=epochs, batch_size=32, lr=5e-3)

window_lm = WindowLM(len(vocab), context_size=3, embed_dim=16, hidden_size=64, seed=0)
window_history = Trainer(window_lm, tokenizer.to_json(), train_ids, valid_ids, "lines", config,
                         progress=False, report_epochs=False).fit()
rnn_lm = RNNLM(len(vocab), 16, 64, cell="lstm", seed=0, bos_id=vocab.bos_id, eos_id=vocab.eos_id)
Trainer(rnn_lm, tokenizer.to_json(), train_ids, valid_ids, "lines", config, progress=False, report_epochs=False).fit()
plot.loss_curves(window_history["step_loss"], window_history["val_loss"],
                 valid_steps=window_history["epoch_end_step"], title="window LM (n = 3) on Finnish names")

# %% [markdown]
# Perplexity per predicted character on the validation names, every model through the same
# `scratchlm.metrics.evaluate`:

# %%
valid_sequences = [list(ids) + [vocab.eos_id] for ids in valid_ids]
models = baseline_models(train_ids, "lines", vocab) + [("window LM, n = 3", window_lm.eval()),
                                                       ("LSTM LM", rnn_lm.eval())]
for label, model in models:
    print(f"{label:32s} perplexity {evaluate(model, valid_sequences).perplexity:6.3f}")

# %%
samples = sampling.generate(window_lm, n=8, max_len=20, temperature=0.8, rng=0)
print("window LM samples:", ", ".join(tokenizer.decode(ids) for ids in samples))

# %% [markdown]
# ## 2. A bidirectional LSTM tagger
#
# Finnish writes a long sound as a doubled letter: "Jaakko", "Anna". Tag every letter that equals
# its left **or right** neighbour. A left-to-right model cannot know, at the first "a" of "Jaakko",
# that another "a" follows. A bidirectional layer runs a second LSTM from the right and puts the
# two outputs side by side, $h_t = [\overrightarrow{h}_t; \overleftarrow{h}_t]$, so every position
# sees the whole name.

# %%
letters = sorted(set("".join(corpus.train + corpus.valid + corpus.test)) | set("".join(corpus.train).lower()))
tag_vocab = Vocabulary(letters)
tagger = BiRNNTagger(len(tag_vocab), 2, embed_dim=16, hidden_size=32, cell="lstm", seed=0)
optimizer = Adam(lr=1e-2)
rng = np.random.default_rng(0)
for epoch in range(2 * epochs):
    order = rng.permutation(len(corpus.train))
    for first in range(0, len(order), 32):
        inputs, tags, lengths = tasks.encode_tagging([corpus.train[i] for i in order[first:first + 32]], tag_vocab)
        _, grads = tagger.loss_and_grads(inputs, tags, lengths)
        optimizer.step(tagger.params, grads)

held_out = list(corpus.valid) + list(corpus.test)
inputs, tags, lengths = tasks.encode_tagging(held_out, tag_vocab)
predicted = tagger.predict(inputs, lengths)
real = np.arange(inputs.shape[1])[None, :] < lengths[:, None]
print(f"tagging accuracy on {len(held_out)} held-out names: {(predicted == tags)[real].mean():.1%} "
      f"(tagging nothing: {(tags == 0)[real].mean():.1%})")
for row in range(8):
    name = held_out[row]
    marked = "".join(c.upper() if t else c.lower() for c, t in zip(name, predicted[row]))
    print(f"{name:12s} -> {marked}")

# %% [markdown]
# ## 3. An encoder-decoder that reverses strings
#
# The encoder LSTM reads the source; its final state is the decoder's initial state, and that
# single vector is all the decoder knows about the source. Training uses *teacher forcing* (the
# decoder reads the true previous character). To decode, `model.decoder(source)` is a language
# model conditioned on the source, so `sampling.generate(greedy=True)` and `beam.beam_search` work
# on it unchanged.

# %%
alphabet = "abcdefgh"
pair_vocab = Vocabulary(list(alphabet))
held_out_pairs = sorted(set(tasks.seq2seq_pairs("reverse", 200, 3, 8, alphabet, rng=1)))
unseen = {source for source, _ in held_out_pairs}
train_pairs = [p for p in tasks.seq2seq_pairs("reverse", 40000, 3, 8, alphabet, rng=0) if p[0] not in unseen]
seq2seq = Seq2Seq(len(pair_vocab), len(pair_vocab), embed_dim=16, hidden_size=64, cell="lstm", seed=0)
optimizer = Adam(lr=1e-2)
losses = []
for batch in tasks.batches_by_source_length(train_pairs, 32, rng=0)[:seq2seq_steps]:
    source, target, mask = tasks.encode_pairs(batch, pair_vocab)
    loss, grads = seq2seq.loss_and_grads(source, target, mask)
    optimizer.step(seq2seq.params, grads)
    losses.append(loss)
plot.loss_curves(losses, title="seq2seq: reversing strings (teacher forcing)")

# %%
def reverse_with(source, width):
    decoder = seq2seq.decoder(pair_vocab.encode(list(source)))
    if width == 1:
        ids = sampling.generate(decoder, greedy=True, max_len=len(source) + 3)[0]
    else:
        ids = beam.beam_search(decoder, beam_width=width, max_len=len(source) + 3)[0][0]
    return "".join(pair_vocab.decode(ids))


for width, name in ((1, "greedy"), (4, "beam 4")):
    correct = np.mean([reverse_with(source, width) == target for source, target in held_out_pairs])
    print(f"{name}: {correct:.1%} of {len(held_out_pairs)} held-out strings reversed exactly")
for source, target in held_out_pairs[:5]:
    print(f"{source:>9s} -> {reverse_with(source, 1):9s} (right: {target})")

# %% [markdown]
# ## 4. ELMo's two language models
#
# One LSTM LM reads each name left to right and predicts the next letter; another reads it right
# to left and predicts the previous one. They share the embeddings and the softmax. After
# training, $[\overrightarrow{h}_t; \overleftarrow{h}_t]$ describes letter $t$ in its whole name.
# Is a Finnish name easier to predict forwards or backwards?

# %%
def framed(items):
    """<bos> w_1 .. w_n <eos> rows, padded, and their lengths n + 2."""
    lengths = np.array([len(item) + 2 for item in items])
    rows = np.full((len(items), lengths.max()), vocab.pad_id)
    for row, item in enumerate(items):
        rows[row, : len(item) + 2] = [vocab.bos_id, *item, vocab.eos_id]
    return rows, lengths


bilm = BiLM(len(vocab), embed_dim=16, hidden_size=64, num_layers=1, cell="lstm", seed=0)
optimizer = Adam(lr=5e-3)
for epoch in range(epochs):
    order = rng.permutation(len(train_ids))
    for first in range(0, len(order), 32):
        _, grads = bilm.loss_and_grads(*framed([train_ids[i] for i in order[first:first + 32]]))
        optimizer.step(bilm.params, grads)
forward_nll, backward_nll = bilm.direction_losses(*framed(valid_ids))
print(f"validation perplexity reading forwards {np.exp(forward_nll):.3f}, backwards {np.exp(backward_nll):.3f}")

# %% [markdown]
# ## What to take away
#
# - A fixed window of embeddings is an n-gram model whose similar contexts share their statistics
#   through the embeddings instead of being counted apart. On 600 names there is too little data
#   for that to matter much: with the full settings the 3-character window ties modified
#   Kneser-Ney 3- and 4-grams, and the LSTM, whose context is the whole name so far, is ahead of
#   both (docs/models.md measures them, and on tiny Shakespeare too).
# - A bidirectional layer lets every position see both sides of the sequence: right for tagging
#   (the whole input is known), wrong for a language model (it would see the word it predicts).
# - An encoder-decoder squeezes the source into the encoder's final state; the decoder is a
#   language model conditioned on it, decoded with the same greedy and beam search code.
# - ELMo trains a forward and a backward language model, so each can be scored by perplexity,
#   and then uses both directions' states as a representation of every token.
#
# ## Exercises
#
# The checker exercises that go with these models (`scratchlm exercise list` names them): the
# embedding and temporal affine layers they are built from, the LSTM sequence, and beam search.
# Copy the templates with `scratchlm exercise copy my_exercises` and check each with
# `scratchlm exercise check NAME my_exercises/FILE.py`. Then:
#
# 1. *Inline question:* the window LM has $n \cdot E$ inputs to its hidden layer. How does its
#    parameter count grow with the window size $n$, and how does an $n$-gram table's?
# 2. Try windows of 2, 3, 5 and 8 characters. Where does the validation perplexity stop
#    improving, and why?
# 3. Why can a bidirectional LSTM not be trained as a language model with the next-token loss?
#    What does ELMo do instead?
# 4. Train the seq2seq model on longer strings (change the lengths of the task). At what length
#    does reversal fail, and why does the single final encoder state explain it?
# 5. The seq2seq decoder reads the true previous character while training (teacher forcing) but
#    its own prediction when decoding. What can go wrong at test time because of that?
