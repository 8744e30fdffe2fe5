"""Exercise beam_search: keep the k best partial sequences instead of only the best one.

A hypothesis is a list of ids and its score, the summed log-probability of its tokens. Start
from one empty hypothesis (score 0) in state model.start(1). At every step (at most max_len):

1. expand every live hypothesis by every token: candidates[row, v] = score[row] + logp[row, v];
2. keep the (beam_width - number finished so far) candidates of highest score (ties: earlier
   row first, then lower token id: np.argsort(-flat, kind="stable") on the flattened scores);
3. a kept candidate whose token is model.eos_id is finished: set it aside as (ids, score),
   without the <eos> in ids; the others stay live (ids + [token]);
4. stop when nothing is live or after max_len steps; otherwise move the states on:
   state = model.advance(model.select(state, rows_kept), tokens_kept).

Return every finished and still-live hypothesis as (ids, score), best score first. The model
offers start, log_probs (rows, V), advance, select and eos_id (see perplexity.py).

Check with:  scratchlm exercise check beam_search.py
"""
import numpy as np


def beam_search(model, beam_width, max_len):
    """Returns: a list of (ids, score), best first, at most beam_width of them."""
    raise NotImplementedError("write this: expand, keep the best, set finished ones aside, advance")
