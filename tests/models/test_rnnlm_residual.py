"""RNNLM(residual=True): gradients by finite differences and PyTorch parity for a residual stack."""
import numpy as np
import pytest

from scratchlm.gradcheck.cases import check_rnnlm
from scratchlm.models.rnnlm import RNNLM

V, E, H, L = 7, 3, 4, 3


def batch(seed=0):
    rng = np.random.default_rng(seed)
    inputs, targets = rng.integers(0, V, (2, 5)), rng.integers(0, V, (2, 5))
    inputs[0, :2] = 6
    mask = np.ones((2, 5), dtype=bool)
    mask[1, 3:] = False
    return inputs, targets, mask


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_residual_gradients_by_finite_differences(cell):
    model = RNNLM(V, E, H, num_layers=L, cell=cell, residual=True, dropout=0.2, dtype="float64", seed=1, init_range=0.5)
    inputs, targets, mask = batch()
    rng = np.random.default_rng(3)
    state = (rng.normal(size=(L, 2, H)), rng.normal(size=(L, 2, H))) if cell == "lstm" else rng.normal(size=(L, 2, H))
    report = check_rnnlm(model, inputs, targets, mask, state)
    assert report.passed, str(report)


def test_residual_stack_matches_pytorch():
    torch = pytest.importorskip("torch")
    model = RNNLM(V, E, H, num_layers=L, cell="lstm", residual=True, dtype="float64", seed=2)
    inputs, targets, mask = batch(seed=1)
    p = {name: torch.tensor(value, requires_grad=True) for name, value in model.params.items()}
    x = torch.nn.functional.embedding(torch.tensor(inputs), p["embedding.weight"])
    for layer in range(L):
        lstm = torch.nn.LSTM(E if layer == 0 else H, H, batch_first=True).double()
        weights = {f"{name}_l0": p[f"rnn.{name}_l{layer}"] for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        h, _ = torch.func.functional_call(lstm, weights, (x,))
        x = h + x if layer > 0 else h                       # the first layer's sizes differ (E != H): no skip
    logits = torch.nn.functional.linear(x, p["decoder.weight"], p["decoder.bias"])
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.tensor(targets).reshape(-1), reduction="none")
    weights = torch.tensor(mask.reshape(-1), dtype=torch.float64)
    reference = (nll * weights).sum() / weights.sum()
    reference.backward()

    loss, grads, _ = model.loss_and_grads(inputs, targets, mask=mask)
    assert loss == pytest.approx(reference.item(), rel=1e-12)
    for name, value in p.items():
        np.testing.assert_allclose(grads[name], value.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    assert RNNLM.from_config(model.config()).residual
