"""Tests of scratchlm.beam: exhaustive search on tiny models, greedy at width 1, worked numbers."""
import itertools
import math

import numpy as np
import pytest

from scratchlm.beam import beam_search
from scratchlm.sampling import generate
from toy_lms import HistoryLM, TableBigramLM


def exhaustive_ranking(model, prompt, max_len, alpha):
    """Every continuation of at most max_len tokens, scored from model.distribution, best first.

    A continuation is finished (k < max_len ordinary tokens, then <eos>, k + 1 tokens scored) or
    cut off (max_len ordinary tokens, all scored); its rank score is log P / (tokens scored)**alpha.
    Sequences of probability zero are left out.
    """
    ordinary = [t for t in range(model.vocab_size) if t != model.eos_id]
    ranked = []
    for length in range(max_len + 1):
        for ids in itertools.product(ordinary, repeat=length):
            ends_with_eos = length < max_len
            if ends_with_eos and model.eos_id is None:
                continue
            scored = list(ids) + ([model.eos_id] if ends_with_eos else [])
            log_p = 0.0
            for t, token in enumerate(scored):
                p = model.distribution(tuple(prompt) + tuple(scored[:t]))[token]
                log_p += math.log(p) if p > 0 else -math.inf
            if log_p > -math.inf:
                ranked.append((list(ids), log_p / len(scored) ** alpha))
    ranked.sort(key=lambda pair: -pair[1])
    return ranked


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
@pytest.mark.parametrize(
    "model, prompt",
    [
        (HistoryLM(vocab_size=4, eos_id=3, seed=1), []),
        (HistoryLM(vocab_size=4, eos_id=3, seed=2), [2, 0]),
        (HistoryLM(vocab_size=5, eos_id=3, seed=3, impossible=[0]), [1]),
        (HistoryLM(vocab_size=3, eos_id=None, seed=4), []),
    ],
)
def test_a_beam_wide_enough_finds_the_exhaustive_ranking(model, prompt, alpha):
    max_len = 4
    expected = exhaustive_ranking(model, prompt, max_len, alpha)
    # As wide as the number of hypotheses, the beam never drops one, so its whole ranking is
    # the exhaustive one, best first.
    got = beam_search(model, prompt, beam_width=len(expected), max_len=max_len,
                      n_best=len(expected), length_penalty=alpha)
    assert [ids for ids, _ in got] == [ids for ids, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_no_beam_scores_above_the_exhaustive_best(seed):
    model = HistoryLM(vocab_size=4, eos_id=3, seed=100 + seed)
    best_ids, best_score = exhaustive_ranking(model, [], max_len=5, alpha=0.0)[0]
    for width in (1, 2, 4):
        ids, score = beam_search(model, beam_width=width, max_len=5)[0]
        assert score <= best_score + 1e-12
        if score == pytest.approx(best_score, abs=1e-12):
            assert ids == best_ids


def reference_beam(model, width, max_len, alpha):
    """The rule of the module docstring, written out with lists: expand, keep the best
    width - (finished so far), set aside those ending in <eos>; rank by score / length**alpha."""
    live, finished = [((), 0.0)], []
    for step in range(max_len):
        candidates = []
        for history, score in live:
            probs = model.distribution(history)
            candidates += [(history, token, score + math.log(p)) for token, p in enumerate(probs) if p > 0]
        candidates.sort(key=lambda c: -c[2])  # stable: earlier hypothesis, then lower id, first
        live = []
        for history, token, score in candidates[: width - len(finished)]:
            if token == model.eos_id:
                finished.append((list(history), score / (step + 1) ** alpha))
            else:
                live.append((history + (token,), score))
        if not live:
            break
    finished += [(list(history), score / max_len**alpha) for history, score in live]
    return sorted(finished, key=lambda pair: -pair[1])


@pytest.mark.parametrize("width", [2, 3, 5])
@pytest.mark.parametrize("seed", range(4))
def test_a_narrow_beam_follows_the_rule_step_by_step(seed, width):
    # Here the beam is narrower than the tree, so hypotheses are dropped and the beam narrows as
    # hypotheses finish; the whole returned list must match the rule written out above.
    model = HistoryLM(vocab_size=6, eos_id=2, seed=seed, impossible=[5])
    expected = reference_beam(model, width, max_len=6, alpha=0.5)
    got = beam_search(model, beam_width=width, max_len=6, n_best=width, length_penalty=0.5)
    assert [ids for ids, _ in got] == [ids for ids, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-12)


# Vocabulary of the table model: 0 <pad>, 1 <unk>, 2 <bos>, 3 <eos>, 4 a, 5 b.
BOS, EOS, A, B = 2, 3, 4, 5


def greedy_trap():
    """<bos> -> a .6 | b .4;  a -> <eos> .45 | b .55;  b -> <eos> 1.

    Sequences: [b] .4;  [a, b] .6 * .55 = .33;  [a] .6 * .45 = .27. Greedy takes a (.6), then b
    (.55): [a, b] with .33, missing the best sequence [b] with .4. A beam of two keeps b.
    """
    table = np.zeros((6, 6))
    table[[0, 1, EOS], EOS] = 1.0  # rows never reached
    table[BOS, A], table[BOS, B] = 0.6, 0.4
    table[A, EOS], table[A, B] = 0.45, 0.55
    table[B, EOS] = 1.0
    return TableBigramLM(table, bos_id=BOS, eos_id=EOS)


def test_width_two_escapes_the_greedy_trap():
    model = greedy_trap()
    assert generate(model, [], greedy=True) == [[A, B]]
    [(ids, score)] = beam_search(model, beam_width=1, max_len=10)
    assert ids == [A, B] and score == pytest.approx(math.log(0.33))
    best = beam_search(model, beam_width=2, max_len=10, n_best=2)
    assert [ids for ids, _ in best] == [[B], [A, B]]
    np.testing.assert_allclose([s for _, s in best], [math.log(0.4), math.log(0.33)])


def test_length_normalisation_changes_the_winner():
    # Per token (alpha = 1): [b] scores log(.4) / 2 = -0.458, [a, b] log(.33) / 3 = -0.370.
    [(ids, score)] = beam_search(greedy_trap(), beam_width=2, max_len=10, length_penalty=1.0)
    assert ids == [A, B] and score == pytest.approx(math.log(0.33) / 3)


@pytest.mark.parametrize("seed", range(6))
def test_width_one_is_greedy_decoding(seed):
    model = HistoryLM(vocab_size=5, eos_id=4, seed=seed)
    prompt = [seed % 4]
    [greedy_ids] = generate(model, prompt, max_len=7, greedy=True)
    [(ids, score)] = beam_search(model, prompt, beam_width=1, max_len=7)
    assert ids == greedy_ids
    scored = greedy_ids + ([model.eos_id] if len(greedy_ids) < 7 else [])
    log_probs = model.sequence_log_probs(prompt + scored)[len(prompt):]
    assert score == pytest.approx(log_probs.sum())


def test_scores_are_the_model_log_probabilities_over_length_to_the_alpha():
    model = HistoryLM(vocab_size=6, eos_id=5, seed=9)
    prompt, alpha, max_len = [0, 1], 0.7, 6
    for ids, score in beam_search(model, prompt, beam_width=6, max_len=max_len, n_best=6, length_penalty=alpha):
        scored = ids + ([model.eos_id] if len(ids) < max_len else [])
        total = model.sequence_log_probs(prompt + scored)[len(prompt):].sum()
        assert score == pytest.approx(total / len(scored) ** alpha)


@pytest.mark.parametrize(
    "kwargs",
    [dict(beam_width=0), dict(max_len=0), dict(n_best=0), dict(beam_width=2, n_best=3),
     dict(length_penalty=-0.5), dict(prompt_ids=[7]), dict(prompt_ids=[BOS])],
)
def test_beam_search_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        beam_search(greedy_trap(), **kwargs)
