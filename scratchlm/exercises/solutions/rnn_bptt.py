"""Solution of exercise 5: backpropagation through time for the Elman RNN."""
import numpy as np

from scratchlm.exercises.solutions.rnn_step import rnn_step_backward


def rnn_backward(dhs, dh_last, cache):
    """BPTT: walk t = T .. 1, carrying the gradient of h_t back from step t+1::

        dh_t   = dhs[:, t - 1] + (dh_prev returned by step t+1)   (dh_last adds in at t = T)
        dx_t, dh_prev, dparams_t = rnn_step_backward(dh_t, cache_t)
        dparams = sum_t dparams_t                                the same weights at every step
        dh0    = the dh_prev of step 1

    Args:
        dhs: (B, T, H). dh_last: (B, H). cache: RNNCache; cache.steps = [RNNStepCache of t = 1 .. T].

    Returns:
        dx (B, T, E), dh0 (B, H), dparams keyed like the step parameters.
    """
    steps = cache.steps
    dx = np.zeros(dhs.shape[:2] + steps[0].x.shape[1:], dtype=dhs.dtype)
    dparams = {name: np.zeros_like(value) for name, value in steps[0].params.items()}
    dh_carried = dh_last
    for t in reversed(range(len(steps))):
        dx[:, t], dh_carried, step_grads = rnn_step_backward(dhs[:, t] + dh_carried, steps[t])
        for name, grad in step_grads.items():
            dparams[name] += grad
    return dx, dh_carried, dparams
