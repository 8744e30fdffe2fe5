"""Softmax cross-entropy with a mask: hand-derived numbers, stability, and a gradient check."""
import math

import numpy as np

from scratchlm.layers.softmax_cross_entropy import (
    log_softmax,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)


def _worked_example():
    # Row (0, 0): logits log [1, 2, 3, 4] -> softmax [0.1, 0.2, 0.3, 0.4]; target 3 -> NLL -log 0.4.
    # Row (0, 1): equal logits -> softmax 1/4 each; target 0 -> NLL log 4.
    # Row (0, 2): masked out (its target -100 would be out of range if it were used).
    logits = np.array([[np.log([1.0, 2.0, 3.0, 4.0]), [5.0, 5.0, 5.0, 5.0], [9.0, -9.0, 0.0, 1.0]]])
    targets = np.array([[3, 0, -100]])
    mask = np.array([[True, True, False]])
    return logits, targets, mask


def test_loss_is_mean_nll_over_unmasked_tokens():
    logits, targets, mask = _worked_example()
    loss, _ = softmax_cross_entropy_forward(logits, targets, mask)
    expected = (-math.log(0.4) + math.log(4.0)) / 2  # = (0.916290731874155 + 1.386294361119891) / 2
    assert abs(loss - expected) < 1e-14


def test_gradient_is_softmax_minus_onehot_over_count():
    logits, targets, mask = _worked_example()
    _, cache = softmax_cross_entropy_forward(logits, targets, mask)
    dlogits = softmax_cross_entropy_backward(cache)
    # (p - onehot) / N with N = 2 counted tokens; zero on the masked row.
    np.testing.assert_allclose(dlogits[0, 0], [0.05, 0.1, 0.15, -0.3], atol=1e-15)
    np.testing.assert_allclose(dlogits[0, 1], [-0.375, 0.125, 0.125, 0.125], atol=1e-15)
    np.testing.assert_array_equal(dlogits[0, 2], 0.0)
    np.testing.assert_allclose(softmax_cross_entropy_backward(cache, dloss=3.0), 3.0 * dlogits, atol=1e-15)


def test_uniform_logits_give_log_vocab_size():
    loss, _ = softmax_cross_entropy_forward(np.zeros((2, 3, 7)), np.zeros((2, 3), dtype=int))
    assert abs(loss - math.log(7)) < 1e-14


def test_large_logits_do_not_overflow():
    logits = np.array([[[1000.0, 1000.0 + math.log(3.0)]]])  # softmax [1/4, 3/4]
    loss, cache = softmax_cross_entropy_forward(logits, np.array([[1]]))
    assert abs(loss - math.log(4.0 / 3.0)) < 1e-12
    assert np.isfinite(softmax_cross_entropy_backward(cache)).all()
    np.testing.assert_allclose(np.exp(log_softmax(logits)), [[[0.25, 0.75]]], rtol=1e-12)
