"""Parity with PyTorch: the same model built from nn.Embedding -> nn.RNN / nn.LSTM / nn.GRU ->
nn.Linear in float64, its state_dict loaded into RNNLM; logits, loss, every parameter gradient and
the initial-state gradients must agree to a relative error below 1e-8 (max |ours - torch| divided
by max |torch| over each array). Skipped when torch is not installed."""
import numpy as np
import pytest

from scratchlm.models import RNNLM

torch = pytest.importorskip("torch")

V, E, H, B, T = 13, 5, 7, 3, 6  # E != H, so a swapped size cannot go unnoticed
TOLERANCE = 1e-8


class TorchLM(torch.nn.Module):
    def __init__(self, cell, num_layers, tie_weights=False, embed_dim=E):
        super().__init__()
        recurrent = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
        self.embedding = torch.nn.Embedding(V, embed_dim)
        self.rnn = recurrent(embed_dim, H, num_layers, batch_first=True)
        self.decoder = torch.nn.Linear(H, V)
        if tie_weights:
            self.decoder.weight = self.embedding.weight

    def forward(self, inputs, state):
        output, final_state = self.rnn(self.embedding(inputs), state)
        return self.decoder(output), final_state


def relative_error(ours, theirs):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    return float(np.abs(np.asarray(ours) - theirs).max() / np.abs(theirs).max())


def build_pair(cell, num_layers, tie_weights=False, seed=0):
    torch.manual_seed(seed)
    embed_dim = H if tie_weights else E
    reference = TorchLM(cell, num_layers, tie_weights, embed_dim).double()
    generator = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for name, value in reference.named_parameters():
            if "bias" in name:  # distinct, random, non-zero: a bias swapped or dropped would show
                value.copy_(torch.randn(value.shape, generator=generator, dtype=torch.float64) * 0.5)
    model = RNNLM(V, embed_dim, H, num_layers=num_layers, cell=cell, tie_weights=tie_weights, dtype="float64")
    model.load_state_dict({name: value.detach().numpy() for name, value in reference.state_dict().items()})
    return reference, model


def random_problem(cell, num_layers, seed=1):
    rng = np.random.default_rng(seed)
    inputs = rng.integers(0, V, size=(B, T))
    targets = rng.integers(0, V, size=(B, T))
    mask = rng.random((B, T)) < 0.7
    mask[0, 0] = True
    shape = (num_layers, B, H)
    state = (rng.normal(size=shape), rng.normal(size=shape)) if cell == "lstm" else rng.normal(size=shape)
    return inputs, targets, mask, state


def compare(cell, num_layers, tie_weights=False, use_mask=True, use_state=True):
    reference, model = build_pair(cell, num_layers, tie_weights)
    inputs, targets, mask, state = random_problem(cell, num_layers)
    mask = mask if use_mask else None
    state = state if use_state else None

    if state is None:
        torch_state = None
    elif cell == "lstm":
        torch_state = tuple(torch.tensor(part, requires_grad=True) for part in state)
    else:
        torch_state = torch.tensor(state, requires_grad=True)
    logits_t, final_t = reference(torch.tensor(inputs), torch_state)
    counted = torch.ones(B, T, dtype=torch.bool) if mask is None else torch.tensor(mask)
    loss_t = torch.nn.functional.cross_entropy(logits_t[counted], torch.tensor(targets)[counted])
    loss_t.backward()

    logits, _ = model.forward(inputs, state)
    loss, grads, final, dstate = model.loss_and_grads(inputs, targets, state, mask, state_grad=True)
    errors = {"logits": relative_error(logits, logits_t), "loss": abs(loss - loss_t.item()) / abs(loss_t.item())}
    for name, parameter in reference.named_parameters():  # a tied matrix is listed once, as embedding.weight
        errors[name] = relative_error(grads[name], parameter.grad)
    finals = zip(final, final_t) if cell == "lstm" else [(final, final_t)]
    for k, (ours, theirs) in enumerate(finals):
        errors[f"final state {k}"] = relative_error(ours, theirs)
    if state is not None:
        pairs = zip(dstate, torch_state) if cell == "lstm" else [(dstate, torch_state)]
        for k, (ours, theirs) in enumerate(pairs):
            errors[f"initial-state gradient {k}"] = relative_error(ours, theirs.grad)
    assert set(grads) == {name for name, _ in reference.named_parameters()}
    return errors


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_logits_loss_gradients_and_state_gradients_match(cell, num_layers):
    errors = compare(cell, num_layers)
    worst = max(errors, key=errors.get)
    assert errors[worst] < TOLERANCE, f"{worst}: relative error {errors[worst]:.2e}; all: {errors}"


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_tied_weights_without_mask_or_state_match(cell):
    errors = compare(cell, 2, tie_weights=True, use_mask=False, use_state=False)
    worst = max(errors, key=errors.get)
    assert errors[worst] < TOLERANCE, f"{worst}: relative error {errors[worst]:.2e}; all: {errors}"


def test_state_dict_exported_to_pytorch_reproduces_logits():
    model = RNNLM(V, E, H, num_layers=2, cell="lstm", dtype="float64", seed=7)
    reference = TorchLM("lstm", 2).double()
    reference.load_state_dict({name: torch.tensor(value) for name, value in model.state_dict().items()})
    inputs = np.random.default_rng(0).integers(0, V, size=(B, T))
    logits_t, _ = reference(torch.tensor(inputs), None)
    assert relative_error(model.forward(inputs)[0], logits_t) < TOLERANCE
