"""Linear interpolation of all orders (Jelinek-Mercer), its lambdas estimated by EM on held-out data.

Mix the maximum-likelihood estimates of every order, down to the uniform distribution over the
|O| outcomes (vocabulary and ``</s>``), one weight lambda_n per order::

    p_0(w)       = 1 / |O|
    p_n(w | h)   = lambda_n c(h w) / c(h)  +  (1 - lambda_n) p_{n-1}(w | h')      if c(h) > 0
                 = p_{n-1}(w | h')                                                 if c(h) = 0

When every context is seen this is the lecture's flat mixture sum_n mu_n p_ML,n with mu_N =
lambda_N, mu_n = lambda_n prod_{j > n} (1 - lambda_j); the recursive form also says what to do
with an unseen context: hand its weight to the lower orders.

EM (the lecture's recipe) fits the lambdas to held-out text, where counts do not flatter the
high orders. Each held-out token was produced by one order, a hidden choice: the recursion
stops at order n with probability lambda_n prod_{j > n}(1 - lambda_j). E-step: the posterior
r_n(t) of each order for each token t. M-step: lambda_n = (expected tokens stopping at n) /
(expected tokens reaching n) = sum_t r_n(t) / sum_t sum_{m <= n} r_m(t), summed over the tokens
whose context of order n was seen. Each iteration cannot lower the held-out likelihood.

Held-out data: given, or else the last 10% of the training sentences, on whose complement the
lambdas are estimated before the final counts use every training sentence.
"""
from __future__ import annotations

import numpy as np

from scratchlm.ngram.counting import NGramCounts, pad_sentences
from scratchlm.ngram.trie import ngram_rows


def _component_probs(counts: NGramCounts, sentences):
    """p_ML,n(t) for every held-out token t and order n (column 0: uniform), and which are usable.

    Returns:
        probs: (T, N+1) float64; probs[t, n] = c(h w) / c(h) for the order-n history of t.
        usable: (T, N+1) bool; whether order n's context of t was seen (column 0 always True).
    """
    tokens, depth = pad_sentences(sentences, counts.bos_id, counts.eos_id)
    rows = ngram_rows(counts.keys_by_order, counts.vocab_size, tokens, depth)
    predicted = depth > 0 if counts.bos_id is not None else np.ones(len(tokens), dtype=bool)
    probs = np.zeros((len(tokens), counts.order + 1))
    usable = np.zeros((len(tokens), counts.order + 1), dtype=bool)
    probs[:, 0], usable[:, 0] = 1.0 / counts.num_outcomes, True
    for n in range(1, counts.order + 1):
        table = counts.table(n)
        c = table.counts.astype(np.float64)
        total = counts.context_sums(n, c)
        if n == 1:
            context_total = np.full(len(tokens), total[0])
        else:
            context = np.concatenate([[-1], rows[n - 2][:-1]])
            context_total = np.where((context >= 0) & (depth >= n - 1), total[np.maximum(context, 0)], 0.0)
        usable[:, n] = context_total > 0
        row = rows[n - 1]
        seen = usable[:, n] & (row >= 0)
        probs[seen, n] = c[row[seen]] / context_total[seen]
    return probs[predicted], usable[predicted]


def estimate_lambdas(probs: np.ndarray, usable: np.ndarray, max_iterations: int = 200, tolerance: float = 1e-7):
    """EM for lambda_1 .. lambda_N (see the module docstring); returns (lambdas, iterations)."""
    order = probs.shape[1] - 1
    lambdas = np.full(order + 1, 0.5)
    lambdas[0] = 1.0  # the uniform distribution always stops the recursion
    for iteration in range(1, max_iterations + 1):
        stop = np.where(usable, lambdas[None, :], 0.0)  # orders above a token's seen context pass through
        stop[:, 0] = 1.0
        # weight of stopping at n = stop_n * prod_{j > n} (1 - stop_j)
        pass_through = np.cumprod((1.0 - stop)[:, ::-1], axis=1)[:, ::-1]
        above = np.concatenate([pass_through[:, 1:], np.ones((len(stop), 1))], axis=1)
        joint = stop * above * probs
        posterior = joint / joint.sum(axis=1, keepdims=True)
        reached = np.cumsum(posterior, axis=1)  # sum_{m <= n} r_m
        new = lambdas.copy()
        for n in range(1, order + 1):
            denominator = reached[usable[:, n], n].sum()
            if denominator > 0:
                new[n] = posterior[usable[:, n], n].sum() / denominator
        new = np.clip(new, 1e-6, 1 - 1e-6)
        new[0] = 1.0
        change = np.max(np.abs(new - lambdas))
        lambdas = new
        if change < tolerance:
            break
    return lambdas[1:], iteration


def interpolate_with_lambdas(counts: NGramCounts, lambdas: np.ndarray):
    """log p* and log b of every n-gram for fixed lambdas (the recursion of the docstring)."""
    probs, log_backoff = [], []
    for n in range(1, counts.order + 1):
        table = counts.table(n)
        c = table.counts.astype(np.float64)
        total = counts.context_sums(n, c)
        safe_total = np.where(total > 0, total, 1.0)
        lam = lambdas[n - 1]
        if n == 1:
            p = lam * c / safe_total[0] + (1 - lam) / counts.num_outcomes
            probs.append(np.where(counts.outcomes, p, 0.0))
            continue
        probs.append(lam * c / safe_total[table.context_rows] + (1 - lam) * probs[-1][table.suffix_rows])
        log_backoff.append(np.where(total > 0, np.log(1 - lam), 0.0))
    log_backoff.append(np.zeros(len(counts.table(counts.order))))
    with np.errstate(divide="ignore"):
        return [np.log(p) for p in probs], log_backoff


def fit_linear_interpolation(counts: NGramCounts, heldout=None, training_sentences=None, never_predicted=(),
                             max_iterations: int = 200):
    """Jelinek-Mercer interpolation with EM-estimated lambdas.

    Args:
        counts: the tables of all training sentences.
        heldout: sentences of ids for EM; None holds out the last 10% of ``training_sentences``.
        training_sentences, never_predicted: what ``counts`` was built from (for the split).
    Returns:
        (log_prob, log_backoff, info) with info["lambdas"] (lambda_1 .. lambda_N).
    """
    if heldout is not None:
        estimation_counts, heldout_sentences = counts, heldout
    else:
        if training_sentences is None or len(training_sentences) < 2:
            raise ValueError("linear interpolation needs held-out sentences (heldout=...) or >= 2 training sentences")
        cut = len(training_sentences) - max(1, len(training_sentences) // 10)
        estimation_counts = NGramCounts(training_sentences[:cut], counts.order, counts.vocab_size, counts.bos_id,
                                        counts.eos_id, never_predicted=never_predicted)
        heldout_sentences = training_sentences[cut:]
    probs, usable = _component_probs(estimation_counts, heldout_sentences)
    if len(probs) == 0:
        raise ValueError("the held-out data has no tokens to estimate the lambdas on")
    lambdas, iterations = estimate_lambdas(probs, usable, max_iterations=max_iterations)
    log_prob, log_backoff = interpolate_with_lambdas(counts, lambdas)
    return log_prob, log_backoff, {"lambdas": [float(x) for x in lambdas], "em_iterations": iterations}
