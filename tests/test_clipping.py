"""Gradient clipping against a hand example and torch.nn.utils."""
import numpy as np
import pytest

from scratchlm.train.clipping import clip_grad_norm, clip_grad_value, global_norm


def test_hand_example_norm_and_rescale():
    # the gradients (3, 4) and (12,) form the vector (3, 4, 12): norm sqrt(9 + 16 + 144) = 13
    grads = {"a": np.array([3.0, 4.0]), "b": np.array([12.0])}
    assert global_norm(grads) == pytest.approx(13.0)
    returned = clip_grad_norm(grads, max_norm=6.5)
    assert returned == pytest.approx(13.0)          # the norm before clipping
    coef = 6.5 / (13.0 + 1e-6)                      # about one half
    np.testing.assert_allclose(grads["a"], [3.0 * coef, 4.0 * coef])
    np.testing.assert_allclose(grads["b"], [12.0 * coef])


def test_small_gradients_are_untouched():
    grads = {"a": np.array([0.3, 0.4])}              # norm 0.5 < 1
    assert clip_grad_norm(grads, max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(grads["a"], [0.3, 0.4])


def test_matches_torch_clip_grad_norm():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for max_norm in (0.5, 3.0, 100.0):
        grads = {"w": rng.normal(size=(5, 3)) * 2, "b": rng.normal(size=(7,))}
        tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
        for t, g in zip(tensors, grads.values()):
            t.grad = torch.tensor(g)
        torch_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
        our_norm = clip_grad_norm(grads, max_norm)
        assert our_norm == pytest.approx(float(torch_norm), rel=1e-12)
        for t, g in zip(tensors, grads.values()):
            np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)


def test_clip_by_value():
    grads = {"a": np.array([-3.0, 0.5, 2.0])}
    clip_grad_value(grads, 1.0)
    np.testing.assert_array_equal(grads["a"], [-1.0, 0.5, 1.0])


def test_bad_bounds():
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm({"a": np.ones(2)}, 0.0)
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value({"a": np.ones(2)}, -1.0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_norm_is_treated_as_torch_treats_it(bad):
    torch = pytest.importorskip("torch")
    grads = {"w": np.array([1.0, bad, 2.0]), "b": np.array([3.0, 4.0])}
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = torch.tensor(g)
    torch_norm = torch.nn.utils.clip_grad_norm_(tensors, 1.0)
    our_norm = clip_grad_norm(grads, 1.0)
    np.testing.assert_equal(our_norm, float(torch_norm))        # nan == nan, inf == inf
    for t, g in zip(tensors, grads.values()):
        np.testing.assert_array_equal(g, t.grad.numpy())         # NaN norm: all NaN; inf: 0 and NaN


def test_non_finite_norm_by_hand():
    # written out, without torch: NaN spreads to every array; inf scales by 0 (0 * inf = NaN)
    grads = {"w": np.array([1.0, np.nan]), "b": np.array([3.0])}
    assert np.isnan(clip_grad_norm(grads, 1.0))
    assert np.isnan(grads["w"]).all() and np.isnan(grads["b"]).all()
    grads = {"w": np.array([1.0, np.inf]), "b": np.array([3.0])}
    assert clip_grad_norm(grads, 1.0) == np.inf
    np.testing.assert_array_equal(grads["w"], [0.0, np.nan])
    np.testing.assert_array_equal(grads["b"], [0.0])
