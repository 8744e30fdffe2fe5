"""Elman RNN, LSTM and GRU: forward against the equations written out gate by gate, step and
sequence functions against each other, the named caches, and backward passes that leave their
cache alone. The float64 gradient checks of every cell are cases of the one registry in
scratchlm/gradcheck/cases.py, run by tests/gradcheck."""
import numpy as np
import pytest

from scratchlm.layers import CELLS

B, T, E, H = 2, 5, 3, 4  # E != H so that a swapped size shows


def logistic(a):
    return 1.0 / (1.0 + np.exp(-a))


def equations_forward(cell, x, state0, p):
    """The cell equations, one gate matrix at a time (an independent re-derivation, no shared code)."""
    W, U, b, c_ = p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]

    def part(k):  # rows of gate k
        return slice(k * H, (k + 1) * H)

    h = state0[0] if cell == "lstm" else state0
    c = state0[1] if cell == "lstm" else None
    outputs = []
    for t in range(x.shape[1]):
        xt = x[:, t]
        if cell == "rnn":
            h = np.tanh(xt @ W.T + b + h @ U.T + c_)
        elif cell == "lstm":
            gate = lambda k, f: f(xt @ W[part(k)].T + b[part(k)] + h @ U[part(k)].T + c_[part(k)])  # noqa: E731
            i, f, g, o = gate(0, logistic), gate(1, logistic), gate(2, np.tanh), gate(3, logistic)
            c = f * c + i * g
            h = o * np.tanh(c)
        else:
            r = logistic(xt @ W[part(0)].T + b[part(0)] + h @ U[part(0)].T + c_[part(0)])
            z = logistic(xt @ W[part(1)].T + b[part(1)] + h @ U[part(1)].T + c_[part(1)])
            n = np.tanh(xt @ W[part(2)].T + b[part(2)] + r * (h @ U[part(2)].T + c_[part(2)]))
            h = (1 - z) * n + z * h
        outputs.append(h)
    return np.stack(outputs, axis=1), ((h, c) if cell == "lstm" else h)


def make(cell, seed=0):
    rng = np.random.default_rng(seed)
    G = CELLS[cell].num_gates
    params = {
        "weight_ih": rng.normal(0, 0.5, (G * H, E)),
        "weight_hh": rng.normal(0, 0.5, (G * H, H)),
        "bias_ih": rng.normal(0, 0.5, G * H),  # distinct, non-zero biases, so a swapped bias shows
        "bias_hh": rng.normal(0, 0.5, G * H),
    }
    x = rng.normal(size=(B, T, E))
    state0 = (rng.normal(size=(B, H)), rng.normal(size=(B, H))) if cell == "lstm" else rng.normal(size=(B, H))
    return params, x, state0, rng


def as_list(cell, state):
    return list(state) if cell == "lstm" else [state]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_sequence_forward_matches_equations(cell):
    params, x, state0, _ = make(cell)
    hs, state_T, _ = CELLS[cell].forward(x, state0, params)
    expected_hs, expected_state = equations_forward(cell, x, state0, params)
    assert hs.shape == (B, T, H)
    np.testing.assert_allclose(hs, expected_hs, rtol=1e-12, atol=1e-14)
    for got, want in zip(as_list(cell, state_T), as_list(cell, expected_state)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_zero_initial_state_is_the_default(cell):
    params, x, _, _ = make(cell)
    zeros = (np.zeros((B, H)), np.zeros((B, H))) if cell == "lstm" else np.zeros((B, H))
    np.testing.assert_array_equal(CELLS[cell].forward(x, None, params)[0], CELLS[cell].forward(x, zeros, params)[0])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_chained_step_backward_equals_sequence_backward(cell):
    """Backprop through T step functions by hand must give the sequence function's gradients."""
    params, x, state0, rng = make(cell)
    fns = CELLS[cell]
    dhs = rng.normal(size=(B, T, H))
    dstate_T = (rng.normal(size=(B, H)), rng.normal(size=(B, H))) if cell == "lstm" else rng.normal(size=(B, H))

    state, caches = state0, []
    for t in range(T):
        state, cache = fns.step_forward(x[:, t], state, params)
        caches.append(cache)
    dstate = dstate_T
    dx_steps = [None] * T
    dparams_sum = {key: np.zeros_like(value) for key, value in params.items()}
    for t in reversed(range(T)):
        if cell == "lstm":
            dstate = (dstate[0] + dhs[:, t], dstate[1])
        else:
            dstate = dstate + dhs[:, t]
        dx_steps[t], dstate, dparams = fns.step_backward(dstate, caches[t])
        for key in dparams_sum:
            dparams_sum[key] += dparams[key]

    _, _, cache = fns.forward(x, state0, params)
    dx, dstate0, dparams = fns.backward(dhs, dstate_T, cache)
    np.testing.assert_allclose(dx, np.stack(dx_steps, axis=1), rtol=1e-11, atol=1e-13)
    for got, want in zip(as_list(cell, dstate0), as_list(cell, dstate)):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)
    for key in params:
        np.testing.assert_allclose(dparams[key], dparams_sum[key], rtol=1e-11, atol=1e-13)


CACHE_FIELDS = {
    "rnn": ("x", "h_prev", "h", "params"),
    "lstm": ("x", "h_prev", "c_prev", "i", "f", "g", "o", "tanh_c", "params"),
    "gru": ("x", "h_prev", "r", "z", "n", "ah_n", "params"),
}


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_step_cache_holds_the_lecture_names(cell):
    params, x, state0, _ = make(cell)
    _, cache = CELLS[cell].step_forward(x[:, 0], state0, params)
    assert cache._fields == CACHE_FIELDS[cell]
    np.testing.assert_array_equal(cache.x, x[:, 0])
    np.testing.assert_array_equal(cache.h_prev, state0[0] if cell == "lstm" else state0)
    if cell == "lstm":  # the gates, each (B, H), against the equations block by block
        a = x[:, 0] @ params["weight_ih"].T + params["bias_ih"] + state0[0] @ params["weight_hh"].T + params["bias_hh"]
        for k, (name, f) in enumerate((("i", logistic), ("f", logistic), ("g", np.tanh), ("o", logistic))):
            np.testing.assert_allclose(getattr(cache, name), f(a[:, k * H : (k + 1) * H]), rtol=1e-12, atol=1e-14)
    _, _, sequence_cache = CELLS[cell].forward(x, state0, params)
    assert len(sequence_cache.steps) == T and all(step._fields == CACHE_FIELDS[cell] for step in sequence_cache.steps)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_backward_leaves_its_cache_unchanged(cell):
    params, x, state0, rng = make(cell)
    _, _, cache = CELLS[cell].forward(x, state0, params)
    before = [[np.array(v, copy=True) for v in step if isinstance(v, np.ndarray)] for step in cache.steps]
    dstate_T = (rng.normal(size=(B, H)), rng.normal(size=(B, H))) if cell == "lstm" else rng.normal(size=(B, H))
    CELLS[cell].backward(rng.normal(size=(B, T, H)), dstate_T, cache)
    CELLS[cell].backward(rng.normal(size=(B, T, H)), dstate_T, cache)  # a cache can be used twice
    after = [[v for v in step if isinstance(v, np.ndarray)] for step in cache.steps]
    for step_before, step_after in zip(before, after):
        for b, a in zip(step_before, step_after):
            np.testing.assert_array_equal(a, b)
