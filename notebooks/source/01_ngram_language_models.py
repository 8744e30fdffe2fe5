# %% [markdown]
# # 1. n-gram language models
#
# Before any neural network: a language model made of counts. An n-gram model predicts the next
# word from the $n - 1$ words before it,
#
# $$ P(w_1 \dots w_m) = \prod_t P(w_t \mid w_1 \dots w_{t-1}) \approx \prod_t P(w_t \mid w_{t-n+1} \dots w_{t-1}), $$
#
# with probabilities estimated by counting. This notebook works through the lecture on the words
# of tiny Shakespeare:
#
# 1. counting, and why raw counts fail: **sparsity**;
# 2. **add-one / add-alpha** smoothing, **discounting**, **back-off**, **interpolation** with
#    weights tuned on held-out data, and **Kneser-Ney**;
# 3. **perplexity** to compare them, and **generated text** from unigram to 4-gram.
#
# The models come from `scratchlm.ngram.fit_ngram`; each is a `scratchlm.lm.LanguageModel`, so
# the same perplexity and sampling code serves n-gram and neural models.

# %%
%matplotlib inline
import os
from collections import Counter

import numpy as np
from matplotlib.figure import Figure

from scratchlm import plot
from scratchlm.data import load_corpus
from scratchlm.ngram import fit_ngram
from scratchlm.sampling import generate
from scratchlm.text import WordTokenizer

SMALL = os.environ.get("SCRATCHLM_NOTEBOOK_SMALL") == "1"

# %% [markdown]
# ## The data
#
# Every non-empty line of the play is a sentence; words are lower-cased, punctuation marks are
# words of their own. The last 10% of the training lines are held out for tuning (the
# interpolation weights); the validation split of the corpus is our test set.

# %%
corpus = load_corpus("tinyshakespeare")
splitter = WordTokenizer.fit(corpus.train, lowercase=True)     # used only for its word splitting


def sentences_of(text):
    return [splitter.words(line) for line in text.splitlines() if line.strip()]


train_all, test = sentences_of(corpus.train), sentences_of(corpus.valid)
cut = int(0.9 * len(train_all))
train, heldout = train_all[:cut], train_all[cut:]
if SMALL:
    train, heldout, test = train[:3000], heldout[:300], test[:300]
print(f"{len(train):,} training sentences ({sum(map(len, train)):,} words), "
      f"{len(heldout):,} held out, {len(test):,} test")
print(train[1])

# %% [markdown]
# ## Counting
#
# The maximum-likelihood estimate is the relative frequency:
#
# $$ P_{ML}(w \mid h) = \frac{c(h\,w)}{c(h)}. $$
#
# Sentences are framed by `<s>` and `</s>` so that the first word has a context and the end of
# the sentence is predicted too.

# %%
unigrams = Counter(word for sentence in train for word in sentence)
bigrams = Counter((a, b) for sentence in train for a, b in zip(["<s>"] + sentence, sentence + ["</s>"]))
print("most frequent words:", unigrams.most_common(10))
after_my = Counter({b: c for (a, b), c in bigrams.items() if a == "my"})
total_my = sum(after_my.values())
print(f"\nP_ML(w | my), from {total_my} occurrences of 'my':")
for word, count in after_my.most_common(6):
    print(f"  {word:<8} {count:4d} / {total_my} = {count / total_my:.3f}")

mle = fit_ngram(train, order=2, method="mle")
print("\nthe same from scratchlm.ngram:", round(mle.prob("lord", ["my"]), 3))

# %% [markdown]
# ## Sparsity
#
# Most word sequences are rare. Of all $V^2$ possible bigrams only a sliver is ever seen, and a
# good share of the n-grams in new text never occurred in training; the longer the n-gram, the
# larger that share. Under $P_{ML}$ every such n-gram has probability 0, so the test text has
# probability 0 and infinite perplexity.

# %%
def ngrams(sentence, n):
    padded = ["<s>"] * (n - 1) + sentence + ["</s>"]
    return [tuple(padded[i : i + n]) for i in range(len(padded) - n + 1)]


unseen_share = []
for n in range(1, 5):
    seen = {g for sentence in train for g in ngrams(sentence, n)}
    test_ngrams = [g for sentence in test for g in ngrams(sentence, n)]
    unseen_share.append(np.mean([g not in seen for g in test_ngrams]))
V = len(unigrams)
print(f"vocabulary V = {V:,}; distinct bigrams seen: {len(bigrams):,} of V^2 = {V * V:,} "
      f"({len(bigrams) / V**2:.3%})")
for n, share in enumerate(unseen_share, start=1):
    print(f"{n}-grams of the test text never seen in training: {share:.1%}")
print("perplexity of the unsmoothed bigram model on the test text:", mle.perplexity([mle.encode(s) for s in test]))

fig = Figure(figsize=(5, 3), layout="constrained")
ax = fig.subplots()
ax.bar(range(1, 5), unseen_share)
ax.set(xlabel="n", ylabel="share of test n-grams unseen", title="sparsity grows with n", xticks=range(1, 5))
fig

# %% [markdown]
# ## Add-one and add-alpha
#
# The oldest fix: pretend every n-gram was seen $\alpha$ more times than it was,
#
# $$ P_{\alpha}(w \mid h) = \frac{c(h\,w) + \alpha}{c(h) + \alpha V}. $$
#
# Add-one ($\alpha = 1$, Laplace) moves far too much probability to the unseen bigrams: with
# $V$ in the thousands, a context seen 10 times gives its observed words less than 1% of its
# mass. A small $\alpha$ (Lidstone), tuned on held-out data, is much better, and still poor.

# %%
def encode_all(model, sentences):
    return [model.encode(sentence) for sentence in sentences]


alphas = [1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001]
heldout_ppl = []
for alpha in alphas:
    model = fit_ngram(train, order=2, method="lidstone", alpha=alpha)
    heldout_ppl.append(model.perplexity(encode_all(model, heldout)))
best_alpha = alphas[int(np.argmin(heldout_ppl))]
for alpha, ppl in zip(alphas, heldout_ppl):
    print(f"alpha = {alpha:<6} held-out perplexity {ppl:8.1f}")
print("best alpha on held-out data:", best_alpha)

# %% [markdown]
# ## Discounting and back-off
#
# Instead of adding to every count, *subtract* a little from the seen ones (absolute discounting:
# $c - D$, with $D \approx 0.75$) and give the freed mass to the unseen words in proportion to a
# lower-order model. Katz back-off does this with Good-Turing discounts and uses the lower order
# only for the words not seen after $h$:
#
# $$ P_{BO}(w \mid h) = \begin{cases} P^*(w \mid h) & c(h\,w) > 0 \\ \beta(h)\, P_{BO}(w \mid h') & \text{otherwise} \end{cases} $$
#
# where $h'$ drops the oldest word of $h$ and $\beta(h)$ makes the distribution sum to 1.
# "Stupid backoff" (Brants et al. 2007) skips the normalisation, multiplying by a constant 0.4;
# cheap for web-scale counts, but its scores are not a distribution:

# %%
katz = fit_ngram(train, order=3, method="katz")
stupid = fit_ngram(train, order=3, method="stupid")
context = stupid.start(1)
for word in ["<s>", "my", "lord"]:
    context = stupid.advance(context, np.array(stupid.encode([word])[-1:]))
print("sum over w of P(w | my lord):  Katz", round(float(np.exp(katz.log_probs(context)).sum()), 6),
      "  stupid backoff", round(float(np.exp(stupid.log_probs(context)).sum()), 3))

discounts = [0.25, 0.5, 0.75, 0.9]
for discount in discounts:
    model = fit_ngram(train, order=3, method="absdisc", discount=discount)
    print(f"absolute discounting D = {discount}: held-out perplexity {model.perplexity(encode_all(model, heldout)):7.1f}")

# %% [markdown]
# ## Interpolation with weights tuned on held-out data
#
# Always mix all orders,
#
# $$ P_I(w \mid w_{t-2} w_{t-1}) = \lambda_3 P_{ML}(w \mid w_{t-2} w_{t-1}) + \lambda_2 P_{ML}(w \mid w_{t-1}) + \lambda_1 P_{ML}(w), \qquad \textstyle\sum_i \lambda_i = 1, $$
#
# with the $\lambda$s chosen to maximise the likelihood of *held-out* data (on the training data
# the highest order would always win). `method="interp"` finds them by EM. It stores them in the
# recursive form $p_n = \lambda_n P_{ML,n} + (1 - \lambda_n)\, p_{n-1}$ (down to a uniform
# $p_0$), which also says what to do when a context was never seen: skip that order. Where every
# context was seen, this is the flat mixture above with weights
# $\mu_3 = \lambda_3$, $\mu_2 = \lambda_2 (1 - \lambda_3)$, $\mu_1 = \lambda_1 (1 - \lambda_2)(1 - \lambda_3)$,
# and the rest, $\mu_0$, for the uniform distribution:

# %%
interp = fit_ngram(train, order=3, method="interp", heldout=heldout)
lambdas = interp.info["lambdas"]                       # lambda_1, lambda_2, lambda_3
weights, rest = {}, 1.0
for n in (3, 2, 1):
    weights[n] = lambdas[n - 1] * rest
    rest *= 1 - lambdas[n - 1]
weights[0] = rest
print("recursive lambdas (EM on held-out data):", [round(x, 3) for x in lambdas])
print("flat mixture weights mu_3, mu_2, mu_1, mu_0 (uniform):",
      [round(weights[n], 3) for n in (3, 2, 1, 0)], " sum", round(sum(weights.values()), 6))
print(f"held-out perplexity {interp.perplexity(encode_all(interp, heldout)):.1f}")

# %% [markdown]
# ## Kneser-Ney
#
# Kneser-Ney changes what the lower order is. A word like "francisco" can be frequent and yet
# follow only one word ("san"); as a back-off for an unseen context it should be unlikely. So the
# lower order counts *continuations*, the number of distinct words a word follows:
#
# $$ P_{cont}(w) = \frac{|\{v : c(v\,w) > 0\}|}{|\{(v, u) : c(v\,u) > 0\}|}. $$
#
# Here are the words whose frequency ranks them far above their number of distinct predecessors:
# words that nearly always follow the same word (the numeral after a king's name, the rest of a
# contraction after its apostrophe, a speaker's name at the start of a line, after `<s>`).

# %%
predecessors = Counter(b for (a, b) in bigrams)
ranked = sorted(unigrams, key=lambda w: predecessors[w] / unigrams[w])
for word in [w for w in ranked if unigrams[w] >= 20][:8]:
    print(f"{word:<12} count {unigrams[word]:5d}   follows {predecessors[word]:4d} distinct words")

# %% [markdown]
# Interpolated Kneser-Ney uses absolute discounting with the continuation counts as its lower
# orders; modified Kneser-Ney (Chen & Goodman 1998) uses three discounts, for counts 1, 2 and
# 3+. It is the standard n-gram baseline (KenLM's default).
#
# ## Perplexity: every method, orders 1 to 4
#
# $$ \mathrm{PPL} = \exp\Big(-\frac{1}{N}\sum_{t=1}^{N} \log P(w_t \mid h_t)\Big) $$
#
# over the $N$ predicted tokens of the test sentences (every word and each `</s>`).

# %%
methods = ["laplace", "lidstone", "katz", "absdisc", "interp", "kn", "mkn"]
orders = [1, 2, 3, 4]
table = {}
for method in methods:
    options = {"alpha": best_alpha} if method == "lidstone" else {}   # alpha tuned for bigrams, above
    if method == "interp":
        options["heldout"] = heldout
    table[method] = []
    for order in orders:
        model = fit_ngram(train, order=order, method=method, **options)
        table[method].append(model.perplexity(encode_all(model, test)))

print(f"{'method':<10}" + "".join(f"{order}-gram".rjust(10) for order in orders))
for method in methods:
    print(f"{method:<10}" + "".join(f"{ppl:10.1f}" for ppl in table[method]))

fig = Figure(figsize=(6.5, 3.6), layout="constrained")
ax = fig.subplots()
for method in methods:
    ax.plot(orders, table[method], marker="o", label=method)
ax.set(xlabel="order n", ylabel="test perplexity", yscale="log", xticks=orders,
       title="tiny Shakespeare words: perplexity by smoothing method and order")
ax.legend(ncol=2, fontsize=8)
fig

# %% [markdown]
# Add-one gets *worse* with every order (ever more mass goes to unseen n-grams), Kneser-Ney keeps
# improving or levels off. With this little data the gain beyond trigrams is small: most
# 4-grams of the test text were never seen.
#
# ## Generated text, from unigram to 4-gram
#
# An n-gram model is a `LanguageModel`, so `scratchlm.sampling.generate` samples from it like
# from any other: start after `<s>`, draw a word, append it, until `</s>`.

# %%
rows = []
for order in orders:
    model = fit_ngram(train, order=order, method="mkn")
    samples = generate(model, [], n=8, max_len=25, rng=order)
    for sample in sorted(samples, key=len, reverse=True)[:2]:   # the two longest of eight sentences
        rows.append((f"{order}-gram", " ".join(model.vocab.decode(sample))))
plot.sample_table(rows, ["model", "sampled sentence (modified Kneser-Ney)"], max_chars=110)

# %% [markdown]
# The unigram model draws words by frequency alone; the bigram makes local sense; the higher
# orders produce longer stretches that read like the play, and some are copied from it: most
# 3-word contexts were seen only once, so after them the model can only repeat what followed.
#
# ## What to take away
#
# - Counting is a language model; sparsity is its problem, and gets worse with the order.
# - Smoothing moves probability from the seen to the unseen. Add-one moves far too much;
#   discounting, back-off and interpolation move a little and ask a lower order where it goes;
#   Kneser-Ney's lower order asks "in how many contexts does this word appear?".
# - Perplexity on held-out text is the yardstick, the same one used for the neural models in the
#   following notebooks.
#
# ## Exercises
#
# The checker exercises for this lecture (`scratchlm exercise list` names them): n-gram
# counting, add-$k$ smoothing, interpolation, Kneser-Ney, and perplexity. Copy the templates with
# `scratchlm exercise copy my_exercises` and check each with
# `scratchlm exercise check NAME my_exercises/FILE.py`; the checker compares your values with
# `scratchlm.ngram` on several generated corpora. Then:
#
# 1. *Inline question:* the unsmoothed bigram model above has an infinite test perplexity.
#    Which single test bigram is enough for that? Why does a language model need to give every
#    sequence a non-zero probability?
# 2. Show that add-one smoothing moves the most probability mass away from the *frequent*
#    contexts' seen words when $V$ is large. Compute, for the context "my", the total probability
#    add-one gives to words never seen after "my".
# 3. Stupid back-off's scores do not sum to 1 (printed above). Why is its perplexity
#    meaningless, and why is it still used for very large corpora?
# 4. Tune the interpolation weights $\lambda_1, \lambda_2, \lambda_3$ of a trigram model by grid
#    search on the held-out sentences, and compare with the weights `fit_ngram(..., method="interp")`
#    finds. Why must the weights be tuned on held-out data and not on the training data?
# 5. Compute the Kneser-Ney continuation probability $P_{cont}$ of "lord" and of "francisco"
#    (or the words of the table above) by hand from the counts, and compare with their unigram
#    probabilities.
# 6. Train a character-level 5-gram (`scratchlm ngram --order 5 --method mkn` on the Finnish
#    names) and compare its perplexity with the LSTM of notebook 6.
