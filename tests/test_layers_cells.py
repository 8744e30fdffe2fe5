"""Elman RNN, LSTM and GRU: forward against the equations written out gate by gate, step and
sequence functions against each other, and float64 gradient checks (max relative error < 1e-6)."""
import numpy as np
import pytest

from scratchlm.gradcheck import check_gradients
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


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("with_state", [True, False])
def test_sequence_gradient_check(cell, with_state):
    params, x, state0, rng = make(cell, seed=1)
    if not with_state:
        state0 = None
    fns = CELLS[cell]
    dhs = rng.normal(size=(B, T, H))

    def loss():
        return float((fns.forward(x, state0, params)[0] * dhs).sum())

    _, _, cache = fns.forward(x, state0, params)
    dx, dstate0, dparams = fns.backward(dhs, None, cache)  # no gradient on the final state
    arrays, grads = {"x": x, **params}, {"x": dx, **dparams}
    if with_state:
        names = ["h0", "c0"] if cell == "lstm" else ["h0"]
        arrays.update(zip(names, as_list(cell, state0)))
        grads.update(zip(names, as_list(cell, dstate0)))
    report = check_gradients(loss, arrays, grads)
    assert report.passed and report.max_error < 1e-6, str(report)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_step_gradient_check(cell):
    params, x, state0, rng = make(cell, seed=2)
    fns = CELLS[cell]
    dstate = [rng.normal(size=(B, H)) for _ in as_list(cell, state0)]

    x0 = x[:, 0].copy()

    def loss():
        new_state = fns.step_forward(x0, state0, params)[0]
        return float(sum((s * d).sum() for s, d in zip(as_list(cell, new_state), dstate)))

    _, cache = fns.step_forward(x0, state0, params)
    dx, dstate_prev, dparams = fns.step_backward(tuple(dstate) if cell == "lstm" else dstate[0], cache)
    names = ["h0", "c0"] if cell == "lstm" else ["h0"]
    arrays = {"x": x0, **dict(zip(names, as_list(cell, state0))), **params}

    grads = {"x": dx, **dict(zip(names, as_list(cell, dstate_prev))), **dparams}
    report = check_gradients(loss, arrays, grads)
    assert report.passed and report.max_error < 1e-6, str(report)
