"""The numba backend runs each piece chosen by measurement, and the choices can be forced and shown."""
from __future__ import annotations

import numpy as np
import pytest

from scratchlm import backend, cli, kernels
from scratchlm.kernels import chooser

pytest.importorskip("numba")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv(chooser.CACHE_DIR_VARIABLE, str(tmp_path))
    monkeypatch.delenv(chooser.FORCE_VARIABLE, raising=False)
    monkeypatch.delenv(chooser.MEASURE_VARIABLE, raising=False)
    previous = backend.name()
    chooser.forget()
    yield
    chooser.forget()
    backend.use(previous)


def lstm_loss_and_grads(backend_name):
    from scratchlm.models import RNNLM

    backend.use(backend_name)
    model = RNNLM(11, 5, 7, num_layers=1, cell="lstm", seed=0, dtype="float64")
    ids = np.random.default_rng(0).integers(0, 11, (3, 6))
    return model.loss_and_grads(ids[:, :-1], ids[:, 1:])


def test_every_shared_piece_of_the_numba_backend_is_measured_against_numpy():
    from scratchlm.kernels import numba_ops, numpy_pieces, rational_tanh

    table = kernels.pieces("numba")
    for name in (set(numba_ops.PIECES) | set(rational_tanh.PIECES)) - {"step_matmul_prepare", "step_matmul"}:
        assert name in numpy_pieces.PIECES
        assert table[name] not in (numba_ops.PIECES.get(name), rational_tanh.PIECES[name] if name in rational_tanh.PIECES else None, numpy_pieces.PIECES[name]), f"{name} runs without a choice"
    loss, grads, _ = lstm_loss_and_grads("numba")
    reasons = {c.op: c.reason for c in chooser.decisions()}
    forward_gates = next(c for c in chooser.decisions() if c.op == "lstm_gates_forward")
    assert set(forward_gates.seconds) == {"numba", "rational-tanh", "numpy"}
    for op in ("step_matmul", "lstm_gates_forward", "lstm_gates_backward", "cross_entropy_rows_forward",
               "embedding_scatter_add"):
        assert reasons[op] == "measured"
    want_loss, want_grads, _ = lstm_loss_and_grads("numpy")
    assert abs(loss - want_loss) < 1e-12 * abs(want_loss)
    for name in want_grads:
        np.testing.assert_allclose(grads[name], want_grads[name], rtol=1e-10, atol=1e-14)


def test_forced_pieces_run_and_say_so(monkeypatch):
    monkeypatch.setenv(chooser.FORCE_VARIABLE, "lstm_gates_forward=numpy,step_matmul=blas")
    lstm_loss_and_grads("numba")
    made = {c.op: c for c in chooser.decisions()}
    assert made["lstm_gates_forward"].name == "numpy" and made["lstm_gates_forward"].reason == "forced"
    assert made["step_matmul"].name == "blas" and made["step_matmul"].reason == "forced"
    assert made["lstm_gates_backward"].reason == "measured"


def test_backends_measure_lists_the_choices(capsys):
    assert cli.main(["backends", "--measure", "--batch", "4", "--hidden", "8"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0] for line in out.splitlines()[7:] if line.strip()}
    assert {"step_matmul", "lstm_gates_forward", "gru_gates_backward", "rnn_gates_backward"} <= rows
    assert "measured: " in out


# The candidates of each cell's forward gate piece under the numba backend.
FORWARD_GATE_CANDIDATES = {"rnn": ("rational-tanh", "numpy"), "lstm": ("numba", "rational-tanh", "numpy"),
                           "gru": ("numba", "rational-tanh", "numpy")}


@pytest.mark.parametrize("cell", sorted(FORWARD_GATE_CANDIDATES))
def test_float32_training_step_agrees_with_the_numpy_backend_whichever_gates_run(cell, monkeypatch):
    from scratchlm.models import RNNLM

    ids = np.random.default_rng(1).integers(0, 13, (6, 9))

    def loss_and_grads(backend_name):
        backend.use(backend_name)
        model = RNNLM(13, 6, 10, num_layers=2, cell=cell, seed=0, dtype="float32")
        return model.loss_and_grads(ids[:, :-1], ids[:, 1:])[:2]

    want_loss, want_grads = loss_and_grads("numpy")
    for candidate in FORWARD_GATE_CANDIDATES[cell]:
        chooser.forget()
        monkeypatch.setenv(chooser.FORCE_VARIABLE, f"{cell}_gates_forward={candidate}")
        loss, grads = loss_and_grads("numba")
        assert {c.op: c.name for c in chooser.decisions()}[f"{cell}_gates_forward"] == candidate
        assert abs(loss - want_loss) <= 1e-5 * abs(want_loss)
        for name, want in want_grads.items():
            assert np.max(np.abs(grads[name] - want)) <= 1e-4 * np.max(np.abs(want)), (candidate, name)
