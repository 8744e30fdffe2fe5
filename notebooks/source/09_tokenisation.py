# %% [markdown]
# # 9. Tokenisation: characters, words and sub-words
#
# A language model predicts *tokens*, and what a token is decides a lot: how long the sequences
# are, how large the softmax is, and whether the model can write a word it has never seen. This
# notebook compares the three tokenizers of `scratchlm.text`:
#
# 1. **characters** (`CharTokenizer`): a tiny vocabulary, nothing is ever unknown, long sequences;
# 2. **words** (`WordTokenizer`): short sequences, but a huge vocabulary with a long tail of rare
#    words, and every word not seen in training becomes `<unk>`;
# 3. **sub-words** learned by byte-pair encoding (`BPETokenizer`, Sennrich et al. 2016): frequent
#    words are one token, rare words a few pieces.
#
# Then Finnish, where one noun has hundreds of forms (*talo*, *talossa*, *talostakin*, ...):
# there a word vocabulary fails and sub-words shine.

# %%
%matplotlib inline
import os
from collections import Counter

import numpy as np
from matplotlib.figure import Figure

from scratchlm.data import load_corpus
from scratchlm.text import BPETokenizer, CharTokenizer, WordTokenizer

SMALL = os.environ.get("SCRATCHLM_NOTEBOOK_SMALL") == "1"
train_chars = 100_000 if SMALL else None        # None: the whole training split
merge_counts = [0, 100, 300, 1000] if SMALL else [0, 100, 300, 1000, 3000]

# %% [markdown]
# ## The data: tiny Shakespeare
#
# One million characters of Shakespeare's plays for training, the last tenth for validation.

# %%
corpus = load_corpus("tinyshakespeare")
train_text = corpus.train[:train_chars]
valid_text = corpus.valid
print(f"training text: {len(train_text):,} characters; validation text: {len(valid_text):,}")
sentence = "Romeo, Romeo! wherefore art thou Romeo?"

# %% [markdown]
# ## Characters
#
# The vocabulary is the set of characters: 65 for this text (letters, punctuation, space, the
# newline), plus the four special tokens `<pad> <unk> <bos> <eos>`. A sentence is as many tokens as
# it has characters.

# %%
chars = CharTokenizer.fit(train_text)
print("vocabulary size:", len(chars))
print(f"{sentence!r}: {len(chars.encode(sentence))} tokens")

# %% [markdown]
# ## Words, and Zipf's law
#
# Split at spaces and punctuation, every distinct word is a token. Word frequencies follow
# Zipf's law: the $r$-th most frequent word occurs about $C / r$ times, a straight line of
# slope $-1$ on log-log axes. So most distinct words are rare: about half of them occur once.

# %%
words = WordTokenizer.fit(train_text, lowercase=True)
train_words = words.words(train_text)
counts = Counter(train_words)
frequencies = np.array(sorted(counts.values(), reverse=True))
ranks = np.arange(1, len(frequencies) + 1)
print(f"{len(train_words):,} words in the training text, {len(counts):,} distinct")
print(f"words seen once: {np.sum(frequencies == 1):,} ({np.mean(frequencies == 1):.0%} of the distinct words)")

fig = Figure(figsize=(6, 3.4), layout="constrained")
ax = fig.subplots()
ax.loglog(ranks, frequencies, label="tiny Shakespeare")
ax.loglog(ranks, frequencies[0] / ranks, "--", color="gray", label="C / rank (Zipf)")
ax.set(xlabel="rank of the word", ylabel="count", title="word counts against their rank")
ax.legend()
fig

# %% [markdown]
# Every word of the validation text that the training text lacks is *out of vocabulary* (OOV):
# the model can only say `<unk>`. Keeping only frequent words (a smaller softmax) makes more of
# them unknown:

# %%
valid_words = words.words(valid_text)
for min_count in (1, 2, 5):
    kept = {word for word, count in counts.items() if count >= min_count}
    oov = np.mean([word not in kept for word in valid_words])
    print(f"keep words seen >= {min_count} times: vocabulary {len(kept):6,}, validation words unknown {oov:.1%}")

# %% [markdown]
# ## Byte-pair encoding
#
# BPE starts from characters and repeatedly glues the most frequent adjacent pair of symbols
# into a new symbol; the learned merges, applied in order, cut any text into pieces. The first
# merges of Shakespeare (a leading space marks the start of a word):

# %%
bpe = BPETokenizer.fit(train_text, num_merges=merge_counts[-1])
print("first merges:", ["".join(pair) for pair in bpe.merges[:16]])
print("vocabulary size:", len(bpe), "(4 specials, 256 byte tokens, the characters, one token per merge)")
print(f"{sentence!r} -> {bpe.tokens(sentence)}")
print("a word Shakespeare never wrote:", bpe.tokens(" unforgettable"))

# %% [markdown]
# The number of merges is a dial between characters (0 merges) and words (many merges): each
# merge adds a token to the vocabulary and makes the text shorter. Tokens per character of the
# validation text, against the vocabulary size:

# %%
valid_sample = valid_text[:20_000]
sizes, lengths = [], []
for num_merges in merge_counts:
    tokenizer = BPETokenizer(bpe.alphabet, bpe.merges[:num_merges])
    sizes.append(len(tokenizer))
    lengths.append(len(tokenizer.encode(valid_sample)) / len(valid_sample))
    print(f"{num_merges:5d} merges: vocabulary {sizes[-1]:5d}, {lengths[-1]:.3f} tokens per character")
word_length = len(words.tokens(valid_sample)) / len(valid_sample)

fig = Figure(figsize=(6, 3.4), layout="constrained")
ax = fig.subplots()
ax.plot(sizes, lengths, "o-", label="BPE (0 merges = characters)")
ax.axhline(word_length, color="gray", linestyle="--", label="words (with <eos> per line)")
ax.set(xscale="log", xlabel="vocabulary size", ylabel="tokens per character",
       title="longer vocabularies, shorter sequences", ylim=(0, 1.05))
ax.legend()
fig

# %% [markdown]
# ## Finnish: case endings and compounds
#
# A Finnish noun takes a case ending, a plural marker, a possessive suffix and a clitic, one
# after the other: *talo* 'house', *talossa* 'in the house', *talostakin* 'from the house, too',
# *taloissammekin* 'in our houses, too'. One noun has hundreds of forms, and compounds glue nouns
# together (*nimipäivä* 'name day' = *nimi* 'name' + *päivä* 'day'). A word vocabulary needs a
# token for every form; most forms of most words are never seen in training.
#
# The bundled corpora hold no running Finnish text, but they hold the 750 names of the Finnish
# name-day calendar, and names are inflected like nouns. We inflect them by rule, with the
# common endings (a simplification of Finnish morphology that is enough here: vowel harmony
# picks -ssa or -ssä, and a name ending in a consonant gets the linking vowel -i-, *Aadolf* ->
# *Aadolfissa*):

# %%
names = load_corpus("finnish-names")
CASES = {"nominative": "", "genitive": "n", "inessive": "ssa", "elative": "sta", "adessive": "lla",
         "ablative": "lta", "allative": "lle", "essive": "na", "translative": "ksi", "abessive": "tta"}
CLITICS = ["", "kin", "kaan", "han"]


def harmonise(ending, stem):
    """Front-vowel words (no a, o, u) take ä, ö and y in their endings: talossa but kylässä."""
    if any(vowel in stem.lower() for vowel in "aou"):
        return ending
    return ending.translate(str.maketrans("aou", "äöy"))


def forms(name):
    stem = name + ("i" if name[-1].lower() not in "aeiouyäö" else "")
    return [(name if case == "" else stem) + harmonise(case + clitic, stem)
            for case in CASES.values() for clitic in CLITICS]


print(len(forms("Anna")), "forms of one name:", ", ".join(forms("Anna")[:12]), "...")
print("and of a front-vowel name:", ", ".join(forms("Päivi")[:8]), "...")
# Two common nouns join the training forms, for the compounds at the end: nimi 'name', päivä 'day'.
train_forms = [form for word in [*names.train, "nimi", "päivä"] for form in forms(word)]
test_forms = [form for name in names.test for form in forms(name)]
print(f"{len(train_forms):,} training forms (of {len(names.train)} names and 2 nouns), {len(test_forms):,} test forms")

# %% [markdown]
# Three tokenizers fitted on the training forms, scored on the forms of the *test* names (names
# the tokenizers have not seen). The word tokenizer knows almost none of them; characters and
# BPE know them all (up to a letter or two that no training name has), BPE in far fewer tokens:

# %%
finnish = {
    "characters": CharTokenizer.fit(train_forms),
    "words": WordTokenizer.fit(train_forms),
    "BPE": BPETokenizer.fit(train_forms, num_merges=300 if SMALL else 1000),
}
for label, tokenizer in finnish.items():
    ids = [tokenizer.encode(form, unknown="unk") for form in test_forms]
    unknown = np.mean([token == 1 for form_ids in ids for token in form_ids])   # id 1 is <unk>
    length = np.mean([len(form_ids) for form_ids in ids])
    print(f"{label:<10} vocabulary {len(tokenizer):6,}   tokens per test form {length:5.2f}   unknown {unknown:6.1%}")

# %% [markdown]
# Where do the cuts fall? Every name takes the same endings, so BPE learns them as pieces,
# usually glued to the vowel before them and to a clitic after them (*-ossa*, *-ostakin*), as
# they occur in the names. A name it has never seen is cut into pieces of its stem and its
# ending, and so is a noun that is not a name at all: *talo* 'house' shares nothing with the
# names but its endings, so its stem is spelled in small pieces and its endings in large ones.

# %%
segmenter = finnish["BPE"]
examples = [names.test[0], names.test[0] + "ssakin", names.test[1] + "lta",
            "talo", "talossa", "talostakin", "talolle", "taloksihan", "kylässä", "kylästäkään"]
for word in examples:
    print(f"{word:<16} -> {' | '.join(segmenter.tokens(word))}")

# %% [markdown]
# Compounds go the same way: the word vocabulary holds *nimi* and *päivä* (and all their forms)
# but has no token for *nimipäivä*; the sub-word tokenizer writes it with the pieces it has.

# %%
for word in ["nimi", "päivä", "nimipäivä", "nimipäivänä", "Annanpäivä"]:
    known = word in finnish["words"].vocab
    print(f"{word:<13} word vocabulary: {'known' if known else '<unk>':<6}  BPE: {' | '.join(segmenter.tokens(word))}")

# %% [markdown]
# ## What to take away
#
# - Characters never meet an unknown token but make long sequences; words make short sequences
#   but a vocabulary with a Zipfian tail, and every unseen word becomes `<unk>`.
# - BPE's merge count is a dial between the two: each merge adds a token and shortens the text.
# - In a language that builds words from a stem and endings (Finnish, Turkish, Hungarian), or
#   glues nouns into compounds (Finnish, German), most word forms are rare or unseen; sub-words
#   learn the endings and the stems as pieces and cover new forms.
#
# ## Exercises
#
# 1. Count, from the output above, how many Shakespeare validation words are unknown at
#    `min_count = 1`. Which kinds of words are they? Print twenty of them.
# 2. Perplexities computed with different tokenizers cannot be compared directly: a
#    word-level perplexity of 100 and a character-level one of 3 measure different things.
#    Convert both to *bits per character* (total negative log-likelihood in bits divided by the
#    number of characters of the text). Why is this fair, and what must be counted as a
#    character (spaces? newlines? `<eos>`)?
# 3. Train `scratchlm train tinyshakespeare --tokenizer bpe` and `--tokenizer char` with the
#    same hidden size for the same time, and compare their validation bits per character.
# 4. BPE breaks ties between equally frequent pairs by string order. Find two merges in
#    `bpe.merges` whose order was decided by that rule (hint: recount the pairs).
# 5. Inflect the names with the plural inessive (*taloissa*: the plural marker *-i-* before the
#    case ending) and check how BPE, fitted on the singular forms only, segments them.
# 6. *Inline question:* a character model trained on the Finnish names has seen every letter.
#    Can it still produce a name form with a case ending it has never seen? What does that say
#    about what "unknown" means at the character level?
#
# The checker exercises of `scratchlm exercise list` begin where the tokens become ids: the
# embedding forward and backward passes (notebook 2).
