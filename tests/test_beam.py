"""Tests of scratchlm.beam: exhaustive search on tiny models, the rules written out with lists,
greedy at width 1, worked numbers, a full beam at every step."""
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


@pytest.mark.parametrize("early_stopping", [False, True, "never"])
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
def test_a_beam_wide_enough_finds_the_exhaustive_ranking(model, prompt, alpha, early_stopping):
    max_len = 4
    expected = exhaustive_ranking(model, prompt, max_len, alpha)
    # As wide as the number of hypotheses, the beam never drops one and its finished list never
    # fills before the end, so its whole ranking is the exhaustive one, best first.
    got = beam_search(model, prompt, beam_width=len(expected), max_len=max_len,
                      n_best=len(expected), length_penalty=alpha, early_stopping=early_stopping)
    assert [ids for ids, _ in got] == [ids for ids, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_no_beam_scores_above_the_exhaustive_best(seed):
    model = HistoryLM(vocab_size=4, eos_id=3, seed=100 + seed)
    for alpha in (0.0, 1.0):
        exhaustive = exhaustive_ranking(model, [], max_len=5, alpha=alpha)
        for width in (1, 2, 4):
            for early_stopping in (False, True, "never"):
                got = beam_search(model, beam_width=width, max_len=5, n_best=width, length_penalty=alpha,
                                  early_stopping=early_stopping)
                # The i-th best found is a real hypothesis, so it cannot beat the i-th best of all.
                for (ids, score), (_, bound) in zip(got, exhaustive):
                    assert score <= bound + 1e-12
                assert got[0] in [(ids, pytest.approx(score, abs=1e-12)) for ids, score in exhaustive]


def reference_narrowing_beam(model, width, max_len, alpha):
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
    expected = reference_narrowing_beam(model, width, max_len=6, alpha=0.5)
    got = beam_search(model, beam_width=width, max_len=6, n_best=width, length_penalty=0.5, narrowing=True)
    assert [ids for ids, _ in got] == [ids for ids, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-12)


def reference_standard_beam(model, width, max_len, alpha, early_stopping):
    """Hugging Face's beam search (BeamHypotheses), as the module docstring states it, with lists.

    Each step: rank all candidates (stable: earlier hypothesis, then lower id); of the best
    2 * width, those among the first width that end (<eos>, or max_len reached) are offered to
    the finished list, which keeps its best width by score / length**alpha; the best width that
    do not end stay live. Stop by the early_stopping rule.
    """
    live, finished = [((), 0.0)], []
    for step in range(max_len):
        candidates = []
        for history, score in live:
            probs = model.distribution(history)
            candidates += [(history, token, score + math.log(p)) for token, p in enumerate(probs) if p > 0]
        candidates = sorted(candidates, key=lambda c: -c[2])[: 2 * width]
        last = step + 1 == max_len
        for history, token, score in candidates[:width]:
            if token == model.eos_id:
                finished.append((list(history), score / (step + 1) ** alpha))
            elif last:
                finished.append((list(history) + [token], score / max_len**alpha))
        finished = sorted(finished, key=lambda pair: -pair[1])[:width]
        live = [(history + (token,), score) for history, token, score in candidates
                if token != model.eos_id and not last][:width]
        if not live:
            break
        if len(finished) == width:
            if early_stopping is True:
                break
            length = max_len if early_stopping == "never" and alpha > 0 else step + 1
            if live[0][1] / length**alpha <= finished[-1][1]:
                break
    return finished


@pytest.mark.parametrize("early_stopping", [False, True, "never"])
@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.5])
@pytest.mark.parametrize("width", [1, 2, 3])
@pytest.mark.parametrize("seed", range(5))
def test_a_narrow_standard_beam_follows_hugging_faces_rules(seed, width, alpha, early_stopping):
    model = HistoryLM(vocab_size=6, eos_id=2, seed=seed, impossible=[5])
    expected = reference_standard_beam(model, width, max_len=6, alpha=alpha, early_stopping=early_stopping)
    got = beam_search(model, beam_width=width, max_len=6, n_best=width, length_penalty=alpha,
                      early_stopping=early_stopping)
    assert [ids for ids, _ in got] == [ids for ids, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-12)


class CountingLM(HistoryLM):
    """A HistoryLM that records how many hypotheses each advance() carries."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows_advanced = []

    def advance(self, state, tokens):
        self.rows_advanced.append(len(tokens))
        return super().advance(state, tokens)


@pytest.mark.parametrize("seed", range(5))
def test_the_standard_beam_stays_full_while_hypotheses_finish(seed):
    # <eos> is likely here, so hypotheses finish early; the standard beam still carries `width`
    # live hypotheses at every step, where the narrowing beam loses one per finished hypothesis.
    width, max_len = 3, 7
    standard = CountingLM(vocab_size=5, eos_id=0, seed=seed)
    beam_search(standard, beam_width=width, max_len=max_len, early_stopping="never")
    assert standard.rows_advanced[1:] == [width] * len(standard.rows_advanced[1:])
    narrowing = CountingLM(vocab_size=5, eos_id=0, seed=seed)
    beam_search(narrowing, beam_width=width, max_len=max_len, narrowing=True)
    assert sorted(narrowing.rows_advanced[1:], reverse=True) == narrowing.rows_advanced[1:]


def test_early_stopping_true_stops_at_the_first_full_finished_list():
    # <bos> -> a .5 | b .3 | <eos> .2;  a -> <eos> .9 | a .1;  b -> <eos> .5 | a .5.
    # Width 2. Step 1: <eos> (.2) is ranked third: dropped; live a (.5), b (.3).
    # Step 2: candidates a<eos> .45, b<eos> .15, b a .15, a a .05. Finished [a] .45, [b] .15: the
    # list is full. True stops here. "never" (alpha 0) stops too: the best live, (b a) .15, cannot
    # beat the worst finished, .15.
    table = np.zeros((6, 6))
    table[[0, 1, EOS], EOS] = 1.0
    table[BOS, A], table[BOS, B], table[BOS, EOS] = 0.5, 0.3, 0.2
    table[A, EOS], table[A, A] = 0.9, 0.1
    table[B, EOS], table[B, A] = 0.5, 0.5
    model = TableBigramLM(table, bos_id=BOS, eos_id=EOS)
    for early_stopping in (True, "never", False):
        got = beam_search(model, beam_width=2, max_len=10, n_best=2, early_stopping=early_stopping)
        assert [ids for ids, _ in got] == [[A], [B]]
        np.testing.assert_allclose([s for _, s in got], np.log([0.45, 0.15]))


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
     dict(length_penalty=float("nan")), dict(prompt_ids=[7]), dict(prompt_ids=[BOS]),
     dict(early_stopping="sometimes"), dict(early_stopping=1), dict(narrowing=True, early_stopping=True),
     dict(repetition_penalty=0.0), dict(no_repeat_ngram_size=-1), dict(suppress_tokens=[9])],
)
def test_beam_search_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        beam_search(greedy_trap(), **kwargs)
