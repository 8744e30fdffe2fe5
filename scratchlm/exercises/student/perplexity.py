"""Exercise perplexity: how surprised a language model is by held-out sentences.

    perplexity = exp( -(1/N) sum_i log P(w_i | <bos>, w_1 .. w_{i-1}) )

over every word of every sentence AND the <eos> that ends it (the model must predict the end);
<bos> is fed, never predicted, so it is not counted. N is the number of predicted tokens.

The model has the interface of scratchlm.lm.LanguageModel:
    state = model.start(1)                      the state after <bos>, one row
    logp  = model.log_probs(state)              (1, V) natural-log probabilities of the next token
    state = model.advance(state, [token])       the state after appending token
    model.eos_id                                the id of <eos>

Check with:  scratchlm exercise check perplexity.py
"""
import math

import numpy as np


def perplexity(model, sentences):
    """Args: model; sentences, lists of ids without <bos>/<eos>. Returns: the perplexity, a float."""
    raise NotImplementedError("write this: sum the log-probabilities of every word and <eos>, then exp")
