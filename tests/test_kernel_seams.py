"""The hot parts of a training step (the layers' pointwise math and step products, the SGD
update) really go through backend.kernel, under the op names documented in
scratchlm/kernels/__init__.py, so a backend's kernel replaces exactly them."""
import numpy as np

import scratchlm.kernels
from scratchlm import backend
from scratchlm.models import RNNLM
from scratchlm.train.optimizers import SGD

DOCUMENTED_OPS = {
    "embedding_scatter_add",
    "softmax_cross_entropy_forward",
    "softmax_cross_entropy_backward",
    "rnn_gates_forward",
    "rnn_gates_backward",
    "lstm_gates_forward",
    "lstm_gates_backward",
    "gru_gates_forward",
    "gru_gates_backward",
    "step_matmul_prepare",
    "step_matmul",
    "sgd_update",
}


def test_every_documented_op_is_requested_by_a_training_step(monkeypatch):
    requested = set()
    original = backend.kernel

    def recording_kernel(op, reference):
        requested.add(op)
        return original(op, reference)

    monkeypatch.setattr(backend, "kernel", recording_kernel)
    rng = np.random.default_rng(0)
    inputs, targets = rng.integers(0, 7, size=(2, 3)), rng.integers(0, 7, size=(2, 3))
    for cell in ("rnn", "lstm", "gru"):
        model = RNNLM(7, 3, 4, cell=cell, dtype="float64")
        _, grads, _ = model.loss_and_grads(inputs, targets)
        SGD(lr=0.1).step(model.params, grads)
    assert requested == DOCUMENTED_OPS
    for op in DOCUMENTED_OPS:
        assert f'"{op}"' in scratchlm.kernels.__doc__


def test_a_registered_kernel_replaces_the_reference(monkeypatch):
    calls = []

    def fake_tanh_gate(a):
        calls.append(a.shape)
        return np.tanh(a)

    monkeypatch.setitem(backend._kernel_tables, backend.name(), {"rnn_gates_forward": fake_tanh_gate})
    model = RNNLM(7, 3, 4, cell="rnn", dtype="float64")
    model.forward(np.zeros((2, 5), dtype=int))
    assert calls == [(2, 4)] * 5  # one call per time step, on the (B, H) pre-activation
