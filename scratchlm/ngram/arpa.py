"""ARPA files: the standard text format of back-off n-gram models (SRILM, KenLM, ...).

An ARPA file lists every n-gram with its log10 probability and, for n-grams that are contexts,
a log10 back-off weight; a model is scored with the back-off rule of model.py::

    \\data\\
    ngram 1=3
    ngram 2=2

    \\1-grams:
    -0.47712125   </s>    0
    -99           <s>     -0.30103
    -0.47712125   a       -0.17609126
    ...
    \\2-grams:
    -0.17609126   <s> a
    ...
    \\end\\

Our ``<bos>``/``<eos>`` are written ``<s>``/``</s>``; ``<pad>`` is never written; a probability
of zero is written as -99 (the convention for ``<s>``, which is never predicted). Since every
model here is stored in this form, exporting is a change of logarithm base; the perplexity
KenLM computes from the file is the model's own (tests check it when ``kenlm`` is installed).
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from scratchlm.ngram.model import NGramLM
from scratchlm.ngram.trie import find_keys
from scratchlm.text.vocab import Vocabulary

LOG10_ZERO = -99.0
# what KenLM gives <unk> when an ARPA file lacks it
MISSING_UNK_LOG10 = -100.0
LN10 = math.log(10.0)


def _ngram_ids(model: NGramLM, n: int) -> np.ndarray:
    """(R_n, n) the word ids of every n-gram of order n, read back through the context rows."""
    ids = np.empty((len(model.keys[n - 1]), n), dtype=np.int64)
    row = np.arange(len(model.keys[n - 1]))
    for position in range(n - 1, -1, -1):
        order = position + 1
        ids[:, position] = model.words[order - 1][row]
        row = model.context_rows[order - 1][row]
    return ids


def _word_strings(model: NGramLM) -> np.ndarray:
    if model.vocab is None:
        raise ValueError("writing an ARPA file needs the words: this model was built from ids without a Vocabulary")
    names = list(model.vocab.itos)
    for token in names:
        if any(ch.isspace() for ch in token):
            raise ValueError(f"token {token!r} contains whitespace, which ARPA files cannot hold")
    names[model.bos_id], names[model.eos_id], names[model.vocab.unk_id] = "<s>", "</s>", "<unk>"
    return np.array(names, dtype=object)


def _log10_text(values: np.ndarray) -> list[str]:
    return [f"{v:.8g}" if v > LOG10_ZERO else "-99" for v in (values / LN10)]


def write_arpa(model: NGramLM, path) -> None:
    """Write ``model`` to ``path`` in ARPA format (log10 probabilities and back-off weights)."""
    if not model.is_distribution:
        raise ValueError(f"method {model.method!r} is not a distribution, so it has no ARPA file")
    if model.unseen_context_log_backoff != 0.0:
        raise ValueError("this model charges back-off for unseen contexts, which ARPA files cannot express")
    names = _word_strings(model)
    keep = [np.ones(len(k), dtype=bool) for k in model.keys]
    keep[0][model.vocab.pad_id] = False
    sections = []
    for n in range(1, model.order + 1):
        ids = _ngram_ids(model, n)[keep[n - 1]]
        words = names[ids[:, 0]]
        for position in range(1, n):
            words = words + " " + names[ids[:, position]]
        probs = _log10_text(model.log_prob[n - 1][keep[n - 1]])
        if n < model.order:
            backoffs = _log10_text(model.log_backoff[n - 1][keep[n - 1]])
            lines = [f"{p}\t{w}\t{b}" for p, w, b in zip(probs, words, backoffs)]
        else:
            lines = [f"{p}\t{w}" for p, w in zip(probs, words)]
        sections.append((n, lines))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\\data\\\n")
        for n, lines in sections:
            f.write(f"ngram {n}={len(lines)}\n")
        for n, lines in sections:
            f.write(f"\n\\{n}-grams:\n")
            f.write("\n".join(lines))
            f.write("\n")
        f.write("\n\\end\\\n")


def _read_sections(path):
    """The declared n-gram counts and, per order, the (line number, fields) of every entry."""
    declared, sections, current = {}, {}, None
    try:
        with open(path, encoding="utf-8") as f:
            lines = list(enumerate(f, start=1))
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not UTF-8 text, so not an ARPA file ({err})") from None
    for number, line in lines:
        line = line.strip()
        if not line:
            continue
        if line == "\\data\\":
            current = "data"
        elif line == "\\end\\":
            current = None
            break
        elif line.startswith("\\") and line.endswith("-grams:"):
            try:
                current = int(line[1:-len("-grams:")])
            except ValueError:
                raise ValueError(f"{path}:{number}: expected a section header like '\\2-grams:', got {line!r}") from None
            if current not in declared:
                raise ValueError(f"{path}:{number}: section {line!r} for an order the \\data\\ header does not declare")
            sections[current] = []
        elif current == "data":
            n, equals, count = line[len("ngram "):].partition("=")
            if not line.startswith("ngram ") or not equals or not n.strip().isdigit() or not count.strip().isdigit():
                raise ValueError(f"{path}:{number}: expected 'ngram N=count' in the \\data\\ section, got {line!r}")
            declared[int(n)] = int(count)
        elif isinstance(current, int):
            sections[current].append((number, line.split()))
        else:
            raise ValueError(f"{path}:{number}: text outside any ARPA section: {line!r}")
    if not declared:
        raise ValueError(f"{path} is not an ARPA file: no \\data\\ section")
    if 1 not in declared:
        raise ValueError(f"{path}: the \\data\\ header declares no 1-grams")
    for n, count in declared.items():
        if len(sections.get(n, [])) != count:
            raise ValueError(f"{path}: the header declares {count} {n}-grams, the file lists {len(sections.get(n, []))}")
    return declared, sections


def _number(path, line_number: int, text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{path}:{line_number}: expected a number for the {what}, got {text!r}") from None
    if math.isnan(value) or value == math.inf:
        raise ValueError(f"{path}:{line_number}: the {what} is {text!r}, which is not a log10 probability")
    return value


def _parse_entries(path, n: int, entries) -> tuple[list, np.ndarray, np.ndarray]:
    """Words, log10 probabilities and log10 back-offs of the n-gram lines of order ``n``."""
    words, probs, backs = [], [], []
    for line_number, fields in entries:
        if len(fields) not in (n + 1, n + 2):
            raise ValueError(f"{path}:{line_number}: a {n}-gram line needs 'logprob', {n} word(s) and an optional "
                             f"back-off, got {' '.join(fields)!r}")
        prob = _number(path, line_number, fields[0], "log10 probability")
        if prob > 0:
            raise ValueError(f"{path}:{line_number}: log10 probability {fields[0]} > 0 is a probability above 1")
        words.append(fields[1:n + 1])
        probs.append(prob)
        backs.append(_number(path, line_number, fields[n + 1], "log10 back-off") if len(fields) == n + 2 else 0.0)
    return words, np.array(probs, dtype=np.float64), np.array(backs, dtype=np.float64)


def read_arpa(path) -> NGramLM:
    """Read an ARPA file (ours, KenLM's, SRILM's) into an NGramLM (method "arpa").

    The vocabulary is the file's unigrams in file order; ``<s>`` gets probability 0 as an
    outcome (it is never predicted), whatever the file says. Like KenLM, a file without
    ``<unk>`` gives it log10 probability -100 (with a warning), so an unknown word costs much
    but not infinitely much. A log10 probability above 0 is refused, and every error names
    the file and the line.
    """
    declared, sections = _read_sections(Path(path))
    order = max(declared)
    unigram_words, unigram_probs, unigram_backs = _parse_entries(path, 1, sections[1])
    words = [w[0] for w in unigram_words]
    special = {"<s>": Vocabulary.bos_id, "</s>": Vocabulary.eos_id, "<unk>": Vocabulary.unk_id}
    vocab = Vocabulary([w for w in words if w not in special])
    vocab_size = len(vocab)
    stoi = dict(vocab.stoi)
    stoi.update(special)
    keys, log_prob, log_backoff = [], [], []
    for n in range(1, order + 1):
        entries = sections.get(n, [])
        if n == 1:
            ngram_words, probs, backs = unigram_words, unigram_probs, unigram_backs
        else:
            ngram_words, probs, backs = _parse_entries(path, n, entries)
        rows = []
        for (line_number, _), ngram in zip(entries, ngram_words):
            unknown = [w for w in ngram if w not in stoi]
            if unknown:
                raise ValueError(f"{path}:{line_number}: the {n}-gram uses the word {unknown[0]!r}, which is not a 1-gram")
            rows.append([stoi[w] for w in ngram])
        ids = np.array(rows, dtype=np.int64).reshape(-1, n)
        probs, backs = probs * LN10, backs * LN10
        probs[probs <= LOG10_ZERO * LN10] = -np.inf
        if n == 1:
            row_keys = ids[:, 0]
            if len(np.unique(row_keys)) != len(row_keys):
                first = _first_repeat(row_keys)
                raise ValueError(f"{path}:{entries[first][0]}: the 1-gram {ngram_words[first][0]!r} is listed twice")
            dense_prob, dense_back = np.full(vocab_size, -np.inf), np.zeros(vocab_size)
            dense_prob[row_keys], dense_back[row_keys] = probs, backs
            if "<unk>" not in words:
                dense_prob[vocab.unk_id] = MISSING_UNK_LOG10 * LN10
            dense_prob[vocab.bos_id] = -np.inf
            keys.append(np.arange(vocab_size, dtype=np.int64))
            log_prob.append(dense_prob)
            log_backoff.append(dense_back)
            continue
        prefix = ids[:, 0]
        for k in range(2, n):
            prefix = find_keys(keys[k - 1], prefix * vocab_size + ids[:, k - 1])
            if np.any(prefix < 0):
                first = int(np.argmax(prefix < 0))
                raise ValueError(f"{path}:{entries[first][0]}: the {n}-gram {' '.join(ngram_words[first])!r} has no "
                                 f"{k}-gram prefix in the file")
        row_keys = prefix * vocab_size + ids[:, n - 1]
        if len(np.unique(row_keys)) != len(row_keys):
            first = _first_repeat(row_keys)
            raise ValueError(f"{path}:{entries[first][0]}: the {n}-gram {' '.join(ngram_words[first])!r} is listed twice")
        sort = np.argsort(row_keys, kind="stable")
        keys.append(row_keys[sort])
        log_prob.append(probs[sort])
        log_backoff.append(backs[sort])
    if "<unk>" not in words:
        warnings.warn(f"{path}: the ARPA file has no <unk>; giving it log10 probability {MISSING_UNK_LOG10:g} "
                      "as KenLM does", stacklevel=2)
    return NGramLM(vocab_size, vocab.bos_id, vocab.eos_id, keys, log_prob, log_backoff, "arpa", vocab=vocab,
                   info={"ngrams_per_order": [declared[n] for n in sorted(declared)]})


def _first_repeat(values: np.ndarray) -> int:
    """Index of the first element equal to an earlier one."""
    seen = set()
    for index, value in enumerate(values.tolist()):
        if value in seen:
            return index
        seen.add(value)
    raise ValueError("no repeated value")
