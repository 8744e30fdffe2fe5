"""Tests of scratchlm.sampling: the filtered distribution, the sampler, generation.

The samplers are checked twice: ``filtered_probs`` against a plain-Python computation of the
tempered and truncated distribution written out below from the definitions, and the draws of
``sample_next`` / ``generate`` by chi-square tests against both. The random generators are
seeded, so every test gives the same result on every run; the p-value threshold (1e-3) is what
a correct sampler passes for 999 seeds in 1000, and a wrong distribution fails (see
test_chi_square_rejects_a_slightly_wrong_temperature).
"""
import math
import warnings
from collections import Counter

import numpy as np
import pytest

from scratchlm.sampling import (
    filtered_probs,
    generate,
    greedy_next,
    sample_categorical,
    sample_next,
)
from toy_lms import HistoryLM, TableBigramLM

stats = pytest.importorskip("scipy.stats")

NEG_INF = -math.inf
P_THRESHOLD = 1e-3


def reference_probs(row, temperature=1.0, top_k=None, top_p=None, min_tokens_to_keep=1):
    """The filtered distribution of one row of logits, from the definitions, in plain Python.

    Top-k keeps every token scoring at least the k-th highest score; top-p walks the tokens from
    the least probable up, dropping them while their running total is <= 1 - p (and at least
    min_tokens_to_keep remain), then keeps every token tied with the least probable kept one.
    """
    vocab_size = len(row)
    # Shifting by the maximum changes no probability; it turns an overflowing z / T into -inf
    # for every token but the best (the T -> 0 limit) instead of inf - inf.
    top = max(row)
    scores = {i: (z - top) / temperature for i, z in enumerate(row) if z != NEG_INF}

    def normalise(kept):
        largest = max(scores[i] for i in kept)
        weights = {i: math.exp(scores[i] - largest) for i in kept}
        total = sum(weights.values())
        return {i: w / total for i, w in weights.items()}

    kept = set(scores)
    if top_k is not None:
        k = min(max(top_k, min_tokens_to_keep), vocab_size)
        ranked = sorted((scores.get(i, NEG_INF) for i in range(vocab_size)), reverse=True)
        kept = {i for i in kept if scores[i] >= ranked[k - 1]}
    if top_p is not None and top_p < 1:
        probs = normalise(kept)
        ascending = sorted(range(vocab_size), key=lambda i: (probs.get(i, 0.0), i))
        total, first_kept = 0.0, None
        for position, i in enumerate(ascending):
            total += probs.get(i, 0.0)
            if total > 1 - top_p or position >= vocab_size - min_tokens_to_keep:
                first_kept = i
                break
        threshold = scores[first_kept] if first_kept in kept else NEG_INF
        kept = {i for i in kept if scores[i] >= threshold}
    probs = normalise(kept)
    return np.array([probs.get(i, 0.0) for i in range(vocab_size)])


def assert_draws_follow(ids, expected_probs):
    """Chi-square goodness of fit of integer draws to ``expected_probs`` (V,)."""
    counts = np.bincount(ids, minlength=len(expected_probs))
    impossible = expected_probs == 0
    assert counts[impossible].sum() == 0, "drew a token of probability zero"
    if np.count_nonzero(~impossible) == 1:
        return  # one possible token, and every draw was it
    result = stats.chisquare(counts[~impossible], len(ids) * expected_probs[~impossible])
    assert result.pvalue > P_THRESHOLD, f"draws {counts} do not follow {expected_probs}"


# A row with a -inf (an impossible token, id 3) and a tie (ids 2 and 4).
LOGITS = [2.0, 1.0, 0.5, NEG_INF, 0.5, -1.0]
SETTINGS = [
    dict(),
    dict(temperature=0.5),
    dict(temperature=2.5),
    dict(top_k=3),
    dict(top_p=0.8),
    dict(temperature=0.7, top_k=4, top_p=0.9),
    dict(temperature=1.5, top_k=3, top_p=0.6),
    dict(top_k=2),  # the tie at the 3rd place is below the cut
    dict(top_k=1, top_p=0.1, min_tokens_to_keep=3),
    dict(temperature=1e-310),  # z / T overflows: the argmax
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_sample_next_draws_from_the_filtered_distribution(settings):
    n = 20_000
    ids = sample_next(np.tile(LOGITS, (n, 1)), rng=np.random.default_rng(1234), **settings)
    assert ids.shape == (n,) and ids.dtype.kind == "i"
    assert_draws_follow(ids, filtered_probs(np.array([LOGITS]), **settings)[0])
    assert_draws_follow(ids, reference_probs(LOGITS, **settings))


def test_chi_square_rejects_a_slightly_wrong_temperature():
    n = 20_000
    ids = sample_next(np.tile(LOGITS, (n, 1)), temperature=1.0, rng=np.random.default_rng(1234))
    counts = np.bincount(ids, minlength=len(LOGITS))
    wrong = reference_probs(LOGITS, temperature=1.2)
    possible = wrong > 0
    assert stats.chisquare(counts[possible], n * wrong[possible]).pvalue < 1e-6


def test_filtered_probs_matches_the_reference_on_random_cases():
    rng = np.random.default_rng(0)
    for _ in range(200):
        vocab_size = int(rng.integers(1, 12))
        logits = rng.normal(scale=3.0, size=vocab_size).round(1)  # rounding makes ties common
        logits[rng.random(vocab_size) < 0.2] = NEG_INF
        if np.all(logits == NEG_INF):
            logits[0] = 0.0
        settings = dict(
            temperature=float(rng.choice([0.3, 1.0, 2.0])),
            top_k=None if rng.random() < 0.3 else int(rng.integers(1, vocab_size + 2)),
            top_p=None if rng.random() < 0.3 else float(rng.choice([0.1, 0.5, 0.9, 1.0])),
            min_tokens_to_keep=int(rng.choice([1, 1, 2, 3])),
        )
        got = filtered_probs(logits[None, :], **settings)[0]
        np.testing.assert_allclose(got, reference_probs(logits, **settings), atol=1e-12, err_msg=str(settings))


def test_temperature_worked_example():
    # z = ln[1, 2, 4]; at T = 2 the weights are exp(z / 2) = [1, sqrt 2, 2], over 3 + sqrt 2.
    probs = filtered_probs(np.log([[1.0, 2.0, 4.0]]), temperature=2.0)
    np.testing.assert_allclose(probs[0], np.array([1.0, math.sqrt(2), 2.0]) / (3 + math.sqrt(2)))


def test_top_k_comes_before_top_p():
    # p = [.4, .3, .2, .1]. top-k 3: [.4, .3, .2] / .9 = [4/9, 3/9, 2/9]; top-p .75 then needs
    # 4/9 + 3/9 = 7/9 >= .75, so two tokens: [4/7, 3/7]. (Top-p first would keep three:
    # .4 + .3 = .7 < .75, and then top-k 3 would give [4/9, 3/9, 2/9].)
    probs = filtered_probs(np.log([[0.4, 0.3, 0.2, 0.1]]), top_k=3, top_p=0.75)
    np.testing.assert_allclose(probs[0], [4 / 7, 3 / 7, 0.0, 0.0])


def test_top_p_keeps_the_smallest_set_reaching_p():
    probs = np.log([[0.5, 0.3, 0.15, 0.05]])
    # From the least probable up: .05, then .05 + .15 = .2 <= 1 - .79 = .21 is dropped; .5 stays.
    np.testing.assert_allclose(filtered_probs(probs, top_p=0.79)[0], [0.625, 0.375, 0, 0])
    # p = .81: 1 - p = .19; .05 is dropped, .2 is not: [.5, .3, .15] / .95.
    np.testing.assert_allclose(filtered_probs(probs, top_p=0.81)[0], np.array([0.5, 0.3, 0.15, 0]) / 0.95)
    # The most probable token is always kept, however small p.
    np.testing.assert_allclose(filtered_probs(probs, top_p=0.01)[0], [1, 0, 0, 0])
    np.testing.assert_allclose(filtered_probs(probs, top_p=1e-15)[0], [1, 0, 0, 0])
    # min_tokens_to_keep overrides p: the two most probable stay.
    np.testing.assert_allclose(filtered_probs(probs, top_p=0.01, min_tokens_to_keep=2)[0], [0.625, 0.375, 0, 0])


def test_top_p_boundary_follows_hugging_faces_arithmetic():
    # In float64, 1 - 0.9 = 0.09999999999999998 < 0.1, so the least probable token's 0.1 is not
    # <= 1 - p and all four stay (Hugging Face's TopPLogitsWarper gives the same on float64).
    probs = filtered_probs(np.log([[0.5, 0.2, 0.2, 0.1]]), top_p=0.9)
    np.testing.assert_allclose(probs[0], [0.5, 0.2, 0.2, 0.1])
    assert 1 - 0.9 < 0.1


def test_ties_are_kept_together():
    uniform = np.zeros((1, 4))
    # No cut falls inside a tie: top-k and top-p keep every token tied with the last kept one.
    np.testing.assert_allclose(filtered_probs(uniform, top_p=0.5)[0], [0.25] * 4)
    np.testing.assert_allclose(filtered_probs(uniform, top_k=3)[0], [0.25] * 4)
    np.testing.assert_allclose(filtered_probs([[0.0, 1.0, 1.0, 1.0]], top_k=1)[0], [0, 1 / 3, 1 / 3, 1 / 3])
    # z = [3, 2, 2, 1], k = 2: the 2nd highest score is 2, and both 2s stay.
    kept = filtered_probs([[3.0, 2.0, 2.0, 1.0]], top_k=2)[0] > 0
    assert kept.tolist() == [True, True, True, False]
    # Greedy decoding takes the first maximum.
    assert greedy_next(np.array([[0.0, 2.0, 2.0], [5.0, 5.0, 5.0]])).tolist() == [1, 0]


def test_tiny_temperature_approaches_argmax_without_overflow():
    logits = np.array([[1.0, 1.0001, NEG_INF, 300.0, -50.0], [3.0, 3.0, 1.0, 2.9, NEG_INF]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow or invalid-value warning fails the test
        probs = filtered_probs(logits, temperature=1e-4)
        ids = sample_next(logits, temperature=1e-4, rng=0)
    np.testing.assert_array_equal(probs[0], [0, 0, 0, 1, 0])
    np.testing.assert_allclose(probs[1], [0.5, 0.5, 0, 0, 0])  # a tie at the top stays a tie
    assert ids[0] == 3 and ids[1] in (0, 1)


@pytest.mark.parametrize("temperature", [1e-300, 1e-310, 5e-324])
@pytest.mark.parametrize("top_k, top_p", [(None, None), (2, None), (None, 0.5)])
def test_overflowing_scores_give_the_argmax_and_stay_finite(temperature, top_k, top_p):
    logits = np.array([[1e308, -1e308, 0.0, 1e307], [-1.0, 2.0, -1e308, 1.5], [7.0, 7.0, 1e-300, -7.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probs = filtered_probs(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    assert np.isfinite(probs).all()
    np.testing.assert_array_equal(probs, [[1, 0, 0, 0], [0, 1, 0, 0], [0.5, 0.5, 0, 0]])


def test_large_temperature_approaches_uniform_over_possible_tokens():
    probs = filtered_probs(np.array([[5.0, -3.0, NEG_INF, 0.0, 1.0]]), temperature=1e6)
    np.testing.assert_allclose(probs[0], [0.25, 0.25, 0, 0.25, 0.25], atol=1e-5)


def test_rows_are_independent():
    logits = np.array([[0.0, NEG_INF, NEG_INF], [NEG_INF, NEG_INF, 0.0], [NEG_INF, 0.0, NEG_INF]])
    for seed in range(5):
        assert sample_next(logits, rng=seed).tolist() == [0, 2, 1]
    probs = filtered_probs(np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]), top_k=1)
    np.testing.assert_array_equal(probs, [[0, 0, 1], [1, 0, 0]])


class FixedUniform:
    """Stands in for a Generator whose uniform draws are all ``u``."""

    def __init__(self, u):
        self.u = u

    def random(self, size):
        return np.full(size, self.u)


def test_inverse_cdf_at_the_edges():
    # cdf = [.3, 1, 1]: u = 0 gives token 0; u just below 1 gives token 1, never the
    # zero-probability token 2 behind it; a zero-probability first token is skipped at u = 0.
    assert sample_categorical(np.array([[0.3, 0.7, 0.0]]), FixedUniform(0.0)).tolist() == [0]
    assert sample_categorical(np.array([[0.3, 0.7, 0.0]]), FixedUniform(np.nextafter(1.0, 0))).tolist() == [1]
    assert sample_categorical(np.array([[0.0, 0.5, 0.5]]), FixedUniform(0.0)).tolist() == [1]
    assert sample_categorical(np.array([[0.3, 0.7, 0.0]]), FixedUniform(0.3)).tolist() == [1]


def test_sample_categorical_draws_the_given_distribution():
    probs = np.array([0.1, 0.0, 0.2, 0.7])
    ids = sample_categorical(np.tile(probs, (10_000, 1)), np.random.default_rng(5))
    assert_draws_follow(ids, probs)


def test_the_same_seed_gives_the_same_draws():
    logits = np.tile(LOGITS, (500, 1))
    first = sample_next(logits, top_p=0.9, rng=np.random.default_rng(42))
    np.testing.assert_array_equal(first, sample_next(logits, top_p=0.9, rng=np.random.default_rng(42)))
    np.testing.assert_array_equal(sample_next(logits, rng=7), sample_next(logits, rng=7))
    rng = np.random.default_rng(42)
    assert not np.array_equal(sample_next(logits, rng=rng), sample_next(logits, rng=rng))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(temperature=0.0),
        dict(temperature=-1.0),
        dict(temperature=math.nan),
        dict(top_k=0),
        dict(top_k=2.5),
        dict(top_p=0.0),
        dict(top_p=1.5),
    ],
)
def test_bad_settings_are_errors(kwargs):
    with pytest.raises(ValueError):
        filtered_probs(np.zeros((1, 3)), **kwargs)
    with pytest.raises(ValueError):
        sample_next(np.zeros((1, 3)), rng=0, **kwargs)


@pytest.mark.parametrize(
    "logits", [np.zeros(3), np.zeros((1, 0)), [[0.0, math.nan]], [[0.0, math.inf]], [[NEG_INF, NEG_INF]]]
)
def test_bad_logits_are_errors(logits):
    with pytest.raises(ValueError):
        filtered_probs(logits)


def test_bad_rng_is_an_error():
    with pytest.raises(TypeError):
        sample_next(np.zeros((1, 3)), rng="seed")


# --- generation ---------------------------------------------------------------------------
# Vocabulary of the table models: 0 <pad>, 1 <unk>, 2 <bos>, 3 <eos>, 4 a, 5 b, 6 c.
BOS, EOS, A, B, C = 2, 3, 4, 5, 6


def chain_model():
    """<bos> -> a -> b -> c -> <eos>, each with probability 1."""
    table = np.zeros((7, 7))
    table[[0, 1, 3], 3] = 1.0  # rows never used; any distribution will do
    table[BOS, A] = table[A, B] = table[B, C] = table[C, EOS] = 1.0
    return TableBigramLM(table, bos_id=BOS, eos_id=EOS)


def test_generate_follows_the_prompt_and_stops_at_eos():
    model = chain_model()
    assert generate(model, [], rng=0) == [[A, B, C]]
    assert generate(model, [A], n=3, rng=0) == [[B, C]] * 3
    assert generate(model, [B], greedy=True) == [[C]]
    assert generate(model, [C], greedy=True) == [[]]  # <eos> at once: an empty continuation
    assert generate(model, [], n=2, max_len=2, rng=0) == [[A, B]] * 2  # cut off at max_len


def test_generate_lengths_follow_the_stopping_rule():
    # <bos> -> a; then a -> a or <eos>, 1/2 each. With max_len 6, a continuation of k a's
    # (k = 1..5) ends with <eos> and has probability (1/2)^(k-1) * 1/2 = (1/2)^k; six a's
    # are cut off at max_len, probability (1/2)^5.
    table = np.zeros((7, 7))
    table[:, EOS] = 1.0
    table[BOS] = 0.0
    table[BOS, A] = 1.0
    table[A] = 0.0
    table[A, A] = table[A, EOS] = 0.5
    model = TableBigramLM(table, bos_id=BOS, eos_id=EOS)
    samples = generate(model, [], n=4000, max_len=6, rng=np.random.default_rng(3))
    assert all(set(sample) == {A} for sample in samples)
    lengths = np.array([len(sample) for sample in samples])
    expected = np.array([0, 1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 32])
    assert_draws_follow(lengths, expected)


def test_generate_samples_the_model_after_the_prompt():
    # Each continuation of at most two tokens: P(w1 | prompt) P(w2 | prompt, w1), both from
    # the filtered distributions of the model, <eos> ending it early.
    model = HistoryLM(vocab_size=4, eos_id=3, seed=11)
    prompt, settings = [1, 0], dict(temperature=0.8, top_k=3)

    def step_probs(history):
        return filtered_probs(np.log(model.distribution(tuple(history)))[None, :], **settings)[0]

    expected = {}
    for w1, p1 in enumerate(step_probs(prompt)):
        if w1 == model.eos_id:
            expected[()] = p1
            continue
        for w2, p2 in enumerate(step_probs(prompt + [w1])):
            expected[(w1,) if w2 == model.eos_id else (w1, w2)] = p1 * p2
    outcomes = sorted(expected)
    samples = generate(model, prompt, n=8000, max_len=2, rng=np.random.default_rng(8), **settings)
    counts = Counter(tuple(sample) for sample in samples)
    assert set(counts) <= {outcome for outcome in outcomes if expected[outcome] > 0}
    assert_draws_follow(
        np.repeat(np.arange(len(outcomes)), [counts[o] for o in outcomes]),
        np.array([expected[o] for o in outcomes]),
    )


def test_generate_is_reproducible_with_a_seed():
    model = HistoryLM(vocab_size=5, eos_id=4, seed=2)
    first = generate(model, [0], n=20, max_len=8, rng=123)
    assert first == generate(model, [0], n=20, max_len=8, rng=np.random.default_rng(123))
    assert first != generate(model, [0], n=20, max_len=8, rng=124)


def test_generate_without_eos_runs_to_max_len():
    model = HistoryLM(vocab_size=3, eos_id=None, seed=0)
    assert [len(s) for s in generate(model, [], n=4, max_len=5, rng=0)] == [5] * 4


def test_greedy_generation_takes_the_argmax_at_every_step():
    model = HistoryLM(vocab_size=4, eos_id=3, seed=5)
    history = [2]
    for _ in range(6):
        token = int(np.argmax(model.distribution(tuple(history))))
        if token == 3:
            break
        history.append(token)
    assert generate(model, [2], max_len=6, greedy=True) == [history[1:]]


@pytest.mark.parametrize(
    "kwargs",
    [dict(prompt_ids=[BOS, A]), dict(prompt_ids=[9]), dict(n=0), dict(max_len=0), dict(temperature=0)],
)
def test_generate_rejects_bad_arguments(kwargs):
    kwargs = {"prompt_ids": [A], **kwargs}
    with pytest.raises(ValueError):
        generate(chain_model(), **kwargs)


def test_generate_rejects_a_prompt_that_is_not_ids():
    with pytest.raises(TypeError):
        generate(chain_model(), [4.0, 5.5])
