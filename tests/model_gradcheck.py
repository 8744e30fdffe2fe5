"""Centred finite differences for the tests of the bidirectional layer, window LM, tagger and seq2seq.

For every array p of ``params`` and (up to ``max_elements``) entries i of it,

    numeric_i = (L(p + eps e_i) - L(p - eps e_i)) / (2 eps)         error O(eps^2)

and the relative error of the array is ||analytic - numeric|| / (||analytic|| + ||numeric||) over
the checked entries. The norm over the array keeps rounding noise in a near-zero entry from
swamping the comparison, while a wrong entry of ordinary size still shows.
"""
import numpy as np

TOLERANCE = 1e-6


def relative_errors(loss, params, grads, eps=1e-5, max_elements=40, seed=0):
    """{name: relative error} for every array of ``params``; ``loss()`` reads the arrays in place."""
    rng = np.random.default_rng(seed)
    errors = {}
    for name, array in params.items():
        assert array.dtype == np.float64, f"{name}: gradient checks need float64, got {array.dtype}"
        flat = array.reshape(-1)   # a view: writing into it moves the parameter the loss reads
        analytic = np.asarray(grads[name], dtype=np.float64).reshape(-1)
        assert analytic.shape == flat.shape, f"{name}: gradient of shape {grads[name].shape} for {array.shape}"
        chosen = np.arange(flat.size)
        if flat.size > max_elements:
            chosen = rng.choice(flat.size, size=max_elements, replace=False)
        numeric = np.empty(len(chosen))
        for k, i in enumerate(chosen):
            saved = flat[i]
            flat[i] = saved + eps
            plus = loss()
            flat[i] = saved - eps
            minus = loss()
            flat[i] = saved
            numeric[k] = (plus - minus) / (2 * eps)
        difference = np.linalg.norm(analytic[chosen] - numeric)
        scale = np.linalg.norm(analytic[chosen]) + np.linalg.norm(numeric)
        errors[name] = 0.0 if scale == 0 else difference / scale
    return errors


def assert_gradients_match(loss, params, grads, tolerance=TOLERANCE, **options):
    """Fail, naming the worst arrays, unless every relative error is below ``tolerance``."""
    errors = relative_errors(loss, params, grads, **options)
    bad = {name: error for name, error in errors.items() if not error < tolerance}
    assert not bad, f"relative error above {tolerance}: {bad}"
    return max(errors.values())
