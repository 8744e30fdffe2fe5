"""Forward gate pieces in one fused pass, with tanh as a rational function that vectorises.

NumPy's ``tanh`` is vectorised with AVX-512 only: on an AVX2 CPU (AMD EPYC, Zen 3) float32
``np.tanh`` took 2.6 ns an element, against 0.37 ns on an AVX-512 one, and ``math.tanh`` in a
Numba loop stays scalar (the pip llvmlite has no vector math library). Written as plain
arithmetic, tanh vectorises like any other loop:

    tanh(x) ~= x P(x^2) / Q(x^2),  x clamped to [-7.905, 7.905]

with P of degree 6 and Q of degree 3 in x^2 (the coefficients of Eigen's and XLA's float32 fast
tanh). Measured: 0.49 ns an element on the AVX2 CPU, largest relative error 3.5e-7 against the
float64 tanh (3 units in the last place of float32). So each forward gate piece below computes
its gates, tanh included, row by row in Numba loops, where the ``numba_ops`` piece calls NumPy's
tanh over whole blocks between fused passes.

Float32 only: float64 arrays go to the ``numba_ops`` piece (a float64 rational of this accuracy
would need higher degrees, and float64 is for gradient checks, not speed). The numba backend
runs these pieces only where they measured faster (scratchlm/kernels/chooser.py): on a CPU
where NumPy's tanh is vectorised, the difference is small either way.

The gates are the reference's: sigma(a) = (1 + tanh(a / 2)) / 2, as in scratchlm/layers.
"""
from __future__ import annotations

import numba
import numpy as np

from scratchlm.kernels.results import out_arrays

_F = np.float32
# P(x^2) = A1 + A3 x^2 + ... + A13 x^12 and Q(x^2) = B0 + B2 x^2 + B4 x^4 + B6 x^6.
A1, A3, A5, A7 = _F(4.89352455891786e-03), _F(6.37261928875436e-04), _F(1.48572235717979e-05), _F(5.12229709037114e-08)
A9, A11, A13 = _F(-8.60467152213735e-11), _F(2.00018790482477e-13), _F(-2.76076847742355e-16)
B0, B2, B4, B6 = _F(4.89352518554385e-03), _F(2.26843463243900e-03), _F(1.18534705686654e-04), _F(1.19825839466702e-06)
# Beyond this, float32 tanh is 1 to within the approximation's error.
CLAMP = _F(7.90531110763549805)
ONE, HALF = _F(1.0), _F(0.5)


@numba.njit(cache=True, inline="always", error_model="numpy")
def tanh32(x):
    """tanh of a float32 scalar, as x P(x^2) / Q(x^2) (vectorises inside a loop)."""
    x = min(max(x, -CLAMP), CLAMP)
    x2 = x * x
    p = ((((((A13 * x2 + A11) * x2 + A9) * x2 + A7) * x2 + A5) * x2 + A3) * x2 + A1) * x
    q = ((B6 * x2 + B4) * x2 + B2) * x2 + B0
    return p / q


# Each loop below reads one row view and writes one (or reads two), so LLVM can vectorise it
# without run-time checks for overlapping arrays; one loop over all seven arrays stayed scalar.


@numba.njit(cache=True, error_model="numpy")
def _tanh_rows(a, h):
    for b in range(a.shape[0]):
        a_row, h_row = a[b], h[b]
        for j in range(a.shape[1]):
            h_row[j] = tanh32(a_row[j])


@numba.njit(cache=True, error_model="numpy")
def _lstm_forward_rows(a, c_prev, h, c, gates, tanh_c):
    hidden = c_prev.shape[1]
    for b in range(a.shape[0]):
        a_row, gate_row = a[b], gates[b]
        c_prev_row, c_row, tanh_c_row, h_row = c_prev[b], c[b], tanh_c[b], h[b]
        for j in range(2 * hidden):  # i, f = sigma(a)
            gate_row[j] = (tanh32(a_row[j] * HALF) + ONE) * HALF
        for j in range(2 * hidden, 3 * hidden):  # g = tanh(a)
            gate_row[j] = tanh32(a_row[j])
        for j in range(3 * hidden, 4 * hidden):  # o = sigma(a)
            gate_row[j] = (tanh32(a_row[j] * HALF) + ONE) * HALF
        for j in range(hidden):  # c = f c_prev + i g
            c_row[j] = gate_row[hidden + j] * c_prev_row[j] + gate_row[j] * gate_row[2 * hidden + j]
        for j in range(hidden):
            tanh_c_row[j] = tanh32(c_row[j])
        for j in range(hidden):  # h = o tanh(c)
            h_row[j] = gate_row[3 * hidden + j] * tanh_c_row[j]


@numba.njit(cache=True, error_model="numpy")
def _gru_forward_rows(ax, ah, h_prev, h, gates):
    hidden = h_prev.shape[1]
    for b in range(ax.shape[0]):
        ax_row, ah_row, gate_row, h_prev_row, h_row = ax[b], ah[b], gates[b], h_prev[b], h[b]
        for j in range(2 * hidden):  # r, z = sigma(ax + ah)
            gate_row[j] = (tanh32((ax_row[j] + ah_row[j]) * HALF) + ONE) * HALF
        for j in range(hidden):  # n = tanh(ax_n + r ah_n)
            gate_row[2 * hidden + j] = tanh32(ax_row[2 * hidden + j] + gate_row[j] * ah_row[2 * hidden + j])
        for j in range(hidden):  # h = n + z (h_prev - n)
            n = gate_row[2 * hidden + j]
            h_row[j] = n + gate_row[hidden + j] * (h_prev_row[j] - n)


def rnn_gates_forward(a):
    """Piece "rnn_gates_forward": h = tanh(a), (B, H)."""
    if a.dtype != np.float32:
        return np.tanh(a)
    h = np.empty(a.shape, dtype=a.dtype)
    _tanh_rows(a, h)
    return h


def lstm_gates_forward(a, c_prev, out=None):
    """Piece "lstm_gates_forward": (h, c, gates = [i, f, g, o], tanh_c) from a (B, 4H), c_prev (B, H)."""
    if a.dtype != np.float32:
        from scratchlm.kernels import numba_ops  # numba_ops builds its table from this module

        return numba_ops.lstm_gates_forward(a, c_prev, out=out)
    shapes = (c_prev.shape, c_prev.shape, a.shape, c_prev.shape)
    out = out_arrays(out, shapes, a.dtype, "lstm_gates_forward", np.empty)
    _lstm_forward_rows(a, c_prev, *out)
    return out


def gru_gates_forward(ax, ah, h_prev):
    """Piece "gru_gates_forward": (h, gates = [r, z, n]) from ax, ah (B, 3H) and h_prev (B, H)."""
    if ax.dtype != np.float32:
        from scratchlm.kernels import numba_ops  # numba_ops builds its table from this module

        return numba_ops.gru_gates_forward(ax, ah, h_prev)
    h = np.empty(h_prev.shape, dtype=ax.dtype)
    gates = np.empty(ax.shape, dtype=ax.dtype)
    _gru_forward_rows(ax, ah, h_prev, h, gates)
    return h, gates


PIECES = {
    "rnn_gates_forward": rnn_gates_forward,
    "lstm_gates_forward": lstm_gates_forward,
    "gru_gates_forward": gru_gates_forward,
}
