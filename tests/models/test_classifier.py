"""Sequence classification: pooling and scalar-mix layers, the classifier's gradients, PyTorch parity, learning."""
import numpy as np
import pytest

from scratchlm.gradcheck import check_gradients
from scratchlm.layers.pooling import POOLINGS, pool_backward, pool_forward
from scratchlm.layers.scalar_mix import init_scalar_mix_params, scalar_mix_backward, scalar_mix_forward
from scratchlm.models.classifier import SequenceClassifier
from scratchlm.train.optimizers import Adam

LENGTHS = np.array([5, 2, 4])
V, K, E, H = 7, 3, 4, 5


def random_ids(seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, V, (3, 5))
    ids[0, :2] = 6                         # a repeated id
    labels = np.array([2, 0, 1])
    return ids, labels


# ---- pooling ------------------------------------------------------------------------------------
def loop_pool(hs, lengths, pooling, bidirectional):
    """The pooling written out row by row, as an independent reference."""
    out = []
    for row, n in zip(hs, lengths):
        real = row[:n]
        if pooling == "last":
            half = row.shape[1] // 2
            out.append(np.concatenate([real[-1, :half], real[0, half:]]) if bidirectional else real[-1])
        elif pooling == "mean":
            out.append(real.mean(axis=0))
        else:
            out.append(real.max(axis=0))
    return np.stack(out)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pooling", POOLINGS)
def test_pooling_against_a_loop_and_by_finite_differences(pooling, bidirectional):
    rng = np.random.default_rng(1)
    hs = rng.normal(size=(3, 5, 6))
    hs[:, 3:] += 100.0                     # padding with large values: must never win a max or enter a mean
    pooled, cache = pool_forward(hs, LENGTHS, pooling, bidirectional)
    np.testing.assert_allclose(pooled, loop_pool(hs, LENGTHS, pooling, bidirectional), rtol=1e-12)
    dpooled = rng.normal(size=pooled.shape)
    dhs = pool_backward(dpooled, cache)
    loss = lambda: float((pool_forward(hs, LENGTHS, pooling, bidirectional)[0] * dpooled).sum())  # noqa: E731
    report = check_gradients(loss, {"hs": hs}, {"hs": dhs})
    assert report.passed, str(report)
    assert np.all(dhs[1, 2:] == 0) and np.all(dhs[2, 4:] == 0)    # no gradient into padding


# ---- scalar mix ---------------------------------------------------------------------------------
def test_scalar_mix_worked_values_and_gradients():
    rng = np.random.default_rng(2)
    layers = [rng.normal(size=(2, 3, 4)) for _ in range(3)]
    params = {"scalar_parameters": np.array([0.0, np.log(2.0), np.log(5.0)]), "gamma": np.array([1.5])}
    mix, cache = scalar_mix_forward(layers, params)
    # softmax of (0, log 2, log 5) = (1, 2, 5) / 8
    np.testing.assert_allclose(mix, 1.5 * (layers[0] + 2 * layers[1] + 5 * layers[2]) / 8, rtol=1e-12)
    dmix = rng.normal(size=mix.shape)
    dlayers, dparams = scalar_mix_backward(dmix, cache)
    arrays = {f"layer{j}": layer for j, layer in enumerate(layers)} | params
    grads = {f"layer{j}": d for j, d in enumerate(dlayers)} | dparams
    report = check_gradients(lambda: float((scalar_mix_forward(layers, params)[0] * dmix).sum()), arrays, grads)
    assert report.passed, str(report)
    start = init_scalar_mix_params(4)
    assert start["scalar_parameters"].tolist() == [0.0] * 4 and start["gamma"].tolist() == [1.0]
    with pytest.raises(ValueError, match="3 weights but 2 layers"):
        scalar_mix_forward(layers[:2], params)


# ---- the classifier -----------------------------------------------------------------------------
@pytest.mark.parametrize("cell, bidirectional, pooling", [
    ("lstm", False, "last"), ("gru", False, "mean"), ("rnn", False, "max"),
    ("lstm", True, "last"), ("gru", True, "max"), ("lstm", True, "mean")])
def test_classifier_gradients_by_finite_differences(cell, bidirectional, pooling):
    model = SequenceClassifier(V, K, embed_dim=E, hidden_size=H, cell=cell, bidirectional=bidirectional,
                               pooling=pooling, seed=3, dtype="float64")
    for value in model.params.values():
        value *= 2.0
    ids, labels = random_ids()
    loss, grads = model.loss_and_grads(ids, labels, LENGTHS)
    report = check_gradients(lambda: model.loss_and_grads(ids, labels, LENGTHS)[0], model.params, grads)
    assert report.passed, str(report)


def test_classifier_on_mixed_features_gradients_by_finite_differences():
    rng = np.random.default_rng(4)
    layers = [rng.normal(size=(3, 5, 6)) for _ in range(3)]
    model = SequenceClassifier(None, K, hidden_size=H, cell="lstm", bidirectional=True, pooling="mean",
                               feature_layers=3, feature_size=6, seed=5, dtype="float64")
    model.params["scalar_mix.scalar_parameters"][:] = [0.3, -0.5, 0.8]
    labels = np.array([1, 2, 0])
    _, grads = model.loss_and_grads(layers, labels, LENGTHS)
    report = check_gradients(lambda: model.loss_and_grads(layers, labels, LENGTHS)[0], model.params, grads)
    assert report.passed, str(report)
    s, gamma = model.mix_weights()
    np.testing.assert_allclose(s, np.exp([0.3, -0.5, 0.8]) / np.exp([0.3, -0.5, 0.8]).sum(), rtol=1e-12)


@pytest.mark.parametrize("pooling", POOLINGS)
def test_classifier_matches_pytorch_on_padded_rows(pooling):
    torch = pytest.importorskip("torch")
    model = SequenceClassifier(V, K, embed_dim=E, hidden_size=H, cell="lstm", bidirectional=True,
                               pooling=pooling, seed=6, dtype="float64")
    ids, labels = random_ids(seed=7)
    p = {name: torch.tensor(value, requires_grad=True) for name, value in model.params.items()}
    lstm = torch.nn.LSTM(E, H, batch_first=True, bidirectional=True).double()
    rnn_weights = {name[len("rnn."):]: p[name] for name in p if name.startswith("rnn.")}
    x = torch.nn.functional.embedding(torch.tensor(ids), p["embedding.weight"])
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False)
    out, _ = torch.func.functional_call(lstm, rnn_weights, (packed,))
    hs, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)              # zeros after each length
    rows = []
    for b, n in enumerate(LENGTHS):
        real = hs[b, :n]
        if pooling == "last":
            rows.append(torch.cat([real[-1, :H], real[0, H:]]))
        elif pooling == "mean":
            rows.append(real.mean(dim=0))
        else:
            rows.append(real.max(dim=0).values)
    logits = torch.nn.functional.linear(torch.stack(rows), p["classifier.weight"], p["classifier.bias"])
    reference = torch.nn.functional.cross_entropy(logits, torch.tensor(labels))
    reference.backward()

    loss, grads = model.loss_and_grads(ids, labels, LENGTHS)
    assert loss == pytest.approx(reference.item(), rel=1e-12)
    for name, value in p.items():
        np.testing.assert_allclose(grads[name], value.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_learns_which_letter_comes_first():
    """A toy task only the first token decides: 'last' pooling must carry it through the whole row."""
    rng = np.random.default_rng(8)
    model = SequenceClassifier(6, 2, embed_dim=8, hidden_size=16, cell="gru", pooling="last", seed=0)
    optimizer = Adam(lr=1e-2)
    for _ in range(150):
        ids = rng.integers(2, 6, (32, 8))
        ids[:, 0] = rng.integers(0, 2, 32)
        lengths = rng.integers(3, 9, 32)
        _, grads = model.loss_and_grads(ids, ids[:, 0], lengths)
        optimizer.step(model.params, grads)
    ids = rng.integers(2, 6, (200, 8))
    ids[:, 0] = rng.integers(0, 2, 200)
    assert np.mean(model.predict(ids, rng.integers(3, 9, 200)) == ids[:, 0]) > 0.95


def test_bad_input_is_rejected():
    model = SequenceClassifier(V, K, embed_dim=E, hidden_size=H, dtype="float64")
    ids, labels = random_ids()
    with pytest.raises(ValueError, match="unknown pooling"):
        SequenceClassifier(V, K, pooling="sum")
    with pytest.raises(ValueError, match="feature_size"):
        SequenceClassifier(V, K, feature_layers=3)
    with pytest.raises(ValueError, match="labels must lie"):
        model.loss_and_grads(ids, labels + K, LENGTHS)
    with pytest.raises(ValueError, match="lengths must be"):
        model.loss_and_grads(ids, labels, LENGTHS + 1)
    with pytest.raises(ValueError, match="no scalar mix"):
        model.mix_weights()
