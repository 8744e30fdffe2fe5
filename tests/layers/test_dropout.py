"""Inverted dropout: identity in evaluation, the kept fraction and scaling, the same mask backward."""
import numpy as np
import pytest

from scratchlm.layers.dropout import dropout_backward, dropout_forward


def test_evaluation_and_p_zero_are_identity():
    x = np.random.default_rng(0).normal(size=(3, 4))
    for p, training in ((0.5, False), (0.0, True)):
        out, cache = dropout_forward(x, p, np.random.default_rng(1), training=training)
        np.testing.assert_array_equal(out, x)
        np.testing.assert_array_equal(dropout_backward(np.ones_like(x), cache), np.ones_like(x))


def test_kept_units_are_scaled_and_fraction_matches_p():
    p = 0.3
    x = np.ones((200, 500))
    out, _ = dropout_forward(x, p, np.random.default_rng(2))
    values = set(np.unique(out).round(12))
    assert values == {0.0, round(1 / (1 - p), 12)}
    kept = (out != 0).mean()
    # 100000 Bernoulli(0.7) draws: standard deviation sqrt(0.7 * 0.3 / 1e5) = 0.00145; allow 5 of them.
    assert abs(kept - 0.7) < 5 * 0.00145
    assert abs(out.mean() - 1.0) < 5 * 0.00145 / 0.7  # inverted dropout keeps the mean


def test_same_seed_same_mask_and_backward_uses_it():
    rng = np.random.default_rng(3)
    x, dout = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    out_a, cache = dropout_forward(x, 0.5, np.random.default_rng(9))
    out_b, _ = dropout_forward(x, 0.5, np.random.default_rng(9))
    np.testing.assert_array_equal(out_a, out_b)
    dx = dropout_backward(dout, cache)
    np.testing.assert_allclose(dx, dout * np.where(out_a != 0, 2.0, 0.0))


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_invalid_probability(p):
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        dropout_forward(np.ones(3), p, np.random.default_rng(0))
