"""Solution: beam search with a beam that narrows as hypotheses finish."""
import numpy as np


def beam_search(model, beam_width, max_len):
    """Keep the beam_width - finished best candidates of each step; set aside those ending in <eos>."""
    state = model.start(1)
    live, scores, finished = [[]], np.zeros(1), []
    for step in range(max_len):
        candidates = scores[:, None] + model.log_probs(state)  # (live, V)
        flat = candidates.ravel()
        slots = min(beam_width - len(finished), int(np.isfinite(flat).sum()))
        best = np.argsort(-flat, kind="stable")[:slots]
        rows, tokens = np.divmod(best, candidates.shape[1])
        keep_rows, keep_tokens, keep_scores = [], [], []
        for row, token, score in zip(rows, tokens, flat[best]):
            if token == model.eos_id:
                finished.append((live[row], float(score)))
            else:
                keep_rows.append(row)
                keep_tokens.append(int(token))
                keep_scores.append(score)
        live = [live[row] + [token] for row, token in zip(keep_rows, keep_tokens)]
        scores = np.array(keep_scores)
        if not live or step + 1 == max_len:
            break
        state = model.advance(model.select(state, np.array(keep_rows)), np.array(keep_tokens))
    hypotheses = finished + [(ids, float(score)) for ids, score in zip(live, scores)]
    return sorted(hypotheses, key=lambda hypothesis: -hypothesis[1])
