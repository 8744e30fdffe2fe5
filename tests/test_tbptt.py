"""Truncated BPTT: values cross a window boundary, gradients do not; TBPTT(k1, k2) equals brute force."""
import numpy as np
import pytest

from scratchlm.models.rnnlm import RNNLM
from scratchlm.train.tbptt import detach_state, full_bptt_update, tbptt_update, tbptt_windows

V = 6


def tiny_model(cell="lstm"):
    return RNNLM(V, embed_dim=3, hidden_size=4, num_layers=1, cell=cell, seed=3, dtype="float64")


def nll_mean(logits, targets):
    """Mean negative log-likelihood, written out here independently of the layers."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    return -picked.mean()


def embedding_key(model):
    return next(k for k in model.params if "embedding" in k)


def test_windows_cover_every_prediction_once():
    for k1, k2 in [(3, 3), (3, 5), (4, 9), (1, 1)]:
        windows = tbptt_windows(11, k1, k2)
        counted = [t for w in windows for t in range(w.loss_from, w.stop)]
        assert counted == list(range(11))
        assert all(w.stop - w.first <= k2 and w.stop - w.loss_from <= k1 for w in windows)


def test_bad_window_sizes():
    with pytest.raises(ValueError, match="k1 <= k2"):
        tbptt_windows(10, 5, 3)
    with pytest.raises(ValueError, match="longer than the data"):
        tbptt_windows(10, 35)


def test_detach_state_copies_values():
    h, c = np.ones((1, 2, 4)), np.zeros((1, 2, 4))
    dh, dc = detach_state((h, c))
    np.testing.assert_array_equal(dh, h)
    h += 1.0
    assert dh[0, 0, 0] == 1.0 and dc is not c


def test_values_flow_across_the_boundary_but_gradients_do_not():
    model = tiny_model()
    marker = 5                                   # this token occurs only in the first window's inputs
    streams = np.array([[5, 5, 4, 5, 1, 2, 3, 4, 1, 2],
                        [4, 5, 5, 5, 2, 3, 1, 4, 3, 2]])
    first, second, _ = tbptt_windows(streams.shape[1] - 1, k1=4)

    _, _, carried, _ = tbptt_update(model, streams, first, None)
    loss, grads, _, _ = tbptt_update(model, streams, second, carried)

    # gradients: the second window's loss does not reach the marker's embedding row
    assert np.all(grads[embedding_key(model)][marker] == 0.0)
    assert np.any(grads[embedding_key(model)][1:5] != 0.0)

    # values: the same loss does depend on that row, through the carried state
    model.params[embedding_key(model)][marker] += 0.5
    _, _, carried_after, _ = tbptt_update(model, streams, first, None)
    loss_after, _, _, _ = tbptt_update(model, streams, second, carried_after)
    assert abs(loss_after - loss) > 1e-6


@pytest.mark.parametrize("k1, k2", [(3, 3), (3, 5), (2, 7)])
def test_tbptt_gradients_equal_brute_force(k1, k2):
    """Each update's gradient = the gradient, by centred differences, of the mean NLL of its last
    k1 steps, with the forward pass started k2 steps back from the state the stream had there
    (held fixed: that is what truncation means)."""
    model = tiny_model()
    rng = np.random.default_rng(0)
    streams = rng.integers(1, V, size=(2, 12))
    state = None
    for window in tbptt_windows(streams.shape[1] - 1, k1, k2):
        loss, grads, state, count = tbptt_update(model, streams, window, state)
        assert count == 2 * (window.stop - window.loss_from)

        if window.first > 0:
            _, frozen = model.forward(streams[:, : window.first])
        else:
            frozen = None
        inputs = streams[:, window.first:window.stop]
        targets = streams[:, window.first + 1:window.stop + 1]
        counted = slice(window.loss_from - window.first, None)

        def window_loss():
            logits, _ = model.forward(inputs, state=frozen)
            return nll_mean(logits[:, counted], targets[:, counted])

        assert loss == pytest.approx(window_loss(), rel=1e-12)
        eps = 1e-6
        for name, param in model.params.items():
            numeric = np.zeros_like(param)
            for index in np.ndindex(param.shape):
                saved = param[index]
                param[index] = saved + eps
                up = window_loss()
                param[index] = saved - eps
                down = window_loss()
                param[index] = saved
                numeric[index] = (up - down) / (2 * eps)
            np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-8, err_msg=name)

        # the carried state is the value an unbroken forward pass has at the next window's start
        if window.next_first > 0:
            _, expected = model.forward(streams[:, : window.next_first])
            for got, want in zip(state, expected):
                np.testing.assert_allclose(got, want, rtol=1e-12)


def test_k1_equal_to_the_whole_stream_is_full_bptt():
    model = tiny_model(cell="gru")
    rng = np.random.default_rng(1)
    streams = rng.integers(1, V, size=(3, 9))
    (window,) = tbptt_windows(8, k1=8)
    loss, grads, _, _ = tbptt_update(model, streams, window, None)
    full_loss, full_grads, count = full_bptt_update(model, streams[:, :-1], streams[:, 1:])
    assert count == 24 and loss == full_loss
    for name in grads:
        np.testing.assert_array_equal(grads[name], full_grads[name])
