"""Exercises filter_probs and sample_tokens: the distribution a decoder draws from, and the draw.

filter_probs, in the order Hugging Face's generate applies them:
    p = softmax(z / T)                                  subtract the row maximum first
    top-k: keep every token whose probability is >= the k-th largest (tokens tied with the k-th
           are all kept), renormalise                  (skip when top_k is None)
    top-p: rank the tokens by probability; keep a token when the mass of the tokens ranked above
           it is still below p (so the most probable token is always kept), renormalise
           (skip when top_p is None). e.g. [0.5, 0.2, 0.2, 0.1] with p = 0.9 keeps all four.

sample_tokens: one id per row of probs, by the inverse CDF: with c_i = p_0 + .. + p_i and
u ~ U[0, 1) from rng (rng.random), the first i with c_i > u. A token of probability 0 must never
be drawn (mind rounding at the end of the row). The checker draws thousands of times and tests
the distribution (chi-square), not particular draws.

Check with:  scratchlm exercise check decoding.py
"""
import numpy as np


def filter_probs(logits, temperature, top_k, top_p):
    """Args: logits (B, V); temperature > 0; top_k int or None; top_p in (0, 1] or None.

    Returns:
        probs: (B, V), each row summing to 1, zero outside the kept tokens.
    """
    raise NotImplementedError("write this: softmax(z / T), then top-k, then top-p")


def sample_tokens(probs, rng):
    """Args: probs (B, V) rows summing to 1; rng a numpy Generator. Returns: ids (B,) int."""
    raise NotImplementedError("write this: cumulative sums, one uniform number per row, search")
