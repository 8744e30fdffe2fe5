"""Models run every op through ``backend.op``: under "reference" a training step runs the textbook
functions of scratchlm/layers and nothing else, and an op swapped into the table is the one that runs."""
import numpy as np
import pytest

from scratchlm import backend
from scratchlm.models import RNNLM
from scratchlm.train.optimizers import SGD


@pytest.fixture
def restore_backend():
    previous = backend.name()
    yield
    backend.use(previous)


def test_a_training_step_asks_the_backend_for_each_op(monkeypatch, restore_backend):
    backend.use("reference")
    requested = []
    original = backend.op
    monkeypatch.setattr(backend, "op", lambda name: requested.append(name) or original(name))
    rng = np.random.default_rng(0)
    inputs, targets = rng.integers(0, 7, size=(2, 3)), rng.integers(0, 7, size=(2, 3))
    for cell in ("rnn", "lstm", "gru"):
        requested.clear()
        model = RNNLM(7, 3, 4, cell=cell, dtype="float64")
        _, grads, _ = model.loss_and_grads(inputs, targets)
        SGD(lr=0.1).step(model.params, grads)
        assert {f"{cell}_forward", f"{cell}_backward", "embedding_forward", "embedding_backward", "linear_forward",
                "linear_backward", "softmax_cross_entropy_forward", "softmax_cross_entropy_backward",
                "sgd_update"} <= set(requested)
        assert {original(name).__module__ for name in requested} <= {
            "scratchlm.layers.rnn", "scratchlm.layers.lstm", "scratchlm.layers.gru", "scratchlm.layers.embedding",
            "scratchlm.layers.linear", "scratchlm.layers.dropout", "scratchlm.layers.softmax_cross_entropy",
            "scratchlm.train.optimizers"}


def test_an_op_swapped_into_the_table_is_the_one_that_runs(monkeypatch, restore_backend):
    backend.use("numpy")
    original = backend.op("rnn_forward")
    calls = []

    def recording_rnn_forward(x, h0, params):
        calls.append(x.shape)
        return original(x, h0, params)

    backend.op("rnn_forward")  # builds the table
    monkeypatch.setitem(backend._op_tables["numpy"], "rnn_forward", recording_rnn_forward)
    RNNLM(7, 3, 4, cell="rnn", dtype="float64").forward(np.zeros((2, 5), dtype=int))
    assert calls == [(2, 5, 3)]
