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
from pathlib import Path

import numpy as np

from scratchlm.ngram.model import NGramLM
from scratchlm.ngram.trie import find_keys
from scratchlm.text.vocab import Vocabulary

LOG10_ZERO = -99.0
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
    declared, sections, current = {}, {}, None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            if line == "\\data\\":
                current = "data"
            elif line == "\\end\\":
                current = None
                break
            elif line.startswith("\\") and line.endswith("-grams:"):
                current = int(line[1:-len("-grams:")])
                sections[current] = []
            elif current == "data":
                if not line.startswith("ngram ") or "=" not in line:
                    raise ValueError(f"{path}:{number}: expected 'ngram N=count' in the \\data\\ section, got {line!r}")
                n, count = line[len("ngram "):].split("=")
                declared[int(n)] = int(count)
            elif isinstance(current, int):
                sections[current].append(line.split())
            else:
                raise ValueError(f"{path}:{number}: text outside any ARPA section: {line!r}")
    if not declared:
        raise ValueError(f"{path} is not an ARPA file: no \\data\\ section")
    for n, count in declared.items():
        if len(sections.get(n, [])) != count:
            raise ValueError(f"{path}: the header declares {count} {n}-grams, the file lists {len(sections.get(n, []))}")
    return declared, sections


def read_arpa(path) -> NGramLM:
    """Read an ARPA file (ours, KenLM's, SRILM's) into an NGramLM (method "arpa").

    The vocabulary is the file's unigrams in file order; ``<s>`` gets probability 0 as an
    outcome (it is never predicted), whatever the file says.
    """
    declared, sections = _read_sections(Path(path))
    order = max(declared)
    words = []
    for fields in sections[1]:
        if len(fields) not in (2, 3):
            raise ValueError(f"{path}: a 1-gram line needs 'logprob word [backoff]', got {' '.join(fields)!r}")
        words.append(fields[1])
    special = {"<s>": Vocabulary.bos_id, "</s>": Vocabulary.eos_id, "<unk>": Vocabulary.unk_id}
    vocab = Vocabulary([w for w in words if w not in special])
    vocab_size = len(vocab)
    stoi = dict(vocab.stoi)
    stoi.update(special)
    keys, log_prob, log_backoff = [], [], []
    for n in range(1, order + 1):
        lines = sections.get(n, [])
        if any(len(f) not in (n + 1, n + 2) for f in lines):
            raise ValueError(f"{path}: every {n}-gram line needs 'logprob' then {n} words then an optional back-off")
        try:
            ids = np.array([[stoi[w] for w in f[1:n + 1]] for f in lines], dtype=np.int64).reshape(-1, n)
        except KeyError as err:
            raise ValueError(f"{path}: the {n}-grams use the word {err.args[0]!r}, which is not a 1-gram") from None
        probs = np.array([float(f[0]) for f in lines], dtype=np.float64) * LN10
        backs = np.array([float(f[n + 1]) if len(f) == n + 2 else 0.0 for f in lines], dtype=np.float64) * LN10
        probs[probs <= LOG10_ZERO * LN10] = -np.inf
        if n == 1:
            row_keys = ids[:, 0]
            dense_prob, dense_back = np.full(vocab_size, -np.inf), np.zeros(vocab_size)
            dense_prob[row_keys], dense_back[row_keys] = probs, backs
            dense_prob[vocab.bos_id] = -np.inf
            keys.append(np.arange(vocab_size, dtype=np.int64))
            log_prob.append(dense_prob)
            log_backoff.append(dense_back)
            continue
        prefix = ids[:, 0]
        for k in range(2, n):
            prefix = find_keys(keys[k - 1], prefix * vocab_size + ids[:, k - 1])
            if np.any(prefix < 0):
                bad = ids[np.argmax(prefix < 0)]
                raise ValueError(f"{path}: the {n}-gram {' '.join(vocab.itos[i] for i in bad)!r} has no "
                                 f"{k}-gram prefix in the file")
        row_keys = prefix * vocab_size + ids[:, n - 1]
        sort = np.argsort(row_keys, kind="stable")
        row_keys = row_keys[sort]
        if np.any(np.diff(row_keys) == 0):
            raise ValueError(f"{path}: some {n}-gram is listed twice")
        keys.append(row_keys)
        log_prob.append(probs[sort])
        log_backoff.append(backs[sort])
    return NGramLM(vocab_size, vocab.bos_id, vocab.eos_id, keys, log_prob, log_backoff, "arpa", vocab=vocab,
                   info={"ngrams_per_order": [declared[n] for n in sorted(declared)]})
