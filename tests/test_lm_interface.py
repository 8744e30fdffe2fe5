"""Every language model of scratchlm honours the LanguageModel contract of scratchlm/lm.py.

For each model:

* ``log_probs`` is a (batch, V) float64 array of log-distributions (each row's exp sums to 1);
* rows of a batch are independent: a batch of two contexts gives what each context gives alone;
* ``select`` keeps, reorders and repeats rows, for the state and for what follows from it;
* a model's own ``sequence_log_probs`` (one forward pass, or one vectorised look-up in the
  n-gram tables) equals the generic definition in LanguageModel (one ``log_probs`` /
  ``advance`` step per token), called explicitly as ``LanguageModel.sequence_log_probs(model,
  sequence)``.

Models are built in float64 so that the batched and one-pass computations can be compared
tightly (1e-10) with the step-by-step ones.
"""
import math
import warnings

import numpy as np
import pytest

from scratchlm.beam import beam_search
from scratchlm.lm import LanguageModel
from scratchlm.metrics import evaluate
from scratchlm.models.rnnlm import RNNLM
from scratchlm.models.seq2seq import Seq2Seq
from scratchlm.models.window_lm import WindowLM
from scratchlm.ngram import fit_ngram
from scratchlm.sampling import generate
from toy_lms import HistoryLM, TableBigramLM

VOCAB_SIZE, BOS, EOS = 11, 2, 3
TIGHT = dict(rtol=1e-10, atol=1e-10)


def rnnlm(cell, **kwargs):
    settings = dict(embed_dim=5, hidden_size=7, num_layers=2, cell=cell, seed=1, dtype="float64",
                    bos_id=BOS, eos_id=EOS)
    return RNNLM(VOCAB_SIZE, **{**settings, **kwargs})


def ngram(method, order=3, **markers):
    """An n-gram model fitted to 40 random sentences of ordinary ids (4..V-1)."""
    rng = np.random.default_rng(order)
    training = [list(rng.integers(4, VOCAB_SIZE, size=rng.integers(1, 12))) for _ in range(40)]
    markers = {"bos_id": BOS, "eos_id": EOS, **markers}
    # Seven word types are too few to estimate discounts from counts of counts; the methods warn
    # and fall back to fixed discounts, which still give proper distributions, all we need here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fit_ngram(training, order=order, method=method, vocab_size=VOCAB_SIZE, **markers)


MODELS = {
    "table-bigram": lambda: TableBigramLM(np.random.default_rng(0).dirichlet(np.ones(VOCAB_SIZE), size=VOCAB_SIZE),
                                          bos_id=BOS, eos_id=EOS),
    "history": lambda: HistoryLM(VOCAB_SIZE, eos_id=EOS, seed=3, impossible=[0, BOS]),
    "rnnlm-rnn": lambda: rnnlm("rnn"),
    "rnnlm-lstm": lambda: rnnlm("lstm"),
    "rnnlm-gru": lambda: rnnlm("gru"),
    "rnnlm-lstm-no-bos": lambda: rnnlm("lstm", bos_id=None, eos_id=None),
    "rnnlm-gru-tied-dropout-train-mode": lambda: rnnlm("gru", embed_dim=7, tie_weights=True, dropout=0.5).train(),
    "window": lambda: WindowLM(VOCAB_SIZE, context_size=3, embed_dim=4, hidden_size=6, seed=2, dtype="float64"),
    "window-direct": lambda: WindowLM(VOCAB_SIZE, context_size=2, embed_dim=4, hidden_size=6, direct=True,
                                      seed=4, dtype="float64"),
    "seq2seq-decoder": lambda: Seq2Seq(8, VOCAB_SIZE, embed_dim=5, hidden_size=6, cell="gru", seed=5,
                                       dtype="float64").decoder(np.array([4, 5, 6, 7])),
    "ngram-mkn": lambda: ngram("mkn"),
    "ngram-kn-4gram": lambda: ngram("kn", order=4),
    "ngram-katz": lambda: ngram("katz"),
    "ngram-interp": lambda: ngram("interp"),
    "ngram-laplace-bigram": lambda: ngram("laplace", order=2),
    "ngram-stupid": lambda: ngram("stupid"),
    "ngram-mkn-stream": lambda: ngram("mkn", bos_id=None, eos_id=None),
}


def sequences(length=9, count=3, seed=0):
    """Random sequences of ordinary ids (4..V-1), each ending with <eos>."""
    rng = np.random.default_rng(seed)
    return [list(rng.integers(4, VOCAB_SIZE, size=length - 1)) + [EOS] for _ in range(count)]


@pytest.fixture(params=sorted(MODELS), ids=sorted(MODELS))
def model(request):
    return MODELS[request.param]()


def feed(model, state, tokens):
    """Advance every row of ``state`` by the columns of ``tokens`` (batch, T), recording log_probs."""
    recorded = []
    for t in range(tokens.shape[1]):
        recorded.append(model.log_probs(state))
        state = model.advance(state, tokens[:, t])
    recorded.append(model.log_probs(state))
    return state, np.stack(recorded, axis=1)  # (batch, T + 1, V)


def test_log_probs_are_log_distributions(model):
    _, logp = feed(model, model.start(3), np.array(sequences(count=3))[:, :-1])
    assert isinstance(logp, np.ndarray) and logp.dtype == np.float64
    assert logp.shape == (3, 9, model.vocab_size)
    assert not np.isnan(logp).any()
    if getattr(model, "is_distribution", True):  # stupid backoff's scores are not probabilities
        np.testing.assert_allclose(np.exp(logp).sum(axis=-1), 1.0, rtol=1e-12)


def test_rows_of_a_batch_are_independent(model):
    tokens = np.array(sequences(count=2, seed=1))
    _, together = feed(model, model.start(2), tokens)
    for row in range(2):
        _, alone = feed(model, model.start(1), tokens[row : row + 1])
        np.testing.assert_allclose(together[row], alone[0], **TIGHT)


def test_select_keeps_reorders_and_repeats_rows(model):
    tokens = np.array(sequences(count=3, seed=2))
    state, _ = feed(model, model.start(3), tokens[:, :4])
    rows = np.array([2, 0, 2])
    selected = model.select(state, rows)
    np.testing.assert_allclose(model.log_probs(selected), model.log_probs(state)[rows], **TIGHT)
    # What follows from the selected state is what follows from the original rows.
    _, after_selected = feed(model, selected, tokens[rows, 4:])
    _, after_original = feed(model, state, tokens[:, 4:])
    np.testing.assert_allclose(after_selected, after_original[rows], **TIGHT)


def test_sequence_log_probs_is_the_generic_definition(model):
    for sequence in sequences(count=3, seed=3) + [[EOS], [5]]:
        own = np.asarray(model.sequence_log_probs(sequence))
        generic = LanguageModel.sequence_log_probs(model, sequence)
        assert own.shape == (len(sequence),)
        np.testing.assert_allclose(own, generic, **TIGHT)


def test_the_generic_definition_on_a_worked_example():
    # <bos> -> a (id 4) 1/2; a -> <eos> 1/4: log P = [log 1/2, log 1/4].
    table = np.full((VOCAB_SIZE, VOCAB_SIZE), 1.0 / VOCAB_SIZE)
    table[BOS] = table[4] = 0.0
    table[BOS, 4] = table[BOS, 5] = 0.5
    table[4, EOS], table[4, 4] = 0.25, 0.75
    model = TableBigramLM(table, bos_id=BOS, eos_id=EOS)
    np.testing.assert_allclose(LanguageModel.sequence_log_probs(model, [4, EOS]), [math.log(0.5), math.log(0.25)])
    assert LanguageModel.sequence_log_probs(model, []).shape == (0,)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_rnnlm_float32_one_pass_matches_the_steps(cell):
    # The default training precision: the same equality, to float32 accuracy.
    model = RNNLM(VOCAB_SIZE, 6, 8, num_layers=2, cell=cell, seed=7, bos_id=BOS, eos_id=EOS)
    for sequence in sequences(length=12, count=2, seed=4):
        np.testing.assert_allclose(model.sequence_log_probs(sequence),
                                   LanguageModel.sequence_log_probs(model, sequence), rtol=1e-5, atol=1e-5)


def test_generation_beam_search_and_evaluation_run_on_every_model(model):
    samples = generate(model, [5, 6], n=4, max_len=6, temperature=0.9, top_p=0.95, rng=0)
    assert samples == generate(model, [5, 6], n=4, max_len=6, temperature=0.9, top_p=0.95, rng=0)
    assert len(samples) == 4 and all(len(s) <= 6 and model.eos_id not in s for s in samples)
    [greedy] = generate(model, [5, 6], max_len=6, greedy=True)
    assert beam_search(model, [5, 6], beam_width=1, max_len=6)[0][0] == greedy
    assert np.isfinite(evaluate(model, sequences(count=2, seed=5)).total_nll)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_rnnlm_perplexity_agrees_with_its_training_loss(cell):
    # Two roads to the same number: the metrics module through the interface, and the training
    # loss (mean NLL per predicted token) on inputs <bos> w_1 .. w_{T-1} and targets w_1 .. w_T.
    model = rnnlm(cell)
    batch = np.array(sequences(length=8, count=3, seed=6))
    inputs = np.concatenate([np.full((3, 1), BOS), batch[:, :-1]], axis=1)
    mean_nll = model.loss(inputs, batch)
    result = evaluate(model, list(batch))
    assert result.num_tokens == batch.size
    assert result.nll_per_token == pytest.approx(mean_nll, rel=1e-10)


@pytest.mark.parametrize("method", ["mkn", "katz", "laplace"])
def test_metrics_agree_with_the_ngram_models_own_evaluation(method):
    # NGramLM.evaluate appends </s> itself; scratchlm.metrics.evaluate is given it explicitly.
    model = ngram(method)
    sentences = [list(map(int, s[:-1])) for s in sequences(length=7, count=4, seed=8)]
    own = model.evaluate(sentences)
    result = evaluate(model, [s + [EOS] for s in sentences])
    assert result.num_tokens == own["num_tokens"]
    assert result.total_nll == pytest.approx(-own["log_prob"], rel=1e-12)
    assert result.perplexity == pytest.approx(own["perplexity"], rel=1e-12)
