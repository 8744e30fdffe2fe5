"""Invariants every model must keep: distributions sum to 1, perplexity is finite when smoothed,
and the fast scorers agree with the generic LanguageModel definition."""
import math
import warnings

import numpy as np
import pytest

from scratchlm import metrics
from scratchlm.lm import LanguageModel
from scratchlm.ngram import fit_ngram

from ngram_corpora import lcg_corpus

NORMALISED = ["mle", "laplace", "lidstone", "absdisc", "katz", "interp", "kn", "mkn", "wb"]
ALL = NORMALISED + ["stupid"]
TRAIN = lcg_corpus(150, 20, seed=11)
HELDOUT = lcg_corpus(30, 20, seed=12)
_cache = {}


def model(method, order):
    if (method, order) not in _cache:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _cache[method, order] = fit_ngram(TRAIN, order, method, heldout=HELDOUT if method == "interp" else None)
    return _cache[method, order]


def contexts(m, rng, seen: bool, count=12):
    """(count, N-1) states: windows of training sentences (seen) or random ids, <unk> included (unseen)."""
    state = m.start(count)
    if m.order == 1:
        return state
    for row in range(count):
        if seen:
            sentence = ["<s>"] + TRAIN[rng.integers(len(TRAIN))]
            end = rng.integers(1, len(sentence) + 1)
            history = m.encode(sentence[max(0, end - (m.order - 1)):end])
        else:
            words = [m.vocab.unk_id] + list(range(4, m.vocab_size))
            history = list(rng.choice(words, size=m.order - 1))
        state[row] = -1
        state[row, -len(history):] = history
    return state


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("method", ALL)
def test_every_context_sums_to_one(method, order):
    m = model(method, order)
    rng = np.random.default_rng(order)
    for seen in (True, False):
        logp = m.log_probs(contexts(m, rng, seen))
        assert np.all(logp[:, m.vocab.bos_id] == -np.inf) and np.all(logp[:, m.vocab.pad_id] == -np.inf)
        totals = np.exp(logp).sum(axis=1)
        if method == "stupid" and order > 1:
            # not a distribution (a unigram one is: relative frequencies): a seen context's words
            # keep all its mass and back-off adds alpha * more; an unseen context has alpha * less
            assert np.any(np.abs(totals - 1) > 1e-3)
        elif method == "mle" and not seen and order > 1:
            assert np.all((np.abs(totals - 1) < 1e-10) | (totals == 0))  # unseen history: no answer
        else:
            np.testing.assert_allclose(totals, 1.0, atol=1e-10)


@pytest.mark.parametrize("method", ALL)
def test_perplexity_is_finite_on_unseen_words_and_ngrams(method):
    m = model(method, 3)
    text = [["w1", "never-seen-word", "w2"], ["w19", "w19", "w19", "w0"], ["zz", "yy"]]
    ids = [m.encode(s) for s in text]
    assert ids[0][1] == m.vocab.unk_id
    result = m.evaluate(ids)
    assert result["num_tokens"] == 3 + 4 + 2 + 3 and result["num_unk"] == 3
    if method in ("mle", "stupid"):
        # MLE: unseen n-grams; stupid backoff: unsmoothed unigrams give a never-seen word 0
        assert result["perplexity"] == math.inf
    else:
        assert math.isfinite(result["perplexity"]) and result["perplexity"] > 1


@pytest.mark.parametrize("method", ALL)
def test_fast_scorers_agree_with_the_generic_definition(method):
    m = model(method, 3)
    sequences = [m.encode(s) + [m.eos_id] for s in HELDOUT[:6]] + [[m.eos_id], m.encode(["zz", "w3"])]
    for sequence in sequences:
        generic = LanguageModel.sequence_log_probs(m, sequence)
        np.testing.assert_allclose(m.sequence_log_probs(sequence), generic, rtol=1e-12, atol=1e-12)
    flat = m.token_log_probs([m.encode(s) for s in HELDOUT[:6]])
    np.testing.assert_allclose(flat, np.concatenate([m.sequence_log_probs(s) for s in sequences[:6]]), rtol=1e-12)


def test_stupid_backoff_is_finite_on_unseen_ngrams_of_known_words():
    m = model("stupid", 3)
    assert math.isfinite(m.perplexity([m.encode(["w19", "w19", "w19", "w0"])]))


def test_metrics_evaluate_gives_the_models_own_perplexity():
    m = model("mkn", 3)
    ids = [m.encode(s) for s in HELDOUT]
    result = metrics.evaluate(m, [s + [m.eos_id] for s in ids])
    assert result.perplexity == pytest.approx(m.perplexity(ids), rel=1e-12)
    assert result.num_tokens == sum(len(s) + 1 for s in ids)


def test_character_model_of_names_with_a_tokenizer_vocabulary():
    names = ["anna", "anni", "aino", "eino", "niina", "onni"]
    m = fit_ngram([list(n) for n in names], order=2, method="laplace")
    # p(a | <s>) = (3 + 1)/(6 + 8): 6 names, outcomes a e i n o + <unk> </s> = 7 ... plus 'a' etc.
    outcomes = len(set("".join(names))) + 2
    assert m.prob("a", ["<s>"]) == pytest.approx((3 + 1) / (6 + outcomes))
    ids = m.encode(list("anna")) + [m.eos_id]
    assert metrics.evaluate(m, [ids]).num_tokens == 5


def test_id_sentences_with_vocab_size_and_a_stream_model():
    # the calls the training command makes (ids, vocab_size, and bos/eos None for a stream)
    lines = [[4, 5, 6], [5, 4]]
    m = fit_ngram(lines, order=2, smoothing="laplace", vocab_size=8, bos_id=2, eos_id=3)
    assert m.prob(5, [2]) == pytest.approx((1 + 1) / (2 + 7))   # outcomes: every id but <s>
    stream = np.array([4, 5, 6, 4, 5, 4, 6, 6, 5])
    s = fit_ngram([stream], order=3, smoothing="laplace", vocab_size=8, bos_id=None, eos_id=None)
    assert s.start(1).tolist() == [[-1, -1]]
    np.testing.assert_allclose(np.exp(s.log_probs(s.start(2))).sum(axis=1), 1.0)
    one_piece = metrics.evaluate_stream(s, stream, num_pieces=1)
    assert one_piece.total_nll == pytest.approx(-s.sequence_log_probs(stream).sum(), rel=1e-12)
    np.testing.assert_allclose(s.sequence_log_probs(stream), LanguageModel.sequence_log_probs(s, stream), rtol=1e-12)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="unknown n-gram method"):
        fit_ngram([["a"]], 2, "witten-bell")
    with pytest.raises(ValueError, match="markers"):
        fit_ngram([["<s>", "a"]], 2, "kn")
    with pytest.raises(TypeError, match="list of tokens"):
        fit_ngram(["a b c"], 2, "kn")
    with pytest.raises(TypeError, match="vocab"):
        fit_ngram([[4, 5]], 2, "kn")
    with pytest.raises(ValueError, match="order"):
        fit_ngram([["a"]], 0, "kn")
    with pytest.raises(ValueError, match="alpha"):
        fit_ngram([["a"]], 2, "lidstone", alpha=-1)
    with pytest.raises(ValueError, match="heldout"):
        fit_ngram([["a"]], 2, "kn", heldout=[["a"]])


def test_marker_ids_inside_a_sentence_are_rejected():
    with pytest.raises(ValueError, match="marker id 3"):
        fit_ngram([[4, 3, 5]], 2, "kn", vocab_size=6)


def test_unknown_options_name_the_methods_options():
    with pytest.raises(TypeError, match="its options: discount"):
        fit_ngram([["a"]], 2, "kn", alpha=0.3)


def test_sampling_and_beam_search_run_on_an_ngram_model():
    from scratchlm.beam import beam_search
    from scratchlm.sampling import generate

    # MLE bigram of one sentence: after <s> only "a" is possible, then b, then c, then </s>
    m = fit_ngram([["a", "b", "c"]], 2, "mle")
    a, b, c = m.encode(["a", "b", "c"])
    assert generate(m, n=3, rng=0) == [[a, b, c]] * 3
    (ids, score), = beam_search(m, beam_width=3)
    assert ids == [a, b, c] and score == pytest.approx(0.0)   # log 1 + log 1 + log 1 + log 1


@pytest.mark.parametrize("method", ["mkn", "katz", "stupid"])
def test_a_batch_of_states_is_scored_row_by_row(method):
    m = model(method, 3)
    state = contexts(m, np.random.default_rng(5), seen=True, count=6)
    state[3:] = contexts(m, np.random.default_rng(6), seen=False, count=3)
    batched = m.log_probs(state)
    for row in range(len(state)):
        np.testing.assert_array_equal(batched[row], m.log_probs(state[row:row + 1])[0])


def test_an_empty_corpus_is_rejected():
    with pytest.raises(ValueError, match="nothing to count"):
        fit_ngram([], 2, "kn")


def test_baseline_models_for_lines_and_for_a_stream():
    from scratchlm.ngram.baselines import baseline_models
    from scratchlm.text.vocab import Vocabulary

    vocab = Vocabulary(list("abc"))
    items = [vocab.encode(list(word)) for word in ["abc", "cab", "ba", "aab", "bca"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lines = baseline_models(items, "lines", vocab, quick=True)
        stream = baseline_models(np.concatenate(items), "stream", vocab)
    assert [label for label, _ in lines] == ["add-one bigram", "modified Kneser-Ney 3-gram"]
    assert [m.order for _, m in stream] == [2, 3, 5] and all(m.bos_id is None for _, m in stream)
    bigram = lines[0][1]
    # add-one bigram: c(<s> a) = 2 of 5 sentences; outcomes: a b c <unk> </s>
    assert bigram.prob(vocab.stoi["a"], [vocab.bos_id]) == pytest.approx((2 + 1) / (5 + 5))
    with pytest.raises(ValueError, match="kind"):
        baseline_models(items, "paragraphs", vocab)
