"""Embedding: lookup against plain indexing, scatter-add backward against a brute-force loop."""
import numpy as np

from scratchlm.layers.embedding import embedding_backward, embedding_forward


def test_forward_picks_rows():
    weight = np.arange(12, dtype=np.float64).reshape(4, 3)  # row v = [3v, 3v+1, 3v+2]
    out, _ = embedding_forward(np.array([[2, 0], [3, 2]]), weight)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[0, 0], [6, 7, 8])
    np.testing.assert_array_equal(out[1, 0], [9, 10, 11])


def test_backward_accumulates_repeated_ids_like_a_loop():
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(5, 3))
    ids = np.array([[1, 1, 4, 1], [4, 0, 1, 1]])  # id 1 five times, id 4 twice, ids 2 and 3 never
    dout = rng.normal(size=(2, 4, 3))
    _, cache = embedding_forward(ids, weight)
    dweight = embedding_backward(dout, cache)

    expected = np.zeros_like(weight)
    for b in range(ids.shape[0]):
        for t in range(ids.shape[1]):
            expected[ids[b, t]] += dout[b, t]
    np.testing.assert_allclose(dweight, expected, rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(dweight[[2, 3]], 0.0)

    # The naive fancy-index update keeps only one gradient per id: the test above would catch it.
    naive = np.zeros_like(weight)
    naive[ids.reshape(-1)] += dout.reshape(-1, 3)
    assert not np.allclose(naive, expected)
