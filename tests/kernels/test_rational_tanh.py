"""The rational tanh and the forward gate pieces built on it, against float64 math written out here."""
from __future__ import annotations

import numpy as np
import pytest

from scratchlm.kernels import rational_tanh

pytest.importorskip("numba")


def sigmoid64(a):
    return 1.0 / (1.0 + np.exp(-a))


def relative_error(got, want):
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


def test_tanh_is_within_4e7_relative_over_the_whole_line():
    x = np.concatenate([np.linspace(-12, 12, 400_001), [0.0, 1e-30, -1e-8, 50.0, -50.0, np.inf, -np.inf]])
    x32 = x.astype(np.float32)
    got = rational_tanh.rnn_gates_forward(x32.reshape(1, -1)).ravel()
    want = np.tanh(x32.astype(np.float64))
    error = np.abs(got - want) / np.maximum(np.abs(want), 1e-37)
    assert error.max() < 4e-7
    assert np.all(np.abs(got) <= 1.0)


def lstm_inputs(batch, hidden, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (3 * rng.standard_normal((batch, 4 * hidden))).astype(dtype), rng.standard_normal((batch, hidden)).astype(dtype)


@pytest.mark.parametrize("batch, hidden", [(1, 1), (3, 5), (20, 33)])
def test_lstm_gates_forward_against_float64_equations(batch, hidden):
    a, c_prev = lstm_inputs(batch, hidden, np.float32)
    h, c, gates, tanh_c = rational_tanh.lstm_gates_forward(a, c_prev)
    a64, c64 = a.astype(np.float64), c_prev.astype(np.float64)
    i, f = sigmoid64(a64[:, :hidden]), sigmoid64(a64[:, hidden:2 * hidden])
    g, o = np.tanh(a64[:, 2 * hidden:3 * hidden]), sigmoid64(a64[:, 3 * hidden:])
    c_want = f * c64 + i * g
    for got, want in ((gates, np.concatenate([i, f, g, o], axis=1)), (c, c_want), (tanh_c, np.tanh(c_want)),
                      (h, o * np.tanh(c_want))):
        assert got.dtype == np.float32
        assert relative_error(got, want) < 2e-6


def test_lstm_gates_forward_writes_into_out():
    a, c_prev = lstm_inputs(4, 6, np.float32)
    out = tuple(np.full(shape, np.nan, np.float32) for shape in ((4, 6), (4, 6), (4, 24), (4, 6)))
    returned = rational_tanh.lstm_gates_forward(a, c_prev, out=out)
    assert all(r is o for r, o in zip(returned, out))
    assert not any(np.isnan(o).any() for o in out)


@pytest.mark.parametrize("batch, hidden", [(1, 1), (7, 13)])
def test_gru_gates_forward_against_float64_equations(batch, hidden):
    rng = np.random.default_rng(1)
    ax, ah = (2 * rng.standard_normal((2, batch, 3 * hidden))).astype(np.float32)
    h_prev = rng.standard_normal((batch, hidden)).astype(np.float32)
    h, gates = rational_tanh.gru_gates_forward(ax, ah, h_prev)
    ax64, ah64, hp64 = ax.astype(np.float64), ah.astype(np.float64), h_prev.astype(np.float64)
    r = sigmoid64(ax64[:, :hidden] + ah64[:, :hidden])
    z = sigmoid64(ax64[:, hidden:2 * hidden] + ah64[:, hidden:2 * hidden])
    n = np.tanh(ax64[:, 2 * hidden:] + r * ah64[:, 2 * hidden:])
    assert relative_error(gates, np.concatenate([r, z, n], axis=1)) < 2e-6
    assert relative_error(h, (1 - z) * n + z * hp64) < 2e-6


def test_float64_takes_numpys_tanh_exactly():
    a, c_prev = lstm_inputs(3, 4, np.float64)
    h, c, gates, tanh_c = rational_tanh.lstm_gates_forward(a, c_prev)
    assert np.array_equal(tanh_c, np.tanh(c))
    x = np.linspace(-3, 3, 12).reshape(3, 4)
    assert np.array_equal(rational_tanh.rnn_gates_forward(x), np.tanh(x))
