"""Tests of scratchlm.metrics: worked numbers, the uniform model, streams against sequences."""
import math

import numpy as np
import pytest

from scratchlm.metrics import EvaluationResult, evaluate, evaluate_stream, perplexity, token_log_probs
from toy_lms import HistoryLM, TableBigramLM

# Vocabulary of the table models: 0 <pad>, 1 <unk>, 2 <bos>, 3 <eos>, 4 a, 5 b.
BOS, EOS, A, B = 2, 3, 4, 5


def uniform_model(vocab_size):
    return TableBigramLM(np.full((vocab_size, vocab_size), 1.0 / vocab_size), bos_id=BOS, eos_id=EOS)


@pytest.mark.parametrize("vocab_size", [6, 17, 50])
def test_a_uniform_model_has_perplexity_equal_to_the_vocabulary_size(vocab_size):
    rng = np.random.default_rng(vocab_size)
    sequences = [list(rng.integers(4, vocab_size, size=n)) + [EOS] for n in (0, 3, 9)]
    result = evaluate(uniform_model(vocab_size), sequences)
    assert result.num_tokens == 1 + 4 + 10  # every token and every <eos>, never <bos>
    assert result.perplexity == pytest.approx(vocab_size)
    assert result.bits_per_token == pytest.approx(math.log2(vocab_size))
    assert perplexity(uniform_model(vocab_size), sequences) == pytest.approx(vocab_size)


def worked_model():
    """<bos> -> a 1/2 | b 1/2;  a -> <eos> 1/4 | a 3/4;  b -> <eos> 1."""
    table = np.zeros((6, 6))
    table[[0, 1, EOS], EOS] = 1.0  # rows never reached
    table[BOS, A] = table[BOS, B] = 0.5
    table[A, EOS], table[A, A] = 0.25, 0.75
    table[B, EOS] = 1.0
    return TableBigramLM(table, bos_id=BOS, eos_id=EOS)


def test_worked_example():
    # [a, <eos>]: 1/2 * 1/4 = 1/8, NLL 3 ln 2 over 2 tokens.
    # [b, <eos>]: 1/2 * 1, NLL ln 2 over 2 tokens.
    # Total 4 ln 2 over 4 tokens: perplexity e^(ln 2) = 2, one bit per token.
    model = worked_model()
    np.testing.assert_allclose(token_log_probs(model, [A, EOS]), np.log([0.5, 0.25]))
    result = evaluate(model, [[A, EOS], [B, EOS]])
    assert result.total_nll == pytest.approx(4 * math.log(2))
    assert result.num_tokens == 4
    assert result.nll_per_token == pytest.approx(math.log(2))
    assert result.perplexity == pytest.approx(2.0)
    assert result.bits_per_token == pytest.approx(1.0)
    assert result.bits_per(8) == pytest.approx(0.5)  # the same 4 bits over 8 characters


def test_an_impossible_token_gives_infinite_perplexity():
    # b -> a has probability zero in the worked model.
    result = evaluate(worked_model(), [[B, A, EOS]])
    assert result.total_nll == math.inf and result.perplexity == math.inf


def test_a_huge_finite_perplexity_is_reported_as_infinite_not_an_error():
    assert EvaluationResult(total_nll=1e6, num_tokens=1).perplexity == math.inf


def test_token_log_probs_are_the_steps_of_the_interface():
    model = HistoryLM(vocab_size=5, eos_id=4, seed=3)
    sequence = [0, 2, 2, 1, 4]
    expected = [math.log(model.distribution(tuple(sequence[:t]))[token]) for t, token in enumerate(sequence)]
    np.testing.assert_allclose(token_log_probs(model, sequence), expected)


@pytest.mark.parametrize("num_pieces", [1, 2, 3, 7])
def test_a_stream_is_its_pieces_each_scored_from_the_start(num_pieces):
    model = HistoryLM(vocab_size=4, eos_id=None, seed=6)  # not Markov: every cut matters
    stream = np.random.default_rng(0).integers(0, 4, size=23)
    # np.array_split gives pieces of 4 and 3 tokens for 7 pieces of 23: (23 = 2*4 + 5*3).
    expected_nll = -sum(
        math.log(model.distribution(tuple(piece[:t]))[token])
        for piece in np.array_split(stream, num_pieces)
        for t, token in enumerate(piece)
    )
    result = evaluate_stream(model, stream, num_pieces=num_pieces)
    assert result.num_tokens == 23
    assert result.total_nll == pytest.approx(expected_nll)


def test_one_piece_is_the_whole_stream_as_one_sequence():
    model = worked_model()
    model.eos_id = None  # a stream model: <eos> is an ordinary token here
    stream = [A, A, EOS, B, EOS]
    assert evaluate_stream(model, stream, num_pieces=1).total_nll == pytest.approx(
        -model.sequence_log_probs(stream).sum()
    )


@pytest.mark.parametrize(
    "sequences",
    [
        [],  # nothing to evaluate
        [[]],  # an empty sequence
        [[A, B]],  # no <eos> at the end
        [[BOS, A, EOS]],  # <bos> is fed by start(), not part of the sequence
        [[A, 9, EOS]],  # outside the vocabulary
        [[[A, EOS]]],  # not 1-D
    ],
)
def test_evaluate_rejects_bad_sequences(sequences):
    with pytest.raises(ValueError):
        evaluate(worked_model(), sequences)


def test_bad_streams_and_types_are_errors():
    with pytest.raises(TypeError):
        evaluate(worked_model(), [[0.5, 3.0]])
    with pytest.raises(ValueError):
        evaluate_stream(worked_model(), [A, B], num_pieces=0)
    with pytest.raises(ValueError):
        evaluate_stream(worked_model(), [])
