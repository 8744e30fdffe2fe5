"""EM for the interpolation weights: it climbs the held-out likelihood to a stationary point."""
import numpy as np
import pytest

from scratchlm.ngram import fit_ngram
from scratchlm.ngram.counting import NGramCounts
from scratchlm.ngram.fit import encode_sentences
from scratchlm.ngram.linear_interpolation import interpolate_with_lambdas
from scratchlm.ngram.model import NGramLM

from ngram_corpora import lcg_corpus

TRAIN = lcg_corpus(200, 40, seed=31)
HELDOUT = lcg_corpus(60, 40, seed=32)


def heldout_log_likelihood(lambdas):
    """Held-out log-likelihood of the interpolated model with these lambdas, scored in back-off form."""
    ids, vocab = encode_sentences(TRAIN, None, None)
    counts = NGramCounts(ids, len(lambdas), len(vocab), vocab.bos_id, vocab.eos_id, never_predicted=[0])
    log_prob, log_backoff = interpolate_with_lambdas(counts, np.asarray(lambdas))
    model = NGramLM(len(vocab), vocab.bos_id, vocab.eos_id, counts.keys_by_order, log_prob, log_backoff, "interp",
                    vocab=vocab)
    return model.token_log_probs([model.encode(s) for s in HELDOUT]).sum()


def test_em_lambdas_maximise_the_heldout_likelihood():
    model = fit_ngram(TRAIN, 3, "interp", heldout=HELDOUT)
    lambdas = np.array(model.info["lambdas"])
    assert np.all((0 < lambdas) & (lambdas < 1))
    best = heldout_log_likelihood(lambdas)
    assert best == pytest.approx(model.token_log_probs([model.encode(s) for s in HELDOUT]).sum(), rel=1e-12)
    # a stationary point: the centred derivative along every lambda is ~0 (relative to the total)
    for n in range(3):
        step = np.zeros(3)
        step[n] = 1e-4
        derivative = (heldout_log_likelihood(lambdas + step) - heldout_log_likelihood(lambdas - step)) / 2e-4
        assert abs(derivative) < 1e-3 * abs(best)
        assert heldout_log_likelihood(lambdas + 50 * step) < best
        assert heldout_log_likelihood(lambdas - 50 * step) < best


def test_without_heldout_the_last_tenth_of_training_is_held_out():
    model = fit_ngram(TRAIN, 2, "interp")
    assert len(model.info["lambdas"]) == 2 and model.info["em_iterations"] >= 1
