"""The problems of the exercises that compute values: clipping, batching, n-grams, perplexity,
decoding. Each is checked against scratchlm's own implementation on several generated problems,
with sizes that are pairwise different; the sampling exercise is checked on the distribution of
its draws, never on the draws themselves.
"""
from __future__ import annotations

import copy
import math

import numpy as np

from scratchlm import beam, metrics, sampling
from scratchlm.data.batching import StreamBatches
from scratchlm.exercises import cases, forward
from scratchlm.exercises.cases import AnswerShapeError, Problem, expect_tuple
from scratchlm.lm import LanguageModel
from scratchlm.ngram.counting import NGramCounts
from scratchlm.ngram.fit import fit_ngram
from scratchlm.ngram.linear_interpolation import interpolate_with_lambdas
from scratchlm.ngram.model import NGramLM
from scratchlm.train.clipping import clip_grad_norm


class BigramTableLM(LanguageModel):
    """A language model read from a (V, V) table of P(next | previous); the state is the previous id.

    The row of ``bos_id`` is the distribution of the first token; the column of ``bos_id`` is 0.
    """

    def __init__(self, table: np.ndarray, bos_id: int, eos_id: int):
        self.vocab_size = table.shape[0]
        self.bos_id, self.eos_id = bos_id, eos_id
        with np.errstate(divide="ignore"):
            self.log_table = np.log(table)

    def start(self, batch_size):
        return np.full(batch_size, self.bos_id, dtype=np.int64)

    def log_probs(self, state):
        return self.log_table[np.asarray(state)].copy()

    def advance(self, state, tokens):
        return np.asarray(tokens, dtype=np.int64).copy()

    def select(self, state, rows):
        return np.asarray(state)[np.asarray(rows)].copy()


def random_bigram_lm(rng, vocab: int, concentration: float = 1.0) -> BigramTableLM:
    """A bigram LM over ids 0..V-1 with <bos> = V - 2 and <eos> = V - 1 (so V - 1 is predicted)."""
    bos, eos = vocab - 2, vocab - 1
    table = rng.dirichlet(np.full(vocab, concentration), size=vocab)
    table[:, bos] = 0.0
    table /= table.sum(axis=1, keepdims=True)
    return BigramTableLM(table, bos, eos)


# --- gradient clipping -----------------------------------------------------------------------------

def clip_problem(rng, index):
    shapes = [((5, 3), (7,), (2, 4, 6)), ((4, 9), (3,)), ((6, 2), (11,), (3, 5))][index]
    grads = {f"g{k}": rng.normal(0.0, 1.0, shape) for k, shape in enumerate(shapes)}
    norm = math.sqrt(sum(float((g**2).sum()) for g in grads.values()))
    # Problem 1 needs no clipping (max_norm above the norm): the gradients must stay as they are.
    max_norm = norm * (1.7 if index == 1 else [0.3, None, 0.05][index])
    expected = copy.deepcopy(grads)
    expected_norm = clip_grad_norm(expected, max_norm)

    def interpret(outcome):
        returned, arguments = outcome
        if returned is None:
            raise AnswerShapeError("your function returned None: return the global norm measured before clipping")
        clipped = arguments[0]
        if not isinstance(clipped, dict):
            raise AnswerShapeError("grads must stay a dict and be changed in place")
        out = {"norm": returned}
        for name in grads:
            out[f"grads[{name!r}]"] = clipped.get(name)
        return out

    def reference():
        return {"norm": np.float64(expected_norm), **{f"grads[{name!r}]": value for name, value in expected.items()}}

    return Problem("clip_grad_norm", {"arrays": len(shapes), "max_norm / norm": round(max_norm / norm, 3)},
                   lambda: (copy.deepcopy(grads), max_norm), interpret, reference,
                   context={"norm": norm, "max_norm": max_norm, "grads": grads})


# --- the truncated-BPTT stream batcher -------------------------------------------------------------

BATCHER_SIZES = ({"N": 47, "B": 3, "bptt": 5}, {"N": 38, "B": 4, "bptt": 2}, {"N": 61, "B": 2, "bptt": 7})


def stream_windows_problem(rng, index):
    sizes = BATCHER_SIZES[index]
    ids = rng.integers(0, 1000, sizes["N"])
    expected = list(StreamBatches(ids, sizes["B"], sizes["bptt"]))

    def interpret(returned):
        if not isinstance(returned, (list, tuple)):
            try:
                returned = list(returned)
            except TypeError:
                raise AnswerShapeError(f"expected a list of (inputs, targets) pairs, got a {type(returned).__name__}")
        out = {"number of windows": np.asarray(len(returned))}
        for k, pair in enumerate(returned[: len(expected)]):
            inputs, targets = expect_tuple(pair, 2, f"window {k} as a pair (inputs, targets)")
            out[f"inputs of window {k}"], out[f"targets of window {k}"] = inputs, targets
        return out

    def reference():
        out = {"number of windows": np.asarray(len(expected))}
        for k, (inputs, targets) in enumerate(expected):
            out[f"inputs of window {k}"], out[f"targets of window {k}"] = inputs, targets
        return out

    return Problem("stream_windows", dict(sizes), lambda: (ids.copy(), sizes["B"], sizes["bptt"]), interpret,
                   reference, context={"ids": ids, **sizes})


def given_rnn_forward(x, h0, params):
    """The Elman RNN over one window, handed to the run_windows exercise: (hs (B, T, H), h_T)."""
    hs, h_last, _ = forward.rnn_forward(x, h0, params)
    return hs, h_last


CARRY_SIZES = ({"B": 3, "E": 4, "H": 5, "windows": (6, 6, 2)}, {"B": 2, "E": 3, "H": 7, "windows": (4, 4, 4, 1)},
               {"B": 5, "E": 2, "H": 3, "windows": (8, 3)})


def run_windows_problem(rng, index):
    sizes = CARRY_SIZES[index]
    B, E, H, lengths = sizes["B"], sizes["E"], sizes["H"], sizes["windows"]
    x = rng.normal(0.0, 1.0, (B, sum(lengths), E))
    h0 = rng.normal(0.0, 0.5, (B, H))
    params = cases.cell_params(rng, {"E": E, "H": H}, 1)
    cuts = np.cumsum(lengths)[:-1]
    windows = np.split(x, cuts, axis=1)

    def interpret(returned):
        hs, starts = expect_tuple(returned, 2, "(hs, starts)")
        if not isinstance(starts, (list, tuple)):
            raise AnswerShapeError(f"expected starts as a list of (B, H) states, one per window, got a "
                                   f"{type(starts).__name__}")
        out = {"hs": hs, "number of start states": np.asarray(len(starts))}
        for k, state in enumerate(starts[: len(windows)]):
            out[f"start state of window {k + 1}"] = state
        return out

    def reference():
        hs, _, _ = library_rnn(x, h0, params)
        out = {"hs": hs, "number of start states": np.asarray(len(windows))}
        for k in range(len(windows)):
            out[f"start state of window {k + 1}"] = h0 if k == 0 else hs[:, cuts[k - 1] - 1]
        return out

    return Problem("run_windows", {"B": B, "E": E, "H": H, "window lengths": lengths},
                   lambda: ([w.copy() for w in windows], h0.copy(), copy.deepcopy(params), given_rnn_forward),
                   interpret, reference, context={"windows": windows, "h0": h0, "params": params},
                   time_axes={"hs": 1})


def library_rnn(x, h0, params):
    from scratchlm.exercises import library

    out = library.rnn_sequence(x, h0, params, np.zeros(x.shape[:2] + (h0.shape[1],)), np.zeros_like(h0))
    return out["hs"], out["h_last"], None


# --- n-grams ---------------------------------------------------------------------------------------

WORDS = ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k")
NGRAM_SIZES = ({"words": 6, "sentences": 9, "n": 2}, {"words": 8, "sentences": 7, "n": 3},
               {"words": 5, "sentences": 11, "n": 2})


def corpus(rng, words: int, sentences: int, unseen: int | None = None) -> list[list[int]]:
    """Sentences of word ids 0..W-1 that use every word but ``unseen``, one of them empty."""
    used = [w for w in range(words) if w != unseen]
    out = [list(rng.choice(used, rng.integers(1, 6))) for _ in range(sentences - 2)]
    out.append(list(rng.permutation(used)))
    out.insert(int(rng.integers(0, len(out))), [])
    return [[int(w) for w in s] for s in out]


def count_ngrams_problem(rng, index):
    sizes = NGRAM_SIZES[index]
    W, n = sizes["words"], sizes["n"]
    sentences = corpus(rng, W, sizes["sentences"])
    strings = [[WORDS[w] for w in s] for s in sentences]
    names = list(WORDS[:W]) + ["<s>", "</s>"]

    def reference():
        # Rebuild each n-gram's words from its table row: (context row, last word), order by order.
        tables = NGramCounts(sentences, n, W + 2, W, W + 1)
        grams = [(names[w],) for w in range(W + 2)]
        for order in range(2, n + 1):
            table = tables.table(order)
            grams = [grams[int(r)] + (names[int(w)],) for r, w in zip(table.context_rows, table.words)]
        return {"counts": {gram: int(c) for gram, c in zip(grams, tables.table(n).counts)}}

    def interpret(returned):
        if not isinstance(returned, dict):
            raise AnswerShapeError(f"expected a dict (or Counter) from n-gram tuples to counts, got a "
                                   f"{type(returned).__name__}")
        return {"counts": dict(returned)}

    return Problem("count_ngrams", dict(sizes), lambda: (copy.deepcopy(strings), n), interpret, reference)


def bigram_count_matrix(sentences, words: int) -> np.ndarray:
    """counts[h, w]: rows h = words 0..W-1 then <s> (row W); columns w = words then </s> (column W)."""
    counts = np.zeros((words + 1, words + 1))
    for s in sentences:
        padded = [words] + s + [words]
        for h, w in zip(padded[:-1], padded[1:]):
            counts[h, w] += 1
    return counts


def ngram_table(model: NGramLM, words: int) -> np.ndarray:
    """P[h, w] of a bigram NGramLM fitted on ids (words, <s> = W, </s> = W + 1), in the matrix layout."""
    state = model.start(words + 1)
    state[:, -1] = np.arange(words + 1)  # contexts: the words, then <s> (id W)
    probs = np.exp(model.log_probs(state))  # (W + 1, W + 2)
    return np.concatenate([probs[:, :words], probs[:, words + 1 :]], axis=1)  # drop the <s> column


SMOOTHING_SIZES = ({"words": 6, "sentences": 8}, {"words": 9, "sentences": 5}, {"words": 4, "sentences": 12})


def smoothing_problem(exercise: str, rng, index):
    sizes = SMOOTHING_SIZES[index]
    W = sizes["words"]
    sentences = corpus(rng, W, sizes["sentences"], unseen=W // 2)  # one word never occurs: an unseen context
    counts = bigram_count_matrix(sentences, W)
    ids = dict(vocab_size=W + 2, bos_id=W, eos_id=W + 1)
    if exercise == "add_k_probs":
        knob = [0.5, 1.0, 0.05][index]
        fit = lambda: fit_ngram(sentences, 2, "lidstone", alpha=knob, **ids)  # noqa: E731
    elif exercise == "interpolated_probs":
        knob = [(0.6, 0.7), (0.9, 0.35), (0.25, 0.8)][index]

        def fit():
            table = NGramCounts(sentences, 2, W + 2, W, W + 1)
            log_prob, log_backoff = interpolate_with_lambdas(table, np.array(knob))
            return NGramLM(W + 2, W, W + 1, [t.keys for t in table.tables], log_prob, log_backoff, "interp")
    else:
        knob = [0.75, 0.4, 0.9][index]
        fit = lambda: fit_ngram(sentences, 2, "kn", discount=knob, **ids)  # noqa: E731

    def interpret(probs):
        return {"probs": probs}

    return Problem(exercise, {"W": W, "sentences": len(sentences), "knob": knob},
                   lambda: (counts.copy(), copy.deepcopy(knob)), interpret,
                   lambda: {"probs": ngram_table(fit(), W)}, context={"counts": counts, "knob": knob},
                   time_axes={})


# --- perplexity ------------------------------------------------------------------------------------

def perplexity_problem(rng, index):
    V = [7, 10, 5][index]
    model = random_bigram_lm(rng, V)
    words = [w for w in range(V) if w not in (model.bos_id, model.eos_id)]
    sentences = [list(map(int, rng.choice(words, rng.integers(1, 7)))) for _ in range([4, 6, 3][index])]

    def interpret(value):
        if isinstance(value, np.ndarray) and value.size != 1:
            raise AnswerShapeError(f"expected the perplexity as one number, got an array of shape {value.shape}")
        return {"perplexity": np.asarray(value)}

    return Problem("perplexity", {"V": V, "sentences": len(sentences)},
                   lambda: (copy.deepcopy(model), copy.deepcopy(sentences)), interpret,
                   lambda: {"perplexity": np.float64(metrics.perplexity(model, [s + [model.eos_id] for s in sentences]))},
                   context={"model": model, "sentences": sentences})


# --- decoding: filtering, sampling, beam search ----------------------------------------------------

def hf_filtered_probs(logits: np.ndarray, temperature: float, top_k, top_p) -> np.ndarray:
    """softmax(z / T), then top-k, then top-p, with Hugging Face's rules for ties and boundaries.

    top-k keeps every token whose probability is at least the k-th largest (so tokens tied with
    the k-th are all kept); top-p keeps, in order of decreasing probability, every token before
    which the kept mass is still below p. Both renormalise.
    """
    probs = sampling.softmax(np.asarray(logits, dtype=np.float64) / temperature)
    if top_k is not None:
        kth = -np.sort(-probs, axis=1)[:, min(top_k, probs.shape[1]) - 1 : min(top_k, probs.shape[1])]
        probs = np.where(probs >= kth, probs, 0.0)
        probs /= probs.sum(axis=1, keepdims=True)
    if top_p is not None and top_p < 1:
        order = np.argsort(-probs, axis=1, kind="stable")
        sorted_probs = np.take_along_axis(probs, order, axis=1)
        mass_before = np.cumsum(sorted_probs, axis=1) - sorted_probs
        kept = np.zeros_like(probs, dtype=bool)
        np.put_along_axis(kept, order, mass_before < top_p, axis=1)
        probs = np.where(kept, probs, 0.0)
        probs /= probs.sum(axis=1, keepdims=True)
    return probs


def hf_top_p_kept(probs: np.ndarray, top_p: float) -> np.ndarray:
    """Hugging Face's own test: sorted ascending, a token goes when the cumulative mass up to it is <= 1 - p."""
    order = np.argsort(probs, axis=1, kind="stable")
    cumulative = np.cumsum(np.take_along_axis(probs, order, axis=1), axis=1)
    kept = np.zeros_like(probs, dtype=bool)
    np.put_along_axis(kept, order, cumulative > 1 - top_p, axis=1)
    return kept


FILTER_SETTINGS = (
    ((0.7, 4, None), (1.3, None, 0.6), (2.0, 3, 0.5)),
    ((1.0, None, 0.9), (0.5, None, 0.8)),
    ((1.6, 2, None), (1.0, 2, 0.7), (0.9, 5, 0.95)),
)


def filter_problem(rng, index):
    """Random rows, plus the boundary cases worked out by hand:

    - [0.5, 0.2, 0.2, 0.1] at p = 0.9 keeps all four (the mass before 0.1 is 0.8999999999999999
      in floating point, below p: Hugging Face keeps it too);
    - [0.4, 0.2, 0.2, 0.2] at k = 2 keeps all four (tokens tied with the k-th are kept).
    """
    V = [9, 5, 11][index]
    logits = rng.normal(0.0, 2.0, (3, V))
    if index == 1:
        logits[0] = np.log([0.5, 0.2, 0.2, 0.1, 1e-30])
    if index == 2:
        logits[0] = np.log([0.4, 0.2, 0.2, 0.2] + [1e-3] * (V - 4))
    settings = FILTER_SETTINGS[index]
    names = [f"probs at T = {t}, top_k = {k}, top_p = {p}" for t, k, p in settings]

    def interpret(returned):
        return dict(zip(names, returned))

    def reference():
        return {name: hf_filtered_probs(logits, *s) for name, s in zip(names, settings)}

    def alternatives(name, dtype):
        """Other answers accepted at a boundary that rounding decides: where Hugging Face's ascending test
        and the descending 'mass before < p' disagree, and, for float32 work, where the mass before a
        token is within float32 rounding of p (the token may then be kept or dropped)."""
        t, k, p = settings[names.index(name)]
        if p is None:
            return []
        probs = hf_filtered_probs(logits, t, k, None)
        hf_kept = hf_top_p_kept(probs, p)
        order = np.argsort(-probs, axis=1, kind="stable")
        ranked = np.take_along_axis(probs, order, axis=1)
        before = np.zeros_like(probs)
        np.put_along_axis(before, order, np.cumsum(ranked, axis=1) - ranked, axis=1)
        rounding = 1e-6 if np.dtype(dtype) != np.float64 else 0.0
        strict = before < p - rounding
        out = []
        for kept in (hf_kept, strict):
            alternative = np.where(kept, probs, 0.0)
            out.append(alternative / alternative.sum(axis=1, keepdims=True))
        return out

    return Problem("filter_probs", {"rows": 3, "V": V, "settings": len(settings)},
                   lambda: [(logits.copy(), *s) for s in settings], interpret, reference,
                   context={"alternatives": alternatives, "settings": dict(zip(names, settings)), "logits": logits})


SAMPLE_DRAWS = 4000
# Wilson-Hilferty: the chi-square quantile with upper tail 1e-6 (z = 4.753). A right sampler fails
# a problem about once in a million runs; a wrong one is far beyond it with 4000 draws a row.
CHI2_Z = 4.753


def chi2_critical(df: int) -> float:
    return df * (1 - 2 / (9 * df) + CHI2_Z * math.sqrt(2 / (9 * df))) ** 3


def sample_problem(rng, index):
    V = [6, 9, 4][index]
    rows = []
    for r in range(3):
        p = rng.dirichlet(np.full(V, 2.0)) + 0.05
        if r == 1:
            p[0] = 0.0  # a token of probability zero at each end of the row
        if r == 2:
            p[V - 1] = 0.0
        rows.append(p / p.sum())
    rows.append(np.eye(V)[V - 1])  # all the mass on V - 1
    probs = np.array(rows)
    tiled = np.repeat(probs, SAMPLE_DRAWS, axis=0)

    def interpret(ids):
        return {"draws": ids}

    return Problem("sample_tokens", {"V": V, "rows": len(rows), "draws per row": SAMPLE_DRAWS},
                   lambda: (tiled.copy(), np.random.default_rng(rng.integers(2**32))), interpret,
                   lambda: {"draws": probs}, context={"probs": probs})


def beam_problem(rng, index):
    V, width, max_len = [(7, 3, 5), (9, 4, 3), (5, 2, 6)][index]
    model = random_bigram_lm(rng, V, concentration=0.6)

    def interpret(returned):
        if not isinstance(returned, (list, tuple)):
            raise AnswerShapeError(f"expected a list of (ids, score) pairs, got a {type(returned).__name__}")
        out = {"number of hypotheses": np.asarray(len(returned))}
        for k, pair in enumerate(returned):
            ids, score = expect_tuple(pair, 2, f"hypothesis {k} as a pair (ids, score)")
            out[f"ids of hypothesis {k}"] = np.asarray(list(ids), dtype=np.int64) if hasattr(ids, "__len__") else ids
            out[f"score of hypothesis {k}"] = np.asarray(score)
        return out

    def reference():
        found = beam.beam_search(model, (), beam_width=width, max_len=max_len, n_best=width, narrowing=True)
        out = {"number of hypotheses": np.asarray(len(found))}
        for k, (ids, score) in enumerate(found):
            out[f"ids of hypothesis {k}"] = np.asarray(ids, dtype=np.int64)
            out[f"score of hypothesis {k}"] = np.float64(score)
        return out

    return Problem("beam_search", {"V": V, "beam_width": width, "max_len": max_len},
                   lambda: (copy.deepcopy(model), width, max_len), interpret, reference,
                   context={"model": model})


BUILDERS = {
    "clip_grad_norm": clip_problem,
    "stream_windows": stream_windows_problem,
    "run_windows": run_windows_problem,
    "count_ngrams": count_ngrams_problem,
    "add_k_probs": lambda rng, index: smoothing_problem("add_k_probs", rng, index),
    "interpolated_probs": lambda rng, index: smoothing_problem("interpolated_probs", rng, index),
    "kneser_ney_probs": lambda rng, index: smoothing_problem("kneser_ney_probs", rng, index),
    "perplexity": perplexity_problem,
    "filter_probs": filter_problem,
    "sample_tokens": sample_problem,
    "beam_search": beam_problem,
}

MUTATES_ARGUMENTS = {"clip_grad_norm"}
MANY_CALLS = {"filter_probs"}


def problems(exercise: str, seed: int = 0) -> list[Problem]:
    return [BUILDERS[exercise](np.random.default_rng([seed, index, 7]), index) for index in range(3)]
