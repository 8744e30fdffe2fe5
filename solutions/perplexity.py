"""Solution: perplexity of a language model on sentences."""
import math


def perplexity(model, sentences):
    """exp(-(1/N) sum log P(w_t | <bos>, w_<t)) over every word and the final <eos>; <bos> is not counted."""
    total, count = 0.0, 0
    for sentence in sentences:
        state = model.start(1)
        for token in list(sentence) + [model.eos_id]:
            total -= float(model.log_probs(state)[0, token])
            count += 1
            state = model.advance(state, [token])
    return math.exp(total / count)
